"""The requests the Marquez web UI (web/src/store/requests/*.ts) and the Marquez Python client
(clients/python/marquez_client/client.py) really send, byte for byte in their URL shapes, and what
the Marquez API costs in statements: a page of 100 jobs (each with its latest runs, inputs and
outputs) takes as many statements as a page of 1."""

import datetime
import json
import os
import re
import urllib.parse
import uuid

import harness as h
import test_api_shapes as S

T0 = h.now_utc().replace(microsecond=0) - datetime.timedelta(hours=3)
BULK_NS = "bulk:ns/1"          # colons and a slash: every client must percent-encode it
N_JOBS, RUNS_PER_JOB = 120, 3


def bulk_events():
    """N_JOBS jobs, each with RUNS_PER_JOB runs reading in_<j> and writing out_<j> (schema, facets)."""
    evs = []
    for j in range(N_JOBS):
        for k in range(RUNS_PER_JOB):
            rid = str(uuid.uuid4())
            t = T0 + datetime.timedelta(minutes=j, seconds=10 * k)
            out = {"namespace": BULK_NS, "name": "out_%03d" % j,
                   "facets": {"schema": {"_producer": "https://lineaged.test", "_schemaURL": "https://x",
                                         "fields": [{"name": "a", "type": "INT"}, {"name": "b", "type": "TEXT"}]}}}
            nominal = {"nominalTime": {"_producer": "https://lineaged.test", "_schemaURL": "https://x",
                                       "nominalStartTime": h.iso_z(t)}}
            for et, dt in (("START", 0), ("COMPLETE", 5)):
                evs.append(h.make_run_event(rid, et, t + datetime.timedelta(seconds=dt), BULK_NS, "job_%03d" % j,
                                            [(BULK_NS, "in_%03d" % j)], [out], run_facets=nominal))
    return evs


def enc_ui(s):
    """encodeURIComponent."""
    return urllib.parse.quote(s, safe="-_.!~*'()")


def enc_py(s):
    """The Python client's _url: quote(arg.encode('utf-8'), safe='')."""
    return urllib.parse.quote(s.encode("utf-8"), safe="")


class MarquezClientsTest(S.ShapeAsserts, h.ServerTestCase):
    """Every statement the server runs is logged (log_statement=all on this database), so the tests can
    count the statements a request costs."""

    @classmethod
    def setUpClass(cls):
        cls.db = h.fresh_database(cls.__name__)
        dbname = re.search(r"dbname=(\S+)", cls.db).group(1).strip("'")
        h.sql_exec(cls.db, 'ALTER DATABASE "%s" SET log_statement = \'all\'' % dbname)
        cls.server = h.Server(cls.db, log_level=cls.server_log_level)
        cls.addClassCleanup(cls.server.kill_quietly)
        cls.server.start()
        evs = bulk_events()
        for i in range(0, len(evs), 250):
            r = cls.server.post_json(evs[i:i + 250], path="/api/v1/lineage/batch")
            assert r.status == 200, r
        for ev in h.marquez_seed_events():
            r = cls.server.post_json(ev)
            assert r.status == 201, r
        cls.run_id = evs[-1]["run"]["runId"]
        cls.pg_log = os.path.join(h.sql_scalar(cls.db, "SHOW data_directory"), "postgres.log")

    # -- statement counting ------------------------------------------------------------------------
    def statements(self, method, path):
        """(response, number of API statements it executed), from the Postgres log."""
        if not os.access(self.pg_log, os.R_OK):
            self.skipTest("Postgres log %s not readable" % self.pg_log)
        start = os.path.getsize(self.pg_log)
        r = self.server.request(method, path)
        with open(self.pg_log, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
        # search's statement is planned per call: the unnamed statement of PQexecParams
        return r, len(re.findall(r"LOG:\s+execute ((read|edit)_\w+|<unnamed>)", text))

    def test_no_n_plus_1_on_lists(self):
        ns = enc_ui(BULK_NS)
        for path in ("/api/v1/jobs?limit=N", "/api/v1/namespaces/%s/jobs?limit=N" % ns,
                     "/api/v1/namespaces/%s/datasets?limit=N" % ns,
                     "/api/v1/namespaces/%s/jobs/job_000/runs?limit=N" % ns,
                     "/api/v1/namespaces/%s/datasets/out_000/versions?limit=N" % ns,
                     "/api/v1/namespaces/%s/jobs/job_000/versions?limit=N" % ns,
                     "/api/v1/events/lineage?limit=N", "/api/v1/search?q=job&limit=N",
                     "/api/v1/namespaces?limit=N", "/api/v1/sources?limit=N", "/api/v1/tags?limit=N"):
            one, n_one = self.statements("GET", path.replace("=N", "=1"))
            many, n_many = self.statements("GET", path.replace("=N", "=100"))
            self.assertStatus(one, 200, path)
            self.assertStatus(many, 200, path)
            self.assertEqual(n_one, n_many, "%s: %d statements for 1 row, %d for 100" % (path, n_one, n_many))
            self.assertIn(n_many, (1, 2), path)
        jobs = self.assertShape(self.server.get("/api/v1/namespaces/%s/jobs?limit=100" % ns), S.JOBS)
        self.assertEqual((jobs["totalCount"], len(jobs["jobs"])), (N_JOBS, 100))
        self.assertTrue(all(len(j["latestRuns"]) == RUNS_PER_JOB for j in jobs["jobs"]))

    def test_single_objects_cost_at_most_two_statements(self):
        ns = enc_ui(BULK_NS)
        for path in ("/api/v1/namespaces/%s/jobs/job_007" % ns, "/api/v1/namespaces/%s/datasets/out_007" % ns,
                     "/api/v1/jobs/runs/" + self.run_id, "/api/v1/namespaces/" + ns,
                     "/api/v1/stats/jobs?period=DAY"):
            r, n = self.statements("GET", path)
            self.assertStatus(r, 200, path)
            self.assertIn(n, (1, 2), path)

    # -- the web UI --------------------------------------------------------------------------------
    def test_web_ui_requests(self):
        ns, job, ds = "food_delivery", "etl_orders_7_days", "public.orders_7_days"
        e = enc_ui
        run_id = self.server.get("/api/v1/namespaces/%s/jobs/%s" % (ns, job)).json()["latestRun"]["id"]
        checks = [
            ("/api/v1/namespaces", S.NAMESPACES),
            ("/api/v1/namespaces/%s/datasets?limit=20&offset=0" % e(ns), S.DATASETS),
            ("/api/v1/namespaces/%s/datasets/%s/versions?limit=10&offset=0" % (e(ns), e(ds)), S.DATASET_VERSIONS),
            ("/api/v1/namespaces/%s/datasets/%s" % (e(ns), e(ds)), S.DATASET),
            ("/api/v1/jobs?limit=20&offset=0", S.JOBS),
            ("/api/v1/namespaces/%s/jobs?limit=20&offset=0" % e(ns), S.JOBS),
            ("/api/v1/namespaces/%s/jobs/%s/runs?limit=10&offset=0" % (e(ns), e(job)), S.RUNS),
            ("/api/v1/namespaces/%s/jobs/%s" % (e(ns), e(job)), S.JOB),
            ("/api/v1/jobs/runs/%s/facets?type=run" % run_id, S.RUN_FACETS),
            ("/api/v1/jobs/runs/%s/facets?type=job" % run_id, S.RUN_FACETS),
            ("/api/v1/events/lineage?limit=20&before=&after=&offset=0&sortDirection=desc", S.EVENTS),
            ("/api/v1/events/lineage?limit=20&before=2030-01-01T00:00:00.000Z&after=2020-01-01T00:00:00.000Z"
             "&offset=0&sortDirection=asc", S.EVENTS),
            ("/api/v1/search?q=delivery&sort=NAME&limit=100", S.SEARCH),
            ("/api/v1/search?q=delivery&sort=NAME&limit=100&filter=JOB", S.SEARCH),
            ("/api/v1/search?q=delivery&sort=UPDATE_AT&limit=100&filter=DATASET", S.SEARCH),
            ("/api/v1/stats/lineage-events?period=DAY&timezone=Europe/Berlin", S.LINEAGE_METRICS),
            ("/api/v1/stats/lineage-events?period=WEEK&timezone=America/New_York", S.LINEAGE_METRICS),
            ("/api/v1/stats/jobs?period=DAY&timezone=Asia/Kolkata", S.INTERVAL_METRICS),
            ("/api/v1/stats/datasets?period=WEEK&timezone=Asia/Kolkata", S.INTERVAL_METRICS),
            ("/api/v1/stats/sources?period=WEEK&timezone=UTC", S.INTERVAL_METRICS),
            ("/api/v1/tags", S.TAGS),
        ]
        for path, shape in checks:
            with self.subTest(path=path):
                self.assertShape(self.server.get(path), shape)
        tag = self.server.request("PUT", "/api/v1/tags/ui-tag", json.dumps({"description": "from the UI"}).encode(),
                                  {"Content-Type": "application/json"})
        self.assertEqual(self.assertShape(tag, S.TAG), {"name": "ui-tag", "description": "from the UI"})
        week = self.server.get("/api/v1/stats/datasets?period=WEEK&timezone=Asia/Kolkata").json()
        self.assertEqual(week[-1]["count"], h.sql_count(self.db, "FROM datasets"))

    # -- the Python client -------------------------------------------------------------------------
    def test_python_client_requests(self):
        base = "/api/v1"
        p = enc_py
        qs = "?limit=100&offset=0"        # list_* send DEFAULT_LIMIT / DEFAULT_OFFSET as params
        body = self.assertShape(self.server.get(base + "/namespaces" + qs), S.NAMESPACES)
        self.assertIn(BULK_NS, [n["name"] for n in body["namespaces"]])
        self.assertShape(self.server.get(base + "/namespaces/" + p(BULK_NS)), S.NAMESPACE)
        created = self.server.request("PUT", base + "/namespaces/" + p("py:client/ns"),
                                      json.dumps({"ownerName": "py", "description": "from python"}).encode(),
                                      {"Content-Type": "application/json", "Accept": "application/json"})
        self.assertEqual(self.assertShape(created, S.NAMESPACE)["name"], "py:client/ns")
        self.assertShape(self.server.get(base + "/sources" + qs), S.SOURCES)
        self.assertShape(self.server.get(base + "/sources/default"), S.SOURCE)
        self.assertShape(self.server.get(base + "/namespaces/%s/datasets%s" % (p(BULK_NS), qs)), S.DATASETS)
        ds = self.assertShape(self.server.get(base + "/namespaces/%s/datasets/%s" % (p(BULK_NS), p("out_001"))),
                              S.DATASET)
        self.assertEqual([f["name"] for f in ds["fields"]], ["a", "b"])
        versions = self.assertShape(self.server.get(base + "/namespaces/%s/datasets/%s/versions%s" % (
            p(BULK_NS), p("out_001"), qs)), S.DATASET_VERSIONS)
        self.assertEqual(versions["totalCount"], RUNS_PER_JOB)
        v = versions["versions"][0]["version"]
        self.assertShape(self.server.get(base + "/namespaces/%s/datasets/%s/versions/%s" % (
            p(BULK_NS), p("out_001"), v)), S.DATASET_VERSION)
        tagged = self.server.request("POST", base + "/namespaces/%s/datasets/%s/fields/%s/tags/%s" % (
            p(BULK_NS), p("out_001"), p("a"), p("pii")), None, {"Content-Type": "application/json"})
        self.assertEqual(self.assertShape(tagged, S.DATASET)["fields"][0]["tags"], ["PII"])
        self.assertShape(self.server.get(base + "/namespaces/%s/jobs%s" % (p(BULK_NS), qs)), S.JOBS)
        job = self.assertShape(self.server.get(base + "/namespaces/%s/jobs/%s" % (p(BULK_NS), p("job_001"))), S.JOB)
        self.assertEqual(len(job["latestRuns"]), RUNS_PER_JOB)
        runs = self.assertShape(self.server.get(base + "/namespaces/%s/jobs/%s/runs%s" % (
            p(BULK_NS), p("job_001"), qs)), S.RUNS)
        self.assertEqual(runs["totalCount"], RUNS_PER_JOB)
        started = [r["startedAt"] for r in runs["runs"]]
        self.assertEqual(started, sorted(started, reverse=True))
        self.assertShape(self.server.get(base + "/jobs/runs/" + runs["runs"][0]["id"]), S.RUN)
        self.assertShape(self.server.get(base + "/tags"), S.TAGS)
        self.assertShape(self.server.request("PUT", base + "/tags/" + p("py tag"),
                                             json.dumps({"description": None}).encode(),
                                             {"Content-Type": "application/json"}), S.TAG)
