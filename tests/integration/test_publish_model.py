"""`lineaged publish-model FILE` against a real server: publish, publish again unchanged (nothing new is
stored), publish a changed file (a new model version), --dry-run (prints exactly the stored event, sends
nothing), the unknown-table warning, a broken file (nothing sent), an unreachable server, API keys.

Each test publishes its own variant of the shared reference file (../shared/ml/ml_model.yaml) under its
own model and service names, so tests of the class share one server without seeing each other's rows.
The CLI runs with CI variables removed (and set only where a test needs them), so the events do not
depend on where the suite runs."""

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import harness as h

CLI_TIMEOUT = 120
CI_VARS = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_WORKSPACE", "CI_PROJECT_URL",
           "CI_COMMIT_SHA", "CI_PROJECT_DIR", "GIT_URL", "GIT_COMMIT")


def enc(s):
    return urllib.parse.quote(s, safe="")


def reference_text():
    with open(os.path.join(h.shared_dir(), "ml", "ml_model.yaml"), encoding="utf-8") as f:
        return f.read()


def model_text(name, namespace, *changes):
    """The reference file for model `name`, its tables in `namespace`, with (old, new) text changes."""
    text = reference_text().replace("name: Revenue Predictions", "name: " + name)
    text = text.replace("postgres://postgresql:5432", namespace)
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


class PublishModelBase(h.ServerTestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="lineaged-publish-")
        self.addCleanup(self.tmp.cleanup)

    def write(self, text, fname="model.yaml"):
        path = os.path.join(self.tmp.name, fname)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def cli(self, path, *args, env=None, url=None):
        """Runs publish-model; returns (exit code, stdout, stderr) and checks stderr for sanitizer reports."""
        e = {k: v for k, v in os.environ.items() if k not in CI_VARS and not k.startswith("LINEAGED_")}
        e.update(env or {})
        cmd = [h.lineaged_bin(), "publish-model", path,
               "--url", url or "http://127.0.0.1:%d" % self.server.port] + list(args)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=e, timeout=CLI_TIMEOUT)
        out, err = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
        for m in h.SANITIZER_MARKERS:
            self.assertNotIn(m, err)
        return p.returncode, out, err

    def events_of(self, job_ns):
        return h.sql_json(self.db, "SELECT body FROM events WHERE job_namespace = %s ORDER BY seq" % h.sql_quote(job_ns))

    def count(self, table, where="true"):
        return h.sql_count(self.db, "FROM %s WHERE %s" % (table, where))


class PublishModelTest(PublishModelBase):
    def test_publish_then_unchanged_again_stores_nothing_new(self):
        path = self.write(model_text("churn", "postgres://churn-db:5432", ("CustomMLService", "churn_svc")))
        rc, out, err = self.cli(path)
        self.assertEqual(rc, 0, err)
        self.assertIn('published model "churn" version ', out)
        evs = self.events_of("churn_svc")
        self.assertEqual(len(evs), 1)
        ev = evs[0]["body"]
        self.assertEqual(ev["eventType"], "COMPLETE")
        self.assertEqual(ev["job"], {"namespace": "churn_svc", "name": "publish_model.churn",
                                     "facets": ev["job"]["facets"]})
        tables = ("events", "runs", "run_states", "datasets", "dataset_versions", "dataset_fields", "jobs",
                  "job_versions", "run_io", "column_lineage", "dataset_facets", "run_facets", "job_facets")
        before = {t: self.count(t) for t in tables}

        rc, out2, err2 = self.cli(path)
        self.assertEqual(rc, 0, err2)
        self.assertIn("already published: unchanged", out2)
        self.assertEqual({t: self.count(t) for t in tables}, before)
        self.assertNotIn("warning", err2)   # the tables exist now: the first publish named them

    def test_dry_run_prints_the_stored_event_byte_for_byte_and_sends_nothing(self):
        path = self.write(model_text("eta", "postgres://eta-db:5432", ("CustomMLService", "eta_svc")))
        rc, dry_first, err = self.cli(path, "--dry-run")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.count("events", "job_namespace = 'eta_svc'"), 0)
        self.assertEqual(json.loads(dry_first)["eventType"], "COMPLETE")

        rc, _, err = self.cli(path)
        self.assertEqual(rc, 0, err)
        stored = self.events_of("eta_svc")[0]["body"]
        rc, dry1, err = self.cli(path, "--dry-run")
        self.assertEqual(rc, 0, err)
        rc, dry2, err = self.cli(path, "--dry-run")
        self.assertEqual(dry1, dry2)
        self.assertTrue(dry1.endswith("}\n") and "\n" not in dry1[:-1])
        self.assertEqual(json.loads(dry1), stored)   # the printed event is the stored one, eventTime included
        self.assertEqual(json.loads(dry1)["eventTime"], stored["eventTime"])
        self.assertEqual(self.count("events", "job_namespace = 'eta_svc'"), 1)

    def test_changed_file_is_a_new_model_version(self):
        ns = "postgres://fraud-db:5432"
        path = self.write(model_text("fraud", ns, ("CustomMLService", "fraud_svc")))
        self.assertEqual(self.cli(path)[0], 0)
        path2 = self.write(model_text("fraud", ns, ("CustomMLService", "fraud_svc"),
                                      ("    value: 0.5", "    value: 0.7")), "model2.yaml")
        rc, out, err = self.cli(path2)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("already published", out)
        evs = [e["body"] for e in self.events_of("fraud_svc")]
        self.assertEqual(len(evs), 2)
        self.assertNotEqual(evs[0]["run"]["runId"], evs[1]["run"]["runId"])
        v = [e["outputs"][0]["facets"]["version"]["datasetVersion"] for e in evs]
        self.assertNotEqual(v[0], v[1])
        self.assertEqual(evs[1]["run"]["facets"]["executionParameters"]["parameters"][0]["value"], "0.7")
        r = self.server.get("/api/v1/namespaces/fraud_svc/datasets/fraud/versions")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["totalCount"], 2)
        current = lambda: self.server.get("/api/v1/namespaces/fraud_svc/datasets/fraud").json()[
            "facets"]["version"]["datasetVersion"]
        self.assertEqual(current(), v[1])
        # the file reverted to the first version: the same run again, now, so it is current again
        rc, out, err = self.cli(path)
        self.assertEqual(rc, 0, err)
        self.assertIn("(run %s, published before: current again)" % evs[0]["run"]["runId"], out)
        evs = [e["body"] for e in self.events_of("fraud_svc")]
        self.assertEqual(len(evs), 3)
        self.assertEqual(evs[2]["run"]["runId"], evs[0]["run"]["runId"])
        self.assertGreater(h.parse_event_time(evs[2]["eventTime"]), h.parse_event_time(evs[1]["eventTime"]))
        self.assertEqual(current(), v[0])
        # and once more: unchanged, nothing new
        rc, out, err = self.cli(path)
        self.assertEqual(rc, 0, err)
        self.assertIn("already published: unchanged", out)
        self.assertEqual(len(self.events_of("fraud_svc")), 3)

    def test_model_and_feature_lineage_as_the_server_serves_them(self):
        ns = "postgres://rev-db:5432"
        path = self.write(model_text("revenue", ns, ("CustomMLService", "rev_svc")))
        self.assertEqual(self.cli(path)[0], 0)
        d = self.server.get("/api/v1/namespaces/rev_svc/datasets/revenue").json()
        self.assertEqual([f["name"] for f in d["fields"]], ["last_update_bucket", "restaurant_dimension", "is_premium"])
        self.assertEqual(d["facets"]["datasetType"]["datasetType"], "MODEL")
        cl = {c["name"]: c for c in d["columnLineage"]}
        pca = cl["restaurant_dimension"]
        self.assertEqual(sorted(f["field"] for f in pca["inputFields"]), ["average_price", "rating"])
        self.assertEqual({f["dataset"] for f in pca["inputFields"]}, {"postgres.public.restaurants"})
        self.assertEqual(pca["inputFields"][0]["transformationDescription"], "PCA")
        r = self.server.get("/api/v1/lineage?nodeId=" + enc(h.ds_id("rev_svc", "revenue")) + "&depth=2")
        self.assertStatus(r, 200)
        ids = {n["id"] for n in r.json()["graph"]}
        for t in ("orders", "restaurants", "users"):
            self.assertIn(h.ds_id(ns, "postgres.public." + t), ids)
        self.assertIn(h.job_id("rev_svc", "publish_model.revenue"), ids)

    def test_unknown_source_tables_are_warned_about(self):
        ns = "postgres://known-db:5432"
        seed = h.make_run_event(event_type="COMPLETE", namespace="etl", job="load_orders",
                                outputs=[(ns, "postgres.public.orders")])
        self.assertCreated(self.server.post_json(seed))
        path = self.write(model_text("eta2", ns, ("CustomMLService", "warn_svc")))
        rc, out, err = self.cli(path)
        self.assertEqual(rc, 0, err)
        warnings = [l for l in err.splitlines() if "warning" in l]
        self.assertEqual(len(warnings), 2, err)
        self.assertIn('source table "demo_pg.postgres.public.restaurants" (line 27) is unknown to the server', err)
        self.assertIn('source table "demo_pg.postgres.public.users" (line 36) is unknown to the server', err)
        self.assertNotIn("public.orders", err)
        self.assertEqual(len(self.events_of("warn_svc")), 1)

    def test_broken_file_sends_nothing(self):
        before = self.count("events")
        path = self.write(model_text("broken", "postgres://b:1", ("dataType: categorical\n    featureAlgorithm",
                                                                  "dataType: categorial\n    featureAlgorithm")))
        rc, out, err = self.cli(path)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertEqual(err.strip(), "lineaged publish-model: %s: line 17: mlFeatures[0].dataType: unknown dataType "
                                      "\"categorial\" (expected numerical or categorical)" % path)
        path = self.write(model_text("broken", "postgres://b:1", ("demo_pg.postgres.public.users", "pg.public.users")))
        rc, _, err = self.cli(path, "--dry-run")
        self.assertEqual(rc, 1)
        self.assertIn("line 38: ", err)
        self.assertEqual(self.count("events"), before)

    def test_unreachable_server(self):
        path = self.write(model_text("offline", "postgres://o:1"))
        url = "http://127.0.0.1:%d" % h.free_port()
        rc, out, err = self.cli(path, "--timeout", "5", url=url)
        self.assertEqual(rc, 1)
        self.assertIn("nothing sent: cannot connect to 127.0.0.1:", err)
        rc, out, err = self.cli(path, "--dry-run", url=url)   # dry-run still prints, with a warning
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["outputs"][0]["name"], "offline")
        self.assertIn("warning: cannot connect", err)

    def test_a_trickling_server_is_cut_at_the_timeout(self):
        """A server that answers one byte every 0.3 s keeps libevent's inactivity timer from firing;
        the client's deadline for the whole exchange must still end it."""
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        self.addCleanup(lsock.close)
        stop = threading.Event()
        self.addCleanup(stop.set)

        def trickle():
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                while not stop.is_set():
                    try:
                        conn.sendall(b"x")
                    except OSError:
                        return
                    time.sleep(0.3)

        threading.Thread(target=trickle, daemon=True).start()
        path = self.write(model_text("slow", "postgres://slow:1"))
        t0 = time.monotonic()
        rc, out, err = self.cli(path, "--timeout", "2", url="http://127.0.0.1:%d" % lsock.getsockname()[1])
        self.assertEqual(rc, 1, err)
        self.assertIn("nothing sent: no complete answer from 127.0.0.1:%d within 2 s" % lsock.getsockname()[1], err)
        self.assertLess(time.monotonic() - t0, 30)

    def test_code_location_from_github_actions(self):
        path = self.write(model_text("located", "postgres://loc:1", ("CustomMLService", "loc_svc")))
        env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/models",
               "GITHUB_SHA": "4f2a9c1", "GITHUB_WORKSPACE": self.tmp.name}
        self.assertEqual(self.cli(path, env=env)[0], 0)
        job = self.server.get("/api/v1/namespaces/loc_svc/jobs/" + enc("publish_model.located")).json()
        loc = job["facets"]["sourceCodeLocation"]
        self.assertEqual(loc["type"], "git")
        self.assertEqual(loc["url"], "https://github.com/acme/models/blob/4f2a9c1/model.yaml")
        self.assertEqual(loc["repoUrl"], "https://github.com/acme/models.git")
        self.assertEqual(loc["version"], "4f2a9c1")


class PublishModelAuthTest(PublishModelBase):
    server_args = ("--api-keys", "k-one,s3cret-key")

    def test_api_key_from_env_or_flag_and_never_echoed(self):
        path = self.write(model_text("secured", "postgres://s:1", ("CustomMLService", "sec_svc")))
        rc, out, err = self.cli(path)
        self.assertEqual(rc, 1)
        # reads need a key too once keys exist: the first look-up is refused and nothing is sent
        self.assertIn("nothing sent", err)
        self.assertIn("answered 401", err)
        rc, out, err = self.cli(path, "--api-key", "wrong-key")
        self.assertEqual(rc, 1)
        self.assertNotIn("wrong-key", out + err)
        rc, out, err = self.cli(path, "--api-key", "bad\r\nX-Injected: 1")
        self.assertEqual(rc, 2)
        self.assertIn("the API key contains a control character", err)
        self.assertNotIn("Injected", err)
        rc, out, err = self.cli(path, env={"LINEAGED_API_KEY": "s3cret-key"})
        self.assertEqual(rc, 0, err)
        self.assertNotIn("s3cret", out + err)
        rc, out, err = self.cli(path, "--dry-run", "--api-key", "s3cret-key")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("s3cret", out + err)
        self.assertEqual(len(self.events_of("sec_svc")), 1)
