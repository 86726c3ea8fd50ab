/* common/store_event.c - store_write_events: one transaction for a list of events, the event log
 * row first (idempotency), then the model rows, in a fixed table order.
 *
 * Invariants:
 *  1. The events row is inserted first; ON CONFLICT (hash) means the event was already stored, and
 *     then nothing else is written for it (a retried POST changes nothing).
 *  2. Tables are always touched in the same order (namespaces, sources, datasets, jobs, runs, edges,
 *     facets) and multi-row upserts are sorted by key, so concurrent events cannot deadlock on each
 *     other's rows; a deadlock that still happens is retried as a whole transaction.
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

static const struct store_stmt INSERT_EVENT = {
    "event_insert",
    "INSERT INTO events (hash, kind, event_type, event_time, producer, schema_url, run_uuid, job_namespace,"
    " job_name, body) VALUES (decode($1, 'hex'), $2, $3, $4::timestamptz, $5, $6, $7::uuid, $8, $9, $10::jsonb)"
    " ON CONFLICT (hash) DO NOTHING RETURNING seq",
    10};

static const struct store_stmt UPSERT_NAMESPACES = {
    "namespaces_upsert",
    "WITH n AS (SELECT DISTINCT value AS name FROM jsonb_array_elements_text($1::jsonb)),"
    " ins AS (INSERT INTO namespaces (name, created_at, updated_at)"
    "  SELECT name, $2::timestamptz, $2::timestamptz FROM n ORDER BY name ON CONFLICT (name) DO NOTHING)"
    " UPDATE namespaces SET is_hidden = false FROM n WHERE namespaces.name = n.name AND namespaces.is_hidden",
    2};

static const struct store_stmt UPSERT_SOURCES = {
    "sources_upsert",
    "INSERT INTO sources (name, connection_url, created_at, updated_at)"
    " SELECT DISTINCT ON (name) name, coalesce(uri, ''), $2::timestamptz, $2::timestamptz"
    " FROM jsonb_to_recordset($1::jsonb) AS x(name text, uri text) ORDER BY name"
    " ON CONFLICT (name) DO NOTHING",
    2};

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

const char *store_facets_param(struct arena *a, const struct ol_facet *fs, size_t n)
{
    yajl_gen g = json_gen_new();

    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        yajl_gen_map_open(g);
        store_gen_facet_value(g, &fs[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    return json_gen_finish(g, a, NULL);
}

/* Inserts the log row. *seq_out is "" for a duplicate. */
static int insert_event(struct store *s, struct arena *a, const struct ol_event *ev, const char *time,
                        const char **seq_out, struct err *e)
{
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", ev->hash[i]);
    const char *params[] = {hex,
                            ol_kind_name(ev->kind),
                            ev->event_type,
                            time,
                            ev->producer,
                            ev->schema_url,
                            ev->run_uuid[0] ? ev->run_uuid : NULL,
                            ev->job_namespace,
                            ev->job_name,
                            ev->body};
    PGresult *res = store_exec(s, &INSERT_EVENT, params, e);
    if (res == NULL)
        return -1;
    *seq_out = PQntuples(res) > 0 ? arena_strdup(a, PQgetvalue(res, 0, 0)) : "";
    PQclear(res);
    return 0;
}

static int write_namespaces_and_sources(struct store *s, const struct store_event_ctx *c, struct err *e)
{
    const struct ol_event *ev = c->ev;
    yajl_gen g = json_gen_new();

    yajl_gen_array_open(g);
    if (ev->job_namespace)
        json_gen_str(g, ev->job_namespace);
    if (ev->has_parent)
        json_gen_str(g, ev->parent_job_namespace);
    for (size_t i = 0; i < ev->n_datasets; i++)
        json_gen_str(g, ev->datasets[i].namespace);
    yajl_gen_array_close(g);
    const char *names = json_gen_finish(g, c->a, NULL);

    g = json_gen_new();
    yajl_gen_array_open(g);
    for (size_t i = 0; i < ev->n_datasets; i++) {
        yajl_gen_map_open(g);
        json_gen_key(g, "name");
        json_gen_str(g, ev->datasets[i].source_name);
        json_gen_key(g, "uri");
        json_gen_str(g, ev->datasets[i].source_uri);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    const char *sources = json_gen_finish(g, c->a, NULL);

    const char *p1[] = {names, c->time};
    PGresult *res = store_exec(s, &UPSERT_NAMESPACES, p1, e);
    if (res == NULL)
        return -1;
    PQclear(res);
    if (ev->n_datasets == 0)
        return 0;
    const char *p2[] = {sources, c->time};
    res = store_exec(s, &UPSERT_SOURCES, p2, e);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

/* Writes one event's rows. */
static int write_one(struct store *s, struct arena *a, const struct ol_event *ev, enum store_outcome *outcome,
                     struct err *e)
{
    struct store_event_ctx c = {.a = a, .ev = ev, .time = store_time_text(a, ev->event_time)};
    const char *job_id = NULL;

    if (insert_event(s, a, ev, c.time, &c.seq, e) != 0)
        return -1;
    if (c.seq[0] == '\0') {
        *outcome = STORE_DUPLICATE;
        return 0;
    }
    *outcome = STORE_WRITTEN;
    if (write_namespaces_and_sources(s, &c, e) != 0 || store_write_datasets(s, &c, e) != 0)
        return -1;
    if (ev->kind != OL_DATASET_EVENT && store_write_job(s, &c, &job_id, e) != 0)
        return -1;
    if (ev->kind == OL_RUN_EVENT && store_write_run(s, &c, job_id, e) != 0)
        return -1;
    if (ev->kind != OL_DATASET_EVENT && store_write_lineage(s, &c, job_id, e) != 0)
        return -1;
    if (ev->kind == OL_RUN_EVENT && store_write_job_version(s, &c, job_id, e) != 0)
        return -1;
    return 0;
}

static int write_all(struct store *s, struct arena *a, const struct ol_event *events, size_t n,
                     enum store_outcome *outcomes, struct err *e)
{
    struct err ignored;

    if (store_command(s, "BEGIN", e) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (write_one(s, a, &events[i], &outcomes[i], e) != 0)
            goto fail;
    }
    if (store_command(s, "COMMIT", e) != 0)
        goto fail;
    return 0;
fail:
    /* The original error is what matters; a failed ROLLBACK only means the connection is gone. */
    store_command(s, "ROLLBACK", &ignored);
    return -1;
}

int store_write_events(struct store *s, struct arena *a, const struct ol_event *events, size_t n,
                       enum store_outcome *outcomes, struct err *e)
{
    for (int attempt = 1;; attempt++) {
        if (write_all(s, a, events, n, outcomes, e) == 0)
            return 0;
        if (!store_err_retryable(e) || attempt == STORE_WRITE_ATTEMPTS)
            return -1;
        log_warn("retrying a transaction of %zu events (attempt %d): %s", n, attempt + 1, e->detail);
    }
}
