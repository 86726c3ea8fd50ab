"""`lineaged replay`: the model rebuilt from the event log equals the live one after the shared fixtures
(single POSTs, arrays, the batch endpoint, duplicates, out-of-order events); API edits are not
compared; a row changed behind lineaged's back, or a table replay does not know, makes it unequal (exit
1) and the report says where; the live database is left as it was."""

import json
import re
import unittest
import uuid

import harness as h

q = h.sql_quote

MODEL_TABLES = ("namespaces", "sources", "datasets", "dataset_symlinks", "dataset_fields", "dataset_versions", "jobs",
                "job_versions", "runs", "run_states", "run_io", "job_io", "column_lineage", "run_facets", "job_facets",
                "dataset_facets", "run_io_facets")


def parse_report(out):
    """{table: (live, replay, only_live, only_replay)} from the report's table lines."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", line)
        if m:
            rows[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    return rows


class ReplayTest(h.ServerTestCase):
    """Tests run in name order on one database; each leaves it as the live model the log derives."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        for name in h.event_files("COMPLETE"):                       # one event per request
            r = s.post("/api/v1/lineage", h.load_event_file(name))
            assert r.status == 201, (name, r)
        for rel in h.marquez_fixture_files():
            r = s.post("/api/v1/lineage", h.load_marquez_fixture(rel))
            assert r.status == 201, (rel, r)
        r = s.post("/api/v1/lineage", h.load_event_file(h.event_files("COMPLETE")[0]))   # a duplicate
        assert r.status == 201, r
        seed = h.marquez_seed_text()                                 # one array: shared transactions
        r = s.post("/api/v1/lineage", seed.encode())
        assert r.status == 201, r
        cls.rid = str(uuid.uuid4())                                  # out of order: COMPLETE before START
        job = h.uniq("ooo")
        for et, sec in (("COMPLETE", 30), ("START", 0), ("RUNNING", 10)):
            ev = h.make_run_event(cls.rid, et, "2024-05-01T12:00:%02dZ" % sec, job=job, inputs=["in_" + job],
                                  outputs=["out_" + job], run_facets={"custom": {"_producer": "p", "n": sec}})
            r = s.post_json(ev)
            assert r.status == 201, r
        batch = [h.make_run_event(event_type=t, job="batch_job", outputs=["batch_out"]) for t in ("START", "COMPLETE")]
        r = s.post_json(batch, path="/api/v1/lineage/batch")
        assert r.status == 200, r
        cls.log_size = h.sql_count(cls.db, "FROM events")

    def replay(self, *args):
        rc, out, err = h.lineaged_command("replay", "--database-url", self.db, *args)
        self.assertIn(rc, (0, 1), "replay could not run (exit %d): %s" % (rc, err[-3000:]))
        return rc, out

    def assertEqualReplay(self, *args):
        rc, out = self.replay(*args)
        self.assertEqual(rc, 0, out)
        self.assertIn("result: equal", out.splitlines()[-1])
        return out

    def test_1_replay_equals_live(self):
        before = {t: h.sql_count(self.db, "FROM " + t) for t in MODEL_TABLES + ("events", "event_hashes")}
        out = self.assertEqualReplay()
        rows = parse_report(out)
        self.assertEqual(sorted(rows), sorted(MODEL_TABLES), out)
        for t, (live, replay, only_live, only_replay) in rows.items():
            self.assertEqual((live, replay, only_live, only_replay), (before[t] if t != "namespaces" else live,
                                                                      live, 0, 0), t)
        for t in ("datasets", "jobs", "runs", "run_states", "job_io", "column_lineage", "run_facets"):
            self.assertGreater(rows[t][0], 0, "%s is empty: the comparison would prove nothing" % t)
        self.assertRegex(out, r"replay: %d events of the log" % self.log_size)
        after = {t: h.sql_count(self.db, "FROM " + t) for t in before}
        self.assertEqual(after, before, "replay changed the live database")
        self.assertEqual(h.sql_count(self.db, "FROM pg_namespace WHERE nspname LIKE 'lineaged_replay%'"), 0,
                         "the scratch schema was left behind")

    def test_2_api_edits_are_not_compared(self):
        s = self.server
        ns = h.uniq("edited")
        self.assertStatus(s.request("PUT", "/api/v1/namespaces/" + ns, json.dumps(
            {"ownerName": "me", "description": "made by hand"}).encode(), {"Content-Type": "application/json"}), 200)
        self.assertStatus(s.request("PUT", "/api/v1/namespaces/food_delivery", json.dumps(
            {"ownerName": "someone", "description": "edited"}).encode(), {"Content-Type": "application/json"}), 200)
        self.assertStatus(s.request("DELETE", "/api/v1/namespaces/food_delivery/jobs/delivery_times_7_days"),
                          200)
        self.assertStatus(s.request("POST", "/api/v1/namespaces/food_delivery/datasets/public.delivery_7_days/tags/PII"),
                          200)
        self.assertEqualReplay()

    def test_3_changed_row_is_reported(self):
        state = h.sql_scalar(self.db, "SELECT state FROM runs WHERE uuid = %s" % q(self.rid))
        self.assertEqual(state, "COMPLETED")
        h.sql_exec(self.db, "UPDATE runs SET state = 'ABORTED' WHERE uuid = %s" % q(self.rid))
        try:
            rc, out = self.replay()
        finally:
            h.sql_exec(self.db, "UPDATE runs SET state = %s WHERE uuid = %s" % (q(state), q(self.rid)))
        self.assertEqual(rc, 1, out)
        rows = parse_report(out)
        self.assertEqual({t: r[2:] for t, r in rows.items() if r[2:] != (0, 0)}, {"runs": (1, 1)}, out)
        self.assertRegex(out, r"(?m)^runs\s.*DIFFERENT$")
        live = [l for l in out.splitlines() if "only live:" in l]
        replayed = [l for l in out.splitlines() if "only replay:" in l]
        self.assertEqual(len(live), 1, out)
        self.assertIn('"uuid":"%s"' % self.rid, live[0])
        self.assertIn('"state":"ABORTED"', live[0])
        self.assertIn('"state":"COMPLETED"', replayed[0])
        self.assertEqual(out.splitlines()[-1], "result: different: 1 of 17 tables differ")

    def test_4_missing_row_is_reported(self):
        h.sql_exec(self.db, "CREATE TABLE saved_states AS SELECT * FROM run_states WHERE run_uuid = %s" % q(self.rid),
                   "DELETE FROM run_states WHERE run_uuid = %s AND state = 'RUNNING'" % q(self.rid))
        try:
            rc, out = self.replay()
        finally:
            h.sql_exec(self.db, "INSERT INTO run_states SELECT * FROM saved_states s WHERE s.state = 'RUNNING'",
                       "DROP TABLE saved_states")
        self.assertEqual(rc, 1, out)
        rows = parse_report(out)
        self.assertEqual(rows["run_states"][2:], (0, 2), out)     # START and RUNNING both give RUNNING rows
        self.assertIn("saved_states", out)                          # a table replay does not know

    def test_5_unknown_table_makes_it_unequal(self):
        h.sql_exec(self.db, "CREATE TABLE derived_elsewhere (x int)")
        try:
            rc, out = self.replay()
        finally:
            h.sql_exec(self.db, "DROP TABLE derived_elsewhere")
        self.assertEqual(rc, 1, out)
        self.assertIn("not compared: derived_elsewhere", out)
        self.assertEqual(out.splitlines()[-1],
                         "result: different: 0 of 17 tables differ, and some tables were not compared")

    def test_6_back_to_equal(self):
        self.assertEqualReplay()

    def test_7_other_transaction_splits_give_the_same_model(self):
        # the Marquez seed went in as one array, fixtures one by one, a batch of two: written again each
        # event alone, or three at a time across the original transactions, the model is the same
        for chunk in ("1", "3"):
            with self.subTest(chunk=chunk):
                self.assertEqualReplay("--replay-chunk", chunk)


class ReplayMarquezSeedTest(h.ServerTestCase):
    """The Marquez seed posted as one array (one transaction) and replayed one event per transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.server.post("/api/v1/lineage", h.marquez_seed_text().encode())
        assert r.status == 201, r

    def test_each_event_alone_gives_the_model_of_one_transaction(self):
        rc, out, err = h.lineaged_command("replay", "--database-url", self.db, "--replay-chunk", "1")
        self.assertEqual(rc, 0, out + err[-2000:])
        rows = parse_report(out)
        # 13 versions written by the ETL runs, and one first-read version per dataset read (12): every
        # read starts with its writers, before any of them completed
        self.assertEqual(rows["dataset_versions"], (25, 25, 0, 0), out)
        self.assertEqual(rows["run_io"][2:], (0, 0), out)
        self.assertEqual(h.sql_count(self.db, "FROM dataset_versions WHERE first_read"), 12)


class ReplayUsageTest(unittest.TestCase):

    def test_empty_log_is_equal(self):
        db = h.fresh_database("replay_empty")
        rc, out, err = h.lineaged_command("migrate", "--database-url", db)
        self.assertEqual(rc, 0, err)
        rc, out, err = h.lineaged_command("replay", "--database-url", db)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("replay: 0 events of the log", out)
        self.assertEqual(set(parse_report(out).values()), {(0, 0, 0, 0)}, out)

    def test_unreachable_database_is_exit_2(self):
        rc, out, err = h.lineaged_command("replay", "--database-url", "host=/nonexistent dbname=x")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("replay failed", err)

    def test_help_lists_the_options(self):
        rc, out, _err = h.lineaged_command("replay", "--help")
        self.assertEqual(rc, 0)
        for flag in ("--database-url", "--replay-chunk", "--data-dir", "--compare-with"):
            self.assertIn(flag, out)

    def test_compare_with_another_database(self):
        a, b = h.fresh_database("compare_a"), h.fresh_database("compare_b")
        same = h.make_run_event(str(uuid.uuid4()), "COMPLETE", "2024-06-01T00:00:00Z", "cmp", "job", ["in"], ["out"])
        extra = h.make_run_event(str(uuid.uuid4()), "START", "2024-06-01T01:00:00Z", "cmp", "job", ["in"], [])
        for db, events in ((a, [same, extra]), (b, [same])):
            s = h.Server(db)
            self.addCleanup(s.kill_quietly)
            s.start()
            for ev in events:
                self.assertEqual(s.post_json(ev).status, 201)
            s.stop()
        rc, out, err = h.lineaged_command("replay", "--database-url", a, "--compare-with", a)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("result: equal: the two models are the same (17 tables compared)", out)
        rc, out, err = h.lineaged_command("replay", "--database-url", a, "--compare-with", b)
        self.assertEqual(rc, 1, out + err)
        rows = parse_report(out)
        self.assertEqual(rows["runs"], (2, 1, 1, 0), out)                 # the extra run is only here
        self.assertEqual(rows["run_states"], (2, 1, 1, 0), out)
        self.assertRegex(out, r"(?m)^    only this: .*\"state\":\"RUNNING\"")
        self.assertNotIn('"event":', out)                                  # seq columns are left out
        rc, out, err = h.lineaged_command("replay", "--database-url", a, "--compare-with", "host=/nonexistent dbname=x")
        self.assertEqual(rc, 2, out + err)
        self.assertEqual(h.sql_count(a, "FROM pg_namespace WHERE nspname LIKE 'lineaged_replay%'"), 0)


if __name__ == "__main__":
    unittest.main()
