"""tests/integration/test_keys_cli.py - `lineaged keys create|list|revoke` run as a real process
(issue 11, item 13): the key is printed once and stored only as its SHA-256, names and scopes are
checked, exit codes say what happened (0 done, 1 failed, 2 usage).
"""

import re
import subprocess
import unittest

import authkit as ak
import harness as h


class KeysCliTest(h.HttpAsserts, unittest.TestCase):
    def setUp(self):
        self.db = h.fresh_database("keys_cli")       # never migrated: the CLI brings the schema up itself

    def rows(self):
        return h.sql_json(self.db, "SELECT id, name, scope, encode(key_hash, 'hex') AS hash, "
                                   "revoked_at IS NOT NULL AS revoked, row_to_json(k)::text AS text "
                                   "FROM api_keys k ORDER BY id")

    def test_create_prints_the_key_once_and_stores_only_its_hash(self):
        rc, out, err = ak.run_keys(self.db, "create", "--name", "mlflow", "--scope", "write")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^lk_[0-9a-f]{64}\n$")
        key = out.strip()
        self.assertNotIn(key, err)
        self.assertIn('name="mlflow"', err)
        rows = self.rows()
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["name"], rows[0]["scope"], rows[0]["revoked"]), ("mlflow", "write", False))
        self.assertEqual(rows[0]["hash"], ak.sha256_hex(key))
        self.assertNotIn(key, rows[0]["text"])
        self.assertNotIn(key[3:], rows[0]["text"])
        rc, out2, err = ak.run_keys(self.db, "list")
        self.assertEqual(rc, 0, err)
        self.assertNotIn(key, out2 + err)
        other = ak.create_key(self.db, "airflow", "admin")
        self.assertNotEqual(other, key)

    def test_list_shows_every_key_with_its_state(self):
        rc, out, err = ak.run_keys(self.db, "list")
        self.assertEqual((rc, out), (0, "id\tname\tscope\tcreated\trevoked\n"), err)
        for name, scope in (("a-reader", "read"), ("a-writer", "write"), ("an admin", "admin")):
            ak.create_key(self.db, name, scope)
        self.assertEqual(ak.run_keys(self.db, "revoke", "--name", "a-writer")[0], 0)
        rc, out, err = ak.run_keys(self.db, "list")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "id\tname\tscope\tcreated\trevoked")
        cells = [line.split("\t") for line in lines[1:]]
        self.assertEqual([(c[1], c[2]) for c in cells], [("a-reader", "read"), ("a-writer", "write"),
                                                         ("an admin", "admin")])
        stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
        for c in cells:
            self.assertRegex(c[3], stamp)
        self.assertEqual([c[4] == "-" for c in cells], [True, False, True])
        self.assertRegex(cells[1][4], stamp)

    def test_revoke_by_name_or_id(self):
        ak.create_key(self.db, "one", "read")
        ak.create_key(self.db, "two", "read")
        ids = {r["name"]: r["id"] for r in self.rows()}
        rc, out, err = ak.run_keys(self.db, "revoke", "--id", str(ids["two"]))
        self.assertEqual((rc, out), (0, "revoked key %d\n" % ids["two"]), err)
        rc, out, err = ak.run_keys(self.db, "revoke", "--name", "one")
        self.assertEqual((rc, out), (0, "revoked key %d\n" % ids["one"]), err)
        self.assertEqual([r["revoked"] for r in self.rows()], [True, True])
        rc, out, err = ak.run_keys(self.db, "revoke", "--name", "one")
        self.assertEqual(rc, 1)
        self.assertIn('no active key named "one"', err)
        rc, out, err = ak.run_keys(self.db, "revoke", "--id", "999999")
        self.assertEqual(rc, 1)
        self.assertIn("no active key with id 999999", err)

    def test_names_are_unique_among_active_keys(self):
        ak.create_key(self.db, "dbt", "write")
        rc, out, err = ak.run_keys(self.db, "create", "--name", "dbt", "--scope", "read")
        self.assertEqual((rc, out), (1, ""))
        self.assertIn('an active key named "dbt" exists', err)
        self.assertEqual(ak.run_keys(self.db, "revoke", "--name", "dbt")[0], 0)
        ak.create_key(self.db, "dbt", "read")          # the name is free again once revoked
        self.assertEqual([(r["name"], r["revoked"]) for r in self.rows()], [("dbt", True), ("dbt", False)])

    def test_usage_errors_exit_2_and_change_nothing(self):
        cases = (
            (("create", "--name", "x", "--scope", "owner"), "--scope read, write or admin"),
            (("create", "--scope", "read"), "--name"),
            (("create", "--name", "x" * 201, "--scope", "read"), "1 to 200 characters"),
            (("create", "--name", "tab\there", "--scope", "read"), "control characters"),
            (("revoke",), "exactly one of --name and --id"),
            (("revoke", "--name", "a", "--id", "3"), "exactly one of --name and --id"),
            (("list", "--scope", "read"), "list takes no"),
            (("create", "--name", "x", "--scope", "read", "--port", "1"), "unknown option"),
            (("rotate",), "unknown command"),
        )
        for args, word in cases:
            with self.subTest(args=args[:3]):
                rc, out, err = ak.run_keys(self.db, *args)
                self.assertEqual((rc, out), (2, ""), err)
                self.assertIn(word, err)
        self.assertEqual(h.sql_scalar(self.db, "SELECT to_regclass('public.api_keys') IS NULL"), "t")

    def test_help(self):
        p = subprocess.run([h.lineaged_bin(), "keys", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"create --name NAME --scope read|write|admin", p.stdout)
        p = subprocess.run([h.lineaged_bin(), "keys", "create", "--help"], stdout=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0)
        for flag in (b"--name", b"--scope", b"--id", b"--database-url", b"--data-dir"):
            self.assertIn(flag, p.stdout)
        self.assertTrue(re.search(rb"--port\b", p.stdout) is None)


if __name__ == "__main__":
    unittest.main()
