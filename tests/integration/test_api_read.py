"""Golden tests of the Marquez read routes on the Marquez seed (docker/metadata.template.json), the
Marquez test fixtures and a few events of our own: every route's status and JSON shape (keys in
Marquez's order, types, nulls present) as reference/marquez-api.md section 1.4 describes it, and the
values that follow from the events."""

import datetime
import unittest
import urllib.parse
import uuid

import harness as h
import test_api_shapes as S

q = urllib.parse.quote


def enc(s):
    """A path segment as the web UI (encodeURIComponent) and the Python client (quote(safe='')) send it."""
    return q(s, safe="")


NS = "api-test"
SRC_NS, DST_NS = "api-src", "api-dst"
T0 = h.now_utc().replace(microsecond=0) - datetime.timedelta(hours=2)
WRITER_RUN, READER_RUN, FLAKY_RUN, SLOW_RUN = (str(uuid.uuid4()) for _ in range(4))
PARENT_RUN, CHILD_RUN = str(uuid.uuid4()), str(uuid.uuid4())


def _facet(**kw):
    f = {"_producer": "https://lineaged.test/api", "_schemaURL": "https://openlineage.io/spec/facets/x.json"}
    f.update(kw)
    return f


def _schema(*fields):
    return _facet(fields=[{"name": n, "type": t, "description": "the %s" % n} for n, t in fields])


def api_events():
    """writer: api-src/raw.events -> api-dst/clean.events (schema, column lineage, documentation);
    reader reads clean.events; flaky fails; slowpoke is still running; parent/child jobs."""
    raw = {"namespace": SRC_NS, "name": "raw.events",
           "facets": {"schema": _schema(("id", "BIGINT"), ("body", "TEXT"))}}
    clean = {"namespace": DST_NS, "name": "clean.events",
             "facets": {"schema": _schema(("id", "BIGINT"), ("payload", "TEXT")),
                        "documentation": _facet(description="Cleaned events."),
                        "columnLineage": _facet(fields={
                            "id": {"inputFields": [{"namespace": SRC_NS, "name": "raw.events", "field": "id"}],
                                   "transformationDescription": "identity", "transformationType": "IDENTITY"},
                            "payload": {"inputFields": [{"namespace": SRC_NS, "name": "raw.events",
                                                         "field": "body"}]}})}}
    nominal = {"nominalTime": _facet(nominalStartTime=h.iso_z(T0), nominalEndTime=h.iso_z(T0 + datetime.timedelta(hours=1)))}
    job_facets = {"sql": _facet(query="INSERT INTO clean.events SELECT id, body FROM raw.events"),
                  "jobType": _facet(processingType="BATCH", integration="SPARK", jobType="QUERY")}
    evs = [
        h.make_run_event(WRITER_RUN, "START", T0, NS, "writer", [raw], [clean], run_facets=nominal,
                         job_facets=job_facets),
        h.make_run_event(WRITER_RUN, "COMPLETE", T0 + datetime.timedelta(minutes=5), NS, "writer", [raw], [clean]),
        h.make_run_event(READER_RUN, "START", T0 + datetime.timedelta(minutes=10), NS, "reader",
                         [(DST_NS, "clean.events")], []),
        h.make_run_event(READER_RUN, "COMPLETE", T0 + datetime.timedelta(minutes=11), NS, "reader",
                         [(DST_NS, "clean.events")], []),
        h.make_run_event(FLAKY_RUN, "START", T0 + datetime.timedelta(minutes=20), NS, "flaky"),
        h.make_run_event(FLAKY_RUN, "FAIL", T0 + datetime.timedelta(minutes=21), NS, "flaky"),
        h.make_run_event(SLOW_RUN, "START", T0 + datetime.timedelta(minutes=30), NS, "slowpoke"),
        h.make_run_event(PARENT_RUN, "START", T0 + datetime.timedelta(minutes=40), NS, "etl_dag"),
        h.make_run_event(CHILD_RUN, "COMPLETE", T0 + datetime.timedelta(minutes=41), NS, "load_task",
                         run_facets={"parent": _facet(run={"runId": PARENT_RUN},
                                                      job={"namespace": NS, "name": "etl_dag"})}),
        {"eventTime": h.iso_z(T0), "producer": "https://lineaged.test/api",
         "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
         "job": {"namespace": NS, "name": "static_job"},
         "inputs": [{"namespace": SRC_NS, "name": "raw.events"}], "outputs": []},
    ]
    return evs


class MarquezReadTest(S.ShapeAsserts, h.ServerTestCase):
    """One database with the seed, the Marquez fixtures and api_events(); reads only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seed = h.marquez_seed_events()
        for ev in cls.seed:
            r = cls.server.post_json(ev)
            assert r.status == 201, r
        for rel in h.marquez_fixture_files():
            r = cls.server.post("/api/v1/lineage", h.load_marquez_fixture(rel))
            assert r.status == 201, (rel, r)
        for ev in api_events():
            r = cls.server.post_json(ev)
            assert r.status == 201, r

    def get(self, path):
        return self.server.get(path)

    def count(self, sql_from_where):
        return h.sql_count(self.db, sql_from_where)

    # -- namespaces ------------------------------------------------------------------------------------
    def test_namespaces_list(self):
        body = self.assertShape(self.get("/api/v1/namespaces"), S.NAMESPACES)
        names = [n["name"] for n in body["namespaces"]]
        self.assertEqual(names, sorted(names))
        self.assertIn("food_delivery", names)
        self.assertEqual(len(names), min(100, self.count("FROM namespaces")))
        default = [n for n in body["namespaces"] if n["name"] == "default"][0]
        self.assertEqual(default["ownerName"], "anonymous")
        self.assertTrue(default["description"].startswith("The default global namespace"))
        fd = [n for n in body["namespaces"] if n["name"] == "food_delivery"][0]
        self.assertIsNone(fd["description"])
        self.assertFalse(fd["isHidden"])
        page = self.assertShape(self.get("/api/v1/namespaces?limit=2&offset=1"), S.NAMESPACES)
        self.assertEqual([n["name"] for n in page["namespaces"]], names[1:3])
        self.assertNotIn("totalCount", body)

    def test_namespace_get_and_404(self):
        body = self.assertShape(self.get("/api/v1/namespaces/food_delivery"), S.NAMESPACE)
        self.assertEqual(body["name"], "food_delivery")
        self.assertJsonError(self.get("/api/v1/namespaces/nope"), 404, None)
        self.assertEqual(self.get("/api/v1/namespaces/nope").json(),
                         {"code": 404, "message": "Namespace 'nope' not found."})

    def test_namespace_with_colons_and_slashes_in_one_segment(self):
        body = self.assertShape(self.get("/api/v1/namespaces/" + enc("s3://blob-source")), S.NAMESPACE)
        self.assertEqual(body["name"], "s3://blob-source")
        ds = self.assertShape(self.get("/api/v1/namespaces/%s/datasets" % enc("s3://blob-source")), S.DATASETS)
        self.assertGreater(ds["totalCount"], 0)
        self.assertTrue(all(d["namespace"] == "s3://blob-source" for d in ds["datasets"]))

    def test_pagination_validation(self):
        for path in ("/api/v1/namespaces?limit=-1", "/api/v1/jobs?limit=-5",
                     "/api/v1/namespaces/food_delivery/datasets?limit=-1"):
            r = self.get(path)
            self.assertStatus(r, 400)
            self.assertEqual(r.json(), {"errors": ["query param limit must be greater than or equal to 0"]}, path)
        r = self.get("/api/v1/tags?offset=-1")
        self.assertEqual(r.json(), {"errors": ["query param offset must be greater than or equal to 0"]})
        r = self.get("/api/v1/sources?limit=ten")
        self.assertStatus(r, 400)
        self.assertEqual(r.json(), {"errors": ["query param limit is not a number."]})
        self.assertEqual(self.assertShape(self.get("/api/v1/namespaces?limit=0"), S.NAMESPACES)["namespaces"], [])

    # -- sources -----------------------------------------------------------------------------------
    def test_sources(self):
        body = self.assertShape(self.get("/api/v1/sources"), S.SOURCES)
        names = [s["name"] for s in body["sources"]]
        self.assertEqual(names, sorted(names))
        one = self.assertShape(self.get("/api/v1/sources/food_delivery_db"), S.SOURCE)
        self.assertEqual(one["type"], "POSTGRESQL")
        self.assertEqual(one["connectionUrl"], "postgres://food_delivery:food_delivery@postgres:5432/food_delivery")
        self.assertEqual(self.get("/api/v1/sources/nope").json(), {"code": 404, "message": "Source 'nope' not found."})

    # -- datasets ----------------------------------------------------------------------------------
    def test_datasets_list(self):
        body = self.assertShape(self.get("/api/v1/namespaces/food_delivery/datasets"), S.DATASETS)
        self.assertEqual(list(body)[0], "totalCount")
        self.assertEqual(body["totalCount"], self.count("FROM datasets WHERE namespace = 'food_delivery'"))
        names = [d["name"] for d in body["datasets"]]
        self.assertEqual(names, sorted(names))
        self.assertIn("public.delivery_7_days", names)
        page = self.assertShape(self.get("/api/v1/namespaces/food_delivery/datasets?limit=3&offset=2"), S.DATASETS)
        self.assertEqual([d["name"] for d in page["datasets"]], names[2:5])
        self.assertEqual(page["totalCount"], body["totalCount"])
        self.assertEqual(self.get("/api/v1/namespaces/nope/datasets").json(),
                         {"code": 404, "message": "Namespace 'nope' not found."})

    def test_dataset_get(self):
        d = self.assertShape(self.get("/api/v1/namespaces/%s/datasets/clean.events" % DST_NS), S.DATASET)
        self.assertEqual(d["id"], {"namespace": DST_NS, "name": "clean.events"})
        self.assertEqual((d["type"], d["name"], d["physicalName"], d["sourceName"]),
                         ("DB_TABLE", "clean.events", "clean.events", "default"))
        self.assertEqual([(f["name"], f["type"], f["tags"], f["description"]) for f in d["fields"]],
                         [("id", "BIGINT", [], "the id"), ("payload", "TEXT", [], "the payload")])
        self.assertEqual(d["description"], "Cleaned events.")
        self.assertIsNone(d["lastModifiedAt"])
        self.assertFalse(d["deleted"])
        self.assertEqual(sorted(d["facets"]), ["columnLineage", "documentation", "schema"])
        self.assertEqual(d["columnLineage"], [
            {"name": "id", "inputFields": [{"namespace": SRC_NS, "dataset": "raw.events", "field": "id",
                                            "transformationDescription": "identity",
                                            "transformationType": "IDENTITY"}],
             "transformationDescription": "identity", "transformationType": "IDENTITY"},
            {"name": "payload", "inputFields": [{"namespace": SRC_NS, "dataset": "raw.events", "field": "body",
                                                 "transformationDescription": None, "transformationType": None}],
             "transformationDescription": None, "transformationType": None}])
        versions = self.get("/api/v1/namespaces/%s/datasets/clean.events/versions" % DST_NS).json()["versions"]
        self.assertIn(d["currentVersion"], [v["version"] for v in versions])
        self.assertEqual(self.get("/api/v1/namespaces/%s/datasets/nope" % DST_NS).json(),
                         {"code": 404, "message": "Dataset 'nope' not found."})
        self.assertEqual(self.get("/api/v1/namespaces/nope/datasets/clean.events").json(),
                         {"code": 404, "message": "Namespace 'nope' not found."})

    def test_dataset_without_column_lineage_has_null(self):
        d = self.assertShape(self.get("/api/v1/namespaces/%s/datasets/raw.events" % SRC_NS), S.DATASET)
        self.assertIsNone(d["columnLineage"])
        self.assertEqual([f["name"] for f in d["fields"]], ["id", "body"])

    def test_dataset_versions(self):
        base = "/api/v1/namespaces/%s/datasets/clean.events/versions" % DST_NS
        body = self.assertShape(self.get(base), S.DATASET_VERSIONS)
        self.assertEqual(list(body), ["versions", "totalCount"])
        self.assertEqual(body["totalCount"], len(body["versions"]))
        self.assertGreaterEqual(body["totalCount"], 1)
        created = [v["createdAt"] for v in body["versions"]]
        self.assertEqual(created, sorted(created, reverse=True))
        written = [v for v in body["versions"] if v["createdByRun"] is not None]
        self.assertTrue(written, body)
        v = written[0]
        self.assertEqual(v["createdByRun"]["id"], WRITER_RUN)
        self.assertEqual(v["createdByRun"]["state"], "COMPLETED")
        self.assertEqual([f["name"] for f in v["fields"]], ["id", "payload"])
        self.assertIn("schema", v["facets"])
        self.assertIsNotNone(v["currentSchemaVersion"])
        one = self.assertShape(self.get("%s/%s" % (base, v["version"])), S.DATASET_VERSION)
        self.assertEqual(one, v)
        missing = str(uuid.uuid4())
        self.assertEqual(self.get("%s/%s" % (base, missing)).json(),
                         {"code": 404, "message": "Dataset version '%s' not found." % missing})
        self.assertEqual(self.get(base + "/not-a-uuid").status, 404)
        self.assertEqual(len(self.get(base + "?limit=1").json()["versions"]), 1)

    # -- jobs --------------------------------------------------------------------------------------
    def test_jobs_list_global(self):
        body = self.assertShape(self.get("/api/v1/jobs"), S.JOBS)
        self.assertEqual(list(body)[0], "totalCount")
        self.assertEqual(body["totalCount"],
                         self.count("FROM jobs WHERE NOT is_hidden AND symlink_target_id IS NULL"))
        updated = [j["updatedAt"] for j in body["jobs"]]
        self.assertEqual(updated, sorted(updated, reverse=True))
        for j in body["jobs"]:
            if j["latestRuns"] is not None:
                self.assertLessEqual(len(j["latestRuns"]), 10)
                self.assertEqual(j["latestRun"], j["latestRuns"][0])
            else:
                self.assertIsNone(j["latestRun"])

    def test_jobs_list_namespace(self):
        body = self.assertShape(self.get("/api/v1/namespaces/food_delivery/jobs"), S.JOBS)
        self.assertEqual(body["totalCount"], self.count("FROM jobs WHERE namespace = 'food_delivery'"))
        seeded = {ev["job"]["name"] for ev in self.seed}
        self.assertTrue(seeded <= {j["name"] for j in body["jobs"]})
        for j in body["jobs"]:
            self.assertEqual(j["namespace"], "food_delivery")
        self.assertEqual(self.get("/api/v1/namespaces/nope/jobs").json(),
                         {"code": 404, "message": "Namespace 'nope' not found."})

    def test_jobs_last_run_states(self):
        names = lambda b: {j["name"] for j in b["jobs"]}  # noqa: E731
        failed = self.assertShape(self.get("/api/v1/namespaces/%s/jobs?lastRunStates=FAILED" % NS), S.JOBS)
        # Marquez's rule: a job that never ran passes every lastRunStates filter
        self.assertEqual(names(failed), {"flaky", "static_job"})
        self.assertEqual(failed["totalCount"], 2)
        running = self.get("/api/v1/namespaces/%s/jobs?lastRunStates=running&lastRunStates=Failed" % NS).json()
        self.assertEqual(names(running), {"flaky", "slowpoke", "etl_dag", "static_job"})
        everything = self.get("/api/v1/namespaces/%s/jobs" % NS).json()
        self.assertEqual(names(everything), {"writer", "reader", "flaky", "slowpoke", "etl_dag", "etl_dag.load_task",
                                             "static_job"})
        r = self.get("/api/v1/jobs?lastRunStates=SLEEPING")
        self.assertJsonError(r, 400)
        self.assertEqual(r.json()["message"],
                         "query param lastRunStates must be one of [NEW, RUNNING, COMPLETED, ABORTED, FAILED, OTHER]")

    def test_job_get(self):
        j = self.assertShape(self.get("/api/v1/namespaces/%s/jobs/writer" % NS), S.JOB)
        self.assertEqual(j["id"], {"namespace": NS, "name": "writer"})
        self.assertEqual((j["type"], j["simpleName"], j["parentJobName"], j["parentJobUuid"]),
                         ("BATCH", "writer", None, None))
        self.assertEqual(j["inputs"], [{"namespace": SRC_NS, "name": "raw.events"}])
        self.assertEqual(j["outputs"], [{"namespace": DST_NS, "name": "clean.events"}])
        self.assertEqual(j["latestRun"]["id"], WRITER_RUN)
        self.assertEqual(j["latestRun"]["state"], "COMPLETED")
        self.assertEqual(len(j["latestRuns"]), 1)
        self.assertEqual(sorted(j["facets"]), ["jobType", "sql"])
        self.assertEqual(j["labels"], ["QUERY", "SPARK"])
        self.assertEqual(j["tags"], [])
        self.assertIsNotNone(j["currentVersion"])
        self.assertEqual(j["latestRun"]["jobVersion"],
                         {"namespace": NS, "name": "writer", "version": j["currentVersion"]})
        self.assertEqual(self.get("/api/v1/namespaces/%s/jobs/nope" % NS).json(),
                         {"code": 404, "message": "Job 'nope' not found."})

    def test_job_hierarchy(self):
        child = self.assertShape(self.get("/api/v1/namespaces/%s/jobs/etl_dag.load_task" % NS), S.JOB)
        self.assertEqual((child["simpleName"], child["parentJobName"]), ("load_task", "etl_dag"))
        self.assertIsNotNone(child["parentJobUuid"])
        self.assertEqual(child["latestRun"]["args"], {"run_id": PARENT_RUN, "name": "etl_dag", "namespace": NS})

    def test_job_without_runs_has_null_latest_runs(self):
        j = self.assertShape(self.get("/api/v1/namespaces/%s/jobs/static_job" % NS), S.JOB)
        self.assertIsNone(j["latestRun"])
        self.assertIsNone(j["latestRuns"])
        self.assertEqual(j["inputs"], [{"namespace": SRC_NS, "name": "raw.events"}])

    def test_job_versions(self):
        base = "/api/v1/namespaces/%s/jobs/writer/versions" % NS
        body = self.assertShape(self.get(base), S.JOB_VERSIONS)
        self.assertEqual(list(body), ["versions"])
        self.assertEqual(len(body["versions"]), 1)
        v = body["versions"][0]
        self.assertEqual(v["id"], {"namespace": NS, "name": "writer", "version": v["version"]})
        self.assertEqual(v["inputs"], [{"namespace": SRC_NS, "name": "raw.events"}])
        self.assertEqual(v["outputs"], [{"namespace": DST_NS, "name": "clean.events"}])
        self.assertEqual(v["latestRun"]["id"], WRITER_RUN)
        self.assertEqual(self.assertShape(self.get("%s/%s" % (base, v["version"])), S.JOB_VERSION), v)
        missing = str(uuid.uuid4())
        self.assertEqual(self.get("%s/%s" % (base, missing)).json(),
                         {"code": 404, "message": "Job version '%s' not found." % missing})

    def test_job_runs(self):
        body = self.assertShape(self.get("/api/v1/namespaces/food_delivery/jobs/etl_orders_7_days/runs"), S.RUNS)
        self.assertEqual(list(body), ["runs", "totalCount"])
        self.assertEqual(body["totalCount"], 1)
        run = body["runs"][0]
        self.assertEqual(run["state"], "COMPLETED")
        self.assertEqual(run["args"], {"nominal_start_time": "2020-02-22T22:00Z", "nominal_end_time": "2020-02-22T22:00Z"})
        self.assertEqual(run["nominalStartTime"], "2020-02-22T22:00:00.000000Z")
        self.assertEqual([d["datasetVersionId"]["name"] for d in run["inputDatasetVersions"]],
                         ["public.categories", "public.menu_items", "public.menus", "public.orders"])
        self.assertEqual(run["durationMs"], 7 * 60 * 1000)
        self.assertEqual(self.get("/api/v1/namespaces/food_delivery/jobs/nope/runs").json(),
                         {"code": 404, "message": "Job 'nope' not found."})

    def test_run_get_and_facets(self):
        run = self.assertShape(self.get("/api/v1/jobs/runs/" + WRITER_RUN), S.RUN)
        self.assertEqual(run["id"], WRITER_RUN)
        self.assertEqual(run["startedAt"], h.iso_z(T0))
        self.assertEqual(run["endedAt"], h.iso_z(T0 + datetime.timedelta(minutes=5)))
        self.assertEqual(run["durationMs"], 300000)
        self.assertEqual(run["args"]["nominal_start_time"], T0.strftime("%Y-%m-%dT%H:%MZ")
                         if T0.second == 0 else T0.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual([d["datasetVersionId"]["name"] for d in run["outputDatasetVersions"]], ["clean.events"])
        self.assertEqual(sorted(run["facets"]), ["nominalTime"])
        facets = self.assertShape(self.get("/api/v1/jobs/runs/%s/facets?type=run" % WRITER_RUN), S.RUN_FACETS)
        self.assertEqual(facets["runId"], WRITER_RUN)
        self.assertEqual(sorted(facets["facets"]), ["nominalTime"])
        jf = self.assertShape(self.get("/api/v1/jobs/runs/%s/facets?type=JOB" % WRITER_RUN), S.RUN_FACETS)
        self.assertEqual(sorted(jf["facets"]), ["jobType", "sql"])
        self.assertEqual(self.get("/api/v1/jobs/runs/%s/facets?type=dataset" % WRITER_RUN).json(),
                         {"runId": WRITER_RUN, "facets": {}})
        self.assertEqual(self.get("/api/v1/jobs/runs/%s/facets" % WRITER_RUN).json(),
                         {"errors": ["query param type must not be null"]})
        bad = self.get("/api/v1/jobs/runs/%s/facets?type=table" % WRITER_RUN)
        self.assertJsonError(bad, 400, "query param type must be one of [RUN, JOB, DATASET]")
        missing = str(uuid.uuid4())
        self.assertEqual(self.get("/api/v1/jobs/runs/" + missing).json(),
                         {"code": 404, "message": "Run '%s' not found." % missing})
        self.assertEqual(self.get("/api/v1/jobs/runs/%s/facets?type=run" % missing).status, 404)

    # -- the Marquez seed, job by job ----------------------------------------------------------------
    def test_seed_jobs_and_datasets(self):
        by_job = {}
        for ev in self.seed:
            by_job.setdefault(ev["job"]["name"], []).append(ev)
        for name, evs in sorted(by_job.items()):
            with self.subTest(job=name):
                j = self.assertShape(self.get("/api/v1/namespaces/food_delivery/jobs/" + name), S.JOB)
                ids = lambda key: sorted({(d["namespace"], d["name"]) for ev in evs for d in ev.get(key, [])})  # noqa
                self.assertEqual([(d["namespace"], d["name"]) for d in j["inputs"]], ids("inputs"))
                self.assertEqual([(d["namespace"], d["name"]) for d in j["outputs"]], ids("outputs"))
                self.assertEqual(j["description"], evs[0]["job"]["facets"]["documentation"]["description"])
                self.assertEqual(sorted(j["facets"]), sorted(evs[0]["job"]["facets"]))
                self.assertEqual(j["latestRun"]["id"], evs[0]["run"]["runId"])
                self.assertEqual(j["latestRun"]["state"], "COMPLETED")
                self.assertEqual(j["latestRun"]["startedAt"], h.iso_z(h.parse_event_time(evs[0]["eventTime"])))
                self.assertEqual(j["latestRun"]["endedAt"], h.iso_z(h.parse_event_time(evs[-1]["eventTime"])))
                for d in evs[0].get("outputs", []):
                    ds = self.assertShape(self.get("/api/v1/namespaces/food_delivery/datasets/" + d["name"]),
                                          S.DATASET)
                    self.assertEqual(ds["description"], d["facets"]["documentation"]["description"])
                    self.assertEqual(ds["sourceName"], d["facets"]["dataSource"]["name"])

    def test_seed_outputs_get_their_schema_at_complete(self):
        """Marquez makes a run's output versions current at COMPLETE even when the COMPLETE event lists no
        outputs (the seed's COMPLETE events have none), so every seeded table shows its schema fields."""
        for ev in self.seed:
            for d in ev.get("outputs", []):
                ds = self.get("/api/v1/namespaces/food_delivery/datasets/" + d["name"]).json()
                self.assertEqual([f["name"] for f in ds["fields"]],
                                 [f["name"] for f in d["facets"]["schema"]["fields"]], d["name"])

    # -- tags, search, events, stats -----------------------------------------------------------------
    def test_tags_list(self):
        body = self.assertShape(self.get("/api/v1/tags"), S.TAGS)
        self.assertEqual([t["name"] for t in body["tags"]], sorted(t["name"] for t in body["tags"]))

    def test_search(self):
        body = self.assertShape(self.get("/api/v1/search?q=orders"), S.SEARCH)
        self.assertEqual(body["totalCount"], len(body["results"]))
        self.assertLessEqual(len(body["results"]), 10)
        names = [x["name"] for x in body["results"]]
        self.assertEqual(names, sorted(names))
        for x in body["results"]:
            self.assertIn("orders", x["name"].lower())
            self.assertEqual(x["nodeId"], "%s:%s:%s" % (x["type"].lower(), x["namespace"], x["name"]))
        self.assertEqual(self.get("/api/v1/search?q=orders&sort=updated_at").status, 200)
        self.assertJsonError(self.get("/api/v1/search?q=orders&sort=size"), 400,
                             "query param sort must be one of [NAME, UPDATE_AT]")
        jobs = self.get("/api/v1/search?q=orders&filter=JOB&sort=UPDATE_AT&limit=100").json()
        self.assertTrue(jobs["results"])
        self.assertEqual({x["type"] for x in jobs["results"]}, {"JOB"})
        updated = [x["updatedAt"] for x in jobs["results"]]
        self.assertEqual(updated, sorted(updated, reverse=True))
        ds = self.get("/api/v1/search?q=ORDERS&filter=dataset&namespace=food_delivery&limit=100").json()
        self.assertEqual({x["type"] for x in ds["results"]}, {"DATASET"})
        self.assertEqual(ds["totalCount"], self.count(
            "FROM datasets WHERE namespace = 'food_delivery' AND name ILIKE '%orders%'"))
        self.assertEqual(self.get("/api/v1/search?q=orders&before=1999-01-01").json()["results"], [])
        self.assertEqual(self.get("/api/v1/search?q=%20").json(), {"errors": ["query param q must not be blank"]})
        self.assertEqual(self.get("/api/v1/search").status, 400)
        self.assertEqual(self.get("/api/v1/search?q=x&before=2024-1-1").json(),
                         {"errors": ["query param before must match \"^\\d{4}-\\d{2}-\\d{2}$\""]})
        self.assertJsonError(self.get("/api/v1/search?q=x&filter=table"), 400, "must be one of [DATASET, JOB]")

    def test_events(self):
        body = self.assertShape(self.get("/api/v1/events/lineage"), S.EVENTS)
        self.assertEqual(list(body), ["events", "totalCount"])
        self.assertEqual(body["totalCount"], self.count(
            "FROM events WHERE event_time >= '1970-01-01' AND event_time < '2030-01-01'"))
        times = [h.parse_event_time(e["eventTime"]) for e in body["events"]]
        self.assertEqual(times, sorted(times, reverse=True))
        self.assertTrue(all("run" in e for e in body["events"]))
        self.assertEqual(list(body["events"][0])[:2], ["eventType", "eventTime"])
        asc = self.get("/api/v1/events/lineage?sortDirection=asc&limit=5").json()
        times = [h.parse_event_time(e["eventTime"]) for e in asc["events"]]
        self.assertEqual(times, sorted(times))
        self.assertEqual(len(times), 5)
        after = h.iso_z(T0 - datetime.timedelta(seconds=1))
        before = h.iso_z(T0 + datetime.timedelta(minutes=6))
        win = self.get("/api/v1/events/lineage?after=%s&before=%s&limit=100" % (after, before)).json()
        self.assertEqual({e["run"]["runId"] for e in win["events"]}, {WRITER_RUN})
        self.assertJsonError(self.get("/api/v1/events/lineage?sortDirection=sideways"), 400,
                             "query param sortDirection must be one of [DESC, ASC]")
        self.assertEqual(self.get("/api/v1/events/lineage?before=yesterday").status, 400)

    def test_stats(self):
        for attempt in (1, 2):  # the window moves on the hour: retry once if it did in between
            expected = self.count(
                "FROM events WHERE event_time >= date_trunc('hour', now() - interval '23 hours')"
                " AND event_time < date_trunc('hour', now()) + interval '1 hour'"
                " AND event_type IN ('START', 'COMPLETE', 'FAIL')")
            day = self.assertShape(self.get("/api/v1/stats/lineage-events?period=DAY"), S.LINEAGE_METRICS)
            if sum(b["start"] + b["complete"] + b["fail"] for b in day) == expected or attempt == 2:
                break
        self.assertEqual(len(day), 24)
        self.assertEqual(sum(b["start"] + b["complete"] + b["fail"] for b in day), expected)
        week = self.assertShape(self.get("/api/v1/stats/lineage-events?period=WEEK&timezone=Europe/Paris"),
                                S.LINEAGE_METRICS)
        self.assertEqual(len(week), 7)
        self.assertTrue(all(b["startInterval"].endswith("T00:00:00.000000Z") for b in week), week)
        for kind in ("jobs", "datasets", "sources"):
            d = self.assertShape(self.get("/api/v1/stats/%s?period=DAY" % kind), S.INTERVAL_METRICS)
            self.assertEqual(len(d), 24)
            self.assertEqual(d[-1]["count"], self.count("FROM " + kind))
            counts = [b["count"] for b in d]
            self.assertEqual(counts, sorted(counts), "cumulative")
            w = self.assertShape(self.get("/api/v1/stats/%s?period=week&timezone=UTC" % kind), S.INTERVAL_METRICS)
            self.assertEqual(len(w), 7)
            self.assertEqual(self.get("/api/v1/stats/%s?period=WEEK" % kind).json(), [])
        r = self.get("/api/v1/stats/jobs")
        self.assertEqual((r.status, r.text()), (400, "Invalid period"))
        r = self.get("/api/v1/stats/lineage-events?period=WEEK")
        self.assertEqual((r.status, r.text()), (400, "Timezone must be specified for period 'WEEK'"))
        self.assertJsonError(self.get("/api/v1/stats/jobs?period=MONTH"), 400,
                             "query param period must be one of [DAY, WEEK]")
        self.assertJsonError(self.get("/api/v1/stats/jobs?period=WEEK&timezone=Mars/Olympus"), 400)

    # -- routes that do not read -------------------------------------------------------------------
    def test_search_v2beta_is_unavailable(self):
        for path in ("/api/v2beta/search/jobs?q=orders", "/api/v2beta/search/datasets?q=orders"):
            self.assertJsonError(self.get(path), 503, "/api/v1/search")

    def test_deprecated_write_routes_answer_410(self):
        run = "/api/v1/jobs/runs/" + WRITER_RUN
        for method, path in (("PUT", "/api/v1/sources/src1"),
                             ("PUT", "/api/v1/namespaces/%s/datasets/clean.events" % DST_NS),
                             ("PUT", "/api/v1/namespaces/%s/jobs/writer" % NS),
                             ("POST", "/api/v1/namespaces/%s/jobs/writer/runs" % NS),
                             ("POST", run + "/start"), ("POST", run + "/complete"),
                             ("POST", run + "/fail"), ("POST", run + "/abort")):
            r = self.server.request(method, path, b"{}", {"Content-Type": "application/json"})
            self.assertJsonError(r, 410, "POST /api/v1/lineage")
        self.assertEqual(self.get("/api/v1/jobs/runs/" + WRITER_RUN).json()["state"], "COMPLETED")

    def test_unknown_route_and_method(self):
        self.assertEqual(self.get("/api/v1/nothing").json(), {"code": 404, "message": "HTTP 404 Not Found"})
        r = self.server.request("PATCH", "/api/v1/namespaces/food_delivery")
        self.assertJsonError(r, 405)
