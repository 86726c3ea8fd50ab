/* store/store_read_runs.c - reads of runs for the Marquez API: one run, a job's runs, run facets.
 *
 * Invariants:
 *  1. A page of runs is one statement: the page's keys are chosen first (ORDER BY .. LIMIT, in index
 *     order), then the Runs are built for the page at once (STORE_SQL_RUNS_CTES), so the cost follows
 *     the page size, not the job's run count.
 *  2. Job facets "of a run" are the job facets that run's own events carried (Marquez keeps them per
 *     run); the stored job_facets row only has the latest value per job.
 * Threads: one thread per struct store. */
#include "store_read_int.h"

static const struct store_stmt GET = {
    "read_run",
    "SELECT " STORE_SQL_RUN_JSON " FROM runs r JOIN jobs rj ON rj.id = r.job_id WHERE r.uuid = $1::uuid", 1};

/* Marquez orders a job's runs by start time, latest first (RunDao.findAll). The page is read in the
 * order of the index runs_job_started (skipped entries from the index alone), its Runs set-wise. */
static const struct store_stmt JOB_RUNS = {
    "read_job_runs",
    "WITH k AS (SELECT r0.uuid, row_number() OVER (ORDER BY r0.started_at DESC NULLS LAST, r0.created_at DESC,"
    "  r0.uuid) AS o FROM runs r0 WHERE r0.job_id = $1::bigint"
    "  ORDER BY r0.started_at DESC NULLS LAST, r0.created_at DESC, r0.uuid"
    "  LIMIT $2::bigint OFFSET $3::bigint)," STORE_SQL_RUNS_CTES
    " SELECT json_build_object("
    " 'runs', coalesce((SELECT json_agg(rjs.j ORDER BY k.o) FROM k JOIN rjs ON rjs.uuid = k.uuid), '[]'),"
    " 'totalCount', (SELECT count(*) FROM runs WHERE job_id = $1::bigint))",
    3};

static const struct store_stmt FACETS = {
    "read_run_facets",
    "SELECT json_build_object('runId', r.uuid, 'facets', CASE WHEN $2 = 'job' THEN"
    "  coalesce((SELECT json_object_agg(z.k, z.v ORDER BY z.k) FROM ("
    "   SELECT DISTINCT ON (fe.key) fe.key AS k, fe.value AS v FROM events ev"
    "   CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(ev.body #> '{job,facets}') = 'object'"
    "    THEN ev.body #> '{job,facets}' ELSE '{}' END) AS fe"
    "   WHERE ev.run_uuid = r.uuid AND jsonb_typeof(fe.value) = 'object'"
    "    AND fe.value->'_deleted' IS DISTINCT FROM 'true'::jsonb"
    "   ORDER BY fe.key, ev.event_time DESC, ev.seq DESC) z), '{}')"
    " WHEN $2 = 'run' THEN " STORE_SQL_FACETS_OF(
        "run_facets", "f.run_uuid = r.uuid") " ELSE '{}' END)"
                                             " FROM runs r WHERE r.uuid = $1::uuid",
    2};

int store_read_run(struct store *s, struct arena *a, const char *run_uuid, const char **json_out,
                   struct err *e)
{
    const char *params[] = {run_uuid};
    return store_read_json(s, a, &GET, params, json_out, e);
}

int store_read_job_runs(struct store *s, struct arena *a, const char *job_id, long limit, long offset,
                        const char **json_out, struct err *e)
{
    const char *params[] = {job_id, store_read_long(a, limit), store_read_long(a, offset)};
    return store_read_json(s, a, &JOB_RUNS, params, json_out, e);
}

int store_read_run_facets(struct store *s, struct arena *a, const char *run_uuid, enum store_facets_kind kind,
                          const char **json_out, struct err *e)
{
    static const char *const KINDS[] = {"run", "job", "dataset"};
    const char *params[] = {run_uuid, KINDS[kind]};
    return store_read_json(s, a, &FACETS, params, json_out, e);
}
