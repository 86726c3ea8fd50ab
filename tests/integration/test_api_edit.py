"""The Marquez routes that change something outside OpenLineage ingest: namespace PUT, soft deletes
(DELETE namespace, dataset, job) and their undoing by a later event, tags on datasets, fields and jobs,
PUT /tags, and the 301 Marquez answers for a symlinked job name."""

import datetime
import json
import urllib.parse
import uuid

import harness as h
import test_api_shapes as S


def enc(s):
    return urllib.parse.quote(s, safe="")


T0 = h.now_utc().replace(microsecond=0) - datetime.timedelta(hours=1)


def schema(*names):
    return {"schema": {"_producer": "https://lineaged.test/edit", "_schemaURL": "https://openlineage.io/x.json",
                       "fields": [{"name": n, "type": "TEXT"} for n in names]}}


def run(ns, job, inputs, outputs, minutes):
    """START and COMPLETE of a new run of job, outputs in both (so they become current versions)."""
    rid = str(uuid.uuid4())
    t = T0 + datetime.timedelta(minutes=minutes)
    return [h.make_run_event(rid, "START", t, ns, job, inputs, outputs),
            h.make_run_event(rid, "COMPLETE", t + datetime.timedelta(seconds=30), ns, job, inputs, outputs)]


class MarquezEditTest(S.ShapeAsserts, h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        events = []
        for i, ns in enumerate(("edit-a", "edit-b", "edit:c/d")):
            out = {"namespace": ns, "name": "table_%d" % i, "facets": schema("id", "email")}
            events += run(ns, "job_%d" % i, [], [out], i)
        events += run("edit-a", "old_name", [], [], 5) + run("edit-a", "new_name", [], [], 6)
        for ev in events:
            r = cls.server.post_json(ev)
            assert r.status == 201, r

    def put_json(self, path, obj):
        return self.server.request("PUT", path, json.dumps(obj).encode(), {"Content-Type": "application/json"})

    # -- namespaces --------------------------------------------------------------------------------
    def test_put_namespace_creates_and_updates(self):
        ns = "team/one:analytics"
        path = "/api/v1/namespaces/" + enc(ns)
        body = self.assertShape(self.put_json(path, {"ownerName": "me", "description": "My first namespace!"}),
                                S.NAMESPACE)
        self.assertEqual((body["name"], body["ownerName"], body["description"], body["isHidden"]),
                         (ns, "me", "My first namespace!", False))
        again = self.assertShape(self.put_json(path, {"ownerName": "you"}), S.NAMESPACE)
        self.assertEqual((again["ownerName"], again["description"], again["createdAt"]),
                         ("you", "My first namespace!", body["createdAt"]))
        self.assertEqual(self.server.get(path).json(), again)

    def test_put_namespace_validation(self):
        path = "/api/v1/namespaces/valid-name"
        r = self.put_json(path, {"description": "no owner"})
        self.assertEqual((r.status, r.json()), (422, {"errors": ["ownerName must not be null"]}))
        r = self.server.request("PUT", path, b"", {"Content-Type": "application/json"})
        self.assertEqual((r.status, r.json()), (422, {"errors": ["The request body may not be null"]}))
        self.assertJsonError(self.server.request("PUT", path, b"{oops", {"Content-Type": "application/json"}), 400)
        self.assertJsonError(self.put_json("/api/v1/namespaces/" + enc("has space"), {"ownerName": "me"}), 400,
                             "must contain only letters")
        self.assertEqual(self.server.get(path).status, 404)

    def test_delete_namespace_hides_it_and_its_contents_until_an_event(self):
        ns = "edit-b"
        before = self.assertShape(self.server.request("DELETE", "/api/v1/namespaces/" + ns), S.NAMESPACE)
        self.assertFalse(before["isHidden"], "DELETE answers the namespace as it was")
        self.assertTrue(self.server.get("/api/v1/namespaces/" + ns).json()["isHidden"])
        listed = {n["name"]: n for n in self.server.get("/api/v1/namespaces").json()["namespaces"]}
        self.assertTrue(listed[ns]["isHidden"])
        self.assertEqual(self.server.get("/api/v1/namespaces/%s/datasets" % ns).json()["totalCount"], 0)
        self.assertEqual(self.server.get("/api/v1/namespaces/%s/jobs" % ns).json()["totalCount"], 0)
        self.assertEqual(self.server.get("/api/v1/namespaces/%s/jobs/job_1" % ns).json(),
                         {"code": 404, "message": "Job 'job_1' not found."})
        self.assertEqual(self.server.get("/api/v1/namespaces/%s/datasets/table_1" % ns).status, 404)
        self.assertNotIn("job_1", [j["name"] for j in self.server.get("/api/v1/jobs").json()["jobs"]])
        for ev in run(ns, "job_1", [], [{"namespace": ns, "name": "table_1"}], 30):
            self.assertCreated(self.server.post_json(ev))
        self.assertFalse(self.server.get("/api/v1/namespaces/" + ns).json()["isHidden"])
        self.assertShape(self.server.get("/api/v1/namespaces/%s/jobs/job_1" % ns), S.JOB)
        self.assertShape(self.server.get("/api/v1/namespaces/%s/datasets/table_1" % ns), S.DATASET)
        self.assertEqual(self.server.request("DELETE", "/api/v1/namespaces/nope").json(),
                         {"code": 404, "message": "Namespace 'nope' not found."})

    # -- datasets and jobs ----------------------------------------------------------------------------
    def test_delete_dataset_and_job(self):
        ns = "edit:c/d"
        dpath = "/api/v1/namespaces/%s/datasets/table_2" % enc(ns)
        total = self.server.get("/api/v1/namespaces/%s/datasets" % enc(ns)).json()["totalCount"]
        gone = self.assertShape(self.server.request("DELETE", dpath), S.DATASET)
        self.assertEqual(gone["name"], "table_2")
        self.assertEqual(self.server.get(dpath).json(), {"code": 404, "message": "Dataset 'table_2' not found."})
        self.assertEqual(self.server.get("/api/v1/namespaces/%s/datasets" % enc(ns)).json()["totalCount"], total - 1)
        self.assertEqual(self.server.request("DELETE", dpath).status, 404)
        jpath = "/api/v1/namespaces/%s/jobs/job_2" % enc(ns)
        job = self.assertShape(self.server.request("DELETE", jpath), S.JOB)
        self.assertEqual(job["name"], "job_2")
        self.assertEqual(self.server.get(jpath).status, 404)
        for ev in run(ns, "job_2", [], [{"namespace": ns, "name": "table_2"}], 40):
            self.assertCreated(self.server.post_json(ev))
        self.assertEqual(self.server.get(jpath).status, 200)
        self.assertEqual(self.server.get(dpath).status, 200)

    def test_dataset_and_field_tags(self):
        base = "/api/v1/namespaces/edit-a/datasets/table_0"
        d = self.assertShape(self.server.request("POST", base + "/tags/PII"), S.DATASET)
        self.assertEqual(d["tags"], ["PII"])
        self.assertShape(self.server.request("POST", base + "/tags/PII"), S.DATASET)
        d = self.assertShape(self.server.request("POST", base + "/fields/email/tags/sensitive"), S.DATASET)
        self.assertEqual({f["name"]: f["tags"] for f in d["fields"]}, {"id": [], "email": ["SENSITIVE"]})
        self.assertEqual(self.server.get(base).json()["fields"][1]["tags"], ["SENSITIVE"])
        tags = {t["name"] for t in self.server.get("/api/v1/tags").json()["tags"]}
        self.assertTrue({"PII", "SENSITIVE"} <= tags)
        r = self.server.request("POST", base + "/fields/nope/tags/x")
        self.assertEqual(r.json(), {"code": 404, "message": "Field 'nope' not found for dataset 'table_0'."})
        d = self.assertShape(self.server.request("DELETE", base + "/fields/email/tags/Sensitive"), S.DATASET)
        self.assertEqual(d["fields"][1]["tags"], [])
        d = self.assertShape(self.server.request("DELETE", base + "/tags/PII"), S.DATASET)
        self.assertEqual(d["tags"], [])
        self.assertIn("PII", {t["name"] for t in self.server.get("/api/v1/tags").json()["tags"]})
        self.assertEqual(self.server.request("POST", "/api/v1/namespaces/edit-a/datasets/nope/tags/x").json(),
                         {"code": 404, "message": "Dataset 'nope' not found."})
        versions = self.server.get(base + "/versions").json()["versions"]
        self.assertTrue(all(v["tags"] == [] for v in versions))

    def test_job_tags(self):
        base = "/api/v1/namespaces/edit-a/jobs/job_0"
        j = self.assertShape(self.server.request("POST", base + "/tags/team-a"), S.JOB)
        self.assertEqual(j["tags"], ["team-a"])
        listed = [x for x in self.server.get("/api/v1/namespaces/edit-a/jobs").json()["jobs"] if x["name"] == "job_0"]
        self.assertEqual(listed[0]["tags"], ["team-a"])
        j = self.assertShape(self.server.request("DELETE", base + "/tags/team-a"), S.JOB)
        self.assertEqual(j["tags"], [])

    def test_put_tag(self):
        t = self.assertShape(self.put_json("/api/v1/tags/GDPR", {"description": "EU personal data"}), S.TAG)
        self.assertEqual(t, {"name": "GDPR", "description": "EU personal data"})
        t = self.assertShape(self.put_json("/api/v1/tags/GDPR", {"description": None}), S.TAG)
        self.assertEqual(t["description"], "EU personal data")
        t = self.assertShape(self.server.request("PUT", "/api/v1/tags/plain"), S.TAG)
        self.assertEqual(t, {"name": "plain", "description": None})
        names = [x["name"] for x in self.server.get("/api/v1/tags").json()["tags"]]
        self.assertIn("GDPR", names)

    # -- symlinked jobs ----------------------------------------------------------------------------
    def test_symlinked_job_redirects_301(self):
        h.sql_exec(self.db, "UPDATE jobs SET symlink_target_id = (SELECT id FROM jobs WHERE namespace = 'edit-a'"
                            " AND name = 'new_name') WHERE namespace = 'edit-a' AND name = 'old_name'")
        for suffix in ("", "/runs", "/versions"):
            r = self.server.get("/api/v1/namespaces/edit-a/jobs/old_name" + suffix)
            self.assertStatus(r, 301)
            self.assertEqual(r.headers.get("location"), "/api/v1/namespaces/edit-a/jobs/new_name" + suffix)
        self.assertShape(self.server.get("/api/v1/namespaces/edit-a/jobs/new_name"), S.JOB)
        names = [j["name"] for j in self.server.get("/api/v1/namespaces/edit-a/jobs").json()["jobs"]]
        self.assertNotIn("old_name", names)
        found = self.server.get("/api/v1/search?q=old_name&filter=JOB").json()["results"]
        self.assertEqual([x["name"] for x in found], ["new_name"])
