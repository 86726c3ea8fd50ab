"""tests/integration/test_ops_replica.py - Marquez API reads from a streaming replica (issue 13,
scale-out).

A primary and a streaming replica are made with Debian's Postgres binaries (scripts/pg_replica.py).
Collector A uses the primary only; collector B writes to the primary and sends Marquez API reads to
the replica (--read-database-url). Events go in through A and are read back through B once the
replica has replayed them. Pausing replay proves where B reads from: its Marquez reads stop seeing
new events, while its lineage walks (the in-memory graph, fed from the primary by the follower) and
A's reads still do.
"""

import os
import sys
import unittest

from harness import HttpAsserts, REPO_ROOT, Server, make_run_event, sql_count, uniq, wait_for

sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
import pg_replica  # noqa: E402  (scripts/pg_replica.py)

AVAILABLE, WHY = pg_replica.available()
FOLLOW = ("--follow-interval-ms", "100")


@unittest.skipUnless(AVAILABLE, WHY)
class ReadReplicaTest(HttpAsserts, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pair = pg_replica.PrimaryAndReplica(fast=True)
        cls.addClassCleanup(cls.pair.stop)
        cls.pair.start()
        cls.primary = cls.pair.create_database("scaleout")
        cls.replica = cls.pair.replica_conninfo("scaleout")
        cls.a = Server(cls.primary, *FOLLOW)
        cls.addClassCleanup(cls.a.kill_quietly)
        cls.a.start()
        cls.pair.wait_replayed()  # the migrations, before B reads anything
        cls.b = Server(cls.primary, "--read-database-url", cls.replica, *FOLLOW)
        cls.addClassCleanup(cls.b.kill_quietly)
        cls.b.start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()
        cls.a.stop()

    def post_job(self, server):
        ns, job = uniq("ns"), uniq("job")
        ev = make_run_event(event_type="COMPLETE", namespace=ns, job=job, inputs=[uniq("in")],
                            outputs=[uniq("out")])
        self.assertCreated(server.post_json(ev))
        return ns, job

    def job_path(self, ns, job):
        return "/api/v1/namespaces/%s/jobs/%s" % (ns, job)

    def test_ingest_through_one_read_through_the_other(self):
        ns, job = self.post_job(self.a)
        self.pair.wait_replayed()
        ra, rb = self.a.get(self.job_path(ns, job)), self.b.get(self.job_path(ns, job))
        self.assertStatus(ra, 200)
        self.assertStatus(rb, 200)
        self.assertEqual(rb.json(), ra.json())
        for path in ("/api/v1/namespaces/%s/jobs" % ns, "/api/v1/namespaces/%s" % ns, "/api/v1/jobs?limit=1000"):
            self.assertEqual(self.b.get(path).json(), self.a.get(path).json(), path)

    def test_marquez_reads_come_from_the_replica_and_walks_from_the_graph(self):
        self.pair.pause_replay(True)
        try:
            ns, job = self.post_job(self.a)
            self.assertStatus(self.a.get(self.job_path(ns, job)), 200)
            self.assertJsonError(self.b.get(self.job_path(ns, job)), 404)  # the replica has not seen it
            lineage = "/api/v1/lineage?nodeId=job:%s:%s" % (ns, job)
            self.assertTrue(wait_for(lambda: self.b.get(lineage).status == 200, 10),
                            "B's graph did not follow the primary")
            nodes = {n["id"] for n in self.b.get(lineage).json()["graph"]}
            self.assertIn("job:%s:%s" % (ns, job), nodes)
        finally:
            self.pair.pause_replay(False)
        self.assertTrue(wait_for(lambda: self.b.get(self.job_path(ns, job)).status == 200, 30),
                        "B did not see the job once replay resumed")

    def test_writes_through_the_read_replica_collector_go_to_the_primary(self):
        ns, job = self.post_job(self.b)
        self.assertEqual(sql_count(self.primary, "FROM jobs WHERE namespace = '%s' AND name = '%s'" % (ns, job)), 1)
        self.assertStatus(self.a.get(self.job_path(ns, job)), 200)
        r = self.b.get("/readyz")
        self.assertStatus(r, 200)
