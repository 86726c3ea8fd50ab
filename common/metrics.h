/* common/metrics.h - the process's metrics registry: counters, gauges and fixed-bucket histograms,
 * updated without locks from any thread and rendered in Prometheus text format for GET /metrics.
 *
 * Invariants:
 *  1. Every series exists from metrics_new on: route labels are given up front, and the open label
 *     sets (producers, namespaces) are bounded tables: the first N distinct values each get a slot for
 *     the life of the process, every later value is counted under "other". Memory never grows.
 *  2. The hot path (metrics_ingest_event, metrics_request_done, the gauges) does relaxed atomic adds
 *     and stores only; a label value seen for the first time costs one compare-and-swap. No lock, no
 *     allocation, no system call.
 *  3. A label slot is identified by the 64-bit FNV-1a hash of its value (cut at METRICS_LABEL_MAX
 *     bytes on a UTF-8 boundary); its text is published before its ready flag (release/acquire), and a
 *     scrape skips a slot that is not ready yet, so it never prints a half-written label.
 *  4. A scrape reads each value once: values of one scrape may come from slightly different instants;
 *     counters and histogram buckets only go up.
 * Ownership: metrics_new allocates everything; metrics_free releases it. Route label strings are
 * borrowed (they must live as long as the registry: the route table's static strings).
 * Threads: every function is safe from any thread between metrics_new and metrics_free.
 * The ingest-path functions accept m == NULL and do nothing (handlers run without a registry in tests). */
#ifndef LINEAGED_METRICS_H
#define LINEAGED_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_text.h"

enum { METRICS_LABEL_MAX = 160 };

/* Labels of one route, in route table order: "GET", "/api/v1/namespaces/{}". */
struct metrics_route {
    const char *method;
    const char *pattern;
};

/* What happened to one event POSTed to /api/v1/lineage or /api/v1/lineage/batch. */
enum metrics_outcome {
    METRICS_STORED,    /* new, committed */
    METRICS_DUPLICATE, /* already in the log: nothing changed (a retry) */
    METRICS_INVALID,   /* failed validation (422) */
    METRICS_REJECTED,  /* valid, but not stored because another event of its request was invalid */
    METRICS_FAILED,    /* valid, but the write failed (database error) */
    METRICS_OUTCOMES
};

struct metrics;

/* A registry for n_routes routes (request series for route index 0..n_routes-1, plus one for
 * requests that matched no route), max_producers producer and max_namespaces namespace label values
 * (each >= 1). NULL when memory runs out. */
struct metrics *metrics_new(const struct metrics_route *routes, size_t n_routes, size_t max_producers,
                            size_t max_namespaces);

/* Frees the registry. NULL is a no-op. No other thread may use it any more. */
void metrics_free(struct metrics *m);

/* The route index for requests that matched no route (404, 405, unreadable requests). */
size_t metrics_no_route(const struct metrics *m);

/* Monotonic microseconds, for durations passed to metrics_request_done. */
int64_t metrics_clock_usec(void);

/* ---- called by the ingest path (collector/ingest.c) ---- */

/* Counts one event. producer NULL or "" counts as "none"; kind is "RUN_EVENT", "DATASET_EVENT",
 * "JOB_EVENT" (anything else: "unknown"); event_type "START", "RUNNING", "COMPLETE", "ABORT", "FAIL",
 * "OTHER", NULL ("none"; anything else: "unknown"). */
void metrics_ingest_event(struct metrics *m, const char *producer, const char *kind, const char *event_type,
                          enum metrics_outcome outcome);

/* The newest eventTime (microseconds since the epoch) seen for a namespace: kept if later than the
 * one known. Called after commit by ingest, after apply by the follower, and at start-up. */
void metrics_namespace_event(struct metrics *m, const char *ns, int64_t event_time_usec);

/* ---- called by the HTTP server (server/server.c) ---- */

/* One answered request: route_index from the route table (or metrics_no_route()), the HTTP status,
 * its latency from the request read to the reply queued (usec) and the database time spent on it
 * (usec; negative when it used no database connection: not counted in the database histogram). */
void metrics_request_done(struct metrics *m, size_t route_index, int status, int64_t usec, int64_t db_usec);

/* Gauges moved by +1/-1 (or +n/-n) as things happen: open client connections, requests queued for a
 * worker and not started, requests in flight (queued or running), event stream subscribers. */
void metrics_connections(struct metrics *m, int delta);
void metrics_queue_depth(struct metrics *m, int delta);
void metrics_in_flight(struct metrics *m, int delta);
void metrics_stream_subscribers(struct metrics *m, int delta);

/* One event stream reader dropped for falling behind (a counter). */
void metrics_stream_dropped(struct metrics *m);

/* ---- called at start-up and by the follower ---- */

/* The lineage graph has been loaded (readiness). */
void metrics_set_graph_loaded(struct metrics *m, bool loaded);
bool metrics_graph_loaded(const struct metrics *m);

/* The follower's position: newest_seq is the largest seq in the event log, applied_seq the largest seq
 * this process's graph is known to hold (every event committed before it is applied). */
void metrics_follower(struct metrics *m, int64_t newest_seq, int64_t applied_seq);

/* newest_seq - applied_seq as last reported, or -1 when the follower never reported. */
int64_t metrics_follower_lag(const struct metrics *m);

/* The number of silent jobs as last counted in the background (api/ops.h); negative: unknown (the
 * series is left out). */
void metrics_set_silent_jobs(struct metrics *m, int64_t n);

/* ---- GET /metrics ---- */

/* Values the /metrics handler reads at scrape time (negative: unknown, the series is left out). */
struct metrics_scrape {
    int64_t graph_nodes, graph_edges, graph_bytes;
    int64_t node_cache_bytes, node_cache_entries;
    int64_t resident_bytes; /* the process's resident set (memory in use) */
};

/* Appends every series in Prometheus text exposition format (version 0.0.4) to t. */
void metrics_render(struct metrics *m, const struct metrics_scrape *s, struct json_text *t);

#endif
