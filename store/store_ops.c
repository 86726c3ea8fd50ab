/* store/store_ops.c - readiness, log position, namespace times and silent jobs (see store_ops.h).
 *
 * Invariants: see store_ops.h. Every PGresult made here is cleared here.
 * Threads: one thread per struct store. */
#include "store_ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_migrations.h"
#include "store_read_int.h"

static const struct store_stmt MIGRATIONS = {
    "ops_migrations", "SELECT count(*) FROM schema_migrations WHERE version <= $1::int", 1};

/* Both maxima walk events_pkey backwards: the second stops at the first row below xmin, so it reads
 * only the rows of transactions still running (or newer). */
static const struct store_stmt LOG_POSITION = {
    "ops_log_position",
    "SELECT coalesce((SELECT max(seq) FROM events), 0),"
    " coalesce((SELECT max(seq) FROM events WHERE xid < $1::text::xid8), 0)",
    1};

static const struct store_stmt NAMESPACE_TIMES = {
    "ops_namespace_times",
    "SELECT namespace, (extract(epoch FROM max(updated_at)) * 1000000)::bigint AS usec FROM jobs"
    " GROUP BY namespace ORDER BY usec DESC, namespace LIMIT $1::bigint",
    1};

/* The silent jobs as relation `silent` ($1 factor, $2 minRuns, $3 window). Gaps of 0 (reruns of the
 * same nominal time, events of one instant) say nothing about the schedule and are left out. */
#define SILENT_CTE                                                                                           \
    "WITH recent AS ("                                                                                       \
    "  SELECT j.id, j.namespace, j.name, r.nominal_start_time AS nominal,"                                   \
    "   coalesce(r.started_at, r.created_at) AS t"                                                           \
    "  FROM jobs j CROSS JOIN LATERAL (SELECT nominal_start_time, started_at, created_at FROM runs"          \
    "   WHERE runs.job_id = j.id ORDER BY created_at DESC LIMIT $3::int) r"                                  \
    "  WHERE NOT j.is_hidden AND j.symlink_target_id IS NULL),"                                              \
    " gaps AS ("                                                                                             \
    "  SELECT id, namespace, name, t,"                                                                       \
    "   extract(epoch FROM nominal - lag(nominal) OVER (PARTITION BY id ORDER BY nominal)) AS ngap,"         \
    "   extract(epoch FROM t - lag(t) OVER (PARTITION BY id ORDER BY t)) AS tgap"                            \
    "  FROM recent),"                                                                                        \
    " per_job AS ("                                                                                          \
    "  SELECT namespace, name, count(*) AS runs, max(t) AS last_run,"                                        \
    "   percentile_cont(0.5) WITHIN GROUP (ORDER BY ngap) FILTER (WHERE ngap > 0) AS nominal_gap,"           \
    "   percentile_cont(0.5) WITHIN GROUP (ORDER BY tgap) FILTER (WHERE tgap > 0) AS observed_gap"           \
    "  FROM gaps GROUP BY id, namespace, name),"                                                             \
    " silent AS ("                                                                                           \
    "  SELECT namespace, name, runs, last_run,"                                                              \
    "   CASE WHEN nominal_gap IS NOT NULL THEN 'nominalTime' ELSE 'runGaps' END AS source,"                  \
    "   coalesce(nominal_gap, observed_gap) AS interval_s"                                                   \
    "  FROM per_job"                                                                                         \
    "  WHERE runs >= $2::int AND coalesce(nominal_gap, observed_gap) IS NOT NULL"                            \
    "   AND extract(epoch FROM now() - last_run) > $1::float8 * coalesce(nominal_gap, observed_gap))"

static const struct store_stmt SILENT_JOBS = {
    "ops_silent_jobs",
    SILENT_CTE " SELECT json_build_object('totalCount', (SELECT count(*) FROM silent), 'factor', $1::float8,"
               "  'minRuns', $2::int, 'silentJobs', coalesce(json_agg(json_build_object("
               "   'namespace', s.namespace, 'name', s.name, 'runs', s.runs, 'intervalSource', s.source,"
               "   'expectedIntervalSeconds', round(s.interval_s::numeric, 3),"
               "   'lastRunTime', api_ts(s.last_run),"
               "   'expectedBy', api_ts(s.last_run + make_interval(secs => s.interval_s)),"
               "   'lateSeconds', round((extract(epoch FROM now() - s.last_run) - s.interval_s)::numeric, 3))"
               "   ORDER BY s.late DESC, s.namespace, s.name), '[]'))"
               " FROM (SELECT *, extract(epoch FROM now() - last_run) - interval_s AS late FROM silent"
               "  ORDER BY late DESC, namespace, name LIMIT $4::bigint OFFSET $5::bigint) s",
    5};

static const struct store_stmt SILENT_COUNT = {"ops_silent_count", SILENT_CTE " SELECT count(*) FROM silent",
                                               3};

int store_ops_migrations(struct store *s, int *applied, int *expected, struct err *e)
{
    size_t n;
    char max[24];

    store_migrations_list(&n);
    *expected = (int)n;
    *applied = 0;
    snprintf(max, sizeof max, "%zu", n);
    const char *params[] = {max};
    PGresult *res = store_exec(s, &MIGRATIONS, params, e);
    if (res == NULL)
        return strcmp(e->sqlstate, "42P01") == 0 ? 0 : -1; /* no schema_migrations: nothing applied */
    *applied = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int store_ops_log_position(struct store *s, uint64_t xmin, int64_t *newest, int64_t *applied, struct err *e)
{
    char x[24];

    snprintf(x, sizeof x, "%" PRIu64, xmin);
    const char *params[] = {x};
    PGresult *res = store_exec(s, &LOG_POSITION, params, e);
    if (res == NULL)
        return -1;
    *newest = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    *applied = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return 0;
}

int store_ops_namespace_times(struct store *s, long limit,
                              void (*fn)(void *ctx, const char *ns, int64_t usec), void *ctx, struct err *e)
{
    char l[24];

    snprintf(l, sizeof l, "%ld", limit);
    const char *params[] = {l};
    PGresult *res = store_exec(s, &NAMESPACE_TIMES, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        fn(ctx, PQgetvalue(res, i, 0), strtoll(PQgetvalue(res, i, 1), NULL, 10));
    PQclear(res);
    return 0;
}

/* $1..$5 of the silent-jobs statements as text in a. */
static void silent_params(struct arena *a, const struct store_silent_query *q, const char *params[5])
{
    params[0] = arena_printf(a, "%.17g", q->factor);
    params[1] = store_read_long(a, q->min_runs);
    params[2] = store_read_long(a, q->window);
    params[3] = store_read_long(a, q->limit);
    params[4] = store_read_long(a, q->offset);
}

int store_ops_silent_jobs(struct store *s, struct arena *a, const struct store_silent_query *q,
                          const char **json_out, struct err *e)
{
    const char *params[5];

    silent_params(a, q, params);
    return store_read_json(s, a, &SILENT_JOBS, params, json_out, e);
}

int store_ops_silent_count(struct store *s, const struct store_silent_query *q, int64_t *count, struct err *e)
{
    struct arena *a = arena_new();
    const char *params[5];

    silent_params(a, q, params);
    PGresult *res = store_exec(s, &SILENT_COUNT, params, e);
    arena_free(a);
    if (res == NULL)
        return -1;
    *count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}
