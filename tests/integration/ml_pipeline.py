"""tests/integration/ml_pipeline.py - a realistic ML pipeline as OpenLineage events, for the ML lineage
tests (test_ml_lineage.py, test_python_client.py). No tests here.

What producers send, written from their documented shapes (facts only):
- Feast (its OpenLineage emitter, sdk/python/feast/openlineage/): producer feast, namespace = the Feast
  project; `feast apply` is a COMPLETE run of `feast_feature_views_<project>` (data sources and entities
  in, feature views out) and one of `feature_service_<name>` per feature service; `materialize_<project>`
  runs write `online_store_<feature view>`. Dataset facets feast_dataSource, feast_entity,
  feast_featureView, feast_featureService, feast_onlineStore, and dataSource{name, uri} (a data source's
  path; an online store's "<store>://feast/<feature view>"); job facets feast_project, feast_jobKind;
  run facet feast_materialization. Never datasetType, version or symlinks.
- MLflow-style (the usual mapping; MLflow has no emitter): the MLflow run id (32 hex digits) as run id,
  params in executionParameters, log_input datasets as inputs with their digest as `version`, the
  logged model and the registered model version as outputs with datasetType{MODEL, LOGGED|REGISTERED}
  and `version`, code in sourceCodeLocation.

The pipeline (day 1, then a retrain on day 2):
  ingest_customer_data -> raw_data/customer_data @MD5_A (dataSource.uri = the parquet file)
  feast apply: customer_source (same uri: one dataset with raw_data/customer_data), entity customer
     -> customer_features (FEATURE_VIEW) -> loan_service (FEATURE_SERVICE); materialize -> online store
  loan_pipeline (run P1) with children train (T1, hyperparameters), validate (V1), register (R1):
     customer_data @MD5_A + loan_service -> runs/<T1>/model (MODEL:LOGGED, version m-1)
     -> mlflow://registry/loan_approval_model version "1" (MODEL:REGISTERED)
  deploy_loan_model (D1, COMPLETED): version "1" -> serving/loan_approval_endpoint (DEPLOYMENT)
  day 2: customer_data @MD5_B; P2 with T2 (max_depth 8), R2 -> version "2"; D2 FAILED deploying it
  evaluate_holdout: reads raw_data/holdout @MD5_H, which no run wrote
"""

import datetime
import hashlib
import re
import uuid

import harness as h

FEAST_PRODUCER = "https://github.com/feast-dev/feast"
ML_PRODUCER = "https://lineaged.test/mlflow-openlineage"
SPEC = "https://openlineage.io/spec/facets/1-0-1/"

RAW = "raw_data"
FEAST = "credit_scoring"
EXP = "mlflow://experiments/credit_risk"
REG = "mlflow://registry"
PIPE = "ml_pipelines"
SERVING = "serving"
RAW_URI = "s3://ml-lake/raw/customer_data.parquet"
MD5_A = "3f2c9a1e0b7d4c5e6f708192a3b4c5d6"
MD5_B = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
MD5_H = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
T1_MLFLOW = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"  # MLflow run ids: 32 hex digits, not UUIDs
T2_MLFLOW = "f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1"
DAY1 = datetime.datetime(2025, 3, 1, 6, 0, 0, tzinfo=datetime.timezone.utc)
DAY2 = DAY1 + datetime.timedelta(days=1)


def facet(facet_class, **fields):
    d = {"_producer": ML_PRODUCER, "_schemaURL": SPEC + facet_class + ".json"}
    d.update(fields)
    return d


def feast_facet(facet_class, **fields):
    d = {"_producer": FEAST_PRODUCER, "_schemaURL": "https://feast.dev/spec/facets/1-0-0/%s.json" % facet_class}
    d.update(fields)
    return d


def schema(*fields):
    return facet("SchemaDatasetFacet", fields=[{"name": n, "type": t, "description": d} for n, t, d in fields])


def at(base, minutes):
    return h.iso_z(base + datetime.timedelta(minutes=minutes))


def run_event(run_id, event_type, when, ns, job, inputs=(), outputs=(), run_facets=None, job_facets=None,
              producer=ML_PRODUCER):
    return h.make_run_event(run_id, event_type, when, ns, job, list(inputs), list(outputs), run_facets=run_facets,
                            job_facets=job_facets, producer=producer)


def parent(run_id, ns, name):
    return {"parent": facet("ParentRunFacet", run={"runId": run_id}, job={"namespace": ns, "name": name})}


def code(path, sha):
    return {"sourceCodeLocation": facet("SourceCodeLocationJobFacet", type="git",
                                        url="https://git.bank.io/ml/credit/blob/%s/%s" % (sha, path),
                                        repoUrl="https://git.bank.io/ml/credit.git", path=path, version=sha),
            "jobType": facet("JobTypeJobFacet", processingType="BATCH", integration="MLFLOW", jobType="TASK")}


def params(**kv):
    return {"executionParameters": facet("ExecutionParametersRunFacet",
                                         parameters=[{"key": k, "value": str(v)} for k, v in sorted(kv.items())])}


def versioned(ns, name, version, where="facets", **extra):
    d = {"namespace": ns, "name": name, where: {"version": facet("DatasetVersionDatasetFacet",
                                                                 datasetVersion=version)}}
    for k, v in extra.items():
        d.setdefault("facets", {})[k] = v
    return d


CUSTOMER_FIELDS = (("customer_id", "INT", "bank customer id"), ("income", "DOUBLE", "yearly income"),
                   ("credit_score", "INT", "bureau credit score"), ("age", "INT", None),
                   ("defaulted", "BOOLEAN", "label: defaulted within 12 months"))


def raw_customer_data(md5):
    return versioned(RAW, "customer_data", md5, dataSource=facet("DatasourceDatasetFacet", name="s3", uri=RAW_URI),
                     schema=schema(*CUSTOMER_FIELDS),
                     ownership=facet("OwnershipDatasetFacet", owners=[{"name": "team:data-eng", "type": "MAINTAINER"}]),
                     documentation=facet("DocumentationDatasetFacet", description="Customer master data, daily export"))


def ingest(run_id, base, md5):
    out = raw_customer_data(md5)
    jf = code("ingest/customers.py", "ing0001")
    return [run_event(run_id, "START", at(base, 0), "ingest", "ingest_customer_data", outputs=[out], job_facets=jf),
            run_event(run_id, "COMPLETE", at(base, 5), "ingest", "ingest_customer_data", outputs=[out],
                      job_facets=jf)]


def feast_job_facets(kind):
    return {"feast_project": feast_facet("FeastProjectFacet", project_name=FEAST, provider="local"),
            "feast_jobKind": feast_facet("FeastJobKindFacet", kind=kind, feast_project=FEAST)}


def customer_source():
    return {"namespace": FEAST, "name": "customer_source", "facets": {
        "dataSource": {"_producer": FEAST_PRODUCER, "_schemaURL": SPEC + "DatasourceDatasetFacet.json",
                       "name": "customer_source", "uri": RAW_URI},
        "feast_dataSource": feast_facet("FeastDataSourceFacet", name="customer_source", source_type="FileSource",
                                        timestamp_field="event_timestamp", path=RAW_URI, field_mapping={},
                                        description="", tags={})}}


def customer_entity():
    return {"namespace": FEAST, "name": "customer", "facets": {
        "feast_entity": feast_facet("FeastEntityFacet", name="customer", join_keys=["customer_id"], value_type="INT64",
                                    description="a bank customer", owner="", tags={}),
        "schema": schema(("customer_id", "INT64", None))}}


FEATURES = (("credit_score", "Int64", "bureau credit score"), ("income", "Float64", "yearly income"),
            ("age", "Int64", "age in years"))


def customer_features(with_schema=True):
    f = {"feast_featureView": feast_facet("FeastFeatureViewFacet", name="customer_features", ttl_seconds=86400,
                                          entities=["customer"], features=[x[0] for x in FEATURES],
                                          online_enabled=True, description="Credit features per customer",
                                          owner="risk-team@bank.io", tags={"team": "risk"}),
         "documentation": facet("DocumentationDatasetFacet", description="Credit features per customer")}
    if with_schema:
        f["schema"] = schema(*FEATURES)
    return {"namespace": FEAST, "name": "customer_features", "facets": f}


def feast_apply(base):
    fa, fs = str(uuid.uuid4()), str(uuid.uuid4())
    service = {"namespace": FEAST, "name": "loan_service", "facets": {
        "schema": schema(*FEATURES[:2]),
        "documentation": facet("DocumentationDatasetFacet", description="Features the loan model is served"),
        "feast_featureService": feast_facet("FeastFeatureServiceFacet", name="loan_service",
                                            feature_views=["customer_features"], feature_count=2,
                                            owner="risk-team@bank.io", tags={"tier": "gold"}, logging_enabled=False)}}
    return [
        run_event(fa, "COMPLETE", at(base, 10), FEAST, "feast_feature_views_" + FEAST,
                  [customer_source(), customer_entity()], [customer_features()],
                  job_facets=feast_job_facets("definition"), producer=FEAST_PRODUCER),
        run_event(fs, "COMPLETE", at(base, 11), FEAST, "feature_service_loan_service",
                  [{"namespace": FEAST, "name": "customer_features", "facets": {"schema": schema(*FEATURES[:2])}}],
                  [service], job_facets=feast_job_facets("definition"), producer=FEAST_PRODUCER),
    ]


def materialize(base):
    m = str(uuid.uuid4())
    online = {"namespace": FEAST, "name": "online_store_customer_features", "facets": {
        "dataSource": {"_producer": FEAST_PRODUCER, "_schemaURL": SPEC + "DatasourceDatasetFacet.json",
                       "name": "redis", "uri": "redis://feast/customer_features"},
        "feast_onlineStore": feast_facet("FeastOnlineStoreFacet", feature_view="customer_features", store_type="redis",
                                         description="Online store sink for feature view 'customer_features' (redis)"),
        "documentation": facet("DocumentationDatasetFacet", description="Materialized online features")}}
    rf = {"feast_materialization": feast_facet("FeastMaterializationFacet", feature_views=["customer_features"],
                                               project=FEAST, online_store_type="redis")}
    ins = [customer_features(False), customer_source(), customer_entity()]
    return [run_event(m, ev, at(base, mins), FEAST, "materialize_" + FEAST, ins, [online], run_facets=rf,
                      job_facets=feast_job_facets("transform"), producer=FEAST_PRODUCER)
            for ev, mins in (("START", 12), ("COMPLETE", 13))]


def logged_model(mlflow_run, version):
    return versioned(EXP, "runs/%s/model" % mlflow_run, version,
                     datasetType=facet("DatasetTypeDatasetFacet", datasetType="MODEL", subType="LOGGED"),
                     schema=schema(("credit_score", "long", "model input"), ("income", "double", "model input")))


def registered_model(version, where="facets"):
    d = versioned(REG, "loan_approval_model", version, where)
    if where == "facets":
        d["facets"].update({
            "datasetType": facet("DatasetTypeDatasetFacet", datasetType="MODEL", subType="REGISTERED"),
            "documentation": facet("DocumentationDatasetFacet", description="Approves or declines loan requests"),
            "ownership": facet("OwnershipDatasetFacet", owners=[{"name": "team:ml-platform"}]),
            "tags": facet("TagsDatasetFacet", tags=[{"key": "stage", "value": "production", "source": "MLFLOW"}])})
    return d


class Day:
    """One day's pipeline: run ids and events."""

    def __init__(self, base, md5, mlflow_run, model_version, max_depth, deploy_fails):
        self.ingest, self.pipeline, self.validate = (str(uuid.uuid4()) for _ in range(3))
        self.register, self.deploy = str(uuid.uuid4()), str(uuid.uuid4())
        self.train = mlflow_run
        self.base, self.md5, self.model_version, self.max_depth = base, md5, model_version, max_depth
        self.logged_version = "m-%s" % model_version
        self.deploy_fails = deploy_fails

    def events(self):
        b, p = self.base, self.pipeline
        pf = parent(p, PIPE, "loan_pipeline")
        features = {"namespace": FEAST, "name": "loan_service"}
        labels = versioned(RAW, "customer_data", self.md5, "inputFacets")
        model_in = versioned(EXP, "runs/%s/model" % self.train, self.logged_version, "inputFacets")
        evs = ingest(self.ingest, b, self.md5)
        evs += [run_event(p, "START", at(b, 20), PIPE, "loan_pipeline",
                          job_facets={"jobType": facet("JobTypeJobFacet", processingType="BATCH",
                                                       integration="AIRFLOW", jobType="DAG")})]
        tf = dict(pf, **params(max_depth=self.max_depth, learning_rate=0.1, n_estimators=200))
        for ev, mins in (("START", 21), ("COMPLETE", 30)):
            evs.append(run_event(self.train, ev, at(b, mins), PIPE, "loan_pipeline.train", [features, labels],
                                 [logged_model(self.train, self.logged_version)] if ev == "COMPLETE" else [],
                                 run_facets=tf, job_facets=code("train.py", "sha-train-%d" % self.max_depth)))
        evs.append(run_event(self.validate, "COMPLETE", at(b, 35), PIPE, "loan_pipeline.validate",
                             [model_in, labels], [], run_facets=dict(pf, **params(min_auc=0.8)),
                             job_facets=code("validate.py", "sha-val")))
        evs.append(run_event(self.register, "COMPLETE", at(b, 40), PIPE, "loan_pipeline.register", [model_in],
                             [registered_model(self.model_version)], run_facets=pf,
                             job_facets=code("register.py", "sha-reg")))
        evs.append(run_event(p, "COMPLETE", at(b, 50), PIPE, "loan_pipeline"))
        endpoint = {"namespace": SERVING, "name": "loan_approval_endpoint", "facets": {
            "datasetType": facet("DatasetTypeDatasetFacet", datasetType="DEPLOYMENT"),
            "ownership": facet("OwnershipDatasetFacet", owners=[{"name": "team:serving"}])}}
        reads = [registered_model(self.model_version, "inputFacets")]
        evs.append(run_event(self.deploy, "START", at(b, 60), SERVING, "deploy_loan_model", reads, [endpoint]))
        if self.deploy_fails:
            evs.append(run_event(self.deploy, "FAIL", at(b, 62), SERVING, "deploy_loan_model", reads, [endpoint],
                                 run_facets={"errorMessage": facet("ErrorMessageRunFacet",
                                                                   message="health check failed: p99 2.3s > 0.5s",
                                                                   programmingLanguage="python")}))
        else:
            evs.append(run_event(self.deploy, "COMPLETE", at(b, 61), SERVING, "deploy_loan_model", reads, [endpoint]))
        return evs


class Pipeline:
    """Both days, the Feast definitions and a holdout evaluation, in the order a deployment sends them."""

    def __init__(self):
        self.day1 = Day(DAY1, MD5_A, T1_MLFLOW, "1", 6, deploy_fails=False)
        self.day2 = Day(DAY2, MD5_B, T2_MLFLOW, "2", 8, deploy_fails=True)
        self.holdout_run = str(uuid.uuid4())

    def events(self):
        evs = self.day1.events()[:2] + feast_apply(DAY1) + materialize(DAY1) + self.day1.events()[2:]
        evs += self.day2.events()
        evs.append(run_event(self.holdout_run, "COMPLETE", at(DAY2, 90), PIPE, "evaluate_holdout",
                             [versioned(RAW, "holdout", MD5_H, "inputFacets"),
                              versioned(REG, "loan_approval_model", "2", "inputFacets")], []))
        return evs


def run_uuid(run_id):
    """The UUID a run id is stored as: a UUID in its canonical 8-4-4-4-12 form as it is (lower case), any
    other id (MLflow's 32 hex digits) as its name-based UUID, MD5 version 3, as Marquez stores it."""
    if re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", run_id):
        return run_id.lower()
    b = bytearray(hashlib.md5(run_id.encode("utf-8")).digest())
    b[6] = (b[6] & 0x0F) | 0x30
    b[8] = (b[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(b)))
