/* server/server.c - requests from the HTTP layer (h1_conn.h) to the worker threads and back.
 *
 * A request's way: h1 parses its head -> on_head (route, auth, a place in its lane: lanes.h) -> h1
 * reads its body -> on_request queues it -> a worker (one Postgres connection each) runs the handler,
 * or the group handler for a run of queued requests of a group route (group commit) -> done list ->
 * on_done, on the loop thread, replies through h1_exchange_reply.
 * Invariants:
 *  1. Every request on_request received is answered exactly once, on the loop thread, by on_done (or
 *     at once when the server is stopping); its arena (which holds its struct job) dies with the reply.
 *  2. Workers touch only the jobs they popped and their own store; lanes and the done list are guarded
 *     by `lock`. Workers wake the loop with event_active() (libevent built with pthreads).
 *  3. in_flight counts requests queued or running; shutdown waits until every connection has closed,
 *     which happens only after its request was answered.
 *  4. Every request arena is counted in one shared budget (--max-inflight-mb) and limited on its own
 *     (--max-request-mb): the body reader, gunzip and the JSON parser stop at either (413 / 503).
 *  5. Metrics (common/metrics.h): every reply is counted once, in on_reply (route, status, latency,
 *     database time); queue depth +1 in on_request, -n when a worker pops; in flight +1 in on_request,
 *     -1 in on_done; connections from the HTTP layer's on_connections.
 * Ownership: struct server lives on server_run's stack; workers are joined before it returns. */
#include "server.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "auth.h"
#include "h1_conn.h"
#include "http.h"
#include "lanes.h"
#include "metrics.h"
#include "node_cache.h"
#include "reply_gzip.h"
#include "routes.h"
#include "store.h"

#define LOG_MODULE "server"
#include "log.h"

enum { SERVER_LOG_BURST = 5, SERVER_LOG_INTERVAL_S = 10 };

/* One request while the server has it. `q` comes first: a struct queued from the lanes is its job. */
struct job {
    struct queued q;
    struct h1_exchange *x;
    int64_t db_usec; /* database time of its handler (a group's, shared evenly); -1: none */
};

struct worker {
    struct server *srv;
    pthread_t thread;
    struct store *store;
    struct store *read_store; /* --read-database-url, for ROUTE_DB_READ routes; NULL until used */
    bool reads_only; /* lanes.h: worker 0 when there are two or more */
};

struct server {
    const struct cfg *cfg;
    struct auth *auth;
    struct metrics *metrics;
    const char *conninfo;
    struct graph *graph;
    struct node_cache *node_cache;
    struct event_base *base;
    struct h1_server *http;
    struct event *done_ev, *sigint_ev, *sigterm_ev, *drain_ev;
    struct worker *workers;
    int n_workers;
    pthread_mutex_t lock;
    pthread_cond_t cond_any, cond_read; /* work for any worker / for the reads-only worker */
    int idle_any, idle_read;            /* guarded by lock: workers waiting on each */
    struct lanes lanes;                 /* guarded by lock */
    struct job *done;                   /* guarded by lock */
    bool stopping; /* guarded by lock: workers exit when set and the lanes are empty */
    bool abandon;  /* guarded by lock: workers exit at once, leaving queued requests unstarted */
    size_t in_flight; /* loop thread only */
    struct arena_budget budget;
    struct log_limit unavailable_log, overload_log;
};

/* ---- workers ----------------------------------------------------------------------------------- */

/* The connection a route's handler gets (enum route_db, routes.h), connected on first use; NULL with
 * e set when it cannot connect, NULL for ROUTE_DB_NONE. */
static struct store *worker_store(struct worker *w, const struct route *route, struct err *e)
{
    const char *read_url = w->srv->cfg->read_database_url;

    if (route->db == ROUTE_DB_NONE)
        return NULL;
    if (route->db == ROUTE_DB_READ && read_url[0] != '\0') {
        if (w->read_store == NULL)
            w->read_store = store_connect(read_url, e);
        return w->read_store;
    }
    if (w->store == NULL)
        w->store = store_connect(w->srv->conninfo, e);
    return w->store;
}

/* Runs the handler of one job, or the group handler of a group, with the connection its route uses. */
static void run_group(struct worker *w, struct job **group, size_t n)
{
    struct route_call calls[LANES_MAX_GROUP];
    const struct route *route = group[0]->q.route;
    struct store *store = worker_store(w, route, &group[0]->x->err);
    bool runnable = store != NULL || route->db == ROUTE_DB_OPTIONAL || route->db == ROUTE_DB_NONE;

    for (size_t i = 0; i < n; i++) {
        struct h1_exchange *x = group[i]->x;
        if (!runnable)
            x->err = group[0]->x->err;
        x->req.store = store;
        calls[i] = (struct route_call){&x->req, &x->reply, &x->err, -1};
    }
    int64_t busy = store != NULL ? store_busy_usec(store) : 0;
    if (runnable) {
        if (route->group != NULL)
            route->group(calls, n);
        else
            calls[0].rc = route->handler(calls[0].req, calls[0].reply, calls[0].err);
    }
    int64_t db_usec = store != NULL ? (store_busy_usec(store) - busy) / (int64_t)n : -1;
    for (size_t i = 0; i < n; i++) {
        struct h1_exchange *x = group[i]->x;
        group[i]->db_usec = db_usec;
        if (calls[i].rc != 0)
            x->reply.status = 0;
        else if (x->req.accepts_gzip)
            reply_gzip(x->req.arena, &x->reply);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct server *srv = w->srv;
    struct queued *popped[LANES_MAX_GROUP];

    for (;;) {
        pthread_mutex_lock(&srv->lock);
        int *idle = w->reads_only ? &srv->idle_read : &srv->idle_any;
        while (!lanes_ready(&srv->lanes, w->reads_only) && !srv->stopping) {
            (*idle)++;
            pthread_cond_wait(w->reads_only ? &srv->cond_read : &srv->cond_any, &srv->lock);
            (*idle)--;
        }
        size_t n = srv->abandon ? 0 : lanes_pop(&srv->lanes, w->reads_only, popped);
        pthread_mutex_unlock(&srv->lock);
        if (n == 0)
            return NULL;
        metrics_queue_depth(srv->metrics, -(int)n);
        run_group(w, (struct job **)popped, n);
        pthread_mutex_lock(&srv->lock);
        for (size_t i = 0; i < n; i++) {
            struct job *j = (struct job *)popped[i];
            j->q.next = (struct queued *)srv->done;
            srv->done = j;
        }
        pthread_mutex_unlock(&srv->lock);
        event_active(srv->done_ev, EV_READ, 0);
    }
}

/* ---- from the HTTP layer ----------------------------------------------------------------------- */

/* h1 on_head: route, auth, shutdown, then a place in the request's lane (503 when it is full). */
static int on_head(void *ctx, struct h1_exchange *x)
{
    struct server *srv = ctx;
    struct req *r = &x->req;
    bool known, urgent, admitted;
    enum lane lane;
    const struct route *route = routes_match(r->method, r->segments, r->n_segments, &known);

    r->metrics = srv->metrics;
    if (route == NULL)
        return known ? err_set(&x->err, ERR_METHOD, NULL, "HTTP 405 Method Not Allowed")
                     : err_set(&x->err, ERR_NOT_FOUND, NULL, "HTTP 404 Not Found");
    lanes_classify(route, &lane, &urgent);
    struct job *j = arena_zalloc(r->arena, sizeof *j);
    j->q = (struct queued){.route = route, .lane = lane, .urgent = urgent};
    j->x = x;
    j->db_usec = -1;
    x->user = j; /* from here on, the reply is counted under its route */
    if (auth_check(srv->auth, route->scope, http_header(r, "Authorization"), &x->err) != 0)
        return -1;
    pthread_mutex_lock(&srv->lock);
    bool stopping = srv->stopping;
    admitted = !stopping && lanes_admit(&srv->lanes, lane, urgent);
    pthread_mutex_unlock(&srv->lock);
    if (stopping)
        return err_set_retry(&x->err, NULL, "the server is shutting down; retry against another instance");
    if (!admitted) {
        log_warn_limited(&srv->overload_log, "overloaded: %s lane full (--max-queue %d); answering 503",
                         lane == LANE_READ ? "read" : "write", srv->cfg->max_queue);
        return err_set_retry(&x->err, NULL, "the server is busy: %d requests already wait for a worker "
                                            "(--max-queue); retry later", srv->cfg->max_queue);
    }
    r->cfg = srv->cfg;
    r->graph = srv->graph;
    r->node_cache = srv->node_cache;
    r->outage_log = &srv->unavailable_log;
    return 0;
}

/* h1 on_request: the body is read; queue it for a worker. */
static void on_request(void *ctx, struct h1_exchange *x)
{
    struct server *srv = ctx;
    struct job *j = x->user;

    pthread_mutex_lock(&srv->lock);
    bool stopping = srv->stopping;
    if (stopping) {
        lanes_release(&srv->lanes, j->q.lane);
    } else {
        lanes_push(&srv->lanes, &j->q);
        metrics_queue_depth(srv->metrics, 1);
        /* Wake one worker that can take it: the reads-only one first for a read, so the others stay
         * free for writes (and no two threads wake for one request). */
        if (j->q.lane == LANE_READ && srv->idle_read > 0)
            pthread_cond_signal(&srv->cond_read);
        else
            pthread_cond_signal(&srv->cond_any);
    }
    pthread_mutex_unlock(&srv->lock);
    if (stopping) {
        err_set_retry(&x->err, NULL, "the server is shutting down; retry against another instance");
        h1_exchange_reply(x);
        return;
    }
    srv->in_flight++;
    metrics_in_flight(srv->metrics, 1);
}

/* h1 on_drop: a request admitted at its head will not come (its body failed). */
static void on_drop(void *ctx, struct h1_exchange *x)
{
    struct server *srv = ctx;
    struct job *j = x->user;

    pthread_mutex_lock(&srv->lock);
    lanes_release(&srv->lanes, j->q.lane);
    pthread_mutex_unlock(&srv->lock);
}

/* h1 on_reply: every reply is counted once, under its route when it has one. */
static void on_reply(void *ctx, const struct h1_exchange *x)
{
    struct server *srv = ctx;
    const struct job *j = x->user;
    size_t route = j != NULL ? routes_index(j->q.route) : metrics_no_route(srv->metrics);

    metrics_request_done(srv->metrics, route, x->reply.status, metrics_clock_usec() - x->started_usec,
                         j != NULL ? j->db_usec : -1);
}

/* h1 on_connections: the open-connections gauge. */
static void on_connections(void *ctx, int delta)
{
    struct server *srv = ctx;
    metrics_connections(srv->metrics, delta);
}

/* Logs what an operator may need to see about a reply: our bugs always, outages through a rate limit. */
static void log_outcome(struct server *srv, const struct h1_exchange *x)
{
    const struct err *e = &x->err;

    if (x->reply.status != 0)
        return;
    if (e->kind == ERR_INTERNAL)
        log_error("req=%s %s: %s", x->req.request_id, e->msg, e->detail);
    else if (e->kind == ERR_UNAVAILABLE)
        log_warn_limited(&srv->unavailable_log, "req=%s %s: %s", x->req.request_id, e->msg, e->detail);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;

    pthread_mutex_lock(&srv->lock);
    struct job *list = srv->done;
    srv->done = NULL;
    pthread_mutex_unlock(&srv->lock);
    while (list != NULL) {
        struct job *next = (struct job *)list->q.next;
        log_outcome(srv, list->x);
        log_debug("req=%s %s -> %d (%zu KiB)", list->x->req.request_id, list->x->req.path,
                  list->x->reply.status ? list->x->reply.status : err_http_status(list->x->err.kind),
                  arena_charged(list->x->req.arena) >> 10);
        h1_exchange_reply(list->x);
        srv->in_flight--;
        metrics_in_flight(srv->metrics, -1);
        list = next;
    }
}

/* ---- shutdown ---------------------------------------------------------------------------------- */

static void on_all_closed(void *arg)
{
    struct server *srv = arg;
    event_base_loopexit(srv->base, NULL);
}

/* Stops waiting for requests in flight: workers finish the request they are running and stop. */
static void abandon_queue(struct server *srv, const char *why)
{
    log_warn("%s: dropping the requests no worker has started (%zu in flight)", why, srv->in_flight);
    pthread_mutex_lock(&srv->lock);
    srv->abandon = true;
    pthread_cond_broadcast(&srv->cond_any);
    pthread_cond_broadcast(&srv->cond_read);
    pthread_mutex_unlock(&srv->lock);
    event_base_loopexit(srv->base, NULL);
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    abandon_queue(arg, "shutdown timeout reached");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;
    struct timeval limit = {.tv_sec = srv->cfg->shutdown_timeout_s};
    (void)what;

    pthread_mutex_lock(&srv->lock);
    bool again = srv->stopping;
    srv->stopping = true;
    pthread_cond_broadcast(&srv->cond_any);
    pthread_cond_broadcast(&srv->cond_read);
    pthread_mutex_unlock(&srv->lock);
    if (again) {
        abandon_queue(srv, "second stop signal");
        return;
    }
    log_info("received signal %d, finishing %zu requests in flight (at most %d s)", (int)sig, srv->in_flight,
             srv->cfg->shutdown_timeout_s);
    evtimer_add(srv->drain_ev, &limit);
    h1_server_shutdown(srv->http, on_all_closed, srv); /* may exit the loop at once */
}

/* ---- start and stop ---------------------------------------------------------------------------- */

static int start_workers(struct server *srv, struct err *e)
{
    srv->workers = calloc((size_t)srv->cfg->db_connections, sizeof *srv->workers);
    if (srv->workers == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    for (int i = 0; i < srv->cfg->db_connections; i++) {
        srv->workers[i].srv = srv;
        srv->workers[i].reads_only = i == 0 && srv->cfg->db_connections > 1;
        if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]) != 0)
            return err_set(e, ERR_INTERNAL, NULL, "cannot start worker thread %d", i);
        srv->n_workers++;
    }
    return 0;
}

/* Frees a list of queued jobs that will never be answered (each job lives in its request's arena). */
static void free_queued(struct queued *q)
{
    while (q != NULL) {
        struct queued *next = q->next;
        arena_free(((struct job *)q)->x->req.arena);
        q = next;
    }
}

static void stop_workers(struct server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->cond_any);
    pthread_cond_broadcast(&srv->cond_read);
    pthread_mutex_unlock(&srv->lock);
    for (int i = 0; i < srv->n_workers; i++) {
        pthread_join(srv->workers[i].thread, NULL);
        store_free(srv->workers[i].store);
        store_free(srv->workers[i].read_store);
    }
    free(srv->workers);
    /* Requests dropped by a shutdown timeout: their connections close with h1_server_free. */
    for (int l = 0; l < LANE_COUNT; l++)
        free_queued(srv->lanes.head[l]);
    free_queued((struct queued *)srv->done);
    memset(&srv->lanes, 0, sizeof srv->lanes);
    srv->done = NULL;
}

/* The HTTP layer's limits from the options (README "Limits and security"). */
static struct h1_limits http_limits(struct server *srv)
{
    const struct cfg *c = srv->cfg;

    return (struct h1_limits){
        .max_head = (size_t)c->max_header_bytes,
        .max_body = (size_t)c->max_body_bytes,
        .max_connections = c->max_connections,
        .header_timeout_s = c->header_timeout_s,
        .idle_timeout_s = c->idle_timeout_s,
        .body_timeout_s = c->body_timeout_s,
        .body_min_rate = (size_t)c->body_min_rate,
        .write_timeout_s = c->write_timeout_s,
        .budget = &srv->budget,
        .request_max = (size_t)c->max_request_mb << 20,
    };
}

static int setup(struct server *srv, struct err *e)
{
    struct h1_limits lim = http_limits(srv);
    struct h1_handler handler = {.on_head = on_head,
                                 .on_request = on_request,
                                 .on_drop = on_drop,
                                 .on_reply = on_reply,
                                 .on_connections = on_connections,
                                 .ctx = srv};
    int port = 0;

    if (evthread_use_pthreads() != 0)
        return err_set(e, ERR_INTERNAL, NULL, "libevent has no pthreads support");
    if ((srv->base = event_base_new()) == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "cannot create the event loop");
    if ((srv->http = h1_server_new(srv->base, &lim, &handler, e)) == NULL)
        return -1;
    srv->done_ev = event_new(srv->base, -1, 0, on_done, srv);
    srv->sigint_ev = evsignal_new(srv->base, SIGINT, on_signal, srv);
    srv->sigterm_ev = evsignal_new(srv->base, SIGTERM, on_signal, srv);
    srv->drain_ev = evtimer_new(srv->base, on_drain_timeout, srv);
    if (srv->done_ev == NULL || srv->sigint_ev == NULL || srv->sigterm_ev == NULL || srv->drain_ev == NULL ||
        evsignal_add(srv->sigint_ev, NULL) != 0 || evsignal_add(srv->sigterm_ev, NULL) != 0)
        return err_set(e, ERR_INTERNAL, NULL, "cannot set up events");
    if (h1_server_listen(srv->http, srv->cfg->host, srv->cfg->port, &port, e) != 0)
        return -1;
    log_info("listening on http://%s:%d", srv->cfg->host, port);
    return start_workers(srv, e);
}

/* How well --lineage-cache-mb served, for sizing it. */
static void log_node_cache(struct node_cache *c)
{
    struct node_cache_stats st;

    node_cache_stats(c, &st);
    log_info("lineage node cache: %zu entries, %zu of %zu bytes; %llu hits, %llu misses, %llu evictions",
             st.entries, st.bytes, st.max_bytes, (unsigned long long)st.hits, (unsigned long long)st.misses,
             (unsigned long long)st.evictions);
}

static void free_events(struct server *srv)
{
    struct event *evs[] = {srv->done_ev, srv->sigint_ev, srv->sigterm_ev, srv->drain_ev};

    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
}

int server_run(const struct cfg *c, const char *conninfo, struct graph *g, struct auth *auth, struct metrics *m,
               struct err *e)
{
    struct server srv = {.cfg = c, .auth = auth, .metrics = m, .conninfo = conninfo, .graph = g};
    int rc = 0;

    if ((size_t)c->max_request_mb > (size_t)c->max_inflight_mb)
        return err_set(e, ERR_BAD_INPUT, "max-request-mb", "--max-request-mb %d is larger than --max-inflight-mb %d",
                       c->max_request_mb, c->max_inflight_mb);
    srv.node_cache = node_cache_new((size_t)c->lineage_cache_mb << 20);
    if (srv.node_cache == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    pthread_mutex_init(&srv.lock, NULL);
    pthread_cond_init(&srv.cond_any, NULL);
    pthread_cond_init(&srv.cond_read, NULL);
    srv.lanes.max = (size_t)c->max_queue;
    atomic_init(&srv.budget.used, 0);
    srv.budget.max = (size_t)c->max_inflight_mb << 20;
    log_limit_init(&srv.unavailable_log, SERVER_LOG_BURST, SERVER_LOG_INTERVAL_S);
    log_limit_init(&srv.overload_log, SERVER_LOG_BURST, SERVER_LOG_INTERVAL_S);
    signal(SIGPIPE, SIG_IGN);
    if (setup(&srv, e) != 0)
        rc = -1;
    else if (event_base_dispatch(srv.base) < 0)
        rc = err_set(e, ERR_INTERNAL, NULL, "the event loop failed");
    stop_workers(&srv);
    h1_server_free(srv.http);
    free_events(&srv);
    if (srv.base != NULL)
        event_base_free(srv.base);
    libevent_global_shutdown();
    pthread_cond_destroy(&srv.cond_read);
    pthread_cond_destroy(&srv.cond_any);
    pthread_mutex_destroy(&srv.lock);
    log_node_cache(srv.node_cache);
    node_cache_free(srv.node_cache);
    if (rc == 0)
        log_info("stopped cleanly");
    return rc;
}
