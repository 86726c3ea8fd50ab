"""tests/integration/test_ops_silent_jobs.py - GET /api/v1/alerts/silent-jobs on runs with known gaps.

Each job's runs are POSTed as START events at chosen times relative to now, so its expected interval,
last run and lateness are known; "now" moves while the test runs, so times are compared within a
minute.
"""

import datetime

from harness import ServerTestCase, iso_z, make_run_event, now_utc, uniq, wait_for
from test_ops_metrics import parse_metrics, sample

HOUR = 3600.0
SLACK = 60.0  # seconds the test may take between POSTing and asking


def nominal_facet(t):
    return {"nominalTime": {"_producer": "https://lineaged.test/itest",
                            "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/NominalTimeRunFacet.json",
                            "nominalStartTime": iso_z(t)}}


class SilentJobsTest(ServerTestCase):
    server_args = ("--silent-jobs-interval", "1")
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ns = uniq("silent")
        now = now_utc()
        h = datetime.timedelta(hours=1)
        m = datetime.timedelta(minutes=1)
        day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
        cls.now = now
        # name: [(event time, nominal start or None)]
        cls.jobs = {
            "hourly_late": [(now - k * h, None) for k in (7, 6, 5, 4)],
            "hourly_on_time": [(now - k * h, None) for k in (3, 2, 1)] + [(now - 10 * m, None)],
            # the producer sent the runs minutes apart, but they stand for days: not late after 3 h
            "daily_backfill": [(now - 3 * h - k * m, day0 - datetime.timedelta(days=k + 1)) for k in (3, 2, 1, 0)],
            # hourly by nominal time, sent a minute apart, last 6 h ago: late by the nominal interval
            "nominal_hourly_late": [(now - 6 * h - k * m, now - (k + 7) * h) for k in (3, 2, 1, 0)],
            "two_runs": [(now - 40 * h, None), (now - 30 * h, None)],
            # gaps 1 h, 1 h, 6 h, 0.5 h: median 1 h (the mean would be 2.1 h), last run 1.5 h ago
            "irregular": [(now - k * h, None) for k in (10, 9, 8, 2)] + [(now - 1.5 * h, None)],
        }
        for name, runs in cls.jobs.items():
            for t, nominal in runs:
                ev = make_run_event(event_type="START", event_time=t, namespace=cls.ns, job=name,
                                    run_facets=nominal_facet(nominal) if nominal else None)
                r = cls.server.post_json(ev)
                if r.status != 201:
                    raise AssertionError("seeding %s: %r" % (name, r))

    def silent(self, query=""):
        r = self.server.get("/api/v1/alerts/silent-jobs" + query)
        self.assertStatus(r, 200)
        return r.json()

    def by_name(self, answer):
        return {j["name"]: j for j in answer["silentJobs"]}

    def assertAbout(self, value, expected, slack=SLACK):
        self.assertLessEqual(abs(value - expected), slack, "%r is not about %r" % (value, expected))

    def test_defaults_find_the_late_jobs_by_run_gaps_and_nominal_times(self):
        a = self.silent()
        self.assertEqual((a["factor"], a["minRuns"], a["totalCount"]), (2, 3, 2), a)
        jobs = self.by_name(a)
        self.assertEqual(list(jobs), ["nominal_hourly_late", "hourly_late"])  # most overdue first
        late = jobs["hourly_late"]
        self.assertEqual((late["namespace"], late["runs"], late["intervalSource"]), (self.ns, 4, "runGaps"))
        self.assertAbout(late["expectedIntervalSeconds"], HOUR, 0.001)
        self.assertEqual(late["lastRunTime"], iso_z(self.now - datetime.timedelta(hours=4)))
        self.assertEqual(late["expectedBy"], iso_z(self.now - datetime.timedelta(hours=3)))
        self.assertAbout(late["lateSeconds"], 3 * HOUR)
        nominal = jobs["nominal_hourly_late"]
        self.assertEqual(nominal["intervalSource"], "nominalTime")
        self.assertAbout(nominal["expectedIntervalSeconds"], HOUR, 0.001)
        self.assertAbout(nominal["lateSeconds"], 5 * HOUR)

    def test_factor_and_min_runs(self):
        self.assertEqual(list(self.by_name(self.silent("?factor=5"))), ["nominal_hourly_late"])
        a = self.silent("?minRuns=2")
        jobs = self.by_name(a)
        self.assertEqual(set(jobs), {"nominal_hourly_late", "hourly_late", "two_runs"})
        self.assertAbout(jobs["two_runs"]["expectedIntervalSeconds"], 10 * HOUR, 0.001)
        self.assertAbout(jobs["two_runs"]["lateSeconds"], 20 * HOUR)
        # the median gap (1 h), not the mean: late by half an hour once any delay counts
        jobs = self.by_name(self.silent("?factor=1"))
        self.assertAbout(jobs["irregular"]["expectedIntervalSeconds"], HOUR, 0.001)
        self.assertAbout(jobs["irregular"]["lateSeconds"], 0.5 * HOUR)
        self.assertEqual(set(jobs), {"nominal_hourly_late", "hourly_late", "irregular"})

    def test_paging(self):
        a = self.silent("?limit=1&offset=1")
        self.assertEqual(a["totalCount"], 2)
        self.assertEqual([j["name"] for j in a["silentJobs"]], ["hourly_late"])

    def test_metrics_count_matches(self):
        # counted in the background every second: 0 at start, 2 once the runs above are seen
        def count():
            return sample(parse_metrics(self.server.get("/metrics").text()), "lineaged_silent_jobs")
        self.assertTrue(wait_for(lambda: count() == 2, 10), "lineaged_silent_jobs is %r" % count())

    def test_bad_parameters(self):
        for query, message in (("?factor=abc", "query param factor is not a number."),
                               ("?factor=0.5", "query param factor must be from 1 to 1000"),
                               ("?factor=nan", "query param factor is not a number."),
                               ("?minRuns=1", "query param minRuns must be greater than or equal to 2"),
                               ("?minRuns=21", "query param minRuns must be less than or equal to 20"),
                               ("?limit=-1", "query param limit must be greater than or equal to 0")):
            r = self.server.get("/api/v1/alerts/silent-jobs" + query)
            self.assertStatus(r, 400)
            self.assertEqual(r.json(), {"errors": [message]}, query)
