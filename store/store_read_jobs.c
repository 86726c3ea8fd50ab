/* store/store_read_jobs.c - reads of jobs and job versions for the Marquez API.
 *
 * Invariants:
 *  1. Lists show jobs that are neither hidden nor symlinks to another job (Marquez's jobs_view); a
 *     symlinked name still resolves (store_read_job_ref) so the API can answer 301.
 *  2. A page of jobs is one statement whatever its size: each job's latest 10 runs, inputs, outputs,
 *     facets and tags are read for the whole page at once (STORE_SQL_JOBS_CTES, store_read_int.h).
 *  3. A page is read in index order, and totalCount from the counters of read_counts, so neither
 *     depends on the number of jobs (migrations/0010_read_routes.sql).
 * Threads: one thread per struct store. */
#include "store_read_int.h"

static const struct store_stmt REF = {
    "read_job_ref",
    "SELECT EXISTS (SELECT 1 FROM namespaces WHERE name = $1), j.id, t.namespace, t.name"
    " FROM (SELECT 1) one"
    " LEFT JOIN jobs j ON j.namespace = $1 AND j.name = $2 AND NOT j.is_hidden"
    " LEFT JOIN jobs t ON t.id = j.symlink_target_id AND t.id <> j.id",
    2};

/* The jobs listed (Marquez's jobs_view) in list order, and the filter of lastRunStates ($states: NULL or
 * a JSON array of run states): a job qualifies when its latest run is in one of them or when it has
 * no run (Marquez: "r.current_run_state IN (...) OR r.uuid IS NULL"). A page is read in the order of
 * the index jobs_list or jobs_namespace_list (migrations/0010_read_routes.sql), skipped entries
 * included, and its total from read_counts. */
#define LISTED "NOT j.is_hidden AND j.symlink_target_id IS NULL"
#define STATES(p) " AND (" p "::jsonb IS NULL OR j.latest_run_state IS NULL OR " p "::jsonb ? j.latest_run_state)"
#define ORDER " ORDER BY j.updated_at DESC, j.namespace, j.name"
#define PAGE(where, states, limit, offset)                                                                   \
    "WITH page AS (SELECT j.id, row_number() OVER (" ORDER ") AS o FROM jobs j"                              \
    " WHERE " where STATES(states) ORDER " LIMIT " limit "::bigint OFFSET " offset "::bigint),"
#define TOTAL(where, states)                                                                                 \
    "(SELECT coalesce(sum(c.n), 0)::bigint FROM read_counts c WHERE c.counter = 'jobs' AND c.t = '-infinity'" where               \
    " AND (" states "::jsonb IS NULL OR c.s = '' OR " states "::jsonb ? c.s))"
#define JOBS_ARRAY "coalesce((SELECT json_agg(" STORE_SQL_JOB_JSON " ORDER BY page.o)" STORE_SQL_JOB_FROM "), '[]')"

/* $1 states, $2 limit, $3 offset. */
static const struct store_stmt LIST_ALL = {
    "read_jobs",
    PAGE(LISTED, "$1", "$2", "$3") STORE_SQL_JOBS_CTES
    " SELECT json_build_object('totalCount', " TOTAL("", "$1") ", 'jobs', " JOBS_ARRAY ")",
    3};

/* $1 namespace, $2 states, $3 limit, $4 offset; no row (NULL) when the namespace does not exist. */
static const struct store_stmt LIST_NS = {
    "read_namespace_jobs",
    PAGE("j.namespace = $1 AND " LISTED, "$2", "$3", "$4") STORE_SQL_JOBS_CTES
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM namespaces WHERE name = $1) THEN json_build_object("
    " 'totalCount', " TOTAL(" AND c.k = $1", "$2") ", 'jobs', " JOBS_ARRAY ") END",
    4};

static const struct store_stmt GET = {
    "read_job",
    "WITH page AS (SELECT id, 1 AS o FROM jobs WHERE id = $1::bigint)," STORE_SQL_JOBS_CTES
    " SELECT " STORE_SQL_JOB_JSON STORE_SQL_JOB_FROM,
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
    const char *page[] = {states_json, store_read_long(a, limit), store_read_long(a, offset)};
    const char *in_ns[] = {ns, states_json, page[1], page[2]};

    if (ns == NULL)
        return store_read_json(s, a, &LIST_ALL, page, json_out, e);
    return store_read_json(s, a, &LIST_NS, in_ns, json_out, e);
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
