/* store/store_jobs.c - every statement on jobs and job_facets.
 *
 * Invariants (none depends on arrival order: migrations/0009_order_independent_model.sql):
 *  1. Jobs are upserted for a whole chunk at once, parents first, each statement in (namespace, name)
 *     order (see store_write.h for why the order matters); a child job points at its parent job.
 *  2. An attribute (type, description, location, parent job and simple name, latest run) is that of
 *     the latest event naming it, kept with that event's time (type_at, description_at, ...); at one
 *     time, the greater value. Any event un-hides a soft-deleted job.
 *  3. A job only named as a parent has the earliest naming child's times (and least seq) until its own
 *     first event (type_at NULL until then): then its own events' times replace them (updated_at, seq)
 *     or merge in (created_at).
 *  4. Job facets are replaced per key by a later eventTime, then a greater value; {"_deleted": true}
 *     stores a NULL tombstone, the greatest value at its time. */
#include <string.h>

#include "store_write.h"

static const struct store_stmt INSERT_PARENT_JOBS = {
    "jobs_insert_parents",
    "INSERT INTO jobs (namespace, name, simple_name, created_at, updated_at, seq)"
    " SELECT namespace, name, name, min(time), min(time), min(seq)"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, time timestamptz, seq bigint)"
    " GROUP BY namespace, name ORDER BY namespace, name"
    " ON CONFLICT (namespace, name) DO NOTHING",
    1};

/* A child named the parent earlier than anything seen so far (invariant 3); locks only rows it changes. */
static const struct store_stmt LOWER_PARENT_JOBS = {
    "jobs_lower_parents",
    "UPDATE jobs j SET created_at = least(j.created_at, x.time),"
    " updated_at = CASE WHEN j.type_at IS NULL THEN least(j.updated_at, x.time) ELSE j.updated_at END,"
    " seq = CASE WHEN j.type_at IS NULL THEN least(j.seq, x.seq) ELSE j.seq END"
    " FROM (SELECT namespace, name, min(time) AS time, min(seq) AS seq FROM jsonb_to_recordset($1::jsonb)"
    "  AS y(namespace text, name text, time timestamptz, seq bigint) GROUP BY namespace, name) x"
    " WHERE j.namespace = x.namespace AND j.name = x.name"
    "  AND (j.created_at > x.time OR (j.type_at IS NULL AND j.seq > x.seq))",
    1};

/* Whether the incoming type, description, location, parent job, latest run replace the row's
 * (invariant 2; the parent job at one time: the greater parent name). */
#define NEW_TYPE "(j.type_at IS NULL OR (EXCLUDED.type_at, EXCLUDED.type) > (j.type_at, j.type))"
#define NEW_DESCRIPTION                                                                                      \
    "(EXCLUDED.description_at IS NOT NULL AND (j.description_at IS NULL"                                     \
    " OR (EXCLUDED.description_at, EXCLUDED.description) > (j.description_at, j.description)))"
#define NEW_LOCATION                                                                                         \
    "(EXCLUDED.location_at IS NOT NULL AND (j.location_at IS NULL"                                           \
    " OR (EXCLUDED.location_at, EXCLUDED.location) > (j.location_at, j.location)))"
#define NEW_PARENT                                                                                           \
    "(EXCLUDED.parent_at IS NOT NULL AND (j.parent_at IS NULL OR EXCLUDED.parent_at > j.parent_at"           \
    " OR (EXCLUDED.parent_at = j.parent_at AND (SELECT (p.namespace, p.name) FROM jobs p"                    \
    "  WHERE p.id = EXCLUDED.parent_job_id) > (SELECT (p.namespace, p.name) FROM jobs p"                     \
    "  WHERE p.id = j.parent_job_id))))"
#define NEW_RUN                                                                                              \
    "(EXCLUDED.latest_run_time IS NOT NULL AND (j.latest_run_time IS NULL OR (EXCLUDED.latest_run_time,"     \
    " EXCLUDED.latest_run_uuid) > (j.latest_run_time, j.latest_run_uuid)))"

/* One row per job of the chunk: the latest event's attributes win, times widen. */
static const struct store_stmt UPSERT_JOBS = {
    "jobs_upsert",
    "INSERT INTO jobs AS j (namespace, name, simple_name, parent_job_id, parent_at, type, type_at,"
    " description, description_at, location, location_at, latest_run_uuid, latest_run_time, created_at,"
    " updated_at, seq)"
    " SELECT x.namespace, x.name, coalesce(x.simple, x.name), (SELECT id FROM jobs p"
    "  WHERE p.namespace = x.parent_namespace AND p.name = x.parent_name), x.parent_at, x.type, x.updated,"
    "  x.description, x.description_at, x.location, x.location_at, x.run_uuid, x.run_time, x.created,"
    "  x.updated, x.seq"
    " FROM (SELECT namespace, name,"
    "   (array_agg(simple ORDER BY time DESC, parent_namespace DESC, parent_name DESC)"
    "    FILTER (WHERE parent_name IS NOT NULL))[1] AS simple,"
    "   (array_agg(parent_namespace ORDER BY time DESC, parent_namespace DESC, parent_name DESC)"
    "    FILTER (WHERE parent_name IS NOT NULL))[1] AS parent_namespace,"
    "   (array_agg(parent_name ORDER BY time DESC, parent_namespace DESC, parent_name DESC)"
    "    FILTER (WHERE parent_name IS NOT NULL))[1] AS parent_name,"
    "   max(time) FILTER (WHERE parent_name IS NOT NULL) AS parent_at,"
    "   (array_agg(type ORDER BY time DESC, type DESC))[1] AS type,"
    "   (array_agg(description ORDER BY time DESC, description DESC)"
    "    FILTER (WHERE description IS NOT NULL))[1] AS description,"
    "   max(time) FILTER (WHERE description IS NOT NULL) AS description_at,"
    "   (array_agg(location ORDER BY time DESC, location DESC) FILTER (WHERE location IS NOT NULL))[1]"
    "    AS location,"
    "   max(time) FILTER (WHERE location IS NOT NULL) AS location_at,"
    "   (array_agg(run_uuid ORDER BY time DESC, run_uuid DESC) FILTER (WHERE run_uuid IS NOT NULL))[1]"
    "    AS run_uuid,"
    "   max(time) FILTER (WHERE run_uuid IS NOT NULL) AS run_time,"
    "   min(time) AS created, max(time) AS updated, max(seq) AS seq"
    "  FROM jsonb_to_recordset($1::jsonb) AS r(namespace text, name text, simple text, parent_namespace text,"
    "   parent_name text, type text, description text, location text, run_uuid uuid, time timestamptz,"
    "   seq bigint)"
    "  GROUP BY namespace, name) AS x"
    " ORDER BY x.namespace, x.name"
    " ON CONFLICT (namespace, name) DO UPDATE SET is_hidden = false,"
    "  parent_job_id = CASE WHEN " NEW_PARENT " THEN EXCLUDED.parent_job_id ELSE j.parent_job_id END,"
    "  simple_name = CASE WHEN " NEW_PARENT " THEN EXCLUDED.simple_name"
    "   WHEN j.parent_at IS NULL THEN EXCLUDED.simple_name ELSE j.simple_name END,"
    "  parent_at = CASE WHEN " NEW_PARENT " THEN EXCLUDED.parent_at ELSE j.parent_at END,"
    "  type = CASE WHEN " NEW_TYPE " THEN EXCLUDED.type ELSE j.type END,"
    "  type_at = greatest(j.type_at, EXCLUDED.type_at),"
    "  description = CASE WHEN " NEW_DESCRIPTION " THEN EXCLUDED.description ELSE j.description END,"
    "  description_at = CASE WHEN " NEW_DESCRIPTION " THEN EXCLUDED.description_at"
    "   ELSE j.description_at END,"
    "  location = CASE WHEN " NEW_LOCATION " THEN EXCLUDED.location ELSE j.location END,"
    "  location_at = CASE WHEN " NEW_LOCATION " THEN EXCLUDED.location_at ELSE j.location_at END,"
    "  latest_run_uuid = CASE WHEN " NEW_RUN " THEN EXCLUDED.latest_run_uuid ELSE j.latest_run_uuid END,"
    "  latest_run_time = greatest(j.latest_run_time, EXCLUDED.latest_run_time),"
    "  created_at = least(j.created_at, EXCLUDED.created_at),"
    "  updated_at = CASE WHEN j.type_at IS NULL THEN EXCLUDED.updated_at"
    "   ELSE greatest(j.updated_at, EXCLUDED.updated_at) END,"
    "  seq = CASE WHEN j.type_at IS NULL THEN EXCLUDED.seq ELSE greatest(j.seq, EXCLUDED.seq) END"
    " RETURNING id, namespace, name",
    1};

/* Chunk-level: one row per job facet of every event (invariant 4). */
static const struct store_stmt UPSERT_FACETS = {
    "job_facets_upsert",
    "INSERT INTO job_facets AS f (job_id, name, facet, event_time, seq)"
    " SELECT DISTINCT ON (x.job_id, x.facet) x.job_id, x.facet, x.value, x.time, x.seq"
    " FROM jsonb_to_recordset($1::jsonb) AS x(job_id bigint, facet text, value jsonb, time timestamptz,"
    "  seq bigint)"
    " ORDER BY x.job_id, x.facet, x.time DESC, x.value IS NULL DESC, x.value DESC, x.seq"
    " ON CONFLICT (job_id, name) DO UPDATE SET facet = EXCLUDED.facet, event_time = EXCLUDED.event_time,"
    "  seq = EXCLUDED.seq"
    " WHERE " FACET_LATER,
    1};

static bool has_parent_job(const struct ol_event *ev)
{
    return ev->has_parent && !ev->parent_job_self;
}

static void gen_time_seq(yajl_gen g, const struct store_event_ctx *c)
{
    json_gen_key(g, "time");
    json_gen_str(g, c->time);
    json_gen_key(g, "seq");
    json_gen_str(g, c->seq);
}

static const char *parents_param(struct arena *a, const struct store_event_ctx *c, size_t n, size_t *count)
{
    yajl_gen g = json_gen_new();

    *count = 0;
    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++) {
        if (c[k].ev->kind == OL_DATASET_EVENT || !has_parent_job(c[k].ev))
            continue;
        yajl_gen_map_open(g);
        json_gen_key(g, "namespace");
        json_gen_str(g, c[k].ev->parent_job_namespace);
        json_gen_key(g, "name");
        json_gen_str(g, c[k].ev->parent_job_name);
        gen_time_seq(g, &c[k]);
        yajl_gen_map_close(g);
        (*count)++;
    }
    yajl_gen_array_close(g);
    return json_gen_finish(g, a, NULL);
}

static void gen_job(yajl_gen g, const struct store_event_ctx *c)
{
    const struct ol_event *ev = c->ev;
    bool parent = has_parent_job(ev);

    yajl_gen_map_open(g);
    json_gen_key(g, "namespace");
    json_gen_str(g, ev->job_namespace);
    json_gen_key(g, "name");
    json_gen_str(g, ev->job_name);
    json_gen_key(g, "simple");
    json_gen_str(g, ev->job_simple_name);
    json_gen_key(g, "parent_namespace");
    json_gen_str(g, parent ? ev->parent_job_namespace : NULL);
    json_gen_key(g, "parent_name");
    json_gen_str(g, parent ? ev->parent_job_name : NULL);
    json_gen_key(g, "type");
    json_gen_str(g, ev->job_type);
    json_gen_key(g, "description");
    json_gen_str(g, ev->job_description);
    json_gen_key(g, "location");
    json_gen_str(g, ev->job_location);
    json_gen_key(g, "run_uuid");
    json_gen_str(g, ev->run_uuid[0] ? ev->run_uuid : NULL);
    gen_time_seq(g, c);
    yajl_gen_map_close(g);
}

struct job_ids {
    struct arena *a;
    struct store_event_ctx *c;
    size_t n;
};

/* Gives every event of the chunk the id of its job, from the upsert's RETURNING rows. */
static int on_job_ids(void *ctx, const PGresult *res, struct err *e)
{
    struct job_ids *j = ctx;
    (void)e;

    for (int row = 0; row < PQntuples(res); row++) {
        const char *ns = PQgetvalue(res, row, 1), *name = PQgetvalue(res, row, 2);
        const char *id = NULL;
        for (size_t k = 0; k < j->n; k++) {
            const struct ol_event *ev = j->c[k].ev;
            if (ev->kind == OL_DATASET_EVENT || strcmp(ev->job_namespace, ns) != 0 ||
                strcmp(ev->job_name, name) != 0)
                continue;
            if (id == NULL)
                id = arena_strdup(j->a, PQgetvalue(res, row, 0));
            j->c[k].job_id = id;
        }
    }
    return 0;
}

int store_upsert_jobs(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e)
{
    size_t parents, jobs = 0;
    const char *pp[] = {parents_param(a, c, n, &parents)};

    if (parents > 0 && (store_exec_command(s, &INSERT_PARENT_JOBS, pp, e) != 0 ||
                        store_exec_command(s, &LOWER_PARENT_JOBS, pp, e) != 0))
        return -1;
    yajl_gen g = json_gen_new();
    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++) {
        c[k].job_id = NULL;
        if (c[k].ev->kind != OL_DATASET_EVENT) {
            gen_job(g, &c[k]);
            jobs++;
        }
    }
    yajl_gen_array_close(g);
    const char *params[] = {json_gen_finish(g, a, NULL)};
    if (jobs == 0)
        return 0;
    struct job_ids *ids = arena_alloc(a, sizeof *ids);
    *ids = (struct job_ids){a, c, n};
    return store_pipeline_add(s, &UPSERT_JOBS, params, on_job_ids, ids, e);
}

int store_write_job_facets(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                           struct err *e)
{
    yajl_gen g = json_gen_new();
    size_t count = 0;

    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; c[k].job_id != NULL && i < c[k].ev->n_job_facets; i++, count++) {
            yajl_gen_map_open(g);
            store_gen_facet_value(g, &c[k].ev->job_facets[i]);
            store_gen_event_keys(g, &c[k]);
            yajl_gen_map_close(g);
        }
    }
    yajl_gen_array_close(g);
    const char *params[] = {json_gen_finish(g, a, NULL)};
    return count > 0 ? store_exec_command(s, &UPSERT_FACETS, params, e) : 0;
}
