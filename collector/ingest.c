/* collector/ingest.c - POST /api/v1/lineage and /api/v1/lineage/batch: the ingest pipeline.
 *
 * Every request goes through the same steps, in this order:
 *   body_decode         Content-Type, Content-Encoding, size limits     collector/body.c
 *   json_parse          JSON tree under a depth limit, strict UTF-8     common/json_parse.c
 *   decode_event        JSON -> struct ol_event, every violation listed collector/decode.c
 *   ol_event_hash       the event's identity (idempotency key)          common/event.c
 *   store_write_events  one transaction per chunk, then COMMIT          store/store_event.c
 *   sync_event          the committed events into the lineage graph     collector/sync.c
 *   reply               201, or the batch summary
 * Invariants:
 *  1. A 201 (or a "stored" outcome in a batch reply) is sent only after the COMMIT that holds the event.
 *  2. Arrays are written in chunks of --batch-chunk events, one transaction each.
 *  3. Duplicates (same canonical event already in the log) count as success: clients retry POSTs.
 *  4. In a group, each request's answer is its own: a shared write that fails is retried request by
 *     request, and an error of one request never lands in another's reply.
 *  5. Every event a request carried is counted once in r->metrics, with its final outcome (stored,
 *     duplicate, invalid, rejected with its invalid neighbours, failed); a group written together
 *     that fails is counted by the request-by-request retry only.
 *  6. A request's memory is checked against its arena's budgets while it is parsed (json_parse) and
 *     before each event is decoded: past them it fails (413 own limit, 503 shared) before any write. */
#include "ingest.h"

#include <string.h>

#include "body.h"
#include "cfg.h"
#include "decode.h"
#include "json.h"
#include "metrics.h"
#include "store.h"
#include "sync.h"

#define LOG_MODULE "ingest"
#include "log.h"

/* Decoded body -> parsed JSON, or NULL with e set. */
static struct json_value *parse_body(struct req *r, struct err *e)
{
    size_t len;
    const char *body = body_decode(r, r->cfg, &len, e);

    if (body == NULL)
        return NULL;
    return json_parse(r->arena, body, len, r->cfg->max_json_depth, e);
}

/* The namespace an event belongs to for /metrics: its job's, or a DatasetEvent's dataset's. */
static const char *event_namespace(const struct ol_event *ev)
{
    return ev->kind == OL_DATASET_EVENT && ev->n_datasets > 0 ? ev->datasets[0].namespace : ev->job_namespace;
}

/* Counts events[0..n): those before `done` committed (stored or duplicate), the rest failed. */
static void count_written(struct metrics *m, const struct ol_event *events, const enum store_outcome *outcomes,
                          size_t n, size_t done)
{
    for (size_t i = 0; i < n; i++) {
        const struct ol_event *ev = &events[i];
        enum metrics_outcome o = i >= done                       ? METRICS_FAILED
                                 : outcomes[i] == STORE_WRITTEN ? METRICS_STORED
                                                                : METRICS_DUPLICATE;
        metrics_ingest_event(m, ev->producer, ol_kind_name(ev->kind), ev->event_type, o);
        if (i < done)
            metrics_namespace_event(m, event_namespace(ev), ev->event_time);
    }
}

/* Counts an event that failed validation, labelled by what its JSON says. */
static void count_invalid(struct metrics *m, const struct json_value *v)
{
    const char *kind = json_get(v, "run") != NULL       ? "RUN_EVENT"
                       : json_get(v, "job") != NULL     ? "JOB_EVENT"
                       : json_get(v, "dataset") != NULL ? "DATASET_EVENT"
                                                        : "unknown";

    metrics_ingest_event(m, json_get_string(v, "producer"), kind, json_get_string(v, "eventType"), METRICS_INVALID);
}

/* Brings the graph up to date with events that just committed (duplicates are already in it). */
static void apply_to_graph(struct req *r, const struct ol_event *events, const enum store_outcome *outcomes,
                           size_t n)
{
    struct err e;

    for (size_t i = 0; r->graph != NULL && i < n; i++)
        if (outcomes[i] == STORE_WRITTEN && sync_event(r->graph, &events[i], &e) != 0)
            log_error("req=%s event stored but not added to the lineage graph: %s", r->request_id, e.msg);
}

/* Writes events[0..n) in chunks, each followed by its graph update. On failure, *failed_at is the
 * index of the first event of the chunk that failed (events before it are committed). */
static int write_chunks(struct req *r, const struct ol_event *events, size_t n, enum store_outcome *outcomes,
                        size_t *failed_at, struct err *e)
{
    size_t chunk = (size_t)r->cfg->batch_chunk;

    for (size_t i = 0; i < n; i += chunk) {
        size_t m = n - i < chunk ? n - i : chunk;
        if (store_write_events(r->store, r->arena, events + i, m, outcomes + i, e) != 0) {
            *failed_at = i;
            return -1;
        }
        apply_to_graph(r, events + i, outcomes + i, m);
    }
    return 0;
}

/* decode_event and ol_event_hash for one event. Returns 0 when valid, 1 when violations were added to v,
 * -1 with e set when the event could not be given its identity or the request outgrew its memory
 * budgets (checked before each event: decoding and hashing need about as much again as the tree). */
static int decode_one(struct req *r, const struct json_value *v, const char *prefix, struct ol_event *ev,
                      struct decode_violations *out, struct err *e)
{
    const struct decode_limits lim = {(size_t)r->cfg->max_name_bytes, (size_t)r->cfg->max_key_bytes};

    if (arena_budget_check(r->arena, 0, e) != 0)
        return -1;
    if (decode_event(r->arena, v, prefix, &lim, ev, out) != 0)
        return 1;
    return ol_event_hash(ev, e);
}

/* The events of one POST /api/v1/lineage request, through every step before the write. Returns 1 with
 * the events and their count set when they are all valid, 0 when the reply (422) is already made, -1
 * with e set. */
static int prepare_request(struct req *r, struct reply *out, struct ol_event **events_out, size_t *n_out,
                           struct err *e)
{
    struct decode_violations v = {0};
    struct json_value *root = parse_body(r, e);
    bool array;
    size_t n;

    if (root == NULL)
        return -1;
    array = root->type == JSON_ARRAY;
    n = array ? root->u.array.n : 1;
    if (n == 0)
        return err_set(e, ERR_INVALID, "", "request body is an empty array; send at least one event");
    struct ol_event *events = arena_alloc(r->arena, n * sizeof *events);
    bool *invalid = arena_zalloc(r->arena, n * sizeof *invalid);
    for (size_t i = 0; i < n; i++) {
        const struct json_value *item = array ? root->u.array.items[i] : root;
        int rc = decode_one(r, item, array ? arena_printf(r->arena, "[%zu]", i) : NULL, &events[i], &v, e);
        if (rc < 0)
            return -1;
        invalid[i] = rc > 0;
    }
    if (v.n > 0) {
        for (size_t i = 0; i < n; i++)
            if (invalid[i])
                count_invalid(r->metrics, array ? root->u.array.items[i] : root);
            else
                metrics_ingest_event(r->metrics, events[i].producer, ol_kind_name(events[i].kind),
                                     events[i].event_type, METRICS_REJECTED);
        http_reply_validation(out, r->arena, v.msgs, v.n);
        return 0;
    }
    *events_out = events;
    *n_out = n;
    return 1;
}

/* Writes one request's prepared events and answers 201; -1 with e set. */
static int write_request(struct req *r, struct reply *out, const struct ol_event *events, size_t n, struct err *e)
{
    enum store_outcome *outcomes = arena_alloc(r->arena, (n + 1) * sizeof *outcomes);
    size_t failed_at = 0;
    int rc = write_chunks(r, events, n, outcomes, &failed_at, e);

    count_written(r->metrics, events, outcomes, n, rc == 0 ? n : failed_at);
    if (rc != 0)
        return -1;
    out->status = 201;
    return 0;
}

void ingest_post_lineage(struct route_call *calls, size_t n)
{
    struct req *r0 = calls[0].req;
    struct arena *a = r0->arena; /* scratch for the shared arrays: lives until every reply is sent */
    struct ol_event **events = arena_alloc(a, n * sizeof *events);
    size_t *counts = arena_zalloc(a, n * sizeof *counts), total = 0, failed_at = 0;
    bool *ready = arena_zalloc(a, n * sizeof *ready);
    struct err group_err;

    for (size_t i = 0; i < n; i++) {
        int rc = prepare_request(calls[i].req, calls[i].reply, &events[i], &counts[i], calls[i].err);
        calls[i].rc = rc < 0 ? -1 : 0;
        ready[i] = rc == 1;
        total += ready[i] ? counts[i] : 0;
    }
    if (total == 0)
        return;
    struct ol_event *all = arena_alloc(a, total * sizeof *all);
    enum store_outcome *outcomes = arena_alloc(a, total * sizeof *outcomes);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; ready[i] && j < counts[i]; j++)
            all[k++] = events[i][j];
    bool shared_ok = write_chunks(r0, all, total, outcomes, &failed_at, &group_err) == 0;
    if (shared_ok || n == 1)
        count_written(r0->metrics, all, outcomes, total, shared_ok ? total : failed_at);
    if (!shared_ok && n > 1)
        log_warn_limited(r0->outage_log, "a group of %zu requests failed together (%s); writing them one by one", n,
                         group_err.msg);
    for (size_t i = 0; i < n; i++) {
        if (!ready[i])
            continue;
        if (shared_ok) {
            calls[i].reply->status = 201;
        } else if (n == 1) {
            *calls[i].err = group_err;
            calls[i].rc = -1;
        } else {
            calls[i].req->store = r0->store;
            calls[i].rc = write_request(calls[i].req, calls[i].reply, events[i], counts[i], calls[i].err);
        }
    }
}

enum batch_result { BATCH_PENDING, BATCH_STORED, BATCH_INVALID, BATCH_FAILED };

struct batch_item {
    enum batch_result result;
    int status;
    const char *reason;
    bool retriable;
};

/* Stores the valid events; a chunk that fails is retried event by event so one bad event cannot
 * sink its neighbours. */
static void store_valid(struct req *r, struct ol_event *events, struct batch_item *items, size_t n)
{
    struct ol_event *valid = arena_alloc(r->arena, (n + 1) * sizeof *valid);
    size_t *index = arena_alloc(r->arena, (n + 1) * sizeof *index);
    enum store_outcome *outcomes = arena_alloc(r->arena, (n + 1) * sizeof *outcomes);
    size_t m = 0, failed_at = 0;
    struct err e;

    for (size_t i = 0; i < n; i++)
        if (items[i].result == BATCH_PENDING) {
            valid[m] = events[i];
            index[m++] = i;
        }
    size_t done = 0;
    if (write_chunks(r, valid, m, outcomes, &failed_at, &e) == 0)
        done = m;
    else
        done = failed_at;
    count_written(r->metrics, valid, outcomes, done, done);
    for (size_t k = 0; k < done; k++)
        items[index[k]].result = BATCH_STORED;
    for (size_t k = done; k < m; k++) {
        struct batch_item *it = &items[index[k]];
        bool ok = store_write_events(r->store, r->arena, &valid[k], 1, &outcomes[k], &e) == 0;
        count_written(r->metrics, &valid[k], &outcomes[k], 1, ok ? 1 : 0);
        if (ok) {
            apply_to_graph(r, &valid[k], &outcomes[k], 1);
            it->result = BATCH_STORED;
            continue;
        }
        if (e.retryable) /* the database is down or busy: every event of every request says so */
            log_warn_limited(r->outage_log, "req=%s batch event %zu not stored: %s (%s)", r->request_id, index[k],
                             e.msg, e.detail);
        else
            log_error("req=%s batch event %zu not stored: %s (%s)", r->request_id, index[k], e.msg, e.detail);
        it->result = BATCH_FAILED;
        it->status = err_http_status(e.kind);
        it->reason = arena_strdup(r->arena, e.msg);
        it->retriable = e.retryable;
    }
}

static void gen_summary(yajl_gen g, const struct batch_item *items, size_t n)
{
    size_t ok = 0, retriable = 0;

    for (size_t i = 0; i < n; i++) {
        ok += items[i].result == BATCH_STORED;
        retriable += items[i].result == BATCH_FAILED && items[i].retriable;
    }
    json_gen_key(g, "status");
    json_gen_str(g, ok == n ? "success" : ok == 0 ? "failure" : "partial_success");
    json_gen_key(g, "summary");
    yajl_gen_map_open(g);
    json_gen_key(g, "received");
    json_gen_int(g, (long long)n);
    json_gen_key(g, "successful");
    json_gen_int(g, (long long)ok);
    json_gen_key(g, "failed");
    json_gen_int(g, (long long)(n - ok));
    json_gen_key(g, "retriable");
    json_gen_int(g, (long long)retriable);
    json_gen_key(g, "non_retriable");
    json_gen_int(g, (long long)(n - ok - retriable));
    yajl_gen_map_close(g);
}

static void reply_batch(struct req *r, struct reply *out, const struct batch_item *items, size_t n)
{
    yajl_gen g = json_gen_new();
    size_t len;

    yajl_gen_map_open(g);
    gen_summary(g, items, n);
    json_gen_key(g, "failed_events");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        if (items[i].result == BATCH_STORED)
            continue;
        yajl_gen_map_open(g);
        json_gen_key(g, "index");
        json_gen_int(g, (long long)i);
        json_gen_key(g, "status");
        json_gen_int(g, items[i].status);
        json_gen_key(g, "reason");
        json_gen_str(g, items[i].reason);
        json_gen_key(g, "retriable");
        yajl_gen_bool(g, items[i].retriable);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    const char *body = json_gen_finish(g, r->arena, &len);
    http_reply_json(out, 200, body, len);
}

/* "<first violation>" or "<first>; and N more" for one invalid batch element. */
static const char *summarise(struct arena *a, const struct decode_violations *v)
{
    if (v->n == 1)
        return v->msgs[0];
    const char *joined = v->msgs[0];
    for (size_t i = 1; i < v->n; i++)
        joined = arena_printf(a, "%s; %s", joined, v->msgs[i]);
    return joined;
}

int ingest_post_batch(struct req *r, struct reply *out, struct err *e)
{
    struct json_value *root = parse_body(r, e);

    if (root == NULL)
        return -1;
    if (root->type != JSON_ARRAY)
        return err_set(e, ERR_BAD_INPUT, NULL, "the batch endpoint expects a JSON array of events");
    size_t n = root->u.array.n;
    struct ol_event *events = arena_alloc(r->arena, (n + 1) * sizeof *events);
    struct batch_item *items = arena_zalloc(r->arena, (n + 1) * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        struct decode_violations v = {0};
        int rc = decode_one(r, root->u.array.items[i], NULL, &events[i], &v, e);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            count_invalid(r->metrics, root->u.array.items[i]);
            items[i].result = BATCH_INVALID;
            items[i].status = 422;
            items[i].reason = summarise(r->arena, &v);
        }
    }
    store_valid(r, events, items, n);
    reply_batch(r, out, items, n);
    return 0;
}
