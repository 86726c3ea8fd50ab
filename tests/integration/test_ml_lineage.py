"""Issue 12: ML lineage, one call per question, on a Feast + MLflow-style pipeline (ml_pipeline.py).

One test per question of the issue's MLMD seed list (which dataset trained the model, which
hyperparameters, which pipeline run created it, which training run led to it, when was the failed model
pushed, list artifacts of a type, the DAG of a context, recurse back), then the routes behind them:
dataset kinds in every answer, name= on /lineage and /impact (409 when ambiguous), impact rows with kind,
version, owners and description (JSON and CSV), search beyond names, and Feast's dataSource.uri join,
whatever the arrival order and across a graph reload. Each test asserts the answer, not only the status.
"""

import csv
import io
import random
import unittest

import harness as h
import ml_pipeline as mp
from harness import ds_id, enc, job_id
from test_issue_10_symlinks import Deployment
from test_lineage_graph import GraphAsserts, post_all

REG_MODEL = ds_id(mp.REG, "loan_approval_model")
RAW = ds_id(mp.RAW, "customer_data")
GROUP = ds_id(mp.FEAST, "customer_source")  # raw_data/customer_data and Feast's data source are one dataset
LOGGED = {v: "runs/%s/model" % run for v, run in (("1", mp.T1_MLFLOW), ("2", mp.T2_MLFLOW))}


def provenance_path(ns, name, version, **params):
    qs = "&".join("%s=%s" % (k, enc(str(v))) for k, v in params.items())
    return "/api/v1/namespaces/%s/datasets/%s/versions/%s/provenance%s" % (enc(ns), enc(name), enc(version),
                                                                          "?" + qs if qs else "")


def by_job(runs):
    """{job name: [runs of that job in the answer]}"""
    out = {}
    for r in runs:
        out.setdefault(r["job"]["name"], []).append(r)
    return out


def params_of(run):
    return {p["key"]: p["value"] for p in run["facets"]["executionParameters"]["parameters"]}


class MlPipelineTest(GraphAsserts, h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = mp.Pipeline()
        post_all(cls.server, cls.p.events())
        # a job called like the Feast entity "customer": name=customer is ambiguous
        post_all(cls.server, [h.make_run_event(None, "COMPLETE", "2025-03-03T00:00:00Z", "crm", "customer",
                                               [("crm", "accounts")], [])])

    def provenance(self, ns, name, version, **params):
        return self.get_json(provenance_path(ns, name, version, **params))

    # ---- the MLMD questions, one call each ------------------------------------------------------------

    def test_which_dataset_trained_the_model(self):
        body = self.provenance(mp.REG, "loan_approval_model", "2", depth=2)
        train = by_job(body["runs"])["loan_pipeline.train"]
        self.assertEqual(len(train), 1)
        inputs = {(i["namespace"], i["name"]): i for i in train[0]["inputs"]}
        self.assertEqual(set(inputs), {(mp.FEAST, "customer_source"), (mp.FEAST, "loan_service")})
        data = inputs[(mp.FEAST, "customer_source")]
        self.assertEqual((data["producerVersion"], data["datasetType"]), (mp.MD5_B, "DATA_SOURCE"))
        self.assertEqual(data["producedByRunId"], self.p.day2.ingest)  # the day-2 export, not day 1's
        self.assertEqual(inputs[(mp.FEAST, "loan_service")]["datasetType"], "FEATURE_SERVICE")
        # version 1 was trained on the day-1 data
        old = by_job(self.provenance(mp.REG, "loan_approval_model", "1", depth=2)["runs"])["loan_pipeline.train"][0]
        self.assertIn(mp.MD5_A, {i["producerVersion"] for i in old["inputs"]})

    def test_which_hyperparameters(self):
        for version, depth in (("1", "6"), ("2", "8")):
            train = by_job(self.provenance(mp.REG, "loan_approval_model", version, depth=2)["runs"])
            self.assertEqual(params_of(train["loan_pipeline.train"][0]),
                             {"max_depth": depth, "learning_rate": "0.1", "n_estimators": "200"})
            code = train["loan_pipeline.train"][0]["jobFacets"]["sourceCodeLocation"]
            self.assertEqual(code["version"], "sha-train-" + depth)  # the code that run used

    def test_which_pipeline_run_created_it(self):
        body = self.provenance(mp.REG, "loan_approval_model", "2", depth=1)
        self.assertEqual(body["version"]["producedByRunId"], self.p.day2.register)
        [register] = body["runs"]
        self.assertEqual((register["depth"], register["id"], register["state"]), (1, self.p.day2.register, "COMPLETED"))
        self.assertEqual(register["parentRunId"], self.p.day2.pipeline)
        self.assertEqual(register["job"]["location"], "https://git.bank.io/ml/credit/blob/sha-reg/register.py")
        self.assertEqual([(o["name"], o["producerVersion"]) for o in register["outputs"]],
                         [("loan_approval_model", "2")])

    def test_which_training_run_led_to_it(self):
        runs = self.provenance(mp.REG, "loan_approval_model", "2", depth=2)["runs"]
        self.assertEqual([(r["depth"], r["job"]["name"]) for r in runs],
                         [(1, "loan_pipeline.register"), (2, "loan_pipeline.train")])
        t2 = mp.run_uuid(mp.T2_MLFLOW)  # the MLflow run id, stored as Marquez stores it
        self.assertEqual(runs[1]["id"], t2)
        self.assertEqual(runs[0]["inputs"][0]["producedByRunId"], t2)
        self.assertEqual(runs[0]["inputs"][0]["producerVersion"], "m-2")
        # the logged model's own provenance, asked with the MLflow run's model path and version
        logged = self.provenance(mp.EXP, LOGGED["2"], "m-2", depth=1)
        self.assertEqual([r["id"] for r in logged["runs"]], [t2])
        self.assertEqual(self.get_json("/api/v1/jobs/runs/%s" % mp.T2_MLFLOW)["id"], t2)

    def test_when_was_the_failed_model_pushed(self):
        body = self.get_json("/api/v1/runs?state=FAILED&reads=%s" % enc(REG_MODEL))
        self.assertEqual(body["totalCount"], 1)
        [run] = body["runs"]
        self.assertEqual((run["id"], run["state"], run["job"]),
                         (self.p.day2.deploy, "FAILED", {"namespace": mp.SERVING, "name": "deploy_loan_model"}))
        self.assertEqual(run["startedAt"], mp.at(mp.DAY2, 60))
        self.assertIn("health check failed", run["facets"]["errorMessage"]["message"])
        self.assertEqual(self.get_json("/api/v1/runs?state=FAILED&reads=%s" % enc(REG_MODEL + "#2"))["runs"], [run])
        self.assertEqual(self.get_json("/api/v1/runs?state=FAILED&reads=%s" % enc(REG_MODEL + "#1"))["runs"], [])
        # every run that read the model, newest first: the holdout evaluation, then both deploys
        readers = self.get_json("/api/v1/runs?reads=%s" % enc(REG_MODEL))
        self.assertEqual([r["id"] for r in readers["runs"]],
                         [self.p.holdout_run, self.p.day2.deploy, self.p.day1.deploy])

    def test_list_artifacts_of_a_type(self):
        def names(params):
            body = self.get_json("/api/v1/datasets?" + params)
            self.assertEqual(body["totalCount"], len(body["datasets"]))
            return [(d["namespace"], d["name"], d["datasetType"], d["subType"]) for d in body["datasets"]]

        models = [(mp.EXP, LOGGED["1"], "MODEL", "LOGGED"), (mp.EXP, LOGGED["2"], "MODEL", "LOGGED"),
                  (mp.REG, "loan_approval_model", "MODEL", "REGISTERED")]
        self.assertEqual(names("types=MODEL"), models)
        self.assertEqual(names("types=model:logged"), models[:2])
        self.assertEqual(names("types=MODEL:REGISTERED"), models[2:])
        self.assertEqual(names("types=FEATURE_VIEW"), [(mp.FEAST, "customer_features", "FEATURE_VIEW", None)])
        self.assertEqual(names("types=FEATURE_SERVICE,ONLINE_STORE,ENTITY,DATA_SOURCE"),
                         [(mp.FEAST, n, t, None) for n, t in (("customer", "ENTITY"), ("customer_source", "DATA_SOURCE"),
                                                              ("loan_service", "FEATURE_SERVICE"),
                                                              ("online_store_customer_features", "ONLINE_STORE"))])
        self.assertEqual(names("types=DEPLOYMENT"), [(mp.SERVING, "loan_approval_endpoint", "DEPLOYMENT", None)])
        self.assertEqual(names("types=MODEL&owner=%s" % enc("team:ml-platform")), models[2:])
        self.assertEqual(names("tag=%s" % enc("stage:production")), models[2:])
        self.assertEqual(names("tag=team"), [(mp.FEAST, "customer_features", "FEATURE_VIEW", None)])  # a Feast tag
        self.assertEqual(names("owner=%s" % enc("risk-team@bank.io")),
                         [(mp.FEAST, "customer_features", "FEATURE_VIEW", None),
                          (mp.FEAST, "loan_service", "FEATURE_SERVICE", None)])
        self.assertEqual(names("namespace=%s&q=model" % enc(mp.EXP)), models[:2])
        self.assertEqual(names("types=TABLE"), [])
        paged = self.get_json("/api/v1/datasets?types=MODEL&limit=1&offset=1")
        self.assertEqual((paged["totalCount"], [d["name"] for d in paged["datasets"]]), (3, [LOGGED["2"]]))

    def test_dag_of_a_context(self):
        body = self.get_json("/api/v1/jobs/runs/%s/children" % self.p.day1.pipeline)
        self.assertEqual((body["run"]["id"], body["run"]["job"]["name"]), (self.p.day1.pipeline, "loan_pipeline"))
        t1 = mp.run_uuid(mp.T1_MLFLOW)
        self.assertEqual([(c["depth"], c["job"]["name"], c["id"]) for c in body["children"]],
                         [(1, "loan_pipeline.train", t1), (1, "loan_pipeline.validate", self.p.day1.validate),
                          (1, "loan_pipeline.register", self.p.day1.register)])
        self.assertTrue(all(c["parentRunId"] == self.p.day1.pipeline for c in body["children"]))
        logged = self.get_json("/api/v1/namespaces/%s/datasets/%s/versions/m-1" % (enc(mp.EXP), enc(LOGGED["1"])))
        self.assertEqual(sorted((e["from"], e["to"], e["name"], e["version"]) for e in body["edges"]),
                         sorted((t1, to, LOGGED["1"], logged["version"])
                                for to in (self.p.day1.validate, self.p.day1.register)))
        validate = body["children"][1]
        self.assertEqual([(i["name"], i["producerVersion"]) for i in validate["inputs"]],
                         [("customer_source", mp.MD5_A), (LOGGED["1"], "m-1")])
        self.assertFalse(body["truncated"])
        # bounded: at most maxRuns runs besides the root
        cut = self.get_json("/api/v1/jobs/runs/%s/children?maxRuns=2" % self.p.day1.pipeline)
        self.assertEqual((len(cut["children"]), cut["truncated"]), (2, True))
        self.assertEqual(self.get_json("/api/v1/jobs/runs/%s/children?depth=0" % self.p.day1.pipeline)["children"], [])

    def test_recurse_back(self):
        body = self.provenance(mp.REG, "loan_approval_model", "1")
        got = [(r["depth"], r["job"]["name"]) for r in body["runs"]]
        self.assertEqual(sorted(got), sorted([(1, "loan_pipeline.register"), (2, "loan_pipeline.train"),
                                              (3, "ingest_customer_data"), (3, "feature_service_loan_service"),
                                              (4, "feast_feature_views_" + mp.FEAST)]))
        self.assertEqual([d for d, _ in got], sorted(d for d, _ in got))  # level order
        self.assertEqual(len({r["id"] for r in body["runs"]}), len(body["runs"]))  # each run once
        self.assertFalse(body["truncated"])
        shallow = self.provenance(mp.REG, "loan_approval_model", "1", depth=2)
        self.assertEqual([r["job"]["name"] for r in shallow["runs"]], ["loan_pipeline.register", "loan_pipeline.train"])
        cut = self.provenance(mp.REG, "loan_approval_model", "1", maxRuns=3)
        self.assertEqual((len(cut["runs"]), cut["truncated"]), (3, True))
        # by the lineaged version id too
        vid = self.get_json("/api/v1/namespaces/%s/datasets/loan_approval_model/versions/1" % enc(mp.REG))["version"]
        self.assertEqual(self.provenance(mp.REG, "loan_approval_model", vid), body)

    def test_readers_are_never_producers(self):
        body = self.provenance(mp.RAW, "holdout", mp.MD5_H)  # only evaluate_holdout read it
        self.assertEqual((body["version"]["producedByRunId"], body["runs"]), (None, []))
        version = self.get_json("/api/v1/namespaces/raw_data/datasets/holdout/versions/%s" % mp.MD5_H)
        self.assertIsNone(version["createdByRun"])
        # the day-1 data: written by the ingest run; training and validation only read it
        day1 = self.provenance(mp.RAW, "customer_data", mp.MD5_A, depth=1)
        self.assertEqual([r["id"] for r in day1["runs"]], [self.p.day1.ingest])

    # ---- the routes behind them ------------------------------------------------------------------------

    def test_kinds_in_dataset_answers_and_lineage_nodes(self):
        ds = self.get_json("/api/v1/namespaces/%s/datasets/loan_approval_model" % enc(mp.REG))
        self.assertEqual((ds["datasetType"], ds["subType"]), ("MODEL", "REGISTERED"))
        fv = self.get_json("/api/v1/namespaces/%s/datasets/customer_features" % mp.FEAST)
        self.assertEqual((fv["datasetType"], fv["subType"]), ("FEATURE_VIEW", None))
        listed = {d["name"]: d["datasetType"] for d in self.get_json("/api/v1/namespaces/%s/datasets" % mp.FEAST)["datasets"]}
        self.assertEqual(listed, {"customer": "ENTITY", "customer_features": "FEATURE_VIEW",
                                  "customer_source": "DATA_SOURCE", "loan_service": "FEATURE_SERVICE",
                                  "online_store_customer_features": "ONLINE_STORE"})
        body = self.lineage(job_id(mp.PIPE, "loan_pipeline.register"), depth=1)
        data = {n["id"]: n["data"] for n in body["graph"]}
        self.assertEqual((data[REG_MODEL]["datasetType"], data[REG_MODEL]["subType"]), ("MODEL", "REGISTERED"))

    def test_lineage_and_impact_by_name(self):
        body = self.get_json("/api/v1/lineage?name=loan_approval_model&depth=1&types=MODEL,JOB")
        ids = {n["id"] for n in body["graph"]}
        self.assertEqual(ids, {REG_MODEL, ds_id(mp.EXP, LOGGED["1"]), ds_id(mp.EXP, LOGGED["2"]),
                               job_id(mp.PIPE, "loan_pipeline.register"), job_id(mp.SERVING, "deploy_loan_model"),
                               job_id(mp.PIPE, "evaluate_holdout"), job_id(mp.PIPE, "loan_pipeline.train"),
                               job_id(mp.PIPE, "loan_pipeline.validate")})
        self.assertEqual(self.get_json("/api/v1/lineage?nodeId=%s&depth=1&types=MODEL,JOB" % enc(REG_MODEL)), body)
        impact = self.get_json("/api/v1/impact?name=customer_features&types=DEPLOYMENT")
        self.assertEqual(impact["nodeId"], ds_id(mp.FEAST, "customer_features"))
        self.assertEqual([r["nodeId"] for r in impact["impacted"]], [ds_id(mp.SERVING, "loan_approval_endpoint")])
        # a job name without its namespace
        job = self.get_json("/api/v1/impact?name=ingest_customer_data&types=FEATURE_VIEW")
        self.assertEqual(job["nodeId"], job_id("ingest", "ingest_customer_data"))

    def test_ambiguous_name_is_a_409_listing_the_candidates(self):
        for route in ("lineage", "impact"):
            with self.subTest(route=route):
                r = self.server.get("/api/v1/%s?name=customer" % route)
                body = self.assertJsonError(r, 409, 'name "customer" is ambiguous')
                self.assertEqual(body["candidates"], [
                    {"nodeId": ds_id(mp.FEAST, "customer"), "type": "DATASET", "namespace": mp.FEAST, "name": "customer"},
                    {"nodeId": job_id("crm", "customer"), "type": "JOB", "namespace": "crm", "name": "customer"}])
        self.assertJsonError(self.server.get("/api/v1/lineage?name=no_such_thing"), 404, "no_such_thing")
        # runs?job= takes jobs only: "customer" names one job
        self.assertEqual(self.get_json("/api/v1/runs?job=customer")["totalCount"], 1)

    def test_impact_of_changing_the_raw_data(self):
        kinds = "FEATURE_VIEW,FEATURE_SERVICE,ONLINE_STORE,MODEL,DEPLOYMENT"
        body = self.impact(RAW, types=kinds)
        rows = {r["nodeId"]: r for r in body["impacted"]}
        self.assertEqual(set(rows), {ds_id(mp.FEAST, "customer_features"), ds_id(mp.FEAST, "loan_service"),
                                     ds_id(mp.FEAST, "online_store_customer_features"), REG_MODEL,
                                     ds_id(mp.EXP, LOGGED["1"]), ds_id(mp.EXP, LOGGED["2"]),
                                     ds_id(mp.SERVING, "loan_approval_endpoint")})
        fv = rows[ds_id(mp.FEAST, "customer_features")]
        self.assertEqual((fv["datasetType"], fv["owners"], fv["description"], fv["depth"]),
                         ("FEATURE_VIEW", ["risk-team@bank.io"], "Credit features per customer", 2))
        reg = rows[REG_MODEL]
        self.assertEqual((reg["datasetType"], reg["subType"], reg["producerVersion"], reg["owners"]),
                         ("MODEL", "REGISTERED", "2", ["team:ml-platform"]))
        current = self.get_json("/api/v1/namespaces/%s/datasets/loan_approval_model" % enc(mp.REG))["currentVersion"]
        self.assertEqual(reg["version"], current)
        self.assertEqual(rows[ds_id(mp.SERVING, "loan_approval_endpoint")]["path"][-3:],
                         [ds_id(mp.EXP, LOGGED["1"]), REG_MODEL, ds_id(mp.SERVING, "loan_approval_endpoint")])
        r = self.server.get("/api/v1/impact?nodeId=%s&types=%s&format=csv" % (enc(RAW), kinds))
        self.assertStatus(r, 200)
        table = list(csv.DictReader(io.StringIO(r.body.decode("utf-8"), newline="")))
        self.assertEqual([(t["nodeId"], t["datasetType"], t["owners"], t["description"]) for t in table],
                         [(x["nodeId"], x["datasetType"] or "", "; ".join(x["owners"]), x["description"] or "")
                          for x in body["impacted"]])

    def test_search_beyond_names(self):
        def hits(q, places):
            body = self.get_json("/api/v1/search?q=%s&in=%s" % (enc(q), places))
            return {(r["nodeId"], r["matchedIn"], r["matched"], r["datasetType"]) for r in body["results"]}

        self.assertEqual(hits("credit_score", "name,fields"), {
            (ds_id(mp.FEAST, "customer_features"), "fields", "credit_score", "FEATURE_VIEW"),
            (ds_id(mp.FEAST, "loan_service"), "fields", "credit_score", "FEATURE_SERVICE"),
            (GROUP, "fields", "credit_score", "DATA_SOURCE"),
            (ds_id(mp.EXP, LOGGED["1"]), "fields", "credit_score", "MODEL"),
            (ds_id(mp.EXP, LOGGED["2"]), "fields", "credit_score", "MODEL")})
        self.assertEqual(hits("credit_score", "name"), set())  # Marquez's search: names only
        self.assertEqual(hits("risk-team", "owners"), {
            (ds_id(mp.FEAST, "customer_features"), "owners", "risk-team@bank.io", "FEATURE_VIEW"),
            (ds_id(mp.FEAST, "loan_service"), "owners", "risk-team@bank.io", "FEATURE_SERVICE")})
        self.assertEqual(hits("production", "tags"), {(REG_MODEL, "tags", "stage:production", "MODEL")})
        self.assertEqual(hits("daily export", "description"),
                         {(GROUP, "description", "Customer master data, daily export", "DATA_SOURCE")})
        # the first place in name, fields, description, tags, owners order wins
        self.assertEqual(hits("loan_approval", "name,description"), {(REG_MODEL, "name", "loan_approval_model", "MODEL"),
                                                                   (ds_id(mp.SERVING, "loan_approval_endpoint"), "name",
                                                                    "loan_approval_endpoint", "DEPLOYMENT")})

    def test_equal_data_source_uri_is_one_dataset(self):
        raw = self.get_json("/api/v1/namespaces/raw_data/datasets/customer_data")
        self.assertEqual((raw["namespace"], raw["name"], raw["datasetType"]), (mp.FEAST, "customer_source", "DATA_SOURCE"))
        versions = self.get_json("/api/v1/namespaces/raw_data/datasets/customer_data/versions")["versions"]
        self.assertEqual(sorted(v["facets"]["version"]["datasetVersion"] for v in versions
                                if "version" in v["facets"]), sorted([mp.MD5_A, mp.MD5_B]))
        # the ingest job writes what Feast's feature views job reads
        up = self.impact(ds_id(mp.FEAST, "customer_features"), direction="upstream", types="JOB")
        self.assertIn(job_id("ingest", "ingest_customer_data"), {r["nodeId"] for r in up["impacted"]})
        # Spark-style data sources ("file") are not joined
        post_all(self.server, [h.make_run_event(None, "COMPLETE", "2025-03-04T00:00:00Z", "spark", "cp",
                                                [], [{"namespace": "file", "name": "/tmp/a%d" % i, "facets": {
                                                    "dataSource": {"_producer": "p", "_schemaURL": "s",
                                                                   "name": "file", "uri": "file"}}}
                                                     for i in range(2)])])
        self.assertEqual(self.get_json("/api/v1/datasets?namespace=file")["totalCount"], 2)


class MlPipelineOrderTest(GraphAsserts, h.HttpAsserts, unittest.TestCase):
    """The kinds, the dataSource.uri join and the ML answers do not depend on the order events arrive in,
    and a restart (the graph reloaded from Postgres) answers the same. What an unnamed version is does
    depend on it (an input is linked to the dataset's current version when the event is stored, as in
    Marquez), so versions, fields and job versions are left out; named versions (the version facet)
    are compared."""

    def answers(self, dep, p):
        def datasets(body):
            keep = ("namespace", "name", "datasetType", "subType", "createdAt", "updatedAt", "description",
                    "facets", "tags")
            return [{k: d[k] for k in keep} for d in body["datasets"]]

        def impact(body):
            keep = ("nodeId", "type", "depth", "datasetType", "subType", "owners", "description")
            return sorted(tuple(str(r[k]) for k in keep) for r in body["impacted"])

        def named_chain(body):
            return [(r["depth"], r["id"], r["job"]["name"], r["state"], r["facets"],
                     sorted((i["namespace"], i["name"], i["producerVersion"], i["producedByRunId"])
                            for i in r["inputs"] if i["producerVersion"])) for r in body["runs"]]

        def dag(body):
            return ([(c["depth"], c["id"], c["job"]["name"]) for c in body["children"]],
                    sorted((e["from"], e["to"], e["name"], e["version"]) for e in body["edges"]))

        ask = {"/api/v1/datasets?limit=100": datasets,
               "/api/v1/impact?nodeId=%s" % enc(RAW): impact,
               "/api/v1/impact?nodeId=%s&direction=upstream" % enc(ds_id(mp.SERVING, "loan_approval_endpoint")): impact,
               provenance_path(mp.REG, "loan_approval_model", "2", depth=2): named_chain,
               "/api/v1/jobs/runs/%s/children" % p.day2.pipeline: dag,
               "/api/v1/runs?reads=%s" % enc(REG_MODEL): lambda b: [(r["id"], r["state"]) for r in b["runs"]],
               "/api/v1/search?q=credit&in=name,fields,description,tags,owners&limit=50": lambda b: b}
        return {path: view(dep.get(path)) for path, view in ask.items()}

    def test_same_answers_in_any_order_and_after_a_reload(self):
        p = mp.Pipeline()
        events = p.events()
        forward = Deployment(self, "ml_forward")
        forward.post(*events)
        want = self.answers(forward, p)
        self.assertEqual(len(want["/api/v1/datasets?limit=100"]), 10)
        self.assertEqual(want["/api/v1/datasets?limit=100"][2]["name"], "customer_source")  # joined with raw data
        shuffled = list(reversed(events))
        half = shuffled[len(shuffled) // 2:]
        random.Random(12).shuffle(half)
        other = Deployment(self, "ml_shuffled")
        other.post(*(shuffled[:len(shuffled) // 2] + half))
        for label in ("shuffled", "shuffled, after a restart"):
            got = self.answers(other, p)
            for path in want:
                with self.subTest(order=label, path=path):
                    self.assertEqual(got[path], want[path])
            other.restart()


if __name__ == "__main__":
    unittest.main()
