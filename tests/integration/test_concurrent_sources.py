"""A source's row under concurrent writers: the connection URL of the earliest event naming it (then the
smaller URL), whichever transaction commits first.

Each round first stores a late event naming source S with URL a, then posts two earlier events at the
same moment through two collectors on the one database (so separate transactions that both update S's
row): URL b at minute 30 and URL c at minute 28. Whatever the interleaving, S must end with URL c
and updated_at minute 28. A rule that compared against a second scan of sources (the version the
statement's snapshot saw, not the one a concurrent commit left) let the later event win when its
UPDATE waited behind the earlier one's.
"""
import threading
import unittest

import harness as h

ROUNDS = 24


def event(source, url, minute):
    ds = {"namespace": "src-test", "name": source + "_table",
          "facets": {"dataSource": {"_producer": "https://lineaged.test/itest",
                                    "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/DatasourceDatasetFacet.json",
                                    "name": source, "uri": url}}}
    return h.make_run_event(event_type="COMPLETE", event_time="2024-03-01T07:%02d:00Z" % minute,
                            namespace="src-test", job=h.uniq("job"), outputs=[ds])


class ConcurrentSourcesTest(h.TwoCollectorsTestCase):
    def test_earliest_url_wins_under_concurrent_updates(self):
        names = [h.uniq("source") for _ in range(ROUNDS)]
        for s in names:
            self.assertCreated(self.server.post_json(event(s, "db://a", 40)))
        for s in names:
            start = threading.Barrier(2)
            answers = []

            def post(server, url, minute, s=s, start=start, answers=answers):
                body = event(s, url, minute)
                start.wait()
                answers.append(server.post_json(body).status)

            threads = [threading.Thread(target=post, args=a)
                       for a in ((self.server, "db://b", 30), (self.other, "db://c", 28))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            self.assertEqual(sorted(answers), [201, 201])
        rows = h.sql_json(self.db, "SELECT name, connection_url AS url, %s AS at FROM sources"
                          " WHERE name LIKE 'source%%'" % h.ts_sql("updated_at"))
        got = {r["name"]: (r["url"], r["at"]) for r in rows}
        for s in names:
            self.assertEqual(got[s][0], "db://c", (s, got[s]))
            self.assertTrue(got[s][1].startswith("2024-03-01T07:28:00"), (s, got[s]))


if __name__ == "__main__":
    unittest.main()
