"""Issue 10, items 8-9: a dataset symlink joins two names whenever it arrives, in the graph and in the
database alike, and the answer does not depend on arrival order or on a restart.

Feast-shaped events: `feast apply` names the data source by its file (custom feast_dataSource facet) and
feeds a feature view (feast_featureView); the job writing that file names it by its lake path and
declares the file name as a symlink. Sent in both orders, each into its own database, then read back
through /lineage, the dataset routes, /search and run lineage, before and after a restart (the graph
reloaded from Postgres).
"""

import datetime
import json
import random
import unittest
import uuid

import harness as h
from harness import ds_id, enc, job_id
from test_lineage_graph import GraphAsserts

T0 = datetime.datetime(2024, 6, 1, 8, 0, 0, tzinfo=datetime.timezone.utc)
FACET = {"_producer": "https://github.com/feast-dev/feast", "_schemaURL": "https://feast.dev/spec/facets/1-0-0.json"}

FILE_NS, FILE = "file", "/data/driver_stats.parquet"
LAKE_NS, LAKE = "s3://lake", "driver_stats"
VIEW_NS, VIEW = "feast", "driver_hourly_stats"
TRIPS = ("postgres://db:5432", "public.trips")


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


def feast_events():
    """(apply, write): apply reads the data source by its file name; write declares that name."""
    apply_run, write_run = str(uuid.uuid4()), str(uuid.uuid4())
    source = {"namespace": FILE_NS, "name": FILE,
              "facets": {"feast_dataSource": dict(FACET, type="FILE", path=FILE, timestampField="event_ts")}}
    view = {"namespace": VIEW_NS, "name": VIEW,
            "facets": {"feast_featureView": dict(FACET, entities=["driver"], ttl=86400,
                                                 features=["conv_rate", "acc_rate"])}}
    lake = {"namespace": LAKE_NS, "name": LAKE,
            "facets": {"symlinks": dict(FACET, identifiers=[{"namespace": FILE_NS, "name": FILE, "type": "FILE"}]),
                       "schema": dict(FACET, fields=[{"name": "driver_id", "type": "BIGINT"},
                                                     {"name": "conv_rate", "type": "DOUBLE"}])}}
    apply = h.make_run_event(apply_run, "COMPLETE", at(0), "feast", "feast_apply", [source], [view])
    write = h.make_run_event(write_run, "COMPLETE", at(30), "etl", "write_driver_stats", [TRIPS], [lake])
    return apply, write


class Deployment:
    """A database and a server of its own, fed events one POST at a time (so order is kept)."""

    def __init__(self, case, name):
        self.case = case
        self.db = h.fresh_database(name)
        self.server = None
        self.start()

    def start(self):
        self.server = h.Server(self.db)
        self.case.addCleanup(self.server.kill_quietly)
        self.server.start()

    def restart(self):
        self.server.stop()
        self.start()

    def post(self, *events):
        for ev in events:
            self.case.assertCreated(self.server.post_json(ev))

    def get(self, path):
        r = self.server.get(path)
        self.case.assertStatus(r, 200, path)
        return r.json()


class FeastSymlinkTest(GraphAsserts, h.HttpAsserts, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.apply, cls.write = feast_events()

    def lineage_of(self, dep, node):
        body = self.lineage(node, server=dep.server)
        ids, edges, by_id = self.check_graph(body, node)
        return ids, edges, by_id

    def answers(self, dep):
        """Everything that must not depend on arrival order, with the checks that hold in any order."""
        ids, edges, by_id = self.lineage_of(dep, job_id("feast", "feast_apply"))
        lake, view = ds_id(LAKE_NS, LAKE), ds_id(VIEW_NS, VIEW)
        writer = job_id("etl", "write_driver_stats")
        self.assertEqual(ids, {ds_id(*TRIPS), writer, lake, job_id("feast", "feast_apply"), view})
        self.assertEqual(edges, {(ds_id(*TRIPS), writer), (writer, lake), (lake, job_id("feast", "feast_apply")),
                                 (job_id("feast", "feast_apply"), view)})
        self.assertIsNotNone(by_id[lake]["data"], "the graph's node and the database's row are one")
        self.assertEqual(by_id[job_id("feast", "feast_apply")]["data"]["inputs"],
                         [{"namespace": LAKE_NS, "name": LAKE}])
        # the file name is another name of the lake dataset, in every look-up
        self.assertEqual(self.lineage(ds_id(FILE_NS, FILE), server=dep.server),
                         self.lineage(lake, server=dep.server))
        by_alias = dep.get("/api/v1/namespaces/%s/datasets/%s" % (enc(FILE_NS), enc(FILE)))
        by_name = dep.get("/api/v1/namespaces/%s/datasets/%s" % (enc(LAKE_NS), enc(LAKE)))
        self.assertEqual(by_alias, by_name)
        self.assertEqual(by_alias["id"], {"namespace": LAKE_NS, "name": LAKE})
        self.assertEqual([f["name"] for f in by_alias["fields"]], ["driver_id", "conv_rate"])
        self.assertIn("feast_dataSource", by_alias["facets"], "the alias's facets moved to the dataset")
        self.assertEqual(dep.get("/api/v1/namespaces/%s/datasets" % enc(FILE_NS))["totalCount"], 0)
        for q in ("driver_stats", "parquet"):
            hits = dep.get("/api/v1/search?q=%s&filter=DATASET" % q)
            self.assertEqual([(r["namespace"], r["name"]) for r in hits["results"]], [(LAKE_NS, LAKE)], q)
            self.assertEqual(hits["totalCount"], 1, q)
        run = dep.get("/api/v1/jobs/runs/%s" % self.apply["run"]["runId"])
        self.assertEqual([(v["datasetVersionId"]["namespace"], v["datasetVersionId"]["name"])
                          for v in run["inputDatasetVersions"]], [(LAKE_NS, LAKE)])
        up = dep.get("/api/v1/runlineage/upstream?runId=%s" % self.apply["run"]["runId"])
        me = [r for r in up["runs"] if r["run"]["id"] == self.apply["run"]["runId"]]
        self.assertEqual([(i["namespace"], i["name"]) for i in me[0]["inputs"]], [(LAKE_NS, LAKE)])
        return {"graph": (ids, edges), "dataset": by_alias, "apply_inputs": by_id[job_id("feast", "feast_apply")]}

    def test_symlink_joins_the_data_source_in_either_order_and_after_a_reload(self):
        first = None
        for order in ("symlink last", "symlink first"):
            with self.subTest(order=order):
                dep = Deployment(self, "feast_" + order.split()[1])
                dep.post(*((self.apply, self.write) if order == "symlink last" else (self.write, self.apply)))
                got = self.answers(dep)
                alias_of = h.sql_scalar(dep.db, "SELECT a.alias_of = d.id FROM datasets a, datasets d WHERE "
                                        "(a.namespace, a.name) = (%s, %s) AND (d.namespace, d.name) = (%s, %s)"
                                        % (h.sql_quote(FILE_NS), h.sql_quote(FILE), h.sql_quote(LAKE_NS),
                                           h.sql_quote(LAKE)))
                self.assertEqual(alias_of, "t")
                self.assertEqual(h.sql_count(dep.db, "FROM run_io r JOIN datasets a ON a.id = r.dataset_id "
                                                     "WHERE a.alias_of IS NOT NULL"), 0)
                dep.restart()
                self.assertEqual(self.answers(dep)["graph"], got["graph"], "after the reload")
                if first is None:
                    first = got
                else:
                    self.assertEqual(got["graph"], first["graph"])
                    self.assertEqual(got["dataset"]["fields"], first["dataset"]["fields"])
                # the apply (at 0) read before the write (at 30), whichever arrived first: it read the data as
                # it was before any write we know of, so no run produced what it read
                up = dep.get("/api/v1/runlineage/upstream?runId=%s" % self.apply["run"]["runId"])
                self.assertEqual({r["run"]["id"] for r in up["runs"]}, {self.apply["run"]["runId"]})
                read = dep.get("/api/v1/jobs/runs/%s" % self.apply["run"]["runId"])["inputDatasetVersions"]
                written = dep.get("/api/v1/jobs/runs/%s" % self.write["run"]["runId"])["outputDatasetVersions"]
                self.assertNotEqual(read[0]["datasetVersionId"]["version"], written[0]["datasetVersionId"]["version"])


class GroupNameTest(GraphAsserts, h.HttpAsserts, unittest.TestCase):
    """Two datasets declare the same table name: all three names are one dataset, shown under the
    smallest declaring name, in every arrival order."""

    def events(self):
        hive = {"namespace": "hive://meta:9083", "name": "db.trips", "type": "TABLE"}
        sym = dict(FACET, identifiers=[hive])
        y = {"namespace": "s3://b", "name": "y", "facets": {"symlinks": sym}}
        x = {"namespace": "s3://a", "name": "x", "facets": {"symlinks": sym}}
        return [h.make_run_event(None, "COMPLETE", at(1), "g", "write_y", [], [y]),
                h.make_run_event(None, "COMPLETE", at(2), "g", "write_x", [], [x]),
                h.make_run_event(None, "COMPLETE", at(3), "g", "read_table", [("hive://meta:9083", "db.trips")], [])]

    def test_every_order_gives_one_dataset_named_by_the_smallest_primary_name(self):
        evs = self.events()
        want_ids = {job_id("g", "write_y"), job_id("g", "write_x"), job_id("g", "read_table"), ds_id("s3://a", "x")}
        for rot in range(3):
            with self.subTest(rotation=rot):
                dep = Deployment(self, "group_%d" % rot)
                dep.post(*(evs[rot:] + evs[:rot]))
                for reload in (False, True):
                    if reload:
                        dep.restart()
                    ids, edges, _ = self.check_graph(self.lineage(job_id("g", "read_table"), server=dep.server))
                    self.assertEqual(ids, want_ids, "reload=%s" % reload)
                    self.assertIn((ds_id("s3://a", "x"), job_id("g", "read_table")), edges)
                    for ns, name in (("s3://a", "x"), ("s3://b", "y"), ("hive://meta:9083", "db.trips")):
                        got = dep.get("/api/v1/namespaces/%s/datasets/%s" % (enc(ns), enc(name)))
                        self.assertEqual(got["id"], {"namespace": "s3://a", "name": "x"}, (ns, name))
                    self.assertEqual(dep.get("/api/v1/namespaces/%s/datasets" % enc("s3://b"))["totalCount"], 0)
                    self.assertEqual(dep.get("/api/v1/namespaces/%s/datasets" % enc("s3://a"))["totalCount"], 1)


class RandomSymlinksTest(GraphAsserts, h.HttpAsserts, unittest.TestCase):
    """Random declarations among 14 names in 3 namespaces, and readers of those names, sent in three
    orders (one of them as one batch, so one transaction): every name resolves to the same dataset in
    the database as in the graph, and the answers agree across orders and reloads."""

    N = 14

    def name(self, i):
        return "ns%d" % (i % 3), "n%02d" % i

    def events(self, rnd):
        evs = []
        for k in range(10):
            a, b = self.name(rnd.randrange(self.N)), self.name(rnd.randrange(self.N))
            out = {"namespace": a[0], "name": a[1],
                   "facets": {"symlinks": dict(FACET, identifiers=[{"namespace": b[0], "name": b[1], "type": "T"}])}}
            evs.append(h.make_run_event(None, "COMPLETE", at(k), "r", "w%d" % k, [], [out]))
        for k in range(16):
            evs.append(h.make_run_event(None, "COMPLETE", at(60 + k), "r", "read%d" % (k % 5),
                                        [self.name(rnd.randrange(self.N))], []))
        return evs

    def answers(self, dep):
        out = {}
        for i in range(self.N):
            ns, n = self.name(i)
            r = dep.server.get("/api/v1/namespaces/%s/datasets/%s" % (enc(ns), enc(n)))
            self.assertStatus(r, (200, 404))
            row = r.json()["id"] if r.status == 200 else None
            r = dep.server.get("/api/v1/lineage?nodeId=%s&depth=5" % enc(ds_id(ns, n)))
            self.assertStatus(r, (200, 404))
            graph = None
            if r.status == 200:
                ids, edges, by_id = self.check_graph(r.json())
                for node in by_id.values():
                    self.assertIsNotNone(node["data"], "a graph node the database does not know: %s" % node["id"])
                self.assertIsNotNone(row, "the graph knows %s, the database does not" % ds_id(ns, n))
                self.assertIn(ds_id(row["namespace"], row["name"]), ids, "graph and database disagree on %s" % n)
                graph = (sorted(ids), sorted(edges))
            out[i] = (row, graph)
        return out

    def test_any_order_any_transaction_split_and_a_reload_agree(self):
        evs = self.events(random.Random(10))
        first = None
        for order in range(3):
            with self.subTest(order=order):
                o = list(evs)
                random.Random(100 + order).shuffle(o)
                dep = Deployment(self, "random_%d" % order)
                if order == 0:
                    r = dep.server.post("/api/v1/lineage/batch", json.dumps(o).encode())
                    self.assertEqual((r.status, r.json()["summary"]["failed"]), (200, 0))
                else:
                    dep.post(*o)
                got = self.answers(dep)
                dep.restart()
                self.assertEqual(self.answers(dep), got)
                if first is None:
                    first = got
                self.assertEqual(got, first)
                self.assertTrue(any(g and len(g[0]) > 2 for _, g in got.values()), "the test joins nothing")


if __name__ == "__main__":
    unittest.main()
