/* server/server.c - evhttp front end, request queue and worker threads.
 *
 * Invariants:
 *  1. Every evhttp request is answered exactly once, on the loop thread, by send_reply(); the arena
 *     of the request is freed right after (its struct job lives in the arena).
 *  2. Workers touch only the job they popped and their own store; the queue and done list are
 *     guarded by `lock`. Workers wake the loop with event_active() (libevent built with pthreads).
 *  3. in_flight counts jobs queued or running; shutdown waits for it to reach zero.
 * Ownership: struct server lives on server_run's stack; workers are joined before it returns. */
#include "server.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "auth.h"
#include "conn_gauge.h"
#include "http.h"
#include "metrics.h"
#include "node_cache.h"
#include "reply_gzip.h"
#include "routes.h"
#include "store.h"

#define LOG_MODULE "server"
#include "log.h"

enum { SERVER_MAX_HEADERS = 64 * 1024, SERVER_TIMEOUT_SECONDS = 120 };

struct job {
    struct job *next;
    struct evhttp_request *evreq;
    const struct route *route;
    struct req req;
    struct reply reply;
    struct err err;
    int64_t started_usec; /* metrics_clock_usec() when the request was read */
    int64_t db_usec;      /* database time of its handler (a group's, shared evenly); -1: none */
};

struct worker {
    struct server *srv;
    pthread_t thread;
    struct store *store;
    struct store *read_store; /* --read-database-url, for ROUTE_DB_READ routes; NULL until used */
};

struct server {
    const struct cfg *cfg;
    struct auth *auth;
    const char *conninfo;
    struct graph *graph;
    struct node_cache *node_cache;
    struct event_base *base;
    struct evhttp *http;
    struct event *done_ev, *sigint_ev, *sigterm_ev, *drain_ev;
    struct worker *workers;
    int n_workers;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *queue_head, *queue_tail, *done;
    bool stopping; /* guarded by lock: workers exit when set and the queue is empty */
    bool abandon;  /* guarded by lock: workers exit at once, leaving queued requests unstarted */
    size_t in_flight; /* loop thread only */
    unsigned long long next_id;
    struct metrics *metrics;
    struct conn_gauge connections; /* loop thread only */
};

/* ---- metrics hooks (issue 13): what any HTTP server must report to common/metrics.h ----
 * request_done: once per reply, in send_reply (route index, status, latency, database time);
 * queue depth: +1 in enqueue, -n in pop_group; in flight: +1 in enqueue, -1 in on_done;
 * connections: conn_gauge_request from on_request (server/conn_gauge.h). Database time: run_group
 * takes store_busy_usec() around the handler. */

static void count_reply(const struct job *j)
{
    size_t route = j->route != NULL ? routes_index(j->route) : metrics_no_route(j->req.metrics);

    metrics_request_done(j->req.metrics, route, j->reply.status, metrics_clock_usec() - j->started_usec,
                         j->db_usec);
}

/* ---- end of metrics hooks ---- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

/* Frees a request's arena once libevent has sent the reply body that lives in it. */
static void free_sent_arena(const void *data, size_t len, void *arena)
{
    (void)data;
    (void)len;
    arena_free(arena);
}

/* Sends the job's reply (or its error) and frees the request. The body is not copied: libevent sends
 * it from the request's arena and frees the arena when done (answers run to megabytes). */
static void send_reply(struct job *j)
{
    struct evkeyvalq *headers = evhttp_request_get_output_headers(j->evreq);
    struct evbuffer *buf = evbuffer_new();
    struct arena *arena = j->req.arena;

    if (j->reply.status == 0)
        http_reply_error(&j->reply, j->req.arena, &j->err, j->req.request_id);
    if (j->err.kind == ERR_INTERNAL)
        log_error("req=%s %s: %s", j->req.request_id, j->err.msg, j->err.detail);
    else if (j->err.kind == ERR_UNAVAILABLE)
        log_warn("req=%s %s: %s", j->req.request_id, j->err.msg, j->err.detail);
    if (j->reply.body != NULL) {
        evhttp_add_header(headers, "Content-Type",
                          j->reply.content_type ? j->reply.content_type : "application/json");
        if (buf != NULL &&
            evbuffer_add_reference(buf, j->reply.body, j->reply.body_len, free_sent_arena, arena) == 0)
            arena = NULL; /* libevent frees it */
    }
    if (j->reply.location != NULL)
        evhttp_add_header(headers, "Location", j->reply.location);
    if (j->reply.retry_after_s > 0)
        evhttp_add_header(headers, "Retry-After", arena_printf(j->req.arena, "%d", j->reply.retry_after_s));
    if (j->reply.content_encoding != NULL)
        evhttp_add_header(headers, "Content-Encoding", j->reply.content_encoding);
    evhttp_add_header(headers, "Vary", "Accept-Encoding");
    evhttp_add_header(headers, "X-Request-Id", j->req.request_id);
    log_debug("req=%s %s -> %d", j->req.request_id, j->req.path, j->reply.status);
    count_reply(j);
    evhttp_send_reply(j->evreq, j->reply.status, reason_phrase(j->reply.status), buf);
    if (buf != NULL)
        evbuffer_free(buf);
    arena_free(arena);
}

static void reply_now(struct job *j, enum err_kind kind, const char *where, const char *msg)
{
    err_set(&j->err, kind, where, "%s", msg);
    j->err.retryable = kind == ERR_UNAVAILABLE;
    send_reply(j);
}

/* Most requests one handler call may take together (group commit); bounds the transaction size. */
enum { SERVER_MAX_GROUP = 64 };

/* Pops the next job and, if its route handles requests together, the queued jobs of the same route
 * right behind it. Returns how many jobs went into group (0: stop). Called with srv->lock held. */
static size_t pop_group(struct server *srv, struct job **group)
{
    size_t n = 0;
    struct job *j = srv->queue_head;

    if (j == NULL)
        return 0;
    bool batchable = j->route->group != NULL;
    do {
        group[n++] = j;
        srv->queue_head = j->next;
        j = srv->queue_head;
    } while (batchable && j != NULL && j->route == group[0]->route && n < SERVER_MAX_GROUP);
    if (srv->queue_head == NULL)
        srv->queue_tail = NULL;
    metrics_queue_depth(srv->metrics, -(int)n);
    return n;
}

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
    struct route_call calls[SERVER_MAX_GROUP];
    const struct route *route = group[0]->route;
    struct store *store = worker_store(w, route, &group[0]->err);
    bool runnable = store != NULL || route->db == ROUTE_DB_OPTIONAL || route->db == ROUTE_DB_NONE;

    for (size_t i = 0; i < n; i++) {
        if (!runnable)
            group[i]->err = group[0]->err;
        group[i]->req.store = store;
        calls[i] = (struct route_call){&group[i]->req, &group[i]->reply, &group[i]->err, -1};
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
        group[i]->db_usec = db_usec;
        if (calls[i].rc != 0)
            group[i]->reply.status = 0;
        else if (group[i]->req.accepts_gzip)
            reply_gzip(group[i]->req.arena, &group[i]->reply);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct server *srv = w->srv;
    struct job *group[SERVER_MAX_GROUP];

    for (;;) {
        pthread_mutex_lock(&srv->lock);
        while (srv->queue_head == NULL && !srv->stopping)
            pthread_cond_wait(&srv->cond, &srv->lock);
        size_t n = srv->abandon ? 0 : pop_group(srv, group);
        pthread_mutex_unlock(&srv->lock);
        if (n == 0)
            return NULL;
        run_group(w, group, n);
        pthread_mutex_lock(&srv->lock);
        for (size_t i = 0; i < n; i++) {
            group[i]->next = srv->done;
            srv->done = group[i];
        }
        pthread_mutex_unlock(&srv->lock);
        event_active(srv->done_ev, EV_READ, 0);
    }
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
        struct job *next = list->next;
        send_reply(list);
        srv->in_flight--;
        metrics_in_flight(srv->metrics, -1);
        list = next;
    }
    if (srv->stopping && srv->in_flight == 0)
        event_base_loopexit(srv->base, NULL);
}

static enum http_method method_of(struct evhttp_request *evreq)
{
    switch (evhttp_request_get_command(evreq)) {
    case EVHTTP_REQ_GET: return HTTP_GET;
    case EVHTTP_REQ_POST: return HTTP_POST;
    case EVHTTP_REQ_PUT: return HTTP_PUT;
    case EVHTTP_REQ_DELETE: return HTTP_DELETE;
    case EVHTTP_REQ_HEAD: return HTTP_HEAD;
    default: return HTTP_OTHER;
    }
}

static const char *header_dup(struct arena *a, struct evhttp_request *evreq, const char *name)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(evreq), name);
    return v ? arena_strdup(a, v) : NULL;
}

/* Fills j->req from the evhttp request: path, segments, query, headers, body copy. */
static int read_request(struct server *srv, struct job *j, struct err *e)
{
    struct req *r = &j->req;
    const char *uri = evhttp_request_get_uri(j->evreq);
    const char *q = strchr(uri, '?');
    struct evbuffer *in = evhttp_request_get_input_buffer(j->evreq);
    size_t len = evbuffer_get_length(in);

    r->method = method_of(j->evreq);
    r->path = q ? arena_strndup(r->arena, uri, (size_t)(q - uri)) : arena_strdup(r->arena, uri);
    if (http_split_path(r->arena, r->path, &r->segments, &r->n_segments, e) != 0)
        return -1;
    if (http_parse_query(r->arena, q ? q + 1 : NULL, &r->params, &r->n_params, e) != 0)
        return -1;
    r->content_type = header_dup(r->arena, j->evreq, "Content-Type");
    r->content_encoding = header_dup(r->arena, j->evreq, "Content-Encoding");
    r->accepts_gzip = reply_gzip_accepted(header_dup(r->arena, j->evreq, "Accept-Encoding"));
    char *body = arena_alloc(r->arena, len + 1);
    if (len > 0 && evbuffer_copyout(in, body, len) != (ev_ssize_t)len)
        return err_set(e, ERR_INTERNAL, NULL, "cannot read the request body");
    body[len] = '\0';
    r->body = body;
    r->body_len = len;
    r->cfg = srv->cfg;
    r->graph = srv->graph;
    r->node_cache = srv->node_cache;
    return 0;
}

static void enqueue(struct server *srv, struct job *j)
{
    srv->in_flight++;
    metrics_in_flight(srv->metrics, 1);
    metrics_queue_depth(srv->metrics, 1);
    pthread_mutex_lock(&srv->lock);
    j->next = NULL;
    if (srv->queue_tail != NULL)
        srv->queue_tail->next = j;
    else
        srv->queue_head = j;
    srv->queue_tail = j;
    pthread_cond_signal(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
}

/* Replies go out as soon as they are written, in large writes. Without TCP_NODELAY a reply larger than a
 * few segments waits for the client's delayed ACK (40 ms on Linux) about one time in ten: it is set on
 * the listening socket, and Linux gives accepted sockets the listener's setting. Bufferevents write at
 * most 16 KiB per event-loop turn unless told otherwise (120 turns for a 2 MB lineage answer): each
 * connection's bufferevent is made here, once, with a larger limit. */
enum { SERVER_MAX_SINGLE_WRITE = 4 << 20 };

static struct bufferevent *new_connection_bev(struct event_base *base, void *arg)
{
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

    (void)arg;
    if (bev != NULL)
        bufferevent_set_max_single_write(bev, SERVER_MAX_SINGLE_WRITE);
    return bev; /* NULL: evhttp makes its own */
}

static void on_request(struct evhttp_request *evreq, void *arg)
{
    struct server *srv = arg;
    struct arena *a = arena_new();
    struct job *j = arena_zalloc(a, sizeof *j);
    bool known;

    j->evreq = evreq;
    j->req.arena = a;
    j->req.metrics = srv->metrics;
    j->started_usec = metrics_clock_usec();
    j->db_usec = -1;
    conn_gauge_request(&srv->connections, evreq);
    snprintf(j->req.request_id, sizeof j->req.request_id, "%llx", ++srv->next_id);
    if (read_request(srv, j, &j->err) != 0) {
        send_reply(j);
        return;
    }
    j->route = routes_match(j->req.method, j->req.segments, j->req.n_segments, &known);
    if (j->route == NULL) {
        if (known)
            reply_now(j, ERR_METHOD, NULL, "HTTP 405 Method Not Allowed");
        else
            reply_now(j, ERR_NOT_FOUND, NULL, "HTTP 404 Not Found");
        return;
    }
    if (auth_check(srv->auth, j->route->scope,
                   evhttp_find_header(evhttp_request_get_input_headers(evreq), "Authorization"), &j->err) != 0) {
        send_reply(j);
        return;
    }
    if (srv->stopping) {
        reply_now(j, ERR_UNAVAILABLE, NULL, "the server is shutting down; retry against another instance");
        return;
    }
    enqueue(srv, j);
}

/* Stops waiting for requests in flight: workers finish the request they are running and stop. */
static void abandon_queue(struct server *srv, const char *why)
{
    log_warn("%s: dropping the requests no worker has started (%zu in flight)", why, srv->in_flight);
    pthread_mutex_lock(&srv->lock);
    srv->abandon = true;
    pthread_cond_broadcast(&srv->cond);
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

    if (srv->stopping) {
        abandon_queue(srv, "second stop signal");
        return;
    }
    log_info("received signal %d, finishing %zu requests in flight (at most %d s)", (int)sig, srv->in_flight,
             srv->cfg->shutdown_timeout_s);
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    if (srv->in_flight == 0)
        event_base_loopexit(srv->base, NULL);
    else if (srv->drain_ev != NULL)
        evtimer_add(srv->drain_ev, &limit);
}

static int start_workers(struct server *srv, struct err *e)
{
    srv->workers = calloc((size_t)srv->cfg->db_connections, sizeof *srv->workers);
    if (srv->workers == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    for (int i = 0; i < srv->cfg->db_connections; i++) {
        srv->workers[i].srv = srv;
        if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]) != 0)
            return err_set(e, ERR_INTERNAL, NULL, "cannot start worker thread %d", i);
        srv->n_workers++;
    }
    return 0;
}

/* Frees a list of jobs that will never be answered (each job lives in its own arena). */
static void free_jobs(struct job *j)
{
    while (j != NULL) {
        struct job *next = j->next;
        arena_free(j->req.arena);
        j = next;
    }
}

static void stop_workers(struct server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    for (int i = 0; i < srv->n_workers; i++) {
        pthread_join(srv->workers[i].thread, NULL);
        store_free(srv->workers[i].store);
        store_free(srv->workers[i].read_store);
    }
    free(srv->workers);
    /* Requests dropped by a shutdown timeout: their connections close with evhttp_free. */
    free_jobs(srv->queue_head);
    free_jobs(srv->done);
    srv->queue_head = srv->queue_tail = srv->done = NULL;
}

/* Binds the listening socket and logs the address (the port may have been chosen by the OS). */
static int listen_http(struct server *srv, struct err *e)
{
    struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(srv->http, srv->cfg->host,
                                                                      (ev_uint16_t)srv->cfg->port);
    if (sock == NULL)
        return err_set(e, ERR_UNAVAILABLE, NULL, "cannot listen on %s:%d (in use? set --port or LINEAGED_PORT)",
                       srv->cfg->host, srv->cfg->port);
    int one = 1;
    if (setsockopt(evhttp_bound_socket_get_fd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        log_warn("cannot set TCP_NODELAY; large replies may stall on delayed ACKs");
    struct sockaddr_storage ss;
    ev_socklen_t sl = sizeof ss;
    int port = srv->cfg->port;
    if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl) == 0)
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    log_info("listening on http://%s:%d", srv->cfg->host, port);
    return 0;
}

static int setup(struct server *srv, struct err *e)
{
    if (evthread_use_pthreads() != 0)
        return err_set(e, ERR_INTERNAL, NULL, "libevent has no pthreads support");
    if ((srv->base = event_base_new()) == NULL || (srv->http = evhttp_new(srv->base)) == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "cannot create the event loop");
    evhttp_set_max_body_size(srv->http, srv->cfg->max_body_bytes);
    evhttp_set_max_headers_size(srv->http, SERVER_MAX_HEADERS);
    evhttp_set_bevcb(srv->http, new_connection_bev, NULL);
    evhttp_set_timeout(srv->http, SERVER_TIMEOUT_SECONDS);
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS |
                                              EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(srv->http, NULL);
    evhttp_set_gencb(srv->http, on_request, srv);
    srv->done_ev = event_new(srv->base, -1, 0, on_done, srv);
    srv->sigint_ev = evsignal_new(srv->base, SIGINT, on_signal, srv);
    srv->sigterm_ev = evsignal_new(srv->base, SIGTERM, on_signal, srv);
    srv->drain_ev = evtimer_new(srv->base, on_drain_timeout, srv);
    if (srv->done_ev == NULL || srv->sigint_ev == NULL || srv->sigterm_ev == NULL ||
        evsignal_add(srv->sigint_ev, NULL) != 0 || evsignal_add(srv->sigterm_ev, NULL) != 0)
        return err_set(e, ERR_INTERNAL, NULL, "cannot set up events");
    if (listen_http(srv, e) != 0)
        return -1;
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

int server_run(const struct cfg *c, const char *conninfo, struct graph *g, struct auth *auth, struct metrics *m,
               struct err *e)
{
    struct server srv = {
        .cfg = c, .auth = auth, .conninfo = conninfo, .graph = g, .metrics = m, .connections = {.metrics = m}};
    int rc = 0;

    srv.node_cache = node_cache_new((size_t)c->lineage_cache_mb << 20);
    if (srv.node_cache == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    pthread_mutex_init(&srv.lock, NULL);
    pthread_cond_init(&srv.cond, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (setup(&srv, e) != 0)
        rc = -1;
    else if (event_base_dispatch(srv.base) < 0)
        rc = err_set(e, ERR_INTERNAL, NULL, "the event loop failed");
    stop_workers(&srv);
    if (srv.http != NULL)
        evhttp_free(srv.http);
    if (srv.done_ev != NULL)
        event_free(srv.done_ev);
    if (srv.sigint_ev != NULL)
        event_free(srv.sigint_ev);
    if (srv.sigterm_ev != NULL)
        event_free(srv.sigterm_ev);
    if (srv.drain_ev != NULL)
        event_free(srv.drain_ev);
    if (srv.base != NULL)
        event_base_free(srv.base);
    libevent_global_shutdown();
    pthread_cond_destroy(&srv.cond);
    pthread_mutex_destroy(&srv.lock);
    log_node_cache(srv.node_cache);
    node_cache_free(srv.node_cache);
    conn_gauge_free(&srv.connections);
    if (rc == 0)
        log_info("stopped cleanly");
    return rc;
}
