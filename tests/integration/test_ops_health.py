"""tests/integration/test_ops_health.py - GET /healthz and GET /readyz (issue 13, health).

Readiness is made to fail for each of its reasons in turn and to recover: a migration row removed, a
transaction holding the follower back, and the database itself stopped and started again (a private
Postgres of this test's own, `lineaged postgres --data-dir DIR`).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import (REPO_ROOT, HttpAsserts, Server, ServerTestCase, lineaged_bin, make_run_event, sql_exec,
                     sql_scalar, wait_for)

sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
import private_pg  # noqa: E402  (scripts/private_pg.py)

READY_TIMEOUT = 20.0


class HealthTest(ServerTestCase):
    server_args = ("--follow-interval-ms", "100", "--ready-max-lag", "0")

    def ready(self):
        r = self.server.get("/readyz")
        self.assertStatus(r, (200, 503))
        return r

    def test_healthz_is_alive(self):
        r = self.server.get("/healthz")
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"alive": True})

    def test_readyz_lists_every_check(self):
        r = self.ready()
        self.assertStatus(r, 200)
        j = r.json()
        self.assertEqual(j["ready"], True)
        self.assertEqual(j["reasons"], [])
        checks = j["checks"]
        self.assertEqual(sorted(checks), ["database", "followerLag", "graph", "migrations"])
        self.assertTrue(all(c["ok"] for c in checks.values()), j)
        applied = int(sql_scalar(self.db, "SELECT count(*) FROM schema_migrations"))
        self.assertEqual(checks["migrations"]["applied"], applied)
        self.assertEqual(checks["migrations"]["expected"], applied)
        self.assertEqual(checks["followerLag"]["max"], 0)

    def test_readyz_fails_while_a_migration_is_missing(self):
        version, name = sql_scalar(self.db, "SELECT version || '|' || name FROM schema_migrations "
                                            "ORDER BY version DESC LIMIT 1").split("|")
        sql_exec(self.db, "DELETE FROM schema_migrations WHERE version = %s" % version)
        try:
            r = self.ready()
            self.assertStatus(r, 503)
            j = r.json()
            self.assertEqual(j["ready"], False)
            self.assertEqual(j["reasons"], ["migrations: %d of %s applied" % (int(version) - 1, version)])
            self.assertEqual(j["checks"]["migrations"], {"ok": False, "applied": int(version) - 1,
                                                         "expected": int(version)})
        finally:
            sql_exec(self.db, "INSERT INTO schema_migrations (version, name) VALUES (%s, '%s')" % (version, name))
        self.assertStatus(self.ready(), 200)

    def test_readyz_fails_while_the_follower_lags(self):
        # A transaction with an xid holds the oldest running xid back: the follower cannot pass it, so an
        # event committed after it is in the log but not below the follower's xmin.
        holder = subprocess.Popen(["psql", self.db, "-X", "-q", "-A", "-t"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            holder.stdin.write("BEGIN;\nSELECT pg_current_xact_id();\n")
            holder.stdin.flush()
            self.assertTrue(holder.stdout.readline().strip().isdigit())
            self.assertTrue(wait_for(lambda: self.ready().status == 200, READY_TIMEOUT))
            self.assertCreated(self.server.post_json(make_run_event()))
            r = wait_for(lambda: (lambda x: x if x.status == 503 else None)(self.ready()), READY_TIMEOUT)
            self.assertTrue(r, "readyz stayed 200 while the follower was held back")
            j = r.json()
            self.assertFalse(j["checks"]["followerLag"]["ok"])
            self.assertGreaterEqual(j["checks"]["followerLag"]["lag"], 1)
            self.assertEqual(len(j["reasons"]), 1)
            self.assertRegex(j["reasons"][0], r"^followerLag: \d+ events behind the log \(max 0\)$")
        finally:
            holder.stdin.write("ROLLBACK;\n")
            holder.stdin.close()
            holder.wait(30)
        self.assertTrue(wait_for(lambda: self.ready().status == 200, READY_TIMEOUT),
                        "readyz did not recover after the transaction ended")


def start_private_pg(data_dir, log):
    """`lineaged postgres --data-dir data_dir`, its log appended to the file log; returns (process, conninfo)."""
    with open(log, "a") as err:
        proc = subprocess.Popen([lineaged_bin(), "postgres", "--data-dir", data_dir], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        m = private_pg.wait_line(proc, proc.stdout, private_pg.READY_RE, private_pg.READY_TIMEOUT_S,
                                 "lineaged postgres")
    except BaseException:
        private_pg.stop(proc, "lineaged postgres")
        raise
    return proc, m.group(1).strip()


class ReadinessFollowsPostgresTest(HttpAsserts, unittest.TestCase):
    """Postgres stops under a running server and comes back on the same data directory."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lineaged-readyz-")
        os.chmod(self.tmp, 0o755)  # as root, Postgres runs as user postgres and must reach the data dir
        self.data = os.path.join(self.tmp, "pg")
        self.log = os.path.join(self.tmp, "lineaged-postgres.log")
        self.pg, self.conninfo = start_private_pg(self.data, self.log)
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.kill_quietly()
        stopped = private_pg.stop(self.pg, "lineaged postgres")
        if stopped:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def test_readiness_flips_when_postgres_stops_and_recovers(self):
        self.server = Server(self.conninfo, "--follow-interval-ms", "100", "--silent-jobs-interval", "1").start()
        self.assertStatus(self.server.get("/readyz"), 200)
        self.assertTrue(private_pg.stop(self.pg, "lineaged postgres"))

        r = wait_for(lambda: (lambda x: x if x.status == 503 else None)(self.server.get("/readyz")),
                     READY_TIMEOUT)
        self.assertTrue(r, "readyz stayed 200 with Postgres stopped")
        j = r.json()
        self.assertEqual(j["ready"], False)
        self.assertEqual(j["checks"]["database"]["ok"], False)
        self.assertTrue(j["checks"]["database"]["error"])
        self.assertTrue(j["reasons"] and j["reasons"][0].startswith("database: "), j)
        self.assertTrue(j["checks"]["graph"]["ok"])
        self.assertStatus(self.server.get("/healthz"), 200)
        self.assertJsonError(self.server.get("/healthcheck"), 503)
        # /metrics still answers; the silent-job count needs the database: left out, not an error
        self.assertTrue(wait_for(lambda: "lineaged_silent_jobs" not in self.server.get("/metrics").text(), 10))

        self.pg, conninfo = start_private_pg(self.data, self.log)
        self.assertEqual(conninfo, self.conninfo)
        self.assertTrue(wait_for(lambda: self.server.get("/readyz").status == 200, READY_TIMEOUT),
                        "readyz did not recover after Postgres came back")
        # A worker whose connection died with Postgres learns it on first use: that request gets 503 with
        # Retry-After and the connection is made again, so a client retrying gets its 201.
        ev = make_run_event()

        def post():
            r = self.server.post_json(ev)
            self.assertStatus(r, (201, 503))
            return r.status == 201
        self.assertTrue(wait_for(post, READY_TIMEOUT), "ingest did not recover after Postgres came back")
        self.assertTrue(wait_for(lambda: "lineaged_silent_jobs 0" in self.server.get("/metrics").text(), 10))
        self.server.stop()
        self.server = None
