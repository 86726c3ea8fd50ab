"""The graph-backed read routes: GET /api/v1/lineage, /column-lineage, /impact and /runlineage/upstream.

Every expectation is computed here from the events themselves (the Marquez seed template, the Spark
column-lineage fixtures, events built by hand), never read back from the server: node id sets, edges,
depths and paths are compared exactly. Marquez's own undirected walk (reference/marquez-api.md section
3) is re-implemented in Python so the default (no direction=) answer can be checked against it.
"""

import csv
import datetime
import io
import json
import os
import time
import uuid

import harness as h
from harness import ds_id, enc, field_id, job_id, wait_for

T0 = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)

JOB_DATA_KEYS = ["id", "type", "name", "simpleName", "parentJobName", "parentJobUuid", "currentRunUuid",
                 "createdAt", "updatedAt", "namespace", "inputs", "outputs", "location", "description",
                 "latestRun"]
IMPACT_ROW_KEYS = ["nodeId", "type", "namespace", "name", "depth", "path", "datasetType", "subType", "version",
                   "producerVersion", "owners", "description"]
IMPACT_CSV_COLUMNS = ["depth", "type", "namespace", "name", "nodeId", "path", "datasetType", "subType", "version",
                      "producerVersion", "owners", "description"]
DATASET_DATA_KEYS = ["id", "type", "name", "physicalName", "createdAt", "updatedAt", "namespace", "sourceName",
                     "fields", "tags", "lastModifiedAt", "description", "lastLifecycleState", "datasetType",
                     "subType"]
FIELD_DATA_KEYS = ["namespace", "dataset", "datasetVersion", "field", "fieldType", "transformationDescription",
                   "transformationType", "inputFields"]
INPUT_FIELD_KEYS = ["namespace", "dataset", "datasetVersion", "field", "transformationDescription",
                    "transformationType"]


def sec(n):
    return T0 + datetime.timedelta(seconds=n)


def parse_ts(s):
    return datetime.datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


# --------------------------------------------------------------------------------------------------
# expected graphs, computed in Python

class Expected:
    """Job<->dataset graph of a list of events: inputs -> job -> outputs (cumulative)."""

    def __init__(self, events=()):
        self.edges = set()           # (origin id, destination id)
        self.types = {}              # id -> "JOB" | "DATASET"
        self.job_io = {}             # job id -> set of dataset ids (inputs and outputs)
        for ev in events:
            self.add_event(ev)

    def add_event(self, ev):
        if "job" not in ev or "run" not in ev:
            return
        j = job_id(ev["job"]["namespace"], h.expected_job_name(ev))
        self.types[j] = "JOB"
        self.job_io.setdefault(j, set())
        for d in ev.get("inputs") or []:
            self.add_edge(ds_id(d["namespace"], d["name"]), j)
        for d in ev.get("outputs") or []:
            self.add_edge(j, ds_id(d["namespace"], d["name"]))

    def add_edge(self, o, d):
        self.edges.add((o, d))
        for x in (o, d):
            if x.startswith("dataset:"):
                self.types[x] = "DATASET"
        j, ds = (d, o) if o.startswith("dataset:") else (o, d)
        self.job_io.setdefault(j, set()).add(ds)

    def nodes(self):
        return set(self.types)

    def out_of(self, n):
        return {d for (o, d) in self.edges if o == n}

    def in_of(self, n):
        return {o for (o, d) in self.edges if d == n}

    def walk(self, start, direction, max_edges=None):
        """Directed BFS: node -> distance in edges."""
        dist = {start: 0}
        frontier = [start]
        while frontier:
            nxt = []
            for n in frontier:
                if max_edges is not None and dist[n] >= max_edges:
                    continue
                nbrs = set()
                if direction in ("upstream", "both"):
                    nbrs |= self.in_of(n)
                if direction in ("downstream", "both"):
                    nbrs |= self.out_of(n)
                for m in sorted(nbrs):
                    if m not in dist:
                        dist[m] = dist[n] + 1
                        nxt.append(m)
            frontier = nxt
        return dist

    def directed(self, start, direction, max_edges=None):
        """Nodes of a directed walk; 'both' is the union of the two directed walks (no siblings)."""
        if direction == "both":
            return set(self.walk(start, "upstream", max_edges)) | set(self.walk(start, "downstream", max_edges))
        return set(self.walk(start, direction, max_edges))

    def marquez_jobs(self, start_job, depth):
        """Marquez's LineageDao.getLineage: jobs reachable in <= depth hops, where two jobs are one hop
        apart when their (inputs union outputs) overlap."""
        seen = {start_job}
        layer = {start_job}
        for _ in range(depth):
            io_prev = set().union(*(self.job_io[j] for j in layer)) if layer else set()
            layer = {j for j, io_ in self.job_io.items() if j not in seen and io_ & io_prev}
            seen |= layer
            if not layer:
                break
        return seen

    def marquez_nodes(self, start_job, depth):
        jobs = self.marquez_jobs(start_job, depth)
        return jobs | set().union(*(self.job_io[j] for j in jobs))

    def marquez_start_job(self, dataset):
        """Marquez's getJobFromInputOrOutput for a dataset with a single producer (or consumer)."""
        producers = sorted(self.in_of(dataset))
        if producers:
            return producers[-1] if len(producers) == 1 else None
        consumers = sorted(self.out_of(dataset))
        return consumers[0] if len(consumers) == 1 else None

    def edges_within(self, nodes):
        return {(o, d) for (o, d) in self.edges if o in nodes and d in nodes}


# --------------------------------------------------------------------------------------------------
# assertions on answers

class GraphAsserts:
    def get_json(self, path, server=None):
        r = (server or self.server).get(path)
        self.assertStatus(r, 200, path)
        ct = r.headers.get("content-type", "")
        self.assertTrue(ct.startswith("application/json"), "%s: content-type %r" % (path, ct))
        return r.json()

    def lineage(self, node, server=None, **params):
        qs = "nodeId=%s" % enc(node) + "".join("&%s=%s" % (k, enc(str(v))) for k, v in params.items())
        return self.get_json("/api/v1/lineage?" + qs, server)

    def impact(self, node, server=None, **params):
        qs = "nodeId=%s" % enc(node) + "".join("&%s=%s" % (k, enc(str(v))) for k, v in params.items())
        return self.get_json("/api/v1/impact?" + qs, server)

    def column_lineage(self, node, server=None, **params):
        qs = "nodeId=%s" % enc(node) + "".join("&%s=%s" % (k, enc(str(v))) for k, v in params.items())
        return self.get_json("/api/v1/column-lineage?" + qs, server)

    def check_graph(self, body, what=""):
        """Structural checks every graph answer must pass; returns (node ids, edges, {id: node})."""
        self.assertIsInstance(body, dict, what)
        self.assertIn("graph", body, what)
        nodes = body["graph"]
        ids = [n["id"] for n in nodes]
        self.assertEqual(ids, sorted(ids), "%s: nodes not sorted by id" % what)
        self.assertEqual(len(ids), len(set(ids)), "%s: duplicate node ids" % what)
        idset = set(ids)
        outs, ins = set(), set()
        for n in nodes:
            self.assertEqual(list(n.keys()), ["id", "type", "data", "inEdges", "outEdges"], what)
            for key, bag, own in (("inEdges", ins, "destination"), ("outEdges", outs, "origin")):
                pairs = [(e["origin"], e["destination"]) for e in n[key]]
                for e in n[key]:
                    self.assertEqual(list(e.keys()), ["origin", "destination"], what)
                self.assertEqual(pairs, sorted(pairs), "%s: %s of %s not sorted" % (what, key, n["id"]))
                self.assertEqual(len(pairs), len(set(pairs)), "%s: duplicate %s in %s" % (what, key, n["id"]))
                for p in pairs:
                    self.assertEqual(p[0 if own == "origin" else 1], n["id"],
                                     "%s: %s %r of node %s does not touch it" % (what, key, p, n["id"]))
                    self.assertIn(p[1 if own == "origin" else 0], idset,
                                  "%s: edge %r leads outside the answer" % (what, p))
                bag.update(pairs)
        self.assertEqual(ins, outs, "%s: inEdges and outEdges are not mirror images" % what)
        return idset, outs, {n["id"]: n for n in nodes}

    def assertGraph(self, body, nodes, edges, what=""):
        idset, got_edges, _ = self.check_graph(body, what)
        self.assertEqual(idset, set(nodes), "%s: node ids (missing %s, extra %s)" % (
            what, sorted(set(nodes) - idset), sorted(idset - set(nodes))))
        self.assertEqual(got_edges, set(edges), "%s: edges (missing %s, extra %s)" % (
            what, sorted(set(edges) - got_edges), sorted(got_edges - set(edges))))
        for n in body["graph"]:
            self.assertEqual(n["type"], "JOB" if n["id"].startswith("job:") else "DATASET", n["id"])


def post_all(server, events):
    for ev in events:
        r = server.post_json(ev)
        if r.status != 201:
            raise AssertionError("POST %s -> %r" % (json.dumps(ev)[:300], r))


# --------------------------------------------------------------------------------------------------
# 1. the Marquez seed

class SeedLineageTest(GraphAsserts, h.ServerTestCase):
    """/lineage on Marquez's docker/metadata.template.json, expectations computed from the template."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start = h.now_utc().replace(microsecond=0) - datetime.timedelta(hours=1)
        cls.seed = h.marquez_seed_events(cls.start)
        post_all(cls.server, cls.seed)
        cls.x = Expected(cls.seed)

    def test_expected_graph_is_what_the_template_says(self):
        """Guards the Python model itself (so a broken model cannot make every other test vacuous)."""
        x = self.x
        self.assertEqual(len([n for n in x.nodes() if n.startswith("job:")]), 13)
        self.assertEqual(len([n for n in x.nodes() if n.startswith("dataset:")]), 13)
        self.assertIn((ds_id("food_delivery", "public.orders"), job_id("food_delivery", "etl_orders_7_days")),
                      x.edges)
        self.assertEqual(x.job_io[job_id("food_delivery", "email_discounts")],
                         {ds_id("food_delivery", "public.discounts"), ds_id("food_delivery", "public.customers")})

    def test_full_component_from_every_node(self):
        """Default depth 20 reaches the whole (connected) seed graph from any node, with every edge."""
        for n in sorted(self.x.nodes()):
            with self.subTest(node=n):
                self.assertGraph(self.lineage(n, depth=20), self.x.nodes(), self.x.edges, n)

    def test_upstream_of_leaf_dataset_is_transitive_closure(self):
        leaf = ds_id("food_delivery", "public.popular_orders_day_of_week")
        self.assertEqual(self.x.out_of(leaf), set(), "the model says this dataset is a leaf")
        exp = self.x.directed(leaf, "upstream")
        # the closure is not the whole graph: email_discounts (a sibling reader) is not upstream
        self.assertNotIn(job_id("food_delivery", "email_discounts"), exp)
        self.assertIn(job_id("food_delivery", "etl_menus"), exp)
        self.assertGraph(self.lineage(leaf, direction="upstream", depth=20), exp, self.x.edges_within(exp))

    def test_downstream_of_orders_is_transitive_closure(self):
        start = ds_id("food_delivery", "public.orders")
        exp = self.x.directed(start, "downstream")
        self.assertNotIn(job_id("food_delivery", "etl_orders"), exp)      # its producer is upstream
        self.assertNotIn(ds_id("food_delivery", "public.menus"), exp)     # a co-input, not downstream
        self.assertIn(job_id("food_delivery", "email_discounts"), exp)
        self.assertGraph(self.lineage(start, direction="downstream"), exp, self.x.edges_within(exp))

    def test_directed_closures_from_every_node(self):
        for n in sorted(self.x.nodes()):
            for d in ("upstream", "downstream"):
                with self.subTest(node=n, direction=d):
                    exp = self.x.directed(n, d)
                    self.assertGraph(self.lineage(n, direction=d), exp, self.x.edges_within(exp), "%s %s" % (n, d))

    def test_direction_both_is_union_of_upstream_and_downstream(self):
        """direction=both is directed: what is upstream plus what is downstream, never a sibling (another
        reader of an input, another writer of an output) - that is what leaving direction out is for."""
        wrong = []
        for n in sorted(self.x.nodes()):
            exp = self.x.directed(n, "upstream") | self.x.directed(n, "downstream")
            got, _, _ = self.check_graph(self.lineage(n, direction="both"))
            if got != exp:
                wrong.append("%s: extra %s, missing %s" % (n, sorted(got - exp), sorted(exp - got)))
            rows = self.impact(n, direction="both")["impacted"]
            got = {r["nodeId"] for r in rows} | {n}
            if got != exp:
                wrong.append("impact %s: extra %s, missing %s" % (n, sorted(got - exp), sorted(exp - got)))
        if wrong:
            self.fail("%d of %d answers with direction=both are not upstream+downstream:\n%s" % (
                len(wrong), 2 * len(self.x.nodes()), "\n".join(wrong)))
        # concretely: from public.orders_7_days, etl_menus is upstream (menus -> orders -> orders_7_days)
        got, edges, _ = self.check_graph(self.lineage(ds_id("food_delivery", "public.orders_7_days"),
                                                      direction="both"))
        self.assertIn(job_id("food_delivery", "etl_menus"), got)

    def test_direction_is_case_insensitive(self):
        n = ds_id("food_delivery", "public.orders_7_days")
        self.assertEqual(self.lineage(n, direction="UpStream"), self.lineage(n, direction="upstream"))

    def test_directed_depth_counts_job_hops(self):
        """depth=d allows d+1 layers of jobs from a dataset start (the first job is hop 0), d from a job start,
        each with its datasets on the walked side."""
        cases = [(ds_id("food_delivery", "public.popular_orders_day_of_week"), "upstream"),
                 (ds_id("food_delivery", "public.orders"), "downstream"),
                 (job_id("food_delivery", "etl_delivery_7_days"), "upstream"),
                 (job_id("food_delivery", "etl_orders_7_days"), "downstream")]
        for start, d in cases:
            for depth in (0, 1, 2):
                with self.subTest(start=start, direction=d, depth=depth):
                    max_edges = 2 * depth + (2 if start.startswith("dataset:") else 1)
                    exp = self.x.directed(start, d, max_edges)
                    self.assertGraph(self.lineage(start, direction=d, depth=depth), exp, self.x.edges_within(exp))
        # and concretely: one hop up from the leaf stops before etl_delivery_7_days' inputs
        leaf = ds_id("food_delivery", "public.popular_orders_day_of_week")
        got, _, _ = self.check_graph(self.lineage(leaf, direction="upstream", depth=0))
        self.assertEqual(got, {leaf, job_id("food_delivery", "orders_popular_day_of_week"),
                               ds_id("food_delivery", "public.top_delivery_times"),
                               ds_id("food_delivery", "public.customers")})

    def test_marquez_walk_from_jobs(self):
        """No direction=: Marquez's undirected job-hop expansion, for every job at depths 0, 1 and 2."""
        for j in sorted(n for n in self.x.nodes() if n.startswith("job:")):
            for depth in (0, 1, 2):
                with self.subTest(job=j, depth=depth):
                    exp = self.x.marquez_nodes(j, depth)
                    self.assertGraph(self.lineage(j, depth=depth), exp, self.x.edges_within(exp),
                                     "%s depth %d" % (j, depth))

    def test_marquez_walk_includes_siblings(self):
        j = job_id("food_delivery", "orders_popular_day_of_week")
        got, _, _ = self.check_graph(self.lineage(j, depth=1))
        # email_discounts also reads public.customers: a sibling, neither upstream nor downstream
        sib = job_id("food_delivery", "email_discounts")
        self.assertIn(sib, got)
        self.assertNotIn(sib, self.x.directed(j, "upstream") | self.x.directed(j, "downstream"))
        self.assertIn(ds_id("food_delivery", "public.discounts"), got)   # the sibling's other input
        # etl_delivery_7_days is two jobs upstream, but one hop away through the shared public.customers
        self.assertIn(job_id("food_delivery", "etl_delivery_7_days"), got)
        # ... but two hops away is not reached at depth 1
        self.assertNotIn(job_id("food_delivery", "etl_orders_7_days"), got)
        got2, _, _ = self.check_graph(self.lineage(j, depth=2))
        self.assertIn(job_id("food_delivery", "etl_orders_7_days"), got2)

    def test_marquez_walk_from_dataset(self):
        """Marquez resolves a dataset start to ONE job (its producer, getJobFromInputOrOutput) and expands
        depth job hops from that job (reference/marquez-api.md section 3, step 1)."""
        wrong = []
        for name in ("public.orders_7_days", "public.customers", "public.discounts", "public.orders"):
            d = ds_id("food_delivery", name)
            start_job = self.x.marquez_start_job(d)
            self.assertIsNotNone(start_job, d)
            for depth in (0, 1, 2):
                exp = self.x.marquez_nodes(start_job, depth)
                body = self.lineage(d, depth=depth)
                got, edges, _ = self.check_graph(body)
                if got != exp or edges != self.x.edges_within(exp):
                    wrong.append("%s depth=%d (Marquez starts at %s): extra %s, missing %s" % (
                        d, depth, start_job, sorted(got - exp), sorted(exp - got)))
        if wrong:
            self.fail("%d answers differ from Marquez's walk:\n%s" % (len(wrong), "\n".join(wrong)))

    def test_job_data_shape(self):
        body = self.lineage(job_id("food_delivery", "etl_orders_7_days"), depth=0)
        _, _, by_id = self.check_graph(body)
        runs = {ev["job"]["name"]: ev["run"]["runId"] for ev in self.seed}
        docs = {ev["job"]["name"]: ev["job"]["facets"]["documentation"]["description"]
                for ev in self.seed if "facets" in ev["job"]}
        for j in (n for n in by_id if n.startswith("job:")):
            with self.subTest(job=j):
                data = by_id[j]["data"]
                self.assertEqual(list(data.keys()), JOB_DATA_KEYS)
                name = j.split(":", 2)[2]
                self.assertEqual(data["id"], {"namespace": "food_delivery", "name": name})
                self.assertEqual((data["type"], data["name"], data["simpleName"], data["namespace"]),
                                 ("BATCH", name, name, "food_delivery"))
                self.assertIsNone(data["parentJobName"])
                self.assertIsNone(data["parentJobUuid"])
                self.assertEqual(data["currentRunUuid"], runs[name])
                self.assertIsNone(data["location"])
                self.assertEqual(data["description"], docs[name])
                exp_in = sorted(self.x.in_of(j))
                exp_out = sorted(self.x.out_of(j))
                self.assertEqual(sorted(ds_id(x["namespace"], x["name"]) for x in data["inputs"]), exp_in)
                self.assertEqual(sorted(ds_id(x["namespace"], x["name"]) for x in data["outputs"]), exp_out)
                for x in data["inputs"] + data["outputs"]:
                    self.assertEqual(list(x.keys()), ["namespace", "name"])
                self.assertIsInstance(data["latestRun"], dict)
                self.assertEqual(data["latestRun"]["id"], runs[name])
                self.assertEqual(data["latestRun"]["state"], "COMPLETED")
                self.assertEqual(parse_ts(data["createdAt"]), self.start)

    def test_dataset_data_shape(self):
        body = self.lineage(job_id("food_delivery", "etl_delivery_7_days"), depth=0)
        _, _, by_id = self.check_graph(body)
        facets = {}
        for ev in self.seed:
            for d in ev.get("outputs") or []:
                if "schema" in d.get("facets", {}):
                    facets[ds_id(d["namespace"], d["name"])] = d["facets"]
        datasets = [n for n in by_id if n.startswith("dataset:")]
        self.assertEqual(len(datasets), 6)
        for d in datasets:
            with self.subTest(dataset=d):
                data = by_id[d]["data"]
                self.assertEqual(list(data.keys()), DATASET_DATA_KEYS)
                name = d.split(":", 2)[2]
                f = facets[d]
                self.assertEqual(data["id"], {"namespace": "food_delivery", "name": name})
                self.assertEqual((data["type"], data["name"], data["physicalName"], data["namespace"]),
                                 ("DB_TABLE", name, name, "food_delivery"))
                self.assertEqual(data["sourceName"], f["dataSource"]["name"])
                self.assertEqual(data["fields"], [{"name": x["name"], "type": x["type"], "tags": [],
                                                   "description": x["description"]} for x in f["schema"]["fields"]])
                self.assertEqual(data["tags"], [])
                self.assertIsNone(data["lastModifiedAt"])
                self.assertEqual(data["description"], f["documentation"]["description"])
                self.assertIsNone(data["lastLifecycleState"])

    def test_max_nodes_truncates(self):
        start = job_id("food_delivery", "etl_orders_7_days")
        full, _, _ = self.check_graph(self.lineage(start))
        body = self.lineage(start, maxNodes=3)
        got, edges, _ = self.check_graph(body)
        self.assertEqual(len(got), 3, sorted(got))
        self.assertIs(body.get("truncated"), True, "maxNodes=3 must say truncated: %r" % sorted(got))
        self.assertIn(start, got)
        # breadth first: the two others are direct neighbours of the start (it has 5)
        self.assertEqual(len(self.x.in_of(start) | self.x.out_of(start)), 5)
        self.assertTrue(got - {start} <= self.x.in_of(start) | self.x.out_of(start), sorted(got))
        self.assertEqual(edges, self.x.edges_within(got))
        # exactly as many as there are: not truncated; one fewer: truncated
        exact = self.lineage(start, maxNodes=len(full))
        self.assertEqual(len(exact["graph"]), len(full))
        self.assertNotEqual(exact.get("truncated"), True)
        short = self.lineage(start, maxNodes=len(full) - 1)
        self.assertEqual(len(short["graph"]), len(full) - 1)
        self.assertIs(short.get("truncated"), True)
        self.assertNotIn("truncated", self.lineage(start), "an uncut answer has no truncated key")

    def test_types_job_only(self):
        start = ds_id("food_delivery", "public.orders")
        exp_all = self.x.directed(start, "downstream")
        got, edges, _ = self.check_graph(self.lineage(start, direction="downstream", types="JOB"))
        self.assertEqual(got, {n for n in exp_all if n.startswith("job:")} | {start})
        self.assertEqual(edges, self.x.edges_within(got))
        # from a job start, undirected: the jobs of the full answer, and no dataset at all
        j = job_id("food_delivery", "etl_orders")
        got, edges, _ = self.check_graph(self.lineage(j, types="job"))
        self.assertEqual(got, {n for n in self.x.nodes() if n.startswith("job:")})
        self.assertEqual(edges, set())
        got, _, _ = self.check_graph(self.lineage(j, types="DATASET"))
        self.assertEqual(got, {n for n in self.x.nodes() if n.startswith("dataset:")} | {j})

    def test_as_of_before_every_event_is_only_the_start(self):
        before = h.iso_z(self.start - datetime.timedelta(days=1))
        for n in (job_id("food_delivery", "etl_orders_7_days"), ds_id("food_delivery", "public.orders")):
            with self.subTest(node=n):
                body = self.lineage(n, asOf=before)
                self.assertGraph(body, {n}, set())
        # at the seed's START time every edge exists (all IO is on the START events)
        self.assertGraph(self.lineage(ds_id("food_delivery", "public.orders"), asOf=h.iso_z(self.start)),
                         self.x.nodes(), self.x.edges)

    def test_errors(self):
        r = self.server.get("/api/v1/lineage?nodeId=%s" % enc("dataset:food_delivery:public.nope"))
        self.assertJsonError(r, 404)
        r = self.server.get("/api/v1/lineage?nodeId=%s" % enc("job:nope:etl_orders"))
        self.assertJsonError(r, 404)
        for path in ("/api/v1/lineage", "/api/v1/lineage?nodeId=", "/api/v1/lineage?depth=2"):
            with self.subTest(path=path):
                r = self.server.get(path)
                self.assertStatus(r, 400)
                self.assertEqual(r.json(), {"errors": ["query param nodeId must not be null"]})
        for n in ("run:" + self.seed[0]["run"]["runId"], "datasetField:food_delivery:public.orders:id"):
            with self.subTest(node=n):
                self.assertJsonError(self.server.get("/api/v1/lineage?nodeId=%s" % enc(n)), 400)
        for bad in ("direction=sideways", "depth=-1", "depth=x", "maxNodes=0", "asOf=yesterday"):
            with self.subTest(param=bad):
                r = self.server.get("/api/v1/lineage?nodeId=%s&%s" % (enc("job:food_delivery:etl_orders"), bad))
                self.assertStatus(r, 400)


# --------------------------------------------------------------------------------------------------
# 2. column lineage and impact on the Spark CLL fixtures

CLL_FILES = ["spark__cll_0%d_%s.json" % (i, s) for i, s in (
    (1, "app_start"), (2, "create_table_src1_start"), (3, "create_table_src1_complete"),
    (4, "create_table_src2_complete_no_start"), (5, "ctas_start_columnLineage"), (6, "ctas_running"),
    (7, "ctas_running_outputStatistics"), (8, "ctas_complete_columnLineage"), (9, "app_complete"))]

CSV_NS = "csv,ns"
CSV_SRC = 'src "quoted", with commas'
CSV_JOB = 'load "q", now'
CSV_OUT = "out,1"


class ColumnLineageImpactTest(GraphAsserts, h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        names = sorted(n for n in os.listdir(h.events_dir()) if n.startswith("spark__cll_0"))
        if names != CLL_FILES:
            raise AssertionError("spark__cll_0* fixtures changed: %r" % names)
        cls.events = []
        for n in CLL_FILES:
            body = h.load_event_file(n)
            r = cls.server.post("/api/v1/lineage", body)
            if r.status != 201:
                raise AssertionError("POST %s -> %r" % (n, r))
            cls.events.append(json.loads(body))
        cls.x = Expected(cls.events)
        # the columnLineage facet of tbl1, as (output field) -> {(ns, name, field)}
        ctas = json.loads(h.load_event_file(CLL_FILES[7]))
        out = ctas["outputs"][0]
        cls.out_ns, cls.out_name = out["namespace"], out["name"]
        cls.out_types = {f["name"]: f["type"] for f in out["facets"]["schema"]["fields"]}
        cls.cll = {f: {(i["namespace"], i["name"], i["field"]) for i in v["inputFields"]}
                   for f, v in out["facets"]["columnLineage"]["fields"].items()}
        cls.ctas_job = job_id(ctas["job"]["namespace"], h.expected_job_name(ctas))
        # names that need CSV quoting
        post_all(cls.server, [h.make_run_event(None, "COMPLETE", T0, CSV_NS, CSV_JOB, [(CSV_NS, CSV_SRC)],
                                                    [(CSV_NS, CSV_OUT)])])

    def fid(self, ns, name, field):
        return field_id(ns, name, field)

    def test_fixture_model(self):
        self.assertEqual(self.out_name, "/tmp/cll_test/tbl1")
        self.assertEqual(set(self.cll), {"ident", "trans", "agg"})
        self.assertEqual(len(self.cll["agg"]), 4)

    def test_field_upstream_matches_facet(self):
        dataset = self.get_json("/api/v1/namespaces/%s/datasets/%s" % (enc(self.out_ns), enc(self.out_name)))
        for field, inputs in sorted(self.cll.items()):
            with self.subTest(field=field):
                out = self.fid(self.out_ns, self.out_name, field)
                body = self.column_lineage(out)
                ins = {self.fid(*i) for i in inputs}
                idset, edges, by_id = self.check_graph(body, out)
                self.assertEqual(idset, ins | {out})
                self.assertEqual(edges, {(i, out) for i in ins})
                for n in body["graph"]:
                    self.assertEqual(n["type"], "DATASET_FIELD")
                    self.assertEqual(list(n["data"].keys()), FIELD_DATA_KEYS, n["id"])
                data = by_id[out]["data"]
                self.assertEqual((data["namespace"], data["dataset"], data["field"], data["fieldType"]),
                                 (self.out_ns, self.out_name, field, self.out_types[field]))
                self.assertEqual(data["datasetVersion"], dataset["currentVersion"])
                self.assertEqual({(i["namespace"], i["dataset"], i["field"]) for i in data["inputFields"]}, inputs)
                self.assertEqual(len(data["inputFields"]), len(inputs))
                for i in data["inputFields"]:
                    self.assertEqual(list(i.keys()), INPUT_FIELD_KEYS)
                for i in ins:
                    self.assertEqual(by_id[i]["data"]["inputFields"], [], i)
                    self.assertEqual(by_id[i]["data"]["field"], i.rsplit(":", 1)[1])

    def test_input_only_field_node_has_marquez_shape(self):
        """reference 1.4: input-only nodes get fieldType "" and empty inputFields (Marquez builds them
        from the InputFieldNodeData: ColumnLineageNodeData(InputFieldNodeData) sets fieldType = "")."""
        body = self.column_lineage(self.fid(self.out_ns, self.out_name, "agg"))
        _, _, by_id = self.check_graph(body)
        node = by_id[self.fid("file", "/tmp/cll_test/cll_source2", "c")]
        self.assertEqual(node["data"]["inputFields"], [])
        self.assertEqual(node["data"]["fieldType"], "", node)

    def test_with_downstream_from_input_field(self):
        src = self.fid("file", "/tmp/cll_test/cll_source1", "a")
        readers = {f for f, ins in self.cll.items() if ("file", "/tmp/cll_test/cll_source1", "a") in ins}
        self.assertEqual(readers, {"ident", "trans", "agg"})
        exp = {self.fid(self.out_ns, self.out_name, f) for f in readers}
        for flag in ("true", "True", "TRUE"):
            with self.subTest(withDownstream=flag):
                body = self.column_lineage(src, withDownstream=flag)
                idset, edges, _ = self.check_graph(body)
                self.assertEqual(idset, exp | {src})
                self.assertEqual(edges, {(src, o) for o in exp})
        # without it (or with false), the output fields are not reached
        for params in ({}, {"withDownstream": "false"}, {"withDownstream": "False"}):
            with self.subTest(params=params):
                qs = "nodeId=%s" % enc(src) + "".join("&%s=%s" % kv for kv in params.items())
                r = self.server.get("/api/v1/column-lineage?" + qs)
                self.assertStatus(r, (200, 404))
                if r.status == 200:
                    idset, _, _ = self.check_graph(r.json())
                    self.assertFalse(idset & exp, sorted(idset))
        self.assertStatus(self.server.get("/api/v1/column-lineage?nodeId=%s&withDownstream=maybe" % enc(src)), 400)

    def test_with_downstream_from_c_reaches_only_agg(self):
        src = self.fid("file", "/tmp/cll_test/cll_source2", "c")
        agg = self.fid(self.out_ns, self.out_name, "agg")
        idset, edges, _ = self.check_graph(self.column_lineage(src, withDownstream="true"))
        self.assertEqual(idset, {src, agg})
        self.assertEqual(edges, {(src, agg)})

    def test_dataset_node_id_returns_all_fields(self):
        body = self.column_lineage(ds_id(self.out_ns, self.out_name))
        exp_nodes, exp_edges = set(), set()
        for field, inputs in self.cll.items():
            out = self.fid(self.out_ns, self.out_name, field)
            exp_nodes.add(out)
            for i in inputs:
                exp_nodes.add(self.fid(*i))
                exp_edges.add((self.fid(*i), out))
        idset, edges, _ = self.check_graph(body)
        self.assertEqual(idset, exp_nodes)
        self.assertEqual(edges, exp_edges)

    def test_column_lineage_errors(self):
        self.assertJsonError(self.server.get("/api/v1/column-lineage?nodeId=%s" % enc("dataset:file:/nope")), 404)
        self.assertJsonError(self.server.get("/api/v1/column-lineage?nodeId=%s" % enc(
            self.fid(self.out_ns, self.out_name, "nope"))), 404)
        # a job is answered by its outputs (test_issue_10_column_lineage has the rest); a run is no start
        self.assertEqual(self.column_lineage(self.ctas_job), self.column_lineage(ds_id(self.out_ns, self.out_name)))
        self.assertJsonError(self.server.get("/api/v1/column-lineage?nodeId=%s" % enc(
            "run:" + self.events[7]["run"]["runId"])), 400)
        r = self.server.get("/api/v1/column-lineage")
        self.assertStatus(r, 400)
        self.assertEqual(r.json(), {"errors": ["query param nodeId must not be null"]})

    def check_impact_rows(self, body, start, direction, expected_depths):
        """expected_depths: {nodeId: depth}. Checks rows, order and every path against the fixtures' graph."""
        self.assertEqual(list(body.keys()), ["nodeId", "direction", "truncated", "impacted"])
        self.assertEqual((body["nodeId"], body["direction"], body["truncated"]), (start, direction, False))
        rows = body["impacted"]
        got = {r["nodeId"]: r["depth"] for r in rows}
        self.assertEqual(got, expected_depths)
        self.assertEqual(len(rows), len(got), "duplicate rows")
        self.assertEqual([r["depth"] for r in rows], sorted(r["depth"] for r in rows), "rows not in BFS order")
        for r in rows:
            self.assertEqual(list(r.keys()), IMPACT_ROW_KEYS)
            kind, rest = r["nodeId"].split(":", 1)
            self.assertEqual(r["type"], {"dataset": "DATASET", "job": "JOB"}[kind])
            self.assertEqual("%s:%s" % (r["namespace"], r["name"]), rest)
            p = r["path"]
            self.assertEqual((p[0], p[-1], len(p)), (start, r["nodeId"], r["depth"] + 1), r)
            for a, b in zip(p, p[1:]):
                edge = (a, b) if direction == "downstream" else (b, a)
                self.assertIn(edge, self.x.edges, "path %r uses a non-edge" % p)
        return rows

    def test_impact_downstream_from_input_dataset(self):
        start = ds_id("file", "/tmp/cll_test/cll_source1")
        out = ds_id(self.out_ns, self.out_name)
        body = self.impact(start)
        rows = self.check_impact_rows(body, start, "downstream", {self.ctas_job: 1, out: 2})
        self.assertEqual(rows[1]["path"], [start, self.ctas_job, out])
        self.assertEqual(self.impact(start, direction="downstream"), body)

    def test_impact_upstream_and_depth(self):
        start = ds_id(self.out_ns, self.out_name)
        dist = self.x.walk(start, "upstream")
        dist.pop(start)
        self.assertEqual(max(dist.values()), 3)
        self.check_impact_rows(self.impact(start, direction="upstream"), start, "upstream", dist)
        self.check_impact_rows(self.impact(start, direction="upstream", depth=2), start, "upstream",
                               {n: d for n, d in dist.items() if d <= 2})
        rows = self.impact(start, direction="upstream", types="JOB")["impacted"]
        self.assertEqual({r["nodeId"] for r in rows}, {n for n in dist if n.startswith("job:")})

    def test_impact_from_field(self):
        src = self.fid("file", "/tmp/cll_test/cll_source1", "a")
        body = self.impact(src)
        rows = body["impacted"]
        exp = {self.fid(self.out_ns, self.out_name, f) for f in ("ident", "trans", "agg")}
        self.assertEqual({r["nodeId"] for r in rows}, exp)
        for r in rows:
            self.assertEqual((r["type"], r["depth"], r["path"]), ("DATASET_FIELD", 1, [src, r["nodeId"]]))

    def test_impact_csv(self):
        for start, direction in ((ds_id("file", "/tmp/cll_test/cll_source1"), "downstream"),
                                 (ds_id(self.out_ns, self.out_name), "upstream"),
                                 (ds_id(CSV_NS, CSV_SRC), "downstream")):
            with self.subTest(start=start):
                js = self.impact(start, direction=direction)
                r = self.server.get("/api/v1/impact?nodeId=%s&direction=%s&format=csv" % (enc(start), direction))
                self.assertStatus(r, 200)
                self.assertTrue(r.headers.get("content-type", "").startswith("text/csv"), r.headers)
                text = r.body.decode("utf-8")
                lines = text.split("\r\n")
                self.assertEqual(lines[0], ",".join(IMPACT_CSV_COLUMNS))
                self.assertEqual(lines[-1], "", "the CSV must end with CRLF")
                rows = list(csv.reader(io.StringIO(text, newline="")))
                self.assertEqual(rows[0], IMPACT_CSV_COLUMNS)
                exp = [[str(x["depth"]), x["type"], x["namespace"], x["name"], x["nodeId"], " > ".join(x["path"]),
                        x["datasetType"] or "", x["subType"] or "", x["version"] or "", x["producerVersion"] or "",
                        "; ".join(x["owners"]), x["description"] or ""]
                       for x in js["impacted"]]
                self.assertTrue(exp)
                self.assertEqual(rows[1:], exp)
        # the quoting itself, byte for byte
        r = self.server.get("/api/v1/impact?nodeId=%s&format=CSV" % enc(ds_id(CSV_NS, CSV_SRC)))
        lines = r.body.decode("utf-8").split("\r\n")
        js = self.impact(ds_id(CSV_NS, CSV_SRC))["impacted"]
        self.assertEqual(lines[1], '1,JOB,"csv,ns","load ""q"", now","job:csv,ns:load ""q"", now",'
                                   '"dataset:csv,ns:src ""quoted"", with commas > job:csv,ns:load ""q"", now",'
                                   ',,%s,,,' % js[0]["version"])
        self.assertEqual(lines[2], '2,DATASET,"csv,ns","out,1","dataset:csv,ns:out,1",'
                                   '"dataset:csv,ns:src ""quoted"", with commas > job:csv,ns:load ""q"", now > '
                                   'dataset:csv,ns:out,1",,,%s,,,' % js[1]["version"])

    def test_impact_errors(self):
        self.assertJsonError(self.server.get("/api/v1/impact?nodeId=%s" % enc("dataset:file:/nope")), 404)
        r = self.server.get("/api/v1/impact")
        self.assertStatus(r, 400)
        self.assertEqual(r.json(), {"errors": ["query param nodeId must not be null"]})
        self.assertStatus(self.server.get("/api/v1/impact?nodeId=%s&format=xml" % enc(self.ctas_job)), 400)
        self.assertStatus(self.server.get("/api/v1/impact?nodeId=%s&direction=left" % enc(self.ctas_job)), 400)


# --------------------------------------------------------------------------------------------------
# 3. two collectors on one database


class TwoCollectorsTest(GraphAsserts, h.ServerTestCase):
    server_args = ("--follow-interval-ms", "200")

    def second(self, *args):
        s = h.Server(self.db, *args)
        self.addCleanup(s.kill_quietly)
        s.start()
        return s

    def chain(self, tag):
        """job_<tag>_a: in_<tag> -> mid_<tag>; job_<tag>_b: mid_<tag> -> out_<tag> (symlinked, with a column edge)."""
        ns = "two-" + tag
        mid = {"namespace": ns, "name": "mid",
               "facets": {"symlinks": {"_producer": "https://lineaged.test", "_schemaURL": "https://x",
                                       "identifiers": [{"namespace": "hive://meta:9083", "name": "%s.mid" % tag,
                                                        "type": "TABLE"}]}}}
        out = {"namespace": ns, "name": "out",
               "facets": {"columnLineage": {"_producer": "https://lineaged.test", "_schemaURL": "https://x",
                                            "fields": {"y": {"inputFields": [{"namespace": ns, "name": "mid",
                                                                              "field": "x"}]}}}}}
        evs = [h.make_run_event(None, "COMPLETE", sec(0), ns, "job_a", [(ns, "in")], [mid]),
               h.make_run_event(None, "COMPLETE", sec(60), ns, "job_b", [(ns, "mid")], [out])]
        x = Expected(evs)
        return ns, evs, x

    def has_edges(self, server, start, x):
        r = server.get("/api/v1/lineage?nodeId=%s" % enc(start))
        if r.status != 200:
            return False
        got = {(e["origin"], e["destination"]) for n in r.json()["graph"] for e in n["outEdges"]}
        return got == x.edges

    def test_follower_picks_up_events_of_the_other_collector(self):
        b = self.second("--follow-interval-ms", "200")
        ns, evs, x = self.chain("f1")
        start = ds_id(ns, "in")
        self.assertJsonError(b.get("/api/v1/lineage?nodeId=%s" % enc(start)), 404)
        post_all(self.server, evs)
        self.assertTrue(self.has_edges(self.server, start, x), "the writing collector must see its own events at once")
        t0 = time.monotonic()
        self.assertTrue(wait_for(lambda: self.has_edges(b, start, x), 5.0),
                        "second collector did not show the new edges within 5 s: %r" % b.get(
                            "/api/v1/lineage?nodeId=%s" % enc(start)))
        waited = time.monotonic() - t0
        self.assertGraph(self.lineage(start, server=b), x.nodes(), x.edges)
        # symlink and column edge came through the follower too
        alias = self.lineage("dataset:hive://meta:9083:f1.mid", server=b)
        self.assertIn(ds_id(ns, "mid"), {n["id"] for n in alias["graph"]})
        self.assertEqual(self.column_lineage(field_id(ns, "out", "y"), server=b),
                         self.column_lineage(field_id(ns, "out", "y")))
        # and the other way round: written to b, followed by a (also 200 ms)
        ns2, evs2, x2 = self.chain("f2")
        post_all(b, evs2)
        self.assertTrue(wait_for(lambda: self.has_edges(self.server, ds_id(ns2, "in"), x2), 5.0))
        self.assertEqual(self.lineage(ds_id(ns2, "in")), self.lineage(ds_id(ns2, "in"), server=b))
        b.stop()
        self.assertLess(waited, 5.0)

    def test_server_started_later_loads_everything(self):
        ns, evs, x = self.chain("s1")
        post_all(self.server, evs)
        c = self.second("--follow-interval-ms", "0")   # no follower: only the start-up load can know them
        start = ds_id(ns, "in")
        self.assertGraph(self.lineage(start, server=c), x.nodes(), x.edges)
        for path in ("/api/v1/lineage?nodeId=%s" % enc(start),
                     "/api/v1/lineage?nodeId=%s&direction=downstream&asOf=%s" % (enc(start), enc(h.iso_z(sec(30)))),
                     "/api/v1/lineage?nodeId=%s" % enc("dataset:hive://meta:9083:s1.mid"),
                     "/api/v1/impact?nodeId=%s" % enc(start),
                     "/api/v1/column-lineage?nodeId=%s&withDownstream=true" % enc(field_id(ns, "mid", "x"))):
            with self.subTest(path=path):
                self.assertEqual(self.get_json(path, c), self.get_json(path), "start-up load differs from live")
        # the asOf answer really is cut (edges keep their first-seen times across the load)
        got, _, _ = self.check_graph(self.lineage(start, server=c, direction="downstream", asOf=h.iso_z(sec(30))))
        self.assertEqual(got, {start, job_id(ns, "job_a"), ds_id(ns, "mid")})
        c.stop()


# --------------------------------------------------------------------------------------------------
# 4. time travel

class TimeTravelTest(GraphAsserts, h.ServerTestCase):
    NS = "tt"
    T1 = sec(0)
    T2 = sec(3600)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ns = cls.NS
        r1, r2 = str(uuid.uuid4()), str(uuid.uuid4())
        cls.events = [
            h.make_run_event(r1, "START", cls.T1, ns, "job", [(ns, "in")], [(ns, "out1")]),
            h.make_run_event(r1, "COMPLETE", cls.T1 + datetime.timedelta(minutes=5), ns, "job", [(ns, "in")],
                             [(ns, "out1")]),
            h.make_run_event(r2, "START", cls.T2, ns, "job", [(ns, "in")], [(ns, "out2")]),
            h.make_run_event(r2, "COMPLETE", cls.T2 + datetime.timedelta(minutes=5), ns, "job", [(ns, "in")],
                             [(ns, "out2")]),
            # a sub-second event time, for the precision test
            h.make_run_event(None, "COMPLETE", "2024-05-01T15:00:00.700Z", ns, "subsec", [(ns, "in3")],
                             [(ns, "out3")]),
        ]
        post_all(cls.server, cls.events)
        cls.job = job_id(ns, "job")
        cls.inp, cls.o1, cls.o2 = ds_id(ns, "in"), ds_id(ns, "out1"), ds_id(ns, "out2")

    def test_without_as_of_both_outputs(self):
        """Cumulative: out1 stays although the job's current version only writes out2 (Marquez drops it)."""
        exp = {self.job, self.inp, self.o1, self.o2}
        edges = {(self.inp, self.job), (self.job, self.o1), (self.job, self.o2)}
        self.assertGraph(self.lineage(self.job), exp, edges)
        self.assertGraph(self.lineage(self.job, direction="downstream"), {self.job, self.o1, self.o2},
                         {(self.job, self.o1), (self.job, self.o2)})

    def test_as_of_between_shows_first_output_only(self):
        between = h.iso_z(self.T1 + datetime.timedelta(minutes=30))
        self.assertGraph(self.lineage(self.job, asOf=between), {self.job, self.inp, self.o1},
                         {(self.inp, self.job), (self.job, self.o1)})
        self.assertGraph(self.lineage(self.inp, asOf=between, direction="downstream"),
                         {self.inp, self.job, self.o1}, {(self.inp, self.job), (self.job, self.o1)})
        # same instant with an offset
        self.assertEqual(self.lineage(self.job, asOf="2024-05-01T14:30:00+02:00"),
                         self.lineage(self.job, asOf=between))
        rows = self.impact(self.inp, asOf=between)["impacted"]
        self.assertEqual({r["nodeId"]: r["depth"] for r in rows}, {self.job: 1, self.o1: 2})

    def test_as_of_boundaries(self):
        # at exactly T1 the first edges exist ("at or before"); one second earlier nothing does
        self.assertGraph(self.lineage(self.job, asOf=h.iso_z(self.T1)), {self.job, self.inp, self.o1},
                         {(self.inp, self.job), (self.job, self.o1)})
        self.assertGraph(self.lineage(self.job, asOf=h.iso_z(self.T1 - datetime.timedelta(seconds=1))),
                         {self.job}, set())
        self.assertGraph(self.lineage(self.job, asOf=h.iso_z(self.T2 - datetime.timedelta(seconds=1))),
                         {self.job, self.inp, self.o1}, {(self.inp, self.job), (self.job, self.o1)})
        self.assertGraph(self.lineage(self.job, asOf=h.iso_z(self.T2)), {self.job, self.inp, self.o1, self.o2},
                         {(self.inp, self.job), (self.job, self.o1), (self.job, self.o2)})
        # far in the past: only the start node, whatever the direction
        for d in (None, "upstream", "downstream", "both"):
            params = {"asOf": "1999-01-01T00:00:00Z"}
            if d:
                params["direction"] = d
            self.assertGraph(self.lineage(self.o2, **params), {self.o2}, set())

    def test_as_of_has_one_second_resolution(self):
        """The edge in3 -> subsec was first seen at 15:00:00.700. Edge times are kept in whole seconds
        (README: asOf has one-second resolution), so any asOf within 15:00:00 includes it and any asOf
        in the second before excludes it."""
        start = ds_id(self.NS, "in3")
        sub = job_id(self.NS, "subsec")
        whole = ({start, sub, ds_id(self.NS, "out3")}, {(start, sub), (sub, ds_id(self.NS, "out3"))})
        self.assertGraph(self.lineage(start, asOf="2024-05-01T15:00:00.900Z"), *whole)
        self.assertGraph(self.lineage(start, asOf="2024-05-01T15:00:00.000Z"), *whole)
        self.assertGraph(self.lineage(start, asOf="2024-05-01T14:59:59.999Z"), {start}, set())

    def test_job_data_is_cumulative(self):
        _, _, by_id = self.check_graph(self.lineage(self.job, depth=0))
        data = by_id[self.job]["data"]
        self.assertEqual(sorted(x["name"] for x in data["outputs"]), ["out1", "out2"])
        self.assertEqual([x["name"] for x in data["inputs"]], ["in"])


# --------------------------------------------------------------------------------------------------
# 5. symlinks and node ids with colons

class SymlinkAndNodeIdTest(GraphAsserts, h.ServerTestCase):
    NS = "s3://bucket"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        src = {"namespace": cls.NS, "name": "warehouse/t",
               "facets": {"symlinks": {"_producer": "https://lineaged.test", "_schemaURL": "https://x",
                                       "identifiers": [{"namespace": "hive://h:9083", "name": "db.t",
                                                        "type": "TABLE"}]}}}
        pg_out = {"namespace": "postgres://host:5432", "name": "db.table",
                  "facets": {"columnLineage": {"_producer": "https://lineaged.test", "_schemaURL": "https://x",
                                               "fields": {"col": {"inputFields": [
                                                   {"namespace": cls.NS, "name": "warehouse/t", "field": "c"}]}}}}}
        cls.events = [h.make_run_event(None, "COMPLETE", T0, "sym", "copy", [src], [pg_out])]
        post_all(cls.server, cls.events)
        cls.x = Expected(cls.events)
        cls.canon = ds_id(cls.NS, "warehouse/t")
        cls.pg = "dataset:postgres://host:5432:db.table"

    def test_symlink_resolves_to_canonical_node(self):
        via_alias = self.lineage("dataset:hive://h:9083:db.t")
        self.assertGraph(via_alias, self.x.nodes(), self.x.edges)
        ids = {n["id"] for n in via_alias["graph"]}
        self.assertIn(self.canon, ids)
        self.assertFalse([i for i in ids if "hive://" in i], ids)
        self.assertEqual(via_alias, self.lineage(self.canon))
        self.assertEqual(self.lineage("dataset:hive://h:9083:db.t", direction="downstream"),
                         self.lineage(self.canon, direction="downstream"))
        imp = self.impact("dataset:hive://h:9083:db.t")
        self.assertEqual(imp["impacted"], self.impact(self.canon)["impacted"])
        self.assertEqual({r["nodeId"] for r in imp["impacted"]}, {job_id("sym", "copy"), self.pg})
        # a symlink is not a namespace-wide alias
        self.assertJsonError(self.server.get("/api/v1/lineage?nodeId=%s" % enc("dataset:hive://h:9083:db.other")), 404)

    def test_colon_namespace_parses(self):
        body = self.lineage(self.pg)
        self.assertGraph(body, self.x.nodes(), self.x.edges)
        _, _, by_id = self.check_graph(body)
        self.assertEqual(by_id[self.pg]["data"]["namespace"], "postgres://host:5432")
        self.assertEqual(by_id[self.pg]["data"]["name"], "db.table")
        up = self.column_lineage("datasetField:postgres://host:5432:db.table:col")
        self.assertGraph_fields(up, {"datasetField:postgres://host:5432:db.table:col",
                                     field_id(self.NS, "warehouse/t", "c")})
        down = self.column_lineage("datasetField:hive://h:9083:db.t:c", withDownstream="true")
        self.assertGraph_fields(down, {"datasetField:postgres://host:5432:db.table:col",
                                       field_id(self.NS, "warehouse/t", "c")})

    def assertGraph_fields(self, body, ids):
        got, edges, _ = self.check_graph(body)
        self.assertEqual(got, ids)
        self.assertEqual(edges, {(field_id(self.NS, "warehouse/t", "c"), "datasetField:postgres://host:5432:db.table:col")})


# --------------------------------------------------------------------------------------------------
# 6. run-level upstream lineage

class RunLineageTest(GraphAsserts, h.ServerTestCase):
    NS = "rl"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ns = cls.NS
        cls.run_ids = {k: str(uuid.uuid4()) for k in "ZABC"}
        # Z writes X; A reads X, writes D; B reads D, writes E; C reads D and E (a diamond)
        plan = [("Z", "job_0z", [], ["X"]), ("A", "job_a", ["X"], ["D"]), ("B", "job_b", ["D"], ["E"]),
                ("C", "job_c", ["D", "E"], [])]
        cls.plan = plan
        evs = []
        for i, (k, job, ins, outs) in enumerate(plan):
            t = sec(600 * i)
            ins_ = [(ns, d) for d in ins]
            outs_ = [(ns, d) for d in outs]
            evs.append(h.make_run_event(cls.run_ids[k], "START", t, ns, job, ins_, outs_))
            evs.append(h.make_run_event(cls.run_ids[k], "COMPLETE", t + datetime.timedelta(minutes=2), ns, job,
                                        ins_, outs_))
        post_all(cls.server, evs)

    def run_api(self, k):
        return self.get_json("/api/v1/jobs/runs/%s" % self.run_ids[k])

    def out_version(self, k, name):
        vs = [v["datasetVersionId"]["version"] for v in self.run_api(k)["outputDatasetVersions"]
              if v["datasetVersionId"]["name"] == name]
        self.assertEqual(len(vs), 1, "run %s output %s" % (k, name))
        return vs[0]

    def upstream(self, k, **params):
        qs = "runId=%s" % self.run_ids[k] + "".join("&%s=%s" % kv for kv in params.items())
        return self.get_json("/api/v1/runlineage/upstream?" + qs)

    def test_upstream_lists_producers_of_versions_read(self):
        body = self.upstream("C")
        self.assertEqual(list(body.keys()), ["runs"])
        runs = body["runs"]
        # depth, then job name: C (0); A and B (1: A via D, B via E); Z (2, via A)
        self.assertEqual([r["run"]["id"] for r in runs], [self.run_ids[k] for k in "CABZ"])
        self.assertEqual([r["job"]["name"] for r in runs], ["job_c", "job_a", "job_b", "job_0z"])
        by = {r["run"]["id"]: r for r in runs}
        expected_inputs = {
            "C": [("D", "A"), ("E", "B")],
            "A": [("X", "Z")],
            "B": [("D", "A")],
            "Z": [],
        }
        for k, exp in expected_inputs.items():
            with self.subTest(run=k):
                r = by[self.run_ids[k]]
                self.assertEqual(list(r.keys()), ["job", "run", "inputs"])
                self.assertEqual(list(r["job"].keys()), ["namespace", "name", "version"])
                self.assertEqual(list(r["run"].keys()), ["id", "start", "end", "status"])
                api = self.run_api(k)
                self.assertEqual(r["job"]["namespace"], self.NS)
                self.assertEqual(r["job"]["version"], api["jobVersion"]["version"])
                self.assertEqual(r["run"]["status"], "COMPLETED")
                i = "ZABC".index(k)
                self.assertEqual(parse_ts(r["run"]["start"]), sec(600 * i))
                self.assertEqual(parse_ts(r["run"]["end"]), sec(600 * i) + datetime.timedelta(minutes=2))
                got = [(x["namespace"], x["name"], x["version"], x["producedByRunId"]) for x in r["inputs"]]
                for x in r["inputs"]:
                    self.assertEqual(list(x.keys()), ["namespace", "name", "version", "producedByRunId"])
                self.assertEqual(got, [(self.NS, d, self.out_version(p, d), self.run_ids[p]) for d, p in exp])
                # the version read is the one the run API says it read
                self.assertEqual(sorted(x["version"] for x in r["inputs"]),
                                 sorted(v["datasetVersionId"]["version"] for v in api["inputDatasetVersions"]))

    def test_depth_limits(self):
        self.assertEqual([r["run"]["id"] for r in self.upstream("C", depth=0)["runs"]], [self.run_ids["C"]])
        self.assertEqual([r["run"]["id"] for r in self.upstream("C", depth=1)["runs"]],
                         [self.run_ids[k] for k in "CAB"])
        self.assertEqual([r["run"]["id"] for r in self.upstream("B")["runs"]], [self.run_ids[k] for k in "BAZ"])
        self.assertEqual([r["run"]["id"] for r in self.upstream("Z")["runs"]], [self.run_ids["Z"]])

    def test_upper_case_run_id(self):
        r = self.server.get("/api/v1/runlineage/upstream?runId=%s" % self.run_ids["B"].upper())
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), self.upstream("B"))

    def test_errors(self):
        r = self.server.get("/api/v1/runlineage/upstream?runId=not-a-uuid")  # a producer's id: no such run
        self.assertJsonError(r, 404, "Run 'not-a-uuid' not found.")
        r = self.server.get("/api/v1/runlineage/upstream")
        self.assertStatus(r, 400)
        self.assertEqual(r.json(), {"errors": ["query param runId must not be null"]})
        unknown = str(uuid.uuid4())
        r = self.server.get("/api/v1/runlineage/upstream?runId=%s" % unknown)
        j = self.assertJsonError(r, 404)
        self.assertIn(unknown, j["message"])
        self.assertStatus(self.server.get("/api/v1/runlineage/upstream?runId=%s&depth=-1" % self.run_ids["C"]), 400)
