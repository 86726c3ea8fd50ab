"""tests/integration/test_ops_access_log.py - one access-log line per request (issue 13, logs).

Each request is found in the server's stderr by its X-Request-Id: exactly one line, with the method,
route pattern, status, latency, body bytes and, for ingest, the producer; in plain key=value text by
default and as one JSON object per line with --log-format json (every line of the log then parses);
none with --access-log=false; an event stream's line is written when the stream ends.
"""

import json
import re
import socket
import time

from harness import ServerTestCase, make_run_event, uniq, wait_for

PLAIN_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info access req=(\S+) method=(\S+) route=(\S+) '
                      r'status=(\d+) ms=(\d+\.\d{3}) bytes=(\d+)(?: producer=(.*))?$')


def plain_value(v):
    """A plain field value as written: quoted when it holds a space, quote, backslash or '='."""
    if v.startswith('"'):
        return re.sub(r'\\(.)', r'\1', v[1:-1])
    return v


class AccessLogPlainTest(ServerTestCase):
    server_args = ("--follow-interval-ms", "50")

    def lines_for(self, rid, wait=True):
        def find():
            return [l for l in self.server.stderr_text().split("\n") if " access req=%s " % rid in l]
        if wait:
            wait_for(find, timeout=5)
        return find()

    def one(self, resp):
        rid = resp.headers["x-request-id"]
        lines = self.lines_for(rid)
        self.assertEqual(len(lines), 1, lines)
        m = PLAIN_RE.match(lines[0])
        self.assertIsNotNone(m, lines[0])
        return m

    def test_each_request_one_line_with_its_fields(self):
        producer = "https://lineaged.test/" + uniq("p") + "/with space"
        r = self.server.post_json(make_run_event(producer=producer))
        self.assertCreated(r)
        m = self.one(r)
        self.assertEqual(m.group(2, 3, 4, 6), ("POST", "/api/v1/lineage", "201", "0"))
        self.assertEqual(plain_value(m.group(7)), producer)

        r = self.server.get("/api/v1/namespaces")
        self.assertStatus(r, 200)
        m = self.one(r)
        self.assertEqual(m.group(2, 3, 4), ("GET", "/api/v1/namespaces", "200"))
        self.assertEqual(int(m.group(6)), len(r.body))
        self.assertIsNone(m.group(7))

        r = self.server.get("/api/v1/namespaces/" + uniq("missing"))
        m = self.one(r)
        self.assertEqual(m.group(2, 3, 4), ("GET", "/api/v1/namespaces/{}", "404"))
        self.assertEqual(int(m.group(6)), len(r.body))

        r = self.server.get("/no/such/route")
        m = self.one(r)
        self.assertEqual(m.group(2, 3, 4), ("GET", "unmatched", "404"))

        bad = make_run_event(producer=producer)
        del bad["eventTime"]
        r = self.server.post_json(bad)
        self.assertStatus(r, 422)
        m = self.one(r)
        self.assertEqual(m.group(4), "422")
        self.assertEqual(plain_value(m.group(7)), producer)

    def test_batch_of_several_producers(self):
        p1, p2 = "https://lineaged.test/" + uniq("a"), "https://lineaged.test/" + uniq("b")
        r = self.server.post_json([make_run_event(producer=p1), make_run_event(producer=p2),
                                   make_run_event(producer=p2)], path="/api/v1/lineage/batch")
        self.assertStatus(r, 200)
        m = self.one(r)
        self.assertEqual(m.group(3), "/api/v1/lineage/batch")
        self.assertEqual(plain_value(m.group(7)), p1 + " (+2 events of other producers)")

    def test_stream_logged_when_it_ends(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        s.sendall(b"GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        rid = re.search(rb"X-Request-Id: (\S+)", head).group(1).decode()
        time.sleep(0.2)
        self.assertEqual(self.lines_for(rid, wait=False), [])  # still open: not logged yet
        time.sleep(0.2)
        s.close()
        self.assertTrue(wait_for(lambda: self.lines_for(rid), timeout=10))
        m = PLAIN_RE.match(self.lines_for(rid)[0])
        self.assertEqual(m.group(2, 3, 4), ("GET", "/api/v1/events/stream", "200"))
        self.assertGreater(int(m.group(6)), 0)  # at least the retry: line
        self.assertGreater(float(m.group(5)), 100.0)  # it was open for the sleep


class AccessLogJsonTest(ServerTestCase):
    server_args = ("--log-format", "json", "--follow-interval-ms", "50")

    def test_every_line_is_json_and_access_lines_have_typed_fields(self):
        producer = "https://lineaged.test/" + uniq("p") + '/"quoted"\\back'
        r = self.server.post_json(make_run_event(producer=producer))
        self.assertCreated(r)
        g = self.server.get("/healthz")
        rid_post, rid_get = r.headers["x-request-id"], g.headers["x-request-id"]

        def entries():
            out = []
            for line in self.server.stderr_text().split("\n"):
                if line:
                    out.append(json.loads(line))  # every line of the log is one JSON object
            return out

        self.assertTrue(wait_for(lambda: [e for e in entries() if e.get("req") == rid_get], timeout=5))
        all_entries = entries()
        for e in all_entries:
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(e["level"], ("debug", "info", "warn", "error"))
            self.assertIsInstance(e["module"], str)
        self.assertTrue(any(e["module"] == "server" and "listening on" in e.get("msg", "") for e in all_entries))
        post = [e for e in all_entries if e.get("module") == "access" and e.get("req") == rid_post]
        self.assertEqual(len(post), 1)
        self.assertEqual(post[0]["method"], "POST")
        self.assertEqual(post[0]["route"], "/api/v1/lineage")
        self.assertEqual(post[0]["status"], 201)
        self.assertIsInstance(post[0]["ms"], float)
        self.assertEqual(post[0]["bytes"], 0)
        self.assertEqual(post[0]["producer"], producer)
        get = [e for e in all_entries if e.get("module") == "access" and e.get("req") == rid_get]
        self.assertEqual([(x["route"], x["status"], x["bytes"]) for x in get], [("/healthz", 200, len(g.body))])
        self.assertNotIn("producer", get[0])


class AccessLogOffTest(ServerTestCase):
    server_args = ("--access-log=false",)

    def test_no_access_lines(self):
        self.assertStatus(self.server.get("/healthz"), 200)
        self.assertCreated(self.server.post_json(make_run_event()))
        time.sleep(0.2)
        self.assertNotIn(" access ", self.server.stderr_text())


if __name__ == "__main__":
    import unittest
    unittest.main()
