/* store/store_runs.c - every statement on runs, run_states, run_facets and job_versions.
 *
 * Run state is merged in SQL by run_state_merge (migrations/0001_init.sql draws the diagram):
 * a terminal state (COMPLETED, FAILED, ABORTED) never goes back to RUNNING, COMPLETE without START
 * is fine, and between two terminal events the later eventTime wins. started_at is the earliest
 * START/RUNNING time seen; ended_at the time of the terminal event that set the state.
 * Invariants:
 *  1. A parent run is created (state NEW) if the child's event arrives first; its own events merge in.
 *  2. run_states gets one row per distinct event (duplicates never reach here).
 *  4. The run upsert stays one statement per event, in event order: merging states needs each event
 *     applied on its own (one INSERT ... ON CONFLICT cannot update a row twice). History and facets
 *     are written per chunk.
 *  3. A job version is computed from *all* of the run's inputs and outputs (run_io), so it must run
 *     after store_write_lineage. */
#include <string.h>

#include "store_write.h"

static const struct store_stmt INSERT_PARENT_RUN = {
    "runs_insert_parent",
    "INSERT INTO runs (uuid, job_id, state, state_time, created_at, updated_at, seq)"
    " SELECT $1::uuid, id, 'NEW', $4::timestamptz, $4::timestamptz, $4::timestamptz, $5::bigint"
    " FROM jobs WHERE namespace = $2 AND name = $3 ON CONFLICT (uuid) DO NOTHING",
    5};

#define MERGED "run_state_merge(r.state, r.state_time, EXCLUDED.state, EXCLUDED.state_time)"
#define NEW_WINS                                                                                           \
    "(" MERGED " = EXCLUDED.state AND (r.state <> EXCLUDED.state OR EXCLUDED.state_time > r.state_time))"

static const struct store_stmt UPSERT_RUN = {
    "runs_upsert",
    "INSERT INTO runs AS r (uuid, job_id, parent_run_uuid, state, state_time, nominal_start_time,"
    " nominal_end_time, started_at, ended_at, created_at, updated_at, seq)"
    " VALUES ($1::uuid, $2::bigint, $3::uuid, $4, $5::timestamptz, $6::timestamptz, $7::timestamptz,"
    "  CASE WHEN $4 = 'RUNNING' THEN $5::timestamptz END,"
    "  CASE WHEN $4 <> 'RUNNING' THEN $5::timestamptz END, $5::timestamptz, $5::timestamptz, $8::bigint)"
    " ON CONFLICT (uuid) DO UPDATE SET"
    "  state = " MERGED ","
    "  state_time = CASE WHEN " NEW_WINS " THEN EXCLUDED.state_time ELSE r.state_time END,"
    "  ended_at = CASE WHEN EXCLUDED.ended_at IS NOT NULL AND " NEW_WINS
    "   THEN EXCLUDED.ended_at ELSE r.ended_at END,"
    "  started_at = least(r.started_at, EXCLUDED.started_at),"
    "  parent_run_uuid = coalesce(EXCLUDED.parent_run_uuid, r.parent_run_uuid),"
    "  nominal_start_time = coalesce(EXCLUDED.nominal_start_time, r.nominal_start_time),"
    "  nominal_end_time = coalesce(EXCLUDED.nominal_end_time, r.nominal_end_time),"
    "  created_at = least(r.created_at, EXCLUDED.created_at),"
    "  updated_at = greatest(r.updated_at, EXCLUDED.updated_at), seq = EXCLUDED.seq",
    8};

/* Chunk-level: one row per Run event. */
static const struct store_stmt INSERT_STATES = {
    "run_states_insert",
    "INSERT INTO run_states (run_uuid, event_type, state, transitioned_at, seq)"
    " SELECT run_uuid, event_type, state, time, seq FROM jsonb_to_recordset($1::jsonb) AS x(run_uuid uuid,"
    "  event_type text, state text, time timestamptz, seq bigint)",
    1};

/* Chunk-level: one row per run facet of every Run event; the latest event time wins per key. */
static const struct store_stmt UPSERT_FACETS = {
    "run_facets_upsert",
    "INSERT INTO run_facets AS f (run_uuid, name, facet, event_time, seq)"
    " SELECT DISTINCT ON (x.run_uuid, x.facet) x.run_uuid, x.facet, x.value, x.time, x.seq"
    " FROM jsonb_to_recordset($1::jsonb) AS x(run_uuid uuid, facet text, value jsonb, time timestamptz,"
    "  seq bigint)"
    " ORDER BY x.run_uuid, x.facet, x.time DESC, x.seq DESC"
    " ON CONFLICT (run_uuid, name) DO UPDATE SET facet = EXCLUDED.facet, event_time = EXCLUDED.event_time,"
    "  seq = EXCLUDED.seq"
    " WHERE f.event_time <= EXCLUDED.event_time",
    1};

/* Marquez's job version: UUIDv3 of "namespace:job:<inputs ns:name...>:<outputs ns:name...>[:location]:"
 * (the trailing empty part is the job context, always empty for OpenLineage jobs). */
/* At COMPLETE, every output the run wrote (in any of its events) becomes its dataset's current
 * version, unless a newer version already is (Marquez promotes a run's outputs on completion). */
static const struct store_stmt PROMOTE_OUTPUTS = {
    "datasets_promote_run_outputs",
    "UPDATE datasets d SET current_version = io.dataset_version"
    " FROM run_io io"
    " WHERE io.run_uuid = $1::uuid AND io.io_type = 'OUTPUT' AND d.id = io.dataset_id"
    "  AND io.dataset_version IS NOT NULL AND d.current_version IS DISTINCT FROM io.dataset_version"
    "  AND coalesce((SELECT v.created_at FROM dataset_versions v WHERE v.version = d.current_version),"
    "   '-infinity') <= $2::timestamptz",
    2};

static const struct store_stmt UPSERT_JOB_VERSION = {
    "job_versions_upsert",
    "WITH io AS (SELECT ri.io_type, d.namespace, d.name FROM run_io ri JOIN datasets d ON d.id = ri.dataset_id"
    "  WHERE ri.run_uuid = $1::uuid),"
    " parts AS (SELECT"
    "  coalesce((SELECT string_agg(namespace || ':' || name, ':' ORDER BY namespace COLLATE \"C\","
    "   name COLLATE \"C\") FROM io WHERE io_type = 'INPUT'), '') AS ins,"
    "  coalesce((SELECT string_agg(namespace || ':' || name, ':' ORDER BY namespace COLLATE \"C\","
    "   name COLLATE \"C\") FROM io WHERE io_type = 'OUTPUT'), '') AS outs,"
    "  coalesce((SELECT jsonb_agg(jsonb_build_object('namespace', namespace, 'name', name) ORDER BY"
    "   namespace COLLATE \"C\", name COLLATE \"C\") FROM io WHERE io_type = 'INPUT'), '[]') AS in_json,"
    "  coalesce((SELECT jsonb_agg(jsonb_build_object('namespace', namespace, 'name', name) ORDER BY"
    "   namespace COLLATE \"C\", name COLLATE \"C\") FROM io WHERE io_type = 'OUTPUT'), '[]') AS out_json),"
    " v AS (SELECT uuid_v3_md5(concat_ws(':', $3::text, $4::text, ins, outs, $5::text, '')) AS version, in_json, out_json"
    "  FROM parts),"
    " jv AS (INSERT INTO job_versions AS j (version, job_id, location, latest_run_uuid, inputs, outputs,"
    "   created_at, updated_at, seq)"
    "  SELECT version, $2::bigint, $5::text, $1::uuid, in_json, out_json, $6::timestamptz, $6::timestamptz,"
    "   $7::bigint FROM v"
    "  ON CONFLICT (version) DO UPDATE SET latest_run_uuid = CASE WHEN EXCLUDED.updated_at >= j.updated_at"
    "   THEN EXCLUDED.latest_run_uuid ELSE j.latest_run_uuid END,"
    "   updated_at = greatest(j.updated_at, EXCLUDED.updated_at), seq = EXCLUDED.seq),"
    " r AS (UPDATE runs SET job_version = (SELECT version FROM v) WHERE uuid = $1::uuid)"
    " UPDATE jobs SET current_version = (SELECT version FROM v)"
    " WHERE id = $2::bigint AND (latest_run_uuid = $1::uuid OR current_version IS NULL)",
    7};

/* The run of one RunEvent and its parent run. */
static int write_run(struct store *s, const struct store_event_ctx *c, struct err *e)
{
    const struct ol_event *ev = c->ev;
    const char *state = run_state_name(ev->state);

    if (ev->has_parent) {
        const char *p[] = {ev->parent_run_uuid, ev->parent_job_namespace, ev->parent_job_name, c->time, c->seq};
        if (store_exec_command(s, &INSERT_PARENT_RUN, p, e) != 0)
            return -1;
    }
    const char *params[] = {ev->run_uuid,
                            c->job_id,
                            ev->has_parent ? ev->parent_run_uuid : NULL,
                            state,
                            c->time,
                            ev->has_nominal_start ? store_time_text(c->a, ev->nominal_start) : NULL,
                            ev->has_nominal_end ? store_time_text(c->a, ev->nominal_end) : NULL,
                            c->seq};
    return store_exec_command(s, &UPSERT_RUN, params, e);
}

int store_write_run_details(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                            struct err *e)
{
    yajl_gen states = json_gen_new(), facets = json_gen_new();
    size_t n_states = 0, n_facets = 0;

    yajl_gen_array_open(states);
    yajl_gen_array_open(facets);
    for (size_t k = 0; k < n; k++) {
        const struct ol_event *ev = c[k].ev;
        if (ev->kind != OL_RUN_EVENT)
            continue;
        yajl_gen_map_open(states);
        json_gen_key(states, "event_type");
        json_gen_str(states, ev->event_type);
        json_gen_key(states, "state");
        json_gen_str(states, run_state_name(ev->state));
        store_gen_event_keys(states, &c[k]);
        yajl_gen_map_close(states);
        n_states++;
        for (size_t i = 0; i < ev->n_run_facets; i++, n_facets++) {
            yajl_gen_map_open(facets);
            store_gen_facet_value(facets, &ev->run_facets[i]);
            store_gen_event_keys(facets, &c[k]);
            yajl_gen_map_close(facets);
        }
    }
    yajl_gen_array_close(states);
    yajl_gen_array_close(facets);
    const char *sp[] = {json_gen_finish(states, a, NULL)};
    const char *fp[] = {json_gen_finish(facets, a, NULL)};
    if (n_states > 0 && store_exec_command(s, &INSERT_STATES, sp, e) != 0)
        return -1;
    return n_facets > 0 ? store_exec_command(s, &UPSERT_FACETS, fp, e) : 0;
}

/* The job version of one RunEvent, when its state or job type calls for one. */
static int write_job_version(struct store *s, const struct store_event_ctx *c, struct err *e)
{
    const char *job_id = c->job_id;
    const struct ol_event *ev = c->ev;

    if (!run_state_is_terminal(ev->state) && strcmp(ev->job_type, "STREAM") != 0)
        return 0;
    if (ev->state == RUN_STATE_COMPLETED) {
        const char *pp[] = {ev->run_uuid, c->time};
        if (store_exec_command(s, &PROMOTE_OUTPUTS, pp, e) != 0)
            return -1;
    }
    const char *params[] = {ev->run_uuid, job_id,  ev->job_namespace, ev->job_name,
                            ev->job_location, c->time, c->seq};
    return store_exec_command(s, &UPSERT_JOB_VERSION, params, e);
}

int store_write_runs(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e)
{
    (void)a;
    for (size_t k = 0; k < n; k++)
        if (c[k].ev->kind == OL_RUN_EVENT && write_run(s, &c[k], e) != 0)
            return -1;
    return 0;
}

int store_write_job_versions(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e)
{
    (void)a;
    for (size_t k = 0; k < n; k++)
        if (c[k].ev->kind == OL_RUN_EVENT && write_job_version(s, &c[k], e) != 0)
            return -1;
    return 0;
}
