/* common/metrics.c - the lock-free metrics registry and its Prometheus text rendering (see metrics.h).
 *
 * Layout: every series is a fixed cell in one of a few calloc'd arrays of atomics, indexed by label
 * positions: ingest[producer][kind][type][outcome], requests[route][status][cell],
 * db[route][cell], ns_time[namespace]. A histogram's cells are its buckets (not cumulative), an
 * overflow bucket (+Inf) and the sum in microseconds; its count is the sum of its buckets.
 * Invariants: see metrics.h. Label tables never delete, so a value's slot is always found on its
 * probe sequence before the first free slot. */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free for a lock-free hot path");

static const char *const KINDS[] = {"RUN_EVENT", "DATASET_EVENT", "JOB_EVENT", "unknown"};
static const char *const TYPES[] = {"START", "RUNNING", "COMPLETE", "ABORT",
                                    "FAIL",  "OTHER",   "none",     "unknown"};
static const char *const OUTCOMES[] = {"stored", "duplicate", "invalid", "rejected", "failed"};
static const int STATUSES[] = {200, 201, 204, 301, 304, 400, 401, 403, 404, 405,
                               409, 410, 413, 415, 422, 429, 500, 502, 503, 504};
/* Latency bucket upper bounds, microseconds (0.5 ms .. 10 s). */
static const int64_t BUCKETS_USEC[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                       100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

enum {
    N_KINDS = sizeof KINDS / sizeof KINDS[0],
    N_TYPES = sizeof TYPES / sizeof TYPES[0],
    N_STATUSES = sizeof STATUSES / sizeof STATUSES[0] + 1, /* the last: any other status */
    N_BUCKETS = sizeof BUCKETS_USEC / sizeof BUCKETS_USEC[0],
    CELL_INF = N_BUCKETS,     /* overflow bucket */
    CELL_SUM = N_BUCKETS + 1, /* sum of observations, usec */
    HIST_CELLS = N_BUCKETS + 2,
    TYPE_NONE = 6,
    TYPE_UNKNOWN = 7,
    KIND_UNKNOWN = 3,
};
_Static_assert(sizeof OUTCOMES / sizeof OUTCOMES[0] == METRICS_OUTCOMES, "one name per outcome");

struct label_slot {
    _Atomic uint64_t key; /* hash of the value; 0: free */
    atomic_bool ready;    /* text is complete */
    char text[METRICS_LABEL_MAX + 1];
};

struct label_table {
    struct label_slot *slots;
    size_t n; /* index n is "other" */
};

struct metrics {
    struct metrics_route *routes;
    size_t n_routes; /* index n_routes: no route */
    struct label_table producers, namespaces;
    _Atomic uint64_t *ingest;
    _Atomic int64_t *ns_time; /* newest eventTime per namespace, usec; 0: none */
    _Atomic uint64_t *requests;
    _Atomic uint64_t *db;
    _Atomic int64_t connections, queue_depth, in_flight, subscribers, stream_dropped;
    _Atomic int64_t newest_seq, applied_seq;
    _Atomic int64_t silent_jobs; /* -1: unknown */
    atomic_bool follower_known, graph_loaded;
};

static void *calloc_atomics(size_t n, size_t size)
{
    return calloc(n == 0 ? 1 : n, size); /* zero bytes are a valid zero value of a lock-free atomic */
}

struct metrics *metrics_new(const struct metrics_route *routes, size_t n_routes, size_t max_producers,
                            size_t max_namespaces)
{
    struct metrics *m = calloc(1, sizeof *m);

    if (m == NULL || max_producers == 0 || max_namespaces == 0) {
        free(m);
        return NULL;
    }
    m->n_routes = n_routes;
    m->producers.n = max_producers;
    m->namespaces.n = max_namespaces;
    m->routes = calloc_atomics(n_routes, sizeof *m->routes);
    m->producers.slots = calloc(max_producers, sizeof *m->producers.slots);
    m->namespaces.slots = calloc(max_namespaces, sizeof *m->namespaces.slots);
    m->ingest = calloc_atomics((max_producers + 1) * N_KINDS * N_TYPES * METRICS_OUTCOMES, sizeof *m->ingest);
    m->ns_time = calloc_atomics(max_namespaces + 1, sizeof *m->ns_time);
    m->requests = calloc_atomics((n_routes + 1) * N_STATUSES * HIST_CELLS, sizeof *m->requests);
    m->db = calloc_atomics((n_routes + 1) * HIST_CELLS, sizeof *m->db);
    if (m->routes == NULL || m->producers.slots == NULL || m->namespaces.slots == NULL || m->ingest == NULL ||
        m->ns_time == NULL || m->requests == NULL || m->db == NULL) {
        metrics_free(m);
        return NULL;
    }
    if (n_routes > 0)
        memcpy(m->routes, routes, n_routes * sizeof *routes);
    atomic_store(&m->silent_jobs, -1);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    free(m->routes);
    free(m->producers.slots);
    free(m->namespaces.slots);
    free(m->ingest);
    free(m->ns_time);
    free(m->requests);
    free(m->db);
    free(m);
}

size_t metrics_no_route(const struct metrics *m)
{
    return m->n_routes;
}

int64_t metrics_clock_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- label tables ---- */

/* Length of value cut to METRICS_LABEL_MAX bytes without splitting a UTF-8 sequence. */
static size_t label_len(const char *value)
{
    size_t n = strnlen(value, METRICS_LABEL_MAX + 1);

    if (n <= METRICS_LABEL_MAX)
        return n;
    n = METRICS_LABEL_MAX;
    while (n > 0 && ((unsigned char)value[n] & 0xC0) == 0x80)
        n--; /* value[n] continues a character that does not fit: cut before its first byte */
    return n;
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h == 0 ? 1 : h; /* 0 marks a free slot */
}

/* The slot of value, claiming a free one for a new value; t->n ("other") when the table is full. */
static size_t label_index(struct label_table *t, const char *value)
{
    size_t len = label_len(value);
    uint64_t h = fnv1a(value, len);

    for (size_t i = 0; i < t->n; i++) {
        size_t at = (size_t)((h + i) % t->n);
        struct label_slot *s = &t->slots[at];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == 0) {
            if (atomic_compare_exchange_strong_explicit(&s->key, &k, h, memory_order_acq_rel,
                                                        memory_order_acquire)) {
                memcpy(s->text, value, len);
                s->text[len] = '\0';
                atomic_store_explicit(&s->ready, true, memory_order_release);
                return at;
            }
            /* another thread claimed it first: k now holds its value */
        }
        if (k == h)
            return at;
    }
    return t->n;
}

static size_t name_index(const char *const *names, size_t n, const char *value, size_t otherwise)
{
    for (size_t i = 0; value != NULL && i < n; i++)
        if (strcmp(names[i], value) == 0)
            return i;
    return otherwise;
}

/* ---- the hot path ---- */

static void add(_Atomic uint64_t *cell, uint64_t v)
{
    atomic_fetch_add_explicit(cell, v, memory_order_relaxed);
}

void metrics_ingest_event(struct metrics *m, const char *producer, const char *kind, const char *event_type,
                          enum metrics_outcome outcome)
{
    if (m == NULL)
        return;
    size_t p = label_index(&m->producers, producer != NULL && producer[0] != '\0' ? producer : "none");
    size_t k = name_index(KINDS, KIND_UNKNOWN, kind, KIND_UNKNOWN);
    size_t ty = event_type == NULL ? TYPE_NONE : name_index(TYPES, TYPE_NONE, event_type, TYPE_UNKNOWN);

    add(&m->ingest[((p * N_KINDS + k) * N_TYPES + ty) * METRICS_OUTCOMES + (size_t)outcome], 1);
}

void metrics_namespace_event(struct metrics *m, const char *ns, int64_t event_time_usec)
{
    if (m == NULL)
        return;
    _Atomic int64_t *cell = &m->ns_time[label_index(&m->namespaces, ns != NULL ? ns : "")];
    int64_t cur = atomic_load_explicit(cell, memory_order_relaxed);

    while (event_time_usec > cur &&
           !atomic_compare_exchange_weak_explicit(cell, &cur, event_time_usec, memory_order_relaxed,
                                                  memory_order_relaxed))
        ; /* cur was reloaded: retry while ours is still newer */
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < N_STATUSES - 1; i++)
        if (STATUSES[i] == status)
            return i;
    return N_STATUSES - 1;
}

static void observe(_Atomic uint64_t *cells, int64_t usec)
{
    size_t b = 0;

    if (usec < 0)
        usec = 0;
    while (b < N_BUCKETS && usec > BUCKETS_USEC[b])
        b++;
    add(&cells[b], 1);
    add(&cells[CELL_SUM], (uint64_t)usec);
}

void metrics_request_done(struct metrics *m, size_t route_index, int status, int64_t usec, int64_t db_usec)
{
    size_t r = route_index < m->n_routes ? route_index : m->n_routes;

    observe(&m->requests[(r * N_STATUSES + status_index(status)) * HIST_CELLS], usec);
    if (db_usec >= 0)
        observe(&m->db[r * HIST_CELLS], db_usec);
}

void metrics_connections(struct metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->connections, delta, memory_order_relaxed);
}

void metrics_queue_depth(struct metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->queue_depth, delta, memory_order_relaxed);
}

void metrics_in_flight(struct metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->in_flight, delta, memory_order_relaxed);
}

void metrics_stream_subscribers(struct metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->subscribers, delta, memory_order_relaxed);
}

void metrics_stream_dropped(struct metrics *m)
{
    if (m != NULL)
        atomic_fetch_add_explicit(&m->stream_dropped, 1, memory_order_relaxed);
}

void metrics_set_graph_loaded(struct metrics *m, bool loaded)
{
    atomic_store_explicit(&m->graph_loaded, loaded, memory_order_release);
}

bool metrics_graph_loaded(const struct metrics *m)
{
    return atomic_load_explicit(&m->graph_loaded, memory_order_acquire);
}

void metrics_follower(struct metrics *m, int64_t newest_seq, int64_t applied_seq)
{
    atomic_store_explicit(&m->newest_seq, newest_seq, memory_order_relaxed);
    atomic_store_explicit(&m->applied_seq, applied_seq, memory_order_relaxed);
    atomic_store_explicit(&m->follower_known, true, memory_order_release);
}

int64_t metrics_follower_lag(const struct metrics *m)
{
    if (!atomic_load_explicit(&m->follower_known, memory_order_acquire))
        return -1;
    int64_t lag = atomic_load_explicit(&m->newest_seq, memory_order_relaxed) -
                  atomic_load_explicit(&m->applied_seq, memory_order_relaxed);
    return lag < 0 ? 0 : lag;
}

void metrics_set_silent_jobs(struct metrics *m, int64_t n)
{
    atomic_store_explicit(&m->silent_jobs, n < 0 ? -1 : n, memory_order_relaxed);
}

/* ---- rendering ---- */

static void put(struct json_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct json_text *t, const char *fmt, ...)
{
    char buf[1024]; /* callers' lines are a name, at most ~250 bytes of labels and a number */
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        json_text_raw(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* name="value" with \ " and newline escaped (the exposition format's three escapes). */
static void put_label(struct json_text *t, const char *name, const char *value)
{
    json_text_lit(t, name);
    json_text_raw(t, "=\"", 2);
    for (const char *c = value; *c != '\0'; c++) {
        if (*c == '\\' || *c == '"')
            json_text_raw(t, "\\", 1);
        if (*c == '\n')
            json_text_raw(t, "\\n", 2);
        else
            json_text_raw(t, c, 1);
    }
    json_text_raw(t, "\"", 1);
}

static void put_head(struct json_text *t, const char *name, const char *type, const char *help)
{
    json_text_lit(t, "# HELP ");
    json_text_lit(t, name);
    json_text_raw(t, " ", 1);
    json_text_lit(t, help);
    json_text_lit(t, "\n# TYPE ");
    json_text_lit(t, name);
    json_text_raw(t, " ", 1);
    json_text_lit(t, type);
    json_text_raw(t, "\n", 1);
}

static uint64_t load(_Atomic uint64_t *cell)
{
    return atomic_load_explicit(cell, memory_order_relaxed);
}

/* The text of slot i of a table ("other" for i == n), or NULL while the slot is not ready. */
static const char *slot_text(struct label_table *t, size_t i)
{
    if (i == t->n)
        return "other";
    if (!atomic_load_explicit(&t->slots[i].ready, memory_order_acquire))
        return NULL;
    return t->slots[i].text;
}

static void render_ingest(struct metrics *m, struct json_text *t)
{
    static const char NAME[] = "lineaged_ingest_events_total";

    put_head(t, NAME, "counter",
             "Events POSTed to this process, by producer (the first N, then other), kind, "
             "eventType and outcome.");
    for (size_t p = 0; p <= m->producers.n; p++) {
        const char *producer = slot_text(&m->producers, p);
        for (size_t c = 0; producer != NULL && c < N_KINDS * N_TYPES * METRICS_OUTCOMES; c++) {
            uint64_t v = load(&m->ingest[p * N_KINDS * N_TYPES * METRICS_OUTCOMES + c]);
            if (v == 0)
                continue;
            json_text_lit(t, NAME);
            json_text_raw(t, "{", 1);
            put_label(t, "producer", producer);
            put(t, ",kind=\"%s\",type=\"%s\",outcome=\"%s\"} %llu\n", KINDS[c / (N_TYPES * METRICS_OUTCOMES)],
                TYPES[c / METRICS_OUTCOMES % N_TYPES], OUTCOMES[c % METRICS_OUTCOMES], (unsigned long long)v);
        }
    }
}

static void render_namespaces(struct metrics *m, struct json_text *t)
{
    static const char NAME[] = "lineaged_namespace_last_event_timestamp_seconds";

    put_head(t, NAME, "gauge",
             "Newest eventTime seen per namespace (the job's, or a DatasetEvent's dataset's), "
             "from this process's ingest, the follower and the model at start.");
    for (size_t i = 0; i <= m->namespaces.n; i++) {
        const char *ns = slot_text(&m->namespaces, i);
        int64_t usec = atomic_load_explicit(&m->ns_time[i], memory_order_relaxed);
        if (ns == NULL || usec == 0)
            continue;
        json_text_lit(t, NAME);
        json_text_raw(t, "{", 1);
        put_label(t, "namespace", ns);
        put(t, "} %.3f\n", (double)usec / 1e6);
    }
}

/* One histogram series: cumulative buckets, sum (seconds) and count. labels is "a=\"x\",b=\"y\"". */
static void render_hist(struct json_text *t, const char *name, const char *labels, _Atomic uint64_t *cells)
{
    uint64_t cum = 0;

    for (size_t b = 0; b <= N_BUCKETS; b++) {
        cum += load(&cells[b]);
        if (b < N_BUCKETS)
            put(t, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, (double)BUCKETS_USEC[b] / 1e6,
                (unsigned long long)cum);
        else
            put(t, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)cum);
    }
    put(t, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, (double)load(&cells[CELL_SUM]) / 1e6, name,
        labels, (unsigned long long)cum);
}

static uint64_t hist_count(_Atomic uint64_t *cells)
{
    uint64_t n = 0;

    for (size_t b = 0; b <= N_BUCKETS; b++)
        n += load(&cells[b]);
    return n;
}

/* method="GET",route="/api/v1/x" for route r (pattern strings contain no characters to escape). */
static const char *route_labels(struct metrics *m, size_t r, char *buf, size_t cap)
{
    const char *method = r < m->n_routes ? m->routes[r].method : "any";
    const char *route = r < m->n_routes ? m->routes[r].pattern : "unmatched";

    snprintf(buf, cap, "method=\"%s\",route=\"%s\"", method, route);
    return buf;
}

static void render_requests(struct metrics *m, struct json_text *t)
{
    static const char REQ[] = "lineaged_http_request_duration_seconds";
    static const char DB[] = "lineaged_http_request_db_seconds";
    char labels[160], status_labels[200], status[16];

    put_head(t, REQ, "histogram",
             "Requests by route pattern and status: time from the request read to its "
             "reply queued (the _count is the request count).");
    for (size_t r = 0; r <= m->n_routes; r++) {
        route_labels(m, r, labels, sizeof labels);
        for (size_t s = 0; s < N_STATUSES; s++) {
            _Atomic uint64_t *cells = &m->requests[(r * N_STATUSES + s) * HIST_CELLS];
            if (hist_count(cells) == 0)
                continue;
            if (s < N_STATUSES - 1)
                snprintf(status, sizeof status, "%d", STATUSES[s]);
            else
                snprintf(status, sizeof status, "other");
            snprintf(status_labels, sizeof status_labels, "%s,status=\"%s\"", labels, status);
            render_hist(t, REQ, status_labels, cells);
        }
    }
    put_head(t, DB, "histogram",
             "Database time per request (statements and result reads), by route pattern.");
    for (size_t r = 0; r <= m->n_routes; r++)
        if (hist_count(&m->db[r * HIST_CELLS]) > 0)
            render_hist(t, DB, route_labels(m, r, labels, sizeof labels), &m->db[r * HIST_CELLS]);
}

static void gauge(struct json_text *t, const char *name, const char *help, int64_t v)
{
    if (v < 0)
        return;
    put_head(t, name, "gauge", help);
    put(t, "%s %lld\n", name, (long long)v);
}

static int64_t load_gauge(_Atomic int64_t *g)
{
    return atomic_load_explicit(g, memory_order_relaxed);
}

static void render_gauges(struct metrics *m, const struct metrics_scrape *s, struct json_text *t)
{
    gauge(t, "lineaged_http_connections_open", "Open client connections.", load_gauge(&m->connections));
    gauge(t, "lineaged_http_queue_depth", "Requests waiting for a worker.", load_gauge(&m->queue_depth));
    gauge(t, "lineaged_http_requests_in_flight", "Requests queued or running.", load_gauge(&m->in_flight));
    gauge(t, "lineaged_stream_subscribers", "Open event stream subscriptions.", load_gauge(&m->subscribers));
    put_head(t, "lineaged_stream_dropped_total", "counter",
             "Event stream readers dropped for falling more than --stream-buffer-kb behind.");
    put(t, "lineaged_stream_dropped_total %lld\n", (long long)load_gauge(&m->stream_dropped));
    gauge(t, "lineaged_graph_loaded", "1 once the lineage graph is loaded.", metrics_graph_loaded(m) ? 1 : 0);
    gauge(t, "lineaged_graph_nodes", "Nodes of the in-memory lineage graph.", s->graph_nodes);
    gauge(t, "lineaged_graph_edges", "Distinct edges of the in-memory lineage graph.", s->graph_edges);
    gauge(t, "lineaged_graph_memory_bytes", "Memory held by the lineage graph.", s->graph_bytes);
    gauge(t, "lineaged_node_cache_bytes", "Memory held by the lineage node cache.", s->node_cache_bytes);
    gauge(t, "lineaged_node_cache_entries", "Entries of the lineage node cache.", s->node_cache_entries);
    gauge(t, "lineaged_memory_resident_bytes", "Resident memory of the process.", s->resident_bytes);
    if (atomic_load_explicit(&m->follower_known, memory_order_acquire)) {
        gauge(t, "lineaged_follower_newest_seq", "Newest seq in the event log.", load_gauge(&m->newest_seq));
        gauge(t, "lineaged_follower_applied_seq",
              "Newest seq every earlier commit of which is in this graph.", load_gauge(&m->applied_seq));
        gauge(t, "lineaged_follower_lag_events", "newest_seq - applied_seq.", metrics_follower_lag(m));
    }
    gauge(
        t, "lineaged_silent_jobs",
        "Jobs whose next run is overdue (GET /api/v1/alerts/silent-jobs with its defaults), as last counted.",
        load_gauge(&m->silent_jobs));
}

void metrics_render(struct metrics *m, const struct metrics_scrape *s, struct json_text *t)
{
    render_ingest(m, t);
    render_namespaces(m, t);
    render_requests(m, t);
    render_gauges(m, s, t);
}
