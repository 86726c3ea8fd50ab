/* collector/follower.c - applies events that other collectors committed to the shared database.
 *
 * Every interval the thread reads the events whose writing transaction finished since its last look
 * (store_graph_follow: xid window below the oldest running transaction, so a late commit is never
 * skipped), decodes them again and applies them with sync_event. Re-applying this process's own
 * events is harmless (idempotent) and cheaper than tracking them.
 * Threads: one periodic thread of its own (common/periodic.h) with its own connection; it takes the
 * graph's write lock per event. */
#include "follower.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "json.h"
#include "periodic.h"
#include "store_graph.h"
#include "sync.h"

#define LOG_MODULE "follower"
#include "log.h"

struct follower {
    struct graph *g;
    char *conninfo;
    uint64_t xmin;
    int interval_ms;
    int max_json_depth;
    struct arena *arena;
    struct store *store; /* the thread's connection; NULL until it connects */
    struct periodic *thread;
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
    return sync_event(f->g, &ev, e);
}

/* One look at the log, on the follower's thread. */
static void follow_tick(void *arg)
{
    struct follower *f = arg;
    struct err e;

    if (f->store == NULL && (f->store = store_connect(f->conninfo, &e)) == NULL) {
        log_warn("graph follower cannot reach the database: %s", e.detail);
        return;
    }
    int n = store_graph_follow(f->store, &f->xmin, follow_event, f, &e);
    if (n < 0) {
        log_warn("graph follower: %s (%s)", e.msg, e.detail);
        store_free(f->store);
        f->store = NULL;
    } else if (n > 0) {
        log_debug("graph follower applied %d events", n);
    }
}

struct follower *follower_start(struct graph *g, const char *conninfo, uint64_t xmin,
                                            int interval_ms, int max_json_depth, struct err *e)
{
    struct follower *f = calloc(1, sizeof *f);

    if (f == NULL || (f->conninfo = strdup(conninfo)) == NULL) {
        free(f);
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    f->g = g;
    f->xmin = xmin;
    f->interval_ms = interval_ms;
    f->max_json_depth = max_json_depth;
    f->arena = arena_new();
    if ((f->thread = periodic_start(interval_ms, follow_tick, f, e)) == NULL) {
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
