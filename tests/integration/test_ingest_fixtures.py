"""Ingest of the shared fixtures: every COMPLETE OpenLineage fixture and every Marquez test fixture is
accepted (201) and can be read back from the model tables; INVALID and PARTIAL ones are rejected; the
Marquez demo seed builds the food_delivery model."""

import json
import os
import unittest

import harness as h

# ---------------------------------------------------------------------------------------------------
# the fixture catalogue (loaded at import: a missing shared/ folder fails loudly here)

OL_COMPLETE = h.event_files("COMPLETE")
OL_INVALID = h.event_files("INVALID")
OL_PARTIAL = h.event_files("PARTIAL")
MARQUEZ = h.marquez_fixture_files()


def _label(name):
    return name.replace("/", "__").replace(".json", "").replace(".", "_").replace("-", "_")


FIXTURES = {}   # label -> (description, raw bytes, parsed event)
for _n in OL_COMPLETE:
    _b = h.load_event_file(_n)
    FIXTURES["ol_" + _label(_n)] = ("openlineage/events/" + _n, _b, json.loads(_b))
for _n in MARQUEZ:
    _b = h.load_marquez_fixture(_n)
    FIXTURES["marquez_" + _label(_n)] = ("anchors/marquez/fixtures/" + _n, _b, json.loads(_b))


def _datasets_of(ev):
    """[(io_type, dataset dict)] of a Run/JobEvent."""
    out = []
    for io, key in (("INPUT", "inputs"), ("OUTPUT", "outputs")):
        for d in ev.get(key) or []:
            out.append((io, d))
    return out


def _facets(obj, key="facets"):
    f = obj.get(key) if isinstance(obj, dict) else None
    return {k: v for k, v in f.items() if isinstance(v, dict)} if isinstance(f, dict) else {}


def _job_key(ev):
    if h.event_kind(ev) == "RUN_EVENT":
        return (ev["job"]["namespace"], h.expected_job_name(ev))
    return (ev["job"]["namespace"], ev["job"]["name"])


def _build_candidates(events):
    """Every facet value some fixture sent, per (entity, key): the stored value must be one of them."""
    c = {}

    def add(k, v):
        c.setdefault(k, []).append(v)

    for ev in events:
        kind = h.event_kind(ev)
        if kind == "DATASET_EVENT":
            d = ev["dataset"]
            for k, v in _facets(d).items():
                add(("dataset", d["namespace"], d["name"], k), v)
            continue
        jk = _job_key(ev)
        for k, v in _facets(ev["job"]).items():
            add(("job",) + jk + (k,), v)
        ru = h.run_uuid_of(ev["run"]["runId"]) if kind == "RUN_EVENT" else None
        if ru:
            for k, v in _facets(ev["run"]).items():
                add(("run", ru, k), v)
        for io, d in _datasets_of(ev):
            for k, v in _facets(d).items():
                add(("dataset", d["namespace"], d["name"], k), v)
            if ru:
                fk = "inputFacets" if io == "INPUT" else "outputFacets"
                for k, v in _facets(d, fk).items():
                    add(("io", ru, io, d["namespace"], d["name"], k), v)
    return c


CANDIDATES = _build_candidates([f[2] for f in FIXTURES.values()])


def J(sql):
    return "(SELECT coalesce(json_agg(sq__), '[]') FROM (%s) sq__)" % sql


q = h.sql_quote


def _values_list(pairs):
    return ", ".join("(%s, %s)" % (q(a), q(b)) for a, b in pairs)


class FixtureIngestTest(h.ServerTestCase):
    """All COMPLETE fixtures into one database (they share runs and datasets the way real data does)."""

    # -- helpers -------------------------------------------------------------------------------------
    def ingest(self, label):
        desc, raw, _ev = FIXTURES[label]
        r = self.server.post("/api/v1/lineage", raw)
        self.assertCreated(r, desc)

    def ingest_all(self):
        for label in sorted(FIXTURES):
            self.ingest(label)

    def check_facets(self, stored, sent, entity, what):
        """Every sent facet key is stored, and each stored value is one some fixture sent."""
        for k in sent:
            self.assertIn(k, stored, "%s facet %r missing; stored keys %s" % (what, k, sorted(stored)))
            cands = CANDIDATES.get(entity + (k,), [])
            self.assertIn(stored[k], cands, "%s facet %r stored as %s, not the facet object any fixture sent"
                          % (what, k, json.dumps(stored[k])[:400]))

    def verify(self, label):
        desc, _raw, ev = FIXTURES[label]
        kind = h.event_kind(ev)
        exp_time = h.utc_text(h.parse_event_time(ev["eventTime"]))
        if kind == "RUN_EVENT":
            self.verify_run_event(desc, ev, exp_time)
        elif kind == "JOB_EVENT":
            self.verify_job_event(desc, ev, exp_time)
        elif kind == "DATASET_EVENT":
            self.verify_dataset_event(desc, ev, exp_time)
        else:
            self.fail("fixture %s has no run, job or dataset" % desc)

    def dataset_rows(self, pairs):
        if not pairs:
            return {}
        rows = h.sql_json(self.db, """
            SELECT d.namespace, d.name,
                   (SELECT coalesce(json_object_agg(f.name, f.facet), '{}') FROM dataset_facets f
                     WHERE f.dataset_id = d.id) AS facets,
                   (SELECT coalesce(json_agg(json_build_object('namespace', s.namespace, 'name', s.name,
                                                               'type', s.type)), '[]')
                      FROM dataset_symlinks s WHERE s.dataset_id = d.id) AS symlinks
              FROM datasets d WHERE (d.namespace, d.name) IN (VALUES %s)""" % _values_list(pairs))
        return {(r["namespace"], r["name"]): r for r in rows}

    def check_datasets(self, desc, ev, pairs_facets):
        """pairs_facets: [(dataset dict)] - rows exist, facets stored, symlinks stored."""
        rows = self.dataset_rows([(d["namespace"], d["name"]) for d in pairs_facets])
        for d in pairs_facets:
            key = (d["namespace"], d["name"])
            self.assertIn(key, rows, "%s: dataset %s/%s not in datasets" % (desc, key[0], key[1]))
            row = rows[key]
            self.check_facets(row["facets"], _facets(d), ("dataset",) + key, "%s: dataset %s/%s" % ((desc,) + key))
            sl = _facets(d).get("symlinks")
            if sl and isinstance(sl.get("identifiers"), list):
                got = {(s["namespace"], s["name"]) for s in row["symlinks"]}
                for ident in sl["identifiers"]:
                    self.assertIn((ident["namespace"], ident["name"]), got,
                                  "%s: symlink %s missing for dataset %s/%s; have %s" % (desc, ident, key[0], key[1], got))
        return rows

    def verify_run_event(self, desc, ev, exp_time):
        ru = h.run_uuid_of(ev["run"]["runId"])
        jns, jname = _job_key(ev)
        res = h.sql_json(self.db, "SELECT %s AS events, %s AS run, %s AS run_facets, %s AS job_facets, "
                                  "%s AS run_io, %s AS job_io, %s AS io_facets" % (
            J("SELECT kind, event_type, %s AS event_time, producer FROM events WHERE run_uuid = %s"
              % (h.ts_sql("event_time"), q(ru))),
            J("SELECT r.state, r.parent_run_uuid, j.namespace, j.name, pj.namespace AS parent_ns, "
              "pj.name AS parent_name FROM runs r JOIN jobs j ON j.id = r.job_id "
              "LEFT JOIN jobs pj ON pj.id = j.parent_job_id WHERE r.uuid = %s" % q(ru)),
            "(SELECT coalesce(json_object_agg(name, facet), '{}') FROM run_facets WHERE run_uuid = %s)" % q(ru),
            "(SELECT coalesce(json_object_agg(f.name, f.facet), '{}') FROM job_facets f JOIN jobs j ON "
            "j.id = f.job_id WHERE j.namespace = %s AND j.name = %s)" % (q(jns), q(jname)),
            J("SELECT ri.io_type, d.namespace, d.name FROM run_io ri JOIN datasets d ON d.id = ri.dataset_id "
              "WHERE ri.run_uuid = %s" % q(ru)),
            J("SELECT io.io_type, d.namespace, d.name FROM job_io io JOIN datasets d ON d.id = io.dataset_id "
              "JOIN jobs j ON j.id = io.job_id WHERE j.namespace = %s AND j.name = %s" % (q(jns), q(jname))),
            J("SELECT f.io_type, d.namespace, d.name, f.name AS key, f.facet FROM run_io_facets f "
              "JOIN datasets d ON d.id = f.dataset_id WHERE f.run_uuid = %s" % q(ru)),
        ))[0]

        # the event itself
        et = ev.get("eventType")
        et = et.upper() if isinstance(et, str) else None
        matching = [e for e in res["events"] if e["kind"] == "RUN_EVENT" and e["event_type"] == et
                    and e["event_time"] == exp_time and e["producer"] == ev["producer"]]
        self.assertTrue(matching, "%s: no events row (RUN_EVENT, %s, %s) for run %s; rows: %s"
                        % (desc, et, exp_time, ru, res["events"]))

        # the run and its job
        self.assertEqual(len(res["run"]), 1, "%s: run %s not in runs" % (desc, ru))
        run = res["run"][0]
        self.assertEqual((run["namespace"], run["name"]), (jns, jname), "%s: run %s has the wrong job" % (desc, ru))
        self.assertIn(run["state"], ("NEW", "RUNNING", "COMPLETED", "FAILED", "ABORTED"), desc)
        p = h.parent_facet(ev)
        if p is not None:
            prun = (p.get("run") or {}).get("runId")
            if h.is_uuid(prun):
                self.assertEqual(run["parent_run_uuid"], h.run_uuid_of(prun), "%s: parent_run_uuid" % desc)
            pj = p.get("job") or {}
            exp_parent = (None, None) if h.is_self_parent(ev) else (pj.get("namespace"), pj.get("name"))
            self.assertEqual((run["parent_ns"], run["parent_name"]), exp_parent,
                             "%s: parent_job_id of job %s" % (desc, jname))

        self.check_facets(res["run_facets"], _facets(ev["run"]), ("run", ru), "%s: run" % desc)
        self.check_facets(res["job_facets"], _facets(ev["job"]), ("job", jns, jname), "%s: job %s" % (desc, jname))

        run_io = {(r["io_type"], r["namespace"], r["name"]) for r in res["run_io"]}
        job_io = {(r["io_type"], r["namespace"], r["name"]) for r in res["job_io"]}
        io_facets = {(r["io_type"], r["namespace"], r["name"], r["key"]): r["facet"] for r in res["io_facets"]}
        for io, d in _datasets_of(ev):
            k = (io, d["namespace"], d["name"])
            self.assertIn(k, run_io, "%s: run_io lacks %s; has %s" % (desc, k, sorted(run_io)))
            self.assertIn(k, job_io, "%s: job_io of %s lacks %s; has %s" % (desc, jname, k, sorted(job_io)))
            fk = "inputFacets" if io == "INPUT" else "outputFacets"
            for key, _v in _facets(d, fk).items():
                self.assertIn(k + (key,), io_facets, "%s: run_io_facets lacks %s %s" % (desc, k, key))
                self.assertIn(io_facets[k + (key,)], CANDIDATES[("io", ru) + k + (key,)],
                              "%s: run_io_facets %s %s holds a value no fixture sent" % (desc, k, key))
        self.check_datasets(desc, ev, [d for _io, d in _datasets_of(ev)])

    def verify_job_event(self, desc, ev, exp_time):
        jns, jname = ev["job"]["namespace"], ev["job"]["name"]
        res = h.sql_json(self.db, "SELECT %s AS events, %s AS job, %s AS job_facets, %s AS job_io" % (
            J("SELECT kind, %s AS event_time, run_uuid FROM events WHERE kind = 'JOB_EVENT' AND job_namespace = %s "
              "AND job_name = %s" % (h.ts_sql("event_time"), q(jns), q(jname))),
            J("SELECT id FROM jobs WHERE namespace = %s AND name = %s" % (q(jns), q(jname))),
            "(SELECT coalesce(json_object_agg(f.name, f.facet), '{}') FROM job_facets f JOIN jobs j ON "
            "j.id = f.job_id WHERE j.namespace = %s AND j.name = %s)" % (q(jns), q(jname)),
            J("SELECT io.io_type, d.namespace, d.name FROM job_io io JOIN datasets d ON d.id = io.dataset_id "
              "JOIN jobs j ON j.id = io.job_id WHERE j.namespace = %s AND j.name = %s" % (q(jns), q(jname))),
        ))[0]
        self.assertTrue([e for e in res["events"] if e["event_time"] == exp_time],
                        "%s: no JOB_EVENT row for %s/%s at %s; rows %s" % (desc, jns, jname, exp_time, res["events"]))
        for e in res["events"]:
            self.assertIsNone(e["run_uuid"], "%s: a JobEvent has no run" % desc)
        self.assertEqual(len(res["job"]), 1, "%s: job %s/%s not in jobs" % (desc, jns, jname))
        self.check_facets(res["job_facets"], _facets(ev["job"]), ("job", jns, jname), "%s: job" % desc)
        job_io = {(r["io_type"], r["namespace"], r["name"]) for r in res["job_io"]}
        for io, d in _datasets_of(ev):
            k = (io, d["namespace"], d["name"])
            self.assertIn(k, job_io, "%s: job_io lacks %s; has %s" % (desc, k, sorted(job_io)))
        self.check_datasets(desc, ev, [d for _io, d in _datasets_of(ev)])

    def verify_dataset_event(self, desc, ev, exp_time):
        d = ev["dataset"]
        rows = h.sql_json(self.db, "SELECT kind, %s AS event_time, run_uuid, job_name FROM events "
                                   "WHERE body #>> '{dataset,namespace}' = %s AND body #>> '{dataset,name}' = %s"
                          % (h.ts_sql("event_time"), q(d["namespace"]), q(d["name"])))
        self.assertTrue([r for r in rows if r["kind"] == "DATASET_EVENT" and r["event_time"] == exp_time],
                        "%s: no DATASET_EVENT row at %s; rows %s" % (desc, exp_time, rows))
        self.check_datasets(desc, ev, [d])

    # -- tests ---------------------------------------------------------------------------------------
    def test_fixture_catalogue_matches_readme(self):
        """The name-based kinds used here agree with the README table (catches new or renamed files)."""
        kinds = h.readme_kinds()
        on_disk = sorted(n for n in os.listdir(h.events_dir()) if n.endswith(".json"))
        self.assertEqual(sorted(kinds), on_disk, "README table and events/ differ")
        for n in on_disk:
            self.assertEqual(h.kind_by_name(n), kinds[n], n)
        self.assertEqual(len(OL_INVALID), 2)
        self.assertGreaterEqual(len(OL_COMPLETE), 28)
        self.assertEqual(len(MARQUEZ), 20)

    def test_invalid_no_run_id(self):
        before = h.sql_count(self.db, "FROM events")
        r = self.server.post("/api/v1/lineage", h.load_event_file("proxy__invalid_event_no_run_id.json"))
        errors = self.assertViolations(r, "run.runId must not be null")
        self.assertEqual(len(errors), 1, errors)
        self.assertEqual(h.sql_count(self.db, "FROM events"), before, "the invalid event was stored")

    def test_invalid_run_facet(self):
        before = h.sql_count(self.db, "FROM events")
        r = self.server.post("/api/v1/lineage", h.load_event_file("proxy__invalid_event_run_facet.json"))
        errors = self.assertViolations(r, "run.facets.parent.run.runId must not be null")
        self.assertEqual(len(errors), 1, errors)
        self.assertEqual(h.sql_count(self.db, "FROM events"), before, "the invalid event was stored")
        self.assertEqual(h.sql_count(self.db, "FROM jobs WHERE namespace = 'parent_namespace'"), 0,
                         "the rejected event's parent job was stored")

    def test_partial_fixtures_rejected(self):
        for n in OL_PARTIAL:
            with self.subTest(fixture=n):
                raw = h.load_event_file(n)
                doc = json.loads(raw)
                r = self.server.post("/api/v1/lineage", raw)
                self.assertTrue(400 <= r.status < 500, "%s: expected 4xx, got %r" % (n, r))
                elems = doc if isinstance(doc, list) else [doc]
                prefix = (lambda i: "[%d]." % i) if isinstance(doc, list) else (lambda i: "")
                bad_time = any(isinstance(e.get("eventTime"), str) and "${" in e["eventTime"] for e in elems)
                if bad_time:
                    self.assertIn(r.status, (400, 422), r)
                    continue
                expected = []
                for i, e in enumerate(elems):
                    for f in ("eventTime", "producer"):
                        if e.get(f) is None:
                            expected.append(prefix(i) + f + " must not be null")
                    if isinstance(e.get("run"), dict) and e["run"].get("runId") is None:
                        expected.append(prefix(i) + "run.runId must not be null")
                self.assertTrue(expected, n)
                self.assertViolations(r, *expected)

    def test_listener_pair_accumulates_run_io(self):
        self.ingest("marquez_open_lineage__listener__1")
        self.ingest("marquez_open_lineage__listener__2")
        ru = "5e58a95c-1c71-4231-8984-ac172d5566cf"
        rows = h.sql_json(self.db, "SELECT ri.io_type, d.namespace, d.name FROM run_io ri JOIN datasets d "
                                   "ON d.id = ri.dataset_id WHERE ri.run_uuid = %s" % q(ru))
        got = {(r["io_type"], r["name"]) for r in rows}
        self.assertEqual(got, {("INPUT", "file://localhost/in_file1.txt"), ("INPUT", "file://localhost/in_file2.txt"),
                               ("INPUT", "file://localhost/in_file3.txt"), ("OUTPUT", "file://localhost/out_file1.txt"),
                               ("OUTPUT", "file://localhost/out_file2.txt")})
        self.assertEqual(h.sql_scalar(self.db, "SELECT state FROM runs WHERE uuid = %s" % q(ru)), "COMPLETED")
        self.assertEqual(h.sql_count(self.db, "FROM events WHERE run_uuid = %s" % q(ru)), 2)

    def _cll_rows(self, out_ns, out_name):
        return h.sql_json(self.db, """
            SELECT cl.output_field, i.namespace AS in_ns, i.name AS in_name, cl.input_field,
                   cl.transformation_description, cl.transformation_type, cl.transformations
              FROM column_lineage cl JOIN datasets o ON o.id = cl.output_dataset_id
              JOIN datasets i ON i.id = cl.input_dataset_id
             WHERE o.namespace = %s AND o.name = %s""" % (q(out_ns), q(out_name)))

    @staticmethod
    def _expected_cll(facet):
        exp = {}
        for field, spec in (facet.get("fields") or {}).items():
            for inf in spec.get("inputFields") or []:
                exp[(field, inf["namespace"], inf["name"], inf["field"])] = (inf, spec)
        for inf in facet.get("dataset") or []:
            exp[(None, inf["namespace"], inf["name"], inf["field"])] = (inf, {})
        return exp

    def test_spark_cll_05_to_08_column_lineage(self):
        labels = ["ol_spark__cll_0%d_%s" % (i, s) for i, s in (
            (5, "ctas_start_columnLineage"), (6, "ctas_running"), (7, "ctas_running_outputStatistics"),
            (8, "ctas_complete_columnLineage"))]
        exp = {}
        for lb in labels:
            self.assertIn(lb, FIXTURES)
            self.ingest(lb)
            for o in FIXTURES[lb][2]["outputs"]:
                cl = _facets(o).get("columnLineage")
                if cl:
                    self.assertEqual((o["namespace"], o["name"]), ("file", "/tmp/cll_test/tbl1"))
                    exp.update(self._expected_cll(cl))
        self.assertGreaterEqual(len(exp), 5)
        rows = self._cll_rows("file", "/tmp/cll_test/tbl1")
        got = {(r["output_field"], r["in_ns"], r["in_name"], r["input_field"]): r for r in rows}
        self.assertEqual(set(got), set(exp), "column_lineage rows of file:/tmp/cll_test/tbl1")
        for k, (inf, _spec) in exp.items():
            self.assertEqual(got[k]["transformations"], inf.get("transformations"),
                             "transformations of %s" % (k,))
        # and the run of 05..08 is COMPLETED with both sources as inputs
        ru = "019127df-0850-72bc-b214-b255290588a6"
        self.assertEqual(h.sql_scalar(self.db, "SELECT state FROM runs WHERE uuid = %s" % q(ru)), "COMPLETED")
        ins = h.sql_json(self.db, "SELECT d.name FROM run_io ri JOIN datasets d ON d.id = ri.dataset_id "
                                  "WHERE ri.run_uuid = %s AND ri.io_type = 'INPUT'" % q(ru))
        self.assertEqual({r["name"] for r in ins}, {"/tmp/cll_test/cll_source1", "/tmp/cll_test/cll_source2"})

    def test_airflow_column_lineage_deprecated_fields(self):
        lb = "ol_airflow__task_BQ_upload_complete_columnLineage"
        self.ingest(lb)
        o = FIXTURES[lb][2]["outputs"][0]
        exp = self._expected_cll(o["facets"]["columnLineage"])
        rows = self._cll_rows(o["namespace"], o["name"])
        got = {(r["output_field"], r["in_ns"], r["in_name"], r["input_field"]): r for r in rows}
        self.assertEqual(set(got), set(exp))
        for k, (_inf, spec) in exp.items():
            self.assertEqual(got[k]["transformation_description"], spec.get("transformationDescription"), k)
            self.assertEqual(got[k]["transformation_type"], spec.get("transformationType"), k)

    def test_dataproc_hive_symlinks(self):
        self.ingest("ol_spark__dataproc_insert_hive_start")
        rows = h.sql_json(self.db, "SELECT d.name, s.namespace, s.name AS alias, s.type FROM dataset_symlinks s "
                                   "JOIN datasets d ON d.id = s.dataset_id WHERE d.namespace = "
                                   "'hdfs://dataproc-producer-test-m'")
        got = {(r["name"], r["namespace"], r["alias"], r["type"]) for r in rows}
        self.assertIn(("/user/hive/warehouse/t1", "hive://dataproc-producer-test-m:9083", "default.t1", "TABLE"), got)
        self.assertIn(("/user/hive/warehouse/t2", "hive://dataproc-producer-test-m:9083", "default.t2", "TABLE"), got)

    def test_nonuuid_runid_stored_as_v3(self):
        self.ingest("ol_compat__simple_run_event_nonuuid_runid")
        v3 = h.uuid_v3_of("run_id")
        self.assertEqual(v3, "0acf093b-3c88-3560-8dc6-22a33921d360")
        rows = h.sql_json(self.db, "SELECT r.uuid, r.state, j.namespace, j.name FROM runs r JOIN jobs j "
                                   "ON j.id = r.job_id WHERE r.uuid = %s" % q(v3))
        self.assertEqual(rows, [{"uuid": v3, "state": "COMPLETED", "namespace": "job_namespace", "name": "job_name"}])
        self.assertEqual(h.sql_count(self.db, "FROM events WHERE run_uuid = %s" % q(v3)), 1)

    def test_run_event_with_dataset_key_is_a_run_event(self):
        self.ingest("ol_spec__example_full_event")
        self.assertEqual(h.sql_scalar(self.db, "SELECT string_agg(kind, ',') FROM events WHERE run_uuid = "
                                               "'f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9a9'"), "RUN_EVENT")
        self.assertEqual(h.sql_count(self.db, "FROM datasets WHERE namespace = '123' AND name = '1'"), 0,
                         "a RunEvent's stray 'dataset' key must not create a dataset")

    def test_naive_event_time_is_utc(self):
        self.ingest("marquez_open_lineage__event_required_no_timezone")
        rows = h.sql_json(self.db, "SELECT %s AS t FROM events WHERE run_uuid = '43d7db3b-8984-4cda-b237-8c6919b36670'"
                          % h.ts_sql("event_time"))
        self.assertIn({"t": "2020-12-28T19:51:01.641499"}, rows)

    def test_fragment_column_lineage_with_dataset_level_entries(self):
        frag = json.loads(h.load_event_file("spec__facet_fragment_ColumnLineageDatasetFacet_2.json"))
        out = {"namespace": "s3://test-bucket", "name": h.uniq("/iceberg_warehouse/out"), "facets": frag}
        src = {"namespace": "s3://test-bucket", "name": "/iceberg_warehouse/some-database/people"}
        ev = h.make_run_event(event_type="COMPLETE", inputs=[src], outputs=[out])
        self.assertCreated(self.server.post_json(ev))
        exp = self._expected_cll(frag["columnLineage"])
        rows = self._cll_rows(out["namespace"], out["name"])
        got = {(r["output_field"], r["in_ns"], r["in_name"], r["input_field"]) for r in rows}
        self.assertEqual(got, set(exp))
        self.assertIn((None, "s3://test-bucket", "/iceberg_warehouse/some-database/people", "age"), got)

    def test_fragment_parent_with_root(self):
        frag = json.loads(h.load_event_file("spec__facet_fragment_ParentRunFacet_2_root.json"))
        ev = h.make_run_event(event_type="START", namespace="airflow", job="child_task", run_facets=frag)
        self.assertCreated(self.server.post_json(ev))
        rows = h.sql_json(self.db, "SELECT r.parent_run_uuid, j.name FROM runs r JOIN jobs j ON j.id = r.job_id "
                                   "WHERE r.uuid = %s" % q(ev["run"]["runId"]))
        self.assertEqual(rows, [{"parent_run_uuid": "f99310b4-3c3c-1a1a-2b2b-c1b95c24ff11",
                                 "name": "my_dag.my_task.child_task"}])
        self.assertEqual(h.sql_json(self.db, "SELECT facet FROM run_facets WHERE run_uuid = %s AND name = 'parent'"
                                    % q(ev["run"]["runId"])), [{"facet": frag["parent"]}])

    def test_zz_final_run_states(self):
        """After every COMPLETE fixture: each run is in the state of its latest terminal event."""
        self.ingest_all()
        by_run = {}
        for desc, _raw, ev in FIXTURES.values():
            if h.event_kind(ev) == "RUN_EVENT":
                by_run.setdefault(h.run_uuid_of(ev["run"]["runId"]), []).append((desc, ev))
        states = {r["uuid"]: r["state"] for r in h.sql_json(self.db, "SELECT uuid, state FROM runs")}
        checked = 0
        for ru, evs in sorted(by_run.items()):
            types = [(h.parse_event_time(e["eventTime"]), (e.get("eventType") or "").upper()) for _d, e in evs]
            terminal = [t for t in types if t[1] in ("COMPLETE", "FAIL", "ABORT")]
            if terminal:
                last = max(terminal)
                if any(t[0] > last[0] for t in types if t[1] not in ("COMPLETE", "FAIL", "ABORT")):
                    continue
                exp = h.STATE_OF[last[1]]
            elif types and all(t[1] in ("START", "RUNNING") for t in types):
                exp = "RUNNING"
            else:
                continue
            with self.subTest(run=ru, fixtures=[d for d, _e in evs]):
                self.assertEqual(states.get(ru), exp)
                checked += 1
        self.assertGreaterEqual(checked, 15)
        # every fixture is still readable after the others were ingested
        for label in sorted(FIXTURES):
            with self.subTest(fixture=FIXTURES[label][0]):
                self.verify(label)


def _make_fixture_test(label):
    def test(self):
        self.ingest(label)
        self.verify(label)
    test.__doc__ = "%s ingests with 201 and reads back" % FIXTURES[label][0]
    return test


for _label_ in FIXTURES:
    setattr(FixtureIngestTest, "test_fixture_" + _label_, _make_fixture_test(_label_))


class MarquezSeedTest(h.ServerTestCase):
    """docker/metadata.template.json (26 events, food_delivery) posted one by one like seed.sh."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start = h.now_utc().replace(microsecond=0)
        cls.events = h.marquez_seed_events(cls.start)
        cls.responses = [cls.server.post_json(ev) for ev in cls.events]

    def test_all_201(self):
        self.assertEqual(len(self.events), 26)
        for i, r in enumerate(self.responses):
            with self.subTest(i=i):
                self.assertCreated(r)
        self.assertEqual(h.sql_count(self.db, "FROM events"), 26)

    def test_namespace(self):
        self.assertEqual(h.sql_count(self.db, "FROM namespaces WHERE name = 'food_delivery'"), 1)

    def test_jobs(self):
        exp = {e["job"]["name"] for e in self.events}
        got = {r["name"] for r in h.sql_json(self.db, "SELECT name FROM jobs WHERE namespace = 'food_delivery'")}
        self.assertEqual(got, exp)
        self.assertEqual(len(exp), 13)

    def test_datasets_and_fields(self):
        exp = {}
        cll_refs = set()
        for e in self.events:
            for _io, d in _datasets_of(e):
                self.assertEqual(d["namespace"], "food_delivery")
                sch = _facets(d).get("schema")
                if sch:
                    exp[d["name"]] = [f["name"] for f in sch["fields"]]
                else:
                    exp.setdefault(d["name"], None)
                for spec in (_facets(d).get("columnLineage") or {}).get("fields", {}).values():
                    for inf in spec.get("inputFields") or []:
                        cll_refs.add(inf["name"])
        got = h.sql_json(self.db, "SELECT d.name, (SELECT json_agg(f.name ORDER BY f.ordinal) FROM dataset_fields f "
                                  "WHERE f.dataset_id = d.id) AS fields FROM datasets d WHERE d.namespace = 'food_delivery'")
        names = {r["name"] for r in got}
        self.assertEqual(len(exp), 13)
        self.assertLessEqual(set(exp), names, "every input/output is a dataset")
        # the only other datasets are column-lineage inputs (the template names a 'public.menu_item_id')
        self.assertLessEqual(names - set(exp), cll_refs - set(exp))
        for r in got:
            if exp.get(r["name"]):
                self.assertEqual(r["fields"], exp[r["name"]], "dataset_fields of %s in ordinal order" % r["name"])

    def test_run_states_and_times(self):
        runs = {}
        for e in self.events:
            runs.setdefault(e["run"]["runId"], []).append(e)
        rows = {r["uuid"]: r for r in h.sql_json(self.db, """
            SELECT r.uuid, r.state, j.name AS job, %s AS started_at, %s AS ended_at, j.latest_run_uuid
              FROM runs r JOIN jobs j ON j.id = r.job_id""" % (h.ts_sql("r.started_at"), h.ts_sql("r.ended_at")))}
        self.assertEqual(set(rows), set(runs))
        for rid, evs in runs.items():
            with self.subTest(run=rid):
                last = max(evs, key=lambda e: h.parse_event_time(e["eventTime"]))
                self.assertEqual(rows[rid]["state"], h.STATE_OF[last["eventType"]])
                self.assertEqual(rows[rid]["job"], evs[0]["job"]["name"])
                self.assertEqual(rows[rid]["latest_run_uuid"], rid)
                start = [e for e in evs if e["eventType"] == "START"][0]
                end = [e for e in evs if e["eventType"] in ("COMPLETE", "FAIL", "ABORT")][0]
                self.assertEqual(rows[rid]["started_at"], h.utc_text(h.parse_event_time(start["eventTime"])))
                self.assertEqual(rows[rid]["ended_at"], h.utc_text(h.parse_event_time(end["eventTime"])))
        self.assertEqual(h.sql_count(self.db, "FROM run_states"), 26)

    def test_job_io_edges(self):
        exp = set()
        for e in self.events:
            for io, d in _datasets_of(e):
                exp.add((e["job"]["name"], io, d["name"]))
        got = {(r["job"], r["io_type"], r["name"]) for r in h.sql_json(self.db, """
            SELECT j.name AS job, io.io_type, d.name FROM job_io io JOIN jobs j ON j.id = io.job_id
              JOIN datasets d ON d.id = io.dataset_id WHERE j.namespace = 'food_delivery'""")}
        self.assertEqual(got, exp)

    def test_run_io_kept_after_empty_complete(self):
        """START carries the datasets, COMPLETE none: run_io keeps what START said."""
        exp = set()
        for e in self.events:
            for io, d in _datasets_of(e):
                exp.add((e["run"]["runId"], io, d["name"]))
        got = {(r["run_uuid"], r["io_type"], r["name"]) for r in h.sql_json(self.db, """
            SELECT ri.run_uuid, ri.io_type, d.name FROM run_io ri JOIN datasets d ON d.id = ri.dataset_id""")}
        self.assertEqual(got, exp)

    def test_job_facets(self):
        rows = h.sql_json(self.db, "SELECT j.name AS job, f.name, f.facet FROM job_facets f JOIN jobs j "
                                   "ON j.id = f.job_id WHERE j.namespace = 'food_delivery'")
        got = {(r["job"], r["name"]): r["facet"] for r in rows}
        for e in self.events:
            for k, v in _facets(e["job"]).items():
                self.assertEqual(got.get((e["job"]["name"], k)), v, "job facet %s of %s" % (k, e["job"]["name"]))
        nominal = h.sql_count(self.db, "FROM run_facets WHERE name = 'nominalTime'")
        self.assertEqual(nominal, 13)


if __name__ == "__main__":
    unittest.main()
