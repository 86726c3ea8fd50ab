"""The ingest protocol: HTTP details (encodings, chunking, limits, errors, auth), validation messages,
deduplication, out-of-order events, arrays and batches, concurrency, crash safety and migrations."""

import datetime
import glob
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import unittest
import uuid

import harness as h

q = h.sql_quote
T0 = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def sec(n):
    return T0 + datetime.timedelta(seconds=n)


def raw_http(port, head, body=b"", timeout=30, expect_continue=False, continue_wait=1.0):
    """Minimal HTTP/1.1 client on a raw socket, for requests http.client cannot make.
    head: request line + headers without the blank line. Returns (status, headers, body).
    With expect_continue it behaves like curl: it waits up to continue_wait seconds for '100 Continue'
    or a final status, then sends the body anyway (if a final status came, the body is never sent)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head.encode("latin-1") + b"\r\n\r\n")
        buf = b""
        if expect_continue:
            s.settimeout(continue_wait)
            try:
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            except socket.timeout:
                pass
            s.settimeout(timeout)
            if buf.startswith(b"HTTP/1.1 100") or not buf:
                buf = buf.split(b"\r\n\r\n", 1)[1] if buf else b""
                try:
                    s.sendall(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
        elif body:
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
        try:
            while True:
                if b"\r\n\r\n" in buf:
                    hdr, rest = buf.split(b"\r\n\r\n", 1)
                    m = re.search(rb"(?im)^content-length:\s*(\d+)", hdr)
                    if m and len(rest) >= int(m.group(1)):
                        break
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except ConnectionResetError:
            if b"\r\n\r\n" not in buf:
                raise
        hdr, _, rest = buf.partition(b"\r\n\r\n")
        lines = hdr.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        if not m:
            raise AssertionError("no HTTP status line in %r" % buf[:200])
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers[k.strip().lower()] = v.strip()
        return int(m.group(1)), headers, rest
    finally:
        s.close()


class StoreQueries:
    """Mixin: small queries on self.db."""

    def count(self, sql_from_where):
        return h.sql_count(self.db, sql_from_where)

    def events_of(self, ev_or_uuid):
        ru = ev_or_uuid if isinstance(ev_or_uuid, str) else h.run_uuid_of(ev_or_uuid["run"]["runId"])
        return self.count("FROM events WHERE run_uuid = %s" % q(ru))

    def run_row(self, ru):
        rows = h.sql_json(self.db, "SELECT r.state, %s AS started_at, %s AS ended_at, %s AS state_time, "
                                   "r.parent_run_uuid, j.namespace, j.name FROM runs r JOIN jobs j ON j.id = r.job_id "
                                   "WHERE r.uuid = %s" % (h.ts_sql("r.started_at"), h.ts_sql("r.ended_at"),
                                                          h.ts_sql("r.state_time"), q(ru)))
        self.assertEqual(len(rows), 1, "run %s not stored" % ru)
        return rows[0]

    def assertStored(self, ev, n=1):
        self.assertEqual(self.events_of(ev), n, "events rows of run %s" % ev["run"]["runId"])


class ProtocolTest(StoreQueries, h.ServerTestCase):
    server_log_level = "debug"     # exercises the debug log paths too (sanitizer builds check them)
    # -- routing -------------------------------------------------------------------------------------
    def test_healthcheck(self):
        r = self.server.get("/healthcheck")
        self.assertEqual(r.status, 200)

    def test_unknown_route_404(self):
        for method, path in (("GET", "/api/v1/nope"), ("POST", "/api/v1/lineagex"), ("GET", "/nope")):
            with self.subTest(method=method, path=path):
                r = self.server.request(method, path, b"{}" if method == "POST" else None,
                                        {"Content-Type": "application/json"})
                self.assertJsonError(r, 404)
                self.assertEqual(r.json(), {"code": 404, "message": "HTTP 404 Not Found"})

    def test_wrong_method_405(self):
        for method, path in (("PUT", "/api/v1/lineage"), ("DELETE", "/api/v1/lineage"),
                             ("GET", "/api/v1/lineage/batch"), ("POST", "/healthcheck")):
            with self.subTest(method=method, path=path):
                r = self.server.request(method, path, b"{}" if method in ("PUT", "POST") else None,
                                        {"Content-Type": "application/json"})
                self.assertStatus(r, 405)

    # -- the happy path --------------------------------------------------------------------------------
    def test_single_event_stored(self):
        ev = h.make_run_event(event_type="START", event_time=sec(0), inputs=["a_" + h.uniq()],
                              outputs=["b_" + h.uniq()])
        r = self.server.post_json(ev)
        self.assertCreated(r)
        ru = ev["run"]["runId"]
        rows = h.sql_json(self.db, "SELECT kind, event_type, %s AS event_time, producer, job_namespace, job_name, "
                                   "body FROM events WHERE run_uuid = %s" % (h.ts_sql("event_time"), q(ru)))
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual((row["kind"], row["event_type"], row["event_time"], row["producer"]),
                         ("RUN_EVENT", "START", "2024-05-01T12:00:00.000000", ev["producer"]))
        self.assertEqual((row["job_namespace"], row["job_name"]), ("itest", ev["job"]["name"]))
        self.assertEqual(row["body"]["run"]["runId"], ru)
        run = self.run_row(ru)
        self.assertEqual(run["state"], "RUNNING")
        self.assertEqual(run["started_at"], "2024-05-01T12:00:00.000000")
        self.assertIsNone(run["ended_at"])
        self.assertEqual((run["namespace"], run["name"]), ("itest", ev["job"]["name"]))
        io = h.sql_json(self.db, "SELECT ri.io_type, d.namespace, d.name FROM run_io ri JOIN datasets d ON "
                                 "d.id = ri.dataset_id WHERE ri.run_uuid = %s ORDER BY 1" % q(ru))
        self.assertEqual(io, [{"io_type": "INPUT", "namespace": "itest-ds", "name": ev["inputs"][0]["name"]},
                              {"io_type": "OUTPUT", "namespace": "itest-ds", "name": ev["outputs"][0]["name"]}])
        self.assertEqual(self.count("FROM run_states WHERE run_uuid = %s AND state = 'RUNNING'" % q(ru)), 1)

    def test_duplicate_same_body(self):
        ev = h.make_run_event(event_type="START", event_time=sec(1), outputs=[h.uniq("o")])
        body = json.dumps(ev).encode()
        self.assertCreated(self.server.post("/api/v1/lineage", body))
        self.assertCreated(self.server.post("/api/v1/lineage", body))
        self.assertStored(ev, 1)
        self.assertEqual(self.count("FROM run_states WHERE run_uuid = %s" % q(ev["run"]["runId"])), 1)
        self.assertEqual(self.count("FROM run_io WHERE run_uuid = %s" % q(ev["run"]["runId"])), 1)

    def test_duplicate_reformatted_body(self):
        """Duplicates are found by the hash of the canonical JSON: whitespace and key order don't matter."""
        ev = h.make_run_event(event_type="COMPLETE", event_time=sec(2), outputs=[h.uniq("o")])
        self.assertCreated(self.server.post("/api/v1/lineage", json.dumps(ev).encode()))
        self.assertCreated(self.server.post("/api/v1/lineage", json.dumps(ev, indent=3, sort_keys=True).encode()))
        self.assertStored(ev, 1)
        self.assertEqual(self.count("FROM run_states WHERE run_uuid = %s" % q(ev["run"]["runId"])), 1)

    # -- run state ------------------------------------------------------------------------------------
    def test_out_of_order_complete_then_start(self):
        rid = str(uuid.uuid4())
        job = h.uniq("job")
        done = h.make_run_event(rid, "COMPLETE", sec(10), job=job)
        start = h.make_run_event(rid, "START", sec(0), job=job)
        self.assertCreated(self.server.post_json(done))
        self.assertCreated(self.server.post_json(start))
        run = self.run_row(rid)
        self.assertEqual(run["state"], "COMPLETED")
        self.assertEqual(run["started_at"], "2024-05-01T12:00:00.000000")
        self.assertEqual(run["ended_at"], "2024-05-01T12:00:10.000000")
        self.assertEqual(self.count("FROM run_states WHERE run_uuid = %s" % q(rid)), 2)
        self.assertEqual(self.count("FROM jobs WHERE namespace = 'itest' AND name = %s" % q(job)), 1)

    def test_fail_then_late_running_stays_failed(self):
        rid = str(uuid.uuid4())
        job = h.uniq("job")
        self.assertCreated(self.server.post_json(h.make_run_event(rid, "FAIL", sec(20), job=job)))
        self.assertCreated(self.server.post_json(h.make_run_event(rid, "RUNNING", sec(15), job=job)))
        self.assertEqual(self.run_row(rid)["state"], "FAILED")
        self.assertCreated(self.server.post_json(h.make_run_event(rid, "START", sec(10), job=job)))
        run = self.run_row(rid)
        self.assertEqual(run["state"], "FAILED")
        self.assertEqual(run["ended_at"], "2024-05-01T12:00:20.000000")
        self.assertEqual(run["started_at"], "2024-05-01T12:00:10.000000")

    def test_complete_without_start(self):
        rid = str(uuid.uuid4())
        self.assertCreated(self.server.post_json(h.make_run_event(rid, "COMPLETE", sec(30), outputs=[h.uniq("o")])))
        run = self.run_row(rid)
        self.assertEqual(run["state"], "COMPLETED")
        self.assertEqual(run["ended_at"], "2024-05-01T12:00:30.000000")

    def test_abort(self):
        rid = str(uuid.uuid4())
        job = h.uniq("job")
        self.assertCreated(self.server.post_json(h.make_run_event(rid, "START", sec(0), job=job)))
        self.assertCreated(self.server.post_json(h.make_run_event(rid, "ABORT", sec(5), job=job)))
        self.assertEqual(self.run_row(rid)["state"], "ABORTED")

    # -- encodings and framing --------------------------------------------------------------------------
    def _post_encoded(self, encoding, compress):
        ev = h.make_run_event(event_type="START", outputs=[h.uniq("o")])
        body = json.dumps(ev).encode()
        if compress:
            body = h.gzip_bytes(body)
        r = self.server.post("/api/v1/lineage", body, {"Content-Encoding": encoding})
        self.assertCreated(r, "Content-Encoding: %s" % encoding)
        self.assertStored(ev)

    def test_gzip(self):
        self._post_encoded("gzip", True)

    def test_x_gzip(self):
        self._post_encoded("x-gzip", True)

    def test_identity(self):
        self._post_encoded("identity", False)

    def test_gzip_batch(self):
        evs = [h.make_run_event(event_type="START") for _ in range(3)]
        r = self.server.post("/api/v1/lineage/batch", h.gzip_bytes(json.dumps(evs).encode()),
                             {"Content-Encoding": "gzip"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["status"], "success")
        for ev in evs:
            self.assertStored(ev)

    def test_unsupported_encoding_415(self):
        ev = h.make_run_event()
        for enc in ("br", "compress"):
            with self.subTest(encoding=enc):
                r = self.server.post("/api/v1/lineage", json.dumps(ev).encode(), {"Content-Encoding": enc})
                self.assertJsonError(r, 415)
        self.assertStored(ev, 0)

    def test_corrupt_gzip_400(self):
        ev = h.make_run_event()
        gz = h.gzip_bytes(json.dumps(ev).encode())
        bodies = {
            "truncated": gz[:len(gz) // 2],
            "garbage after magic": b"\x1f\x8b\x08\x00" + bytes(range(200)),
            "not gzip at all": json.dumps(ev).encode(),
            "bad crc": gz[:-8] + bytes([(gz[-8] + 1) & 0xFF]) + gz[-7:],
        }
        for name, body in bodies.items():
            with self.subTest(body=name):
                r = self.server.post("/api/v1/lineage", body, {"Content-Encoding": "gzip"})
                self.assertJsonError(r, 400)
        self.assertStored(ev, 0)

    def test_chunked_body(self):
        ev = h.make_run_event(event_type="START", outputs=[h.uniq("o")])
        body = json.dumps(ev).encode()
        chunks = [body[i:i + 37] for i in range(0, len(body), 37)]
        r = self.server.request("POST", "/api/v1/lineage", chunks,
                                {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                                encode_chunked=True)
        self.assertCreated(r)
        self.assertStored(ev)

    def test_chunked_gzip_body(self):
        ev = h.make_run_event(event_type="START")
        body = h.gzip_bytes(json.dumps(ev).encode())
        chunks = [body[i:i + 50] for i in range(0, len(body), 50)]
        r = self.server.request("POST", "/api/v1/lineage", chunks,
                                {"Content-Type": "application/json", "Content-Encoding": "gzip",
                                 "Transfer-Encoding": "chunked"}, encode_chunked=True)
        self.assertCreated(r)
        self.assertStored(ev)

    def test_content_type_with_charset(self):
        for ct in ("application/json; charset=UTF-8", "application/json;charset=utf-8", "application/json"):
            with self.subTest(content_type=ct):
                ev = h.make_run_event()
                r = self.server.post("/api/v1/lineage", json.dumps(ev).encode(), {"Content-Type": ct})
                self.assertCreated(r)
                self.assertStored(ev)

    def test_keep_alive_connection(self):
        conn = self.server.connection()
        try:
            evs = [h.make_run_event() for _ in range(5)]
            for ev in evs:
                conn.request("POST", "/api/v1/lineage", json.dumps(ev).encode(), {"Content-Type": "application/json"})
                r = h.read_response(conn)
                self.assertCreated(r)
            conn.request("GET", "/healthcheck")
            self.assertEqual(h.read_response(conn).status, 200)
        finally:
            conn.close()
        for ev in evs:
            self.assertStored(ev)

    # -- malformed bodies ------------------------------------------------------------------------------
    def test_truncated_json_400_with_position(self):
        ev = h.make_run_event()
        body = json.dumps(ev).encode()
        r = self.server.post("/api/v1/lineage", body[:len(body) // 2])
        j = self.assertJsonError(r, 400)
        self.assertRegex(j["message"], r"(?i)offset|byte", "the parser's position should be in the message")
        self.assertRegex(j["message"], r"\d")
        self.assertStored(ev, 0)

    def test_syntax_error_400(self):
        for body in (b'{"eventTime": }', b'{"a":1,}', b"{'a': 1}", b"nul", b'{"a":1} trailing'):
            with self.subTest(body=body):
                j = self.assertJsonError(self.server.post("/api/v1/lineage", body), 400)
                self.assertRegex(j["message"], r"(?i)offset|byte")

    def test_empty_body_400(self):
        self.assertJsonError(self.server.post("/api/v1/lineage", b""), 400)
        self.assertJsonError(self.server.post("/api/v1/lineage/batch", b""), 400)

    def test_not_an_object(self):
        for body in (b"42", b'"event"', b"null", b"true"):
            with self.subTest(body=body):
                r = self.server.post("/api/v1/lineage", body)
                self.assertIn(r.status, (400, 422), r)
                j = r.json()
                if r.status == 422:
                    self.assertTrue(j.get("errors"), j)
                else:
                    self.assertEqual(j.get("code"), 400, j)
                    self.assertTrue(j.get("message"), j)

    def test_invalid_utf8_400(self):
        ev = h.make_run_event()
        body = json.dumps(ev).encode().replace(b'"itest"', b'"it\xff\xfeest"')
        self.assertIn(b"\xff", body)
        r = self.server.post("/api/v1/lineage", body)
        self.assertJsonError(r, 400)
        self.assertStored(ev, 0)

    def test_deep_nesting_rejected(self):
        for name, body in (("arrays", b"[" * 5000 + b"]" * 5000),
                           ("objects", b'{"a":' * 5000 + b"1" + b"}" * 5000)):
            with self.subTest(shape=name):
                r = self.server.post("/api/v1/lineage", body)
                self.assertIn(r.status, (400, 413), r)
                j = self.assertJsonError(r, r.status)
                self.assertRegex(j["message"], r"(?i)depth|nest", j)
        # a facet nested past the default limit (64) inside an otherwise valid event
        ev = h.make_run_event()
        deep = {}
        cur = deep
        for _ in range(100):
            cur["x"] = {}
            cur = cur["x"]
        ev["run"]["facets"] = {"deep": deep}
        r = self.server.post_json(ev)
        self.assertIn(r.status, (400, 413), r)
        self.assertRegex(r.json().get("message", ""), r"(?i)depth|nest")
        self.assertStored(ev, 0)

    # -- validation -------------------------------------------------------------------------------------
    def test_required_fields(self):
        def without(path, null=False):
            ev = h.make_run_event(inputs=[h.uniq("i")], outputs=[h.uniq("o")],
                                  run_facets={"parent": {"_producer": "p", "_schemaURL": "s",
                                                         "run": {"runId": str(uuid.uuid4())},
                                                         "job": {"namespace": "itest", "name": "pj"}}})
            obj = ev
            keys = path.split(".")
            for k in keys[:-1]:
                obj = obj[int(k)] if isinstance(obj, list) else obj[k]
            if null:
                obj[keys[-1]] = None
            else:
                del obj[keys[-1]]
            return ev

        cases = [
            ("eventTime", "eventTime must not be null"),
            ("producer", "producer must not be null"),
            ("run.runId", "run.runId must not be null"),
            ("job.namespace", "job.namespace must not be null"),
            ("job.name", "job.name must not be null"),
            ("inputs.0.name", "inputs[0].name must not be null"),
            ("inputs.0.namespace", "inputs[0].namespace must not be null"),
            ("outputs.0.name", "outputs[0].name must not be null"),
            ("outputs.0.namespace", "outputs[0].namespace must not be null"),
            ("run.facets.parent.run.runId", "run.facets.parent.run.runId must not be null"),
            ("run.facets.parent.job.namespace", "run.facets.parent.job.namespace must not be null"),
            ("run.facets.parent.job.name", "run.facets.parent.job.name must not be null"),
        ]
        before = self.count("FROM events")
        for path, msg in cases:
            for null in (False, True):
                with self.subTest(field=path, explicit_null=null):
                    r = self.server.post_json(without(path, null))
                    errors = self.assertViolations(r, msg)
                    self.assertEqual(errors, [msg])
        # several problems at once: all reported, in document order
        ev = h.make_run_event()
        del ev["producer"]
        del ev["run"]["runId"]
        del ev["job"]["name"]
        errors = self.assertViolations(self.server.post_json(ev), "producer must not be null",
                                       "run.runId must not be null", "job.name must not be null")
        self.assertEqual(len(errors), 3, errors)
        self.assertEqual(self.count("FROM events"), before, "an invalid event was stored")

    def test_dataset_and_job_event_required_fields(self):
        ds = {"eventTime": h.iso_z(sec(0)), "producer": "p",
              "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
              "dataset": {"namespace": "itest-ds", "name": h.uniq("ds")}}
        job = {"eventTime": h.iso_z(sec(0)), "producer": "p",
               "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
               "job": {"namespace": "itest", "name": h.uniq("jobev")}}
        for base, path, msg in ((ds, "schemaURL", "schemaURL must not be null"),
                                (ds, "dataset.name", "dataset.name must not be null"),
                                (ds, "dataset.namespace", "dataset.namespace must not be null"),
                                (ds, "producer", "producer must not be null"),
                                (job, "schemaURL", "schemaURL must not be null"),
                                (job, "job.namespace", "job.namespace must not be null"),
                                (job, "eventTime", "eventTime must not be null")):
            with self.subTest(kind=base is ds and "dataset" or "job", field=path):
                ev = json.loads(json.dumps(base))
                obj = ev
                keys = path.split(".")
                for k in keys[:-1]:
                    obj = obj[k]
                del obj[keys[-1]]
                self.assertViolations(self.server.post_json(ev), msg)
        # and the valid ones are stored
        self.assertCreated(self.server.post_json(ds))
        self.assertCreated(self.server.post_json(job))
        self.assertEqual(self.count("FROM datasets WHERE namespace = 'itest-ds' AND name = %s"
                                    % q(ds["dataset"]["name"])), 1)
        self.assertEqual(self.count("FROM jobs WHERE namespace = 'itest' AND name = %s" % q(job["job"]["name"])), 1)
        self.assertEqual(self.count("FROM events WHERE kind = 'JOB_EVENT' AND job_name = %s" % q(job["job"]["name"])), 1)

    def test_wrong_types_are_violations(self):
        ev = h.make_run_event()
        ev["run"]["runId"] = 12345
        errors = self.assertViolations(self.server.post_json(ev))
        self.assertTrue(any(e.startswith("run.runId") for e in errors), errors)
        ev = h.make_run_event()
        ev["inputs"] = [{"namespace": "x", "name": ["not", "a", "string"]}]
        errors = self.assertViolations(self.server.post_json(ev))
        self.assertTrue(any(e.startswith("inputs[0].name") for e in errors), errors)
        self.assertStored(ev, 0)

    # -- leniency ---------------------------------------------------------------------------------------
    def test_event_time_formats(self):
        cases = [
            ("2024-01-02T03:04:05Z", ["2024-01-02T03:04:05.000000"]),
            ("2024-01-02T03:04:05.5Z", ["2024-01-02T03:04:05.500000"]),
            ("2024-01-02T03:04:05.98Z", ["2024-01-02T03:04:05.980000"]),
            ("2024-01-02T03:04:05.123456789Z", ["2024-01-02T03:04:05.123456", "2024-01-02T03:04:05.123457"]),
            ("2024-01-02T03:04:05.123456", ["2024-01-02T03:04:05.123456"]),
            ("2024-01-02T03:04:05", ["2024-01-02T03:04:05.000000"]),
            ("2024-01-02T08:34:05.1+05:30", ["2024-01-02T03:04:05.100000"]),
            ("2024-01-01T23:04:05.000-04:00", ["2024-01-02T03:04:05.000000"]),
            ("2024-01-02T03:04:05.606867+00:00", ["2024-01-02T03:04:05.606867"]),
        ]
        for t, exp in cases:
            with self.subTest(eventTime=t):
                ev = h.make_run_event(event_time=t)
                self.assertCreated(self.server.post_json(ev))
                got = h.sql_scalar(self.db, "SELECT %s FROM events WHERE run_uuid = %s"
                                   % (h.ts_sql("event_time"), q(ev["run"]["runId"])))
                self.assertIn(got, exp)

    def test_bad_event_time_rejected(self):
        for t in ("2021-11-03", "yesterday", "2024-13-02T03:04:05Z", ""):
            with self.subTest(eventTime=t):
                ev = h.make_run_event(event_time=t)
                r = self.server.post_json(ev)
                self.assertIn(r.status, (400, 422), r)
                self.assertIn("eventTime", r.text())
                self.assertStored(ev, 0)

    def test_missing_event_type(self):
        ev = h.make_run_event(event_type=None)
        self.assertNotIn("eventType", ev)
        self.assertCreated(self.server.post_json(ev))
        rows = h.sql_json(self.db, "SELECT kind, event_type FROM events WHERE run_uuid = %s" % q(ev["run"]["runId"]))
        self.assertEqual(rows, [{"kind": "RUN_EVENT", "event_type": None}])
        self.run_row(ev["run"]["runId"])

    def test_lowercase_event_type(self):
        ev = h.make_run_event(event_type="complete")
        self.assertCreated(self.server.post_json(ev))
        self.assertIn(h.sql_scalar(self.db, "SELECT event_type FROM events WHERE run_uuid = %s"
                                   % q(ev["run"]["runId"])), ("COMPLETE", "complete"))
        self.assertEqual(self.run_row(ev["run"]["runId"])["state"], "COMPLETED")

    def test_non_uuid_run_id(self):
        rid = h.uniq("my-custom-run")
        ev = h.make_run_event(run_id=rid, event_type="COMPLETE")
        self.assertCreated(self.server.post_json(ev))
        v3 = h.uuid_v3_of(rid)
        self.assertEqual(self.count("FROM events WHERE run_uuid = %s" % q(v3)), 1)
        self.assertEqual(self.run_row(v3)["state"], "COMPLETED")

    def test_unknown_fields_and_facets_kept(self):
        ev = h.make_run_event(run_facets={"myCustom": {"_producer": "p", "_schemaURL": "s", "k": [1, {"z": None}]}})
        ev["someFutureField"] = {"x": 1}
        self.assertCreated(self.server.post_json(ev))
        rid = ev["run"]["runId"]
        self.assertEqual(h.sql_json(self.db, "SELECT facet FROM run_facets WHERE run_uuid = %s AND name = 'myCustom'"
                                    % q(rid)), [{"facet": ev["run"]["facets"]["myCustom"]}])
        self.assertEqual(h.sql_json(self.db, "SELECT body->'someFutureField' AS f FROM events WHERE run_uuid = %s"
                                    % q(rid)), [{"f": {"x": 1}}])

    # -- model rules ------------------------------------------------------------------------------------
    def test_child_job_naming(self):
        parent = h.uniq("pjob")
        prun = str(uuid.uuid4())

        def child(name):
            return h.make_run_event(event_type="START", job=name, run_facets={"parent": {
                "_producer": "p", "_schemaURL": "s", "run": {"runId": prun},
                "job": {"namespace": "itest", "name": parent}}})

        a, b = child("task_a"), child(parent + ".task_b")
        self.assertCreated(self.server.post_json(a))
        self.assertCreated(self.server.post_json(b))
        rows = h.sql_json(self.db, "SELECT j.name, j.simple_name, p.name AS parent, r.parent_run_uuid FROM runs r "
                                   "JOIN jobs j ON j.id = r.job_id LEFT JOIN jobs p ON p.id = j.parent_job_id "
                                   "WHERE r.uuid IN (%s, %s) ORDER BY j.name" % (q(a["run"]["runId"]), q(b["run"]["runId"])))
        self.assertEqual(rows, [
            {"name": parent + ".task_a", "simple_name": "task_a", "parent": parent, "parent_run_uuid": prun},
            {"name": parent + ".task_b", "simple_name": "task_b", "parent": parent, "parent_run_uuid": prun},
        ])
        self.assertEqual(self.count("FROM jobs WHERE namespace = 'itest' AND name = %s" % q(parent)), 1)

    def test_facet_latest_event_time_wins(self):
        rid = str(uuid.uuid4())
        job = h.uniq("job")

        def ev(t, value, et="RUNNING"):
            return h.make_run_event(rid, et, sec(t), job=job,
                                    run_facets={"custom": {"_producer": "p", "_schemaURL": "s", "v": value}})

        self.assertCreated(self.server.post_json(ev(10, "new")))
        self.assertCreated(self.server.post_json(ev(5, "old")))
        self.assertEqual(h.sql_json(self.db, "SELECT facet->>'v' AS v FROM run_facets WHERE run_uuid = %s AND "
                                             "name = 'custom'" % q(rid)), [{"v": "new"}])
        self.assertCreated(self.server.post_json(ev(20, "newest")))
        self.assertEqual(h.sql_scalar(self.db, "SELECT facet->>'v' FROM run_facets WHERE run_uuid = %s AND "
                                               "name = 'custom'" % q(rid)), "newest")

    def test_deleted_facet_tombstone(self):
        ds = h.uniq("ds")
        job = h.uniq("job")

        def ev(t, facet):
            return h.make_run_event(event_type="COMPLETE", event_time=sec(t), job=job,
                                    outputs=[{"namespace": "itest-ds", "name": ds, "facets": {"documentation": facet}}])

        self.assertCreated(self.server.post_json(ev(10, {"_producer": "p", "_schemaURL": "s", "description": "d1"})))
        self.assertCreated(self.server.post_json(ev(20, {"_deleted": True})))
        self.assertCreated(self.server.post_json(ev(15, {"_producer": "p", "_schemaURL": "s", "description": "d0"})))
        rows = h.sql_json(self.db, "SELECT f.facet FROM dataset_facets f JOIN datasets d ON d.id = f.dataset_id "
                                   "WHERE d.namespace = 'itest-ds' AND d.name = %s AND f.name = 'documentation'" % q(ds))
        self.assertEqual(rows, [{"facet": None}], "a deleted facet stays deleted when an older event arrives")

    # -- arrays and batches ----------------------------------------------------------------------------
    def test_array_on_lineage_all_stored(self):
        evs = [h.make_run_event(event_type="START", outputs=[h.uniq("o")]) for _ in range(5)]
        self.assertCreated(self.server.post_json(evs))
        for ev in evs:
            self.assertStored(ev)
            self.run_row(ev["run"]["runId"])

    def test_array_with_one_invalid_stores_nothing(self):
        evs = [h.make_run_event(event_type="START", outputs=[h.uniq("o")]) for _ in range(4)]
        del evs[2]["run"]["runId"]
        del evs[3]["producer"]
        r = self.server.post_json(evs)
        errors = self.assertViolations(r, "[2].run.runId must not be null", "[3].producer must not be null")
        self.assertEqual(len(errors), 2, errors)
        for ev in (evs[0], evs[1], evs[3]):
            self.assertStored(ev, 0)
            self.assertEqual(self.count("FROM runs WHERE uuid = %s" % q(ev["run"]["runId"])), 0)
        self.assertEqual(self.count("FROM jobs WHERE name IN (%s)" % ",".join(q(e["job"]["name"]) for e in evs)), 0)

    def test_batch_mixed(self):
        evs = [h.make_run_event(event_type="START") for _ in range(4)]
        del evs[1]["run"]["runId"]
        del evs[3]["producer"]
        r = self.server.post_json(evs, path="/api/v1/lineage/batch")
        self.assertStatus(r, 200)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"))
        j = r.json()
        self.assertEqual(j["status"], "partial_success")
        self.assertEqual(j["summary"], {"received": 4, "successful": 2, "failed": 2, "retriable": 0,
                                        "non_retriable": 2})
        fe = sorted(j["failed_events"], key=lambda x: x["index"])
        self.assertEqual([(x["index"], x["status"], x["retriable"]) for x in fe], [(1, 422, False), (3, 422, False)])
        self.assertIn("run.runId must not be null", fe[0]["reason"])
        self.assertIn("producer must not be null", fe[1]["reason"])
        self.assertStored(evs[0])
        self.assertStored(evs[2])
        self.assertStored(evs[3], 0)

    def test_batch_all_valid_and_all_invalid(self):
        evs = [h.make_run_event(event_type="COMPLETE") for _ in range(3)]
        r = self.server.post_json(evs, path="/api/v1/lineage/batch")
        self.assertStatus(r, 200)
        j = r.json()
        self.assertEqual(j["status"], "success")
        self.assertEqual(j["summary"], {"received": 3, "successful": 3, "failed": 0, "retriable": 0,
                                        "non_retriable": 0})
        self.assertEqual(j["failed_events"], [])
        bad = [h.make_run_event() for _ in range(2)]
        for ev in bad:
            del ev["eventTime"]
        r = self.server.post_json(bad, path="/api/v1/lineage/batch")
        self.assertStatus(r, 200)
        j = r.json()
        self.assertEqual(j["status"], "failure")
        self.assertEqual(j["summary"]["failed"], 2)
        self.assertEqual(j["summary"]["successful"], 0)
        self.assertEqual([x["index"] for x in sorted(j["failed_events"], key=lambda x: x["index"])], [0, 1])
        for x in j["failed_events"]:
            self.assertIn("eventTime must not be null", x["reason"])

    def test_batch_duplicates_count_as_success(self):
        ev = h.make_run_event(event_type="START")
        r = self.server.post_json([ev, ev], path="/api/v1/lineage/batch")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["summary"]["successful"], 2)
        self.assertStored(ev, 1)

    def test_batch_not_an_array(self):
        r = self.server.post_json(h.make_run_event(), path="/api/v1/lineage/batch")
        self.assertIn(r.status, (400, 422), r)
        self.assertTrue(r.json())

    # -- concurrency ----------------------------------------------------------------------------------
    def test_concurrent_events_of_one_run(self):
        rid = str(uuid.uuid4())
        job = h.uniq("conc")
        n_threads, per = 16, 3
        barrier = threading.Barrier(n_threads)
        results = [[] for _ in range(n_threads)]
        datasets = set()

        def events_for(i):
            out = []
            for j, (et, t) in enumerate((("START", 0), ("RUNNING", 100), ("COMPLETE", 200))):
                inn, outn = "cin_%d_%d_%s" % (i, j, rid[:8]), "cout_%d_%d_%s" % (i, j, rid[:8])
                datasets.add(("INPUT", inn))
                datasets.add(("OUTPUT", outn))
                out.append(h.make_run_event(rid, et, sec(t + i + j * 0.001), job=job, inputs=[inn], outputs=[outn]))
            return out

        all_events = [events_for(i) for i in range(n_threads)]

        def worker(i):
            conn = self.server.connection(timeout=120)
            try:
                barrier.wait(30)
                for ev in all_events[i]:
                    conn.request("POST", "/api/v1/lineage", json.dumps(ev).encode(),
                                 {"Content-Type": "application/json"})
                    r = h.read_response(conn)
                    results[i].append(r.status if r.status == 201 else (r.status, r.text()))
            except Exception as e:  # noqa: BLE001 - reported below
                results[i].append(repr(e))
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        for i in range(n_threads):
            self.assertEqual(results[i], [201] * per, "thread %d" % i)
        self.assertEqual(self.events_of(rid), n_threads * per)
        self.assertEqual(self.count("FROM run_states WHERE run_uuid = %s" % q(rid)), n_threads * per)
        run = self.run_row(rid)
        self.assertEqual(run["state"], "COMPLETED")
        self.assertEqual(run["name"], job)
        got = {(r["io_type"], r["name"]) for r in h.sql_json(
            self.db, "SELECT ri.io_type, d.name FROM run_io ri JOIN datasets d ON d.id = ri.dataset_id "
                     "WHERE ri.run_uuid = %s" % q(rid))}
        self.assertEqual(got, datasets)
        self.assertEqual(self.count("FROM job_io io JOIN jobs j ON j.id = io.job_id WHERE j.namespace = 'itest' "
                                    "AND j.name = %s" % q(job)), len(datasets))
        self.assertEqual(self.count("FROM jobs WHERE namespace = 'itest' AND name = %s" % q(job)), 1)

    def test_concurrent_distinct_runs_share_datasets(self):
        """Many runs writing the same new datasets at once: one dataset row each, no errors."""
        shared = [h.uniq("shared") for _ in range(3)]
        barrier = threading.Barrier(8)
        statuses = []
        lock = threading.Lock()
        evs = [h.make_run_event(event_type="COMPLETE", inputs=shared[:2], outputs=[shared[2]], job=h.uniq("j"))
               for _ in range(8)]

        def worker(ev):
            barrier.wait(30)
            r = self.server.post_json(ev)
            with lock:
                statuses.append((r.status, r.text()))

        threads = [threading.Thread(target=worker, args=(ev,)) for ev in evs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(statuses, [(201, "")] * 8)
        for name in shared:
            self.assertEqual(self.count("FROM datasets WHERE namespace = 'itest-ds' AND name = %s" % q(name)), 1)


def _deep_event(levels):
    ev = h.make_run_event()
    deep = {}
    cur = deep
    for _ in range(levels):
        cur["x"] = {}
        cur = cur["x"]
    ev["run"]["facets"] = {"deep": deep}
    return ev


def _payload_with_ratio(size, rng):
    """About `size` bytes of string content whose gzip ratio is moderate (~10-60x)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    parts = []
    n = 0
    while n < size:
        if rng.random() < 0.03:
            w = "".join(rng.choice(alphabet) for _ in range(8))
        else:
            w = "aaaaaaaa"
        parts.append(w)
        n += 8
    return "".join(parts)


class LimitsTest(StoreQueries, h.ServerTestCase):
    server_args = ("--max-body-bytes", "65536", "--max-decompressed-bytes", "1048576", "--max-json-depth", "16")

    def assertStillServing(self):
        self.assertEqual(self.server.get("/healthcheck").status, 200)
        ev = h.make_run_event()
        self.assertCreated(self.server.post_json(ev))
        self.assertStored(ev)

    def _big_event(self, payload):
        ev = h.make_run_event()
        ev["run"]["facets"] = {"big": {"_producer": "p", "_schemaURL": "s", "data": payload}}
        return ev

    def test_gzip_bomb_413(self):
        ev = self._big_event("0" * (20 * 1024 * 1024))
        body = h.gzip_bytes(json.dumps(ev).encode(), 9)
        self.assertLess(len(body), 65536)
        r = self.server.post("/api/v1/lineage", body, {"Content-Encoding": "gzip"})
        self.assertJsonError(r, 413)
        self.assertStored(ev, 0)
        self.assertStillServing()

    def test_decompressed_over_limit_413(self):
        """Over --max-decompressed-bytes with an ordinary compression ratio (not caught by a ratio guard)."""
        rng = random.Random(7)
        ev = self._big_event(_payload_with_ratio(1536 * 1024, rng))
        raw = json.dumps(ev).encode()
        body = h.gzip_bytes(raw)
        self.assertLess(len(body), 65536, "test payload must fit the raw limit")
        self.assertLess(len(raw) / len(body), 150, "test payload ratio must look ordinary")
        r = self.server.post("/api/v1/lineage", body, {"Content-Encoding": "gzip"})
        self.assertJsonError(r, 413)
        self.assertStored(ev, 0)
        self.assertStillServing()

    def test_decompressed_under_limit_201(self):
        rng = random.Random(11)
        ev = self._big_event(_payload_with_ratio(800 * 1024, rng))
        raw = json.dumps(ev).encode()
        body = h.gzip_bytes(raw)
        self.assertGreater(len(raw), 65536)
        self.assertLess(len(raw), 1048576)
        self.assertLess(len(body), 65536)
        self.assertLess(len(raw) / len(body), 150)
        r = self.server.post("/api/v1/lineage", body, {"Content-Encoding": "gzip"})
        self.assertCreated(r)
        self.assertStored(ev)

    def _oversize(self):
        ev = self._big_event("y" * 70000)
        body = json.dumps(ev).encode()
        self.assertGreater(len(body), 65536)
        head = ("POST /api/v1/lineage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Content-Length: %d" % len(body))
        return ev, body, head

    def test_raw_body_over_limit_413(self):
        ev, body, head = self._oversize()
        status, _hdrs, _body = raw_http(self.server.port, head, body)
        self.assertEqual(status, 413)
        # like curl: Expect: 100-continue, body sent after 1 s without an answer
        status, _hdrs, _body = raw_http(self.server.port, head + "\r\nExpect: 100-continue", body,
                                        expect_continue=True)
        self.assertEqual(status, 413)
        self.assertStored(ev, 0)
        self.assertStillServing()

    def test_expect_continue_oversize_answered_at_once(self):
        """RFC 9110 10.1.1: a server MUST answer Expect: 100-continue at once, with 100 or a final status;
        here the final status (413) is known from Content-Length alone."""
        _ev, _body, head = self._oversize()
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=3)
        try:
            s.sendall(head.encode() + b"\r\nExpect: 100-continue\r\n\r\n")
            try:
                first = s.recv(4096)
            except socket.timeout:
                first = None
        finally:
            s.close()
        self.assertIsNotNone(first, "no answer within 3 s to an oversize request with Expect: 100-continue "
                                    "(clients wait, then send the whole body anyway)")
        self.assertRegex(first, rb"^HTTP/1\.1 (100|413)")
        self.assertStillServing()

    def test_expect_continue_normal_body_201(self):
        ev = h.make_run_event()
        body = json.dumps(ev).encode()
        head = ("POST /api/v1/lineage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nExpect: 100-continue" % len(body))
        status, _hdrs, rbody = raw_http(self.server.port, head, body, expect_continue=True, continue_wait=5)
        self.assertEqual((status, rbody), (201, b""))
        self.assertStored(ev)

    def test_chunked_body_over_limit_413(self):
        ev = self._big_event("z" * 70000)
        body = json.dumps(ev).encode()
        chunks = [body[i:i + 8192] for i in range(0, len(body), 8192)]
        try:
            r = self.server.request("POST", "/api/v1/lineage", chunks,
                                    {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                                    encode_chunked=True)
            self.assertEqual(r.status, 413, r)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the server may answer 413 and close before the last chunk; nothing must be stored
        self.assertStored(ev, 0)
        self.assertStillServing()

    def test_body_under_raw_limit_201(self):
        ev = self._big_event("w" * 50000)
        self.assertCreated(self.server.post_json(ev))
        self.assertStored(ev)

    def test_json_depth_limit(self):
        r = self.server.post_json(_deep_event(20))
        self.assertIn(r.status, (400, 413), r)
        j = self.assertJsonError(r, r.status)
        self.assertRegex(j["message"], r"(?i)depth|nest")
        ok = _deep_event(8)
        self.assertCreated(self.server.post_json(ok))
        self.assertStored(ok)


class AuthTest(StoreQueries, h.ServerTestCase):
    server_args = ("--api-keys", "secret1,secret2", "--db-connections", "2")

    def test_missing_or_wrong_key_401(self):
        ev = h.make_run_event()
        for hdrs in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer secret"},
                     {"Authorization": "Bearer secret1x"}, {"Authorization": "Bearer secret1,secret2"},
                     {"Authorization": "Basic c2VjcmV0MTo="}, {"Authorization": "secret1"},
                     {"Authorization": "Bearer "}):
            for path in ("/api/v1/lineage", "/api/v1/lineage/batch"):
                with self.subTest(headers=hdrs, path=path):
                    body = [ev] if path.endswith("batch") else ev
                    r = self.server.post_json(body, path=path, headers=hdrs)
                    self.assertJsonError(r, 401)
        self.assertStored(ev, 0)

    def test_right_keys_accepted(self):
        for key in ("secret1", "secret2"):
            with self.subTest(key=key):
                ev = h.make_run_event()
                self.assertCreated(self.server.post_json(ev, headers={"Authorization": "Bearer " + key}))
                self.assertStored(ev)
        evs = [h.make_run_event()]
        r = self.server.post_json(evs, path="/api/v1/lineage/batch", headers={"Authorization": "Bearer secret2"})
        self.assertStatus(r, 200)
        self.assertStored(evs[0])

    def test_healthcheck_needs_no_key(self):
        self.assertEqual(self.server.get("/healthcheck").status, 200)

    def test_auth_checked_before_body(self):
        """An unauthenticated request is refused even when its body is garbage."""
        r = self.server.post("/api/v1/lineage", b"{not json")
        self.assertJsonError(r, 401)


class CrashRecoveryTest(StoreQueries, h.HttpAsserts, unittest.TestCase):
    """Events acknowledged with 201 survive kill -9 of the server; a restart sees exactly them."""

    def setUp(self):
        self.db = h.fresh_database("crash")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.kill_quietly()

    def start(self):
        s = h.Server(self.db)
        self.servers.append(s)
        return s.start()

    def test_kill9_and_restart(self):
        s1 = self.start()
        first = [h.make_run_event(event_type="START", outputs=[h.uniq("o")]) for _ in range(20)]
        for ev in first:
            self.assertCreated(s1.post_json(ev))
        writers = h.AckedWriters(s1, threads=4).start()
        enough = writers.wait_acked(40, 60)
        s1.kill9()
        writers.stop()
        self.assertTrue(enough, "the load never reached 40 acknowledged events")
        acked_now = {ev["run"]["runId"] for ev in first + writers.acked()}
        self.assertGreaterEqual(len(acked_now), 60)
        stored = {r["run_uuid"] for r in h.sql_json(self.db, "SELECT DISTINCT run_uuid FROM events")}
        missing = acked_now - stored
        self.assertFalse(missing, "%d acknowledged events lost by kill -9" % len(missing))
        # every stored event produced its run (event log and model written together)
        self.assertEqual(self.count("FROM events e WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.uuid = e.run_uuid)"), 0)
        n_events = self.count("FROM events")
        n_runs = self.count("FROM runs")

        s2 = self.start()
        self.assertEqual(self.count("FROM events"), n_events)
        self.assertEqual(self.count("FROM runs"), n_runs)
        self.assertCreated(s2.post_json(first[0]))         # a duplicate across the restart
        self.assertEqual(self.count("FROM events"), n_events)
        ev = h.make_run_event(event_type="START")
        self.assertCreated(s2.post_json(ev))
        self.assertEqual(self.count("FROM events"), n_events + 1)
        s2.stop()


class MigrateAndLifecycleTest(StoreQueries, h.HttpAsserts, unittest.TestCase):
    def migrate(self, db):
        p = subprocess.run([h.lineaged_bin(), "migrate", "--database-url", db], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
        err = p.stderr.decode("utf-8", "replace")
        for m in h.SANITIZER_MARKERS:
            self.assertNotIn(m, err, err)
        return p.returncode, err

    def migrations_rows(self):
        return h.sql_json(self.db, "SELECT version, name, applied_at::text AS applied_at FROM schema_migrations "
                                   "ORDER BY version")

    def test_migrate_twice_then_serve(self):
        self.db = h.fresh_database("migrate")
        rc, err = self.migrate(self.db)
        self.assertEqual(rc, 0, err)
        rows = self.migrations_rows()
        files = sorted(glob.glob(os.path.join(h.REPO_ROOT, "migrations", "[0-9]*.sql")))
        self.assertTrue(files)
        self.assertEqual([r["version"] for r in rows],
                         [int(re.match(r"(\d+)", os.path.basename(f)).group(1)) for f in files])
        self.assertIn("init", rows[0]["name"])
        for t in ("events", "runs", "jobs", "datasets", "run_io", "job_io", "column_lineage", "run_facets"):
            self.assertEqual(h.sql_scalar(self.db, "SELECT to_regclass('public.%s') IS NOT NULL" % t), "t", t)
        rc, err = self.migrate(self.db)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.migrations_rows(), rows)
        s = h.Server(self.db)
        self.addCleanup(s.kill_quietly)
        s.start()
        ev = h.make_run_event()
        self.assertCreated(s.post_json(ev))
        s.stop(signal.SIGINT)            # SIGINT is a clean shutdown too
        self.assertEqual(self.migrations_rows(), rows)
        self.assertStored(ev)

    def test_test_cluster_conninfo(self):
        """`lineaged postgres` printed a conninfo for database lineaged, superuser lineaged, Unix socket."""
        ci = h.base_conninfo()
        self.assertRegex(ci, r"\bdbname='?lineaged'?(\s|$)")
        self.assertRegex(ci, r"\buser='?lineaged'?(\s|$)")
        self.db = ci
        row = h.sql_json(ci, "SELECT current_database() AS db, current_user AS usr, "
                             "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su, "
                             "inet_server_addr() IS NULL AS unix_socket")
        self.assertEqual(row, [{"db": "lineaged", "usr": "lineaged", "su": True, "unix_socket": True}])

    def test_migrate_unreachable_database_fails(self):
        rc, err = self.migrate("host=/nonexistent-lineaged-dir port=1 dbname=nope user=nobody connect_timeout=5")
        self.assertNotEqual(rc, 0)
        self.assertTrue(err.strip(), "a failed migrate must say why on stderr")


if __name__ == "__main__":
    unittest.main()
