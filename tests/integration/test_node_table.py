"""The node table (api/node_table.c): lineage node data kept in memory from the start-up load.

After a restart, the data of datasets and jobs that nothing changed comes from memory, not from Postgres,
and every answer is byte for byte what the live server answered from Postgres before the restart; a node an
event changes after the restart is read from Postgres again. To show that an answer really comes from
memory, one test makes Postgres unable to give node data (the statement it would run fails) and asks again.

Names and values use the characters JSON and COPY escape; fields have types, descriptions, unicode and
ordinals that tie, so the order (ordinal, then name in byte order) is checked too.
"""

import json
import uuid

import harness as h
from harness import enc

NS = "nt\tns"
FACET = {"_producer": "https://lineaged.test", "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/x.json"}
T0 = "2024-05-01T12:00:00.123456Z"


def facet(**kw):
    return dict(FACET, **kw)


def dataset(name, fields=(), **facets):
    """A dataset with a schema of (name, type, description) fields and the given facets."""
    out = {"namespace": NS, "name": name, "facets": dict(facets)}
    if fields:
        out["facets"]["schema"] = facet(fields=[{k: v for k, v in (("name", n), ("type", t), ("description", d))
                                                 if v is not None} for n, t, d in fields])
    return out


def job_event(name, inputs, outputs, time=T0, **facets):
    """A JobEvent: the job gets no run, so its data can live in the node table."""
    return {"eventTime": time, "producer": "https://lineaged.test/nt",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
            "job": {"namespace": NS, "name": name, "facets": dict(facets)}, "inputs": inputs, "outputs": outputs}


SRC = "raw.\"quoted\"\\src"
OUT = "mart.out \u00e9\u2192"
SIDE = "side\nline"
JOB = "load\tjob \u00fc"
JOB2 = "second job"
# a second, separate graph of nodes the table does not hold: a job with a run, a renamed dataset
RUN_SRC = "run.src"
ALIASED = "aliased"
RUN_JOB = "run job"
ALIAS_JOB = "alias job"


def events():
    src = dataset(SRC, [("id", "BIGINT", "the key \"id\""), ("zeta", "TEXT", None), ("alpha", "TEXT", "a\tb"),
                        ("\u00e9t\u00e9", None, "\u2603")],
                  documentation=facet(description="raw source\nsecond line"),
                  lifecycleStateChange=facet(lifecycleStateChange="CREATE"),
                  dataSource=facet(name="warehouse://db", uri="warehouse://db"))
    out = dataset(OUT, [("b", "INT", None), ("a", "INT", None), ("c\\d", "STRUCT<x:int>", "nested")],
                  datasetType=facet(datasetType="model", subType="registered"))
    aliased = dataset(ALIASED, [("k", "INT", None)],
                      symlinks=facet(identifiers=[{"namespace": NS, "name": "aliased.other", "type": "TABLE"}]))
    return [
        job_event(JOB, [src], [out, dataset(SIDE)],
                  documentation=facet(description="loads \"things\""),
                  sourceCodeLocation=facet(type="git", url="https://git.example/repo?x=1&y=\u00e9")),
        job_event(JOB2, [dataset(OUT)], [], time="2024-05-02T00:00:00Z"),
        h.make_run_event(str(uuid.uuid4()), "COMPLETE", "2024-05-03T00:00:00Z", NS, RUN_JOB,
                         [(NS, RUN_SRC)], [aliased]),
        job_event(ALIAS_JOB, [dataset("aliased.other")], [], time="2024-05-04T00:00:00Z"),
    ]


def lineage_path(node_id):
    return "/api/v1/lineage?nodeId=%s&depth=5" % enc(node_id)


# Answers whose every node is in the node table after a restart (JobEvent jobs, datasets no run wrote
# and no symlink renamed), and answers of the other graph (a job with a latest run, a symlinked dataset).
RESIDENT = ["job:%s:%s" % (NS, JOB), "job:%s:%s" % (NS, JOB2), "dataset:%s:%s" % (NS, SIDE)]
ALL = RESIDENT + ["job:%s:%s" % (NS, RUN_JOB), "job:%s:%s" % (NS, ALIAS_JOB), "dataset:%s:%s" % (NS, ALIASED)]


class NodeTableTest(h.ServerTestCase):
    server_args = ("--follow-interval-ms", "0")   # after a restart, only the load knows the graph

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for ev in events():
            r = cls.server.post_json(ev)
            if r.status != 201:
                raise AssertionError("POST %s -> %r" % (json.dumps(ev)[:300], r))

    def answers(self, server, paths):
        got = {}
        for p in paths:
            r = server.get(lineage_path(p))
            self.assertStatus(r, 200, p)
            got[p] = r.body
        return got

    def restarted(self, *args):
        s = h.Server(self.db, "--follow-interval-ms", "0", *args)
        self.addCleanup(s.kill_quietly)
        s.start()
        return s

    def from_postgres(self, paths):
        """The answers of a server that reads every node's data from Postgres."""
        plain = self.restarted("--lineage-node-table=false", "--lineage-cache-mb", "0")
        self.assertNotIn("lineage node table", plain.stderr_text())
        got = self.answers(plain, paths)
        plain.stop()
        return got

    def test_answers_from_memory_equal_answers_from_postgres(self):
        before = self.from_postgres(ALL)
        # non-vacuous: the answers hold the escaped names and the facets' values
        data = {n["id"]: n["data"] for n in json.loads(before[RESIDENT[0]])["graph"]}
        src = data["dataset:%s:%s" % (NS, SRC)]
        self.assertEqual([f["name"] for f in src["fields"]], ["id", "zeta", "alpha", "\u00e9t\u00e9"])
        self.assertEqual(src["description"], "raw source\nsecond line")
        self.assertEqual(src["lastLifecycleState"], "CREATE")
        self.assertEqual((src["datasetType"], src["subType"]), (None, None))
        out = data["dataset:%s:%s" % (NS, OUT)]
        self.assertEqual((out["datasetType"], out["subType"]), ("MODEL", "REGISTERED"))
        self.assertEqual(data["job:%s:%s" % (NS, JOB)]["location"], "https://git.example/repo?x=1&y=\u00e9")
        self.assertEqual(self.answers(self.server, ALL), before, "the live server disagrees with Postgres")
        s = self.restarted()
        self.assertRegex(s.stderr_text(), r"lineage node table: [1-9]\d* datasets and jobs")
        after = self.answers(s, ALL)
        for p in ALL:
            with self.subTest(node=p):
                self.assertEqual(after[p], before[p], "node data from memory differs from Postgres's")
        s.stop()

    def test_resident_answers_need_no_node_data_from_postgres(self):
        before = self.from_postgres(RESIDENT)
        s = self.restarted("--lineage-cache-mb", "0")
        # both node-data statements now fail in Postgres: only memory can answer
        h.sql_exec(self.db, "ALTER TABLE dataset_fields RENAME TO dataset_fields_away",
                   "ALTER TABLE jobs RENAME COLUMN location TO location_away")
        try:
            after = self.answers(s, RESIDENT)
            r = s.get(lineage_path("job:%s:%s" % (NS, RUN_JOB)))   # not resident: Postgres, which fails
            self.assertGreaterEqual(r.status, 500, "the failing statement was not needed: the test proves nothing")
        finally:
            h.sql_exec(self.db, "ALTER TABLE dataset_fields_away RENAME TO dataset_fields",
                       "ALTER TABLE jobs RENAME COLUMN location_away TO location")
        self.assertEqual(after, before)
        s.stop()

    def test_event_after_the_load_is_read_from_postgres(self):
        s = self.restarted()
        node_id = "dataset:%s:%s" % (NS, SIDE)
        self.assertIsNone(self.node_data(s, node_id)["description"])
        later = job_event(JOB, [], [dataset(SIDE, [("new", "INT", "added")],
                                            documentation=facet(description="now described"))],
                          time="2024-06-01T00:00:00Z")
        self.assertCreated(s.post_json(later))
        data = self.node_data(s, node_id)
        self.assertEqual(data["description"], "now described")
        self.assertEqual([f["name"] for f in data["fields"]], ["new"])
        self.assertEqual(self.answers(s, ALL), self.from_postgres(ALL))
        s.stop()

    def node_data(self, server, node_id):
        r = server.get(lineage_path(node_id))
        self.assertStatus(r, 200)
        for n in r.json()["graph"]:
            if n["id"] == node_id:
                return n["data"]
        raise AssertionError("%s is not in its own answer" % node_id)

    def test_failing_fields_read_stops_the_start_unless_the_table_is_off(self):
        """dataset_fields is read on a second connection and thread: its failure is the load's."""
        h.sql_exec(self.db, "ALTER TABLE dataset_fields RENAME TO dataset_fields_away")
        try:
            s = h.Server(self.db, "--follow-interval-ms", "0")
            self.addCleanup(s.kill_quietly)
            with self.assertRaises(AssertionError) as cm:
                s.start()
            self.assertIn("exited with code 1", str(cm.exception))
            err = s.stderr_text()
            s.check_sanitizers(err)
            self.assertIn("cannot load the lineage graph", err)
            self.assertIn('relation "dataset_fields" does not exist', err)
            off = self.restarted("--lineage-node-table=false")   # starts: the fields are not read at all then
            self.assertIn("lineage graph loaded", off.stderr_text())
            off.stop()
        finally:
            h.sql_exec(self.db, "ALTER TABLE dataset_fields_away RENAME TO dataset_fields")
