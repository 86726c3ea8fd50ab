/* store/store_provenance.c - the rows of a version's provenance and of a run's DAG (store_ml.h): the
 * version asked for, and runs one level at a time (the producers of some versions, some runs, or their
 * children), so the caller can walk any depth with a visited set and one statement per level.
 *
 * Invariants:
 *  1. A version's producer is the run recorded as its writer (dataset_versions.run_uuid, set only from
 *     a run's outputs: store_datasets.c), so a run that only read a version is never its producer.
 *  2. A run's inputs and outputs are the versions that run used (run_io.dataset_version), not the
 *     datasets' current versions; each input names the run that wrote its version, if any.
 *  3. jobFacets are the job facets that run's own events carried (its code location and version at the
 *     time), as /jobs/runs/{id}/facets?type=job serves them; facets are the run's facets.
 *  4. Rows come back in a fixed order (run id, or first event time then id), at most max + 1 of them.
 * Threads: one thread per struct store. */
#include "store_ml.h"

#include <string.h>

#include "json_text.h"
#include "store_read_int.h"
#include "uuid.h"

#define PROV_IO(io_type, with_producer)                                                                      \
    "(SELECT coalesce(json_agg(json_build_object('namespace', d.namespace, 'name', d.name,"                  \
    "  'version', io.dataset_version, 'producerVersion', v.producer_version, 'datasetType', d.dataset_type," \
    "  'subType', d.sub_type" with_producer ") ORDER BY d.namespace, d.name), '[]')"                         \
    " FROM run_io io JOIN datasets d ON d.id = io.dataset_id"                                                \
    " LEFT JOIN dataset_versions v ON v.version = io.dataset_version"                                        \
    " WHERE io.run_uuid = r.uuid AND io.io_type = '" io_type "')"

/* The job facets of run r's own events, the latest per name (invariant 3). */
#define PROV_JOB_FACETS                                                                                      \
    "coalesce((SELECT json_object_agg(z.k, z.v ORDER BY z.k) FROM ("                                         \
    "  SELECT DISTINCT ON (fe.key) fe.key AS k, fe.value AS v FROM events ev"                                \
    "  CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(ev.body #> '{job,facets}') = 'object'"           \
    "   THEN ev.body #> '{job,facets}' ELSE '{}' END) AS fe"                                                 \
    "  WHERE ev.run_uuid = r.uuid AND jsonb_typeof(fe.value) = 'object'"                                     \
    "   AND fe.value->'_deleted' IS DISTINCT FROM 'true'::jsonb"                                             \
    "  ORDER BY fe.key, ev.event_time DESC, ev.seq DESC) z), '{}')"

#define PROV_RUN_JSON                                                                                        \
    "json_build_object('id', r.uuid, 'state', r.state, 'createdAt', api_ts(r.created_at),"                   \
    " 'startedAt', api_ts(r.started_at), 'endedAt', api_ts(r.ended_at),"                                     \
    " 'nominalStartTime', api_ts(r.nominal_start_time), 'parentRunId', r.parent_run_uuid,"                   \
    " 'job', json_build_object('namespace', j.namespace, 'name', j.name, 'version', r.job_version,"          \
    "  'location', jv.location),"                                                                            \
    " 'facets', " STORE_SQL_FACETS_OF(                                                                       \
        "run_facets", "f.run_uuid = r.uuid") ","                                                             \
                                             " 'jobFacets', " PROV_JOB_FACETS ","                            \
                                             " 'inputs', " PROV_IO(                                          \
                                                 "INPUT",                                                    \
                                                 ", 'producedByRunId', v.run_uuid") ","                      \
                                                                                    " 'outputs', " PROV_IO(  \
                                                                                        "OUTPUT", "") ")"

/* [[version, namespace, name], ...] of run r's inputs or outputs, by version. */
#define PROV_VERSIONS(io_type)                                                                               \
    "(SELECT coalesce(json_agg(json_build_array(io.dataset_version, d.namespace, d.name)"                    \
    "  ORDER BY io.dataset_version), '[]') FROM run_io io JOIN datasets d ON d.id = io.dataset_id"           \
    " WHERE io.run_uuid = r.uuid AND io.io_type = '" io_type "' AND io.dataset_version IS NOT NULL)::text"

/* where: a condition on run r; order: the ORDER BY list. */
#define PROV_RUNS(where, order)                                                                              \
    "SELECT r.uuid, " PROV_RUN_JSON "::text, " PROV_VERSIONS("INPUT") ", " PROV_VERSIONS(                    \
        "OUTPUT") ","                                                                                        \
                  " r.parent_run_uuid FROM runs r JOIN jobs j ON j.id = r.job_id"                            \
                  " LEFT JOIN job_versions jv ON jv.version = r.job_version"                                 \
                  " WHERE " where " ORDER BY " order " LIMIT $2::bigint"

#define UUIDS(p) "ARRAY(SELECT x::uuid FROM jsonb_array_elements_text(" p "::jsonb) AS x)"

static const struct store_stmt PRODUCERS = {
    "prov_producers",
    PROV_RUNS("r.uuid IN (SELECT v.run_uuid FROM dataset_versions v WHERE v.version = ANY (" UUIDS(
                  "$1") ")"
                        " AND v.run_uuid IS NOT NULL)",
              "r.uuid"),
    2};

static const struct store_stmt RUNS = {
    "prov_runs", PROV_RUNS("r.uuid = ANY (" UUIDS("$1") ")", "r.created_at, r.uuid"), 2};

static const struct store_stmt CHILDREN = {
    "prov_children",
    PROV_RUNS("r.parent_run_uuid = ANY (" UUIDS("$1") ") AND r.uuid <> r.parent_run_uuid",
              "r.created_at, r.uuid"),
    2};

/* $2: the version as a UUID, or NULL; $3: as its producer named it. */
static const struct store_stmt VERSION = {
    "prov_version",
    "SELECT json_build_object('namespace', d.namespace, 'name', d.name, 'version', v.version,"
    " 'producerVersion', v.producer_version, 'datasetType', d.dataset_type, 'subType', d.sub_type,"
    " 'createdAt', api_ts(v.created_at), 'producedByRunId', v.run_uuid)::text, v.version, v.run_uuid"
    " FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id"
    " WHERE v.dataset_id = $1::bigint AND (v.version = $2::uuid OR v.producer_version = $3)"
    " ORDER BY v.version = $2::uuid DESC NULLS LAST LIMIT 1",
    3};

static const char *text_or_null(struct arena *a, const PGresult *res, int row, int col, bool json)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    char *t = arena_strdup(a, PQgetvalue(res, row, col));
    if (json)
        t[json_minify(t, strlen(t))] = '\0';
    return t;
}

int store_prov_version(struct store *s, struct arena *a, const char *dataset_id, const char *version,
                       const char **json_out, const char **version_out, const char **run_out, struct err *e)
{
    struct uuid u;
    const char *params[] = {dataset_id, uuid_from_string(version, &u) ? version : NULL, version};
    PGresult *res = store_exec(s, &VERSION, params, e);

    if (res == NULL)
        return -1;
    bool found = PQntuples(res) > 0;
    *json_out = found ? text_or_null(a, res, 0, 0, true) : NULL;
    *version_out = found ? text_or_null(a, res, 0, 1, false) : NULL;
    *run_out = found ? text_or_null(a, res, 0, 2, false) : NULL;
    PQclear(res);
    return 0;
}

static int read_runs(struct store *s, struct arena *a, const struct store_stmt *st, const char *keys,
                     size_t max, struct store_prov_run *out, size_t *n_out, struct err *e)
{
    const char *params[] = {keys, store_read_long(a, (long)max + 1)};
    PGresult *res = store_exec(s, st, params, e);

    if (res == NULL)
        return -1;
    size_t n = (size_t)PQntuples(res);
    if (n > max + 1)
        n = max + 1;
    for (size_t i = 0; i < n; i++) {
        out[i].uuid = text_or_null(a, res, (int)i, 0, false);
        out[i].json = text_or_null(a, res, (int)i, 1, true);
        out[i].inputs = text_or_null(a, res, (int)i, 2, true);
        out[i].outputs = text_or_null(a, res, (int)i, 3, true);
        out[i].parent = text_or_null(a, res, (int)i, 4, false);
    }
    *n_out = n;
    PQclear(res);
    return 0;
}

int store_prov_producers(struct store *s, struct arena *a, const char *versions_json, size_t max,
                         struct store_prov_run *out, size_t *n_out, struct err *e)
{
    return read_runs(s, a, &PRODUCERS, versions_json, max, out, n_out, e);
}

int store_prov_runs(struct store *s, struct arena *a, const char *runs_json, bool by_parent, size_t max,
                    struct store_prov_run *out, size_t *n_out, struct err *e)
{
    return read_runs(s, a, by_parent ? &CHILDREN : &RUNS, runs_json, max, out, n_out, e);
}
