"""Reply compression: large answers are gzipped for clients that send Accept-Encoding: gzip (as
Marquez's Dropwizard server does for the web UI), and sent as they are to everyone else.

The expected body is always the identity answer of the same request; gzip bodies are decoded here.
"""

import gzip

import harness as h


class ReplyEncodingTest(h.ServerTestCase):
    NS = "encoding-ns"
    PATH = "/api/v1/namespaces/%s/jobs?limit=100" % NS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for i in range(40):
            ev = h.make_run_event(None, "COMPLETE", "2024-05-01T12:00:00Z", cls.NS, "job_%02d" % i,
                                  ["in_%02d" % i], ["out_%02d" % i])
            r = cls.server.post_json(ev)
            assert r.status == 201, r

    def plain(self):
        r = self.server.get(self.PATH)
        self.assertStatus(r, 200)
        self.assertNotIn("content-encoding", r.headers)
        self.assertGreater(len(r.body), 8 * 1024, "the test needs an answer above the gzip threshold")
        return r.body

    def test_large_answer_is_gzipped_when_accepted(self):
        body = self.plain()
        for accept in ("gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5", "*"):
            r = self.server.get(self.PATH, headers={"Accept-Encoding": accept})
            self.assertStatus(r, 200)
            self.assertEqual(r.headers.get("content-encoding"), "gzip", accept)
            self.assertEqual(r.headers.get("vary"), "Accept-Encoding")
            self.assertEqual(r.headers.get("content-type"), "application/json")
            self.assertLess(len(r.body), len(body) // 3)
            self.assertEqual(gzip.decompress(r.body), body, accept)

    def test_not_gzipped_unless_accepted(self):
        body = self.plain()
        for accept in ("identity", "deflate, br", "gzip;q=0"):
            r = self.server.get(self.PATH, headers={"Accept-Encoding": accept})
            self.assertStatus(r, 200)
            self.assertNotIn("content-encoding", r.headers, accept)
            self.assertEqual(r.body, body, accept)

    def test_small_answers_and_errors_stay_plain(self):
        r = self.server.get("/api/v1/namespaces/%s" % self.NS, headers={"Accept-Encoding": "gzip"})
        self.assertStatus(r, 200)
        self.assertNotIn("content-encoding", r.headers)
        self.assertEqual(r.json()["name"], self.NS)
        r = self.server.get("/api/v1/namespaces/nope/jobs/nope", headers={"Accept-Encoding": "gzip"})
        self.assertJsonError(r, 404)
        self.assertNotIn("content-encoding", r.headers)
