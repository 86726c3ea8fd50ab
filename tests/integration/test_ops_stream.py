"""tests/integration/test_ops_stream.py - GET /api/v1/events/stream (issue 13, live tail).

What is checked: one SSE event per stored event with `id:` = its seq, in the log's delivery order
(xid, seq); filters; resume by Last-Event-ID (header or lastEventId=) across reconnects, between two
collectors on one database and under concurrent ingest, with no gap and no duplicate, including an
event whose lower seq commits after higher ones; a stalled reader is dropped with a final comment
while every POST is still answered; heartbeats; the stream ends with a comment at shutdown; the
subscribers gauge; read scope.
"""

import json
import socket
import subprocess
import threading
import time

from harness import (ServerTestCase, TwoCollectorsTestCase, fresh_database, make_run_event, sql_json,
                     sql_scalar, uniq, wait_for)

STREAM = "/api/v1/events/stream"


class SSE:
    """A raw-socket SSE client: sends the request, parses the reply head, then events and comments."""

    def __init__(self, port, query="", headers=None, rcvbuf=None, timeout=30):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        lines = ["GET %s%s HTTP/1.1" % (STREAM, query), "Host: 127.0.0.1"]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        self.eof = False
        self.status = None
        self.headers = {}
        self.body_prefix = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
        self.buf += chunk

    def read_head(self):
        while b"\r\n\r\n" not in self.buf and not self.eof:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        return self.status

    def next_block(self):
        """The next SSE block as a list of lines, or None at EOF."""
        while b"\n\n" not in self.buf:
            if self.eof:
                return None
            self._fill()
        block, _, self.buf = self.buf.partition(b"\n\n")
        return block.decode("utf-8").split("\n")

    def next(self):
        """('event', id, data) or ('comment', text) or ('retry', ms) or None at EOF."""
        block = self.next_block()
        if block is None:
            return None
        if all(l.startswith(":") for l in block):
            return ("comment", "\n".join(l[1:].strip() for l in block))
        fields = {}
        data = []
        for l in block:
            k, _, v = l.partition(": ")
            if k == "data":
                data.append(v)
            else:
                fields[k] = v
        if not data and "retry" in fields:
            return ("retry", int(fields["retry"]))
        return ("event", int(fields["id"]), "\n".join(data))

    def events(self, n, skip_comments=True, timeout=60):
        """The next n events as (id, parsed data); fails after timeout seconds (heartbeats keep the
        socket busy, so its own timeout would not)."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            if time.monotonic() > deadline:
                raise AssertionError("only %d of %d events within %ds" % (len(out), n, timeout))
            item = self.next()
            if item is None:
                raise AssertionError("stream ended after %d of %d events" % (len(out), n))
            if item[0] == "event":
                out.append((item[1], json.loads(item[2])))
            elif not skip_comments:
                raise AssertionError("unexpected %r" % (item,))
        return out

    def close(self):
        self.sock.close()


def open_stream(server, query="", headers=None, **kw):
    s = SSE(server.port, query, headers, **kw)
    status = s.read_head()
    if status != 200:
        body = s.buf
        s.close()
        raise AssertionError("stream answered %d: %r" % (status, body))
    first = s.next()
    if first != ("retry", 2000):
        raise AssertionError("stream did not start with retry: %r" % (first,))
    return s


def log_order(db, where="TRUE"):
    """seq of stored events in delivery order (xid, seq)."""
    return [r["seq"] for r in sql_json(db, "SELECT seq FROM events WHERE %s ORDER BY xid, seq" % where)]


def open_late_transaction(db, ns):
    """A psql session that inserted an event of namespace ns and has not committed: (process, its seq).
    Its seq is taken now, but the event becomes visible only at commit_late_transaction."""
    late = make_run_event(namespace=ns, event_type="START")
    body = json.dumps(late).replace("'", "''")
    psql = subprocess.Popen(["psql", db, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    psql.stdin.write(
        "BEGIN;\nINSERT INTO events (hash, kind, event_type, event_time, producer, job_namespace, job_name,"
        " run_uuid, body) VALUES (sha256('%s'), 'RUN_EVENT', 'START', now(), 'late', '%s', '%s', '%s',"
        " '%s'::jsonb) RETURNING seq;\n" % (body, ns, late["job"]["name"], late["run"]["runId"], body))
    psql.stdin.flush()
    return psql, int(psql.stdout.readline().strip())


def commit_late_transaction(psql):
    """COMMIT; psql's exit code."""
    psql.stdin.write("COMMIT;\n")
    psql.stdin.flush()
    psql.stdin.close()
    return psql.wait(30)


def subscribers(server):
    for line in server.get("/metrics").text().split("\n"):
        if line.startswith("lineaged_stream_subscribers "):
            return int(line.split()[1])
    return None


class StreamTest(ServerTestCase):
    server_args = ("--follow-interval-ms", "50", "--stream-heartbeat", "1")

    def test_live_events_with_seq_ids_in_log_order(self):
        ns = uniq("ns")
        s = open_stream(self.server, "?namespace=" + ns)
        self.assertEqual(s.headers["content-type"], "text/event-stream; charset=utf-8")
        self.assertEqual(s.headers["connection"], "close")
        self.assertNotIn("content-length", s.headers)
        sent = [make_run_event(namespace=ns, event_type=t, inputs=["in_a"], outputs=["out_b"])
                for t in ("START", "RUNNING", "COMPLETE")]
        for ev in sent:
            self.assertCreated(self.server.post_json(ev))
        got = s.events(3)
        s.close()
        self.assertEqual([i for i, _ in got], log_order(self.db, "job_namespace = '%s'" % ns))
        self.assertEqual([d["run"]["runId"] for _, d in got], [e["run"]["runId"] for e in sent])
        self.assertEqual([d["eventType"] for _, d in got], ["START", "RUNNING", "COMPLETE"])
        self.assertEqual(got[0][1]["inputs"][0]["name"], "in_a")

    def test_filters(self):
        ns = uniq("ns")
        job = uniq("job")
        p = "https://lineaged.test/" + uniq("p")
        s_job = open_stream(self.server, "?namespace=%s&job=%s" % (ns, job))
        s_type = open_stream(self.server, "?namespace=%s&eventType=FAIL" % ns)
        s_prod = open_stream(self.server, "?producer=" + p)
        evs = [make_run_event(namespace=ns, job=job, event_type="START"),
               make_run_event(namespace=ns, event_type="FAIL"),
               make_run_event(namespace=ns, event_type="START", producer=p),
               make_run_event(namespace=ns, job=job, event_type="FAIL")]
        for ev in evs:
            self.assertCreated(self.server.post_json(ev))
        run = lambda got: [d["run"]["runId"] for _, d in got]  # noqa: E731
        self.assertEqual(run(s_job.events(2)), [evs[0]["run"]["runId"], evs[3]["run"]["runId"]])
        self.assertEqual(run(s_type.events(2)), [evs[1]["run"]["runId"], evs[3]["run"]["runId"]])
        self.assertEqual(run(s_prod.events(1)), [evs[2]["run"]["runId"]])
        # nothing else arrived on the producer stream: the next thing is a heartbeat
        self.assertEqual(s_prod.next(), ("comment", "heartbeat"))
        for s in (s_job, s_type, s_prod):
            s.close()

    def test_bad_parameters_are_400(self):
        r = self.server.get(STREAM + "?eventType=DONE")
        self.assertStatus(r, 400)
        self.assertIn("eventType", r.json()["errors"][0])
        r = self.server.get(STREAM, headers={"Last-Event-ID": "12x"})
        self.assertStatus(r, 400)
        self.assertIn("Last-Event-ID", r.json()["errors"][0])
        r = self.server.get(STREAM + "?lastEventId=-3")
        self.assertStatus(r, 400)
        self.assertIn("lastEventId", r.json()["errors"][0])

    def test_resume_by_header_and_by_parameter(self):
        ns = uniq("ns")
        evs = [make_run_event(namespace=ns, event_type="START") for _ in range(6)]
        for ev in evs:
            self.assertCreated(self.server.post_json(ev))
        order = log_order(self.db, "job_namespace = '%s'" % ns)
        s = open_stream(self.server, "?namespace=%s" % ns, {"Last-Event-ID": str(order[1])})
        self.assertEqual([i for i, _ in s.events(4)], order[2:])
        s.close()
        s = open_stream(self.server, "?namespace=%s&lastEventId=%d" % (ns, order[3]))
        self.assertEqual([i for i, _ in s.events(2)], order[4:])
        s.close()
        # 0: from the start of the log
        s = open_stream(self.server, "?namespace=%s&lastEventId=0" % ns)
        self.assertEqual([i for i, _ in s.events(6)], order)
        s.close()

    def test_order_is_by_xid_as_a_number(self):
        """Two events whose xids have different lengths (9xx and 1000+, say): sorting xids as text would
        swap them. Transactions are burnt between the two until the xid gains a digit."""
        ns = uniq("ns")
        self.assertCreated(self.server.post_json(make_run_event(namespace=ns)))
        a = int(sql_scalar(self.db, "SELECT xid::text FROM events WHERE job_namespace = '%s'" % ns))
        burn = 10 ** len(str(a)) - a + 3
        self.assertLess(burn, 200000, "the test cluster's xids are too far from the next power of ten")
        sql_scalar(self.db, "DO $$ BEGIN FOR i IN 1..%d LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$"
                   % burn)
        self.assertCreated(self.server.post_json(make_run_event(namespace=ns)))
        order = log_order(self.db, "job_namespace = '%s'" % ns)
        xids = [int(sql_scalar(self.db, "SELECT xid::text FROM events WHERE seq = %d" % q)) for q in order]
        self.assertEqual(len(str(xids[1])), len(str(xids[0])) + 1)
        s = open_stream(self.server, "?namespace=%s&lastEventId=0" % ns)
        self.assertEqual([i for i, _ in s.events(2)], order)
        s.close()
        s = open_stream(self.server, "?namespace=%s&lastEventId=%d" % (ns, order[0]))
        self.assertEqual([i for i, _ in s.events(1)], order[1:])
        s.close()

    def test_heartbeat_and_subscriber_gauge(self):
        base = subscribers(self.server)
        s1 = open_stream(self.server, "?namespace=" + uniq("quiet"))
        s2 = open_stream(self.server, "?namespace=" + uniq("quiet"))
        self.assertEqual(subscribers(self.server), base + 2)
        self.assertEqual(s1.next(), ("comment", "heartbeat"))
        s1.close()
        s2.close()
        self.assertTrue(wait_for(lambda: subscribers(self.server) == base, timeout=10))

    def test_resume_across_a_late_commit_of_a_lower_seq(self):
        """A transaction takes seq N, others commit N+1.. and are streamed; the reader leaves after them;
        N commits; resuming after the last id seen must bring N (it sorts by its xid, after them)."""
        ns = uniq("ns")
        s = open_stream(self.server, "?namespace=" + ns)
        psql, late_seq = open_late_transaction(self.db, ns)
        try:
            after = [make_run_event(namespace=ns, event_type="START") for _ in range(3)]
            for ev in after:
                self.assertCreated(self.server.post_json(ev))
            # they commit, but the open transaction holds the follower's horizon: nothing streams yet
            time.sleep(0.5)
            self.assertEqual(commit_late_transaction(psql), 0)
        finally:
            if psql.poll() is None:
                psql.kill()
        got = s.events(4)
        s.close()
        ids = [i for i, _ in got]
        self.assertIn(late_seq, ids)
        self.assertEqual(ids, log_order(self.db, "job_namespace = '%s'" % ns))
        # the same through a resume after each id in turn: always exactly the rest
        for k in range(len(ids)):
            r = open_stream(self.server, "?namespace=" + ns, {"Last-Event-ID": str(ids[k])})
            rest = [i for i, _ in r.events(len(ids) - k - 1)]
            self.assertEqual(rest, ids[k + 1:])
            self.assertEqual(r.next(), ("comment", "heartbeat"))
            r.close()

    def test_late_commit_while_reader_is_away(self):
        """The reader leaves after higher seqs were streamed; the lower seq commits while it is away."""
        ns = uniq("ns")
        psql, late_seq = open_late_transaction(self.db, ns)
        try:
            # a reader resuming from before: it may get nothing past the open transaction's xid yet
            before = [make_run_event(namespace=ns, event_type="START") for _ in range(2)]
            for ev in before:
                self.assertCreated(self.server.post_json(ev))
            seqs = [int(x) for x in sql_scalar(self.db, "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM events"
                                                         " WHERE job_namespace = '%s'" % ns).split(",")]
            self.assertEqual(len(seqs), 2)  # the late one is not visible
            self.assertLess(late_seq, min(seqs))
            s = open_stream(self.server, "?namespace=%s&lastEventId=0" % ns)
            self.assertEqual(s.next(), ("comment", "heartbeat"))  # held back: nothing streams past it
            s.close()
            self.assertEqual(commit_late_transaction(psql), 0)
        finally:
            if psql.poll() is None:
                psql.kill()
        s = open_stream(self.server, "?namespace=%s&lastEventId=0" % ns)
        ids = [i for i, _ in s.events(3)]
        s.close()
        self.assertEqual(sorted(ids), sorted(seqs + [late_seq]))
        self.assertEqual(ids, log_order(self.db, "job_namespace = '%s'" % ns))


class TwoCollectorsResumeTest(TwoCollectorsTestCase):
    """Two collectors on one database, concurrent ingest into both; a reader that keeps disconnecting
    and resuming, alternately from each collector, sees every event exactly once, in log order."""

    server_args = ("--follow-interval-ms", "50", "--stream-heartbeat", "1")

    def test_resume_no_gap_no_duplicate_under_concurrent_ingest(self):
        ns = uniq("ns")
        per_thread, threads = 40, 4
        failures = []

        def ingest(server, k):
            for i in range(per_thread):
                if i % 5 == 0:  # arrays too: several events in one transaction
                    r = server.post_json([make_run_event(namespace=ns, event_type="START") for _ in range(3)])
                else:
                    r = server.post_json(make_run_event(namespace=ns, event_type="COMPLETE"))
                if r.status != 201:
                    failures.append(r)

        workers = [threading.Thread(target=ingest, args=((self.server, self.other)[k % 2], k)) for k in range(threads)]
        for w in workers:
            w.start()
        seen = []
        last = None
        rounds = 0
        deadline = time.monotonic() + 120
        total = None  # known once the ingest is over: what the log holds
        history = []
        while (total is None or len(seen) < total) and time.monotonic() < deadline:
            server = (self.server, self.other)[rounds % 2]
            rounds += 1
            s = open_stream(server, "?namespace=" + ns, {"Last-Event-ID": str(last) if last is not None else "0"})
            stored = len(log_order(self.db, "job_namespace = '%s'" % ns))
            want = min(7, stored - len(seen))
            try:
                got = s.events(want) if want > 0 else []
            except AssertionError as e:
                raise AssertionError("%s; resumed %r; log order %r; seen %r" % (
                    e, history, log_order(self.db, "job_namespace = '%s'" % ns), seen))
            history.append(("A" if server is self.server else "B", last))
            for i, _ in got:
                seen.append(i)
                last = i
            s.close()
            if total is None and not any(w.is_alive() for w in workers):
                total = len(log_order(self.db, "job_namespace = '%s'" % ns))
        for w in workers:
            w.join()
        self.assertEqual(failures, [])
        self.assertGreater(rounds, 10)
        self.assertEqual(len(seen), len(set(seen)), "duplicates: %r" % seen)
        self.assertEqual(seen, log_order(self.db, "job_namespace = '%s'" % ns))
        self.assertEqual(len(seen), threads * (per_thread + 2 * (per_thread // 5)))

    def test_events_of_the_other_collector_stream_live(self):
        ns = uniq("ns")
        s = open_stream(self.server, "?namespace=" + ns)
        ev = make_run_event(namespace=ns, event_type="START")
        self.assertCreated(self.other.post_json(ev))
        got = s.events(1)
        s.close()
        self.assertEqual(got[0][1]["run"]["runId"], ev["run"]["runId"])


def metric(server, name):
    for line in server.get("/metrics").text().split("\n"):
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


class SlowReaderTest(ServerTestCase):
    """A reader that stops reading is dropped with a final comment; ingest answers every POST with it
    connected, as without it; a reader that keeps up gets everything."""

    server_args = ("--follow-interval-ms", "50", "--stream-buffer-kb", "16", "--write-timeout", "60")

    def post_batches(self, ns, n_batches, per_batch, pad):
        answered = 0
        for _ in range(n_batches):
            evs = [make_run_event(namespace=ns, event_type="START", run_facets={
                "pad": {"_producer": "p", "_schemaURL": "https://x/y.json", "text": pad}}) for _ in range(per_batch)]
            if self.server.post_json(evs).status == 201:
                answered += 1
        return answered

    def test_stalled_reader_dropped_and_ingest_unaffected(self):
        ns = uniq("ns")
        pad = "x" * 8000
        keeper = open_stream(self.server, "?namespace=" + ns)
        kept = []

        def keep():
            for _ in range(400):
                kept.append(keeper.events(1)[0][0])

        reader = threading.Thread(target=keep)
        reader.start()
        # without a stalled reader: 100 events in 10 POSTs
        self.assertEqual(self.post_batches(ns, 10, 10, pad), 10)
        self.assertTrue(wait_for(lambda: len(kept) >= 100, timeout=30), len(kept))
        # with one: it reads the head and then nothing (small receive buffer); 300 events in 30 POSTs
        stalled = SSE(self.server.port, "?namespace=" + ns, rcvbuf=4096)
        self.assertEqual(stalled.read_head(), 200)
        self.assertTrue(wait_for(lambda: subscribers(self.server) == 2, timeout=10))
        self.assertEqual(self.post_batches(ns, 30, 10, pad), 30)
        self.assertTrue(wait_for(lambda: metric(self.server, "lineaged_stream_dropped_total") == 1, timeout=30),
                        metric(self.server, "lineaged_stream_dropped_total"))
        # the keeper got all 400 events, in order, and was not dropped
        reader.join(60)
        keeper.close()
        order = log_order(self.db, "job_namespace = '%s'" % ns)
        self.assertEqual(kept, order)
        self.assertEqual(metric(self.server, "lineaged_stream_dropped_total"), 1)
        # the stalled reader now reads: a prefix of the events after it came, then the reason, then EOF
        ids, last = [], None
        while True:
            item = stalled.next()
            if item is None:
                break
            if item[0] == "event":
                ids.append(item[1])
            last = item
        stalled.close()
        self.assertEqual(last[0], "comment", last)
        self.assertIn("dropped", last[1])
        self.assertIn("--stream-buffer-kb", last[1])
        self.assertGreater(len(ids), 0)
        self.assertLess(len(ids), 300)
        self.assertEqual(ids, order[100:100 + len(ids)])
        self.assertTrue(wait_for(lambda: subscribers(self.server) == 0, timeout=10))
        self.assertIn("fell behind", self.server.stderr_text())


class StreamShutdownTest(ServerTestCase):
    server_args = ("--follow-interval-ms", "50")

    def test_stream_ends_with_a_comment_at_shutdown(self):
        s = open_stream(self.server)
        self.server.stop()
        items = []
        while True:
            item = s.next()
            if item is None:
                break
            items.append(item)
        s.close()
        self.assertEqual(items[-1][0], "comment")
        self.assertIn("shutting down", items[-1][1])
        self.assertEqual(self.server.stopped_rc, 0)
        self.server.start()  # for tearDownClass


class StreamAuthTest(ServerTestCase):
    server_args = ("--follow-interval-ms", "50", "--api-keys", "k_admin_0123456789abcdef")

    def test_read_scope_needed(self):
        r = self.server.get(STREAM)
        self.assertStatus(r, 401)
        s = open_stream(self.server, headers={"Authorization": "Bearer k_admin_0123456789abcdef"})
        s.close()


if __name__ == "__main__":
    import unittest
    unittest.main()
