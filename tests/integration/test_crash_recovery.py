"""tests/integration/test_crash_recovery.py - the private Postgres after lineaged dies (issue 11, item 12).

These tests run `lineaged serve --data-dir` with its own private Postgres (not the shared test
cluster): kill -9 under concurrent load, then a restart on the same directory with no manual step
must find every acknowledged event exactly once; the postmaster must die with lineaged; an orphaned
postmaster (left by an older lineaged, or started by hand) is stopped and replaced; a second lineaged
on a live directory is refused while `lineaged keys` shares it.
Invariants: one data directory per class (initdb once); each test leaves no lineaged or postmaster
running (tearDown stops what it started, by pid).
"""

import os
import shutil
import signal
import subprocess
import tempfile
import unittest

import authkit as ak
import harness as h


def pid_alive(pid):
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with open("/proc/%d/stat" % pid) as f:      # a zombie is dead for our purposes
        return f.read().split(")")[-1].split()[0] != "Z"


class PrivatePostgresCrashTest(h.HttpAsserts, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lineaged-crash-", dir="/tmp")
        os.chmod(cls.tmp, 0o755)                    # as root, the postgres user must reach the data dir
        cls.data = os.path.join(cls.tmp, "pg")
        cls.conninfo = "host='%s' port=5432 dbname=lineaged user=lineaged" % cls.data

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.kill_quietly()
        pid = self.postmaster_pid()
        if pid and pid_alive(pid):                  # only if a test failed half-way
            self.pg_ctl("stop", "-m", "immediate", "-w")

    def serve(self, *args):
        s = h.Server("", "--data-dir", self.data, *args)
        self.servers.append(s)
        return s.start()

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def pg_ctl(self, *args):
        bindir = subprocess.run(["pg_config", "--bindir"], stdout=subprocess.PIPE, check=True).stdout.decode().strip()
        user = "postgres" if os.geteuid() == 0 else None
        return subprocess.run([os.path.join(bindir, "pg_ctl"), "-D", self.data, "-l",
                               os.path.join(self.data, "postgres.log")] + list(args), user=user,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)

    def test_1_kill9_mid_load_then_restart_keeps_every_acknowledged_event_once(self):
        s1 = self.serve()
        old_postmaster = self.postmaster_pid()
        writers = h.AckedWriters(s1, threads=6).start()
        enough = writers.wait_acked(80, 120)
        s1.kill9()                                   # requests are in flight on every connection
        writers.stop()
        self.assertTrue(enough, "the load never reached 80 acknowledged events")
        acked_now = writers.acked()

        s2 = self.serve()                            # same directory, no manual step
        self.assertNotEqual(self.postmaster_pid(), old_postmaster)
        self.assertFalse(pid_alive(old_postmaster), "the old postmaster still runs")
        counts = {r["run_uuid"]: r["n"] for r in h.sql_json(
            self.conninfo, "SELECT run_uuid::text AS run_uuid, count(*) AS n FROM events GROUP BY run_uuid")}
        lost = [ev["run"]["runId"] for ev in acked_now if counts.get(ev["run"]["runId"], 0) == 0]
        doubled = [ev["run"]["runId"] for ev in acked_now if counts.get(ev["run"]["runId"], 0) > 1]
        self.assertEqual(lost, [], "%d of %d acknowledged events lost" % (len(lost), len(acked_now)))
        self.assertEqual(doubled, [], "acknowledged events stored twice")
        n = h.sql_count(self.conninfo, "FROM events")
        self.assertCreated(s2.post_json(acked_now[0]))   # a retry of an acknowledged event changes nothing
        self.assertEqual(h.sql_count(self.conninfo, "FROM events"), n)
        r = s2.get("/api/v1/namespaces/itest/jobs/%s" % acked_now[-1]["job"]["name"])
        self.assertStatus(r, 200)
        pid = self.postmaster_pid()
        self.assertTrue(pid_alive(pid))
        s2.stop()
        self.assertFalse(pid_alive(pid), "a clean stop leaves the postmaster running")

    def test_2_postmaster_dies_with_lineaged_and_gets_no_secrets(self):
        os.environ["LINEAGED_API_KEYS"] = "crash-test-secret-key-01"
        try:
            s = self.serve()
        finally:
            del os.environ["LINEAGED_API_KEYS"]
        pid = self.postmaster_pid()
        self.assertTrue(pid and pid_alive(pid))
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read()
        self.assertNotIn(b"LINEAGED_", env)
        self.assertNotIn(b"crash-test-secret", env)
        with open("/proc/%d/stat" % pid) as f:
            self.assertEqual(int(f.read().split(")")[-1].split()[1]), s.proc.pid, "postmaster is not our child")
        s.kill9()
        self.assertTrue(h.wait_for(lambda: not pid_alive(pid), timeout=60), "postmaster outlived lineaged")
        with open(os.path.join(self.data, "postgres.log"), errors="replace") as f:
            self.assertIn("received fast shutdown request", f.read())

    def test_3_orphaned_postmaster_is_stopped_and_replaced(self):
        p = self.pg_ctl("start", "-w")               # as an older lineaged (pg_ctl start) would leave it
        self.assertEqual(p.returncode, 0, p.stderr)
        orphan = self.postmaster_pid()
        self.assertTrue(orphan and pid_alive(orphan))
        s = self.serve()
        self.assertFalse(pid_alive(orphan))
        self.assertNotEqual(self.postmaster_pid(), orphan)
        self.assertIn("left by an earlier lineaged", s.stderr_text())
        self.assertCreated(s.post_json(h.make_run_event()))
        s.stop()

    def test_4_second_lineaged_refused_while_keys_share_the_cluster(self):
        s = self.serve()
        p = subprocess.run([h.lineaged_bin(), "serve", "--database-url", "", "--data-dir", self.data, "--port",
                            str(h.free_port())], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=h.START_TIMEOUT)
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("another lineaged process uses the data directory", err)
        key = ak.create_key(None, "shared", "write", data_dir=self.data)
        rc, out, err = ak.run_keys(None, "list", data_dir=self.data)
        self.assertEqual(rc, 0, err)
        self.assertIn("\tshared\twrite\t", out)
        self.assertTrue(h.wait_for(lambda: s.post_json(h.make_run_event(), headers=ak.bearer(key)).status == 201,
                                   timeout=10))
        self.assertStatus(s.get("/healthcheck"), 200)
        pid = self.postmaster_pid()
        s.stop(signal.SIGINT)
        self.assertFalse(pid_alive(pid), "the keys commands must not have taken over the cluster")


if __name__ == "__main__":
    unittest.main()
