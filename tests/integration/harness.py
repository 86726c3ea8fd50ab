"""tests/integration/harness.py - helpers shared by the integration tests.

The tests talk to a real `lineaged serve` over real HTTP and read the real Postgres back with the
`psql` CLI. tests/run.py starts one private Postgres cluster (`lineaged postgres`) and passes:

  LINEAGED_BIN      path of the lineaged binary (a build directory is accepted too)
  LINEAGED_TEST_PG  libpq conninfo of database "lineaged" on that cluster

Each test class gets its own database (fresh_database) and its own server (ServerTestCase), so
classes are isolated from each other and a class pays for one server start only.
"""

import datetime
import gzip
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

# Time a server gets to answer /healthcheck after start (ASan builds are slow) and to stop.
START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0
PSQL_TIMEOUT = 120.0


# --------------------------------------------------------------------------------------------------
# environment

def lineaged_bin():
    """Path of the lineaged binary from $LINEAGED_BIN (a file, or a build dir holding server/lineaged)."""
    p = os.environ.get("LINEAGED_BIN")
    if not p:
        p = os.path.join(REPO_ROOT, "build")
    if os.path.isdir(p):
        p = os.path.join(p, "server", "lineaged")
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        raise RuntimeError("lineaged binary not found or not executable: %r "
                           "(set LINEAGED_BIN, or run the suite with tests/run.py --build DIR)" % p)
    return p


def base_conninfo():
    ci = os.environ.get("LINEAGED_TEST_PG")
    if not ci:
        raise RuntimeError("LINEAGED_TEST_PG is not set: run the integration tests through "
                           "`python3 tests/run.py --build build`, which starts the test Postgres")
    return ci


def sanitized_build():
    """True when the lineaged under test is an ASan/UBSan build (memory figures do not apply to it)."""
    build = os.environ.get("LINEAGED_BUILD")
    path = os.path.join(build, "meson-info", "intro-buildoptions.json") if build else None
    if not path or not os.path.isfile(path):
        return False
    with open(path, encoding="utf-8") as f:
        for opt in json.load(f):
            if opt.get("name") == "b_sanitize":
                return opt.get("value") not in ("none", "", None)
    return False


def shared_dir():
    """The shared/ data folder checked out beside the repo (<repo>/../shared)."""
    d = os.environ.get("LINEAGED_SHARED") or os.path.join(os.path.dirname(REPO_ROOT), "shared")
    d = os.path.abspath(d)
    if not os.path.isdir(os.path.join(d, "openlineage", "events")):
        raise RuntimeError("shared test data not found at %s (expected <repo>/../shared with "
                           "openlineage/events and anchors/marquez; set LINEAGED_SHARED to override)" % d)
    return d


# --------------------------------------------------------------------------------------------------
# Postgres access through psql

def sql_quote(s):
    """A SQL string literal (standard_conforming_strings is on by default)."""
    if s is None:
        return "NULL"
    return "'" + str(s).replace("'", "''") + "'"


def _psql(conninfo, args, timeout=PSQL_TIMEOUT):
    env = dict(os.environ)
    env["PGTZ"] = "UTC"
    env.setdefault("PGCONNECT_TIMEOUT", "30")
    cmd = ["psql", conninfo, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("psql failed (exit %d): %s\nargs: %r" % (
            p.returncode, p.stderr.decode("utf-8", "replace").strip(), args))
    return p.stdout.decode("utf-8")


def sql_exec(conninfo, *statements):
    """Runs each statement separately (psql -c ... -c ...), so CREATE DATABASE etc. work."""
    args = []
    for s in statements:
        args += ["-c", s]
    return _psql(conninfo, args)


def sql_scalar(conninfo, sql):
    """The single value of a one-row one-column query as text ('' for NULL)."""
    out = _psql(conninfo, ["-c", sql])
    return out[:-1] if out.endswith("\n") else out


def sql_json(conninfo, sql):
    """Rows of `sql` as a list of dicts (Postgres builds the JSON, so types survive: jsonb stays JSON)."""
    out = _psql(conninfo, ["-c", "SELECT coalesce(json_agg(sq__), '[]') FROM (%s) sq__" % sql])
    return json.loads(out)


def sql_count(conninfo, sql_from_where):
    """SELECT count(*) <sql_from_where> as an int, e.g. sql_count(db, "FROM events WHERE ...")."""
    return int(sql_scalar(conninfo, "SELECT count(*) " + sql_from_where))


def ts_sql(col):
    """SQL text of a timestamptz column as 'YYYY-MM-DDTHH:MM:SS.ffffff' in UTC (compare with utc_text)."""
    return "to_char((%s) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')" % col


_db_counter = [0]


def fresh_database(name):
    """Creates (or re-creates) database <name> on the test cluster and returns its conninfo."""
    base = base_conninfo()
    _db_counter[0] += 1
    dbname = re.sub(r"[^a-z0-9_]", "_", ("t_%s_%d_%d" % (name, os.getpid(), _db_counter[0])).lower())[:63]
    sql_exec(base, 'DROP DATABASE IF EXISTS "%s"' % dbname, 'CREATE DATABASE "%s"' % dbname)
    ci, n = re.subn(r"\bdbname=('lineaged'|lineaged)(?=\s|$)", "dbname=" + dbname, base)
    if n != 1:
        raise RuntimeError("cannot find dbname=lineaged in the test conninfo %r" % base)
    return ci


def lineaged_command(*args, timeout=PSQL_TIMEOUT):
    """Runs `lineaged <args>` to the end: (exit code, stdout text, stderr text). Fails the test on sanitizer
    reports."""
    p = subprocess.run([lineaged_bin()] + [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    for m in SANITIZER_MARKERS:
        if m in err:
            raise AssertionError("lineaged %s: stderr contains %r:\n%s" % (args[0] if args else "", m, err[-6000:]))
    return p.returncode, out, err


# --------------------------------------------------------------------------------------------------
# the server under test

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Response:
    """An HTTP answer: status, headers (lower-case names), body bytes; .json() parses the body."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __iter__(self):  # (status, headers, body) = server.post(...)
        return iter((self.status, self.headers, self.body))

    def __repr__(self):
        b = self.text()
        if len(b) > 600:
            b = b[:600] + "..."
        return "<HTTP %d %s>" % (self.status, b)


def read_response(conn):
    r = conn.getresponse()
    body = r.read()
    return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, body)


class Server:
    """One `lineaged serve` process on a free port of 127.0.0.1."""

    def __init__(self, conninfo, *extra_args, log_level="info", preexec_fn=None):
        """preexec_fn: run in the child before exec (to lower a resource limit, say)."""
        self.conninfo = conninfo
        self.extra_args = list(extra_args)
        self.log_level = log_level
        self.preexec_fn = preexec_fn
        self.proc = None
        self.port = None
        self._errf = None
        self._outf = None
        self.stopped_rc = None

    # lifecycle ---------------------------------------------------------------------------------
    def start(self):
        last = ""
        for _attempt in range(3):
            self.port = free_port()
            self._errf = tempfile.TemporaryFile(prefix="lineaged-stderr-")
            self._outf = tempfile.TemporaryFile(prefix="lineaged-stdout-")
            cmd = [lineaged_bin(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--database-url", self.conninfo, "--log-level", self.log_level] + self.extra_args
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._outf, stderr=self._errf,
                                         preexec_fn=self.preexec_fn)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    r = self.request("GET", "/healthcheck", timeout=5)
                    if r.status == 200:
                        return self
                except (OSError, http.client.HTTPException):
                    pass
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("lineaged serve did not answer GET /healthcheck 200 within %ds; "
                                     "stderr:\n%s" % (START_TIMEOUT, self.stderr_text()[-4000:]))
            last = self.stderr_text()
            if "in use" not in last.lower():
                break
        raise AssertionError("lineaged serve exited with code %s at start; cmd args %r; stderr:\n%s" % (
            self.proc.returncode, self.extra_args, last[-4000:]))

    def stderr_text(self):
        if self._errf is None:
            return ""
        self._errf.flush()
        self._errf.seek(0)
        return self._errf.read().decode("utf-8", "replace")

    def stdout_text(self):
        if self._outf is None:
            return ""
        self._outf.seek(0)
        return self._outf.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        """Clean shutdown: signal, wait, and fail if the exit code is not 0 or a sanitizer reported."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError("lineaged serve did not exit within %ds of %s; stderr tail:\n%s" % (
                    STOP_TIMEOUT, signal.Signals(sig).name, self.stderr_text()[-4000:]))
        self.stopped_rc = proc.returncode
        err = self.stderr_text()
        self.check_sanitizers(err)
        if proc.returncode != 0:
            raise AssertionError("lineaged serve exited with code %d after %s (expected 0); stderr tail:\n%s"
                                 % (proc.returncode, signal.Signals(sig).name, err[-4000:]))

    def kill9(self):
        """Hard crash: SIGKILL, wait. Only the sanitizer output is checked."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.check_sanitizers(self.stderr_text())

    def check_sanitizers(self, err):
        for m in SANITIZER_MARKERS:
            if m in err:
                i = err.find(m)
                raise AssertionError("lineaged serve stderr contains %r:\n%s" % (m, err[max(0, i - 2000):i + 6000]))

    def kill_quietly(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    # HTTP ----------------------------------------------------------------------------------------
    def connection(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=60, encode_chunked=False):
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {}, encode_chunked=encode_chunked)
            return read_response(conn)
        finally:
            conn.close()

    def post(self, path, body_bytes, headers=None, **kw):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return self.request("POST", path, body_bytes, h, **kw)

    def post_json(self, obj, path="/api/v1/lineage", headers=None, **kw):
        return self.post(path, json.dumps(obj).encode("utf-8"), headers, **kw)

    def get(self, path, headers=None):
        return self.request("GET", path, None, headers)


class HttpAsserts:
    """Assertions on Response objects (mix into a unittest.TestCase)."""

    def assertStatus(self, resp, status, msg=None):
        if isinstance(status, int):
            status = (status,)
        if resp.status not in status:
            self.fail("expected HTTP %s, got %r%s" % ("/".join(map(str, status)), resp,
                                                       (": " + msg) if msg else ""))

    def assertCreated(self, resp, msg=None):
        self.assertStatus(resp, 201, msg)
        self.assertEqual(resp.body, b"", "201 must have an empty body")

    def assertJsonError(self, resp, status, fragment=None):
        """resp is HTTP <status> with body {"code":<status>,"message":...} (message contains fragment)."""
        self.assertStatus(resp, status)
        ct = resp.headers.get("content-type", "")
        self.assertTrue(ct.startswith("application/json"), "error content-type %r, body %r" % (ct, resp))
        try:
            j = resp.json()
        except ValueError:
            self.fail("error body is not JSON: %r" % resp)
        self.assertIsInstance(j, dict, resp)
        self.assertEqual(j.get("code"), resp.status, "body code must equal the status: %r" % j)
        self.assertIsInstance(j.get("message"), str, j)
        self.assertTrue(j["message"], j)
        if fragment is not None:
            self.assertIn(fragment, j["message"], resp)
        return j

    def assertViolations(self, resp, *expected):
        """resp is 422 {"errors":[...]} and every expected message is in the list."""
        self.assertStatus(resp, 422)
        try:
            j = resp.json()
        except ValueError:
            self.fail("422 body is not JSON: %r" % resp)
        self.assertIsInstance(j, dict, resp)
        self.assertIsInstance(j.get("errors"), list, resp)
        self.assertTrue(j["errors"], "422 with an empty errors list: %r" % resp)
        for e in j["errors"]:
            self.assertIsInstance(e, str, j)
        for m in expected:
            self.assertIn(m, j["errors"], "expected error %r in %r" % (m, j["errors"]))
        return j["errors"]


class ServerTestCase(HttpAsserts, unittest.TestCase):
    """Base class: one fresh database and one server per test class."""

    server_args = ()
    server_log_level = "info"

    @classmethod
    def setUpClass(cls):
        cls.db = fresh_database(cls.__name__)
        cls.server = Server(cls.db, *cls.server_args, log_level=cls.server_log_level)
        cls.addClassCleanup(cls.server.kill_quietly)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()


class TwoCollectorsTestCase(ServerTestCase):
    """ServerTestCase with a second collector, cls.other: the same arguments, the same database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = Server(cls.db, *cls.server_args, log_level=cls.server_log_level)
        cls.addClassCleanup(cls.other.kill_quietly)
        cls.other.start()

    @classmethod
    def tearDownClass(cls):
        cls.other.stop()
        super().tearDownClass()


# --------------------------------------------------------------------------------------------------
# node ids and waiting

def enc(s):
    """s percent-encoded for a query parameter (node ids contain ':' and '/')."""
    return urllib.parse.quote(s, safe="")


def ds_id(ns, name):
    return "dataset:%s:%s" % (ns, name)


def job_id(ns, name):
    return "job:%s:%s" % (ns, name)


def field_id(ns, name, field):
    return "datasetField:%s:%s:%s" % (ns, name, field)


def wait_for(predicate, timeout=5.0, step=0.05):
    """Polls predicate until it returns something true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


# --------------------------------------------------------------------------------------------------
# OpenLineage helpers

def uuid_v3_of(s):
    """Java UUID.nameUUIDFromBytes(s): how a non-UUID runId is stored."""
    h = bytearray(hashlib.md5(s.encode("utf-8")).digest())
    h[6] = (h[6] & 0x0F) | 0x30
    h[8] = (h[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(h)))


def run_uuid_of(run_id):
    """The uuid a runId is stored under: itself (lower case) if it is a UUID, else uuid_v3_of."""
    return str(uuid.UUID(run_id)) if is_uuid(run_id) else uuid_v3_of(run_id)


def is_uuid(s):
    return isinstance(s, str) and re.fullmatch(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", s) is not None


def event_kind(ev):
    if "run" in ev:
        return "RUN_EVENT"
    if "job" in ev:
        return "JOB_EVENT"
    if "dataset" in ev:
        return "DATASET_EVENT"
    return None


def is_self_parent(ev):
    """A parent facet naming the event's own job (same namespace and name) is no job hierarchy."""
    p = parent_facet(ev)
    pj = p.get("job") if p is not None else None
    return isinstance(pj, dict) and pj.get("namespace") == ev["job"].get("namespace") \
        and pj.get("name") == ev["job"].get("name")


def expected_job_name(ev):
    """Marquez rule: a child job (parent facet) is '<parent name>.<name>' unless already prefixed
    (a self-parent keeps its name: Marquez gets the same result through its parent-name parsing)."""
    name = ev["job"]["name"]
    p = parent_facet(ev)
    if p is not None and not is_self_parent(ev):
        pj = p.get("job")
        if isinstance(pj, dict) and isinstance(pj.get("name"), str) and pj["name"]:
            if not name.startswith(pj["name"] + "."):
                return pj["name"] + "." + name
    return name


def parent_facet(ev):
    run = ev.get("run")
    if not isinstance(run, dict):
        return None
    facets = run.get("facets")
    if not isinstance(facets, dict):
        return None
    p = facets.get("parent")
    return p if isinstance(p, dict) else None


STATE_OF = {"START": "RUNNING", "RUNNING": "RUNNING", "COMPLETE": "COMPLETED", "FAIL": "FAILED",
            "ABORT": "ABORTED", "OTHER": "RUNNING"}

_TIME_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|z|[+-]\d\d:?\d\d)?$")


def parse_event_time(s):
    """An OpenLineage eventTime as an aware UTC datetime (no offset = UTC), microseconds truncated,
    plus the number of fraction digits."""
    m = _TIME_RE.match(s)
    if not m:
        raise ValueError("unparsable eventTime %r" % s)
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    frac = frac or ""
    us = int((frac[:6]).ljust(6, "0"))
    dt = datetime.datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss), us, tzinfo=datetime.timezone.utc)
    if off and off not in ("Z", "z"):
        sign = 1 if off[0] == "+" else -1
        o = off[1:].replace(":", "")
        dt -= sign * datetime.timedelta(hours=int(o[:2]), minutes=int(o[2:]))
    return dt


def utc_text(dt):
    """Same format as ts_sql()."""
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def iso_z(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def uniq(prefix="t"):
    return "%s_%s" % (prefix, uuid.uuid4().hex[:12])


def make_run_event(run_id=None, event_type="START", event_time=None, namespace="itest", job=None,
                   inputs=(), outputs=(), run_facets=None, job_facets=None, producer="https://lineaged.test/itest"):
    """A minimal valid RunEvent; inputs/outputs are names in namespace 'itest-ds' or (ns, name) pairs."""
    if event_time is None:
        event_time = now_utc()
    if isinstance(event_time, datetime.datetime):
        event_time = iso_z(event_time)

    def ds(x):
        if isinstance(x, dict):
            return x
        if isinstance(x, (tuple, list)):
            return {"namespace": x[0], "name": x[1]}
        return {"namespace": "itest-ds", "name": x}

    ev = {
        "eventTime": event_time,
        "producer": producer,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id or str(uuid.uuid4())},
        "job": {"namespace": namespace, "name": job or uniq("job")},
        "inputs": [ds(x) for x in inputs],
        "outputs": [ds(x) for x in outputs],
    }
    if event_type is not None:
        ev["eventType"] = event_type
    if run_facets:
        ev["run"]["facets"] = run_facets
    if job_facets:
        ev["job"]["facets"] = job_facets
    return ev


def gzip_bytes(data, level=6):
    return gzip.compress(data, compresslevel=level, mtime=0)


# --------------------------------------------------------------------------------------------------
# fixtures

def events_dir():
    return os.path.join(shared_dir(), "openlineage", "events")


def marquez_dir():
    return os.path.join(shared_dir(), "anchors", "marquez")


_NAME_KIND_RULES = (
    (re.compile(r"^proxy__invalid_"), "INVALID"),
    (re.compile(r"^spark__serde_"), "PARTIAL"),
    (re.compile(r"^flink__"), "PARTIAL"),
    (re.compile(r"^dbt__"), "PARTIAL"),
    (re.compile(r"^hive__"), "PARTIAL"),
    (re.compile(r"^spec__facet_fragment_"), "FRAGMENT"),
)


def kind_by_name(fname):
    for rx, k in _NAME_KIND_RULES:
        if rx.search(fname):
            return k
    return "COMPLETE"


def readme_kinds():
    """{file name: COMPLETE|PARTIAL|FRAGMENT|INVALID} from the table in shared/openlineage/README.md."""
    kinds = {}
    with open(os.path.join(shared_dir(), "openlineage", "README.md"), encoding="utf-8") as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0].endswith(".json"):
                k = cells[2].replace("*", "")
                for word in ("COMPLETE", "PARTIAL", "FRAGMENT", "INVALID"):
                    if k.startswith(word):
                        kinds[cells[0]] = word
                        break
    return kinds


def event_files(kind):
    """Sorted file names in shared/openlineage/events of one kind (the README's kind column)."""
    names = sorted(n for n in os.listdir(events_dir()) if n.endswith(".json"))
    return [n for n in names if kind_by_name(n) == kind]


def marquez_fixture_files():
    """Paths relative to anchors/marquez/fixtures, recursive, sorted."""
    root = os.path.join(marquez_dir(), "fixtures")
    out = []
    for d, _dirs, files in os.walk(root):
        for n in files:
            if n.endswith(".json"):
                out.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(out)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def load_event_file(name):
    return read_bytes(os.path.join(events_dir(), name))


def load_marquez_fixture(rel):
    return read_bytes(os.path.join(marquez_dir(), "fixtures", rel))


def marquez_seed_text(start=None):
    """metadata.template.json with {{RUN_START_TIME}} = start and {{RUN_END_TIME_AFTER_N_MINUTES}} =
    start + N minutes, as docker/seed.sh does (UTC, %Y-%m-%dT%H:%M:%S.000Z)."""
    if start is None:
        start = now_utc().replace(microsecond=0)
    with open(os.path.join(marquez_dir(), "metadata.template.json"), encoding="utf-8") as f:
        text = f.read()
    fmt = "%Y-%m-%dT%H:%M:%S.000Z"
    text = text.replace("{{RUN_START_TIME}}", start.strftime(fmt))
    text = re.sub(r"\{\{RUN_END_TIME_AFTER_(\d+)_MINUTES\}\}",
                  lambda m: (start + datetime.timedelta(minutes=int(m.group(1)))).strftime(fmt), text)
    if "{{" in text:
        raise RuntimeError("unfilled placeholder in metadata.template.json: %s" %
                           re.search(r"\{\{[^}]*\}\}", text).group(0))
    return text


def marquez_seed_events(start=None):
    return json.loads(marquez_seed_text(start))


class AckedWriters:
    """threads concurrent writers, each on its own keep-alive connection to server, POSTing fresh run events
    (event_type, a fresh input and output each) until stop(); acked() lists the events answered 201, in
    order. A server killed under them ends their loops quietly."""

    def __init__(self, server, threads=4, event_type="COMPLETE", headers=None):
        self._server, self._event_type, self._headers = server, event_type, dict(headers or {})
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._acked, self._want, self._reached = [], None, threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self):
        conn = self._server.connection(timeout=30)
        hdrs = dict(self._headers, **{"Content-Type": "application/json"})
        try:
            while not self._stop.is_set():
                ev = make_run_event(event_type=self._event_type, inputs=[uniq("i")], outputs=[uniq("o")])
                conn.request("POST", "/api/v1/lineage", json.dumps(ev).encode(), hdrs)
                if read_response(conn).status == 201:
                    with self._lock:
                        self._acked.append(ev)
                        if self._want is not None and len(self._acked) >= self._want:
                            self._reached.set()
        except Exception:  # noqa: BLE001 - the server may be killed under us
            pass
        finally:
            conn.close()

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def wait_acked(self, n, timeout):
        """True once n events are acknowledged (False after timeout seconds)."""
        with self._lock:
            self._want = n
            if len(self._acked) >= n:
                return True
        return self._reached.wait(timeout)

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(60)

    def acked(self):
        with self._lock:
            return list(self._acked)
