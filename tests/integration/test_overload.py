"""Load the server cannot carry: health and reads while ingest is stuck, a bounded queue answering 503 with
Retry-After, memory bounded against amplifying bodies, and Postgres stopped and started under load
(issue 11, items 8 to 11 and the fault test).

To make "ingest is slow" deterministic, a psql session holds an EXCLUSIVE lock on the events table:
every ingest transaction then waits inside a worker, reads (which take no such lock) do not."""

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest

import harness as h

sys.path.insert(0, os.path.join(h.REPO_ROOT, "scripts"))
import private_pg  # noqa: E402  (the private Postgres of the fault test)

q = h.sql_quote
WAIT = 60.0


def post_event(server, ev, timeout=WAIT):
    return server.post("/api/v1/lineage", json.dumps(ev).encode(), timeout=timeout)


class EventsLock:
    """A psql session holding EXCLUSIVE on events (inserts wait, selects do not) until release()."""

    def __init__(self, conninfo):
        self.conninfo = conninfo
        env = dict(os.environ, PGAPPNAME="lineaged_test_lock")
        self.proc = subprocess.Popen(["psql", conninfo, "-X", "-q", "-c",
                                      "BEGIN; LOCK TABLE events IN EXCLUSIVE MODE; SELECT pg_sleep(600);"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=env)
        held = h.wait_for(lambda: h.sql_count(conninfo, "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                                                        "WHERE a.application_name = 'lineaged_test_lock' "
                                                        "AND l.mode = 'ExclusiveLock' AND l.granted"), timeout=WAIT)
        if not held:
            self.release()
            raise AssertionError("the test could not lock the events table")

    def waiting_writers(self):
        return h.sql_count(self.conninfo, "FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                          "AND query ILIKE '%events%'")

    def release(self):
        """Ends the locking session's backend (it would sleep on after psql is gone) and psql."""
        h.sql_exec(self.conninfo, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE application_name = 'lineaged_test_lock'")
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(WAIT)


class LanesAndOverloadTest(h.ServerTestCase):
    server_args = ("--db-connections", "2", "--max-queue", "4", "--follow-interval-ms", "0")

    def stored(self, ev):
        return h.sql_count(self.db, "FROM events WHERE run_uuid = %s" % q(h.run_uuid_of(ev["run"]["runId"])))

    def test_health_and_reads_answer_while_ingest_is_stuck_and_the_queue_is_bounded(self):
        lock = EventsLock(self.db)
        results = {}
        threads = []

        def send(i, ev):
            results[i] = post_event(self.server, ev)

        try:
            first = h.make_run_event()
            threads.append(threading.Thread(target=send, args=(0, first)))
            threads[0].start()
            self.assertTrue(h.wait_for(lock.waiting_writers, timeout=WAIT), "the first POST never reached the lock")
            # Issue 11 item 9: health and reads do not wait behind the stuck write (worker 0 takes reads only).
            self.assertEqual(self.server.get("/healthcheck").status, 200)
            self.assertEqual(self.server.get("/api/v1/namespaces").status, 200)
            # Item 11: four more wait in the write lane (--max-queue 4); the rest are refused at once.
            events = [h.make_run_event() for _ in range(9)]
            for i, ev in enumerate(events, 1):
                threads.append(threading.Thread(target=send, args=(i, ev)))
                threads[-1].start()
            self.assertTrue(h.wait_for(lambda: len(results) >= 5, timeout=WAIT), "refusals did not come at once")
            refused = [i for i, r in results.items() if r.status == 503]
            self.assertEqual(len(refused), 5, {i: r.status for i, r in results.items()})
            for i in refused:
                r = results[i]
                self.assertJsonError(r, 503, "--max-queue")
                self.assertEqual(r.headers.get("retry-after"), "1")
            self.assertEqual(self.server.get("/healthcheck").status, 200, "health after the lane filled")
        finally:
            lock.release()
            for t in threads:
                t.join(WAIT)
        self.assertEqual(len(results), 10)
        accepted = [i for i, r in results.items() if r.status != 503]
        for i in accepted:
            self.assertCreated(results[i])
        self.assertEqual(self.stored(first), 1)
        for i, ev in enumerate(events, 1):
            self.assertEqual(self.stored(ev), 1 if i in accepted else 0)
            if i not in accepted:       # a client retrying after Retry-After succeeds
                self.assertCreated(post_event(self.server, ev))
                self.assertEqual(self.stored(ev), 1)


PIECE = 1024 * 1024      # numbers per repeated piece of text


def number_piece(rng):
    """2 MiB of small numbers, "1," and now and then "2,": compresses about 67 to 1, like item 10's body."""
    return b"".join(b"2," if rng.random() < 0.02 else b"1," for _ in range(PIECE))


def small_numbers(count, piece):
    """JSON text of an array of about `count` small numbers (the text a JSON tree grows most from)."""
    reps, rest = divmod(count, PIECE)
    return b"[" + piece * reps + piece[:2 * rest] + b"1]"


def gzip_small_numbers(reps, piece):
    """gzip of small_numbers(reps * PIECE) as a multi-member stream: the piece is compressed once."""
    one = gzip.compress(piece, 9, mtime=0)
    return gzip.compress(b"[", mtime=0) + one * reps + gzip.compress(b"1]", mtime=0)


class MemoryTest(h.ServerTestCase):
    """Issue 11 item 10 with the bodies it names, against a server with default limits: each is refused
    (413 for one request's limit, 503 with Retry-After when requests together hold the shared budget),
    never 500, and peak RSS stays under the README's bound (512 MiB with defaults)."""

    server_args = ("--follow-interval-ms", "0")
    PEAK_RSS_BOUND_KB = 512 * 1024

    def peak_rss_kb(self):
        with open("/proc/%d/status" % self.server.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc/<pid>/status")

    def assertRefusedForMemory(self, r):
        self.assertIn(r.status, (413, 503), r)
        j = self.assertJsonError(r, r.status)
        if r.status == 503:
            self.assertIn("--max-inflight-mb", j["message"])
            self.assertEqual(r.headers.get("retry-after"), "1")
        else:
            self.assertRegex(j["message"], "--max-request-mb|--max-decompressed-bytes|--max-gzip-ratio")

    def test_amplifying_bodies_are_refused_within_the_memory_bound(self):
        piece = number_piece(random.Random(11))
        # 1. 869 KiB of gzip inflating to 57 MiB of small numbers: passes both gzip guards.
        gz = gzip_small_numbers(28, piece)
        inflated = 28 * len(piece) + 3
        self.assertLess(len(gz), 1024 * 1024)
        self.assertLess(inflated, 64 * 1024 * 1024)
        self.assertLess(inflated / len(gz), 200)
        self.assertRefusedForMemory(self.server.post("/api/v1/lineage", gz, {"Content-Encoding": "gzip"},
                                                     timeout=300))
        # 2. A 4 MB array of 2 million numbers.
        self.assertRefusedForMemory(self.server.post("/api/v1/lineage/batch", small_numbers(2 * 1000 * 1000, piece),
                                                     timeout=300))
        # 3. Four 15 MiB plain bodies at once, and four of the gzip bodies at once.
        plain = small_numbers(15 * 512 * 1024, piece)
        for body, headers in ((plain, {}), (gz, {"Content-Encoding": "gzip"})):
            answers = []
            threads = [threading.Thread(target=lambda: answers.append(
                self.server.post("/api/v1/lineage", body, headers, timeout=300))) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
            self.assertEqual(len(answers), 4)
            for r in answers:
                self.assertRefusedForMemory(r)
        # Still serving, and an ordinary event still goes in.
        ev = h.make_run_event()
        r = post_event(self.server, ev)
        self.assertEqual(r.status, 201, r)
        if not h.sanitized_build():   # ASan's shadow memory and quarantine are not the server's
            peak = self.peak_rss_kb()
            self.assertLess(peak, self.PEAK_RSS_BOUND_KB, "peak RSS %d KiB" % peak)


class PostgresFaultTest(h.HttpAsserts, unittest.TestCase):
    """Postgres stopped mid-load: 503 with Retry-After, never 500, a few log lines; started again: the
    same lineaged process recovers without a restart, and every acknowledged event is stored once."""

    def setUp(self):
        self.pg = private_pg.PrivatePostgres(h.lineaged_bin(), "lineaged-fault-", subdir="pg",
                                             base="/tmp" if os.path.isdir("/tmp") else None)
        self.addCleanup(self.pg.remove_tmp)
        self.addCleanup(self.pg.stop_process)
        self.conninfo = self.pg.start(stderr=subprocess.DEVNULL)
        self.restarted = None
        self.server = h.Server(self.conninfo, "--follow-interval-ms", "0")
        self.addCleanup(self.server.kill_quietly)
        self.server.start()

    def tearDown(self):
        if self.restarted is not None:
            private_pg.stop(self.restarted, "restarted lineaged postgres")

    def restart_postgres(self):
        """`lineaged postgres` again on the same data directory (same socket, same conninfo)."""
        self.restarted = subprocess.Popen([h.lineaged_bin(), "postgres", "--data-dir", self.pg.data_dir],
                                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, text=True)
        private_pg.wait_line(self.restarted, self.restarted.stdout, private_pg.READY_RE, 120, "lineaged postgres")

    def test_postgres_stopped_and_started_under_load(self):
        acked, statuses, problems = [], [], []
        lock, stop = threading.Lock(), threading.Event()

        def writer():
            while not stop.is_set():
                ev = h.make_run_event()
                try:
                    r = post_event(self.server, ev, timeout=WAIT)
                except OSError:
                    continue
                with lock:
                    statuses.append(r.status)
                    if r.status == 201:
                        acked.append(ev)
                    elif r.status == 503 and (r.headers.get("retry-after") != "1" or b'"code":503' not in r.body):
                        problems.append(r)
                time.sleep(0.01)

        threads = [threading.Thread(target=writer) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            self.assertTrue(h.wait_for(lambda: len(acked) >= 20, timeout=WAIT), "no load before the outage")
            self.pg.stop_process()
            with lock:
                n_before = len(statuses)
            self.assertTrue(h.wait_for(lambda: statuses[n_before:].count(503) >= 50, timeout=WAIT),
                            "no 503s while Postgres was down: %r" % sorted(set(statuses)))
            self.assertEqual(self.server.get("/healthcheck").status, 503)
            self.restart_postgres()
            with lock:
                n_down = len(statuses)
            self.assertTrue(h.wait_for(lambda: statuses[n_down:].count(201) >= 20, timeout=WAIT),
                            "no recovery after Postgres came back: %r" % statuses[n_down:][-20:])
        finally:
            stop.set()
            for t in threads:
                t.join(WAIT)
        self.assertEqual(problems[:3], [], "503s without Retry-After or a JSON body")
        self.assertNotIn(500, statuses)
        self.assertEqual(set(statuses) - {201, 503}, set())
        self.assertEqual(self.server.get("/healthcheck").status, 200)
        runs = {h.run_uuid_of(ev["run"]["runId"]) for ev in acked}
        stored = h.sql_json(self.conninfo, "SELECT run_uuid, count(*) AS n FROM events GROUP BY run_uuid")
        by_run = {row["run_uuid"]: row["n"] for row in stored}
        self.assertEqual({r for r in runs if by_run.get(r) != 1}, set(), "acknowledged events not stored once")
        lines = [ln for ln in self.server.stderr_text().splitlines() if " warn " in ln or " error " in ln]
        self.assertLess(len(lines), 30, "outage lines are not rate-limited: %d lines for %d refusals:\n%s" %
                        (len(lines), statuses.count(503), "\n".join(lines[:40])))
        self.server.stop()


if __name__ == "__main__":
    unittest.main()
