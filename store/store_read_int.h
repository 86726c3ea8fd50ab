/* store/store_read_int.h - what the read-query files (store/store_read_*) share: the SQL
 * fragments that build Marquez's JSON shapes, and the row-copying helper.
 *
 * Each fragment is one SQL expression that expects fixed table aliases in scope:
 *   STORE_SQL_RUN_JSON       r  = runs row, rj = the run's jobs row
 *   STORE_SQL_DATASET_JSON   d  = datasets row, fv = its current dataset_versions row (LEFT JOIN),
 *                            want_cl = boolean column (include columnLineage)
 *   STORE_SQL_DSVERSION_JSON d  = datasets row, fv = the dataset_versions row shown
 *   STORE_SQL_JOB_JSON       j  = jobs row, joined with STORE_SQL_JOB_JOINS (lr, jio)
 *   STORE_SQL_JOBVERSION_JSON jv = job_versions row, j = its jobs row
 *   STORE_SQL_NAMESPACE_JSON n, STORE_SQL_SOURCE_JSON src
 * Invariants:
 *  1. Keys are written in Marquez's (Jackson field declaration) order; every key is present, null
 *     when unknown; timestamps go through api_ts() (migrations/0002_marquez_api.sql). Keys lineaged
 *     adds come after Marquez's (a Dataset's datasetType and subType: migrations/0008_ml_lineage.sql).
 *  2. Related rows are reached by key from the row in scope (correlated subqueries over indexed
 *     keys), so a statement over a page of N rows is still one statement.
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

/* inputDatasetVersions / outputDatasetVersions of run r. */
#define STORE_SQL_RUN_IO(io_type)                                                                            \
    "coalesce((SELECT json_agg(json_build_object("                                                           \
    "  'datasetVersionId', json_build_object('namespace', d.namespace, 'name', d.name,"                      \
    "   'version', io.dataset_version),"                                                                     \
    "  'facets', coalesce((SELECT json_object_agg(f.name, f.facet ORDER BY f.name) FROM run_io_facets f"     \
    "   WHERE f.run_uuid = io.run_uuid AND f.io_type = io.io_type AND f.dataset_id = io.dataset_id), '{}'))" \
    "  ORDER BY d.namespace, d.name)"                                                                        \
    " FROM run_io io JOIN datasets d ON d.id = io.dataset_id"                                                \
    " WHERE io.run_uuid = r.uuid AND io.io_type = '" io_type "' AND io.dataset_version IS NOT NULL), '[]')"

/* Marquez's run args (OpenLineageDao.createRunArgs): nominal times, then the parent run and job. */
#define STORE_SQL_RUN_ARGS                                                                                   \
    "json_strip_nulls(json_build_object('nominal_start_time', api_java_ts(r.nominal_start_time),"            \
    " 'nominal_end_time', api_java_ts(r.nominal_end_time),"                                                  \
    " 'run_id', (SELECT f.facet #>> '{run,runId}' FROM run_facets f"                                         \
    "  WHERE f.run_uuid = r.uuid AND f.name = 'parent'),"                                                    \
    " 'name', (SELECT f.facet #>> '{job,name}' FROM run_facets f"                                            \
    "  WHERE f.run_uuid = r.uuid AND f.name = 'parent'),"                                                    \
    " 'namespace', (SELECT f.facet #>> '{job,namespace}' FROM run_facets f"                                  \
    "  WHERE f.run_uuid = r.uuid AND f.name = 'parent')))"

#define STORE_SQL_RUN_JSON                                                                                   \
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
    " 'args', " STORE_SQL_RUN_ARGS ","                                                                       \
    " 'jobVersion', CASE WHEN r.job_version IS NOT NULL THEN json_build_object('namespace', rj.namespace,"   \
    "  'name', rj.name, 'version', r.job_version) END,"                                                      \
    " 'inputDatasetVersions', " STORE_SQL_RUN_IO(                                                            \
        "INPUT") ","                                                                                         \
                 " 'outputDatasetVersions', " STORE_SQL_RUN_IO(                                              \
                     "OUTPUT") ","                                                                           \
                               " 'facets', " STORE_SQL_FACETS_OF("run_facets", "f.run_uuid = r.uuid") ")"

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

/* The dataset facets the events that made version fv carried (every event of the run that wrote it;
 * for a version no run wrote, the events at its creation time) under any name of dataset d, the later
 * eventTime, then the greater value, winning per facet name; a version the producer named that no
 * event's dataset facets name (an input named it in its inputFacets) still shows it as the version
 * facet. */
#define STORE_SQL_VERSION_FACETS                                                                             \
    "coalesce((SELECT json_object_agg(z.k, z.v ORDER BY z.k) FROM ("                                         \
    "  SELECT DISTINCT ON (y.k) y.k, y.v FROM ("                                                             \
    "   SELECT fe.key AS k, fe.value AS v, ev.event_time AS t FROM events ev"                                \
    "   CROSS JOIN LATERAL jsonb_array_elements("                                                            \
    "    CASE WHEN jsonb_typeof(ev.body->'inputs') = 'array' THEN ev.body->'inputs' ELSE '[]' END"           \
    "    || CASE WHEN jsonb_typeof(ev.body->'outputs') = 'array' THEN ev.body->'outputs' ELSE '[]' END"      \
    "    || CASE WHEN jsonb_typeof(ev.body->'dataset') = 'object' THEN jsonb_build_array(ev.body->'dataset')"\
    "       ELSE '[]' END) AS ds(x)"                                                                         \
    "   CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(ds.x->'facets') = 'object'"                     \
    "    THEN ds.x->'facets' ELSE '{}' END) AS fe"                                                           \
    "   WHERE ((fv.run_uuid IS NULL AND ev.event_time = fv.created_at) OR ev.run_uuid = fv.run_uuid)"        \
    "    AND EXISTS (SELECT 1 FROM dataset_names nm WHERE nm.ref_namespace = ds.x->>'namespace'"            \
    "     AND nm.ref_name = ds.x->>'name' AND nm.id = d.id)"                                                 \
    "    AND jsonb_typeof(fe.value) = 'object' AND fe.value->'_deleted' IS DISTINCT FROM 'true'::jsonb"      \
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

#define STORE_SQL_DSVERSION_JSON                                                                             \
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
    " 'createdByRun', (SELECT " STORE_SQL_RUN_JSON " FROM runs r JOIN jobs rj ON rj.id = r.job_id"           \
    "  WHERE r.uuid = fv.run_uuid),"                                                                         \
    " 'facets', " STORE_SQL_VERSION_FACETS ")"

/* Joins that STORE_SQL_JOB_JSON needs after "jobs j": lr = the job's latest runs (at most 10, newest
 * first by their first event, through the index runs_job) as a JSON array and the first one's uuid; jio =
 * inputs and outputs of that latest run, or of every job_io edge when the job never ran (JobEvents). */
#define STORE_SQL_JOB_JOINS                                                                                  \
    " LEFT JOIN LATERAL (SELECT json_agg(" STORE_SQL_RUN_JSON " ORDER BY k.o) AS runs,"                      \
    "  (array_agg(k.uuid ORDER BY k.o))[1] AS latest"                                                        \
    "  FROM (SELECT r0.uuid, row_number() OVER (ORDER BY r0.created_at DESC, r0.uuid) AS o"                  \
    "   FROM runs r0 WHERE r0.job_id = j.id ORDER BY r0.created_at DESC, r0.uuid LIMIT 10) k"                \
    "  JOIN runs r ON r.uuid = k.uuid JOIN jobs rj ON rj.id = r.job_id) lr ON true"                          \
    " LEFT JOIN LATERAL (SELECT"                                                                             \
    "  json_agg(json_build_object('namespace', z.namespace, 'name', z.name) ORDER BY z.namespace, z.name)"   \
    "   FILTER (WHERE z.io = 'INPUT') AS inputs,"                                                            \
    "  json_agg(json_build_object('namespace', z.namespace, 'name', z.name) ORDER BY z.namespace, z.name)"   \
    "   FILTER (WHERE z.io = 'OUTPUT') AS outputs"                                                           \
    "  FROM (SELECT io.io_type AS io, d.namespace, d.name"                                                   \
    "   FROM run_io io JOIN datasets d ON d.id = io.dataset_id"                                              \
    "   WHERE io.run_uuid = lr.latest"                                                                       \
    "   UNION ALL SELECT ji.io_type, d.namespace, d.name"                                                    \
    "   FROM job_io ji JOIN datasets d ON d.id = ji.dataset_id"                                              \
    "   WHERE lr.latest IS NULL AND ji.job_id = j.id) z) jio ON true"

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
    " 'latestRun', lr.runs->0, 'latestRuns', lr.runs,"                                                       \
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
