"""tests/integration/test_ops_metrics.py - GET /metrics after known requests (issue 13, metrics).

Every test scrapes before and after a few known requests and checks the difference, so the tests do
not depend on each other's traffic. The text is parsed strictly (every line must be a comment or a
well-formed sample), so a malformed exposition fails too.
"""

import http.client
import re
import subprocess
import time

from harness import Server, ServerTestCase, lineaged_bin, make_run_event, parse_event_time, uniq, wait_for

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+]+|\+Inf|NaN)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_metrics(text):
    """{(name, ((label, value), ...)): float} from Prometheus text; raises on a malformed line."""
    out = {}
    types = {}
    for line in text.split("\n"):
        if line == "":
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if name in types:
                raise AssertionError("TYPE given twice for %s" % name)
            types[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        m = SAMPLE_RE.match(line)
        if m is None:
            raise AssertionError("malformed exposition line: %r" % line)
        labels = []
        body = m.group(3) or ""
        pos = 0
        while pos < len(body):
            lm = LABEL_RE.match(body, pos)
            if lm is None:
                raise AssertionError("malformed labels in %r" % line)
            value = re.sub(r"\\(.)", lambda x: "\n" if x.group(1) == "n" else x.group(1), lm.group(2))
            labels.append((lm.group(1), value))
            pos = lm.end()
        key = (m.group(1), tuple(sorted(labels)))
        if key in out:
            raise AssertionError("sample given twice: %r" % (key,))
        out[key] = float(m.group(4))
    return out


def sample(samples, name, **labels):
    """The value of one series, 0 when absent."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class MetricsTest(ServerTestCase):
    server_args = ("--follow-interval-ms", "100")

    def scrape(self):
        r = self.server.get("/metrics")
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        return parse_metrics(r.text())

    def events(self, samples, producer, kind, etype, outcome):
        return sample(samples, "lineaged_ingest_events_total", producer=producer, kind=kind, type=etype,
                      outcome=outcome)

    def test_ingest_outcomes_counted_per_event(self):
        producer = "https://lineaged.test/" + uniq("producer")
        before = self.scrape()
        ev = make_run_event(event_type="START", producer=producer)
        self.assertCreated(self.server.post_json(ev))
        self.assertCreated(self.server.post_json(ev))  # a retry: duplicate
        self.assertCreated(self.server.post_json(make_run_event(event_type="COMPLETE", producer=producer)))
        bad = make_run_event(event_type="START", producer=producer)
        del bad["eventTime"]
        self.assertStatus(self.server.post_json(bad), 422)
        # an array with one invalid event: 422, the valid one is rejected with it
        self.assertStatus(self.server.post_json([make_run_event(producer=producer), bad]), 422)
        r = self.server.post_json([make_run_event(event_type="FAIL", producer=producer), bad],
                                  path="/api/v1/lineage/batch")
        self.assertStatus(r, 200)
        after = self.scrape()
        for etype, outcome, n in (("START", "stored", 1), ("START", "duplicate", 1), ("COMPLETE", "stored", 1),
                                  ("START", "invalid", 3), ("START", "rejected", 1), ("FAIL", "stored", 1)):
            got = self.events(after, producer, "RUN_EVENT", etype, outcome) - \
                self.events(before, producer, "RUN_EVENT", etype, outcome)
            self.assertEqual(got, n, "%s/%s" % (etype, outcome))
        total = sum(v for (name, labels), v in after.items()
                    if name == "lineaged_ingest_events_total" and ("producer", producer) in labels)
        self.assertEqual(total, 8)

    def test_requests_counted_per_route_pattern_and_status(self):
        before = self.scrape()
        for _ in range(2):
            self.assertStatus(self.server.get("/api/v1/namespaces/%s" % uniq("missing")), 404)
        self.assertStatus(self.server.get("/api/v1/namespaces"), 200)
        self.assertStatus(self.server.get("/no/such/route"), 404)
        after = self.scrape()
        name = "lineaged_http_request_duration_seconds_count"
        route = "/api/v1/namespaces/{}"

        def delta(**labels):
            return sample(after, name, **labels) - sample(before, name, **labels)

        self.assertEqual(delta(method="GET", route=route, status="404"), 2)
        self.assertEqual(delta(method="GET", route="/api/v1/namespaces", status="200"), 1)
        self.assertEqual(delta(method="any", route="unmatched", status="404"), 1)
        # the histogram is consistent: +Inf bucket = count, buckets never decrease
        buckets = sorted((float(dict(labels)["le"]), v) for (n, labels), v in after.items()
                         if n == "lineaged_http_request_duration_seconds_bucket"
                         and dict(labels).get("route") == route and dict(labels).get("status") == "404")
        self.assertEqual(buckets[-1][1], sample(after, name, method="GET", route=route, status="404"))
        self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets))
        # database time was measured for the namespace reads
        self.assertGreater(sample(after, "lineaged_http_request_db_seconds_sum", method="GET", route=route), 0)

    def test_namespace_time_and_graph_size_follow_ingest(self):
        ns = uniq("ns")
        before = self.scrape()
        ev = make_run_event(namespace=ns, event_time="2031-05-06T07:08:09.5Z", inputs=[uniq("in")],
                            outputs=[uniq("out")])
        self.assertCreated(self.server.post_json(ev))
        after = self.scrape()
        self.assertEqual(sample(after, "lineaged_namespace_last_event_timestamp_seconds", namespace=ns),
                         parse_event_time("2031-05-06T07:08:09.5Z").timestamp())
        # at least the job and its two datasets, and the edges between them (the graph may add run nodes)
        self.assertGreaterEqual(sample(after, "lineaged_graph_nodes") - sample(before, "lineaged_graph_nodes"), 3)
        self.assertGreaterEqual(sample(after, "lineaged_graph_edges") - sample(before, "lineaged_graph_edges"), 2)
        self.assertEqual(sample(after, "lineaged_graph_loaded"), 1)
        self.assertGreater(sample(after, "lineaged_memory_resident_bytes"), 1 << 20)
        for name in ("lineaged_http_queue_depth", "lineaged_stream_subscribers", "lineaged_silent_jobs"):
            self.assertIn((name, ()), after)

    def test_namespace_times_read_from_the_model_at_start(self):
        ns = uniq("ns")
        for t in ("2030-01-02T03:04:05Z", "2030-01-01T00:00:00Z"):  # the newer first: the max must win
            self.assertCreated(self.server.post_json(make_run_event(namespace=ns, event_time=t)))
        other = Server(self.db, "--follow-interval-ms", "0").start()
        try:
            s = parse_metrics(other.get("/metrics").text())
        finally:
            other.stop()
        self.assertEqual(sample(s, "lineaged_namespace_last_event_timestamp_seconds", namespace=ns),
                         parse_event_time("2030-01-02T03:04:05Z").timestamp())
        self.assertEqual(sample(s, "lineaged_ingest_events_total", producer="https://lineaged.test/itest",
                                kind="RUN_EVENT", type="START", outcome="stored"), 0)  # counted per process

    def test_follower_lag_reaches_zero(self):
        self.assertCreated(self.server.post_json(make_run_event()))

        def caught_up():
            s = self.scrape()
            newest = sample(s, "lineaged_follower_newest_seq")
            return newest > 0 and sample(s, "lineaged_follower_applied_seq") == newest and s
        s = wait_for(caught_up, timeout=10)
        self.assertTrue(s, "the follower never caught up")
        self.assertEqual(sample(s, "lineaged_follower_lag_events"), 0)

    def test_open_connections_gauge(self):
        conns = [self.server.connection() for _ in range(3)]
        try:
            for c in conns:
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
            # the 3 kept-alive connections and the scrape's own
            self.assertEqual(sample(self.scrape(), "lineaged_http_connections_open"), 4)
        finally:
            for c in conns:
                c.close()
        self.assertTrue(wait_for(lambda: sample(self.scrape(), "lineaged_http_connections_open") == 1),
                        "closed connections still counted")

    def test_connection_closed_before_a_request_is_never_counted(self):
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        c.connect()
        c.close()
        time.sleep(0.1)
        self.assertEqual(sample(self.scrape(), "lineaged_http_connections_open"), 1)


class MetricsLabelLimitTest(ServerTestCase):
    server_args = ("--metrics-producers", "2")

    def test_producers_beyond_the_limit_count_as_other(self):
        producers = ["https://lineaged.test/" + uniq("p") for _ in range(4)]
        for p in producers:
            self.assertCreated(self.server.post_json(make_run_event(event_type="START", producer=p)))
        s = parse_metrics(self.server.get("/metrics").text())
        named = {dict(labels)["producer"] for (name, labels), _ in s.items()
                 if name == "lineaged_ingest_events_total"}
        self.assertEqual(named, set(producers[:2]) | {"other"})
        self.assertEqual(sample(s, "lineaged_ingest_events_total", producer="other", kind="RUN_EVENT",
                                type="START", outcome="stored"), 2)

    def test_bad_flag_value_is_refused(self):
        p = subprocess.run([lineaged_bin(), "serve", "--metrics-producers", "0"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--metrics-producers \"0\" must be an integer from 1 to 10000", p.stderr)
