"""tests/integration/test_ops_tail_stats.py - `lineaged tail` and `lineaged stats` (issue 13, live tail).

Both are driven in a real pseudo-terminal (Python's pty module: stdout is a terminal, so colour and
the redrawn screen are on) and through a pipe (plain text, not one escape), and their output is
checked against events posted in the test. `tail` is also followed across a server restart: it must
resume after the last event it printed, printing nothing twice and skipping nothing.
"""

import json
import os
import pty
import select
import signal
import subprocess
import time

import harness
from harness import ServerTestCase, lineaged_bin, make_run_event, uniq, wait_for

ESC = "\x1b["


class Proc:
    """A lineaged client command whose stdout is a pseudo-terminal (tty=True) or a pipe."""

    def __init__(self, args, tty, env=None):
        self.tty = tty
        self.out = b""
        full_env = dict(os.environ)
        full_env.pop("NO_COLOR", None)
        full_env.update(env or {})
        if tty:
            self.master, slave = pty.openpty()
            self.p = subprocess.Popen([lineaged_bin()] + args, stdin=subprocess.DEVNULL, stdout=slave,
                                      stderr=subprocess.PIPE, env=full_env)
            os.close(slave)
            self.fd = self.master
        else:
            self.p = subprocess.Popen([lineaged_bin()] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=full_env)
            self.fd = self.p.stdout.fileno()

    def read_until(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        while not pred(self.text()) and time.monotonic() < deadline:
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: the terminal's other side closed
                    chunk = b""
                if not chunk:
                    if self.p.poll() is not None:
                        break
                    continue
                self.out += chunk
        return self.text()

    def text(self):
        return self.out.decode("utf-8", "replace")

    def lines(self):
        return [l for l in self.text().replace("\r\n", "\n").split("\n") if l]

    def stop(self):
        """SIGINT; returns (exit code, stderr)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            rc = self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.read_until(lambda t: False, timeout=0.3)
        err = self.p.stderr.read().decode("utf-8", "replace")
        if self.tty:
            os.close(self.master)
        for m in harness.SANITIZER_MARKERS:
            if m in err:
                raise AssertionError("client stderr: %s" % err)
        return rc, err


class TailTest(ServerTestCase):
    server_args = ("--follow-interval-ms", "50")

    def url(self):
        return "http://127.0.0.1:%d" % self.server.port

    def post_run(self, ns, job):
        evs = [make_run_event(namespace=ns, job=job, event_type="START", inputs=["in_a"], outputs=["out_b"]),
               make_run_event(namespace=ns, job=job, event_type="COMPLETE", inputs=["in_a", "in_c"],
                              outputs=["out_b"])]
        for ev in evs:
            self.assertCreated(self.server.post_json(ev))
        return evs

    def wait_subscribed(self, n=1):
        def count():
            for line in self.server.get("/metrics").text().split("\n"):
                if line.startswith("lineaged_stream_subscribers "):
                    return int(line.split()[1])
            return 0
        self.assertTrue(wait_for(lambda: count() >= n, timeout=30))

    def test_tty_lines_in_colour(self):
        ns, job = uniq("ns"), uniq("job")
        p = Proc(["tail", "--url", self.url(), "--namespace", ns], tty=True)
        self.wait_subscribed()
        self.post_run(ns, job)
        p.read_until(lambda t: t.count("\n") >= 2)
        rc, err = p.stop()
        self.assertEqual(rc, 0, err)
        lines = p.lines()
        self.assertEqual(len(lines), 2, lines)
        self.assertIn(ESC + "1m%s:%s" % (ns, job) + ESC + "0m", lines[0])
        self.assertIn("in_a -> out_b", lines[0])
        self.assertIn(ESC + "36mSTART", lines[0])
        self.assertIn("in_a, in_c -> out_b", lines[1])
        self.assertIn(ESC + "32mCOMPLETE", lines[1])
        self.assertIn("RUN", lines[1])

    def test_tty_no_color(self):
        ns, job = uniq("ns"), uniq("job")
        p = Proc(["tail", "--url", self.url(), "--namespace", ns], tty=True, env={"NO_COLOR": "1"})
        self.wait_subscribed()
        self.post_run(ns, job)
        p.read_until(lambda t: t.count("\n") >= 2)
        rc, _ = p.stop()
        self.assertEqual(rc, 0)
        self.assertNotIn("\x1b", p.text())
        self.assertIn("%s:%s" % (ns, job), p.lines()[1])

    def test_pipe_plain_and_json(self):
        ns, job = uniq("ns"), uniq("job")
        plain = Proc(["tail", "--url", self.url(), "--namespace", ns], tty=False)
        js = Proc(["tail", "--url", self.url(), "--namespace", ns, "--json"], tty=False)
        self.wait_subscribed(2)
        evs = self.post_run(ns, job)
        plain.read_until(lambda t: t.count("\n") >= 2)
        js.read_until(lambda t: t.count("\n") >= 2)
        self.assertEqual(plain.stop()[0], 0)
        self.assertEqual(js.stop()[0], 0)
        self.assertNotIn("\x1b", plain.text())
        self.assertRegex(plain.lines()[1], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  RUN +%s:%s  in_a, in_c -> out_b  COMPLETE$"
                         % (ns, job))
        got = [json.loads(l) for l in js.lines()]
        self.assertEqual([g["run"]["runId"] for g in got], [e["run"]["runId"] for e in evs])

    def test_control_characters_in_names_are_not_sent_to_the_terminal(self):
        ns = uniq("ns")
        p = Proc(["tail", "--url", self.url(), "--namespace", ns], tty=True)
        self.wait_subscribed()
        self.assertCreated(self.server.post_json(make_run_event(namespace=ns, job="evil\x1b]0;pwned\x07job")))
        p.read_until(lambda t: t.count("\n") >= 1)
        p.stop()
        self.assertIn("evil?]0;pwned?job", p.text())
        self.assertNotIn("\x1b]", p.text())

    def test_resumes_after_a_server_restart(self):
        ns, job = uniq("ns"), uniq("job")
        p = Proc(["tail", "--url", self.url(), "--namespace", ns, "--json"], tty=False)
        self.wait_subscribed()
        first = self.post_run(ns, job)
        p.read_until(lambda t: t.count("\n") >= 2)
        port = self.server.port
        self.server.stop()
        orig = harness.free_port
        harness.free_port = lambda: port
        try:
            self.server.start()
        finally:
            harness.free_port = orig
        # committed before tail reconnects (it waits the server's retry: 2 s): only a resume brings them
        second = self.post_run(ns, job)
        p.read_until(lambda t: t.count("\n") >= 4, timeout=60)
        time.sleep(0.5)
        rc, err = p.stop()
        self.assertEqual(rc, 0, err)
        got = [json.loads(l)["run"]["runId"] + json.loads(l)["eventType"] for l in p.lines()]
        want = [e["run"]["runId"] + e["eventType"] for e in first + second]
        self.assertEqual(got, want, err)
        self.assertIn("reconnecting", err)

    def test_refused_without_credentials_exits_1(self):
        rc = subprocess.run([lineaged_bin(), "tail", "--url", self.url(), "--event-type", "DONE"],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        self.assertEqual(rc.returncode, 1, rc.stderr)
        self.assertIn(b"400", rc.stderr)
        self.assertIn(b"eventType", rc.stderr)


class StatsTest(ServerTestCase):
    server_args = ("--follow-interval-ms", "50")

    def url(self):
        return "http://127.0.0.1:%d" % self.server.port

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.producer = "https://lineaged.test/" + uniq("stats")
        cls.ns = uniq("ns")
        cls.failed_job = uniq("failing")
        for t in ("START", "COMPLETE"):
            cls.server.post_json(make_run_event(namespace=cls.ns, job="ok_job", event_type=t, producer=cls.producer))
        run = make_run_event(namespace=cls.ns, job=cls.failed_job, event_type="START", producer=cls.producer)
        cls.server.post_json(run)
        fail = dict(run, eventType="FAIL")
        cls.server.post_json(fail)

    def test_tty_redraws_in_colour(self):
        p = Proc(["stats", "--url", self.url(), "--interval", "1", "--count", "2"], tty=True)
        p.read_until(lambda t: t.count("lineaged stats") >= 2 and "Graph and server" in t.split("lineaged stats")[-1])
        rc, err = p.stop()
        self.assertEqual(rc, 0, err)
        text = p.text()
        self.assertEqual(text.count(ESC + "H" + ESC + "2J"), 2)
        last = text.split(ESC + "H" + ESC + "2J")[-1]
        self.assertIn(ESC + "1mEvents per minute", last)
        self.assertIn(self.producer, last)
        self.assertIn("Runs by state", last)
        self.assertIn("FAILED 1", last)
        self.assertIn("COMPLETED 1", last)
        self.assertIn("Failed runs: 1", last)
        self.assertIn(ESC + "31m%s:%s" % (self.ns, self.failed_job), last)
        self.assertIn("Silent jobs: 0", last)
        self.assertRegex(last, r"nodes [1-9]\d*   edges [1-9]")
        self.assertRegex(last, r"p50 [0-9.]+ ms")

    def test_pipe_plain_snapshots_with_rates(self):
        p = Proc(["stats", "--url", self.url(), "--interval", "3", "--count", "2"], tty=False)
        p.read_until(lambda t: "Graph and server" in t)
        self.assertCreated(self.server.post_json(make_run_event(namespace=self.ns, event_type="START",
                                                                producer=self.producer)))
        rc = p.p.wait(60)
        p.read_until(lambda t: False, timeout=0.5)
        self.assertEqual(rc, 0, p.p.stderr.read())
        text = p.text()
        self.assertNotIn("\x1b", text)
        snaps = text.split("lineaged stats")[1:]
        self.assertEqual(len(snaps), 2, text)
        row = [l for l in snaps[0].split("\n") if self.producer in l and " START " in l]
        self.assertEqual(len(row), 1, snaps[0])
        self.assertRegex(row[0], r" +- +2$")  # first snapshot: no rate yet, total 2
        row = [l for l in snaps[1].split("\n") if self.producer in l and " START " in l]
        self.assertRegex(row[0], r" +[1-9][0-9.]* +3$")  # one more START since: a rate per minute, total 3

    def test_long_producer_keeps_its_end(self):
        producer = "https://github.com/example/" + "x" * 60 + "/" + uniq("v")
        self.assertCreated(self.server.post_json(make_run_event(namespace=self.ns, producer=producer)))
        p = Proc(["stats", "--url", self.url(), "--count", "1"], tty=False)
        p.read_until(lambda t: "Graph and server" in t)
        self.assertEqual(p.p.wait(60), 0)
        rows = [l for l in p.text().split("\n") if l.startswith("  ...")]
        self.assertEqual(len(rows), 1, p.text())
        self.assertTrue(rows[0].startswith("  ..." + producer[-53:] + " "), rows[0])

    def test_tty_no_color_still_redraws(self):
        p = Proc(["stats", "--url", self.url(), "--count", "1"], tty=True, env={"NO_COLOR": "1"})
        p.read_until(lambda t: "Graph and server" in t)
        rc, _ = p.stop()
        self.assertEqual(rc, 0)
        self.assertTrue(p.text().startswith(ESC + "H" + ESC + "2J"))
        self.assertNotIn(ESC + "1m", p.text())
        self.assertNotIn(ESC + "31m", p.text())

    def test_unreachable_server_exits_1(self):
        rc = subprocess.run([lineaged_bin(), "stats", "--url", "http://127.0.0.1:%d" % harness.free_port(),
                             "--count", "1", "--timeout", "5"], stdin=subprocess.DEVNULL, capture_output=True,
                            timeout=60)
        self.assertEqual(rc.returncode, 1)
        self.assertIn(b"cannot read the server", rc.stdout)


if __name__ == "__main__":
    import unittest
    unittest.main()
