/* common/store_jobs.c - every statement on jobs and job_facets.
 *
 * Invariants:
 *  1. A child job (parent facet) points at its parent job, which is created first if unknown.
 *  2. Attributes take the value of the latest eventTime; any event un-hides a soft-deleted job.
 *  3. Job facets are replaced per key by a later eventTime; {"_deleted": true} stores a NULL tombstone. */
#include "store_write.h"

static const struct store_stmt INSERT_PARENT_JOB = {
    "jobs_insert_parent",
    "INSERT INTO jobs (namespace, name, simple_name, created_at, updated_at, seq)"
    " VALUES ($1, $2, $2, $3::timestamptz, $3::timestamptz, $4::bigint) ON CONFLICT (namespace, name) DO NOTHING",
    4};

static const struct store_stmt UPSERT_JOB = {
    "jobs_upsert",
    "INSERT INTO jobs AS j (namespace, name, simple_name, parent_job_id, type, description, location,"
    " latest_run_uuid, latest_run_time, created_at, updated_at, seq)"
    " VALUES ($1, $2, $3, (SELECT id FROM jobs WHERE namespace = $4 AND name = $5), $6, $7, $8, $9::uuid,"
    "  CASE WHEN $9 IS NOT NULL THEN $10::timestamptz END, $10::timestamptz, $10::timestamptz, $11::bigint)"
    " ON CONFLICT (namespace, name) DO UPDATE SET is_hidden = false,"
    "  parent_job_id = coalesce(EXCLUDED.parent_job_id, j.parent_job_id),"
    "  type = CASE WHEN EXCLUDED.updated_at >= j.updated_at THEN EXCLUDED.type ELSE j.type END,"
    "  description = CASE WHEN EXCLUDED.updated_at >= j.updated_at"
    "   THEN coalesce(EXCLUDED.description, j.description) ELSE coalesce(j.description, EXCLUDED.description) END,"
    "  location = CASE WHEN EXCLUDED.updated_at >= j.updated_at"
    "   THEN coalesce(EXCLUDED.location, j.location) ELSE coalesce(j.location, EXCLUDED.location) END,"
    "  latest_run_uuid = CASE WHEN EXCLUDED.latest_run_uuid IS NOT NULL AND (j.latest_run_time IS NULL"
    "   OR EXCLUDED.latest_run_time >= j.latest_run_time) THEN EXCLUDED.latest_run_uuid ELSE j.latest_run_uuid END,"
    "  latest_run_time = greatest(j.latest_run_time, EXCLUDED.latest_run_time),"
    "  created_at = least(j.created_at, EXCLUDED.created_at),"
    "  updated_at = greatest(j.updated_at, EXCLUDED.updated_at), seq = EXCLUDED.seq"
    " RETURNING id",
    11};

static const struct store_stmt UPSERT_FACETS = {
    "job_facets_upsert",
    "INSERT INTO job_facets AS f (job_id, name, facet, event_time, seq)"
    " SELECT DISTINCT ON (x.facet) $1::bigint, x.facet, x.value, $3::timestamptz, $4::bigint"
    " FROM jsonb_to_recordset($2::jsonb) AS x(facet text, value jsonb) ORDER BY x.facet"
    " ON CONFLICT (job_id, name) DO UPDATE SET facet = EXCLUDED.facet, event_time = EXCLUDED.event_time,"
    "  seq = EXCLUDED.seq"
    " WHERE f.event_time <= EXCLUDED.event_time",
    4};

int store_write_job(struct store *s, const struct store_event_ctx *c, const char **job_id_out, struct err *e)
{
    const struct ol_event *ev = c->ev;
    PGresult *res;

    bool parent_job = ev->has_parent && !ev->parent_job_self;

    if (parent_job) {
        const char *p[] = {ev->parent_job_namespace, ev->parent_job_name, c->time, c->seq};
        if ((res = store_exec(s, &INSERT_PARENT_JOB, p, e)) == NULL)
            return -1;
        PQclear(res);
    }
    const char *params[] = {ev->job_namespace,
                            ev->job_name,
                            ev->job_simple_name,
                            parent_job ? ev->parent_job_namespace : NULL,
                            parent_job ? ev->parent_job_name : NULL,
                            ev->job_type,
                            ev->job_description,
                            ev->job_location,
                            ev->run_uuid[0] ? ev->run_uuid : NULL,
                            c->time,
                            c->seq};
    if ((res = store_exec(s, &UPSERT_JOB, params, e)) == NULL)
        return -1;
    *job_id_out = arena_strdup(c->a, PQgetvalue(res, 0, 0));
    PQclear(res);
    if (ev->n_job_facets == 0)
        return 0;
    const char *fp[] = {*job_id_out, store_facets_param(c->a, ev->job_facets, ev->n_job_facets), c->time, c->seq};
    if ((res = store_exec(s, &UPSERT_FACETS, fp, e)) == NULL)
        return -1;
    PQclear(res);
    return 0;
}
