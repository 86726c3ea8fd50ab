/* store/store_nodes.c - JobData and DatasetData for lineage answers, one statement per node type.
 * A job's latestRun is the Run that /jobs and /jobs/runs/{id} serve (STORE_SQL_RUN_JSON): one source.
 *
 * Invariants: rows come back with the ordinal of the requested key, so the caller's order is kept
 * without a lookup table; missing keys simply have no row. */
#include "store_nodes.h"

#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "store_read_int.h"
#include "uuid.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static const struct store_stmt JOB_DATA = {
    "nodes_job_data",
    "SELECT k.ord, json_build_object('id', json_build_object('namespace', j.namespace, 'name', j.name),"
    " 'type', j.type, 'name', j.name, 'simpleName', j.simple_name, 'parentJobName', p.name,"
    " 'parentJobUuid', CASE WHEN p.id IS NULL THEN NULL ELSE uuid_v3_md5('job:' || p.namespace || ':' || p.name) END,"
    " 'currentRunUuid', j.latest_run_uuid, 'createdAt', " TS("j.created_at") ", 'updatedAt', " TS("j.updated_at") ","
    " 'namespace', j.namespace)::text,"
    " json_build_object('location', j.location, 'description', j.description,"
    " 'latestRun', (SELECT " STORE_SQL_RUN_JSON " FROM runs r JOIN jobs rj ON rj.id = r.job_id"
    "  WHERE r.uuid = j.latest_run_uuid))::text"
    " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS k(key, ord)"
    " JOIN jobs j ON j.namespace = k.key->>0 AND j.name = k.key->>1"
    " LEFT JOIN jobs p ON p.id = j.parent_job_id",
    1};

static const struct store_stmt DATASET_DATA = {
    "nodes_dataset_data",
    "SELECT k.ord, json_build_object('id', json_build_object('namespace', d.namespace, 'name', d.name),"
    " 'type', d.type, 'name', d.name, 'physicalName', d.physical_name, 'createdAt', " TS(
        "d.created_at") ","
                        " 'updatedAt', " TS(
                            "d.updated_at") ", 'namespace', d.namespace, 'sourceName', d.source_name,"
                                            " 'fields', (SELECT coalesce(json_agg(json_build_object('name', "
                                            "f.name, 'type', f.type, 'tags', '[]'::json,"
                                            "   'description', f.description) ORDER BY f.ordinal, f.name), "
                                            "'[]') FROM dataset_fields f"
                                            "   WHERE f.dataset_id = d.id),"
                                            " 'tags', '[]'::json, 'lastModifiedAt', NULL, 'description', "
                                            "d.description,"
                                            " 'lastLifecycleState', d.lifecycle_state, 'datasetType', "
                                            "d.dataset_type, 'subType', d.sub_type)::text"
                                            " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS k(key, "
                                            "ord)"
                                            " JOIN datasets d ON d.namespace = k.key->>0 AND d.name = "
                                            "k.key->>1",
    1};

/* Keys: [[ns, dataset, field, [[in_ns, in_dataset, in_field], ...]], ...]. */
static const struct store_stmt FIELD_DATA = {
    "nodes_field_data",
    "SELECT k.ord, json_build_object('namespace', d.namespace, 'dataset', d.name, 'datasetVersion',"
    " d.current_version, 'field', k.key->>2, 'fieldType', CASE WHEN jsonb_array_length(k.key->3) > 0"
    "  THEN coalesce(f.type, '') ELSE '' END,"
    " 'transformationDescription', x.inputs->0->>'transformationDescription',"
    " 'transformationType', x.inputs->0->>'transformationType',"
    " 'inputFields', coalesce(x.inputs, '[]'))::text"
    " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS k(key, ord)"
    " JOIN datasets d ON d.namespace = k.key->>0 AND d.name = k.key->>1"
    " LEFT JOIN dataset_fields f ON f.dataset_id = d.id AND f.name = k.key->>2"
    " LEFT JOIN LATERAL (SELECT json_agg(json_build_object('namespace', i.namespace, 'dataset', i.name,"
    "   'datasetVersion', i.current_version, 'field', c.input_field, 'transformationDescription',"
    "   c.transformation_description, 'transformationType', c.transformation_type)"
    "   ORDER BY i.namespace, i.name, c.input_field) AS inputs"
    "  FROM jsonb_array_elements(k.key->3) AS w(e)"
    "  JOIN datasets i ON i.namespace = w.e->>0 AND i.name = w.e->>1"
    "  JOIN column_lineage c ON c.output_dataset_id = d.id AND c.output_field = k.key->>2"
    "   AND c.input_dataset_id = i.id AND c.input_field = w.e->>2) x ON true",
    1};

static const struct store_stmt FIELD_EXISTS = {
    "nodes_field_exists",
    "SELECT EXISTS (SELECT 1 FROM dataset_names d JOIN dataset_fields f ON f.dataset_id = d.id"
    " WHERE d.ref_namespace = $1 AND d.ref_name = $2 AND f.name = $3 AND NOT d.is_hidden)",
    3};

static const struct store_stmt RUN_UPSTREAM = {
    "nodes_run_upstream",
    "WITH RECURSIVE up(run_uuid, depth) AS ("
    "  SELECT uuid, 0 FROM runs WHERE uuid = $1::uuid"
    "  UNION"
    "  SELECT v.run_uuid, up.depth + 1 FROM up"
    "  JOIN run_io io ON io.run_uuid = up.run_uuid AND io.io_type = 'INPUT'"
    "  JOIN dataset_versions v ON v.version = io.dataset_version"
    "  WHERE v.run_uuid IS NOT NULL AND up.depth < $2::int),"
    " best AS (SELECT run_uuid, min(depth) AS depth FROM up GROUP BY run_uuid)"
    " SELECT CASE WHEN (SELECT count(*) FROM best) = 0 THEN NULL ELSE json_build_object('runs',"
    "  (SELECT coalesce(json_agg(x.run ORDER BY x.depth, x.job_name), '[]') FROM (SELECT b.depth, j.name AS job_name,"
    "   json_build_object('job', json_build_object('namespace', j.namespace, 'name', j.name, 'version',"
    "    r.job_version), 'run', json_build_object('id', r.uuid, 'start', " TS("r.started_at") ", 'end', "
    TS("r.ended_at") ", 'status', r.state), 'inputs', (SELECT coalesce(json_agg(json_build_object("
    "    'namespace', d.namespace, 'name', d.name, 'version', io.dataset_version, 'producedByRunId', v.run_uuid)"
    "    ORDER BY d.namespace, d.name), '[]') FROM run_io io JOIN datasets d ON d.id = io.dataset_id"
    "    LEFT JOIN dataset_versions v ON v.version = io.dataset_version"
    "    WHERE io.run_uuid = r.uuid AND io.io_type = 'INPUT')) AS run"
    "   FROM best b JOIN runs r ON r.uuid = b.run_uuid JOIN jobs j ON j.id = r.job_id) AS x))::text END",
    2};

/* [[a, b], ...] or [[a, b, c], ...] as a JSON parameter. */
static const char *keys_param(struct arena *a, const char *const *one, const char *const *two,
                              const char *const *three, size_t n)
{
    yajl_gen g = json_gen_new();

    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        yajl_gen_array_open(g);
        json_gen_str(g, one[i]);
        json_gen_str(g, two[i]);
        if (three != NULL)
            json_gen_str(g, three[i]);
        yajl_gen_array_close(g);
    }
    yajl_gen_array_close(g);
    return json_gen_finish(g, a, NULL);
}

/* Runs a keyed statement and stores each row's text at json_out[ordinal - 1] (and its third column at
 * second_out[ordinal - 1] unless second_out is NULL); SQL NULL stays NULL. */
static int fetch_by_ordinal(struct store *s, struct arena *a, const struct store_stmt *st, const char *keys,
                            size_t n, const char **json_out, const char **second_out, struct err *e)
{
    const char *params[] = {keys};

    for (size_t i = 0; i < n; i++) {
        json_out[i] = NULL;
        if (second_out != NULL)
            second_out[i] = NULL;
    }
    if (n == 0)
        return 0;
    PGresult *res = store_exec(s, st, params, e);
    if (res == NULL)
        return -1;
    for (int row = 0; row < PQntuples(res); row++) {
        long ord = strtol(PQgetvalue(res, row, 0), NULL, 10);
        if (ord < 1 || (size_t)ord > n)
            continue;
        json_out[ord - 1] = PQgetisnull(res, row, 1) ? NULL : arena_strdup(a, PQgetvalue(res, row, 1));
        if (second_out != NULL)
            second_out[ord - 1] = PQgetisnull(res, row, 2) ? NULL : arena_strdup(a, PQgetvalue(res, row, 2));
    }
    PQclear(res);
    return 0;
}

static void gen_field_ref(yajl_gen g, const char *ns, const char *dataset, const char *field)
{
    json_gen_str(g, ns);
    json_gen_str(g, dataset);
    json_gen_str(g, field);
}

int store_field_data(struct store *s, struct arena *a, const struct store_field_key *keys, size_t n,
                     const char **json_out, struct err *e)
{
    yajl_gen g = json_gen_new();

    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        yajl_gen_array_open(g);
        gen_field_ref(g, keys[i].ns, keys[i].dataset, keys[i].field);
        yajl_gen_array_open(g);
        for (size_t k = 0; k < keys[i].n_inputs; k++) {
            yajl_gen_array_open(g);
            gen_field_ref(g, keys[i].inputs[k].ns, keys[i].inputs[k].dataset, keys[i].inputs[k].field);
            yajl_gen_array_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_array_close(g);
    }
    yajl_gen_array_close(g);
    return fetch_by_ordinal(s, a, &FIELD_DATA, json_gen_finish(g, a, NULL), n, json_out, NULL, e);
}

int store_field_exists(struct store *s, const char *ns, const char *dataset, const char *field, bool *exists,
                       struct err *e)
{
    const char *params[] = {ns, dataset, field};
    PGresult *res = store_exec(s, &FIELD_EXISTS, params, e);

    if (res == NULL)
        return -1;
    *exists = PQntuples(res) > 0 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

int store_run_upstream(struct store *s, struct arena *a, const char *run_uuid, long depth, const char **json_out,
                       struct err *e)
{
    char d[24];
    snprintf(d, sizeof d, "%ld", depth);
    const char *params[] = {run_uuid, d};
    PGresult *res = store_exec(s, &RUN_UPSTREAM, params, e);

    if (res == NULL)
        return -1;
    *json_out = PQgetisnull(res, 0, 0) ? NULL : arena_strdup(a, PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* Kinds of the graph's datasets: node names are the rows' own (an alias row has none of its own). */
static const struct store_stmt DATASET_TYPES = {
    "nodes_dataset_types",
    "SELECT k.ord, d.dataset_type, d.sub_type"
    " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS k(key, ord)"
    " JOIN datasets d ON d.namespace = k.key->>0 AND d.name = k.key->>1 WHERE d.dataset_type IS NOT NULL",
    1};

#define EPOCH_OF(col) "greatest(0, least(4294967295, extract(epoch FROM " col ")))::bigint"

static const struct store_stmt PIN_RUN = {
    "nodes_pin_run", "SELECT " EPOCH_OF("updated_at") " FROM runs WHERE uuid = $1::uuid", 1};

static const struct store_stmt PIN_JOB_VERSION = {
    "nodes_pin_job_version",
    "SELECT " EPOCH_OF("v.updated_at") " FROM job_versions v JOIN jobs j ON j.id = v.job_id"
    " WHERE v.version = $1::uuid AND j.namespace = $2 AND j.name = $3",
    3};

/* $1: the version as a UUID, or NULL; $4: as its producer named it. */
static const struct store_stmt PIN_DATASET_VERSION = {
    "nodes_pin_dataset_version",
    "SELECT " EPOCH_OF("v.created_at") " FROM dataset_versions v JOIN dataset_names d ON d.id = v.dataset_id"
    " WHERE (v.version = $1::uuid OR v.producer_version = $4) AND d.ref_namespace = $2 AND d.ref_name = $3"
    " ORDER BY v.version = $1::uuid DESC NULLS LAST LIMIT 1",
    4};

int store_dataset_types(struct store *s, struct arena *a, const char *const *namespaces,
                        const char *const *names, size_t n, const char **types_out,
                        const char **sub_types_out, struct err *e)
{
    return fetch_by_ordinal(s, a, &DATASET_TYPES, keys_param(a, namespaces, names, NULL, n), n, types_out,
                            sub_types_out, e);
}

int store_pin_time(struct store *s, enum store_pin_kind kind, const char *ns, const char *name, const char *key,
                   uint32_t *seconds, struct err *e)
{
    static const struct store_stmt *const STMTS[] = {&PIN_RUN, &PIN_JOB_VERSION, &PIN_DATASET_VERSION};
    struct uuid u;
    const char *params[] = {uuid_from_string(key, &u) ? key : NULL, ns ? ns : "", name ? name : "", key};
    PGresult *res = store_exec(s, STMTS[kind], params, e);

    if (res == NULL)
        return -1;
    int found = PQntuples(res) > 0;
    if (found)
        *seconds = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return found;
}

int store_job_data(struct store *s, struct arena *a, const char *const *namespaces, const char *const *names,
                   size_t n, const char **heads_out, const char **tails_out, struct err *e)
{
    return fetch_by_ordinal(s, a, &JOB_DATA, keys_param(a, namespaces, names, NULL, n), n, heads_out, tails_out,
                            e);
}

int store_dataset_data(struct store *s, struct arena *a, const char *const *namespaces, const char *const *names,
                       size_t n, const char **json_out, struct err *e)
{
    return fetch_by_ordinal(s, a, &DATASET_DATA, keys_param(a, namespaces, names, NULL, n), n, json_out, NULL, e);
}
