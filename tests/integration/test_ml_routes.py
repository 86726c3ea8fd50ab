"""Issue 12's routes refuse bad parameters before any query (400 in Marquez's shapes, naming the
parameter), answer 404 for what does not exist, and bound every answer (limits, depth, maxRuns)."""

import unittest

import harness as h
import ml_pipeline as mp
from harness import enc
from test_lineage_graph import post_all

PROV = "/api/v1/namespaces/%s/datasets/loan_approval_model/versions/2/provenance" % enc(mp.REG)


class MlRoutesParamsTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p = mp.Pipeline()
        post_all(cls.server, cls.p.events())

    def errors(self, path, *expected):
        """400 {"errors": [...]} (bean validation, as Marquez) with exactly these messages."""
        r = self.server.get(path)
        self.assertStatus(r, 400, path)
        self.assertEqual(r.json(), {"errors": list(expected)}, path)

    def test_limits_and_offsets_as_marquez_validates_them(self):
        for route in ("/api/v1/datasets", "/api/v1/runs"):
            with self.subTest(route=route):
                self.errors(route + "?limit=-1", "query param limit must be greater than or equal to 0")
                self.errors(route + "?limit=abc", "query param limit is not a number.")
                self.errors(route + "?limit=1001", "query param limit must be less than or equal to 1000")
                self.errors(route + "?offset=-5", "query param offset must be greater than or equal to 0")
                body = self.server.get(route + "?limit=0").json()
                self.assertEqual(body[route.rsplit("/", 1)[1]], [])
                self.assertGreater(body["totalCount"], 0)

    def test_dataset_list_parameters(self):
        self.errors("/api/v1/datasets?types=MODEL:", "query param types must list dataset kinds, TYPE or TYPE:SUBTYPE "
                    "(MODEL, MODEL:REGISTERED, FEATURE_VIEW), comma-separated, at most 16, each at most 200 bytes")
        self.assertStatus(self.server.get("/api/v1/datasets?types=" + ",".join("T%d" % i for i in range(17))), 400)
        long_owner = "o" * 1025
        self.errors("/api/v1/datasets?owner=" + long_owner,
                    "query param owner is 1025 bytes long; the limit is 1024 bytes (--max-name-bytes)")
        # unknown values filter everything out; they are no error
        self.assertEqual(self.server.get("/api/v1/datasets?namespace=nope&owner=nobody").json(),
                         {"totalCount": 0, "datasets": []})

    def test_run_query_parameters(self):
        r = self.server.get("/api/v1/runs?state=DONE")
        self.assertJsonError(r, 400, "query param state must be one of [NEW, RUNNING, COMPLETED, ABORTED, FAILED]")
        self.assertJsonError(self.server.get("/api/v1/runs?state=FAILED,"), 400)  # an empty state is no state
        self.errors("/api/v1/runs?since=yesterday", "query param since must be an ISO-8601 date-time")
        self.errors("/api/v1/runs?until=2025-13-01T00:00:00Z", "query param until must be an ISO-8601 date-time")
        self.errors("/api/v1/runs?reads=%s" % enc("job:ns:j"),
                    "query param reads must be a dataset node id: dataset:<namespace>:<name>[#<version>]")
        self.errors("/api/v1/runs?writes=plain", "query param writes must be a dataset node id: "
                    "dataset:<namespace>:<name>[#<version>]")
        self.assertJsonError(self.server.get("/api/v1/runs?reads=%s" % enc("dataset:nope:nope")), 404, "nope")
        self.assertJsonError(self.server.get("/api/v1/runs?job=%s" % enc("job:nope:nope")), 404)
        self.assertJsonError(self.server.get("/api/v1/runs?job=no_such_job"), 404, 'no job named "no_such_job"')
        # a version nobody has: no runs, no error
        self.assertEqual(self.server.get("/api/v1/runs?reads=%s" % enc("dataset:%s:loan_approval_model#77" % mp.REG))
                         .json(), {"totalCount": 0, "runs": []})
        # states repeat or come comma-separated; since/until bound the first event time
        both = self.server.get("/api/v1/runs?state=FAILED&state=completed&job=deploy_loan_model").json()
        self.assertEqual([r["state"] for r in both["runs"]], ["FAILED", "COMPLETED"])
        window = self.server.get("/api/v1/runs?job=deploy_loan_model&since=2025-03-02T00:00:00Z"
                                 "&until=2025-03-03T00:00:00%2B00:00").json()
        self.assertEqual([r["id"] for r in window["runs"]], [self.p.day2.deploy])

    def test_walk_parameters_and_missing_things(self):
        for path in (PROV, "/api/v1/jobs/runs/%s/children" % self.p.day1.pipeline):
            with self.subTest(path=path):
                self.errors(path + "?depth=101", "query param depth must be less than or equal to 100")
                self.errors(path + "?depth=-1", "query param depth must be greater than or equal to 0")
                self.errors(path + "?maxRuns=0", "query param maxRuns must be greater than or equal to 1")
                self.errors(path + "?maxRuns=5001", "query param maxRuns must be less than or equal to 5000")
        base = "/api/v1/namespaces/%s/datasets/%s/versions/%s/provenance"
        self.assertJsonError(self.server.get(base % ("nope", "x", "1")), 404, "Namespace 'nope' not found.")
        self.assertJsonError(self.server.get(base % (enc(mp.REG), "nope", "1")), 404, "Dataset 'nope' not found.")
        self.assertJsonError(self.server.get(base % (enc(mp.REG), "loan_approval_model", "7")), 404,
                             "Version '7' not found.")
        self.assertJsonError(self.server.get("/api/v1/jobs/runs/no-such-run/children"), 404,
                             "Run 'no-such-run' not found.")
        self.assertEqual(self.server.get(PROV + "?depth=0").json()["runs"], [])

    def test_name_and_node_id(self):
        for route in ("lineage", "impact"):
            with self.subTest(route=route):
                self.errors("/api/v1/%s" % route, "query param nodeId must not be null")
                self.errors("/api/v1/%s?name=x&nodeId=%s" % (route, enc("dataset:a:b")),
                            "query param name must not be given with nodeId")
                self.errors("/api/v1/%s?name=%s" % (route, "n" * 1025),
                            "query param name is 1025 bytes long; the limit is 1024 bytes (--max-name-bytes)")
                self.assertJsonError(self.server.get("/api/v1/%s?name=nothing_here" % route), 404,
                                     'no dataset or job named "nothing_here"')
                self.errors("/api/v1/%s?name=customer_features&types=MODEL:" % route,
                            "query param types must list dataset kinds, TYPE or TYPE:SUBTYPE (MODEL, "
                            "MODEL:REGISTERED, FEATURE_VIEW), comma-separated, at most 16, each at most 200 bytes")

    def test_search_places(self):
        self.errors("/api/v1/search?q=x&in=bogus",
                    "query param in must list places among name, fields, description, tags, owners, comma-separated")
        self.errors("/api/v1/search?q=x&in=name,", "query param in must list places among name, fields, description, "
                                                   "tags, owners, comma-separated")
        body = self.server.get("/api/v1/search?q=credit_score&in=NAME,Fields&filter=dataset&limit=2").json()
        self.assertEqual(body["totalCount"], 2)
        self.assertEqual({r["matchedIn"] for r in body["results"]}, {"fields"})
        # sorted newest first, and the same objects as by name
        newest = self.server.get("/api/v1/search?q=credit_score&in=fields&sort=updated_at&limit=50").json()["results"]
        by_name = self.server.get("/api/v1/search?q=credit_score&in=fields&limit=50").json()["results"]
        self.assertEqual(sorted(r["nodeId"] for r in newest), sorted(r["nodeId"] for r in by_name))
        stamps = [r["updatedAt"] for r in newest]
        self.assertEqual(stamps, sorted(stamps, reverse=True))


if __name__ == "__main__":
    unittest.main()
