/* store/store_runs.c - every statement on runs, run_states, run_facets and job_versions.
 *
 * Run state (runs.state, state_time, ended_at) is the state of the run's event that is latest by
 * run_state_wins (migrations/0009_order_independent_model.sql):
 *
 *     (none) --any event--> its state
 *     NEW (a parent run only children named) --START/RUNNING/OTHER or terminal--> that state
 *     RUNNING --START/RUNNING/OTHER, later eventTime--> RUNNING (state_time = latest)
 *     RUNNING --COMPLETE/FAIL/ABORT--> terminal
 *     terminal --START/RUNNING/OTHER--> unchanged (a late or retried event never regresses it)
 *     terminal --terminal, later eventTime--> the later terminal state (a rerun of the same runId)
 *     terminal --terminal, same eventTime--> FAILED over ABORTED over COMPLETED
 *     terminal --terminal, earlier eventTime--> unchanged
 *
 * started_at is the earliest START/RUNNING time, completed_at the earliest COMPLETE time (when the
 * run's outputs become readable: store_settle_versions), ended_at the time of the terminal event that
 * set the state. Other attributes (parent run, nominal times, the job's location) are those of the
 * latest event that names them, kept with that time; streaming, whether any event said the job streams.
 * Invariants:
 *  1. A parent run is created (state NEW) if a child's event arrives first; its times (and seq) are then
 *     the earliest child's, and its own events replace them (updated_at, seq) or merge in (created_at).
 *  2. run_states gets one row per distinct event (duplicates never reach here).
 *  3. The run upsert stays one statement per event, in event order: one INSERT ... ON CONFLICT cannot
 *     update a row twice. History and facets are written per chunk.
 *  4. A run's job version is computed from *all* of its inputs and outputs (run_io), whenever it is
 *     terminal or its job streams, so it runs after store_write_lineage (store_settle_job_versions). */
#include <string.h>

#include "store_write.h"

static const struct store_stmt INSERT_PARENT_RUN = {
    "runs_insert_parent",
    "INSERT INTO runs (uuid, job_id, state, state_time, created_at, updated_at, seq)"
    " SELECT $1::uuid, id, 'NEW', $4::timestamptz, $4::timestamptz, $4::timestamptz, $5::bigint"
    " FROM jobs WHERE namespace = $2 AND name = $3 ON CONFLICT (uuid) DO NOTHING",
    5};

/* A child named the parent run earlier than anything seen so far (invariant 1): a separate statement,
 * so that the parent's row is locked only when it changes. */
static const struct store_stmt LOWER_PARENT_RUN = {
    "runs_lower_parent",
    "UPDATE runs SET created_at = least(created_at, $2::timestamptz),"
    " state_time = CASE WHEN state = 'NEW' THEN least(state_time, $2::timestamptz) ELSE state_time END,"
    " updated_at = CASE WHEN state = 'NEW' THEN least(updated_at, $2::timestamptz) ELSE updated_at END,"
    " seq = CASE WHEN state = 'NEW' THEN least(seq, $3::bigint) ELSE seq END"
    " WHERE uuid = $1::uuid AND (created_at > $2::timestamptz OR (state = 'NEW' AND seq > $3::bigint))",
    3};

#define WINS "run_state_wins(EXCLUDED.state, EXCLUDED.state_time, r.state, r.state_time)"
/* Whether the incoming parent run, nominal times, job location replace the row's: the later event time,
 * then the greater value. */
#define NEW_PARENT                                                                                           \
    "(EXCLUDED.parent_at IS NOT NULL AND (r.parent_at IS NULL OR (EXCLUDED.parent_at, "                      \
    "EXCLUDED.parent_run_uuid)"                                                                              \
    " > (r.parent_at, r.parent_run_uuid)))"
#define NEW_NOMINAL                                                                                          \
    "(EXCLUDED.nominal_at IS NOT NULL AND (r.nominal_at IS NULL OR (EXCLUDED.nominal_at,"                    \
    " coalesce(EXCLUDED.nominal_start_time, '-infinity'), coalesce(EXCLUDED.nominal_end_time, '-infinity'))" \
    " > (r.nominal_at, coalesce(r.nominal_start_time, '-infinity'), coalesce(r.nominal_end_time, "           \
    "'-infinity'))))"
#define NEW_LOCATION                                                                                         \
    "(EXCLUDED.job_location_at IS NOT NULL AND (r.job_location_at IS NULL OR (EXCLUDED.job_location_at,"     \
    " EXCLUDED.job_location) > (r.job_location_at, r.job_location)))"

static const struct store_stmt UPSERT_RUN = {
    "runs_upsert",
    "INSERT INTO runs AS r (uuid, job_id, parent_run_uuid, parent_at, state, state_time, nominal_start_time,"
    " nominal_end_time, nominal_at, started_at, ended_at, completed_at, job_location, job_location_at,"
    " streaming, created_at, updated_at, seq)"
    " VALUES ($1::uuid, $2::bigint, $3::uuid, CASE WHEN $3::uuid IS NOT NULL THEN $5::timestamptz END, $4,"
    "  $5::timestamptz, $6::timestamptz, $7::timestamptz,"
    "  CASE WHEN $6::timestamptz IS NOT NULL OR $7::timestamptz IS NOT NULL THEN $5::timestamptz END,"
    "  CASE WHEN $4 = 'RUNNING' THEN $5::timestamptz END, CASE WHEN $4 <> 'RUNNING' THEN $5::timestamptz END,"
    "  CASE WHEN $4 = 'COMPLETED' THEN $5::timestamptz END, $9::text,"
    "  CASE WHEN $9::text IS NOT NULL THEN $5::timestamptz END, $10::boolean, $5::timestamptz, "
    "$5::timestamptz,"
    "  $8::bigint)"
    " ON CONFLICT (uuid) DO UPDATE SET"
    "  job_id = CASE WHEN r.state = 'NEW' THEN EXCLUDED.job_id ELSE r.job_id END,"
    "  state = CASE WHEN " WINS " THEN EXCLUDED.state ELSE r.state END,"
    "  state_time = CASE WHEN " WINS " THEN EXCLUDED.state_time ELSE r.state_time END,"
    "  ended_at = CASE WHEN " WINS " THEN EXCLUDED.ended_at ELSE r.ended_at END,"
    "  started_at = least(r.started_at, EXCLUDED.started_at),"
    "  completed_at = least(r.completed_at, EXCLUDED.completed_at),"
    "  parent_run_uuid = CASE WHEN " NEW_PARENT " THEN EXCLUDED.parent_run_uuid"
    "   ELSE r.parent_run_uuid END,"
    "  parent_at = CASE WHEN " NEW_PARENT " THEN EXCLUDED.parent_at ELSE r.parent_at END,"
    "  nominal_start_time = CASE WHEN " NEW_NOMINAL
    "   THEN EXCLUDED.nominal_start_time ELSE r.nominal_start_time END,"
    "  nominal_end_time = CASE WHEN " NEW_NOMINAL
    "   THEN EXCLUDED.nominal_end_time ELSE r.nominal_end_time END,"
    "  nominal_at = CASE WHEN " NEW_NOMINAL " THEN EXCLUDED.nominal_at ELSE r.nominal_at END,"
    "  job_location = CASE WHEN " NEW_LOCATION "   THEN EXCLUDED.job_location ELSE r.job_location END,"
    "  job_location_at = CASE WHEN " NEW_LOCATION
    "   THEN EXCLUDED.job_location_at ELSE r.job_location_at END,"
    "  streaming = r.streaming OR EXCLUDED.streaming,"
    "  created_at = least(r.created_at, EXCLUDED.created_at),"
    "  updated_at = CASE WHEN r.state = 'NEW' THEN EXCLUDED.updated_at"
    "   ELSE greatest(r.updated_at, EXCLUDED.updated_at) END,"
    "  seq = greatest(r.seq, EXCLUDED.seq)",
    10};

/* Chunk-level: one row per Run event. */
static const struct store_stmt INSERT_STATES = {
    "run_states_insert",
    "INSERT INTO run_states (run_uuid, event_type, state, transitioned_at, seq)"
    " SELECT run_uuid, event_type, state, time, seq FROM jsonb_to_recordset($1::jsonb) AS x(run_uuid uuid,"
    "  event_type text, state text, time timestamptz, seq bigint)",
    1};

/* Chunk-level: one row per run facet of every Run event; the latest event time wins per key, then the
 * greater value (a deletion, NULL, counting as the greatest). */
static const struct store_stmt UPSERT_FACETS = {
    "run_facets_upsert",
    "INSERT INTO run_facets AS f (run_uuid, name, facet, event_time, seq)"
    " SELECT DISTINCT ON (x.run_uuid, x.facet) x.run_uuid, x.facet, x.value, x.time, x.seq"
    " FROM jsonb_to_recordset($1::jsonb) AS x(run_uuid uuid, facet text, value jsonb, time timestamptz,"
    "  seq bigint)"
    " ORDER BY x.run_uuid, x.facet, x.time DESC, x.value IS NULL DESC, x.value DESC, x.seq"
    " ON CONFLICT (run_uuid, name) DO UPDATE SET facet = EXCLUDED.facet, event_time = EXCLUDED.event_time,"
    "  seq = EXCLUDED.seq"
    " WHERE " FACET_LATER,
    1};

/* $1: the run UUIDs of the chunk's RunEvents (migrations/0009_order_independent_model.sql). */
static const struct store_stmt SETTLE_JOB_VERSIONS = {"job_versions_settle",
                                                      "SELECT job_versions_settle($1::jsonb)", 1};

/* The run of one RunEvent and its parent run. */
static int write_run(struct store *s, const struct store_event_ctx *c, struct err *e)
{
    const struct ol_event *ev = c->ev;
    const char *state = run_state_name(ev->state);

    if (ev->has_parent) {
        const char *p[] = {ev->parent_run_uuid, ev->parent_job_namespace, ev->parent_job_name, c->time,
                           c->seq};
        const char *lower[] = {ev->parent_run_uuid, c->time, c->seq};
        if (store_exec_command(s, &INSERT_PARENT_RUN, p, e) != 0 ||
            store_exec_command(s, &LOWER_PARENT_RUN, lower, e) != 0)
            return -1;
    }
    const char *params[] = {ev->run_uuid,
                            c->job_id,
                            ev->has_parent ? ev->parent_run_uuid : NULL,
                            state,
                            c->time,
                            ev->has_nominal_start ? store_time_text(c->a, ev->nominal_start) : NULL,
                            ev->has_nominal_end ? store_time_text(c->a, ev->nominal_end) : NULL,
                            c->seq,
                            ev->job_location,
                            strcmp(ev->job_type, "STREAM") == 0 ? "true" : "false"};
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

int store_write_runs(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e)
{
    (void)a;
    for (size_t k = 0; k < n; k++)
        if (c[k].ev->kind == OL_RUN_EVENT && write_run(s, &c[k], e) != 0)
            return -1;
    return 0;
}

int store_settle_job_versions(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                              struct err *e)
{
    yajl_gen g = json_gen_new();
    size_t runs = 0;

    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++) {
        if (c[k].ev->kind == OL_RUN_EVENT) {
            json_gen_str(g, c[k].ev->run_uuid);
            runs++;
        }
    }
    yajl_gen_array_close(g);
    const char *params[] = {json_gen_finish(g, a, NULL)};
    return runs > 0 ? store_exec_command(s, &SETTLE_JOB_VERSIONS, params, e) : 0;
}
