"""examples/ against a real server: the MLflow emitter on recorded MLflow data (exactly the expected
events, also when read from a stub MLflow tracking server), the Feast-shaped fixtures, the end-to-end
workflow (every event accepted and stored; running it again stores nothing new) and the CI model file."""

import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.parse

import harness as h

EXAMPLES = os.path.join(h.REPO_ROOT, "examples")
sys.path.insert(0, EXAMPLES)
import mlflow_openlineage as mol  # noqa: E402

SCRIPT_TIMEOUT = 300


def fixture(*parts):
    with open(os.path.join(EXAMPLES, "fixtures", *parts), encoding="utf-8") as f:
        return json.load(f)


def recorded_events():
    """What the emitter makes of the recorded MLflow data (the calls expected_events.json was made for)."""
    em = mol.MlflowEmitter(job_namespace="ml-training")
    exp, mvs = fixture("mlflow", "experiment.json")["experiment"], fixture("mlflow", "model_versions.json")["model_versions"]
    return (em.run_events(fixture("mlflow", "run_finished.json")["run"], exp, mvs) +
            em.run_events(fixture("mlflow", "run_failed.json")["run"], exp, mvs,
                          error_message="MemoryError: unable to allocate 38.2 GiB for the depth-12 trees"))


class StubMlflow(http.server.BaseHTTPRequestHandler):
    """MLflow's REST API for the recorded run: runs/get, experiments/get, model-versions/search."""

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        run = fixture("mlflow", "run_finished.json")
        rid = run["run"]["info"]["run_id"]
        if u.path == "/api/2.0/mlflow/runs/get" and q.get("run_id") == rid:
            body = run
        elif u.path == "/api/2.0/mlflow/experiments/get" and q.get("experiment_id") == "7":
            body = fixture("mlflow", "experiment.json")
        elif u.path == "/api/2.0/mlflow/model-versions/search" and q.get("filter") == "run_id='%s'" % rid:
            mvs = fixture("mlflow", "model_versions.json")["model_versions"]
            body = {"model_versions": [m for m in mvs if m["run_id"] == rid]}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class MlflowEmitterTest(h.ServerTestCase):
    def test_recorded_mlflow_data_gives_exactly_the_expected_events(self):
        expected = fixture("mlflow", "expected_events.json")
        got = recorded_events()
        self.assertEqual(got, expected)
        self.assertEqual(json.dumps(got), json.dumps(expected))   # key order too

    def test_fetch_run_from_a_tracking_server(self):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubMlflow)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        rid = fixture("mlflow", "run_finished.json")["run"]["info"]["run_id"]
        data = mol.fetch_run("http://127.0.0.1:%d/" % srv.server_address[1], rid)
        self.assertEqual([m["version"] for m in data["model_versions"]], ["1"])
        events = mol.MlflowEmitter(job_namespace="ml-training").run_events(**data)
        self.assertEqual(events, fixture("mlflow", "expected_events.json")[:2])

    def test_expected_events_are_accepted_and_stored(self):
        expected = fixture("mlflow", "expected_events.json")
        self.assertEqual(mol.post_events("http://127.0.0.1:%d" % self.server.port, expected), [201] * 4)
        rows = h.sql_json(self.db, "SELECT body FROM events WHERE job_name = 'loan_approval' ORDER BY seq")
        self.assertEqual([r["body"] for r in rows], expected)
        finished, failed = (e["run"]["runId"] for e in (expected[0], expected[2]))
        self.assertEqual(self.server.get("/api/v1/jobs/runs/" + finished).json()["state"], "COMPLETED")
        self.assertEqual(self.server.get("/api/v1/jobs/runs/" + failed).json()["state"], "FAILED")
        reg = self.server.get("/api/v1/namespaces/%s/datasets/loan_approval_model" % h.enc("mlflow://registry"))
        self.assertStatus(reg, 200)
        self.assertEqual(reg.json()["facets"]["datasetType"]["subType"], "REGISTERED")
        self.assertEqual(reg.json()["facets"]["version"]["datasetVersion"], "1")
        inp = self.server.get("/api/v1/namespaces/loan_project/datasets/loan_approval_v1").json()
        self.assertEqual(inp["facets"]["version"]["datasetVersion"], "5d1c9e7a")


class FeastFixturesTest(h.ServerTestCase):
    NAMES = ("apply_feature_views", "apply_feature_service", "materialize_1_start", "materialize_1_complete",
             "materialize_2_start", "materialize_2_complete")

    def test_feast_shaped_events_are_accepted_with_their_facets(self):
        for n in self.NAMES:
            ev = fixture("feast", n + ".json")
            self.assertEqual(ev["producer"], "feast")
            self.assertEqual(ev["job"]["namespace"], "loan_project")
            self.assertCreated(self.server.post_json(ev), n)
        self.assertEqual(h.sql_count(self.db, "FROM events WHERE producer = 'feast'"), len(self.NAMES))
        jobs = {j["name"] for j in self.server.get("/api/v1/namespaces/loan_project/jobs").json()["jobs"]}
        self.assertEqual(jobs, {"feast_feature_views_loan_project", "feature_service_loan_approval_v1",
                                "materialize_loan_project"})
        fv = self.server.get("/api/v1/namespaces/loan_project/datasets/credit_features").json()
        self.assertEqual(fv["facets"]["feast_featureView"]["features"], ["credit_score", "debt_to_income", "income"])
        self.assertEqual([f["name"] for f in fv["fields"]], ["credit_score", "debt_to_income", "income"])
        store = self.server.get("/api/v1/namespaces/loan_project/datasets/online_store_credit_features").json()
        self.assertEqual(store["facets"]["feast_onlineStore"]["store_type"], "redis")
        self.assertEqual(store["facets"]["dataSource"]["uri"], "redis://feast/credit_features")
        src = self.server.get("/api/v1/namespaces/loan_project/datasets/customer_source").json()
        self.assertEqual(src["facets"]["dataSource"]["uri"], "s3://lake/features/customer_features.parquet")
        runs = self.server.get("/api/v1/namespaces/loan_project/jobs/materialize_loan_project/runs").json()["runs"]
        self.assertEqual([r["state"] for r in runs], ["COMPLETED", "COMPLETED"])


class WorkflowTest(h.ServerTestCase):
    def workflow(self, *args):
        p = subprocess.run([sys.executable, os.path.join(EXAMPLES, "ml_workflow.py")] + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=SCRIPT_TIMEOUT)
        return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")

    def get(self, path):
        r = self.server.get(path)
        self.assertStatus(r, 200, path)
        return r.json()

    def test_workflow_events_are_all_accepted_and_stored_once(self):
        rc, out, err = self.workflow("--dry-run")
        self.assertEqual(rc, 0, err)
        events = json.loads(out)
        self.assertEqual(len(events), 34)
        url = "http://127.0.0.1:%d" % self.server.port
        rc, out, err = self.workflow("--url", url)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[-1], "34 events sent, all accepted")
        self.assertTrue(all(l.startswith("201 ") for l in lines[:-1]), out)
        stored = [r["body"] for r in h.sql_json(self.db, "SELECT body FROM events ORDER BY seq")]
        self.assertEqual(stored, events)     # every event stored, as sent, in order
        rc, out, err = self.workflow("--url", url)
        self.assertEqual(rc, 0, err)
        self.assertEqual(h.sql_count(self.db, "FROM events"), 34)   # the same events again: nothing new

        # what the workflow is about, as the server sees it
        runs = self.get("/api/v1/namespaces/loan_pipeline/jobs/deploy_loan_approval_model/runs")["runs"]
        self.assertEqual([r["state"] for r in runs], ["FAILED", "COMPLETED"])
        fail = self.get("/api/v1/jobs/runs/%s/facets?type=run" % runs[0]["id"])["facets"]
        self.assertIn("readiness probe", fail["errorMessage"]["message"])
        versions = self.get("/api/v1/namespaces/%s/datasets/loan_approval_model/versions" % h.enc("mlflow://registry"))
        self.assertEqual(sorted(v["facets"]["version"]["datasetVersion"] for v in versions["versions"]), ["1", "2"])
        raw = self.get("/api/v1/namespaces/%s/datasets/%s/versions" % (h.enc("s3://lake"), h.enc("raw_data/customer_data")))
        md5s = {v["facets"]["version"]["datasetVersion"] for v in raw["versions"]}
        self.assertEqual(len(md5s), 2)
        self.assertTrue(all(len(m) == 32 and int(m, 16) >= 0 for m in md5s), md5s)
        trials = self.get("/api/v1/namespaces/ml-training/jobs/loan_approval/runs")["runs"]
        self.assertEqual(len(trials), 5)     # tuning parent, two trials, two trainings

    def test_downstream_of_raw_data_reaches_features_models_and_deployment(self):
        self.assertEqual(self.workflow("--url", "http://127.0.0.1:%d" % self.server.port)[0], 0)
        node = h.enc(h.ds_id("s3://lake", "raw_data/customer_data"))
        r = self.get("/api/v1/lineage?nodeId=%s&depth=20&direction=downstream" % node)
        ids = {n["id"] for n in r["graph"]}
        for want in (h.ds_id("loan_project", "credit_features"), h.ds_id("loan_project", "loan_approval_v1"),
                     h.ds_id("mlflow://registry", "loan_approval_model"),
                     h.ds_id("k8s://prod-cluster", "serving/loan-approval")):
            self.assertIn(want, ids)


class CiModelFileTest(h.ServerTestCase):
    def test_ci_example_model_file_publishes(self):
        wf = open(os.path.join(EXAMPLES, "ci", "publish-model.yml"), encoding="utf-8").read()
        self.assertIn("publish-model", wf)
        self.assertIn("secrets.LINEAGED_API_KEY", wf)
        path = os.path.join(EXAMPLES, "ci", "credit_limit_model.yaml")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_", "GIT_", "LINEAGED_"))}
        cmd = [h.lineaged_bin(), "publish-model", path, "--url", "http://127.0.0.1:%d" % self.server.port]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b'published model "credit_limit_model"', p.stdout)
        d = self.server.get("/api/v1/namespaces/ml-models/datasets/credit_limit_model").json()
        self.assertEqual([f["name"] for f in d["fields"]], ["bureau_score_bucket", "debt_ratio", "requested_amount"])
        self.assertEqual(d["facets"]["ownership"]["owners"], [{"name": "team:risk-team"}])
