/* store/store_read_jobs.c - reads of jobs and job versions for the Marquez API.
 *
 * Invariants:
 *  1. Lists show jobs that are neither hidden nor symlinks to another job (Marquez's jobs_view); a
 *     symlinked name still resolves (store_read_job_ref) so the API can answer 301.
 *  2. A page of jobs is one statement whatever its size: each job's latest 10 runs, inputs, outputs,
 *     facets and tags come from correlated subqueries over indexed keys (store_read_int.h).
 * Threads: one thread per struct store. */
#include "store_read_int.h"

static const struct store_stmt REF = {
    "read_job_ref",
    "SELECT EXISTS (SELECT 1 FROM namespaces WHERE name = $1), j.id, t.namespace, t.name"
    " FROM (SELECT 1) one"
    " LEFT JOIN jobs j ON j.namespace = $1 AND j.name = $2 AND NOT j.is_hidden"
    " LEFT JOIN jobs t ON t.id = j.symlink_target_id AND t.id <> j.id",
    2};

/* $2: NULL or a JSON array of run states; a job qualifies when its latest run is in one of them or
 * when it has no run (Marquez: "r.current_run_state IN (...) OR r.uuid IS NULL"). */
static const struct store_stmt LIST = {
    "read_jobs",
    "WITH sel AS (SELECT j.id, j.updated_at, j.namespace, j.name FROM jobs j"
    "  LEFT JOIN runs lrun ON lrun.uuid = j.latest_run_uuid"
    "  WHERE ($1::text IS NULL OR j.namespace = $1) AND NOT j.is_hidden AND j.symlink_target_id IS NULL"
    "   AND ($2::jsonb IS NULL OR lrun.uuid IS NULL OR $2::jsonb ? lrun.state)),"
    " page AS (SELECT id FROM sel ORDER BY updated_at DESC, namespace, name"
    "  LIMIT $3::bigint OFFSET $4::bigint)"
    " SELECT CASE WHEN $1::text IS NULL OR EXISTS (SELECT 1 FROM namespaces WHERE name = $1)"
    " THEN json_build_object('totalCount', (SELECT count(*) FROM sel),"
    "  'jobs', coalesce((SELECT json_agg(" STORE_SQL_JOB_JSON
    " ORDER BY j.updated_at DESC, j.namespace, j.name)"
    "   FROM page JOIN jobs j ON j.id = page.id" STORE_SQL_JOB_JOINS "), '[]')) END",
    4};

static const struct store_stmt GET = {
    "read_job", "SELECT " STORE_SQL_JOB_JSON " FROM jobs j" STORE_SQL_JOB_JOINS " WHERE j.id = $1::bigint",
    1};

static const struct store_stmt VERSIONS = {
    "read_job_versions",
    "SELECT json_build_object('versions', coalesce((SELECT json_agg(" STORE_SQL_JOBVERSION_JSON
    "  ORDER BY jv.created_at DESC, jv.version)"
    " FROM (SELECT * FROM job_versions WHERE job_id = $1::bigint ORDER BY created_at DESC, version"
    "  LIMIT $2::bigint OFFSET $3::bigint) jv JOIN jobs j ON j.id = jv.job_id), '[]'))",
    3};

static const struct store_stmt VERSION = {"read_job_version",
                                          "SELECT " STORE_SQL_JOBVERSION_JSON
                                          " FROM job_versions jv JOIN jobs j ON j.id = jv.job_id"
                                          " WHERE jv.job_id = $1::bigint AND jv.version = $2::uuid",
                                          2};

int store_read_job_ref(struct store *s, struct arena *a, const char *ns, const char *name,
                       struct store_ref *out, struct err *e)
{
    const char *params[] = {ns, name};
    const char *cols[4];

    if (store_read_row(s, a, &REF, params, cols, 4, 0, NULL, e) != 0)
        return -1;
    out->namespace_found = cols[0] != NULL && cols[0][0] == 't';
    out->id = cols[1];
    out->target_namespace = cols[2];
    out->target_name = cols[3];
    return 0;
}

int store_read_jobs(struct store *s, struct arena *a, const char *ns, const char *states_json, long limit,
                    long offset, const char **json_out, struct err *e)
{
    const char *params[] = {ns, states_json, store_read_long(a, limit), store_read_long(a, offset)};
    return store_read_json(s, a, &LIST, params, json_out, e);
}

int store_read_job(struct store *s, struct arena *a, const char *job_id, const char **json_out, struct err *e)
{
    const char *params[] = {job_id};
    return store_read_json(s, a, &GET, params, json_out, e);
}

int store_read_job_versions(struct store *s, struct arena *a, const char *job_id, long limit, long offset,
                            const char **json_out, struct err *e)
{
    const char *params[] = {job_id, store_read_long(a, limit), store_read_long(a, offset)};
    return store_read_json(s, a, &VERSIONS, params, json_out, e);
}

int store_read_job_version(struct store *s, struct arena *a, const char *job_id, const char *version,
                           const char **json_out, struct err *e)
{
    const char *params[] = {job_id, version};
    return store_read_json(s, a, &VERSION, params, json_out, e);
}
