"""tests/integration/test_read_counters.py - the read routes' counters (migrations/*_read_routes.sql) stay
exact through ingest and edits.

read_counts holds delta rows that the write transaction adds (statement triggers on jobs and datasets,
read_routes_upkeep for events and each job's latest run state); totals, stats and deep /events/lineage
pages are read from them. Invariant checked here: after any mix of events (out of order, several runs
per job, past hours and days, a job deleted and brought back, a dataset deleted), the counters summed
per key equal what read_routes_rebuild() recomputes from the tables, jobs.latest_run_state equals the
state of the job's latest run, and the API's totals agree with the rows the lists return.
"""
import datetime
import json
import unittest
import uuid

from harness import ServerTestCase, enc, make_run_event, now_utc, sql_exec, sql_json, uniq

# Counters summed per key, then what read_routes_rebuild() makes of the same tables, in one session
# (rolled back): the rows where they differ.
COMPARE = (
    "BEGIN",
    "CREATE TEMP TABLE live AS SELECT counter, k, s, t, r, sum(n) AS n FROM read_counts"
    " GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0",
    "SELECT read_routes_rebuild()",
    "SELECT 'DIFF' || coalesce(json_agg(x), '[]') FROM ("
    " SELECT 'live' AS side, * FROM (SELECT * FROM live EXCEPT SELECT counter, k, s, t, r, sum(n) FROM read_counts"
    "  GROUP BY 1, 2, 3, 4, 5) a"
    " UNION ALL SELECT 'rebuilt', * FROM (SELECT counter, k, s, t, r, sum(n) FROM read_counts GROUP BY 1, 2, 3, 4, 5"
    "  EXCEPT SELECT * FROM live) b) x",
    "ROLLBACK",
)


class ReadCountersTest(ServerTestCase):

    def counter_differences(self):
        out = sql_exec(self.db, *COMPARE)
        line = [x for x in out.splitlines() if x.startswith("DIFF")][-1]
        return json.loads(line[4:])

    def post_run(self, ns, job, states, when, inputs=(), outputs=()):
        run_id = str(uuid.uuid4())
        for i, state in enumerate(states):
            ev = make_run_event(run_id, state, when + datetime.timedelta(minutes=i), namespace=ns, job=job,
                                inputs=inputs, outputs=outputs)
            self.assertStatus(self.server.post_json(ev), 201)

    def test_counters_match_a_rebuild_after_ingest_and_edits(self):
        now = now_utc().replace(microsecond=0)
        ns_a, ns_b, ds_ns = uniq("rca"), uniq("rcb"), uniq("rcds")
        jobs = [(ns_a, "j1"), (ns_a, "j2"), (ns_b, "j3")]
        # out of order: the COMPLETE of an old run arrives after a newer run's START
        self.post_run(ns_a, "j1", ["START"], now - datetime.timedelta(hours=1), outputs=[(ds_ns, "t1")])
        self.post_run(ns_a, "j1", ["COMPLETE"], now - datetime.timedelta(days=2, hours=3), outputs=[(ds_ns, "t1")])
        self.post_run(ns_a, "j2", ["START", "FAIL"], now - datetime.timedelta(days=1), inputs=[(ds_ns, "t1")],
                      outputs=[(ds_ns, "t2")])
        self.post_run(ns_b, "j3", ["START", "ABORT"], now - datetime.timedelta(minutes=30),
                      inputs=[(ds_ns, "t2")], outputs=[(ds_ns, "t3")])
        self.post_run(ns_b, "j3", [None], now - datetime.timedelta(minutes=5))  # no eventType
        self.assertEqual(self.counter_differences(), [])

        # edits: a job and a dataset deleted (hidden), then the job brought back by a new event
        self.assertStatus(self.server.request("DELETE", "/api/v1/namespaces/%s/jobs/j2" % enc(ns_a)), 200)
        self.assertStatus(self.server.request("DELETE", "/api/v1/namespaces/%s/datasets/t3" % enc(ds_ns)), 200)
        self.assertEqual(self.counter_differences(), [])
        self.assertStatus(self.server.request("DELETE", "/api/v1/namespaces/%s/jobs/j3" % enc(ns_b)), 200)
        self.post_run(ns_b, "j3", ["START", "COMPLETE"], now)
        self.assertEqual(self.counter_differences(), [])

        stale = sql_json(self.db, "SELECT j.namespace, j.name, j.latest_run_state, r.state FROM jobs j"
                                  " LEFT JOIN runs r ON r.uuid = j.latest_run_uuid"
                                  " WHERE j.latest_run_state IS DISTINCT FROM r.state")
        self.assertEqual(stale, [])

        # the API's totals against the rows it lists
        listed = self.server.get("/api/v1/jobs?limit=1000").json()
        mine = [(j["namespace"], j["name"]) for j in listed["jobs"] if j["namespace"] in (ns_a, ns_b)]
        self.assertEqual(sorted(mine), sorted([jobs[0], jobs[2]]), "j2 is hidden, j3 came back")
        self.assertEqual(listed["totalCount"], len(listed["jobs"]))
        by_state = {}
        for j in listed["jobs"]:
            state = (j.get("latestRun") or {}).get("state")
            by_state[state] = by_state.get(state, 0) + 1
        done = self.server.get("/api/v1/jobs?lastRunStates=COMPLETED&limit=1000").json()
        self.assertEqual(done["totalCount"], by_state.get("COMPLETED", 0) + by_state.get(None, 0))
        self.assertEqual(done["totalCount"], len(done["jobs"]))
        ns_jobs = self.server.get("/api/v1/namespaces/%s/jobs?limit=1" % enc(ns_b)).json()
        self.assertEqual(ns_jobs["totalCount"], 1)
        ds = self.server.get("/api/v1/namespaces/%s/datasets?limit=1" % enc(ds_ns)).json()
        self.assertEqual(ds["totalCount"], 2, "t3 is deleted")
        self.assertEqual(len(ds["datasets"]), 1)

        # every event of the last three days, by event time, counted exactly and paged to the end
        after = (now - datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        before = (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        page = self.server.get("/api/v1/events/lineage?after=%s&before=%s&limit=100" % (after, before)).json()
        self.assertEqual(page["totalCount"], 9)
        self.assertEqual(len(page["events"]), 9)
        tail = self.server.get("/api/v1/events/lineage?after=%s&before=%s&limit=100&offset=8" % (after, before))
        self.assertEqual([e["eventTime"] for e in tail.json()["events"]],
                         [e["eventTime"] for e in page["events"][8:]])


if __name__ == "__main__":
    unittest.main()
