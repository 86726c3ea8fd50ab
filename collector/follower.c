/* collector/follower.c - applies events that other collectors committed to the shared database.
 *
 * Every interval the thread reads the events whose writing transaction finished since its last look
 * (store_graph_follow: xid window below the oldest running transaction, so a late commit is never
 * skipped), decodes them again and applies them with sync_event. Re-applying this process's own
 * events is harmless (idempotent) and cheaper than tracking them. After each look it reports its
 * position to the metrics registry: the log's newest seq and the newest seq below its xmin (the
 * follower lag of /metrics and /readyz), and each applied event's namespace time.
 * Threads: one periodic thread of its own (common/periodic.h) with its own connection; it takes the
 * graph's write lock per event. */
#include "follower.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "json.h"
#include "metrics.h"
#include "periodic.h"
#include "store_graph.h"
#include "store_ops.h"
#include "sync.h"

#define LOG_MODULE "follower"
#include "log.h"

enum { FOLLOWER_LOG_BURST = 3, FOLLOWER_LOG_INTERVAL_S = 60 };

struct follower {
    struct graph *g;
    char *conninfo;
    uint64_t xmin;
    int max_json_depth;
    struct metrics *metrics;
    struct arena *arena;
    struct store *store; /* the thread's connection; NULL until it connects */
    struct periodic *thread;
    struct log_limit outage_log; /* a database outage would log a line every --follow-interval-ms */
};

/* One stored event from the log: decode it again and apply it. A stored event always decoded once,
 * so a failure here means a newer collector wrote something we cannot read: skip it, loudly. */
static int follow_event(void *ctx, int64_t seq, const char *body, size_t len, struct err *e)
{
    struct follower *f = ctx;
    struct decode_violations v = {0};
    struct ol_event ev;
    struct err perr;

    arena_reset(f->arena);
    struct json_value *root = json_parse(f->arena, body, len, f->max_json_depth, &perr);
    if (root == NULL) {
        log_warn("event seq=%lld in the log is not JSON this collector can read (%s); skipped by the graph "
                 "follower", (long long)seq, perr.msg);
        return 0;
    }
    if (decode_event(f->arena, root, NULL, NULL, &ev, &v) != 0) {
        log_warn("event seq=%lld in the log does not decode (%s%s); skipped by the graph follower", (long long)seq,
                 v.n > 0 ? v.msgs[0] : "no reason given", v.n > 1 ? ", and more" : "");
        return 0;
    }
    if (sync_event(f->g, &ev, e) != 0)
        return -1;
    metrics_namespace_event(f->metrics, ev.kind == OL_DATASET_EVENT ? ev.datasets[0].namespace : ev.job_namespace,
                            ev.event_time);
    return 0;
}

/* One look at the log: apply what committed since the last one, then report the position. */
static int follow_once(struct follower *f, struct store *s, struct err *e)
{
    int64_t newest, applied;
    int n = store_graph_follow(s, &f->xmin, follow_event, f, e);

    if (n < 0 || store_ops_log_position(s, f->xmin, &newest, &applied, e) != 0)
        return -1;
    metrics_follower(f->metrics, newest, applied);
    if (n > 0)
        log_debug("graph follower applied %d events", n);
    return 0;
}

/* One tick of the follower's thread: (re)connect if needed, then one look at the log. */
static void follower_tick(void *arg)
{
    struct follower *f = arg;
    struct err e;

    if (f->store == NULL && (f->store = store_connect(f->conninfo, &e)) == NULL) {
        log_warn_limited(&f->outage_log, "graph follower cannot reach the database: %s", e.detail);
        return;
    }
    if (follow_once(f, f->store, &e) != 0) {
        log_warn_limited(&f->outage_log, "graph follower: %s (%s)", e.msg, e.detail);
        store_free(f->store);
        f->store = NULL;
    }
}

struct follower *follower_start(struct graph *g, const char *conninfo, uint64_t xmin, int interval_ms,
                                int max_json_depth, struct metrics *m, struct err *e)
{
    struct follower *f = calloc(1, sizeof *f);

    if (f == NULL || (f->conninfo = strdup(conninfo)) == NULL) {
        free(f);
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    f->g = g;
    f->xmin = xmin;
    f->max_json_depth = max_json_depth;
    f->metrics = m;
    f->arena = arena_new();
    log_limit_init(&f->outage_log, FOLLOWER_LOG_BURST, FOLLOWER_LOG_INTERVAL_S);
    if ((f->thread = periodic_start(interval_ms, follower_tick, f, e)) == NULL) {
        follower_stop(f);
        return NULL;
    }
    return f;
}

void follower_stop(struct follower *f)
{
    if (f == NULL)
        return;
    periodic_stop(f->thread);
    store_free(f->store);
    arena_free(f->arena);
    free(f->conninfo);
    free(f);
}
