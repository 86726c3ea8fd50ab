"""Issue 10, items 10-11: versions as producers name them, and one answer for a run everywhere.

10. DVC-shaped data versions (md5 content hashes in the `version` facet): a backfill that declares it
    read the day-14 data is linked to the day-14 version, not to the dataset's current (day-3) one,
    whichever of the writes and the read arrives first; the named version is kept with the version
    row, looked up by its hash and served as the version facet.
11. /lineage node data shows the job's latestRun exactly as /jobs/runs/{id} and /jobs/{job} do (input
    facets included).
"""

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
