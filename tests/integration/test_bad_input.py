"""Bad input, case by case (issue 11): every case is one request a careless or hostile client could send,
generated from tables (locations x bad values, routes x bad escapes, ...) rather than written one by one.

Each generated case is its own test method (so the suite's count shows them) and asserts:
  1. its 4xx status, and that the reply is JSON and valid UTF-8 (Python's strict codec), in Marquez's
     shapes: {"code":N,"message":...} or {"errors":[...]};
  2. the reason: a fragment that must appear in the message or in one of the errors;
  3. that the server still answers (GET /healthcheck is 200);
  4. that the event log is unchanged (SELECT count(*) FROM events, before and after).
Classes covered: names and keys over --max-name-bytes / --max-key-bytes (item 1); \\u0000 and lone
surrogate escapes (item 2); invalid UTF-8 that yajl lets through, and that it refuses (item 3); invalid
UTF-8 and %00 in path segments and query parameters on every kind of route (item 4); unsupported
Content-Encoding and Content-Type, corrupt gzip (item 5, the part this server already enforces);
malformed JSON; events that break the model. Controls show that the limits bite exactly past the limit
and that the event counter sees a stored event, so the "unchanged" assertion can fail.
"""

import copy
import gzip
import hashlib
import json
import re
import socket
import subprocess
import unittest
import uuid

import harness as h

NAME_LIMIT = 1024  # --max-name-bytes default
KEY_LIMIT = 1024   # --max-key-bytes default
NS = "bad-input"
PLACEHOLDER = "@@PLACEHOLDER@@"


# --------------------------------------------------------------------------------------------------
# the event every case starts from: each location below exists in it

def base_event():
    return {
        "eventType": "START",
        "eventTime": "2024-05-01T12:00:00Z",
        "producer": "https://example.com/bad-input-test",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4()), "facets": {
            "custom": {"_producer": "p", "_schemaURL": "s", "deep": [{"x": "v"}]},
            "parent": {"_producer": "p", "_schemaURL": "s", "run": {"runId": str(uuid.uuid4())},
                       "job": {"namespace": NS, "name": "parent"}}}},
        "job": {"namespace": NS, "name": "parent.job", "facets": {
            "documentation": {"_producer": "p", "_schemaURL": "s", "description": "d"}}},
        "inputs": [{"namespace": NS, "name": "in", "inputFacets": {
            "dataQualityMetrics": {"_producer": "p", "_schemaURL": "s", "rowCount": 1}}}],
        "outputs": [{"namespace": NS, "name": "out", "facets": {
            "schema": {"_producer": "p", "_schemaURL": "s", "fields": [{"name": "a", "type": "int", "description": "d"}]},
            "symlinks": {"_producer": "p", "_schemaURL": "s",
                         "identifiers": [{"namespace": "sym", "name": "s", "type": "TABLE"}]},
            "dataSource": {"_producer": "p", "_schemaURL": "s", "name": "src", "uri": "u"},
            "columnLineage": {"_producer": "p", "_schemaURL": "s", "fields": {
                "a": {"inputFields": [{"namespace": NS, "name": "in", "field": "a"}]}}}},
            "outputFacets": {"outputStatistics": {"_producer": "p", "_schemaURL": "s", "rowCount": 1}}}],
    }


def dataset_event():
    return {"eventTime": "2024-05-01T12:00:00Z", "producer": "p", "dataset": {"namespace": NS, "name": "d"},
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent"}


def path_text(tokens):
    """["outputs", 0, "name"] -> "outputs[0].name", as the server names JSON paths."""
    out = ""
    for t in tokens:
        out += "[%d]" % t if isinstance(t, int) else ("." if out else "") + t
    return out


def dig(doc, tokens):
    for t in tokens:
        doc = doc[t]
    return doc


# String values a client sends, by JSON path; "dataset." paths live in a DatasetEvent.
VALUE_LOCATIONS = [
    ["job", "namespace"], ["job", "name"], ["run", "runId"], ["producer"], ["eventType"], ["schemaURL"],
    ["inputs", 0, "namespace"], ["inputs", 0, "name"], ["outputs", 0, "name"],
    ["outputs", 0, "facets", "schema", "fields", 0, "name"],
    ["outputs", 0, "facets", "schema", "fields", 0, "description"],
    ["run", "facets", "custom", "deep", 0, "x"], ["run", "facets", "parent", "job", "name"],
    ["outputs", 0, "facets", "symlinks", "identifiers", 0, "name"],
    ["outputs", 0, "facets", "columnLineage", "fields", "a", "inputFields", 0, "field"],
    ["outputs", 0, "facets", "dataSource", "uri"], ["job", "facets", "documentation", "description"],
    ["dataset", "name"],
]

# Objects whose keys a client chooses: a new key is added to each.
KEY_LOCATIONS = [
    ["run", "facets"], ["job", "facets"], ["outputs", 0, "facets"], ["inputs", 0, "inputFacets"],
    ["run", "facets", "custom"], ["outputs", 0, "facets", "columnLineage", "fields"], [],
]

# Names held to --max-name-bytes, and keys (values or object keys) held to --max-key-bytes.
NAME_FIELDS = [
    ["job", "namespace"], ["job", "name"], ["inputs", 0, "namespace"], ["inputs", 0, "name"],
    ["outputs", 0, "namespace"], ["outputs", 0, "name"], ["run", "facets", "parent", "job", "namespace"],
    ["run", "facets", "parent", "job", "name"], ["outputs", 0, "facets", "symlinks", "identifiers", 0, "namespace"],
    ["outputs", 0, "facets", "symlinks", "identifiers", 0, "name"],
    ["outputs", 0, "facets", "columnLineage", "fields", "a", "inputFields", 0, "namespace"],
    ["outputs", 0, "facets", "dataSource", "name"], ["dataset", "name"], ["dataset", "namespace"],
]
KEY_VALUE_FIELDS = [
    ["outputs", 0, "facets", "schema", "fields", 0, "name"],
    ["outputs", 0, "facets", "columnLineage", "fields", "a", "inputFields", 0, "field"],
]
KEY_OBJECTS = [
    ["run", "facets"], ["job", "facets"], ["outputs", 0, "facets"], ["inputs", 0, "inputFacets"],
    ["outputs", 0, "outputFacets"], ["outputs", 0, "facets", "columnLineage", "fields"],
]


def event_for(tokens):
    return dataset_event() if tokens and tokens[0] == "dataset" else base_event()


def with_value(tokens, value):
    ev = event_for(tokens)
    dig(ev, tokens[:-1])[tokens[-1]] = value
    return ev


def with_key(tokens, key):
    ev = base_event()
    obj = dig(ev, tokens)
    obj[key] = {"inputFields": []} if tokens[-1:] == ["fields"] else {"_producer": "p", "_schemaURL": "s"}
    return ev


def raw_body(ev, raw):
    """ev as JSON bytes with the placeholder string replaced by raw bytes between the quotes."""
    text = json.dumps(ev, ensure_ascii=False).encode("utf-8")
    quoted = ('"%s"' % PLACEHOLDER).encode()
    assert text.count(quoted) == 1, "placeholder must occur once"
    return text.replace(quoted, b'"' + raw + b'"')


# --------------------------------------------------------------------------------------------------
# the cases

class Case:
    def __init__(self, group, name, status, fragment, method="POST", path="/api/v1/lineage", body=None,
                 headers=None, raw_request=None):
        self.group, self.name, self.status, self.fragment = group, name, status, fragment
        self.method, self.path, self.body = method, path, body
        self.headers = {"Content-Type": "application/json"} if headers is None else headers
        self.raw_request = raw_request


# Raw sequences yajl accepts on its own, and what the door calls them (common/utf8.c).
LET_THROUGH = [
    (b"\xc0\xaf", "an overlong encoding"), (b"\xc0\x80", "an overlong encoding"), (b"\xc1\xbf", "an overlong encoding"),
    (b"\xe0\x80\xaf", "an overlong encoding"), (b"\xe0\x9f\xbf", "an overlong encoding"),
    (b"\xf0\x80\x80\x80", "an overlong encoding"), (b"\xf0\x8f\xbf\xbf", "an overlong encoding"),
    (b"\xed\xa0\x80", "an encoded UTF-16 surrogate"), (b"\xed\xaf\xbf", "an encoded UTF-16 surrogate"),
    (b"\xed\xb0\x80", "an encoded UTF-16 surrogate"), (b"\xed\xbf\xbf", "an encoded UTF-16 surrogate"),
    (b"\xf4\x90\x80\x80", "a code point above U+10FFFF"), (b"\xf5\x80\x80\x80", "a code point above U+10FFFF"),
    (b"\xf7\xbf\xbf\xbf", "a code point above U+10FFFF"),
]
# Raw sequences yajl itself refuses (still a 400 with a reason).
YAJL_REFUSES = [b"\x80", b"\xbf", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff", b"\xe2\x82", b"\xc2\x41"]
# Escapes: \u0000 is 422 (valid text, not storable), lone surrogates 400.
ESCAPES = [
    (b"\\u0000", None), (b"a\\u0000b", None), (b"\\ud800", "d800"), (b"\\udbff", "dbff"), (b"\\udc00", "dc00"),
    (b"\\udfff", "dfff"), (b"\\ud800\\u0041", "d800"), (b"\\ud800\\ud800", "d800"), (b"\\udc00\\ud800", "dc00"),
    (b"x\\ud83d", "d83d"), (b"\\ud800x", "d800"),
]


def utf8_cases():
    out = []
    core = [["job", "name"], ["run", "facets", "custom", "deep", 0, "x"]]
    for raw, problem in LET_THROUGH:
        for tokens in core:
            out.append(Case("utf8", "%s_%s" % (raw.hex(), path_text(tokens)), 400,
                            "invalid UTF-8 in the string at %s (byte offset" % path_text(tokens),
                            body=raw_body(with_value(tokens, PLACEHOLDER), b"a" + raw + b"z")))
        out.append(Case("utf8", "%s_key" % raw.hex(), 400, "invalid UTF-8 in an object key in run.facets",
                        body=raw_body(with_key(["run", "facets"], PLACEHOLDER), raw)))
    for tokens in VALUE_LOCATIONS:
        out.append(Case("utf8", "c0af_at_%s" % path_text(tokens), 400,
                        "invalid UTF-8 in the string at %s (byte offset" % path_text(tokens),
                        body=raw_body(with_value(tokens, PLACEHOLDER), b"\xc0\xaf")))
    for tokens in KEY_LOCATIONS:
        where = "an object key in %s" % path_text(tokens) if tokens else "an object key at the top level"
        out.append(Case("utf8", "eda080_key_in_%s" % (path_text(tokens) or "top"), 400, "invalid UTF-8 in " + where,
                        body=raw_body(with_key(tokens, PLACEHOLDER) if tokens else top_key_event(), b"\xed\xa0\x80")))
    for raw in YAJL_REFUSES:
        for tokens in (["job", "name"], ["run", "facets", "custom", "deep", 0, "x"]):
            out.append(Case("utf8", "yajl_%s_%s" % (raw.hex(), path_text(tokens)), 400, "invalid bytes in UTF8 string",
                            body=raw_body(with_value(tokens, PLACEHOLDER), raw)))
    # Validated after Content-Encoding: the same bytes inside a gzip body.
    for raw, problem in LET_THROUGH[::3]:
        out.append(Case("utf8", "gzip_%s" % raw.hex(), 400, problem,
                        body=gzip.compress(raw_body(with_value(["job", "name"], PLACEHOLDER), raw)),
                        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}))
    # The batch endpoint parses at the same door.
    for raw, problem in LET_THROUGH[::2]:
        out.append(Case("utf8", "batch_%s" % raw.hex(), 400, "invalid UTF-8 in the string at [0].job.name",
                        path="/api/v1/lineage/batch",
                        body=b"[" + raw_body(with_value(["job", "name"], PLACEHOLDER), raw) + b"]"))
    return out


def top_key_event():
    ev = base_event()
    ev[PLACEHOLDER] = 1
    return ev


def escape_message(tokens, unit, key):
    p = path_text(tokens)
    if unit is None:
        if key:
            return 422, ("%s has an object key containing \\u0000 (NUL)" % p) if p else \
                "an object key contains \\u0000 (NUL)"
        return 422, "%s must not contain \\u0000 (NUL)" % p
    place = ("an object key in %s" % p if p else "an object key at the top level") if key else "the string at %s" % p
    return 400, "lone UTF-16 surrogate \\u%s in %s" % (unit, place)


def escape_cases():
    out = []
    for raw, unit in ESCAPES:
        for tokens in (["job", "name"], ["outputs", 0, "name"], ["run", "facets", "custom", "deep", 0, "x"]):
            status, frag = escape_message(tokens, unit, False)
            out.append(Case("escape", "%s_%s" % (raw.decode().replace("\\", "_"), path_text(tokens)), status, frag,
                            body=raw_body(with_value(tokens, PLACEHOLDER), raw)))
        status, frag = escape_message(["run", "facets"], unit, True)
        out.append(Case("escape", "%s_key" % raw.decode().replace("\\", "_"), status, frag,
                        body=raw_body(with_key(["run", "facets"], PLACEHOLDER), raw)))
    for raw, unit in ((b"\\u0000", None), (b"\\udc00", "dc00")):
        for tokens in VALUE_LOCATIONS:
            status, frag = escape_message(tokens, unit, False)
            out.append(Case("escape", "%s_at_%s" % (raw.decode()[1:], path_text(tokens)), status, frag,
                            body=raw_body(with_value(tokens, PLACEHOLDER), raw)))
        for tokens in KEY_LOCATIONS:
            status, frag = escape_message(tokens, unit, True)
            out.append(Case("escape", "%s_key_in_%s" % (raw.decode()[1:], path_text(tokens) or "top"), status, frag,
                            body=raw_body(with_key(tokens, PLACEHOLDER) if tokens else top_key_event(), raw)))
    return out


# Over-long values: (label, text, its length in UTF-8 bytes).
def long_texts(limit):
    return [("ascii_plus_1", "n" * (limit + 1)), ("ascii_2800", "n" * 2800),
            ("two_byte", "\u00e9" * (limit // 2 + 1)), ("four_byte", "\U0001F600" * (limit // 4 + 1))]


def length_cases():
    out = []
    for tokens in NAME_FIELDS + KEY_VALUE_FIELDS:
        key = tokens in KEY_VALUE_FIELDS
        limit, flag = (KEY_LIMIT, "--max-key-bytes") if key else (NAME_LIMIT, "--max-name-bytes")
        for label, text in long_texts(limit):
            n = len(text.encode("utf-8"))
            out.append(Case("length", "%s_%s" % (path_text(tokens), label), 422,
                            "%s is %d bytes long; the limit is %d bytes (%s)" % (path_text(tokens), n, limit, flag),
                            body=json.dumps(with_value(tokens, text)).encode()))
    for tokens in KEY_OBJECTS:
        for label, text in long_texts(KEY_LIMIT)[:3]:
            n = len(text.encode("utf-8"))
            out.append(Case("length", "key_in_%s_%s" % (path_text(tokens), label), 422,
                            "is %d bytes long; the limit is %d bytes (--max-key-bytes)" % (n, KEY_LIMIT),
                            body=json.dumps(with_key(tokens, text)).encode()))
    # A child job's full name is "<parent>.<child>".
    ev = base_event()
    ev["run"]["facets"]["parent"]["job"]["name"] = "p" * 600
    ev["job"]["name"] = "c" * 600
    out.append(Case("length", "child_job_full_name", 422, "job.name with its parent job's name makes a job name of "
                    "1201 bytes; the limit is 1024 bytes (--max-name-bytes)", body=json.dumps(ev).encode()))
    # Tag names from the API's paths are index keys too.
    for method, path in (("PUT", "/api/v1/tags/{}"), ("POST", "/api/v1/namespaces/%s/datasets/out/tags/{}" % NS),
                         ("POST", "/api/v1/namespaces/%s/jobs/j/tags/{}" % NS),
                         ("POST", "/api/v1/namespaces/%s/datasets/out/fields/a/tags/{}" % NS)):
        out.append(Case("length", "tag_%s_%s" % (method, path.split("/")[-3]), 422,
                        "tag is 1100 bytes long; the limit is 1024 bytes (--max-name-bytes)", method=method,
                        path=path.format("t" * 1100), body=b"{}"))
    return out


# Read and write routes, one placeholder {} for a path segment or a query value.
PATH_ROUTES = [
    ("GET", "/api/v1/namespaces/{}"), ("GET", "/api/v1/namespaces/{}/datasets"),
    ("GET", "/api/v1/namespaces/%s/datasets/{}" % NS), ("GET", "/api/v1/namespaces/%s/datasets/{}/versions" % NS),
    ("GET", "/api/v1/namespaces/%s/jobs/{}" % NS), ("GET", "/api/v1/namespaces/%s/jobs/{}/runs" % NS),
    ("GET", "/api/v1/namespaces/{}/jobs"), ("GET", "/api/v1/sources/{}"), ("GET", "/api/v1/jobs/runs/{}"),
    ("GET", "/api/v1/jobs/runs/{}/facets"), ("PUT", "/api/v1/namespaces/{}"), ("PUT", "/api/v1/tags/{}"),
    ("DELETE", "/api/v1/namespaces/%s/datasets/{}" % NS), ("POST", "/api/v1/lineage/{}"), ("GET", "/api/v1/nope/{}"),
    ("GET", "/api/v1/namespaces/%s/datasets/d/versions/{}/provenance" % NS), ("GET", "/api/v1/jobs/runs/{}/children"),
]
QUERY_ROUTES = [
    "/api/v1/search?q={}", "/api/v1/stats/lineage-events?period=DAY&timezone={}",
    "/api/v1/lineage?nodeId=job%3Ans%3A{}", "/api/v1/column-lineage?nodeId=dataset%3Ans%3A{}",
    "/api/v1/impact?nodeId=dataset%3Ans%3A{}", "/api/v1/events/lineage?before={}", "/api/v1/jobs?lastRunStates={}",
    "/api/v1/namespaces?limit={}", "/api/v1/runlineage/upstream?runId={}", "/api/v1/search?{}=1",
    "/api/v1/datasets?types={}", "/api/v1/runs?reads=dataset%3Ans%3A{}", "/api/v1/lineage?name={}",
]
# Percent-escapes that decode to bytes that are not UTF-8, and %00.
BAD_ESCAPES = [
    ("%ff", "not valid UTF-8 once percent-decoded: a byte that never occurs in UTF-8"),
    ("%C0%AF", "not valid UTF-8 once percent-decoded: an overlong encoding"),
    ("%ed%a0%80", "not valid UTF-8 once percent-decoded: an encoded UTF-16 surrogate"),
    ("%f4%90%80%80", "not valid UTF-8 once percent-decoded: a code point above U+10FFFF"),
    ("%80", "not valid UTF-8 once percent-decoded: a continuation byte without a lead byte"),
    ("x%e2%82", "not valid UTF-8 once percent-decoded: an incomplete multi-byte sequence"),
    ("%00", "contains a NUL byte (%00)"), ("%zz", "malformed percent-encoding"),
]


def url_cases():
    out = []
    for method, route in PATH_ROUTES:
        escapes = BAD_ESCAPES if route in ("/api/v1/namespaces/{}", "/api/v1/nope/{}") else BAD_ESCAPES[:2] + BAD_ESCAPES[6:]
        for esc, frag in escapes:
            out.append(Case("path", "%s_%s_%s" % (method, route, esc), 400, frag, method=method,
                            path=route.format(esc), body=b"{}" if method in ("PUT", "POST") else None))
    for route in QUERY_ROUTES:
        escapes = BAD_ESCAPES if "nodeId" in route else BAD_ESCAPES[:2] + BAD_ESCAPES[6:7]
        for esc, frag in escapes:
            out.append(Case("query", "%s_%s" % (route, esc), 400, frag, method="GET", path=route.format(esc)))
    # Raw (unencoded) bytes in the request line: shown back as %XX.
    for line, frag in ((b"GET /api/v1/namespaces/\xff HTTP/1.1", 'path segment \\"%FF\\" is not valid UTF-8'),
                       (b"GET /api/v1/namespaces/a\xc0\xafb/jobs HTTP/1.1", 'path segment \\"a%C0%AFb\\"'),
                       (b"GET /api/v1/search?q=\xed\xa0\x80 HTTP/1.1", 'query parameter q: value \\"%ED%A0%80\\"'),
                       (b"GET /api/v1/lineage?nodeId=job:ns:\xf5 HTTP/1.1", "query parameter nodeId")):
        out.append(Case("raw_url", line.split(b" ")[1].decode("latin-1"), 400, frag.replace('\\"', '"'),
                        raw_request=line))
    # Valid UTF-8 names that are not there: a 404 whose body quotes them, and must stay UTF-8.
    for route in ("/api/v1/namespaces/{}", "/api/v1/namespaces/%s/jobs/{}" % NS, "/api/v1/sources/{}"):
        for name in ("caf%C3%A9", "%E2%82%AC%F0%9F%98%80"):
            out.append(Case("not_found", "%s_%s" % (route, name), 404, "not found", method="GET",
                            path=route.format(name)))
    return out


MALFORMED_JSON = [
    (b"", "request body is empty"), (b" ", "malformed JSON"), (b"{", "malformed JSON"), (b"[", "malformed JSON"),
    (b'{"a":}', "malformed JSON"), (b"[1,]", "malformed JSON"), (b"{'a':1}", "malformed JSON"),
    (b"NaN", "malformed JSON"), (b"[Infinity]", "malformed JSON"), (b'{"a" 1}', "malformed JSON"),
    (b"nul", "malformed JSON"), (b'"unterminated', "malformed JSON"), (b"{} {}", "malformed JSON"),
    (b"[] x", "malformed JSON"), (b"/* c */ {}", "malformed JSON"), (b"\xef\xbb\xbf{}", "malformed JSON"),
    (b'{"a":1,}', "malformed JSON"), (b"[01]", "malformed JSON"), (b"[.5]", "malformed JSON"),
    (b"[1e]", "malformed JSON"), (b"[-]", "malformed JSON"), (b'["\\x41"]', "malformed JSON"),
    (b'["\\u12"]', "malformed JSON"), (b'["tab\there"]', "malformed JSON"), (b'["a\x00b"]', "malformed JSON"),
    (b"[" * 65 + b"]" * 65, "JSON nesting is deeper than the limit of 64 levels"),
]


def json_cases():
    out = []
    for i, (body, frag) in enumerate(MALFORMED_JSON):
        status = 413 if b"[" * 65 in body else 400
        for path in ("/api/v1/lineage", "/api/v1/lineage/batch"):
            out.append(Case("json", "%02d_%s" % (i, path.rsplit("/", 1)[1]), status, frag, path=path, body=body))
    for body in (b"{}", b"5", b'"x"', b"null"):
        out.append(Case("json", "batch_not_array_%s" % body.decode(), 400, "expects a JSON array of events",
                        path="/api/v1/lineage/batch", body=body))
    return out


def mutate(fn, base=base_event):
    ev = base()
    fn(ev)
    return json.dumps(ev).encode()


def drop(*tokens):
    return lambda ev: dig(ev, tokens[:-1]).pop(tokens[-1])


def put(value, *tokens):
    return lambda ev: dig(ev, tokens[:-1]).__setitem__(tokens[-1], value)


EVENT_MUTATIONS = [
    (drop("eventTime"), "eventTime must not be null"), (put(None, "eventTime"), "eventTime must not be null"),
    (put("yesterday", "eventTime"), 'eventTime "yesterday" is not an ISO-8601 date-time'), (put(5, "eventTime"), "eventTime must be a string"),
    (put("  ", "eventTime"), "eventTime must not be blank"), (drop("producer"), "producer must not be null"),
    (put("", "producer"), "producer must not be blank"), (put(1, "producer"), "producer must be a string"),
    (put(5, "eventType"), "eventType must be a string"), (put(None, "run"), "run must not be null"),
    (put([], "run"), "run must be an object"), (drop("run", "runId"), "run.runId must not be null"),
    (put("", "run", "runId"), "run.runId must not be blank"), (put(7, "run", "runId"), "run.runId must be a string"),
    (drop("job"), "job must not be null"), (put("x", "job"), "job must be an object"),
    (drop("job", "namespace"), "job.namespace must not be null"), (put(" ", "job", "namespace"),
                                                                   "job.namespace must not be blank"),
    (put(1, "job", "namespace"), "job.namespace must be a string"), (drop("job", "name"), "job.name must not be null"),
    (put({}, "inputs"), "inputs must be an array"), (put([None], "inputs"), "inputs[0] must not be null"),
    (put([1], "inputs"), "inputs[0] must be an object"), (drop("outputs", 0, "name"), "outputs[0].name must not be null"),
    (drop("inputs", 0, "namespace"), "inputs[0].namespace must not be null"),
    (put([], "run", "facets"), "run.facets must be an object"), (put(3, "job", "facets"), "job.facets must be an object"),
    (drop("run", "facets", "parent", "run", "runId"), "run.facets.parent.run.runId must not be null"),
    (drop("run", "facets", "parent", "job", "name"), "run.facets.parent.job.name must not be null"),
    (put("x", "outputs", 0, "facets", "schema", "fields"), "outputs[0].facets.schema.fields must be an array"),
    (drop("outputs", 0, "facets", "schema", "fields", 0, "name"),
     "outputs[0].facets.schema.fields[0].name must not be null"),
    (drop("outputs", 0, "facets", "symlinks", "identifiers", 0, "namespace"),
     "outputs[0].facets.symlinks.identifiers[0].namespace must not be null"),
    (drop("outputs", 0, "facets", "columnLineage", "fields", "a", "inputFields", 0, "field"),
     "outputs[0].facets.columnLineage.fields.a.inputFields[0].field must not be null"),
    (put("x", "outputs", 0, "outputFacets"), "outputs[0].outputFacets must be an object"),
]


def event_cases():
    out = []
    for i, (fn, frag) in enumerate(EVENT_MUTATIONS):
        out.append(Case("event", "%02d_%s" % (i, re.sub(r"\W+", "_", frag)[:40]), 422, frag, body=mutate(fn)))
        # In an array the whole request is refused, also the valid neighbour.
        arr = b"[" + json.dumps(base_event()).encode() + b"," + mutate(fn) + b"]"
        out.append(Case("event", "%02d_in_array" % i, 422, "[1]." + frag, body=arr))
    dse = [(drop("schemaURL"), "schemaURL must not be null"), (drop("dataset", "name"), "dataset.name must not be null"),
           (put(None, "dataset"), "must not be null"), (put("d", "dataset"), "dataset must be an object")]
    for i, (fn, frag) in enumerate(dse):
        out.append(Case("event", "dataset_event_%d" % i, 422, frag, body=mutate(fn, dataset_event)))
    for body, frag in ((b"[]", "request body is an empty array"), (b"5", "event must be a JSON object"),
                       (b"{}", 'event needs "run" and "job"'), (b'{"producer":"p"}', 'event needs "run" and "job"')):
        out.append(Case("event", "shape_%s" % re.sub(r"\W+", "_", body.decode()), 422, frag, body=body))
    return out


def encoding_cases():
    valid = json.dumps(base_event()).encode()
    out = []
    for enc in ("br", "deflate", "compress", "zstd", "x-compress"):
        out.append(Case("encoding", "content_encoding_%s" % re.sub(r"\W+", "_", enc), 415, "Content-Encoding",
                        body=valid, headers={"Content-Type": "application/json", "Content-Encoding": enc}))
    for ct in ("image/png", "application/xml", "multipart/form-data; boundary=x", "application/jsonx"):
        out.append(Case("encoding", "content_type_%s" % re.sub(r"\W+", "_", ct), 415, "is not supported",
                        body=valid, headers={"Content-Type": ct}))
    gz = gzip.compress(valid)
    for label, body in (("plain_body", valid), ("truncated", gz[: len(gz) // 2]), ("trailing_garbage", gz + b"xx"),
                        ("bad_crc", gz[:-8] + b"\0\0\0\0" + gz[-4:])):
        out.append(Case("encoding", "gzip_%s" % label, 400, "gzip body is corrupt or truncated", body=body,
                        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}))
    return out


def build_cases():
    cases = utf8_cases() + escape_cases() + length_cases() + url_cases() + json_cases() + event_cases() + \
        encoding_cases()
    for i, c in enumerate(cases):
        c.name = re.sub(r"\W+", "_", "%03d_%s_%s" % (i, c.group, c.name)).strip("_")[:100]
    return cases


CASES = build_cases()


# --------------------------------------------------------------------------------------------------
# running them

class EventCounter:
    """SELECT count(*) FROM events through one long-lived psql (a process per query would be slow)."""

    def __init__(self, conninfo):
        self.proc = subprocess.Popen(["psql", conninfo, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def count(self):
        self.proc.stdin.write("SELECT count(*) FROM events;\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("psql ended (exit %s)" % self.proc.poll())
        return int(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(30)


def raw_get(port, request_line):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return h.Response(int(lines[0].split()[1]), headers, body)


class BadInputTest(h.ServerTestCase):
    """One server and database; each generated case is a test method (see the module doc)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.counter = EventCounter(cls.db)
        cls.addClassCleanup(cls.counter.close)
        # The objects some routes name (a dataset with field "a", a job), so tag cases reach their check.
        ev = base_event()
        ev["job"] = {"namespace": NS, "name": "j"}
        del ev["run"]["facets"]["parent"]
        r = cls.server.post_json(ev)
        if r.status != 201:
            raise AssertionError("setup event refused: %r" % r)

    def send(self, case):
        if case.raw_request is not None:
            return raw_get(self.server.port, case.raw_request)
        return self.server.request(case.method, case.path, case.body, case.headers)

    def assert_reason(self, resp, case):
        self.assertStatus(resp, case.status, case.name)
        self.assertTrue(resp.headers.get("content-type", "").startswith("application/json"), resp)
        try:
            text = resp.body.decode("utf-8")  # strict: refuses surrogates, overlongs, stray bytes
        except UnicodeDecodeError as e:
            self.fail("reply body is not UTF-8 (%s): %r" % (e, resp.body[:300]))
        body = json.loads(text)
        if "errors" in body:
            self.assertIsInstance(body["errors"], list, body)
            reasons = body["errors"]
        else:
            self.assertEqual(body.get("code"), case.status, body)
            reasons = [body.get("message")]
        self.assertTrue(all(isinstance(x, str) for x in reasons), body)
        if not any(case.fragment in x for x in reasons):
            self.fail("%s: no %r in %r" % (case.name, case.fragment, reasons))

    def run_case(self, case):
        before = self.counter.count()
        resp = self.send(case)
        self.assert_reason(resp, case)
        self.assertEqual(self.server.get("/healthcheck").status, 200, "the server must still answer")
        self.assertEqual(self.counter.count(), before, "the event log must be unchanged")

    # controls: the limits bite past the limit, not at it, and the counter sees a stored event ------------

    def assert_stored(self, ev):
        before = self.counter.count()
        self.assertCreated(self.server.post_json(ev))
        self.assertEqual(self.counter.count(), before + 1)

    def test_control_names_and_keys_at_the_limit_are_stored(self):
        for tokens in NAME_FIELDS + KEY_VALUE_FIELDS:
            limit = KEY_LIMIT if tokens in KEY_VALUE_FIELDS else NAME_LIMIT
            with self.subTest(path=path_text(tokens)):
                self.assert_stored(at_limit(tokens, "\u00e9" * (limit // 2)))
        for tokens in KEY_OBJECTS:
            with self.subTest(key_in=path_text(tokens)):
                self.assert_stored(with_key(tokens, "k" * KEY_LIMIT))

    def test_control_unicode_edges_are_stored(self):
        for text in ("\U0010FFFF", "\U0001F600 \u20ac \u00e9", "\ufffd", "\ud7ff\ue000"):
            self.assert_stored(with_value(["run", "facets", "custom", "deep", 0, "x"], text))
        # A surrogate pair written as escapes is one character, not two lone halves.
        self.assert_stored(json.loads(raw_body(with_value(["job", "name"], PLACEHOLDER), b"\\ud83d\\ude00")))

    def test_every_class_has_cases(self):
        groups = {}
        for c in CASES:
            groups[c.group] = groups.get(c.group, 0) + 1
        self.assertGreaterEqual(len(CASES), 300, groups)
        for g in ("utf8", "escape", "length", "path", "query", "raw_url", "not_found", "json", "event", "encoding"):
            self.assertIn(g, groups)


def at_limit(tokens, text):
    """with_value(tokens, text), where a job name at the limit is not lengthened by its parent's name."""
    ev = with_value(tokens, text)
    if tokens == ["job", "name"]:
        del ev["run"]["facets"]["parent"]
    if tokens[:4] == ["run", "facets", "parent", "job"]:
        ev["job"] = copy.deepcopy(ev["run"]["facets"]["parent"]["job"])  # its own parent: no prefix
    return ev


def incompressible(n, seed):
    """n ASCII bytes Postgres cannot compress (index entries of compressible text shrink and would pass)."""
    out, block = "", hashlib.sha256(seed.encode()).hexdigest()
    while len(out) < n:
        block = hashlib.sha256(block.encode()).hexdigest()
        out += block
    return out[:n]


class BadInputCeilingTest(h.ServerTestCase):
    """The highest limits the flags allow still fit Postgres's index rows (2704 bytes), two to an entry."""

    CEILING = 1300
    server_args = ("--max-name-bytes", str(CEILING), "--max-key-bytes", str(CEILING))

    def test_widest_names_and_keys_fit_every_index(self):
        c = self.CEILING
        ev = base_event()
        ev["run"]["facets"].pop("parent")
        ns, name = incompressible(c, "ns"), incompressible(c, "name")
        field_in, field_out = incompressible(c, "in"), incompressible(c, "out")
        ev["job"] = {"namespace": ns, "name": incompressible(c, "job"),
                     "facets": {incompressible(c, "jf"): {"_producer": "p", "_schemaURL": "s"}}}
        ev["inputs"] = [{"namespace": ns, "name": name, "facets": {"schema": {
            "_producer": "p", "_schemaURL": "s", "fields": [{"name": field_in, "type": "int"}]}}}]
        ev["outputs"] = [{"namespace": ns, "name": incompressible(c, "o"), "facets": {
            "symlinks": {"_producer": "p", "_schemaURL": "s",
                         "identifiers": [{"namespace": incompressible(c, "sns"), "name": incompressible(c, "sn"),
                                          "type": "T"}]},
            "dataSource": {"_producer": "p", "_schemaURL": "s", "name": incompressible(c, "src")},
            "columnLineage": {"_producer": "p", "_schemaURL": "s", "fields": {
                field_out: {"inputFields": [{"namespace": ns, "name": name, "field": field_in}]}}}}}]
        self.assertCreated(self.server.post_json(ev))
        self.assertEqual(h.sql_count(self.db, "FROM column_lineage WHERE length(input_field) = %d" % c), 1)
        # The input and the output dataset: a namespace and a name at the ceiling in one UNIQUE entry each.
        self.assertEqual(h.sql_count(self.db, "FROM datasets WHERE length(namespace) + length(name) = %d" % (2 * c)), 2)
        over = with_value(["job", "name"], "n" * (c + 1))
        del over["run"]["facets"]["parent"]
        self.assertViolations(self.server.post_json(over), "job.name is %d bytes long; the limit is %d bytes "
                                                           "(--max-name-bytes)" % (c + 1, c))

    def test_flags_refuse_a_limit_above_the_ceiling(self):
        for flag in ("--max-name-bytes", "--max-key-bytes"):
            p = subprocess.run([h.lineaged_bin(), "serve", flag, str(self.CEILING + 1), "--database-url", self.db],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("must be an integer from 1 to %d" % self.CEILING, p.stderr.decode("utf-8", "replace"))


def _add_case(case):
    def test(self):
        self.run_case(case)
    test.__doc__ = "%s: %s %s -> %d %r" % (case.group, case.method, case.path[:80], case.status, case.fragment)
    setattr(BadInputTest, "test_case_" + case.name, test)


for _case in CASES:
    _add_case(_case)


if __name__ == "__main__":
    unittest.main()
