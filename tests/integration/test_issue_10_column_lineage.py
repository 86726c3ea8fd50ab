"""Issue 10, items 1-5: column lineage as Marquez keeps and walks it.

1. A columnLineage input field whose dataset is not among the event's inputs is dropped and never creates
   a dataset: the Marquez seed gives the 13 datasets of food_delivery that Marquez lists.
2. nodeId=job:<ns>:<job> answers with the column lineage of the job's outputs (Marquez's
   ColumnLineageService.testGetLineageByJob: a job's answer equals its output dataset's).
3. A dataset or field that exists without column edges answers 200 {"graph":[]}
   (testLineageWhenLineageEmpty); one that does not exist, 404 saying what is missing.
4. withDownstream reaches, at each depth, what Marquez's ColumnLineageDao.getLineage reaches: its
   recursive query is re-implemented below (marquez_rows) and compared depth by depth on the seed.
5. transformationDescription/Type come from the output column, or from the input's `transformations`
   list (OpenLineage 1-2-0), so feature algorithms (bucketing, PCA) reach every input field's data.
"""

import datetime
import unittest
import uuid

import harness as h
from harness import ds_id, enc, field_id, job_id
from test_lineage_graph import GraphAsserts, post_all

NS = "food_delivery"


def stored_edges(events):
    """The column edges the seed stores: (input field id, output field id), input among the event's inputs."""
    edges = set()
    for ev in events:
        ins = {(d["namespace"], d["name"]) for d in ev.get("inputs") or []}
        for out in ev.get("outputs") or []:
            cl = (out.get("facets") or {}).get("columnLineage")
            for f, spec in ((cl or {}).get("fields") or {}).items():
                for i in spec.get("inputFields") or []:
                    if (i["namespace"], i["name"]) in ins:
                        edges.add((field_id(i["namespace"], i["name"], i["field"]),
                                   field_id(out["namespace"], out["name"], f)))
    return edges


def marquez_rows(edges, starts, depth, downstream):
    """Marquez's column_lineage_recursive: rows (edges) from the edges into the start fields at depth 0;
    from row (in -> out): the rows into `in`, and with downstream the rows out of `out`, each one deeper,
    while depth < depth - 1. The same row reached again adds nothing new to the answer, so each row is
    kept once, at its first depth."""
    seen = {e: 0 for e in edges if e[1] in starts}
    frontier = list(seen)
    d = 0
    while frontier and d < depth - 1:
        nxt = []
        for (i, o) in frontier:
            for e in edges:
                if e not in seen and (e[1] == i or (downstream and e[0] == o)):
                    seen[e] = d + 1
                    nxt.append(e)
        frontier = nxt
        d += 1
    return set(seen)


class SeedColumnLineageTest(GraphAsserts, h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seed = h.marquez_seed_events(h.now_utc().replace(microsecond=0) - datetime.timedelta(hours=1))
        r = cls.server.post("/api/v1/lineage/batch", h.json.dumps(cls.seed).encode())
        if r.status != 200 or r.json()["summary"]["failed"] != 0:
            raise AssertionError("seed: %r" % r)
        cls.edges = stored_edges(cls.seed)

    def answer(self, node, **params):
        body = self.column_lineage(node, **params)
        ids, edges, by_id = self.check_graph(body, node)
        return ids, edges, by_id

    # 1 ------------------------------------------------------------------------------------------------
    def test_seed_gives_marquez_13_datasets(self):
        body = self.get_json("/api/v1/namespaces/%s/datasets?limit=100" % NS)
        self.assertEqual(body["totalCount"], 13)
        names = {d["name"] for d in body["datasets"]}
        self.assertNotIn("public.menu_item_id", names)
        self.assertEqual(h.sql_count(self.db, "FROM datasets"), 13)
        counts = self.get_json("/api/v1/stats/datasets?period=DAY")
        self.assertEqual(counts[-1]["count"], 13)
        self.assertEqual(self.get_json("/api/v1/search?q=menu_item_id")["totalCount"], 0)
        self.assertJsonError(self.server.get("/api/v1/namespaces/%s/datasets/public.menu_item_id" % NS), 404)

    def test_stored_column_edges_are_the_inputs_edges_only(self):
        rows = h.sql_json(self.db, "SELECT o.namespace AS ons, o.name AS oname, c.output_field, i.namespace AS ins,"
                                   " i.name AS iname, c.input_field FROM column_lineage c"
                                   " JOIN datasets o ON o.id = c.output_dataset_id"
                                   " JOIN datasets i ON i.id = c.input_dataset_id")
        got = {(field_id(r["ins"], r["iname"], r["input_field"]), field_id(r["ons"], r["oname"], r["output_field"]))
               for r in rows}
        self.assertEqual(got, self.edges)
        self.assertNotIn(field_id(NS, "public.delivery_7_days", "category_id"), {o for _, o in got})

    # 2 ------------------------------------------------------------------------------------------------
    def test_job_answers_as_its_output_dataset(self):
        for job, out in (("etl_orders_7_days", "public.orders_7_days"), ("etl_delivery_7_days", "public.delivery_7_days")):
            for params in ({}, {"withDownstream": "true"}, {"depth": "20", "withDownstream": "False"}):
                with self.subTest(job=job, params=params):
                    by_job = self.column_lineage(job_id(NS, job), **params)
                    self.assertEqual(by_job, self.column_lineage(ds_id(NS, out), **params))
                    self.assertTrue(by_job["graph"])
        # a job that writes two datasets: both
        ids, edges, _ = self.answer(job_id(NS, "delivery_times_7_days"))
        outs = {o.split(":")[2] for _, o in edges}
        self.assertIn("public.top_delivery_times", outs)
        self.assertIn("public.discounts", outs)
        self.assertEqual(ids, {n for e in marquez_rows(self.edges, {
            field_id(NS, d, f) for d in ("public.top_delivery_times", "public.discounts")
            for f in ("order_id", "order_placed_on", "order_delivered_on", "order_delivery_time", "customer_email",
                      "restaurant_id", "driver_id", "amount_off")}, 20, False) for n in e})
        # a job without column lineage: an empty graph
        self.assertEqual(self.column_lineage(job_id(NS, "etl_menus")), {"graph": []})
        self.assertJsonError(self.server.get("/api/v1/column-lineage?nodeId=%s" % enc(job_id(NS, "nope"))), 404)

    # 3 ------------------------------------------------------------------------------------------------
    def test_existing_node_without_column_edges_is_an_empty_graph(self):
        for node in (ds_id(NS, "public.menus"),                                 # only feeds others
                     field_id(NS, "public.menus", "id"),
                     field_id(NS, "public.delivery_7_days", "category_id"),   # its only input was dropped
                     field_id(NS, "public.customers", "phone")):               # no lineage at all
            with self.subTest(node=node):
                self.assertEqual(self.column_lineage(node), {"graph": []})
        for node, what in ((ds_id(NS, "public.nope"), 'no dataset "public.nope"'),
                           (field_id(NS, "public.menus", "nope"), 'no field "nope" in dataset "public.menus"'),
                           (field_id(NS, "public.nope", "id"), 'no dataset "public.nope"')):
            with self.subTest(node=node):
                self.assertJsonError(self.server.get("/api/v1/column-lineage?nodeId=%s" % enc(node)), 404, what)

    # 4 ------------------------------------------------------------------------------------------------
    def test_with_downstream_reaches_what_marquez_reaches_at_each_depth(self):
        starts = [field_id(NS, "public.orders_7_days", f) for f in ("order_id", "restaurant_id", "menu_id")]
        starts.append(field_id(NS, "public.delivery_7_days", "customer_email"))
        for start in starts:
            for depth in range(1, 7):
                for down in (False, True):
                    with self.subTest(start=start, depth=depth, downstream=down):
                        rows = marquez_rows(self.edges, {start}, depth, down)
                        want = {n for e in rows for n in e}
                        ids, edges, by_id = self.answer(start, depth=depth, withDownstream=str(down).lower())
                        self.assertEqual(ids, want)
                        self.assertEqual(edges, rows)
                        for n in ids:  # each field's inputs are its edges in this answer
                            got = {field_id(i["namespace"], i["dataset"], i["field"])
                                   for i in by_id[n]["data"]["inputFields"]}
                            self.assertEqual(got, {i for i, o in rows if o == n}, n)
        # the other inputs of a downstream field come in behind the row that leaves it: delivery_7_days.
        # order_id has two inputs; from orders_7_days.order_id the second one (order_status.order_id)
        # comes only with the rows out of delivery_7_days.order_id, two rows further
        start = field_id(NS, "public.orders_7_days", "order_id")
        other = field_id(NS, "public.order_status", "order_id")
        self.assertNotIn(other, self.answer(start, depth=2, withDownstream="true")[0])
        self.assertNotIn(other, self.answer(start, depth=3, withDownstream="true")[0])
        self.assertIn(other, self.answer(start, depth=4, withDownstream="true")[0])

    def test_source_field_leads_downstream(self):
        """Marquez answers nothing for a field without inputs; lineaged takes its rows out at depth 1."""
        start = field_id(NS, "public.orders", "id")
        ids, edges, _ = self.answer(start, depth=2, withDownstream="true")
        self.assertEqual(edges, {(start, field_id(NS, "public.orders_7_days", "order_id"))})
        self.assertEqual(self.column_lineage(start, depth=1, withDownstream="true"), {"graph": []})


class TransformationsTest(GraphAsserts, h.ServerTestCase):
    """Feature algorithms published from model metadata travel in `transformations`."""

    def test_descriptions_from_transformations_and_legacy_members(self):
        raw = {"namespace": "ml", "name": "raw_trips",
               "facets": {"schema": {"_producer": "p", "_schemaURL": "s",
                                     "fields": [{"name": "age"}, {"name": "x"}, {"name": "y"}]}}}
        tr = {"_producer": "https://mlflow.org", "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/x.json",
              "fields": {
                  "age_bucket": {"inputFields": [{"namespace": "ml", "name": "raw_trips", "field": "age",
                                                  "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION",
                                                                       "description": "bucketing by decade",
                                                                       "masking": False}]}]},
                  "pc1": {"transformationDescription": "PCA, 1st component", "transformationType": "TRANSFORMED",
                          "inputFields": [{"namespace": "ml", "name": "raw_trips", "field": "x"},
                                          {"namespace": "ml", "name": "raw_trips", "field": "y"}]},
                  "noise": {"inputFields": [{"namespace": "ml", "name": "other", "field": "z"}]}}}
        out = {"namespace": "ml", "name": "features", "facets": {"columnLineage": tr}}
        ev = h.make_run_event(str(uuid.uuid4()), "COMPLETE", "2024-07-01T00:00:00Z", "ml", "featurize", [raw], [out])
        post_all(self.server, [ev])
        body = self.column_lineage(ds_id("ml", "features"))
        by_id = {n["id"]: n for n in body["graph"]}
        bucket = by_id[field_id("ml", "features", "age_bucket")]["data"]
        self.assertEqual([(i["field"], i["transformationDescription"], i["transformationType"])
                          for i in bucket["inputFields"]], [("age", "bucketing by decade", "TRANSFORMATION")])
        self.assertEqual((bucket["transformationDescription"], bucket["transformationType"]),
                         ("bucketing by decade", "TRANSFORMATION"))
        pc1 = by_id[field_id("ml", "features", "pc1")]["data"]
        self.assertEqual([(i["field"], i["transformationDescription"], i["transformationType"])
                          for i in pc1["inputFields"]], [("x", "PCA, 1st component", "TRANSFORMED"),
                                                         ("y", "PCA, 1st component", "TRANSFORMED")])
        self.assertNotIn(field_id("ml", "features", "noise"), by_id)  # ml:other is no input of the run
        self.assertEqual(h.sql_count(self.db, "FROM datasets WHERE name = 'other'"), 0)
        ds = self.get_json("/api/v1/namespaces/ml/datasets/features")
        cl = {c["name"]: c["inputFields"] for c in ds["columnLineage"]}
        self.assertEqual(cl["age_bucket"][0]["transformationDescription"], "bucketing by decade")
        self.assertEqual(set(cl), {"age_bucket", "pc1"})
        self.assertEqual(ds["facets"]["columnLineage"]["fields"]["age_bucket"]["inputFields"][0]["transformations"],
                         tr["fields"]["age_bucket"]["inputFields"][0]["transformations"])


if __name__ == "__main__":
    unittest.main()
