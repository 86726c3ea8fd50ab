/* store/store_read_int.h - what the read-query files (store/store_read_*) share: the SQL
 * fragments that build Marquez's JSON shapes, and the row-copying helper.
 *
 * Each fragment is one SQL expression that expects fixed table aliases in scope:
 *   STORE_SQL_RUN_JSON       r  = runs row, rj = the run's jobs row
 *   STORE_SQL_DATASET_JSON   d  = datasets row, fv = its current dataset_versions row (LEFT JOIN),
 *                            want_cl = boolean column (include columnLineage)
 *   STORE_SQL_DSVERSION_JSON d  = datasets row, fv = the dataset_versions row shown
 *   STORE_SQL_JOB_JSON       j  = jobs row, lr and jio of STORE_SQL_JOBS_CTES (STORE_SQL_JOB_FROM)
 *   STORE_SQL_JOBVERSION_JSON jv = job_versions row, j = its jobs row
 *   STORE_SQL_NAMESPACE_JSON n, STORE_SQL_SOURCE_JSON src
 * Invariants:
 *  1. Keys are written in Marquez's (Jackson field declaration) order; every key is present, null
 *     when unknown; timestamps go through api_ts() (migrations/0002_marquez_api.sql). Keys lineaged
 *     adds come after Marquez's (a Dataset's datasetType and subType: migrations/0008_ml_lineage.sql).
 *  2. A statement over a page of N rows is still one statement: related rows are reached by key from
 *     the row in scope (correlated subqueries over indexed keys), or, for lists of runs and jobs,
 *     set-wise for the whole page (STORE_SQL_RUNS_CTES, STORE_SQL_JOBS_CTES), which build the same
 *     objects from one STORE_SQL_RUN_OBJECT definition.
 *  3. Fragments are string literals only: nothing from a request is ever pasted into SQL.
 * Included only by the store/store_read files and store/store_nodes.c (lineage node data). */
#ifndef LINEAGED_STORE_READ_INT_H
#define LINEAGED_STORE_READ_INT_H

#include "store_int.h"
#include "store_read.h"

/* Runs st and copies the first row's first n columns into out[] (arena strings, NULL for SQL NULL).
 * Columns whose bit is set in json_mask are JSON texts and are copied without insignificant
 * whitespace. *found (may be NULL) tells whether there was a row; without one, out[] is all NULL.
 * Returns 0, or -1 with e set. */
int store_read_row(struct store *s, struct arena *a, const struct store_stmt *st, const char *const *params,
                   const char **out, int n, unsigned json_mask, bool *found, struct err *e);

/* The first column of the first row as compact JSON (NULL when no row or SQL NULL). 0 or -1. */
int store_read_json(struct store *s, struct arena *a, const struct store_stmt *st, const char *const *params,
                    const char **json_out, struct err *e);

/* store_read_json through store_exec_planned: planned for these values each time. */
int store_read_json_planned(struct store *s, struct arena *a, const struct store_stmt *st,
                            const char *const *params, const char **json_out, struct err *e);

/* Decimal text of v in the arena (for $n parameters). */
const char *store_read_long(struct arena *a, long v);

/* A JSON object of facets from a facet table alias f (name, facet), sorted by name; '{}' when none. */
#define STORE_SQL_FACETS_OF(table, key_condition)                                                            \
    "coalesce((SELECT json_object_agg(f.name, f.facet ORDER BY f.name) FROM " table " f"                     \
    " WHERE " key_condition " AND f.facet IS NOT NULL), '{}')"

/* One entry of inputDatasetVersions / outputDatasetVersions: run_io row io, datasets row d, facets. */
#define STORE_SQL_RUN_IO_ITEM(facets)                                                                        \
    "json_build_object('datasetVersionId', json_build_object('namespace', d.namespace, 'name', d.name,"      \
    "  'version', io.dataset_version), 'facets', " facets ")"

/* inputDatasetVersions / outputDatasetVersions of run r. */
#define STORE_SQL_RUN_IO(io_type)                                                                            \
    "coalesce((SELECT json_agg(" STORE_SQL_RUN_IO_ITEM(                                                       \
        "coalesce((SELECT json_object_agg(f.name, f.facet ORDER BY f.name) FROM run_io_facets f"             \
        "   WHERE f.run_uuid = io.run_uuid AND f.io_type = io.io_type AND f.dataset_id = io.dataset_id), '{}')") \
    "  ORDER BY d.namespace, d.name)"                                                                        \
    " FROM run_io io JOIN datasets d ON d.id = io.dataset_id"                                                \
    " WHERE io.run_uuid = r.uuid AND io.io_type = '" io_type "' AND io.dataset_version IS NOT NULL), '[]')"

/* Marquez's Run (runs row r, its jobs row rj) from the expressions of its parent run fields, dataset
 * versions and facets: the one definition behind the per-run form (STORE_SQL_RUN_JSON) and the
 * set-wise one (STORE_SQL_RUNS_CTES). args is Marquez's OpenLineageDao.createRunArgs: nominal times,
 * then the parent run and job. */
#define STORE_SQL_RUN_OBJECT(parent_run, parent_name, parent_ns, inputs, outputs, facets)                  \
    "json_build_object("                                                                                     \
    " 'id', r.uuid,"                                                                                         \
    " 'createdAt', api_ts(r.created_at),"                                                                    \
    " 'updatedAt', api_ts(r.updated_at),"                                                                    \
    " 'nominalStartTime', api_ts(r.nominal_start_time),"                                                     \
    " 'nominalEndTime', api_ts(r.nominal_end_time),"                                                         \
    " 'state', r.state,"                                                                                     \
    " 'startedAt', api_ts(r.started_at),"                                                                    \
    " 'endedAt', api_ts(r.ended_at),"                                                                        \
    " 'durationMs', trunc(extract(epoch FROM r.ended_at - r.started_at) * 1000)::bigint,"                    \
    " 'args', json_strip_nulls(json_build_object('nominal_start_time', api_java_ts(r.nominal_start_time),"   \
    "  'nominal_end_time', api_java_ts(r.nominal_end_time), 'run_id', " parent_run ", 'name', " parent_name  \
    ", 'namespace', " parent_ns ")),"                                                                        \
    " 'jobVersion', CASE WHEN r.job_version IS NOT NULL THEN json_build_object('namespace', rj.namespace,"   \
    "  'name', rj.name, 'version', r.job_version) END,"                                                      \
    " 'inputDatasetVersions', " inputs ", 'outputDatasetVersions', " outputs ", 'facets', " facets ")"

/* A field of run r's parent facet, per run. */
#define STORE_SQL_PARENT_FIELD(path)                                                                         \
    "(SELECT f.facet #>> '" path "' FROM run_facets f WHERE f.run_uuid = r.uuid AND f.name = 'parent')"

/* Run r as one expression (subqueries per run: for single objects). */
#define STORE_SQL_RUN_JSON                                                                                   \
    STORE_SQL_RUN_OBJECT(STORE_SQL_PARENT_FIELD("{run,runId}"), STORE_SQL_PARENT_FIELD("{job,name}"),       \
                         STORE_SQL_PARENT_FIELD("{job,namespace}"), STORE_SQL_RUN_IO("INPUT"),              \
                         STORE_SQL_RUN_IO("OUTPUT"), STORE_SQL_FACETS_OF("run_facets", "f.run_uuid = r.uuid"))

/* CTEs after a CTE k that has each run of a set once (column uuid): rjs (uuid, j) is each run's Run.
 * Built set-wise, one join per related table for the whole set (iof: input/output facets, rio: dataset
 * versions, rf: facets and parent fields), instead of a dozen subqueries per run: on a page of 1,000
 * runs that is most of the statement's time. */
#define STORE_SQL_RUNS_CTES                                                                                  \
    " iof AS (SELECT f.run_uuid, f.io_type, f.dataset_id,"                                                   \
    "  json_object_agg(f.name, f.facet ORDER BY f.name) AS facets"                                           \
    "  FROM k JOIN run_io_facets f ON f.run_uuid = k.uuid GROUP BY 1, 2, 3),"                                \
    " rio AS (SELECT io.run_uuid,"                                                                           \
    "  json_agg(" STORE_SQL_RUN_IO_ITEM("coalesce(iof.facets, '{}')") " ORDER BY d.namespace, d.name)"      \
    "   FILTER (WHERE io.io_type = 'INPUT') AS inputs,"                                                      \
    "  json_agg(" STORE_SQL_RUN_IO_ITEM("coalesce(iof.facets, '{}')") " ORDER BY d.namespace, d.name)"      \
    "   FILTER (WHERE io.io_type = 'OUTPUT') AS outputs"                                                     \
    "  FROM k JOIN run_io io ON io.run_uuid = k.uuid JOIN datasets d ON d.id = io.dataset_id"                \
    "  LEFT JOIN iof ON iof.run_uuid = io.run_uuid AND iof.io_type = io.io_type AND iof.dataset_id = io.dataset_id" \
    "  WHERE io.dataset_version IS NOT NULL GROUP BY io.run_uuid),"                                          \
    " rf AS (SELECT f.run_uuid,"                                                                             \
    "  json_object_agg(f.name, f.facet ORDER BY f.name) FILTER (WHERE f.facet IS NOT NULL) AS facets,"       \
    "  min(f.facet #>> '{run,runId}') FILTER (WHERE f.name = 'parent') AS parent_run,"                      \
    "  min(f.facet #>> '{job,name}') FILTER (WHERE f.name = 'parent') AS parent_name,"                      \
    "  min(f.facet #>> '{job,namespace}') FILTER (WHERE f.name = 'parent') AS parent_ns"                    \
    "  FROM k JOIN run_facets f ON f.run_uuid = k.uuid GROUP BY f.run_uuid),"                                \
    " rjs AS (SELECT k.uuid, " STORE_SQL_RUN_OBJECT("rf.parent_run", "rf.parent_name", "rf.parent_ns",      \
                                                      "coalesce(rio.inputs, '[]')",                          \
                                                      "coalesce(rio.outputs, '[]')",                         \
                                                      "coalesce(rf.facets, '{}')") " AS j"                   \
    "  FROM k JOIN runs r ON r.uuid = k.uuid JOIN jobs rj ON rj.id = r.job_id"                               \
    "  LEFT JOIN rio ON rio.run_uuid = k.uuid LEFT JOIN rf ON rf.run_uuid = k.uuid)"

/* Fields of version fv with the field tags of dataset d, in schema order. */
#define STORE_SQL_FIELDS_JSON                                                                                \
    "coalesce((SELECT json_agg(json_build_object('name', x.fe->>'name', 'type', x.fe->>'type',"              \
    "  'tags', coalesce((SELECT json_agg(ft.tag ORDER BY ft.tag) FROM dataset_field_tags ft"                 \
    "   WHERE ft.dataset_id = d.id AND ft.field = x.fe->>'name'), '[]'),"                                    \
    "  'description', x.fe->>'description') ORDER BY x.o)"                                                   \
    " FROM jsonb_array_elements(CASE WHEN jsonb_typeof(fv.fields) = 'array' THEN fv.fields END)"             \
    "  WITH ORDINALITY AS x(fe, o)), '[]')"

#define STORE_SQL_DATASET_TAGS                                                                               \
    "coalesce((SELECT json_agg(t.tag ORDER BY t.tag) FROM dataset_tags t WHERE t.dataset_id = d.id), '[]')"

/* Dataset.columnLineage: one entry per output field, its input fields sorted; null when none. */
#define STORE_SQL_COLUMN_LINEAGE                                                                             \
    "(SELECT json_agg(json_build_object('name', c.output_field, 'inputFields', c.inputs,"                    \
    "  'transformationDescription', c.inputs->0->>'transformationDescription',"                              \
    "  'transformationType', c.inputs->0->>'transformationType') ORDER BY c.output_field)"                   \
    " FROM (SELECT cl.output_field, json_agg(json_build_object('namespace', i.namespace, 'dataset', i.name," \
    "   'field', cl.input_field, 'transformationDescription', cl.transformation_description,"                \
    "   'transformationType', cl.transformation_type) ORDER BY i.namespace, i.name, cl.input_field)"         \
    "   AS inputs"                                                                                           \
    "  FROM column_lineage cl JOIN datasets i ON i.id = cl.input_dataset_id"                                 \
    "  WHERE cl.output_dataset_id = d.id AND cl.output_field IS NOT NULL GROUP BY cl.output_field) c)"

#define STORE_SQL_DATASET_JSON                                                                               \
    "json_build_object("                                                                                     \
    " 'id', json_build_object('namespace', d.namespace, 'name', d.name),"                                    \
    " 'type', d.type, 'name', d.name, 'physicalName', d.physical_name,"                                      \
    " 'createdAt', api_ts(d.created_at), 'updatedAt', api_ts(d.updated_at),"                                 \
    " 'namespace', d.namespace, 'sourceName', d.source_name,"                                                \
    " 'fields', " STORE_SQL_FIELDS_JSON ","                                                                  \
    " 'tags', " STORE_SQL_DATASET_TAGS ","                                                                   \
    " 'lastModifiedAt', NULL,"                                                                               \
    " 'lastLifecycleState', coalesce(fv.lifecycle_state, d.lifecycle_state),"                                \
    " 'description', d.description,"                                                                         \
    " 'currentVersion', d.current_version,"                                                                  \
    " 'columnLineage', CASE WHEN want_cl THEN " STORE_SQL_COLUMN_LINEAGE " END,"                             \
    " 'facets', " STORE_SQL_FACETS_OF(                                                                       \
        "dataset_facets",                                                                                    \
        "f.dataset_id = d.id") ","                                                                           \
                               " 'deleted', false, 'datasetType', d.dataset_type, 'subType', d.sub_type)"

/* The dataset facets of the events rows of `source` (event_time, body; alias ev) for dataset id
 * `dataset`: (`extra` k, v, t) rows of every facet an input, output or DatasetEvent dataset carried
 * under any name of that dataset. */
#define STORE_SQL_EVENT_DATASET_FACETS(extra, source, dataset)                                               \
    " SELECT " extra "fe.key AS k, fe.value AS v, ev.event_time AS t FROM " source " ev"                     \
    "  CROSS JOIN LATERAL jsonb_array_elements("                                                             \
    "   CASE WHEN jsonb_typeof(ev.body->'inputs') = 'array' THEN ev.body->'inputs' ELSE '[]' END"            \
    "   || CASE WHEN jsonb_typeof(ev.body->'outputs') = 'array' THEN ev.body->'outputs' ELSE '[]' END"       \
    "   || CASE WHEN jsonb_typeof(ev.body->'dataset') = 'object' THEN jsonb_build_array(ev.body->'dataset')" \
    "      ELSE '[]' END) AS ds(x)"                                                                          \
    "  CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(ds.x->'facets') = 'object'"                      \
    "   THEN ds.x->'facets' ELSE '{}' END) AS fe"                                                            \
    "  WHERE EXISTS (SELECT 1 FROM dataset_names nm WHERE nm.ref_namespace = ds.x->>'namespace'"            \
    "    AND nm.ref_name = ds.x->>'name' AND nm.id = " dataset ")"                                           \
    "   AND jsonb_typeof(fe.value) = 'object' AND fe.value->'_deleted' IS DISTINCT FROM 'true'::jsonb"

/* The dataset facets the events that made version fv carried (every event of the run that wrote it;
 * for a version no run wrote, the events at its creation time) under any name of dataset d, the later
 * eventTime, then the greater value, winning per facet name; a version the producer named that no
 * event's dataset facets name (an input named it in its inputFacets) still shows it as the version
 * facet. */
#define STORE_SQL_VERSION_FACETS                                                                             \
    "coalesce((SELECT json_object_agg(z.k, z.v ORDER BY z.k) FROM ("                                         \
    "  SELECT DISTINCT ON (y.k) y.k, y.v FROM ("                                                             \
    STORE_SQL_EVENT_DATASET_FACETS("", "events", "d.id")                                                     \
    "    AND ((fv.run_uuid IS NULL AND ev.event_time = fv.created_at) OR ev.run_uuid = fv.run_uuid)"        \
    "   UNION ALL SELECT 'version', jsonb_build_object('datasetVersion', fv.producer_version),"              \
    "    '-infinity' WHERE fv.producer_version IS NOT NULL) y"                                              \
    "  ORDER BY y.k, y.t DESC, y.v DESC) z), '{}')"

/* Marquez's schema version: UUIDv3 of "namespace:name:<sorted distinct name:type pairs>". */
#define STORE_SQL_SCHEMA_VERSION                                                                             \
    "uuid_v3_md5(d.namespace || ':' || d.name || ':' || coalesce((SELECT string_agg(z.f, ':'"                \
    "  ORDER BY z.n COLLATE \"C\", z.t COLLATE \"C\" NULLS FIRST) FROM (SELECT DISTINCT x->>'name' AS n,"    \
    "  x->>'type' AS t, concat_ws(':', x->>'name', x->>'type') AS f"                                         \
    "  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(fv.fields) = 'array' THEN fv.fields END) x) z),"     \
    "  ''))"

/* Marquez's DatasetVersion of version fv of dataset d, given its createdByRun and facets expressions. */
#define STORE_SQL_DSVERSION_OBJECT(created_by_run, facets)                                                   \
    "json_build_object("                                                                                     \
    " 'id', json_build_object('namespace', d.namespace, 'name', d.name),"                                    \
    " 'type', d.type, 'name', d.name, 'physicalName', d.physical_name,"                                      \
    " 'createdAt', api_ts(fv.created_at), 'version', fv.version,"                                            \
    " 'namespace', d.namespace, 'sourceName', d.source_name,"                                                \
    " 'fields', " STORE_SQL_FIELDS_JSON ","                                                                  \
    " 'tags', " STORE_SQL_DATASET_TAGS ","                                                                   \
    " 'lifecycleState', fv.lifecycle_state,"                                                                 \
    " 'description', d.description,"                                                                         \
    " 'currentSchemaVersion', " STORE_SQL_SCHEMA_VERSION ","                                                 \
    " 'createdByRun', " created_by_run ","                                                                   \
    " 'facets', " facets ")"

#define STORE_SQL_DSVERSION_JSON                                                                             \
    STORE_SQL_DSVERSION_OBJECT("(SELECT " STORE_SQL_RUN_JSON " FROM runs r JOIN jobs rj ON rj.id = r.job_id" \
                               "  WHERE r.uuid = fv.run_uuid)",                                              \
                               STORE_SQL_VERSION_FACETS)

/* CTEs after a CTE page (id, o) of job ids in answer order, for STORE_SQL_JOB_JSON over
 * STORE_SQL_JOB_FROM: k = each job's latest runs (at most 10, newest first by their first event,
 * through the index runs_job), lr = their Runs as a JSON array, the first one and its uuid; jio = the
 * inputs and outputs of that latest run, or of every job_io edge when the job never ran (JobEvents). */
#define STORE_SQL_JOBS_CTES                                                                                  \
    " k AS (SELECT p.id AS job_id, r0.uuid, r0.o FROM page p CROSS JOIN LATERAL (SELECT r0.uuid,"            \
    "  row_number() OVER (ORDER BY r0.created_at DESC, r0.uuid) AS o FROM runs r0 WHERE r0.job_id = p.id"    \
    "  ORDER BY r0.created_at DESC, r0.uuid LIMIT 10) r0),"                                                  \
    STORE_SQL_RUNS_CTES ","                                                                                  \
    " lr AS (SELECT k.job_id, json_agg(rjs.j ORDER BY k.o) AS runs,"                                         \
    "  (array_agg(rjs.j ORDER BY k.o))[1] AS latest_run, (array_agg(k.uuid ORDER BY k.o))[1] AS latest"     \
    "  FROM k JOIN rjs ON rjs.uuid = k.uuid GROUP BY k.job_id),"                                             \
    " jio AS (SELECT z.job_id,"                                                                              \
    "  json_agg(json_build_object('namespace', z.namespace, 'name', z.name) ORDER BY z.namespace, z.name)"   \
    "   FILTER (WHERE z.io = 'INPUT') AS inputs,"                                                            \
    "  json_agg(json_build_object('namespace', z.namespace, 'name', z.name) ORDER BY z.namespace, z.name)"   \
    "   FILTER (WHERE z.io = 'OUTPUT') AS outputs"                                                           \
    "  FROM (SELECT lr.job_id, io.io_type AS io, d.namespace, d.name"                                        \
    "   FROM lr JOIN run_io io ON io.run_uuid = lr.latest JOIN datasets d ON d.id = io.dataset_id"           \
    "   UNION ALL SELECT p.id, ji.io_type, d.namespace, d.name"                                              \
    "   FROM page p JOIN job_io ji ON ji.job_id = p.id JOIN datasets d ON d.id = ji.dataset_id"              \
    "   WHERE NOT EXISTS (SELECT 1 FROM k WHERE k.job_id = p.id)) z GROUP BY z.job_id)"

#define STORE_SQL_JOB_FROM                                                                                   \
    " FROM page JOIN jobs j ON j.id = page.id LEFT JOIN lr ON lr.job_id = j.id LEFT JOIN jio ON jio.job_id = j.id"

#define STORE_SQL_JOB_JSON                                                                                   \
    "json_build_object("                                                                                     \
    " 'id', json_build_object('namespace', j.namespace, 'name', j.name),"                                    \
    " 'type', j.type, 'name', j.name, 'simpleName', j.simple_name,"                                          \
    " 'parentJobName', (SELECT p.name FROM jobs p WHERE p.id = j.parent_job_id),"                            \
    " 'parentJobUuid', (SELECT uuid_v3_md5('job:' || p.namespace || ':' || p.name) FROM jobs p"              \
    "  WHERE p.id = j.parent_job_id),"                                                                       \
    " 'createdAt', api_ts(j.created_at), 'updatedAt', api_ts(j.updated_at),"                                 \
    " 'namespace', j.namespace,"                                                                             \
    " 'inputs', coalesce(jio.inputs, '[]'), 'outputs', coalesce(jio.outputs, '[]'),"                         \
    " 'location', j.location, 'description', j.description,"                                                 \
    " 'latestRun', lr.latest_run, 'latestRuns', lr.runs,"                                                       \
    " 'facets', " STORE_SQL_FACETS_OF(                                                                       \
        "job_facets",                                                                                        \
        "f.job_id = j.id") ","                                                                               \
                           " 'currentVersion', j.current_version,"                                           \
                           " 'labels', (SELECT coalesce(json_agg(l.v ORDER BY l.o), '[]') FROM (SELECT "     \
                           "(SELECT f.facet"                                                                 \
                           "  FROM job_facets f WHERE f.job_id = j.id AND f.name = 'jobType') AS jt) t,"     \
                           "  LATERAL (VALUES (1, t.jt->>'jobType'), (2, t.jt->>'integration')) AS l(o, v) " \
                           "WHERE l.v IS NOT NULL),"                                                         \
                           " 'tags', coalesce((SELECT json_agg(t.tag ORDER BY t.tag) FROM job_tags t WHERE " \
                           "t.job_id = j.id), '[]'))"

/* [{namespace,name}] from a jsonb array column of job_versions, in stored order. */
#define STORE_SQL_DATASET_IDS(column)                                                                        \
    "(SELECT coalesce(json_agg(json_build_object('namespace', x.e->>'namespace', 'name', x.e->>'name')"      \
    "  ORDER BY x.o), '[]') FROM jsonb_array_elements(CASE WHEN jsonb_typeof(" column ") = 'array'"          \
    "  THEN " column " END) WITH ORDINALITY AS x(e, o))"

#define STORE_SQL_JOBVERSION_JSON                                                                            \
    "json_build_object("                                                                                     \
    " 'id', json_build_object('namespace', j.namespace, 'name', j.name, 'version', jv.version),"             \
    " 'name', j.name, 'createdAt', api_ts(jv.created_at), 'version', jv.version,"                            \
    " 'namespace', j.namespace, 'location', jv.location,"                                                    \
    " 'inputs', " STORE_SQL_DATASET_IDS(                                                                     \
        "jv.inputs") ","                                                                                     \
                     " 'outputs', " STORE_SQL_DATASET_IDS(                                                   \
                         "jv.outputs") ","                                                                   \
                                       " 'latestRun', (SELECT " STORE_SQL_RUN_JSON                           \
                                       " FROM runs r JOIN jobs rj ON rj.id = r.job_id"                       \
                                       "  WHERE r.uuid = jv.latest_run_uuid))"

#define STORE_SQL_NAMESPACE_JSON                                                                             \
    "json_build_object('name', n.name, 'createdAt', api_ts(n.created_at), 'updatedAt', "                     \
    "api_ts(n.updated_at),"                                                                                  \
    " 'ownerName', n.owner_name, 'description', n.description, 'isHidden', n.is_hidden)"

#define STORE_SQL_SOURCE_JSON                                                                                \
    "json_build_object('type', src.type, 'name', src.name, 'createdAt', api_ts(src.created_at),"             \
    " 'updatedAt', api_ts(src.updated_at), 'connectionUrl', src.connection_url,"                             \
    " 'description', src.description)"

#endif
