/* server/h1_server.c - the listener and the set of connections: the connection cap, accept back-off,
 * shutdown.
 *
 * Accepting, drawn as the conditions under which the listener is enabled (server_update_listener):
 *   enabled  <=>  not stopping  and  no back-off pending  and  open connections < --max-connections
 *   at the cap (on_accept)            -> disabled until a connection closes (h1_server_forget)
 *   accept() fails (on_accept_error)  -> disabled for 100 ms, doubling up to 2 s while it keeps failing,
 *                                        back to 100 ms after an accept succeeds (on_backoff)
 * Invariants:
 *  1. accept() never runs in a loop that cannot make progress: out of file descriptors (EMFILE,
 *     ENFILE) or memory, the listener is off until the back-off timer fires.
 *  2. Accept failures are logged through a rate limit (at most 3 lines per 10 s).
 *  3. n_conns == the length of the conns list; each listed connection is freed exactly once, by
 *     h1_conn_close (which unlinks it here).
 * Threads: loop thread only. */
#include "h1_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define LOG_MODULE "http"
#include "log.h"

enum {
    H1_BACKLOG = 511,
    H1_BACKOFF_FIRST_MS = 100,
    H1_BACKOFF_MAX_MS = 2000,
    H1_ACCEPT_LOG_BURST = 3,
    H1_ACCEPT_LOG_INTERVAL_S = 10,
    H1_SPARE_FDS = 64, /* Postgres connections, log files, the private Postgres' pipes */
};

static void server_update_listener(struct h1_server *s)
{
    if (s->listener == NULL)
        return;
    bool want = !s->stopping && !evtimer_pending(s->backoff_ev, NULL) && s->n_conns < (size_t)s->lim.max_connections;
    if (want && s->listener_paused) {
        evconnlistener_enable(s->listener);
        s->listener_paused = false;
    } else if (!want && !s->listener_paused) {
        evconnlistener_disable(s->listener);
        s->listener_paused = true;
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int len, void *arg)
{
    struct h1_server *s = arg;
    int one = 1;
    (void)l;
    (void)addr;
    (void)len;

    s->backoff_ms = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* replies go out as they are written */
    struct h1_conn *c = h1_conn_new(s, fd);
    if (c == NULL) {
        log_warn_limited(&s->accept_log, "out of memory for a new connection; closed it");
        return;
    }
    c->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = c;
    s->conns = c;
    c->listed = true;
    s->n_conns++;
    s->handler.on_connections(s->handler.ctx, 1);
    if (s->n_conns >= (size_t)s->lim.max_connections)
        log_warn_limited(&s->accept_log, "%zu connections open (--max-connections): not accepting more until one "
                                         "closes", s->n_conns);
    server_update_listener(s);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    struct h1_server *s = arg;
    int err = EVUTIL_SOCKET_ERROR();
    (void)l;

    s->backoff_ms = s->backoff_ms == 0 ? H1_BACKOFF_FIRST_MS
                                       : (s->backoff_ms * 2 > H1_BACKOFF_MAX_MS ? H1_BACKOFF_MAX_MS : s->backoff_ms * 2);
    struct timeval tv = {.tv_sec = s->backoff_ms / 1000, .tv_usec = (s->backoff_ms % 1000) * 1000};
    evtimer_add(s->backoff_ev, &tv);
    server_update_listener(s);
    log_warn_limited(&s->accept_log, "accept failed: %s%s; not accepting for %d ms (%zu connections open)",
                     strerror(err),
                     err == EMFILE || err == ENFILE ? " (raise the file limit, ulimit -n, or lower --max-connections)" : "",
                     s->backoff_ms, s->n_conns);
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    server_update_listener(arg);
}

void h1_server_forget(struct h1_server *s, struct h1_conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->listed = false;
    s->n_conns--;
    s->handler.on_connections(s->handler.ctx, -1);
    server_update_listener(s);
    if (s->stopping && s->n_conns == 0 && s->stopped != NULL) {
        void (*done)(void *) = s->stopped;
        s->stopped = NULL;
        done(s->stopped_arg);
    }
}

/* Raises the soft file limit towards what --max-connections needs; warns if it stays too low. */
static void raise_file_limit(int max_connections)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)max_connections + H1_SPARE_FDS;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
        log_warn("the file limit (%llu) is below --max-connections %d + %d; accept() may fail with EMFILE "
                 "(then it backs off)", (unsigned long long)rl.rlim_cur, max_connections, H1_SPARE_FDS);
}

struct h1_server *h1_server_new(struct event_base *base, const struct h1_limits *lim, const struct h1_handler *h,
                                struct err *e)
{
    struct h1_server *s = calloc(1, sizeof *s);

    if (s == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    s->base = base;
    s->lim = *lim;
    s->handler = *h;
    s->backoff_ev = evtimer_new(base, on_backoff, s);
    if (s->backoff_ev == NULL) {
        free(s);
        err_set(e, ERR_INTERNAL, NULL, "cannot create the accept back-off timer");
        return NULL;
    }
    log_limit_init(&s->accept_log, H1_ACCEPT_LOG_BURST, H1_ACCEPT_LOG_INTERVAL_S);
    h1_init(lim->max_head);
    raise_file_limit(lim->max_connections);
    return s;
}

/* The port a bound socket got (the OS picks one for port 0). */
static int bound_port_of(evutil_socket_t fd, int fallback)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return fallback;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int h1_server_listen(struct h1_server *s, const char *host, int port, int *bound_port, struct err *e)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    char service[16];
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;

    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "cannot resolve --host \"%s\"", host);
    for (struct addrinfo *ai = res; ai != NULL && s->listener == NULL; ai = ai->ai_next)
        s->listener = evconnlistener_new_bind(s->base, on_accept, s, flags, H1_BACKLOG, ai->ai_addr,
                                              (int)ai->ai_addrlen);
    freeaddrinfo(res);
    if (s->listener == NULL)
        return err_set(e, ERR_UNAVAILABLE, NULL, "cannot listen on %s:%d (in use? set --port or LINEAGED_PORT)",
                       host, port);
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    evutil_socket_t fd = evconnlistener_get_fd(s->listener);
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        log_warn("cannot set TCP_NODELAY; large replies may stall on delayed ACKs");
    *bound_port = bound_port_of(fd, port);
    return 0;
}

void h1_server_shutdown(struct h1_server *s, void (*done)(void *arg), void *arg)
{
    s->stopping = true;
    server_update_listener(s);
    for (struct h1_conn *c = s->conns, *next; c != NULL; c = next) {
        next = c->next;
        h1_conn_stop(c);
    }
    if (s->n_conns == 0) {
        done(arg);
        return;
    }
    s->stopped = done;
    s->stopped_arg = arg;
}

size_t h1_server_connections(const struct h1_server *s)
{
    return s->n_conns;
}

void h1_server_free(struct h1_server *s)
{
    if (s == NULL)
        return;
    s->stopped = NULL;
    while (s->conns != NULL)
        h1_conn_close(s->conns);
    if (s->listener != NULL)
        evconnlistener_free(s->listener);
    event_free(s->backoff_ev);
    free(s);
}
