/* api/ops.c - GET /metrics, GET /api/v1/alerts/silent-jobs and the background silent-job count
 * (see ops.h).
 *
 * Invariants:
 *  1. /metrics never fails: a value that cannot be read (database down, no /proc) is left out of the
 *     answer, and every other series is still there.
 *  2. Parameters are validated before any query; errors have Marquez's parameter shape
 *     {"errors":["query param factor must be ..."]}.
 * Threads: handlers on worker threads (the graph is read under its read lock, the node cache under its
 * own); the silent watch on its own periodic thread (common/periodic.h) with its own connection. */
#include "ops.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "graph.h"
#include "json_text.h"
#include "metrics.h"
#include "node_cache.h"
#include "store.h"
#include "store_ops.h"
#include "periodic.h"

#define LOG_MODULE "ops"
#include "log.h"

enum { OPS_PAGE_DEFAULT = 100, OPS_SILENT_FACTOR_MAX = 1000 };

static const char METRICS_CONTENT_TYPE[] = "text/plain; version=0.0.4; charset=utf-8";

/* Resident set size from /proc/self/statm, or -1. */
static int64_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = -1;

    if (f == NULL)
        return -1;
    if (fscanf(f, "%lld %lld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (int64_t)sysconf(_SC_PAGESIZE);
}

int api_get_metrics(struct req *r, struct reply *out, struct err *e)
{
    struct metrics_scrape s = {-1, -1, -1, -1, -1, -1};
    struct json_text t;

    (void)e;
    if (r->graph != NULL) {
        graph_lock_read(r->graph);
        s.graph_nodes = (int64_t)graph_node_count(r->graph);
        s.graph_edges = (int64_t)graph_edge_count(r->graph);
        s.graph_bytes = (int64_t)graph_memory_bytes(r->graph);
        graph_unlock(r->graph);
    }
    if (r->node_cache != NULL) {
        struct node_cache_stats st;
        node_cache_stats(r->node_cache, &st);
        s.node_cache_bytes = (int64_t)st.bytes;
        s.node_cache_entries = (int64_t)st.entries;
    }
    s.resident_bytes = resident_bytes();
    json_text_init(&t, r->arena, 16384);
    if (r->metrics != NULL)
        metrics_render(r->metrics, &s, &t);
    http_reply_json(out, 200, t.p, t.len);
    out->content_type = METRICS_CONTENT_TYPE;
    return 0;
}

/* factor: a decimal number from 1 to OPS_SILENT_FACTOR_MAX, default OPS_SILENT_FACTOR_DEFAULT. */
static int param_factor(const struct req *r, double *out, struct err *e)
{
    const char *v = http_param(r, "factor");
    char *end = NULL;

    *out = OPS_SILENT_FACTOR_DEFAULT;
    if (v == NULL || *v == '\0')
        return 0;
    errno = 0;
    double f = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !isfinite(f))
        return err_set(e, ERR_BAD_PARAM, "factor", "is not a number.");
    if (f < 1 || f > OPS_SILENT_FACTOR_MAX)
        return err_set(e, ERR_BAD_PARAM, "factor", "must be from 1 to %d", OPS_SILENT_FACTOR_MAX);
    *out = f;
    return 0;
}

int api_get_silent_jobs(struct req *r, struct reply *out, struct err *e)
{
    struct store_silent_query q = {.window = r->cfg->silent_jobs_window};
    const char *json = NULL;

    if (param_factor(r, &q.factor, e) != 0 ||
        http_param_int(r, "minRuns", OPS_SILENT_MIN_RUNS_DEFAULT, 2, q.window, &q.min_runs, e) != 0 ||
        http_param_int(r, "limit", OPS_PAGE_DEFAULT, 0, INT_MAX, &q.limit, e) != 0 ||
        http_param_int(r, "offset", 0, 0, INT_MAX, &q.offset, e) != 0)
        return -1;
    if (store_ops_silent_jobs(r->store, r->arena, &q, &json, e) != 0)
        return -1;
    http_reply_json(out, 200, json, strlen(json));
    return 0;
}

struct ops_silent_watch {
    char *conninfo;
    struct store_silent_query q;
    struct metrics *metrics;
    struct store *store; /* the periodic thread's; NULL until connected */
    bool failing;        /* the last count failed: warn once per outage */
    struct periodic *thread;
};

static void silent_watch_tick(void *arg)
{
    struct ops_silent_watch *w = arg;
    int64_t n = -1;
    struct err e;

    if (w->store == NULL)
        w->store = store_connect(w->conninfo, &e);
    if (w->store == NULL || store_ops_silent_count(w->store, &w->q, &n, &e) != 0) {
        if (!w->failing)
            log_warn("silent jobs not counted for /metrics: %s (%s)", e.msg, e.detail);
        w->failing = true;
        store_free(w->store);
        w->store = NULL;
        metrics_set_silent_jobs(w->metrics, -1);
        return;
    }
    w->failing = false;
    metrics_set_silent_jobs(w->metrics, n);
}

struct ops_silent_watch *ops_silent_watch_start(const char *conninfo, int interval_s, long window,
                                                struct metrics *m, struct err *e)
{
    struct ops_silent_watch *w = calloc(1, sizeof *w);

    if (w == NULL || (w->conninfo = strdup(conninfo)) == NULL) {
        free(w);
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    w->q = (struct store_silent_query){
        .factor = OPS_SILENT_FACTOR_DEFAULT, .min_runs = OPS_SILENT_MIN_RUNS_DEFAULT, .window = window};
    w->metrics = m;
    if ((w->thread = periodic_start(interval_s * 1000, silent_watch_tick, w, e)) == NULL) {
        ops_silent_watch_stop(w);
        return NULL;
    }
    return w;
}

void ops_silent_watch_stop(struct ops_silent_watch *w)
{
    if (w == NULL)
        return;
    periodic_stop(w->thread);
    store_free(w->store);
    free(w->conninfo);
    free(w);
}
