"""Issue 10, items 10-11: versions as producers name them, and one answer for a run everywhere.

10. DVC-shaped data versions (md5 content hashes in the `version` facet): a backfill that declares it
    read the day-14 data is linked to the day-14 version, not to the dataset's current (day-3) one,
    whichever of the writes and the read arrives first; the named version is kept with the version
    row, looked up by its hash and served as the version facet.
    An input that names no version read the newest version written (its run completed) at or before
    the input's time, by another run, else the data as it was before any write we know of (the
    dataset's first-read version); whichever of the writes and the reads arrives first.
11. /lineage node data shows the job's latestRun exactly as /jobs/runs/{id} and /jobs/{job} do (input
    facets included).
"""

import datetime
import unittest
import uuid

import harness as h
from harness import ds_id, enc, job_id
from test_issue_10_symlinks import Deployment
from test_lineage_graph import GraphAsserts, post_all

DATA = ("s3://data", "trips.parquet")
MD5_DAY14 = "5f363e0e58a95f06cbe9bbc662c5dfb6"
MD5_DAY3 = "0cc175b9c0f1b6a831c399e269772661"
FACET = {"_producer": "https://dvc.org", "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json"}


def versioned(md5, where="facets"):
    return {"namespace": DATA[0], "name": DATA[1], where: {"version": dict(FACET, datasetVersion=md5)}}


class DvcVersionTest(GraphAsserts, h.HttpAsserts, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.r14, cls.r3, cls.backfill = (str(uuid.uuid4()) for _ in range(3))
        cls.writes = [
            h.make_run_event(cls.r14, "COMPLETE", "2024-01-14T02:00:00Z", "dvc", "dvc_pull", [], [versioned(MD5_DAY14)]),
            # a later restore of the day-3 data: it becomes the current version
            h.make_run_event(cls.r3, "COMPLETE", "2024-01-20T02:00:00Z", "dvc", "dvc_pull", [], [versioned(MD5_DAY3)]),
        ]
        cls.read = h.make_run_event(cls.backfill, "COMPLETE", "2024-01-21T05:00:00Z", "ml", "retrain_churn",
                                    [versioned(MD5_DAY14, "inputFacets")], [("mlflow", "models/churn/8")])

    def check(self, dep):
        # the point of item 10 first: the backfill did not read the dataset's current (day-3) version
        current = dep.get("/api/v1/namespaces/%s/datasets/%s" % (enc(DATA[0]), enc(DATA[1])))["currentVersion"]
        read = dep.get("/api/v1/jobs/runs/%s" % self.backfill)["inputDatasetVersions"][0]["datasetVersionId"]
        self.assertNotEqual(read["version"], current)
        v14 = dep.get("/api/v1/namespaces/%s/datasets/%s/versions/%s" % (enc(DATA[0]), enc(DATA[1]), MD5_DAY14))
        self.assertEqual(v14["createdByRun"]["id"], self.r14)
        self.assertEqual(v14["facets"]["version"]["datasetVersion"], MD5_DAY14)
        self.assertEqual(dep.get("/api/v1/namespaces/%s/datasets/%s/versions/%s" % (
            enc(DATA[0]), enc(DATA[1]), v14["version"])), v14)
        v3 = dep.get("/api/v1/namespaces/%s/datasets/%s/versions/%s" % (enc(DATA[0]), enc(DATA[1]), MD5_DAY3))
        self.assertEqual(current, v3["version"])
        self.assertNotEqual(v3["version"], v14["version"])
        run = dep.get("/api/v1/jobs/runs/%s" % self.backfill)
        ins = run["inputDatasetVersions"]
        self.assertEqual([i["datasetVersionId"] for i in ins],
                         [{"namespace": DATA[0], "name": DATA[1], "version": v14["version"]}])
        self.assertEqual(ins[0]["facets"]["version"]["datasetVersion"], MD5_DAY14)
        up = dep.get("/api/v1/runlineage/upstream?runId=%s" % self.backfill)
        self.assertEqual([r["run"]["id"] for r in up["runs"]], [self.backfill, self.r14])
        self.assertEqual(up["runs"][0]["inputs"][0]["producedByRunId"], self.r14)
        versions = dep.get("/api/v1/namespaces/%s/datasets/%s/versions" % (enc(DATA[0]), enc(DATA[1])))
        self.assertEqual(versions["totalCount"], 2)  # the writes and the read met on the same rows
        # pinned to the version by its hash
        pinned = self.lineage("%s#%s" % (ds_id(*DATA), MD5_DAY14), server=dep.server)
        self.assertIn(job_id("dvc", "dvc_pull"), {n["id"] for n in pinned["graph"]})
        self.assertJsonError(dep.server.get("/api/v1/namespaces/%s/datasets/%s/versions/%s" % (
            enc(DATA[0]), enc(DATA[1]), "ffffffffffffffffffffffffffffffff")), 404)

    def test_backfill_reads_the_version_it_names_in_any_order(self):
        for order in ("writes first", "read first"):
            with self.subTest(order=order):
                dep = Deployment(self, "dvc_" + order.split()[0])
                dep.post(*(self.writes + [self.read] if order == "writes first" else [self.read] + self.writes))
                self.check(dep)

    def test_dataset_version_facet_on_an_input_names_it_too(self):
        dep = Deployment(self, "dvc_facet")
        read = h.make_run_event(str(uuid.uuid4()), "COMPLETE", "2024-01-22T00:00:00Z", "ml", "eval",
                                [versioned(MD5_DAY14)], [])
        dep.post(*self.writes, read)
        run = dep.get("/api/v1/jobs/runs/%s" % read["run"]["runId"])
        v14 = dep.get("/api/v1/namespaces/%s/datasets/%s/versions/%s" % (enc(DATA[0]), enc(DATA[1]), MD5_DAY14))
        self.assertEqual(run["inputDatasetVersions"][0]["datasetVersionId"]["version"], v14["version"])


class InputVersionByTimeTest(h.HttpAsserts, unittest.TestCase):
    """Writes and reads of one table crossing in time, sent in four orders, each into its own database."""

    T0 = datetime.datetime(2024, 5, 1, 0, 0, 0, tzinfo=datetime.timezone.utc)
    D = ("warehouse", "orders")

    @classmethod
    def setUpClass(cls):
        cls.ids = {k: str(uuid.uuid4()) for k in ("w1", "before", "after", "w2", "late", "self", "final")}

    def ev(self, key, event_type, minute, job, inputs=(), outputs=()):
        return h.make_run_event(self.ids[key], event_type, self.T0 + datetime.timedelta(minutes=minute), "tv", job,
                                list(inputs), list(outputs))

    def events(self):
        d = {"namespace": self.D[0], "name": self.D[1]}
        with_schema = lambda *fields: dict(d, facets={"schema": dict(FACET, fields=[
            {"name": f, "type": "STRING"} for f in fields])})
        return {
            "writes": [self.ev("w1", "START", 10, "load", [], [with_schema("a")]),
                       self.ev("w1", "COMPLETE", 20, "load", [], [with_schema("a")]),
                       self.ev("w2", "START", 35, "load", [], [with_schema("a", "b")]),
                       self.ev("w2", "COMPLETE", 40, "load", [], [with_schema("a", "b")]),
                       # appends to the table: reads it at completion, so not what it wrote itself
                       self.ev("self", "COMPLETE", 50, "append", [d], [with_schema("a", "b")])],
            "reads": [self.ev("before", "COMPLETE", 15, "report", [d], []),   # during w1, before it completed
                      self.ev("after", "START", 25, "report", [d], []),
                      self.ev("after", "COMPLETE", 26, "report", [], []),
                      self.ev("late", "START", 45, "report", [d], []),
                      self.ev("final", "START", 55, "report", [d], [])],
        }

    def read_version(self, dep, key):
        ins = dep.get("/api/v1/jobs/runs/%s" % self.ids[key])["inputDatasetVersions"]
        self.assertEqual(len(ins), 1, key)
        return ins[0]["datasetVersionId"]["version"]

    def written_version(self, dep, key):
        outs = dep.get("/api/v1/jobs/runs/%s" % self.ids[key])["outputDatasetVersions"]
        self.assertEqual(len(outs), 1, key)
        return outs[0]["datasetVersionId"]["version"]

    def check(self, dep):
        first_read = h.uuid_v3_of("lineaged:first-read:%s:%s" % self.D)
        w1, w2, own = (self.written_version(dep, k) for k in ("w1", "w2", "self"))
        self.assertEqual(len({w1, w2, own, first_read}), 4)
        got = {k: self.read_version(dep, k) for k in ("before", "after", "late", "self", "final")}
        self.assertEqual(got, {"before": first_read, "after": w1, "late": w2, "self": w2, "final": own})
        dataset = dep.get("/api/v1/namespaces/%s/datasets/%s" % (enc(self.D[0]), enc(self.D[1])))
        self.assertEqual(dataset["currentVersion"], own)
        before = dep.get("/api/v1/namespaces/%s/datasets/%s/versions/%s" % (enc(self.D[0]), enc(self.D[1]), first_read))
        self.assertIsNone(before["createdByRun"])
        self.assertEqual(before["createdAt"], "2024-05-01T00:15:00.000000Z")  # the earliest read
        up = dep.get("/api/v1/runlineage/upstream?runId=%s" % self.ids["after"])
        self.assertEqual([r["run"]["id"] for r in up["runs"]], [self.ids["after"], self.ids["w1"]])
        up = dep.get("/api/v1/runlineage/upstream?runId=%s" % self.ids["before"])
        self.assertEqual([r["run"]["id"] for r in up["runs"]], [self.ids["before"]])
        return got

    def test_an_input_reads_the_version_written_before_it_in_any_order(self):
        evs = self.events()
        orders = {
            "time order": sorted(evs["writes"] + evs["reads"], key=lambda e: e["eventTime"]),
            "reads first": evs["reads"] + evs["writes"],
            "writes first": evs["writes"] + evs["reads"],
            "reversed": list(reversed(sorted(evs["writes"] + evs["reads"], key=lambda e: e["eventTime"]))),
        }
        answers = []
        for name, events in orders.items():
            with self.subTest(order=name):
                dep = Deployment(self, "tv_" + name.replace(" ", "_"))
                dep.post(*events)
                answers.append(self.check(dep))
        self.assertEqual(len({tuple(sorted(a.items())) for a in answers}), 1, answers)


class LatestRunOneSourceTest(GraphAsserts, h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.run_id = str(uuid.uuid4())
        src = {"namespace": "feast", "name": "driver_stats",
               "inputFacets": {"dataQualityMetrics": {"_producer": "https://feast.dev", "_schemaURL": "https://x",
                                                      "rowCount": 1200, "columnMetrics": {}}}}
        out = {"namespace": "feast", "name": "driver_hourly_stats",
               "outputFacets": {"outputStatistics": {"_producer": "https://feast.dev", "_schemaURL": "https://x",
                                                     "rowCount": 1200}}}
        post_all(cls.server, [h.make_run_event(cls.run_id, "COMPLETE", "2024-02-01T00:00:00Z", "feast",
                                               "materialize", [src], [out])])

    def test_latest_run_in_node_data_is_the_run(self):
        run = self.get_json("/api/v1/jobs/runs/%s" % self.run_id)
        self.assertEqual(run["inputDatasetVersions"][0]["facets"]["dataQualityMetrics"]["rowCount"], 1200)
        job = self.get_json("/api/v1/namespaces/feast/jobs/materialize")
        self.assertEqual(job["latestRun"], run)
        for _ in range(2):  # from Postgres, then from the node cache
            body = self.lineage(job_id("feast", "materialize"))
            by_id = {n["id"]: n for n in body["graph"]}
            self.assertEqual(by_id[job_id("feast", "materialize")]["data"]["latestRun"], run)


if __name__ == "__main__":
    unittest.main()
