"""The start-up graph load (collector/sync.c sync_load over store/store_graph.c store_graph_load).

The load streams every table with COPY ... TO STDOUT in text format and decodes the lines itself, so
names that need COPY's escapes (tab, newline, carriage return, backslash, \\b \\f \\v, a value that is
literally \\N) and NULL columns must come back exactly as they were written: the graph a restarted
server loads answers every route byte for byte as the graph the live server built event by event.
The failure tests check that an error inside a COPY (from Postgres or from the load itself) stops the
start with the error in the log, and that the connection is not left hanging.
"""

import json
import uuid

import harness as h
from harness import ds_id, enc, field_id, job_id

# No ':' in these names: node ids are "dataset:<namespace>:<name>".
NS = "esc\tns\\x"
SRC_A = "tab\there"
SRC_B = "\\N"                           # literally backslash-N: COPY writes \\N, NULL is \N
SRC_C = "nl\nand\rcr \b\f\v\x01\x1b end"
OUT = "back\\slash\\N \u00fcn\u00ef\u2192\U0001F4CA"
JOB = "job\twith\\tab"
PARENT_JOB = "parent\\job\n"
CHILD_JOB = PARENT_JOB + ".child\\job"  # Marquez names a child job "<parent>.<name>"
ALIAS_NS = "sym\\ns"
ALIAS_NAME = "db.t\tab\\N"
# output field -> input (dataset, field) pairs
FIELDS = {
    "f\tone": [(SRC_A, "a\\b"), (SRC_B, "\\N")],
    "\\N": [(SRC_B, "\\N"), (SRC_C, "c\r\n")],
    "plain": [(SRC_A, "a\\b")],
}


def events():
    """One run reading SRC_A..SRC_C and writing OUT (with column lineage, a dataset-level entry whose
    output field is NULL in column_lineage, and a symlink), and a child run with a parent job."""
    cl = {"fields": {f: {"inputFields": [{"namespace": NS, "name": d, "field": x} for d, x in ins]}
                     for f, ins in FIELDS.items()},
          "dataset": [{"namespace": NS, "name": SRC_C, "field": "whole\tds"}]}
    out = {"namespace": NS, "name": OUT,
           "facets": {"columnLineage": dict(cl, _producer="https://lineaged.test", _schemaURL="https://x"),
                      "symlinks": {"_producer": "https://lineaged.test", "_schemaURL": "https://x",
                                   "identifiers": [{"namespace": ALIAS_NS, "name": ALIAS_NAME, "type": "TABLE"}]}}}
    parent_run = str(uuid.uuid4())
    main = h.make_run_event(None, "COMPLETE", "2024-05-01T12:00:00Z", NS, JOB,
                            [(NS, SRC_A), (NS, SRC_B), (NS, SRC_C)], [out])
    child = h.make_run_event(None, "COMPLETE", "2024-05-01T12:00:05Z", NS, "child\\job", [(NS, OUT)], [])
    child["run"]["facets"] = {"parent": {"_producer": "https://lineaged.test", "_schemaURL": "https://x",
                                         "run": {"runId": parent_run},
                                         "job": {"namespace": NS, "name": PARENT_JOB}}}
    assert h.expected_job_name(child) == CHILD_JOB
    return [main, child]


def paths():
    """Every route answer compared before and after the restart."""
    out = []
    for name in (SRC_A, SRC_B, SRC_C, OUT):
        out.append("/api/v1/lineage?nodeId=%s" % enc(ds_id(NS, name)))
        out.append("/api/v1/impact?nodeId=%s&direction=both" % enc(ds_id(NS, name)))
        out.append("/api/v1/column-lineage?nodeId=%s&withDownstream=true" % enc(ds_id(NS, name)))
    out.append("/api/v1/lineage?nodeId=%s" % enc(ds_id(ALIAS_NS, ALIAS_NAME)))
    for j in (JOB, CHILD_JOB, PARENT_JOB):
        out.append("/api/v1/lineage?nodeId=%s" % enc(job_id(NS, j)))
        out.append("/api/v1/impact?nodeId=%s&direction=both" % enc(job_id(NS, j)))
    for f in FIELDS:
        out.append("/api/v1/column-lineage?nodeId=%s" % enc(field_id(NS, OUT, f)))
    for ins in FIELDS.values():
        for d, x in ins:
            out.append("/api/v1/column-lineage?nodeId=%s&withDownstream=true" % enc(field_id(NS, d, x)))
    # the dataset-level entry: its column_lineage row has a NULL output field
    out.append("/api/v1/impact?nodeId=%s" % enc(field_id(NS, SRC_C, "whole\tds")))
    return out


class EscapedNamesSurviveRestartTest(h.ServerTestCase):
    maxDiff = None
    server_args = ("--follow-interval-ms", "0")   # after the restart, only the load can know the graph

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for ev in events():
            r = cls.server.post_json(ev)
            if r.status != 201:
                raise AssertionError("POST %s -> %r" % (json.dumps(ev)[:300], r))

    def answers(self):
        got = {}
        for p in paths():
            r = self.server.get(p)
            self.assertStatus(r, 200, p)
            body = r.json()
            if p.startswith("/api/v1/impact"):
                # rows of one depth come in discovery order, which follows the order edges were added
                # (event by event live, table by table at load): compare them as a set
                body["impacted"].sort(key=lambda row: (row["depth"], row["nodeId"]))
            got[p] = body
        return got

    def test_names_are_stored_as_sent(self):
        """Guards the test itself: the odd names really reach Postgres, so COPY has to escape them."""
        self.assertEqual(h.sql_scalar(self.db, "SELECT count(*) FROM datasets WHERE namespace = %s AND name IN (%s)"
                                      % (h.sql_quote(NS), ", ".join(h.sql_quote(n) for n in
                                                                    (SRC_A, SRC_B, SRC_C, OUT)))), "4")
        self.assertEqual(h.sql_scalar(self.db, "SELECT count(*) FROM column_lineage WHERE output_field IS NULL"), "1")
        self.assertEqual(h.sql_scalar(self.db, "SELECT count(*) FROM column_lineage WHERE output_field = '\\N'"), "2")
        self.assertEqual(h.sql_scalar(self.db, "SELECT count(*) FROM dataset_symlinks WHERE name = %s"
                                      % h.sql_quote(ALIAS_NAME)), "1")

    def test_restarted_server_answers_exactly_as_the_live_one(self):
        before = self.answers()
        # non-vacuous: the live answers hold the odd names themselves
        body = before["/api/v1/lineage?nodeId=%s" % enc(job_id(NS, JOB))]
        ids = {n["id"] for n in body["graph"]}
        for name in (SRC_A, SRC_B, SRC_C, OUT):
            self.assertIn(ds_id(NS, name), ids)
        body = before["/api/v1/column-lineage?nodeId=%s" % enc(field_id(NS, OUT, "\\N"))]
        self.assertEqual({n["id"] for n in body["graph"]},
                         {field_id(NS, OUT, "\\N"), field_id(NS, SRC_B, "\\N"), field_id(NS, SRC_C, "c\r\n")})
        body = before["/api/v1/impact?nodeId=%s" % enc(field_id(NS, SRC_C, "whole\tds"))]
        self.assertIn(ds_id(NS, OUT), {row["nodeId"] for row in body["impacted"]})
        self.server.stop()
        self.server.start()   # a new process: the graph now comes from the start-up load only
        self.assertIn("lineage graph loaded", self.server.stderr_text())
        after = self.answers()
        for p in paths():
            with self.subTest(path=p):
                self.assertEqual(after[p], before[p], "start-up load differs from live")


class LoadFailureTest(h.ServerTestCase):
    """Each test breaks the database so the next start fails inside a COPY, then repairs it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for ev in events():
            r = cls.server.post_json(ev)
            if r.status != 201:
                raise AssertionError("POST -> %r" % (r,))
        cls.server.stop()

    def failed_start(self):
        """Starts a server that must exit at start; returns its stderr."""
        s = h.Server(self.db, "--follow-interval-ms", "0")
        self.addCleanup(s.kill_quietly)
        with self.assertRaises(AssertionError) as cm:
            s.start()
        self.assertIn("exited with code 1", str(cm.exception))
        err = s.stderr_text()
        s.check_sanitizers(err)   # the failed load frees what it made (ASan builds)
        self.assertIn("cannot load the lineage graph", err)
        return err

    def assert_starts(self):
        s = h.Server(self.db, "--follow-interval-ms", "0")
        self.addCleanup(s.kill_quietly)
        s.start()
        r = s.get("/api/v1/lineage?nodeId=%s" % enc(ds_id(NS, OUT)))
        self.assertStatus(r, 200)
        s.stop()

    def assert_load_fails(self, break_sql, repair_sql, *expected):
        """After break_sql a server must refuse to start, logging each of expected; after repair_sql it
        must start again."""
        h.sql_exec(self.db, break_sql)
        try:
            err = self.failed_start()
            for text in expected:
                self.assertIn(text, err)
        finally:
            h.sql_exec(self.db, repair_sql)
        self.assert_starts()

    def test_postgres_error_in_the_middle_of_a_copy_is_reported(self):
        """The COPY has begun (CopyOutResponse) when the division by zero happens on its first row."""
        self.assert_load_fails(
            "BEGIN; ALTER TABLE dataset_symlinks RENAME TO dataset_symlinks_real; "
            "CREATE VIEW dataset_symlinks AS SELECT dataset_id, namespace, "
            "(1 / (dataset_id - dataset_id))::text AS name FROM dataset_symlinks_real; COMMIT",
            "BEGIN; DROP VIEW dataset_symlinks; ALTER TABLE dataset_symlinks_real RENAME TO dataset_symlinks; COMMIT",
            "22012", "division by zero")

    def test_failing_copy_statement_is_reported(self):
        self.assert_load_fails("ALTER TABLE column_lineage RENAME TO column_lineage_away",
                               "ALTER TABLE column_lineage_away RENAME TO column_lineage",
                               "42P01", 'relation "column_lineage" does not exist')

    def test_load_error_stops_the_copy_and_is_reported(self):
        """A row the load refuses (a negative id) stops it while the COPY is still sending rows."""
        self.assert_load_fails(
            "INSERT INTO datasets (id, namespace, name, type, physical_name, source_name, created_at, updated_at, "
            "seq) SELECT -5, namespace, 'negative', type, physical_name, source_name, created_at, updated_at, seq "
            "FROM datasets LIMIT 1",
            "DELETE FROM datasets WHERE id = -5",
            "negative row id -5")
