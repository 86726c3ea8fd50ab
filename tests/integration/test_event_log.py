"""The partitioned event log (migrations/0007): partitions kept ahead of time, the idempotency key in
event_hashes, rows of events_default moved when their partition is made, retention that drops whole old
partitions only (the model keeps what they derived), and the migration of a log written before
partitioning."""

import datetime
import hashlib
import json
import os
import unittest

import harness as h

q = h.sql_quote
DAY = datetime.timedelta(days=1)


def partitions(db):
    """[(name, lower, upper)] of events' partitions, bounds as UTC text or None, by lower bound."""
    rows = h.sql_json(db, "SELECT partition_name AS name, %s AS lo, %s AS hi FROM event_partitions() "
                          "ORDER BY lower_bound NULLS FIRST, partition_name" % (h.ts_sql("lower_bound"),
                                                                                 h.ts_sql("upper_bound")))
    return [(r["name"], r["lo"], r["hi"]) for r in rows]


def today_utc():
    return h.now_utc().replace(hour=0, minute=0, second=0, microsecond=0)


def migrate(db):
    rc, _out, err = h.lineaged_command("migrate", "--database-url", db)
    if rc != 0:
        raise AssertionError("lineaged migrate failed (%d): %s" % (rc, err[-3000:]))


def partition_of(db, run_uuid):
    return h.sql_scalar(db, "SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM events "
                            "WHERE run_uuid = %s" % q(run_uuid))


def canonical_hash(ev):
    """The server's identity of an event: SHA-256 of its canonical JSON (keys sorted, no whitespace)."""
    text = json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


def weekly_layout(name):
    """A migrated database whose log is in weekly partitions from 42 days ago to 7 days ahead (as a
    collector running for six weeks leaves it) instead of the migration's first partition."""
    db = h.fresh_database(name)
    migrate(db)
    t = today_utc()
    h.sql_exec(db, "ALTER TABLE events DETACH PARTITION events_legacy", "DROP TABLE events_legacy",
               *["SELECT event_partition_add(current_schema(), %s, %s)" % (
                   q(h.iso_z(t + k * DAY)), q(h.iso_z(t + (k + 7) * DAY))) for k in range(-42, 1, 7)])
    return db


def age(db, run_uuid, days):
    """Moves a run's events back in ingestion time (the rows move to the older partition)."""
    h.sql_exec(db, "UPDATE event_hashes SET received_at = received_at - interval '%d days' WHERE hash IN "
                   "(SELECT hash FROM events WHERE run_uuid = %s)" % (days, q(run_uuid)),
               "UPDATE events SET received_at = received_at - interval '%d days' WHERE run_uuid = %s" % (
                   days, q(run_uuid)))


class PartitionsWhileServingTest(h.ServerTestCase):
    """One server with a 1-second maintenance interval."""

    server_args = ("--maintenance-interval", "1")

    def test_partitions_cover_the_week_ahead_contiguously(self):
        parts = [p for p in partitions(self.db) if p[0] != "events_default"]
        self.assertIn("events_default", [p[0] for p in partitions(self.db)])
        self.assertEqual(parts[0][0], "events_legacy")
        self.assertIsNone(parts[0][1], "the first partition has no lower bound")
        for prev, cur in zip(parts, parts[1:]):
            self.assertEqual(cur[1], prev[2], "gap or overlap between %s and %s" % (prev[0], cur[0]))
            self.assertEqual(cur[0], "events_p" + cur[1][:10].replace("-", ""))
        week = today_utc() + 7 * DAY
        self.assertGreaterEqual(parts[-1][2], h.utc_text(week), parts)
        for name, lo, hi in parts[1:]:                  # made by the upkeep: 7 days each by default
            self.assertEqual(datetime.datetime.fromisoformat(hi) - datetime.datetime.fromisoformat(lo), 7 * DAY, name)

    def test_new_event_goes_to_the_partition_of_its_arrival(self):
        ev = h.make_run_event()
        self.assertCreated(self.server.post_json(ev))
        where = partition_of(self.db, ev["run"]["runId"])
        self.assertNotEqual(where, "events_default")
        lo, hi = [p[1:] for p in partitions(self.db) if p[0] == where][0]
        received = h.sql_scalar(self.db, "SELECT %s FROM events WHERE run_uuid = %s" % (
            h.ts_sql("received_at"), q(ev["run"]["runId"])))
        self.assertTrue((lo is None or lo <= received) and received < hi, (where, lo, hi, received))

    def test_duplicate_is_found_through_event_hashes(self):
        ev = h.make_run_event(event_type="COMPLETE")
        self.assertCreated(self.server.post_json(ev))
        self.assertCreated(self.server.post_json(ev))
        rows = h.sql_json(self.db, "SELECT e.seq, e.received_at = eh.received_at AS same_time, "
                                   "encode(e.hash, 'hex') AS hash FROM events e "
                                   "JOIN event_hashes eh ON eh.hash = e.hash AND eh.seq = e.seq "
                                   "WHERE e.run_uuid = %s" % q(ev["run"]["runId"]))
        self.assertEqual(len(rows), 1, rows)
        self.assertTrue(rows[0]["same_time"])
        self.assertEqual(rows[0]["hash"], canonical_hash(ev)[0])
        self.assertEqual(h.sql_count(self.db, "FROM run_states WHERE run_uuid = %s" % q(ev["run"]["runId"])), 1)

    def test_scheduled_pass_creates_a_missing_partition(self):
        newest = [p for p in partitions(self.db) if p[0] != "events_default"][-1]
        h.sql_exec(self.db, "DROP TABLE %s" % newest[0])
        back = h.wait_for(lambda: newest in partitions(self.db), timeout=20)
        self.assertTrue(back, "the upkeep did not create %s again within 20 s: %r" % (newest[0], partitions(self.db)))
        self.assertIn("created partition %s" % newest[0], self.server.stderr_text())


class PartitionFunctionsTest(unittest.TestCase):
    """event_partitions_create / _drop on a migrated database with no server running."""

    @classmethod
    def setUpClass(cls):
        cls.db = h.fresh_database("partfn")
        migrate(cls.db)

    def test_rows_in_default_move_into_the_partition_made_for_them(self):
        later = today_utc() + 40 * DAY + datetime.timedelta(hours=5)
        h.sql_exec(self.db, "INSERT INTO events (hash, kind, event_time, producer, received_at, body) VALUES "
                            "('\\x01', 'JOB_EVENT', now(), 'test', %s, '{}')" % q(h.iso_z(later)))
        before = h.sql_json(self.db, "SELECT seq, xid::text AS xid, tableoid::regclass::text AS part FROM events "
                                     "WHERE hash = '\\x01'")
        self.assertEqual(before[0]["part"], "events_default")
        created = h.sql_json(self.db, "SELECT * FROM event_partitions_create(7, 50)")
        moved = [c for c in created if c["moved_rows"] > 0]
        self.assertEqual(len(moved), 1, created)
        after = h.sql_json(self.db, "SELECT seq, xid::text AS xid, tableoid::regclass::text AS part FROM events "
                                    "WHERE hash = '\\x01'")
        self.assertEqual(after[0]["part"], moved[0]["created"])
        self.assertEqual((after[0]["seq"], after[0]["xid"]), (before[0]["seq"], before[0]["xid"]),
                         "a moved row keeps its seq and xid (the follower saw it already)")
        self.assertEqual(h.sql_count(self.db, "FROM events_default"), 0)
        # a second pass has nothing to do
        self.assertEqual(h.sql_json(self.db, "SELECT * FROM event_partitions_create(7, 50)"), [])

    def test_drop_with_retention_off_drops_nothing(self):
        before = partitions(self.db)
        self.assertEqual(h.sql_json(self.db, "SELECT * FROM event_partitions_drop(0)"), [])
        self.assertEqual(partitions(self.db), before)


class RetentionTest(h.HttpAsserts, unittest.TestCase):
    """Weekly partitions from 42 days ago; events moved back in time; a server with --retention-days 30."""

    def setUp(self):
        self.db = weekly_layout("retention")

    def start(self, *args):
        s = h.Server(self.db, *args)
        self.addCleanup(s.kill_quietly)
        return s.start()

    def test_retention_drops_only_partitions_wholly_older(self):
        s = self.start()
        old, mid, new = (h.make_run_event(event_type="COMPLETE", outputs=[h.uniq(n)]) for n in ("old", "mid", "new"))
        for ev in (old, mid, new):
            self.assertCreated(s.post_json(ev))
        s.stop()
        age(self.db, old["run"]["runId"], 36)
        age(self.db, mid["run"]["runId"], 31)
        doomed = partition_of(self.db, old["run"]["runId"])
        kept = partition_of(self.db, mid["run"]["runId"])
        self.assertNotEqual(doomed, kept)
        before = partitions(self.db)

        s = self.start("--retention-days", "30")
        after = partitions(self.db)
        self.assertEqual([p for p in before if p not in after], [p for p in before if p[0] == doomed],
                         "exactly the partition whose upper bound is 30+ days old is dropped")
        self.assertIn("dropped partition %s" % doomed, s.stderr_text())
        self.assertEqual(partition_of(self.db, old["run"]["runId"]), "")
        self.assertEqual(partition_of(self.db, mid["run"]["runId"]), kept, "31 days old, but its partition is not")
        self.assertNotEqual(partition_of(self.db, new["run"]["runId"]), "")
        dropped = h.sql_json(self.db, "SELECT partition_name, %s AS hi FROM event_log_dropped" % h.ts_sql("upper_bound"))
        self.assertEqual(dropped, [{"partition_name": doomed, "hi": [p for p in before if p[0] == doomed][0][2]}])

        # the model keeps what the dropped events derived
        ru = old["run"]["runId"]
        self.assertEqual(h.sql_scalar(self.db, "SELECT state FROM runs WHERE uuid = %s" % q(ru)), "COMPLETED")
        self.assertEqual(h.sql_count(self.db, "FROM run_states WHERE run_uuid = %s" % q(ru)), 1)
        r = s.get("/api/v1/namespaces/itest/jobs/%s" % h.enc(old["job"]["name"]))
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["latestRun"]["state"], "COMPLETED")
        # and the event is still known: sent again, it is a duplicate that changes nothing
        self.assertCreated(s.post_json(old))
        self.assertEqual(partition_of(self.db, ru), "")
        self.assertEqual(h.sql_count(self.db, "FROM run_states WHERE run_uuid = %s" % q(ru)), 1)
        s.stop()

        rc, out, err = h.lineaged_command("replay", "--database-url", self.db)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("retention dropped 1 partitions of the log", out)


class EventTimeFloorTest(h.HttpAsserts, unittest.TestCase):
    """Reads by event time skip partitions through event_log_floor; late and future-dated events are
    still found (the answers equal a plain count over the whole log)."""

    def test_reads_by_event_time_find_late_and_early_events(self):
        db = weekly_layout("floor")
        s = h.Server(db)
        self.addCleanup(s.kill_quietly)
        s.start()
        now = h.now_utc()
        cases = {  # name: (event time, days back in arrival)
            "old": (now - 36 * DAY, 36), "future_dated": (now + 2 * DAY, 30), "late": (now - 60 * DAY, 0),
            "recent": (now - DAY / 24, 0), "mid": (now - 20 * DAY, 19),
            "beside_future_dated": (now - 31 * DAY, 30)}  # same partition, so its times span a month
        runs = {}
        for name, (t, back) in cases.items():
            ev = h.make_run_event(event_type="COMPLETE", event_time=t, job="floor_" + name)
            self.assertCreated(s.post_json(ev))
            runs[ev["run"]["runId"]] = name
            if back:
                age(db, ev["run"]["runId"], back)
        s.stop()
        # Aging moved rows into partitions the start-up pass had recorded as empty, which ingest never
        # does (they closed a day before); record them again as they now are.
        h.sql_exec(db, "TRUNCATE event_partition_times", "SELECT * FROM event_partitions_create(7, 7)")
        self.assertGreaterEqual(h.sql_count(db, "FROM event_partition_times"), 5)
        s = h.Server(db)
        self.addCleanup(s.kill_quietly)
        s.start()
        for back in (1, 7, 21, 40, 70, 20000):
            after = h.iso_z(now - back * DAY)
            truth = h.sql_json(db, "SELECT run_uuid FROM events WHERE event_time >= %s AND event_time < '2030-01-01'"
                                   % q(after))
            r = s.get("/api/v1/events/lineage?limit=1000&after=%s" % h.enc(after))
            self.assertStatus(r, 200)
            got = sorted(runs[e["run"]["runId"]] for e in r.json()["events"])
            self.assertEqual(got, sorted(runs[t["run_uuid"]] for t in truth), "after=%s" % after)
            self.assertEqual(r.json()["totalCount"], len(truth), "after=%s" % after)
        # what the reads skip: everything older than the partition of the future-dated event, and for
        # times after every recorded event all the recorded partitions
        future = [r for r, n in runs.items() if n == "future_dated"][0]
        self.assertEqual(h.sql_scalar(db, "SELECT event_log_floor(now() - interval '1 day') = p.lower_bound "
                                          "FROM event_partitions() p WHERE p.partition_name = %s"
                                      % q(partition_of(db, future))), "t")
        self.assertEqual(h.sql_scalar(db, "SELECT event_log_floor(now() + interval '3 days') = "
                                          "(SELECT max(upper_bound) FROM event_partition_times)"), "t")
        r = s.get("/api/v1/stats/lineage-events?period=DAY")
        self.assertStatus(r, 200)
        self.assertEqual(sum(b["complete"] for b in r.json()), h.sql_count(
            db, "FROM events WHERE event_type = 'COMPLETE' AND event_time >= date_trunc('hour', now()) - "
                "interval '23 hours' AND event_time < date_trunc('hour', now()) + interval '1 hour'"))
        self.assertEqual(sum(b["complete"] for b in r.json()), 1)   # "recent"; not the future-dated one
        s.stop()


class MigrationFromUnpartitionedLogTest(h.HttpAsserts, unittest.TestCase):
    """A database at migration 3 with events in its log, as lineaged before partitioning wrote it."""

    def test_log_written_before_partitioning_is_kept_and_deduplicated(self):
        db = h.fresh_database("premigr")
        files = sorted(f for f in os.listdir(os.path.join(h.REPO_ROOT, "migrations")) if f[:4] in ("0001", "0002",
                                                                                                      "0003"))
        self.assertEqual(len(files), 3, files)
        h.sql_exec(db, "CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
                       "applied_at timestamptz NOT NULL DEFAULT now())")
        for f in files:
            h._psql(db, ["-1", "-f", os.path.join(h.REPO_ROOT, "migrations", f)])
            h.sql_exec(db, "INSERT INTO schema_migrations (version, name) VALUES (%d, %s)" % (int(f[:4]), q(f)))
        old = [h.make_run_event(event_type=t, outputs=[h.uniq("o")]) for t in ("START", "COMPLETE", "FAIL")]
        for i, ev in enumerate(old):
            digest, text = canonical_hash(ev)
            h.sql_exec(db, "INSERT INTO events (hash, kind, event_type, event_time, producer, schema_url, run_uuid, "
                           "job_namespace, job_name, received_at, body) VALUES (decode(%s, 'hex'), 'RUN_EVENT', %s, "
                           "%s, %s, %s, %s, %s, %s, now() - interval '%d days', %s) ON CONFLICT (hash) DO NOTHING" % (
                               q(digest), q(ev["eventType"]), q(ev["eventTime"]), q(ev["producer"]),
                               q(ev["schemaURL"]), q(ev["run"]["runId"]), q("itest"), q(ev["job"]["name"]), 10 * i,
                               q(text)))
        logged = h.sql_json(db, "SELECT seq, xid::text AS xid, encode(hash, 'hex') AS hash FROM events ORDER BY seq")

        s = h.Server(db)
        self.addCleanup(s.kill_quietly)
        s.start()
        self.assertEqual(h.sql_json(db, "SELECT seq, xid::text AS xid, encode(hash, 'hex') AS hash FROM events "
                                        "ORDER BY seq"), logged, "the log is kept as it was")
        self.assertEqual(h.sql_scalar(db, "SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM events"),
                         "events_legacy")
        self.assertEqual(h.sql_json(db, "SELECT eh.seq, encode(eh.hash, 'hex') AS hash FROM event_hashes eh "
                                        "JOIN events e ON e.seq = eh.seq AND e.received_at = eh.received_at "
                                        "ORDER BY eh.seq"),
                         [{"seq": r["seq"], "hash": r["hash"]} for r in logged])
        self.assertEqual(h.sql_scalar(db, "SELECT relkind FROM pg_class WHERE oid = 'events'::regclass"), "p")
        for ev in old:                                  # the migrated hashes still deduplicate
            self.assertCreated(s.post_json(ev))
        self.assertEqual(h.sql_count(db, "FROM events"), 3)
        fresh = h.make_run_event()
        self.assertCreated(s.post_json(fresh))
        seq = int(h.sql_scalar(db, "SELECT seq FROM events WHERE run_uuid = %s" % q(fresh["run"]["runId"])))
        self.assertGreater(seq, max(r["seq"] for r in logged), "the sequence goes on")
        self.assertEqual(h.sql_scalar(db, "SELECT pg_get_serial_sequence('events', 'seq')"), "public.events_seq_seq")
        s.stop()


if __name__ == "__main__":
    unittest.main()
