"""tests/integration/test_ops_first_command.py - the first command run as root (issue 13, "The first
command").

A checkout in a directory user postgres cannot enter (like /root) is simulated with a 0700 tempdir.
Run there as root with no --data-dir, the private Postgres must move to --private-data-root (a
tempdir here, /var/lib/lineaged by default), say so, and find the same directory on the next run; an
explicit --data-dir is never moved.
"""

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import REPO_ROOT, lineaged_bin, sql_scalar

sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
import private_pg  # noqa: E402  (scripts/private_pg.py)


def postgres_user_exists():
    try:
        pwd.getpwnam("postgres")
        return True
    except KeyError:
        return False


@unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0 and postgres_user_exists(),
                     "the fallback is for root with a postgres user")
class FirstCommandAsRootTest(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="lineaged-roothome-")  # 0700: user postgres cannot enter
        self.checkout = os.path.join(self.home, "lineaged")
        os.mkdir(self.checkout)
        self.root = tempfile.mkdtemp(prefix="lineaged-root-")
        os.chmod(self.root, 0o755)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGED_")}
        self.procs = []

    def tearDown(self):
        clean = all(private_pg.stop(p, "lineaged postgres") for p in self.procs)
        if clean:
            shutil.rmtree(self.home, ignore_errors=True)
            shutil.rmtree(self.root, ignore_errors=True)

    def start_postgres(self, *args):
        """`lineaged postgres` in the checkout; returns (conninfo, stderr file path)."""
        log = os.path.join(self.home, "stderr-%d.log" % len(self.procs))
        with open(log, "w") as err:
            proc = subprocess.Popen([lineaged_bin(), "postgres", "--private-data-root", self.root] + list(args),
                                    cwd=self.checkout, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=err, text=True)
        self.procs.append(proc)
        m = private_pg.wait_line(proc, proc.stdout, private_pg.READY_RE, private_pg.READY_TIMEOUT_S,
                                 "lineaged postgres")
        return m.group(1).strip(), log

    def read(self, path):
        with open(path) as f:
            return f.read()

    def test_default_data_dir_moves_where_postgres_can_reach_it(self):
        conninfo, log = self.start_postgres()
        wanted = os.path.join(os.path.realpath(self.checkout), "var")
        host = re.search(r"host='([^']*)'", conninfo).group(1)
        self.assertEqual(os.path.dirname(host), os.path.realpath(self.root))
        self.assertRegex(os.path.basename(host), r"^[A-Za-z0-9._-]+-var-[0-9a-f]{8}$")
        text = self.read(log)
        self.assertIn('user postgres cannot reach the default data directory "%s"' % wanted, text)
        self.assertIn('the private Postgres lives in "%s" instead; pass --data-dir' % host, text)
        self.assertTrue(os.path.isfile(os.path.join(host, "PG_VERSION")))
        self.assertEqual(pwd.getpwuid(os.stat(host).st_uid).pw_name, "postgres")
        self.assertFalse(os.path.exists(wanted), "the empty default data dir was left behind")
        self.assertEqual(sql_scalar(conninfo, "SELECT 1"), "1")
        self.assertTrue(private_pg.stop(self.procs[-1], "lineaged postgres"))

        again, log2 = self.start_postgres()  # the same checkout finds the same cluster
        self.assertEqual(again, conninfo)
        self.assertNotIn("initialising a new cluster", self.read(log2))
        self.assertTrue(private_pg.stop(self.procs[-1], "lineaged postgres"))

        # serve and migrate open the database the same way
        done = subprocess.run([lineaged_bin(), "migrate", "--private-data-root", self.root], cwd=self.checkout,
                              env=self.env, capture_output=True, text=True, timeout=180)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn('lives in "%s" instead' % host, done.stderr)
        self.assertIn("database schema is up to date", done.stderr)

    def test_chosen_data_dir_is_kept_and_refused(self):
        chosen = os.path.join(self.checkout, "chosen")
        done = subprocess.run([lineaged_bin(), "postgres", "--data-dir", chosen, "--private-data-root", self.root],
                              cwd=self.checkout, env=self.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 1)
        self.assertIn('user postgres cannot reach "%s"' % os.path.realpath(chosen), done.stderr)
        self.assertEqual(os.listdir(self.root), [])
