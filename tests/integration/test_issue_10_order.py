"""Issue 10 follow-up: the model is a pure function of the SET of stored events.

One event set (the shared OpenLineage fixtures, Marquez's fixtures and seed, the ML pipeline of
ml_pipeline.py (Feast dataSource.uri joins, kinds, owners, MLflow run ids, pinned versions), and hand-made
events that put writes, reads, facets and attributes at the same and at crossing times) is ingested into
fresh databases in several orders and groupings: one POST per event, one array (the server's
--batch-chunk transactions), a shuffled array with --batch-chunk 1 (one event per transaction), arrays
of 3, shuffled, reversed, by two collectors sharing one database taking turns, and by six writers at
once over two collectors (interleaved, group-committed). Every pair of models must be equal under
`lineaged replay --compare-with` (the canonical comparison of store/store_replay_tables.c, without the
seq columns, which record arrival), the servers must give the same API answers (datasets, jobs and
lineage graphs: a single collector's graph as it built it in memory in its own arrival order, else as a
new server loads it), and each database's own
`lineaged replay --replay-chunk 1` must equal its live model.
"""

import datetime
import json
import random
import threading
import unittest
import uuid

import harness as h
import ml_pipeline as ml
from harness import ds_id, enc

T0 = datetime.datetime(2024, 3, 1, 6, 0, 0, tzinfo=datetime.timezone.utc)
NS = "order"
PRODUCER = "https://lineaged.test/order"
FACET = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/Facet.json"}


def at(minutes):
    return h.iso_z(T0 + datetime.timedelta(minutes=minutes))


def rid(name):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "lineaged-order-test/" + name))


def schema(*fields):
    return {"schema": dict(FACET, fields=[{"name": f, "type": "STRING"} for f in fields])}


def ds(name, facets=None, ns=NS, **io):
    d = {"namespace": ns, "name": name}
    if facets:
        d["facets"] = facets
    d.update(io)
    return d


def run(name, event_type, minutes, job, inputs=(), outputs=(), **kw):
    return h.make_run_event(rid(name), event_type, at(minutes), NS, job, list(inputs), list(outputs),
                            producer=PRODUCER, **kw)


def versions_events():
    """Writes and reads of `table` crossing in time: reads before any write, between writes, a read that
    names its version, a writer whose COMPLETE comes before its START, a DatasetEvent write."""
    t = "table"
    return [
        run("read_first", "COMPLETE", 1, "reader_a", [ds(t, schema("a"))], []),
        run("write_1", "START", 5, "writer", [], [ds(t)]),
        run("write_1", "COMPLETE", 10, "writer", [], [ds(t, schema("a", "b"))]),
        run("read_between", "START", 12, "reader_b", [ds(t)], [ds("derived")]),
        run("read_between", "COMPLETE", 14, "reader_b", [ds(t, schema("a", "b"))], [ds("derived")]),
        run("write_2", "COMPLETE", 20, "writer", [], [ds(t, schema("a", "b", "c"))]),
        run("write_2", "START", 16, "writer", [], [ds(t)]),
        run("read_late", "START", 25, "reader_b", [ds(t)], [ds("derived")]),
        run("read_late", "COMPLETE", 26, "reader_b", [], []),
        run("read_pinned", "COMPLETE", 27, "reader_c",
            [ds(t, inputFacets={"version": dict(FACET, datasetVersion="v-old")})], []),
        run("write_named", "COMPLETE", 8, "publisher", [],
            [ds(t, {"version": dict(FACET, datasetVersion="v-old")})]),
        {"eventTime": at(30), "producer": PRODUCER,
         "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
         "dataset": ds(t, schema("a", "b", "c", "d"))},
        run("read_after_static", "COMPLETE", 31, "reader_a", [ds(t)], []),
        run("same_time_write", "COMPLETE", 31, "writer", [], [ds(t, schema("z"))]),
        run("failed_write", "START", 40, "writer", [], [ds(t, schema("f"))]),
        run("failed_write", "FAIL", 41, "writer", [], []),
        run("read_after_fail", "START", 42, "reader_a", [ds(t)], []),
        run("stream", "RUNNING", 43, "streamer", [], [ds("stream_out", schema("s"))],
            job_facets={"jobType": dict(FACET, processingType="STREAMING", integration="FLINK", jobType="JOB")}),
        run("read_stream", "COMPLETE", 44, "reader_a", [ds("stream_out")], []),
    ]


def ties_events():
    """Values that compete at one event time: facets, attributes, states, latest runs; and attributes whose
    latest value comes from an older event than the latest event."""
    doc = lambda text: {"documentation": dict(FACET, description=text)}
    return [
        run("tie_1", "START", 50, "tied", [], [ds("tied_out", doc("one"))],
            run_facets={"custom": dict(FACET, v=1)}, job_facets={"custom": dict(FACET, v=1)}),
        run("tie_1", "COMPLETE", 51, "tied", [], [ds("tied_out", doc("two"))],
            run_facets={"custom": dict(FACET, v=2)}, job_facets={"custom": dict(FACET, v=2)}),
        run("tie_1", "FAIL", 51, "tied", [], [ds("tied_out", doc("three"))],
            run_facets={"custom": dict(FACET, v=3)}, job_facets={"custom": dict(FACET, v=3)}),
        run("tie_2", "START", 51, "tied", [], []),
        run("described_1", "COMPLETE", 52, "describer", [], [ds("described", doc("old text"))]),
        run("described_2", "COMPLETE", 53, "describer", [], [ds("described", doc("new text"))]),
        run("described_3", "COMPLETE", 54, "describer", [], [ds("described")]),
        run("child", "COMPLETE", 55, "parent.child", [], [], run_facets={
            "parent": dict(FACET, run={"runId": rid("parent")}, job={"namespace": NS, "name": "parent"})}),
        run("parent", "START", 49, "parent", [], []),
        # a run whose COMPLETE (no inputs) arrives before its START (inputs): one job version in the end
        run("split_io", "COMPLETE", 60, "split", [], []),
        run("split_io", "START", 58, "split", [ds("split_in")], [ds("split_out")]),
    ]


def symlink_events():
    """A name read before and after the symlink that joins it to a written dataset."""
    lake = ds("lake_table", {"symlinks": dict(FACET, identifiers=[
        {"namespace": "file", "name": "/data/lake_table", "type": "FILE"}])}, ns="s3://lake")
    return [
        run("lake_read_early", "COMPLETE", 70, "lake_reader", [ds("/data/lake_table", ns="file")], []),
        run("lake_write", "COMPLETE", 75, "lake_writer", [], [lake]),
        run("lake_read_late", "COMPLETE", 80, "lake_reader", [ds("/data/lake_table", ns="file")], []),
        run("lake_read_canonical", "COMPLETE", 81, "lake_reader", [ds("lake_table", ns="s3://lake")], []),
    ]


def edge_events():
    """Reruns, repeated writes, named versions written twice, ties of every kind, sources with two URLs,
    a job whose type changes, children of one parent at different times, a symlink group whose row
    changes when a smaller name declares later."""
    src = lambda uri: {"dataSource": dict(FACET, name="shared_source", uri=uri)}
    static = lambda minute, *fields: {"eventTime": at(minute), "producer": PRODUCER,
                                      "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
                                      "dataset": ds("static_table", dict(schema(*fields), **src("db://a")))}
    named = lambda v: ds("named_table", {"version": dict(FACET, datasetVersion=v)})
    stream = {"jobType": dict(FACET, processingType="STREAMING", integration="FLINK", jobType="JOB")}
    loc = lambda url: {"sourceCodeLocation": dict(FACET, type="git", url=url)}
    cl = lambda desc: {"columnLineage": dict(FACET, fields={"x": {"inputFields": [
        {"namespace": NS, "name": "cl_in", "field": "x", "transformations": [{"type": "DIRECT", "description": desc}]}]}})}
    sym = lambda target, kind: {"symlinks": dict(FACET, identifiers=[{"namespace": "grp", "name": target, "type": kind}])}
    return [
        run("rerun", "COMPLETE", 90, "rerunner", [], [ds("rerun_out", src("db://b"))]),
        run("rerun", "FAIL", 95, "rerunner", [], []),
        run("rerun", "COMPLETE", 88, "rerunner", [], [ds("rerun_out", src("db://c"))]),
        static(91, "a"), static(93, "a"), static(91, "a", "b"),
        run("read_static", "COMPLETE", 92, "reader_d", [ds("static_table")], []),
        run("named_1", "COMPLETE", 96, "publisher", [], [named("v7")]),
        run("named_2", "COMPLETE", 94, "publisher", [], [named("v7")]),
        run("read_at_write", "START", 96, "reader_d", [ds("named_table")], []),
        run("switch", "RUNNING", 97, "switcher", [], [ds("switch_out")], job_facets=dict(stream, **loc("git://one"))),
        run("switch", "COMPLETE", 98, "switcher", [], [ds("switch_out")], job_facets=loc("git://two")),
        run("switch_2", "COMPLETE", 98, "switcher", [], [], job_facets=loc("git://three")),
        run("kid_1", "COMPLETE", 100, "dag.kid_1", [], [], run_facets={
            "parent": dict(FACET, run={"runId": rid("dag")}, job={"namespace": NS, "name": "dag"})}),
        run("kid_2", "COMPLETE", 99, "dag.kid_2", [], [], run_facets={
            "parent": dict(FACET, run={"runId": rid("dag")}, job={"namespace": NS, "name": "dag"})}),
        run("cl_1", "COMPLETE", 101, "cl_job", [ds("cl_in", schema("x"))], [ds("cl_out", cl("one"))]),
        run("cl_2", "COMPLETE", 101, "cl_job", [ds("cl_in", schema("x"))], [ds("cl_out", cl("two"))]),
        run("grp_read", "COMPLETE", 102, "grp_reader", [ds("t", ns="grp")], []),
        run("grp_b", "COMPLETE", 103, "grp_writer", [], [ds("b", sym("t", "TABLE"), ns="grp")]),
        run("grp_a", "COMPLETE", 104, "grp_writer", [], [ds("a", sym("t", "VIEW"), ns="grp")]),
        run("grp_read_2", "COMPLETE", 105, "grp_reader", [ds("b", ns="grp")], []),
        # a run's event after its COMPLETE names another version of its output: that one is what it left
        run("retract", "COMPLETE", 106, "retractor", [], [ds("retract_out", schema("a"))]),
        run("retract", "RUNNING", 107, "retractor", [], [ds("retract_out", schema("a", "b"))]),
        run("read_retract", "COMPLETE", 108, "reader_d", [ds("retract_out")], []),
    ]


def event_set():
    """Every event of the set, each once (as parsed JSON)."""
    events = []
    for name in h.event_files("COMPLETE"):
        body = json.loads(h.load_event_file(name))
        events += body if isinstance(body, list) else [body]
    for rel in h.marquez_fixture_files():
        body = json.loads(h.load_marquez_fixture(rel))
        events += body if isinstance(body, list) else [body]
    events += h.marquez_seed_events(datetime.datetime(2024, 2, 1, 9, 0, 0, tzinfo=datetime.timezone.utc))
    events += versions_events() + ties_events() + symlink_events() + edge_events()
    events += ml.Pipeline().events()
    return events


# Nodes whose API answers are compared between feeds: (namespace, dataset name) and (namespace, job name).
ANSWER_DATASETS = [("food_delivery", "public.delivery_7_days"), ("food_delivery", "public.orders_7_days"),
                   (NS, "table"), (NS, "derived"), (NS, "static_table"), (NS, "named_table"), (NS, "cl_out"),
                   ("grp", "t"), ("grp", "b"), ("s3://lake", "lake_table"), ("file", "/data/lake_table"),
                   (ml.RAW, "customer_data"), (ml.FEAST, "customer_source"), (ml.FEAST, "customer_features"), (ml.REG, "loan_approval_model")]
ANSWER_JOBS = [(NS, "writer"), (NS, "reader_b"), (NS, "switcher"), (NS, "split"), (NS, "tied"),
               (ml.PIPE, "loan_pipeline.train"), (ml.SERVING, "deploy_loan_model")]


def sorted_graph(graph):
    """A lineage answer with its nodes by id and each node's edges sorted: the graph's own order of nodes
    and edges follows its in-memory indexes, which record arrival."""
    nodes = sorted(graph["graph"], key=lambda n: n["id"])
    for n in nodes:
        for k in ("inEdges", "outEdges"):
            n[k] = sorted(n.get(k) or [], key=json.dumps)
    return nodes


def api_answers(case, server, feed):
    """What the API says about the ANSWER_ nodes, as parsed JSON."""
    out = {}
    for ns, name in ANSWER_DATASETS:
        r = server.get("/api/v1/namespaces/%s/datasets/%s" % (enc(ns), enc(name)))
        case.assertStatus(r, 200, "%s: %s:%s" % (feed, ns, name))
        out["dataset " + ns + ":" + name] = r.json()
        r = server.get("/api/v1/lineage?nodeId=%s&depth=20" % enc(ds_id(ns, name)))
        case.assertStatus(r, 200, "%s: lineage of %s:%s" % (feed, ns, name))
        out["lineage " + ns + ":" + name] = sorted_graph(r.json())
    for ns, name in ANSWER_JOBS:
        r = server.get("/api/v1/namespaces/%s/jobs/%s" % (enc(ns), enc(name)))
        case.assertStatus(r, 200, "%s: job %s:%s" % (feed, ns, name))
        out["job " + ns + ":" + name] = r.json()
    return out


class Feed:
    """A database fed the event set one way."""

    def __init__(self, case, name, collectors=1, server_args=()):
        self.case = case
        self.db = h.fresh_database("order_" + name)
        self.servers = []
        for _ in range(collectors):
            s = h.Server(self.db, *server_args)
            case.addCleanup(s.kill_quietly)
            s.start()
            self.servers.append(s)

    def post_each(self, events):
        for i, ev in enumerate(events):
            r = self.servers[i % len(self.servers)].post_json(ev)
            self.case.assertCreated(r, json.dumps(ev)[:300])

    def post_concurrently(self, events, threads):
        """threads writers at once, each with its share of events in order, over the collectors: requests
        interleave, and queued ones are committed together (group commit)."""
        failures = []

        def writer(k):
            server = self.servers[k % len(self.servers)]
            for ev in events[k::threads]:
                r = server.post_json(ev)
                if r.status != 201:
                    failures.append((r, json.dumps(ev)[:300]))

        ts = [threading.Thread(target=writer, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.case.assertEqual(failures, [])

    def post_arrays(self, events, size):
        for i in range(0, len(events), size):
            r = self.servers[0].post_json(events[i:i + size])
            self.case.assertCreated(r)

    def stop(self):
        for s in self.servers:
            s.stop()


def compare(case, a, b):
    rc, out, err = h.lineaged_command("replay", "--database-url", a, "--compare-with", b)
    case.assertIn(rc, (0, 1), "compare could not run (exit %d): %s" % (rc, err[-3000:]))
    return rc, out


class OrderIndependenceTest(h.HttpAsserts, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.events = event_set()

    def feed(self, name, arrange, group, collectors=1, server_args=()):
        """A database fed the event set; returns it and its first server's API answers."""
        events = list(self.events)
        arrange(events)
        f = Feed(self, name, collectors, server_args)
        if group == "concurrent":
            f.post_concurrently(events, 6)
        elif group == 1:
            f.post_each(events)
        else:
            f.post_arrays(events, group)
        if collectors == 1:
            answers = api_answers(self, f.servers[0], name)   # the graph as this server built it
            f.stop()
        else:
            # another collector's writes reach a server's graph later (it follows the log): ask a server
            # that loaded the whole model from Postgres
            f.stop()
            s = h.Server(f.db)
            self.addCleanup(s.kill_quietly)
            s.start()
            answers = api_answers(self, s, name)
            s.stop()
        return f.db, answers

    def test_orders_and_groupings_give_one_model(self):
        shuffled = lambda seed: (lambda evs: random.Random(seed).shuffle(evs))
        feeds = [
            ("in_order", lambda evs: None, 1, 1, ()),
            ("one_array", shuffled(1), len(self.events), 1, ()),
            ("one_per_chunk", shuffled(5), len(self.events), 1, ("--batch-chunk", "1")),
            ("reversed", lambda evs: evs.reverse(), 1, 1, ()),
            ("threes", shuffled(2), 3, 1, ()),
            ("shuffled", shuffled(3), 1, 2, ()),   # two collectors taking turns
            ("concurrent", shuffled(4), "concurrent", 2, ()),
        ]
        fed = [(name,) + self.feed(name, *how) for name, *how in feeds]
        base_name, base, base_answers = fed[0]
        n = h.sql_count(base, "FROM events")
        self.assertGreater(n, 100)
        self.assertEqual(h.sql_count(base, "FROM datasets WHERE alias_of IS NOT NULL AND namespace = %s AND name ="
                                           " 'customer_data'" % h.sql_quote(ml.RAW)), 1,
                         "the raw data is not joined to the Feast data source that reads its file")
        for key, answer in base_answers.items():
            if key.startswith("lineage "):
                self.assertGreater(len(answer), 2, "%s: a graph of one edge compares little" % key)
        for name, db, answers in fed[1:]:
            with self.subTest(feed=name):
                self.assertEqual(h.sql_count(db, "FROM events"), n)
                rc, out = compare(self, base, db)
                self.assertEqual(rc, 0, "%s vs %s:\n%s" % (base_name, name, out))
                self.assertIn("result: equal", out.splitlines()[-1])
                for key in base_answers:
                    self.assertEqual(answers[key], base_answers[key], "%s: %s differs from %s" % (key, name, base_name))
        for name, db, _answers in fed:
            with self.subTest(replay=name):
                rc, out, err = h.lineaged_command("replay", "--database-url", db, "--replay-chunk", "1")
                self.assertEqual(rc, 0, "%s: replay --replay-chunk 1:\n%s%s" % (name, out, err[-2000:]))


if __name__ == "__main__":
    unittest.main()
