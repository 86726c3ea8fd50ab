"""clients/python/lineaged_client.py against a real server holding the ML pipeline (ml_pipeline.py): each
method answers its question, and errors arrive as LineagedError with the status, message and, for an
ambiguous name, the candidates."""

import os
import sys

import harness as h
import ml_pipeline as mp
from test_lineage_graph import post_all

sys.path.insert(0, os.path.join(h.REPO_ROOT, "clients", "python"))
from lineaged_client import LineagedClient, LineagedError  # noqa: E402


class PythonClientTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = mp.Pipeline()
        post_all(cls.server, cls.p.events())
        # a second dataset called loan_approval_model: the name alone is ambiguous until it is deleted
        post_all(cls.server, [h.make_run_event(None, "COMPLETE", "2025-03-03T00:00:00Z", "staging", "copy_model",
                                               [(mp.REG, "loan_approval_model")],
                                               [("staging", "loan_approval_model")])])
        cls.c = LineagedClient("http://127.0.0.1:%d" % cls.server.port)

    def test_list_models(self):
        self.assertEqual([(d["namespace"], d["name"]) for d in self.c.list_models(sub_type="REGISTERED")["datasets"]],
                         [(mp.REG, "loan_approval_model")])
        self.assertEqual(self.c.list_models()["totalCount"], 3)
        self.assertEqual([d["name"] for d in self.c.list_datasets(types=["FEATURE_VIEW", "FEATURE_SERVICE"])["datasets"]],
                         ["customer_features", "loan_service"])

    def test_get_lineage_for_model(self):
        with self.assertRaises(LineagedError) as cm:
            self.c.get_lineage_for_model("loan_approval_model")
        self.assertEqual(cm.exception.status, 409)
        self.assertEqual({x["nodeId"] for x in cm.exception.candidates},
                         {"dataset:%s:loan_approval_model" % mp.REG, "dataset:staging:loan_approval_model"})
        body = self.c.get_lineage_for_model("loan_approval_model", namespace=mp.REG, depth=1)
        ids = {n["id"] for n in body["graph"]}
        self.assertIn("job:%s:loan_pipeline.register" % mp.PIPE, ids)
        self.assertIn("job:staging:copy_model", ids)
        # a unique name needs no namespace
        fv = self.c.get_lineage_for_model("customer_features", depth=1, types=["FEATURE_VIEW", "JOB"])
        self.assertEqual({n["data"]["datasetType"] for n in fv["graph"] if n["type"] == "DATASET"}, {"FEATURE_VIEW"})

    def test_get_impact_analysis(self):
        body = self.c.get_impact_analysis("customer_data", mp.RAW, types=["MODEL", "DEPLOYMENT"])
        kinds = {(r["name"], r["datasetType"], r["subType"]) for r in body["impacted"]}
        self.assertEqual(kinds, {("runs/%s/model" % mp.T1_MLFLOW, "MODEL", "LOGGED"),
                                 ("runs/%s/model" % mp.T2_MLFLOW, "MODEL", "LOGGED"),
                                 ("loan_approval_model", "MODEL", "REGISTERED"),
                                 ("loan_approval_endpoint", "DEPLOYMENT", None)})
        csv_text = self.c.get_impact_analysis("customer_data", mp.RAW, types="DEPLOYMENT", format="csv")
        lines = csv_text.split("\r\n")
        self.assertTrue(lines[0].startswith("depth,type,namespace,name,nodeId,path,datasetType"), lines[0])
        self.assertEqual(len(lines), 3)  # header, the endpoint, the final CRLF
        self.assertIn("loan_approval_endpoint,", lines[1])
        # by a job's name alone
        job = self.c.get_impact_analysis("ingest_customer_data", types="DEPLOYMENT")
        self.assertEqual([r["name"] for r in job["impacted"]], ["loan_approval_endpoint"])

    def test_search_datasets(self):
        body = self.c.search_datasets("credit_score")
        self.assertEqual({r["matchedIn"] for r in body["results"]}, {"fields"})
        self.assertIn(("customer_features", "FEATURE_VIEW"), {(r["name"], r["datasetType"]) for r in body["results"]})
        self.assertEqual(self.c.search_datasets("credit_score", places=["name"])["results"], [])
        owners = self.c.search_datasets("ml-platform", places="owners")["results"]
        self.assertEqual([(r["name"], r["matched"]) for r in owners], [("loan_approval_model", "team:ml-platform")])

    def test_provenance(self):
        body = self.c.provenance(mp.REG, "loan_approval_model", "2", depth=2)
        self.assertEqual([r["job"]["name"] for r in body["runs"]], ["loan_pipeline.register", "loan_pipeline.train"])
        params = {p["key"]: p["value"] for p in body["runs"][1]["facets"]["executionParameters"]["parameters"]}
        self.assertEqual(params["max_depth"], "8")
        with self.assertRaises(LineagedError) as cm:
            self.c.provenance(mp.REG, "loan_approval_model", "99")
        self.assertEqual((cm.exception.status, cm.exception.message), (404, "Version '99' not found."))

    def test_run_dag(self):
        body = self.c.run_dag(self.p.day2.pipeline)
        self.assertEqual([c["job"]["name"] for c in body["children"]],
                         ["loan_pipeline.train", "loan_pipeline.validate", "loan_pipeline.register"])
        self.assertEqual(len(body["edges"]), 2)
        # the MLflow run id works as the producer sent it
        self.assertEqual(self.c.run_dag(mp.T2_MLFLOW)["run"]["id"], mp.run_uuid(mp.T2_MLFLOW))

    def test_runs(self):
        failed = self.c.runs(state="FAILED", reads=self.c.dataset_id(mp.REG, "loan_approval_model"))
        self.assertEqual([r["id"] for r in failed["runs"]], [self.p.day2.deploy])
        self.assertEqual(self.c.runs(state=["FAILED"], reads=self.c.dataset_id(mp.REG, "loan_approval_model", "1"))["runs"],
                         [])
        trains = self.c.runs(job="loan_pipeline.train", since="2025-03-02T00:00:00Z")
        self.assertEqual([r["id"] for r in trains["runs"]], [mp.run_uuid(mp.T2_MLFLOW)])
        with self.assertRaises(LineagedError) as cm:
            self.c.runs(state="DONE")
        self.assertEqual(cm.exception.status, 400)
        self.assertIn("state must be one of", cm.exception.message)
        with self.assertRaises(LineagedError) as cm:
            self.c.runs(limit=1001)
        self.assertEqual((cm.exception.status, cm.exception.message),
                         (400, "query param limit must be less than or equal to 1000"))


if __name__ == "__main__":
    import unittest
    unittest.main()
