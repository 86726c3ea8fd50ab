"""The lineage node-data cache (api/node_cache.c) seen from outside: a cached answer is byte-for-byte the
answer a server without the cache gives, and an event that changes a job or dataset shows in the next
answer, on the collector that took the event and on another collector following the same database.

Each test builds its own small graph in its own namespace; expectations come from the events posted.
"""

import json
import uuid

import harness as h
from harness import enc, wait_for

FACET = {"_producer": "https://lineaged.test", "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/x.json"}


def lineage_path(node):
    return "/api/v1/lineage?nodeId=%s&depth=5" % enc(node)


def with_schema(ns, name, *fields):
    facet = dict(FACET, fields=[{"name": f, "type": "INTEGER"} for f in fields])
    return {"namespace": ns, "name": name, "facets": {"schema": facet}}


def node(body, node_id):
    for n in json.loads(body)["graph"]:
        if n["id"] == node_id:
            return n
    raise AssertionError("%s is not in the answer" % node_id)


class NodeDataCacheTest(h.ServerTestCase):
    server_args = ("--follow-interval-ms", "200")

    def second(self, *args):
        s = h.Server(self.db, *args)
        self.addCleanup(s.kill_quietly)
        s.start()
        return s

    def post(self, server, ev):
        self.assertCreated(server.post_json(ev))

    def get_body(self, server, node_id):
        r = server.get(lineage_path(node_id))
        self.assertStatus(r, 200)
        return r.body

    def small_graph(self, ns):
        """job j reads a and writes b (with column x); returns the job's node id."""
        self.post(self.server, h.make_run_event(str(uuid.uuid4()), "COMPLETE", "2024-05-01T12:00:00Z", ns, "j",
                                                [(ns, "a")], [with_schema(ns, "b", "x")]))
        return "job:%s:j" % ns

    def test_cached_answer_equals_uncached_answer(self):
        j = self.small_graph("cache-eq")
        first = self.get_body(self.server, j)
        self.assertEqual(self.get_body(self.server, j), first, "a repeated (cached) answer must not change")
        plain = self.second("--lineage-cache-mb", "0", "--follow-interval-ms", "0")
        self.assertEqual(self.get_body(plain, j), first, "the cache must not change a single byte of the answer")
        self.assertEqual(self.get_body(plain, j), first)
        plain.stop()

    def test_event_changes_show_in_the_next_answer(self):
        ns = "cache-change"
        j = self.small_graph(ns)
        before = self.get_body(self.server, j)
        self.assertEqual([d["name"] for d in node(before, j)["data"]["inputs"]], ["a"])
        self.get_body(self.server, j)  # cached now
        run = str(uuid.uuid4())
        self.post(self.server, h.make_run_event(run, "START", "2024-05-01T13:00:00Z", ns, "j",
                                                [(ns, "a"), (ns, "c")], [with_schema(ns, "b", "x", "y")]))
        after = self.get_body(self.server, j)
        job = node(after, j)["data"]
        self.assertEqual([d["name"] for d in job["inputs"]], ["a", "c"])
        self.assertEqual([d["name"] for d in job["outputs"]], ["b"])
        self.assertEqual(job["latestRun"]["id"], run)
        self.assertEqual(job["latestRun"]["state"], "RUNNING")
        fields = node(after, "dataset:%s:b" % ns)["data"]["fields"]
        self.assertEqual([f["name"] for f in fields], ["x", "y"])
        # a node the event did not name keeps its cached data, and the answer still matches an uncached one
        plain = self.second("--lineage-cache-mb", "0", "--follow-interval-ms", "0")
        self.assertEqual(self.get_body(plain, j), after)
        plain.stop()

    def test_other_collectors_cached_answers_follow_the_database(self):
        ns = "cache-follow"
        j = self.small_graph(ns)
        b = self.second("--follow-interval-ms", "200")
        self.get_body(b, j)
        self.get_body(b, j)  # cached on b
        run = str(uuid.uuid4())
        self.post(self.server, h.make_run_event(run, "START", "2024-05-01T14:00:00Z", ns, "j", [(ns, "a")],
                                                [(ns, "b")]))
        self.assertTrue(wait_for(lambda: node(self.get_body(b, j), j)["data"]["latestRun"]["id"] == run),
                        "collector b kept serving the job's old latestRun after following the new event")
        self.assertEqual(self.get_body(b, j), self.get_body(self.server, j))
        b.stop()
