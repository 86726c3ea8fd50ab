"""examples/mlflow_openlineage.py - OpenLineage events for MLflow runs (Python standard library only).

MLflow has no OpenLineage emitter. This module maps what MLflow's tracking server knows about a run to
OpenLineage RunEvents and sends them to lineaged (or any OpenLineage endpoint). A training script calls
it after its MLflow run ends:

    import mlflow_openlineage as mol
    mlflow_data = mol.fetch_run("http://mlflow:5000", run_id)            # MLflow's REST API
    emitter = mol.MlflowEmitter(job_namespace="ml-training")
    mol.post_events("http://lineaged:5000", emitter.run_events(**mlflow_data))

The input is the JSON MLflow's REST API returns (what MlflowClient reads too):
  run            GET /api/2.0/mlflow/runs/get              -> "run": {info, data, inputs}
  experiment     GET /api/2.0/mlflow/experiments/get       -> "experiment"
  model_versions GET /api/2.0/mlflow/model-versions/search -> "model_versions" (this run's are used)
`data.params`, `data.metrics` and `data.tags` may be lists of {key, value} (REST) or plain dicts.

The mapping (one OpenLineage run per MLflow run):
  run id         the MLflow run id as a UUID (32 hex digits are a UUID); START at start_time, then
                 COMPLETE, FAIL or ABORT at end_time for FINISHED, FAILED or KILLED runs
  job            {job_namespace, experiment name}; jobType MLFLOW/TRAINING; sourceCodeLocation from the
                 mlflow.source.git.repoURL, mlflow.source.git.commit and mlflow.source.name tags
  run facets     executionParameters (the params), mlflow_run (experiment, run name, status, user,
                 artifact URI), mlflow_metrics (on the terminal event), errorMessage (FAIL, if given),
                 parent (a nested run's mlflow.parentRunId: the parent run, same job)
  inputs         each log_input dataset: version = its digest, schema from MLflow's column spec,
                 mlflow_datasetInput (name, context tag, source type); named from its source URI
                 (dataset_name_for)
  outputs        each logged model (mlflow.log-model.history tag): datasetType MODEL/LOGGED, version =
                 model_uuid, in the artifact store; each registered version whose run_id is this run:
                 datasetType MODEL/REGISTERED, version = the version number, in registry_namespace.
                 Registering later and calling run_events again re-sends the terminal event with the
                 registered version added (OpenLineage consumers accumulate a run's outputs).
Every event is a function of its input: the same MLflow data always gives the same events, so sending
them again is harmless (lineaged stores an identical event once).
"""

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone

PRODUCER = "urn:lineaged:example:mlflow-openlineage"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
SPEC_FACETS = "https://openlineage.io/spec/facets/"
CUSTOM_RUN_FACET = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet"
CUSTOM_DATASET_FACET = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetFacet"
TERMINAL = {"FINISHED": "COMPLETE", "FAILED": "FAIL", "KILLED": "ABORT"}


def facet(spec, producer=PRODUCER, **fields):
    """A facet dict: spec is "1-2-0/SchemaDatasetFacet" (standard) or a custom facet's schema URL."""
    if spec.startswith("https://"):
        url = spec
    else:
        url = "%s%s.json#/$defs/%s" % (SPEC_FACETS, spec, spec.split("/", 1)[1])
    out = {"_producer": producer, "_schemaURL": url}
    out.update({k: v for k, v in fields.items() if v is not None})
    return out


def iso_ms(ms):
    """MLflow's millisecond timestamps as ISO-8601 UTC with milliseconds."""
    dt = datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def run_uuid(mlflow_run_id):
    """MLflow run ids are 32 hex digits: the same UUID with dashes; anything else gets a name-based one."""
    try:
        return str(uuid.UUID(hex=mlflow_run_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "mlflow:run:" + mlflow_run_id))


def pairs(v):
    """{key: value} from MLflow's REST list of {key, value} (or a dict already)."""
    if isinstance(v, dict):
        return dict(v)
    return {p["key"]: p.get("value") for p in (v or [])}


def dataset_name_for(uri):
    """(namespace, name) for a dataset source URI, following OpenLineage's naming:
    feast://project/name -> (project, name), as Feast's emitter names its datasets;
    s3://bucket/key -> ("s3://bucket", "key"), likewise gs://, abfss://, hdfs://host:port/path;
    file:///path or a bare path -> ("file", "/path"); anything else -> (scheme://host, path)."""
    u = urllib.parse.urlparse(uri)
    if u.scheme == "feast":
        return u.netloc, u.path.lstrip("/")
    if u.scheme in ("", "file"):
        return "file", u.path
    if u.scheme in ("s3", "s3a", "gs", "abfss", "wasbs"):
        return "%s://%s" % (u.scheme, u.netloc), u.path.lstrip("/")
    return "%s://%s" % (u.scheme, u.netloc), u.path or "/"


class MlflowEmitter:
    """Builds OpenLineage events from MLflow run data (see the module comment for the mapping)."""

    def __init__(self, job_namespace, registry_namespace="mlflow://registry", producer=PRODUCER):
        self.job_namespace = job_namespace
        self.registry_namespace = registry_namespace
        self.producer = producer

    def _facet(self, spec, **fields):
        return facet(spec, self.producer, **fields)

    # ---- pieces ---------------------------------------------------------------------------------
    def _job(self, info, tags, experiment):
        name = (experiment or {}).get("name") or "experiment_%s" % info["experiment_id"]
        facets = {"jobType": self._facet("2-0-4/JobTypeJobFacet", processingType="BATCH", integration="MLFLOW",
                                         jobType="TRAINING")}
        repo, commit = tags.get("mlflow.source.git.repoURL"), tags.get("mlflow.source.git.commit")
        if repo and commit:
            facets["sourceCodeLocation"] = self._facet("1-1-0/SourceCodeLocationJobFacet", type="git", url=repo,
                                                       repoUrl=repo, path=tags.get("mlflow.source.name"),
                                                       version=commit)
        return {"namespace": self.job_namespace, "name": name, "facets": facets}

    def _run_facets(self, info, data, experiment, job_name, terminal, error_message):
        params = pairs(data.get("params"))
        facets = {
            "executionParameters": self._facet("1-0-0/ExecutionParametersRunFacet", parameters=[
                {"key": k, "value": str(params[k])} for k in sorted(params)]),
            "mlflow_run": self._facet(CUSTOM_RUN_FACET, experimentId=info["experiment_id"],
                                      experimentName=(experiment or {}).get("name"), runName=info.get("run_name"),
                                      status=info["status"], userId=info.get("user_id"),
                                      artifactUri=info.get("artifact_uri")),
        }
        parent = pairs(data.get("tags")).get("mlflow.parentRunId")
        if parent:
            facets["parent"] = self._facet("1-2-0/ParentRunFacet", run={"runId": run_uuid(parent)},
                                           job={"namespace": self.job_namespace, "name": job_name})
        metrics = data.get("metrics") or []
        if isinstance(metrics, dict):
            metrics = [{"key": k, "value": v} for k, v in metrics.items()]
        if terminal and metrics:
            facets["mlflow_metrics"] = self._facet(CUSTOM_RUN_FACET, metrics=sorted(
                ({k: m[k] for k in ("key", "value", "step", "timestamp") if k in m} for m in metrics),
                key=lambda m: m["key"]))
        if terminal and error_message:
            facets["errorMessage"] = self._facet("1-0-1/ErrorMessageRunFacet", message=error_message,
                                                 programmingLanguage="python")
        return facets

    def _input(self, dataset_input):
        ds = dataset_input["dataset"]
        source = json.loads(ds["source"]) if isinstance(ds.get("source"), str) else (ds.get("source") or {})
        uri = source.get("uri") or source.get("url") or source.get("path") or ds["name"]
        ns, name = dataset_name_for(uri)
        tags = pairs(dataset_input.get("tags"))
        facets = {"version": self._facet("1-0-1/DatasetVersionDatasetFacet", datasetVersion=ds["digest"])}
        schema = json.loads(ds["schema"]) if ds.get("schema") else {}
        cols = schema.get("mlflow_colspec") or []
        if cols:
            facets["schema"] = self._facet("1-2-0/SchemaDatasetFacet", fields=[
                {"name": c["name"], "type": c.get("type")} for c in cols])
        facets["mlflow_datasetInput"] = self._facet(CUSTOM_DATASET_FACET, name=ds["name"],
                                                    context=tags.get("mlflow.data.context"),
                                                    sourceType=ds.get("source_type"))
        return {"namespace": ns, "name": name, "facets": facets}

    def _logged_models(self, info, tags):
        history = json.loads(tags.get("mlflow.log-model.history") or "[]")
        ns, root = dataset_name_for(info["artifact_uri"])
        out = []
        for m in history:
            out.append({"namespace": ns, "name": "%s/%s" % (root.rstrip("/"), m["artifact_path"]), "facets": {
                "datasetType": self._facet("1-0-1/DatasetTypeDatasetFacet", datasetType="MODEL", subType="LOGGED"),
                "version": self._facet("1-0-1/DatasetVersionDatasetFacet", datasetVersion=m["model_uuid"]),
                "mlflow_loggedModel": self._facet(CUSTOM_DATASET_FACET, artifactPath=m["artifact_path"],
                                                  flavors=sorted((m.get("flavors") or {}).keys()),
                                                  createdAt=m.get("utc_time_created")),
            }})
        return out

    def _registered(self, info, model_versions):
        out = []
        for mv in model_versions or ():
            if mv.get("run_id") != info["run_id"]:
                continue
            facets = {
                "datasetType": self._facet("1-0-1/DatasetTypeDatasetFacet", datasetType="MODEL",
                                           subType="REGISTERED"),
                "version": self._facet("1-0-1/DatasetVersionDatasetFacet", datasetVersion=str(mv["version"])),
                "mlflow_modelVersion": self._facet(CUSTOM_DATASET_FACET, version=str(mv["version"]),
                                                   source=mv.get("source"), status=mv.get("status"),
                                                   stage=mv.get("current_stage"), aliases=mv.get("aliases"),
                                                   createdAt=iso_ms(mv["creation_timestamp"])),
            }
            if mv.get("description"):
                facets["documentation"] = self._facet("1-1-0/DocumentationDatasetFacet",
                                                      description=mv["description"])
            out.append({"namespace": self.registry_namespace, "name": mv["name"], "facets": facets})
        return out

    # ---- events ---------------------------------------------------------------------------------
    def run_events(self, run, experiment=None, model_versions=(), error_message=None):
        """[START] for a running run, [START, COMPLETE|FAIL|ABORT] for an ended one."""
        info, data = run["info"], run.get("data") or {}
        tags = pairs(data.get("tags"))
        job = self._job(info, tags, experiment)
        inputs = [self._input(d) for d in (run.get("inputs") or {}).get("dataset_inputs") or []]
        run_id = run_uuid(info["run_id"])
        events = [{
            "eventType": "START", "eventTime": iso_ms(info["start_time"]), "producer": self.producer,
            "schemaURL": RUN_EVENT_SCHEMA,
            "run": {"runId": run_id, "facets": self._run_facets(info, data, experiment, job["name"], False, None)},
            "job": job, "inputs": inputs, "outputs": [],
        }]
        state = TERMINAL.get(info["status"])
        if state is not None and info.get("end_time"):
            outputs = self._logged_models(info, tags) + self._registered(info, model_versions)
            events.append({
                "eventType": state, "eventTime": iso_ms(info["end_time"]), "producer": self.producer,
                "schemaURL": RUN_EVENT_SCHEMA,
                "run": {"runId": run_id, "facets": self._run_facets(info, data, experiment, job["name"], True, error_message)},
                "job": job, "inputs": inputs, "outputs": outputs if state == "COMPLETE" else [],
            })
        return events


# ---- talking to MLflow and to lineaged -----------------------------------------------------------

def _get_json(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode("utf-8"))


def fetch_run(tracking_uri, run_id, timeout=30):
    """{"run", "experiment", "model_versions"} for run_id from an MLflow tracking server's REST API."""
    api = tracking_uri.rstrip("/") + "/api/2.0/mlflow/"
    run = _get_json(api + "runs/get?" + urllib.parse.urlencode({"run_id": run_id}), timeout)["run"]
    exp = _get_json(api + "experiments/get?" + urllib.parse.urlencode(
        {"experiment_id": run["info"]["experiment_id"]}), timeout)["experiment"]
    mvs = _get_json(api + "model-versions/search?" + urllib.parse.urlencode(
        {"filter": "run_id='%s'" % run_id}), timeout).get("model_versions", [])
    return {"run": run, "experiment": exp, "model_versions": mvs}


def post_events(url, events, api_key=None, timeout=30):
    """POSTs each event to url + /api/v1/lineage; returns the HTTP statuses. Raises RuntimeError with the
    server's answer when one is not 2xx (the events before it were sent)."""
    statuses = []
    for ev in events:
        req = urllib.request.Request(url.rstrip("/") + "/api/v1/lineage", data=json.dumps(ev).encode("utf-8"),
                                     method="POST", headers={"Content-Type": "application/json"})
        if api_key:
            req.add_header("Authorization", "Bearer " + api_key)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                statuses.append(r.status)
        except urllib.error.HTTPError as e:
            raise RuntimeError("%s %s: HTTP %d %s" % (ev["job"]["name"], ev.get("eventType"), e.code,
                                                     e.read()[:300].decode("utf-8", "replace"))) from None
    return statuses
