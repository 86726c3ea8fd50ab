"""clients/python/lineaged_client.py - a small client for lineaged's own read routes (Python standard
library only): the ML lineage questions, one call each.

    from lineaged_client import LineagedClient
    c = LineagedClient("http://127.0.0.1:5000", api_key=None)
    c.list_models(sub_type="REGISTERED")                          # GET /api/v1/datasets?types=MODEL:REGISTERED
    c.get_lineage_for_model("loan_approval_model")                # GET /api/v1/lineage?name=...
    c.get_impact_analysis("customer_data", "raw_data")            # GET /api/v1/impact?nodeId=dataset:raw_data:...
    c.search_datasets("credit_score")                             # GET /api/v1/search?in=name,fields,...
    c.provenance("mlflow://registry", "loan_approval_model", "2") # .../versions/2/provenance
    c.run_dag(pipeline_run_id)                                    # GET /api/v1/jobs/runs/{id}/children
    c.runs(state="FAILED", reads=c.dataset_id("mlflow://registry", "loan_approval_model", "2"))

Every method returns the route's JSON answer as Python objects (CSV as text for format="csv"), and
raises LineagedError for any other status than 200: .status, .message, .body, and for a 409 (a name
that several datasets and jobs have) .candidates, the node ids to ask again with. Values go into the
URL percent-encoded; nothing is retried. The JSON shapes are in lineaged's README ("ML lineage").
Threads: a client holds no connection between calls; one instance may be shared.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["LineagedClient", "LineagedError"]

SEARCH_PLACES = ("name", "fields", "description", "tags", "owners")


class LineagedError(Exception):
    """A reply other than 200: status, message (from the JSON error body), body (parsed or text)."""

    def __init__(self, status, message, body=None):
        super().__init__("HTTP %d: %s" % (status, message))
        self.status = status
        self.message = message
        self.body = body

    @property
    def candidates(self):
        """For a 409 on an ambiguous name: [{"nodeId", "type", "namespace", "name"}, ...]; else []."""
        return self.body.get("candidates", []) if isinstance(self.body, dict) else []


def _error_message(body):
    if isinstance(body, dict):
        if "message" in body:
            return str(body["message"])
        if isinstance(body.get("errors"), list):
            return "; ".join(str(x) for x in body["errors"])
    return str(body)[:300]


class LineagedClient:
    def __init__(self, url="http://127.0.0.1:5000", api_key=None, timeout=30.0):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    # ---- node ids ----------------------------------------------------------------------------------

    @staticmethod
    def dataset_id(namespace, name, version=None):
        """"dataset:<namespace>:<name>[#<version>]" (version: a lineaged version id or the producer's)."""
        return "dataset:%s:%s%s" % (namespace, name, "" if version is None else "#%s" % version)

    @staticmethod
    def job_id(namespace, name):
        return "job:%s:%s" % (namespace, name)

    # ---- the ML questions --------------------------------------------------------------------------

    def get_lineage_for_model(self, name, namespace=None, depth=None, direction=None, types=None):
        """The lineage graph around a model, by its name alone (409 when several datasets and jobs have
        it: see LineagedError.candidates) or by namespace and name."""
        start = {"nodeId": self.dataset_id(namespace, name)} if namespace else {"name": name}
        return self._get("/api/v1/lineage", dict(start, depth=depth, direction=direction, types=_csv(types)))

    def get_impact_analysis(self, name, namespace=None, direction="downstream", depth=None, types=None,
                            format="json"):
        """What breaks if the dataset (namespace given) or the dataset or job `name` changes: the reached
        nodes with kind, version, owners and description. format="csv" returns the CSV text."""
        start = {"nodeId": self.dataset_id(namespace, name)} if namespace else {"name": name}
        return self._get("/api/v1/impact", dict(start, direction=direction, depth=depth, types=_csv(types),
                                                format=format), text=(format == "csv"))

    def search_datasets(self, q, places=SEARCH_PLACES, namespace=None, limit=None, sort=None):
        """Datasets whose name, fields, description, tags or owners (places) contain q; each result says
        where it matched (matchedIn, matched)."""
        return self._get("/api/v1/search", {"q": q, "filter": "dataset", "in": _csv(places), "namespace": namespace,
                                            "limit": limit, "sort": sort})

    def list_datasets(self, types=None, namespace=None, owner=None, tag=None, q=None, limit=None, offset=None):
        """Datasets of every namespace, by kind (types: "MODEL", "MODEL:REGISTERED", "FEATURE_VIEW", ...)."""
        return self._get("/api/v1/datasets", {"types": _csv(types), "namespace": namespace, "owner": owner,
                                              "tag": tag, "q": q, "limit": limit, "offset": offset})

    def list_models(self, sub_type=None, namespace=None, owner=None, tag=None, limit=None, offset=None):
        """Datasets of kind MODEL (sub_type: "LOGGED", "REGISTERED", ...)."""
        return self.list_datasets("MODEL" if sub_type is None else "MODEL:%s" % sub_type, namespace, owner, tag,
                                  None, limit, offset)

    def provenance(self, namespace, name, version, depth=None, max_runs=None):
        """How a dataset version (a lineaged version id, or the producer's: a model version "2", an md5)
        came to be: the run that wrote it, its parameters and code, the versions it read, recursively."""
        path = "/api/v1/namespaces/%s/datasets/%s/versions/%s/provenance" % (_seg(namespace), _seg(name),
                                                                             _seg(version))
        return self._get(path, {"depth": depth, "maxRuns": max_runs})

    def run_dag(self, run_id, depth=None, max_runs=None):
        """A run, its child runs (parent facet) to depth, and the data flow among them."""
        return self._get("/api/v1/jobs/runs/%s/children" % _seg(run_id), {"depth": depth, "maxRuns": max_runs})

    def runs(self, state=None, job=None, reads=None, writes=None, since=None, until=None, limit=None, offset=None):
        """Runs by what they did, newest first: state ("FAILED" or a list), job (a job id or a name), reads
        and writes (dataset ids, optionally "#<version>"), since/until (ISO-8601 times)."""
        return self._get("/api/v1/runs", {"state": _csv(state), "job": job, "reads": reads, "writes": writes,
                                          "since": since, "until": until, "limit": limit, "offset": offset})

    # ---- HTTP --------------------------------------------------------------------------------------

    def _get(self, path, params=None, text=False):
        query = urllib.parse.urlencode([(k, str(v)) for k, v in (params or {}).items() if v is not None])
        req = urllib.request.Request(self.url + path + ("?" + query if query else ""), method="GET")
        req.add_header("Accept", "text/csv" if text else "application/json")
        if self.api_key:
            req.add_header("Authorization", "Bearer " + self.api_key)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = resp.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
            raise LineagedError(e.code, _error_message(body), body) from None
        return data if text else json.loads(data)


def _seg(value):
    """One path segment: everything but unreserved characters percent-encoded (a '/' too)."""
    return urllib.parse.quote(str(value), safe="")


def _csv(value):
    if value is None or isinstance(value, str):
        return value
    return ",".join(str(v) for v in value)
