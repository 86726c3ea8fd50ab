/* store/store_event.c - store_write_events: one transaction for a list of events, the event log
 * row first (idempotency), then the model rows, in a fixed table order.
 *
 * Invariants:
 *  1. The event's hash row is inserted first; ON CONFLICT (hash) means the event was already stored,
 *     and then nothing else is written for it (a retried POST changes nothing). The events row is
 *     written by the same statement, only for a new hash.
 *  2. The steps after the events rows are one ordered list, STEPS below; what they write depends on
 *     the set of events stored, not on their order or grouping (migrations/0009_*.sql). Shared rows
 *     are locked in one global order: every dataset and job of the whole chunk is upserted first,
 *     one sorted statement each (store_write.h); each event's own rows come after and are guarded by
 *     those locks. A deadlock that still happens is retried as a whole transaction.
 *  3. The caller acknowledges only after this returns 0 (COMMIT succeeded). */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#include "store_params.h"
#include "store_write.h"
#include "timefmt.h"

#define LOG_MODULE "store"
#include "log.h"

enum { STORE_WRITE_ATTEMPTS = 4 };

/* The hash row is the idempotency key (event_hashes, migrations/0007); the events row (partitioned by
 * received_at, so it cannot hold a unique hash) is written only when the hash row was. */
static const struct store_stmt INSERT_EVENT = {
    "event_insert",
    "WITH h AS (INSERT INTO event_hashes (hash, seq, received_at)"
    "  VALUES (decode($1, 'hex'), nextval('events_seq_seq'), now())"
    "  ON CONFLICT (hash) DO NOTHING RETURNING hash, seq, received_at),"
    " ev AS (INSERT INTO events (seq, hash, kind, event_type, event_time, producer, schema_url, run_uuid,"
    "  job_namespace, job_name, received_at, body)"
    "  SELECT h.seq, h.hash, $2, $3, $4::timestamptz, $5, $6, $7::uuid, $8, $9, h.received_at, $10::jsonb FROM h)"
    " SELECT seq FROM h",
    10};

/* Namespaces and sources: created at the time of the earliest event that names them. Rows that exist
 * are changed by a second statement (which sees rows other transactions committed meanwhile), and only
 * when an earlier event arrives or a deleted namespace is named again, so they are rarely locked. */
static const struct store_stmt INSERT_NAMESPACES = {
    "namespaces_insert",
    "INSERT INTO namespaces (name, created_at, updated_at)"
    " SELECT name, min(time), min(time) FROM jsonb_to_recordset($1::jsonb) AS x(name text, time timestamptz)"
    " GROUP BY name ORDER BY name ON CONFLICT (name) DO NOTHING",
    1};

static const struct store_stmt UPDATE_NAMESPACES = {
    "namespaces_update",
    "UPDATE namespaces SET is_hidden = false, created_at = least(created_at, n.time)"
    " FROM (SELECT name, min(time) AS time"
    "  FROM jsonb_to_recordset($1::jsonb) AS x(name text, time timestamptz) GROUP BY name) n"
    " WHERE namespaces.name = n.name AND (namespaces.is_hidden OR namespaces.created_at > n.time)",
    1};

/* A source keeps the connection URL of the earliest event that names it with one (then the smaller URL),
 * with that event's time as updated_at; created_at is the earliest event naming it at all. (A latest-wins
 * rule would rewrite the row of a source as common as "default" in nearly every transaction.) The chunk's
 * choice per source is SOURCES_CHOSEN (a subquery). */
#define SOURCES_CHOSEN                                                                                     \
    "(SELECT DISTINCT ON (name) name, uri AS connection_url, time AS updated_at,"                          \
    "  min(time) OVER (PARTITION BY name) AS created_at"                                                   \
    " FROM (SELECT name, coalesce(uri, '') AS uri, time FROM jsonb_to_recordset($1::jsonb)"                \
    "  AS y(name text, uri text, time timestamptz)) y"                                                     \
    " ORDER BY name, uri = '', time, uri)"

static const struct store_stmt INSERT_SOURCES = {
    "sources_insert",
    "INSERT INTO sources (name, connection_url, created_at, updated_at)"
    " SELECT name, connection_url, created_at, updated_at FROM " SOURCES_CHOSEN " x ORDER BY name"
    " ON CONFLICT (name) DO NOTHING",
    1};

/* Every comparison is against the target row s itself, never against a second scan of sources: when a
 * concurrent transaction updates the row first, Postgres re-evaluates SET and WHERE on its new version
 * (EvalPlanQual), while a joined copy would still hold the version this statement's snapshot saw. */
#define SOURCES_URL_FIRST                                                                                  \
    "((x.connection_url = '', x.updated_at, x.connection_url) < (s.connection_url = '', s.updated_at,"     \
    " s.connection_url))"

static const struct store_stmt UPDATE_SOURCES = {
    "sources_update",
    "UPDATE sources s SET created_at = least(s.created_at, x.created_at),"
    " connection_url = CASE WHEN " SOURCES_URL_FIRST " THEN x.connection_url ELSE s.connection_url END,"
    " updated_at = CASE WHEN " SOURCES_URL_FIRST " THEN x.updated_at ELSE s.updated_at END"
    " FROM " SOURCES_CHOSEN " x"
    " WHERE s.name = x.name AND (s.created_at > x.created_at OR " SOURCES_URL_FIRST ")",
    1};

const char *store_time_text(struct arena *a, int64_t usec)
{
    char buf[TIME_ISO_MAX];
    time_format_iso8601(usec, buf);
    return arena_strdup(a, buf);
}

void store_gen_facet_value(yajl_gen g, const struct ol_facet *f)
{
    json_gen_key(g, "facet");
    json_gen_str(g, f->name);
    json_gen_key(g, "value");
    if (f->deleted || f->value == NULL)
        yajl_gen_null(g);
    else
        json_write_canonical(g, f->value);
}

void store_gen_event_keys(yajl_gen g, const struct store_event_ctx *c)
{
    json_gen_key(g, "time");
    json_gen_str(g, c->time);
    json_gen_key(g, "seq");
    json_gen_str(g, c->seq);
    json_gen_key(g, "run_uuid");
    json_gen_str(g, c->ev->run_uuid[0] ? c->ev->run_uuid : NULL);
    json_gen_key(g, "job_id");
    json_gen_str(g, c->job_id);
}

/* Stores the new event's seq, or "" when the log already had the event. */
static int on_event_seq(void *ctx, const PGresult *res, struct err *e)
{
    struct store_event_ctx *c = ctx;
    (void)e;

    c->seq = PQntuples(res) > 0 ? arena_strdup(c->a, PQgetvalue(res, 0, 0)) : "";
    return 0;
}

/* Queues the log row; c->seq is set at the next flush. */
static int insert_event(struct store *s, struct store_event_ctx *c, struct err *e)
{
    const struct ol_event *ev = c->ev;
    char hex[65];

    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", ev->hash[i]);
    const char *params[] = {hex,
                            ol_kind_name(ev->kind),
                            ev->event_type,
                            c->time,
                            ev->producer,
                            ev->schema_url,
                            ev->run_uuid[0] ? ev->run_uuid : NULL,
                            ev->job_namespace,
                            ev->job_name,
                            ev->body};
    return store_pipeline_add(s, &INSERT_EVENT, params, on_event_seq, c, e);
}

/* {"name": ..., "time": ...} of one namespace an event names. */
static void gen_namespace(yajl_gen g, const char *name, const char *time)
{
    yajl_gen_map_open(g);
    json_gen_key(g, "name");
    json_gen_str(g, name);
    json_gen_key(g, "time");
    json_gen_str(g, time);
    yajl_gen_map_close(g);
}

/* Namespaces and sources of every new event of the chunk, one statement each, in event order. */
static int write_namespaces_and_sources(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                                        struct err *e)
{
    size_t n_sources = 0;
    yajl_gen names = json_gen_new(), sources = json_gen_new();

    yajl_gen_array_open(names);
    yajl_gen_array_open(sources);
    for (size_t k = 0; k < n; k++) {
        const struct ol_event *ev = c[k].ev;
        if (ev->job_namespace)
            gen_namespace(names, ev->job_namespace, c[k].time);
        if (ev->has_parent)
            gen_namespace(names, ev->parent_job_namespace, c[k].time);
        for (size_t i = 0; i < ev->n_datasets; i++, n_sources++) {
            gen_namespace(names, ev->datasets[i].namespace, c[k].time);
            yajl_gen_map_open(sources);
            json_gen_key(sources, "name");
            json_gen_str(sources, ev->datasets[i].source_name);
            json_gen_key(sources, "uri");
            json_gen_str(sources, ev->datasets[i].source_uri);
            json_gen_key(sources, "time");
            json_gen_str(sources, c[k].time);
            yajl_gen_map_close(sources);
        }
    }
    yajl_gen_array_close(names);
    yajl_gen_array_close(sources);
    const char *p1[] = {json_gen_finish(names, a, NULL)};
    const char *p2[] = {json_gen_finish(sources, a, NULL)};
    if (store_exec_command(s, &INSERT_NAMESPACES, p1, e) != 0 ||
        store_exec_command(s, &UPDATE_NAMESPACES, p1, e) != 0)
        return -1;
    if (n_sources == 0)
        return 0;
    if (store_exec_command(s, &INSERT_SOURCES, p2, e) != 0)
        return -1;
    return store_exec_command(s, &UPDATE_SOURCES, p2, e);
}

/* The steps of the write transaction, in order, after the events rows told which events are new. Each
 * writes the rows of every new event of the chunk (store_write.h). The order is the lock order of
 * invariant 2 (namespaces, sources, datasets, jobs by key), then what refers to them; a step whose
 * results a later step needs is followed by a flush of the pipeline. */
static const struct write_step {
    int (*fn)(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e);
    bool flush_after;
} STEPS[] = {
    {write_namespaces_and_sources, false},
    {store_upsert_datasets, false},
    {store_upsert_jobs, true},             /* the job ids every later step uses */
    {store_write_dataset_details, false},  /* fields, symlinks, facets, version rows */
    {store_write_job_facets, false},
    {store_write_runs, false},             /* per event, in event order */
    {store_write_run_details, false},      /* state history, run facets */
    {store_write_lineage, false},          /* run and job IO, IO facets, column lineage */
    {store_settle_versions, false},        /* when versions became readable, what inputs read, current */
    {store_settle_job_versions, false},    /* after the lineage they summarise */
    {store_write_read_upkeep, false},      /* last: latest run states and event counts (read routes) */
};

/* In three round trips: BEGIN and the events rows (which events are new?); the steps up to the job ids;
 * the rest and COMMIT. */
static int write_chunk(struct store *s, struct arena *a, const struct ol_event *events, size_t n,
                       enum store_outcome *outcomes, struct err *e)
{
    struct store_event_ctx *c = arena_zalloc(a, (n + 1) * sizeof *c);
    size_t m = 0;

    if (store_command(s, "BEGIN", e) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        c[i] = (struct store_event_ctx){.a = a, .ev = &events[i], .time = store_time_text(a, events[i].event_time)};
        if (insert_event(s, &c[i], e) != 0)
            return -1;
    }
    if (store_pipeline_flush(s, e) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        outcomes[i] = c[i].seq[0] ? STORE_WRITTEN : STORE_DUPLICATE;
        if (c[i].seq[0])
            c[m++] = c[i];
    }
    for (size_t k = 0; m > 0 && k < sizeof STEPS / sizeof STEPS[0]; k++) {
        if (STEPS[k].fn(s, a, c, m, e) != 0)
            return -1;
        if (STEPS[k].flush_after && store_pipeline_flush(s, e) != 0)
            return -1;
    }
    if (store_command(s, "COMMIT", e) != 0)
        return -1;
    return store_pipeline_flush(s, e);
}

static int write_all(struct store *s, struct arena *a, const struct ol_event *events, size_t n,
                     enum store_outcome *outcomes, struct err *e)
{
    struct err ignored;

    if (store_pipeline_start(s, e) != 0)
        return -1;
    int rc = write_chunk(s, a, events, n, outcomes, e);
    store_pipeline_end(s);
    if (rc != 0) {
        /* The original error is what matters; a failed ROLLBACK only means the connection is gone. */
        store_command(s, "ROLLBACK", &ignored);
        return -1;
    }
    return 0;
}

int store_write_events(struct store *s, struct arena *a, const struct ol_event *events, size_t n,
                       enum store_outcome *outcomes, struct err *e)
{
    for (int attempt = 1;; attempt++) {
        if (write_all(s, a, events, n, outcomes, e) == 0)
            return 0;
        if (!store_err_serialization(e) || attempt == STORE_WRITE_ATTEMPTS)
            return -1;
        log_warn("retrying a transaction of %zu events (attempt %d): %s", n, attempt + 1, e->detail);
    }
}
