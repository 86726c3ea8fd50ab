"""Group commit under faults, over real HTTP against a real Postgres (collector/ingest.c).

Queued POST /api/v1/lineage requests are written together; when the shared transaction fails, each
request must still get its own answer. To make a group deterministic, the one worker is held inside
a request (a psql session holds a lock on the events table) while the others arrive and queue; then
the lock is released and the worker takes the queued ones together. The store fails in the middle of
that group through a trigger that refuses one job's event, as a constraint or a bug would.

Also: a database connection that dies under the server (pg_terminate_backend: SQLSTATE 57P01, what a
Postgres shutdown does) is answered 503 with Retry-After, never 500, and the next request reconnects."""

import json
import subprocess
import threading
import time
import unittest

import harness as h


def event(job, run_id=None):
    ev = h.make_run_event(run_id=run_id, event_type="COMPLETE", namespace="grp", job=job)
    return json.dumps(ev).encode()


class LockedEvents:
    """A psql session holding an EXCLUSIVE lock on `events` until release()."""

    def __init__(self, conninfo):
        self.p = subprocess.Popen(["psql", conninfo, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.p.stdin.write(b"BEGIN;\nLOCK TABLE events IN EXCLUSIVE MODE;\nSELECT 'locked';\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if line.strip() != b"locked":
            raise AssertionError("psql did not take the lock: %r %r" % (line, self.p.stderr.read()))

    def release(self):
        self.p.stdin.write(b"COMMIT;\n")
        self.p.stdin.close()
        self.p.wait(60)


class GroupCommitFaultTest(h.ServerTestCase):
    server_args = ("--db-connections", "1", "--follow-interval-ms", "0")
    server_log_level = "warn"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h.sql_exec(cls.db, """
            CREATE FUNCTION refuse_poisoned() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.job_name = 'poisoned' THEN RAISE EXCEPTION 'injected failure for job poisoned'; END IF;
              RETURN NEW;
            END $$""",
                   "CREATE TRIGGER refuse_poisoned BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_poisoned()")

    def waiting_on_lock(self):
        return h.sql_count(self.db, "FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'") > 0

    def post_async(self, body, results, i):
        def run():
            results[i] = self.server.post("/api/v1/lineage", body)
        t = threading.Thread(target=run)
        t.start()
        return t

    def test_failing_group_answers_each_request_on_its_own(self):
        stored_before = h.sql_count(self.db, "FROM events")
        lock = LockedEvents(self.db)
        try:
            results = [None] * 6
            threads = [self.post_async(event("holder"), results, 0)]
            self.assertTrue(h.wait_for(self.waiting_on_lock, timeout=30), "the first request never reached the lock")
            # queued behind it, in this order: malformed first (request 0 of the group), then the rest
            bodies = [b'{"eventTime": ', event("good_a"), b'{"producer":"p","run":{},"job":{}}', event("poisoned"),
                      event("good_b")]
            for i, body in enumerate(bodies, start=1):
                threads.append(self.post_async(body, results, i))
                time.sleep(0.1)  # keep the queue order
            time.sleep(0.5)      # every request read and queued
        finally:
            lock.release()
        for t in threads:
            t.join(60)
        holder, malformed, good_a, invalid, poisoned, good_b = results
        self.assertCreated(holder)
        self.assertJsonError(malformed, 400, "malformed JSON")
        self.assertCreated(good_a)
        self.assertViolations(invalid, "eventTime must not be null")
        self.assertJsonError(poisoned, 500, "internal error")
        self.assertCreated(good_b)
        self.assertIn("a group of 5 requests failed together", self.server.stderr_text(),
                      "the queued requests were not taken as one group, so the fault path was not exercised")
        jobs = h.sql_json(self.db, "SELECT job_name FROM events ORDER BY seq")
        self.assertEqual(h.sql_count(self.db, "FROM events") - stored_before, 3)
        self.assertEqual(sorted(j["job_name"] for j in jobs[-3:]), ["good_a", "good_b", "holder"])


class ConnectionLossTest(h.ServerTestCase):
    server_args = ("--db-connections", "1", "--follow-interval-ms", "0")
    server_log_level = "error"

    def test_terminated_connection_is_503_with_retry_after_then_recovers(self):
        self.assertCreated(self.server.post("/api/v1/lineage", event("before")))
        killed = h.sql_scalar(self.db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        self.assertGreaterEqual(int(killed), 1)
        r = self.server.post("/api/v1/lineage", event("during"))
        self.assertJsonError(r, 503, "retry")
        self.assertEqual(r.headers.get("retry-after"), "1")
        self.assertCreated(self.server.post("/api/v1/lineage", event("during")))
        self.assertEqual(h.sql_count(self.db, "FROM events WHERE job_name = 'during'"), 1)


if __name__ == "__main__":
    unittest.main()
