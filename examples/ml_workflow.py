#!/usr/bin/env python3
"""examples/ml_workflow.py - an end-to-end ML workflow's lineage, sent to lineaged as OpenLineage events.

    python3 examples/ml_workflow.py --url http://127.0.0.1:5000 [--api-key KEY]
    python3 examples/ml_workflow.py --dry-run            # print the events (a JSON array), send nothing

What happens (a loan approval model; times are fixed, starting 2025-03-01T06:00Z):
  day 1  ingest_raw_data     CRM tables -> s3://lake raw_data/customer_data, raw_data/loan_applications
         build_features      raw data -> features/*.parquet (column lineage; each file is the path of a
                             Feast data source: dataSource.uri and symlinks name it)
         feast apply         data sources + entity -> feature views -> feature service loan_approval_v1
         feast materialize   feature views -> online_store_* (fixtures/feast/, shaped as Feast sends them)
         experiment          MLflow tuning run with two nested trials (parent facet)
         training            MLflow run: reads loan_approval_v1, logs a model (mlflow_openlineage.py)
         validation          logged model + holdout -> validation report
         registration        MLflow model version 1: the training run's terminal event again, now with
                             the registered model among its outputs
         deployment          registered model version 1 -> serving endpoint loan-approval
  day 2  retrain on changed data: new raw data (new md5 versions, DVC-style), features, materialize,
         training, validation, registration of version 2, and a deployment of version 2 that FAILS.
Dataset versions of files are the md5 of their content, as DVC records them. Run ids are name-based
UUIDs and event times fixed, so running the script again sends the same events and changes nothing.
Python standard library only.
"""

import argparse
import hashlib
import json
import os
import sys
import uuid
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mlflow_openlineage as mol  # noqa: E402

PRODUCER = "urn:lineaged:example:ml-workflow"
PIPELINE = "loan_pipeline"          # namespace of the pipeline's own jobs
LAKE = "s3://lake"
CRM = "postgres://crm-db:5432"
REGISTRY = "mlflow://registry"
SERVING = "k8s://prod-cluster"
FEAST_PROJECT = "loan_project"
T0 = datetime(2025, 3, 1, 6, 0, tzinfo=timezone.utc)
REPO = "https://github.com/acme/loan-models"


def at(day, hour, minute, second=0):
    return T0 + timedelta(days=day, hours=hour - 6, minutes=minute, seconds=second)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ms(dt):
    return int(dt.timestamp() * 1000)


def run_id(label):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "lineaged-example:" + label))


def facet(spec, **fields):
    return mol.facet(spec, PRODUCER, **fields)


def md5(data):
    return hashlib.md5(data).hexdigest()


# ---- data, DVC-style: content in memory, its md5 is the version ------------------------------------

def raw_customers(day):
    """A deterministic CSV of customers; day 2 has more customers and updated incomes."""
    rows = ["customer_id,bureau_score,income,debts"]
    n = 1000 if day == 0 else 1240
    x = 12345
    for i in range(n):
        x = (x * 1103515245 + 12345) % (1 << 31)
        income = 30000 + x % 90000 + (day * 1500)
        rows.append("%d,%d,%d,%d" % (i + 1, 300 + x % 551, income, x % 40000))
    return ("\n".join(rows) + "\n").encode()


def raw_loans(day):
    rows = ["application_id,customer_id,amount,term_months"]
    x = 777
    for i in range(1500 if day == 0 else 1830):
        x = (x * 69069 + 1) % (1 << 32)
        rows.append("%d,%d,%d,%d" % (i + 1, 1 + x % 1000, 1000 + x % 49000, (12, 24, 36, 60)[x % 4]))
    return ("\n".join(rows) + "\n").encode()


def ds(namespace, name, version=None, **facets):
    f = dict(facets)
    if version is not None:
        f["version"] = facet("1-0-1/DatasetVersionDatasetFacet", datasetVersion=version)
    return {"namespace": namespace, "name": name, "facets": f}


def schema(*cols):
    return facet("1-2-0/SchemaDatasetFacet", fields=[{"name": n, "type": t} for n, t in cols])


def owners(*names):
    return facet("1-0-1/OwnershipDatasetFacet", owners=[{"name": n} for n in names])


def lineage(fields):
    """columnLineage from {output field: ([(namespace, name, field)], transformation description or None)}."""
    out = {}
    for field, (inputs, how) in fields.items():
        t = {"type": "DIRECT", "subtype": "TRANSFORMATION" if how else "IDENTITY", "masking": False}
        if how:
            t["description"] = how
        out[field] = {"inputFields": [{"namespace": n, "name": d, "field": c, "transformations": [t]}
                                      for n, d, c in inputs]}
    return facet("1-2-0/ColumnLineageDatasetFacet", fields=out)


def job(namespace, name, integration, job_type, path, owner):
    return {"namespace": namespace, "name": name, "facets": {
        "jobType": facet("2-0-4/JobTypeJobFacet", processingType="BATCH", integration=integration, jobType=job_type),
        "sourceCodeLocation": facet("1-1-0/SourceCodeLocationJobFacet", type="git", url="%s/blob/main/%s" % (REPO, path),
                                    repoUrl=REPO + ".git", path=path, version="main"),
        "ownership": facet("1-0-1/OwnershipJobFacet", owners=[{"name": owner}]),
    }}


def run_pair(label, j, start, end, inputs, outputs, state="COMPLETE", run_facets=None, error=None):
    """START and a terminal event for one run of job j."""
    rid = run_id(label)
    end_facets = dict(run_facets or {})
    if error:
        end_facets["errorMessage"] = facet("1-0-1/ErrorMessageRunFacet", message=error, programmingLanguage="python")
    base = {"producer": PRODUCER, "schemaURL": mol.RUN_EVENT_SCHEMA, "job": j}
    return [dict(base, eventType="START", eventTime=iso(start), run={"runId": rid, "facets": run_facets or {}},
                 inputs=inputs, outputs=[]),
            dict(base, eventType=state, eventTime=iso(end), run={"runId": rid, "facets": end_facets},
                 inputs=inputs, outputs=outputs if state == "COMPLETE" else [])]


# ---- the pipeline's own jobs -----------------------------------------------------------------------

def ingest(day):
    cust, loans = raw_customers(day), raw_loans(day)
    j = job(PIPELINE, "ingest_raw_data", "DVC", "STAGE", "pipelines/ingest.py", "team:data-eng")
    inputs = [ds(CRM, "crm.public.customers"), ds(CRM, "crm.public.loan_applications")]
    outputs = [
        ds(LAKE, "raw_data/customer_data", md5(cust), owners=owners("team:data-eng"),
           schema=schema(("customer_id", "long"), ("bureau_score", "long"), ("income", "long"), ("debts", "long"))),
        ds(LAKE, "raw_data/loan_applications", md5(loans), owners=owners("team:data-eng"),
           schema=schema(("application_id", "long"), ("customer_id", "long"), ("amount", "long"), ("term_months", "long"))),
    ]
    return run_pair("ingest-%d" % day, j, at(day, 6, 0), at(day, 6, 4), inputs, outputs), (md5(cust), md5(loans))


def feast_source_link(source_name, path):
    """What joins a file to the Feast data source reading it: the same dataSource.uri, and a symlink."""
    return {"dataSource": facet("1-0-1/DatasourceDatasetFacet", name=LAKE, uri="%s/%s" % (LAKE, path)),
            "symlinks": facet("1-0-1/SymlinksDatasetFacet", identifiers=[
                {"namespace": FEAST_PROJECT, "name": source_name, "type": "FEAST_DATA_SOURCE"}])}


def build_features(day, raw_versions):
    cust_in, loans_in = (LAKE, "raw_data/customer_data"), (LAKE, "raw_data/loan_applications")
    j = job(PIPELINE, "build_features", "DVC", "STAGE", "pipelines/features.py", "team:ml-platform")
    cust_out = "features/customer_features.parquet"
    loans_out = "features/loan_features.parquet"
    outputs = [
        ds(LAKE, cust_out, md5(("%s:%s" % (cust_out, raw_versions[0])).encode()),
           schema=schema(("customer_id", "long"), ("credit_score", "float"), ("debt_to_income", "float"),
                         ("income", "float"), ("event_timestamp", "timestamp")),
           columnLineage=lineage({
               "customer_id": ([cust_in + ("customer_id",)], None),
               "credit_score": ([cust_in + ("bureau_score",)], "clipped to 300-850"),
               "debt_to_income": ([cust_in + ("debts",), cust_in + ("income",)], "debts / income"),
               "income": ([cust_in + ("income",)], None)}),
           **feast_source_link("customer_source", cust_out)),
        ds(LAKE, loans_out, md5(("%s:%s" % (loans_out, raw_versions[1])).encode()),
           schema=schema(("customer_id", "long"), ("loan_amount", "float"), ("loan_term_months", "long"),
                         ("event_timestamp", "timestamp")),
           columnLineage=lineage({
               "customer_id": ([loans_in + ("customer_id",)], None),
               "loan_amount": ([loans_in + ("amount",)], None),
               "loan_term_months": ([loans_in + ("term_months",)], None)}),
           **feast_source_link("loan_source", loans_out)),
    ]
    inputs = [ds(*cust_in, version=raw_versions[0]), ds(*loans_in, version=raw_versions[1])]
    return run_pair("features-%d" % day, j, at(day, 6, 10), at(day, 6, 14), inputs, outputs)


def feast_fixtures(*names):
    out = []
    for n in names:
        with open(os.path.join(HERE, "fixtures", "feast", n + ".json"), encoding="utf-8") as f:
            out.append(json.load(f))
    return out


# ---- MLflow: runs as the tracking server records them, turned into events by the emitter ---------

EXPERIMENT = {"experiment_id": "7", "name": "loan_approval", "artifact_location": "s3://mlflow-artifacts/7",
              "lifecycle_stage": "active"}
EMITTER = mol.MlflowEmitter(job_namespace="ml-training", registry_namespace=REGISTRY)
FEATURE_SERVICE_URI = "feast://%s/loan_approval_v1" % FEAST_PROJECT


def mlflow_run(label, start, end, params, metrics, inputs, model_uuid=None, parent=None, status="FINISHED"):
    rid = uuid.uuid5(uuid.NAMESPACE_URL, "lineaged-example:mlflow:" + label).hex
    tags = {"mlflow.runName": label, "mlflow.user": "ana", "mlflow.source.name": "training/train_loan_model.py",
            "mlflow.source.git.repoURL": REPO, "mlflow.source.git.commit": "5e1f0c9d2b4a6e8c0a2f4d6b8e0c2a4f6d8b0e1c"}
    if parent:
        tags["mlflow.parentRunId"] = parent
    if model_uuid:
        tags["mlflow.log-model.history"] = json.dumps([{"run_id": rid, "artifact_path": "model",
                                                        "utc_time_created": end.strftime("%Y-%m-%d %H:%M:%S.%f"),
                                                        "flavors": {"python_function": {}, "sklearn": {}},
                                                        "model_uuid": model_uuid}])
    return {"info": {"run_id": rid, "run_name": label, "experiment_id": "7", "user_id": "ana", "status": status,
                     "start_time": ms(start), "end_time": ms(end), "lifecycle_stage": "active",
                     "artifact_uri": "s3://mlflow-artifacts/7/%s/artifacts" % rid},
            "data": {"params": params, "metrics": [{"key": k, "value": v, "step": 0, "timestamp": ms(end)}
                                                   for k, v in sorted(metrics.items())], "tags": tags},
            "inputs": {"dataset_inputs": inputs}}


def training_input(digest):
    return {"tags": [{"key": "mlflow.data.context", "value": "training"}],
            "dataset": {"name": "loan_training_set", "digest": digest, "source_type": "feast",
                        "source": json.dumps({"uri": FEATURE_SERVICE_URI})}}


HOLDOUT = {"tags": [{"key": "mlflow.data.context", "value": "eval"}],
           "dataset": {"name": "loan_holdout", "digest": "e03b44a2", "source_type": "s3",
                       "source": json.dumps({"uri": LAKE + "/holdout/loans.parquet"})}}


def experiment(digest):
    """A tuning run (parent) with two nested trials."""
    parent = mlflow_run("tuning-2025-03-01", at(0, 7, 0), at(0, 7, 40), {"search": "grid"}, {"best_val_auc": 0.901},
                        [training_input(digest)])
    events = EMITTER.run_events(parent, EXPERIMENT)[:1]
    for depth, auc, (s, e) in ((4, 0.889, (1, 15)), (8, 0.901, (16, 38))):
        trial = mlflow_run("trial-depth%d" % depth, at(0, 7, s), at(0, 7, e), {"max_depth": str(depth)},
                           {"val_auc": auc}, [training_input(digest)], parent=parent["info"]["run_id"])
        events += EMITTER.run_events(trial, EXPERIMENT)
    return events + EMITTER.run_events(parent, EXPERIMENT)[1:]


def train(day, digest, auc):
    run = mlflow_run("gbm-depth6" if day == 0 else "gbm-depth6-retrain", at(day, 8, 0), at(day, 8, 15 + day),
                     {"max_depth": "6", "n_estimators": "300", "learning_rate": "0.05"},
                     {"val_auc": auc, "train_auc": auc + 0.03}, [training_input(digest), HOLDOUT],
                     model_uuid=uuid.uuid5(uuid.NAMESPACE_URL, "lineaged-example:model:%d" % day).hex)
    return run, EMITTER.run_events(run, EXPERIMENT)


def logged_model(run):
    out = [o for o in EMITTER.run_events(run, EXPERIMENT)[-1]["outputs"] if o["facets"]["datasetType"]["subType"] == "LOGGED"]
    return out[0]


def validate(day, run, auc):
    model = logged_model(run)
    report = md5(("validation:%s:%.3f" % (model["name"], auc)).encode())
    j = job(PIPELINE, "validate_loan_model", "PYTHON", "VALIDATION", "pipelines/validate.py", "team:ml-platform")
    inputs = [ds(model["namespace"], model["name"], model["facets"]["version"]["datasetVersion"]),
              ds(LAKE, "holdout/loans.parquet", "e03b44a2")]
    outputs = [ds(LAKE, "reports/validation/loan_approval_model.json", report)]
    checks = {"validation": facet(mol.CUSTOM_RUN_FACET, metric="val_auc", value=auc, threshold=0.9, passed=auc >= 0.9)}
    return run_pair("validate-%d" % day, j, at(day, 8, 18), at(day, 8, 20), inputs, outputs, run_facets=checks)


def register(day, run, version):
    mv = {"name": "loan_approval_model", "version": str(version), "creation_timestamp": ms(at(day, 8, 25)),
          "current_stage": "None", "status": "READY", "run_id": run["info"]["run_id"],
          "source": run["info"]["artifact_uri"] + "/model", "aliases": ["champion"] if version == 1 else [],
          "description": "Loan approval model served by the loan-approval endpoint."}
    return EMITTER.run_events(run, EXPERIMENT, [mv])[-1:]   # the START is unchanged: not sent again


def deploy(day, version, error=None):
    j = job(PIPELINE, "deploy_loan_approval_model", "KUBERNETES", "DEPLOY", "deploy/rollout.py", "team:ml-platform")
    inputs = [ds(REGISTRY, "loan_approval_model", str(version))]
    outputs = [ds(SERVING, "serving/loan-approval", "loan_approval_model/%d" % version,
                  datasetType=facet("1-0-1/DatasetTypeDatasetFacet", datasetType="DEPLOYMENT", subType="ENDPOINT"),
                  documentation=facet("1-1-0/DocumentationDatasetFacet", description="Online loan approval API"))]
    return run_pair("deploy-%d" % day, j, at(day, 8, 40), at(day, 8, 45 + 2 * day), inputs, outputs,
                    state="FAIL" if error else "COMPLETE", error=error)


def workflow():
    events = []
    for day in (0, 1):
        ingest_events, raw_versions = ingest(day)
        events += ingest_events + build_features(day, raw_versions)
        if day == 0:
            events += feast_fixtures("apply_feature_views", "apply_feature_service")
        events += feast_fixtures("materialize_%d_start" % (day + 1), "materialize_%d_complete" % (day + 1))
        digest = md5(("loan_approval_v1:%s:%s" % raw_versions).encode())[:8]   # MLflow's 8-digit digest
        if day == 0:
            events += experiment(digest)
        auc = 0.912 if day == 0 else 0.918
        run, train_events = train(day, digest, auc)
        events += train_events + validate(day, run, auc) + register(day, run, day + 1)
        events += deploy(day, day + 1, None if day == 0 else
                         "rollout of loan_approval_model/2 failed: readiness probe p99 latency 850 ms > 300 ms budget")
    return events


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="lineaged base URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--api-key", default=os.environ.get("LINEAGED_API_KEY"), help="Bearer key (or LINEAGED_API_KEY)")
    ap.add_argument("--dry-run", action="store_true", help="print the events as a JSON array and send nothing")
    args = ap.parse_args(argv)
    events = workflow()
    if args.dry_run:
        json.dump(events, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if not args.url:
        ap.error("--url is required unless --dry-run")
    try:
        statuses = mol.post_events(args.url, events, api_key=args.api_key)
    except (RuntimeError, OSError) as e:
        print("ml_workflow: %s" % e, file=sys.stderr)
        return 1
    for ev, st in zip(events, statuses):
        print("%d %-8s %s/%s" % (st, ev["eventType"], ev["job"]["namespace"], ev["job"]["name"]))
    print("%d events sent, all accepted" % len(events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
