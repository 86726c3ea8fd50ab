"""Issue 10, items 6-7: every name and every run id a producer sends can be addressed.

6. Node ids split as Marquez's NodeId does (a ':' before a digit is a separator when the id has no
   other), and an id Marquez cannot split is resolved against what exists.
7. A run id that is not a UUID (MLflow writes 32 hex digits, Airflow strings) finds its run on every
   route that takes a run id, as ingest stored it.
"""

import unittest
import uuid

import harness as h
from harness import ds_id, enc, field_id, job_id
from test_lineage_graph import GraphAsserts, post_all

WH = "warehouse"
PG = "postgres://h:5432/db"


def facet(**kw):
    return dict({"_producer": "https://lineaged.test", "_schemaURL": "https://x"}, **kw)


class NodeIdTest(GraphAsserts, h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        raw = {"namespace": WH, "name": "raw_orders", "facets": {"schema": facet(fields=[{"name": "amount"}])}}
        seven = {"namespace": WH, "name": "7day_orders",
                 "facets": {"schema": facet(fields=[{"name": "3d_total"}]),
                            "columnLineage": facet(fields={"3d_total": {"inputFields": [
                                {"namespace": WH, "name": "raw_orders", "field": "amount"}]}})}}
        cls.run_id = str(uuid.uuid4())
        post_all(cls.server, [
            h.make_run_event(cls.run_id, "COMPLETE", "2024-03-01T00:00:00Z", "airflow", "2024_backfill", [raw],
                             [seven, (PG, "7day_orders")]),
            # two datasets whose ids read the same: dataset:a:b:c
            h.make_run_event(None, "COMPLETE", "2024-03-01T00:01:00Z", "x", "pair", [("a", "b:c")], [("a:b", "c")]),
        ])

    def test_names_after_a_colon_may_start_with_a_digit(self):
        body = self.lineage(ds_id(WH, "7day_orders"))
        ids, _, by_id = self.check_graph(body)
        self.assertEqual(ids, {ds_id(WH, "raw_orders"), job_id("airflow", "2024_backfill"), ds_id(WH, "7day_orders"),
                               ds_id(PG, "7day_orders")})
        self.assertEqual(by_id[ds_id(WH, "7day_orders")]["data"]["name"], "7day_orders")
        self.assertEqual(self.lineage(job_id("airflow", "2024_backfill")), body)
        col = self.column_lineage(field_id(WH, "7day_orders", "3d_total"))
        _, edges, _ = self.check_graph(col)
        self.assertEqual(edges, {(field_id(WH, "raw_orders", "amount"), field_id(WH, "7day_orders", "3d_total"))})
        impact = self.impact(ds_id(WH, "raw_orders"))
        self.assertIn(ds_id(WH, "7day_orders"), {r["nodeId"] for r in impact["impacted"]})

    def test_an_id_marquez_cannot_split_resolves_to_what_exists(self):
        node = ds_id(PG, "7day_orders")  # every ':' is before '//' or a digit
        ids, _, by_id = self.check_graph(self.lineage(node))
        self.assertIn(node, ids)
        self.assertEqual((by_id[node]["data"]["namespace"], by_id[node]["data"]["name"]), (PG, "7day_orders"))
        self.assertEqual(self.impact(node, direction="upstream")["impacted"][0]["nodeId"],
                         job_id("airflow", "2024_backfill"))
        self.assertJsonError(self.server.get("/api/v1/lineage?nodeId=%s" % enc(ds_id(PG, "8day_orders"))), 404)

    def test_version_suffix_on_a_digit_name(self):
        versions = self.get_json("/api/v1/namespaces/%s/datasets/7day_orders/versions" % WH)["versions"]
        node = "%s#%s" % (ds_id(WH, "7day_orders"), versions[0]["version"])
        self.check_graph(self.lineage(node))
        self.check_graph(self.column_lineage(node))

    def test_when_two_splits_exist_marquez_split_wins(self):
        # (a, b:c) is read by x:pair, which writes (a:b, c): both are "dataset:a:b:c"
        rows = self.impact("dataset:a:b:c", direction="downstream")["impacted"]
        self.assertEqual([(r["type"], r["namespace"], r["name"]) for r in rows],
                         [("JOB", "x", "pair"), ("DATASET", "a:b", "c")])  # started at Marquez's a | b:c


class RunIdTest(GraphAsserts, h.ServerTestCase):
    """MLflow-shaped (32 hex digits) and Airflow-shaped run ids on every route that takes a run id."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mlflow = uuid.uuid4().hex
        cls.airflow = "scheduled__2024-01-01T00:00:00+00:00"
        post_all(cls.server, [
            h.make_run_event(cls.mlflow, "COMPLETE", "2024-04-01T00:00:00Z", "mlflow", "train_model",
                             [("s3://lake", "features")], [("mlflow", "models/churn/1")],
                             run_facets={"mlflow_run": facet(experimentId="7")}),
            h.make_run_event(cls.airflow, "COMPLETE", "2024-04-01T01:00:00Z", "airflow", "dag.task",
                             [("mlflow", "models/churn/1")], []),
        ])

    def test_producer_run_ids_work_everywhere(self):
        for rid in (self.mlflow, self.airflow):
            with self.subTest(run=rid):
                stored = h.run_uuid_of(rid)
                run = self.get_json("/api/v1/jobs/runs/%s" % enc(rid))
                self.assertEqual(run["id"], stored)
                facets = self.get_json("/api/v1/jobs/runs/%s/facets?type=run" % enc(rid))
                self.assertEqual(facets["runId"], stored)
                up = self.get_json("/api/v1/runlineage/upstream?runId=%s" % enc(rid))
                self.assertEqual(up["runs"][0]["run"]["id"], stored)
        # and the lineage routes pinned to the producer's run id
        pinned = self.lineage(job_id("mlflow", "train_model"), runId=self.mlflow)
        self.assertIn(ds_id("mlflow", "models/churn/1"), {n["id"] for n in pinned["graph"]})
        self.assertEqual(self.get_json("/api/v1/runlineage/upstream?runId=%s" % enc(self.airflow))["runs"][1]["run"]["id"],
                         h.run_uuid_of(self.mlflow))
        self.assertJsonError(self.server.get("/api/v1/jobs/runs/%s" % uuid.uuid4().hex), 404)


if __name__ == "__main__":
    unittest.main()
