/* server/h1_conn.c - one client connection: read a head, read its body, hand the request over, write
 * the reply, then the next request or a lingering close.
 *
 * Invariants: see h1_conn.h and the state machine in h1_int.h (the functions named there are here).
 * Ownership: the connection owns its bufferevent, timer and parser, and the exchange it is reading
 * (x in HEAD/BODY); see h1_conn.h invariant 2 for the exchange in BUSY.
 * Threads: loop thread only. */
#include "h1_int.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "metrics.h"

#define LOG_MODULE "http"
#include "log.h"

enum {
    H1_MAX_SINGLE_WRITE = 4 << 20,  /* bufferevents write 16 KiB per loop turn otherwise */
    H1_CHUNKED_INITIAL = 16 * 1024, /* first body buffer of a chunked request */
    H1_TRIM_BYTES = 32 << 20,       /* after freeing a request this big, give free pages back to the OS */
};

static const char CONTINUE_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void conn_on_read(struct bufferevent *bev, void *arg);
static void conn_on_write(struct bufferevent *bev, void *arg);
static void conn_on_event(struct bufferevent *bev, short what, void *arg);
static void conn_on_timer(evutil_socket_t fd, short what, void *arg);

/* Frees a request's arena. glibc keeps freed heap pages mapped, so after a big request RSS would stay at
 * its peak for good: malloc_trim hands them back (it costs a walk of the heap, hence only for big ones). */
static void release_arena(struct arena *a)
{
    size_t held = a != NULL ? arena_charged(a) : 0;

    arena_free(a);
    if (held >= H1_TRIM_BYTES)
        malloc_trim(0);
}

/* ---- deadlines and states ---------------------------------------------------------------------- */

static void conn_arm(struct h1_conn *c, int seconds)
{
    struct timeval tv = {.tv_sec = seconds};

    evtimer_add(c->timer, &tv);
}

/* HEAD: waits for the next request; a fresh connection gets --header-timeout, a kept-alive one
 * --idle-timeout until its next request's first byte. */
static void conn_wait_head(struct h1_conn *c, bool fresh)
{
    c->state = CONN_HEAD;
    c->scan = (struct h1_scan){0};
    c->head_started = false;
    c->body = NULL;
    c->body_len = c->body_cap = 0;
    conn_arm(c, fresh ? c->srv->lim.header_timeout_s : c->srv->lim.idle_timeout_s);
    bufferevent_enable(c->bev, EV_READ);
}

/* A new exchange: its own arena, counted in the request budgets, and a request id. */
static struct h1_exchange *conn_new_exchange(struct h1_conn *c)
{
    struct arena *a = arena_new();
    struct h1_exchange *x;

    arena_set_budget(a, c->srv->lim.budget, c->srv->lim.request_max);
    x = arena_zalloc(a, sizeof *x);
    x->req.arena = a;
    x->conn = c;
    x->minor = 1;
    x->started_usec = metrics_clock_usec();
    snprintf(x->req.request_id, sizeof x->req.request_id, "%llx", ++c->srv->next_id);
    return x;
}

/* Tells the server a request it accepted will not come (h1_conn.h: on_drop). */
static void conn_drop(struct h1_conn *c, struct h1_exchange *x)
{
    if (x->accepted) {
        x->accepted = false;
        c->srv->handler.on_drop(c->srv->handler.ctx, x);
    }
}

/* Answers an error (e) for the request being read instead of reading on. With must_close (framing
 * errors, deadlines: where the next request starts is unknown) the connection closes after the reply;
 * otherwise it closes only if the request's body was not read (h1_exchange_reply). */
static void conn_fail(struct h1_conn *c, const struct err *e, bool must_close)
{
    struct h1_exchange *x = c->x != NULL ? c->x : conn_new_exchange(c);

    conn_drop(c, x);
    x->err = *e;
    x->reply.status = 0;
    if (must_close)
        c->close_after = c->linger = true;
    c->x = x;
    log_debug("req=%s refused: %s", x->req.request_id, e->msg);
    c->state = CONN_BUSY;
    h1_exchange_reply(x);
}

/* ---- reading a request ------------------------------------------------------------------------- */

/* Feeds the input bytes not yet scanned to the head scanner. Returns the head length, 0, or -1. */
static long conn_scan_input(struct h1_conn *c, struct evbuffer *in, struct err *e)
{
    size_t len = evbuffer_get_length(in);

    while (c->scan.pos < len) {
        struct evbuffer_ptr ptr;
        struct evbuffer_iovec v;
        if (evbuffer_ptr_set(in, &ptr, c->scan.pos, EVBUFFER_PTR_SET) != 0 || evbuffer_peek(in, -1, &ptr, &v, 1) < 1)
            break;
        long n = h1_scan_head(&c->scan, v.iov_base, v.iov_len, c->srv->lim.max_head, e);
        if (n != 0)
            return n;
    }
    return 0;
}

/* Receives decoded body bytes into the request arena, under --max-body-bytes and the budgets. */
static int conn_body_sink(void *ctx, const char *data, size_t n, struct err *e)
{
    struct h1_conn *c = ctx;
    struct arena *a = c->x->req.arena;
    size_t max = c->srv->lim.max_body;

    if (n > max || c->body_len > max - n)
        return err_set(e, ERR_TOO_LARGE, NULL, "request body exceeds --max-body-bytes %zu", max);
    if (c->body_len + n + 1 > c->body_cap) { /* chunked: grow by doubling, the old copy stays charged */
        size_t cap = c->body_cap ? c->body_cap * 2 : H1_CHUNKED_INITIAL;
        if (cap < c->body_len + n + 1)
            cap = c->body_len + n + 1;
        if (cap > max + 1)
            cap = max + 1;
        if (arena_budget_check(a, cap, e) != 0)
            return -1;
        char *bigger = arena_alloc(a, cap);
        if (c->body_len > 0)
            memcpy(bigger, c->body, c->body_len);
        c->body = bigger;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, data, n);
    c->body_len += n;
    return 0;
}

/* BODY/HEAD -> BUSY: the whole request is read; the server has it now. */
static void conn_hand_over(struct h1_conn *c)
{
    struct h1_exchange *x = c->x;

    if (c->body != NULL) {
        c->body[c->body_len] = '\0';
        x->req.body = c->body;
        x->req.body_len = c->body_len;
    }
    x->body_pending = false;
    x->accepted = false; /* on_request: the server has it now */
    c->state = CONN_BUSY;
    evtimer_del(c->timer);
    bufferevent_disable(c->bev, EV_READ);
    c->srv->handler.on_request(c->srv->handler.ctx, x);
}

/* The checks of this layer once the head is parsed, before the server sees it: body size and memory.
 * -1 with x->err set. */
static int conn_check_head(struct h1_conn *c, struct h1_exchange *x, const struct h1_head *h)
{
    const struct h1_limits *lim = &c->srv->lim;

    if (h->framing == H1_BODY_LENGTH && h->content_length > lim->max_body)
        return err_set(&x->err, ERR_TOO_LARGE, NULL, "request body of %llu bytes exceeds --max-body-bytes %zu",
                       (unsigned long long)h->content_length, lim->max_body);
    if (h->framing == H1_BODY_LENGTH && arena_budget_check(x->req.arena, (size_t)h->content_length + 1, &x->err) != 0)
        return -1;
    return 0;
}

/* Prepares BODY: the body buffer (exact for Content-Length), 100 Continue, the progress window. */
static void conn_start_body(struct h1_conn *c, const struct h1_head *h)
{
    if (h->framing == H1_BODY_LENGTH) {
        c->body_cap = (size_t)h->content_length + 1;
        c->body = arena_alloc(c->x->req.arena, c->body_cap);
    }
    if (h->expect_continue && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
        bufferevent_write(c->bev, CONTINUE_100, sizeof CONTINUE_100 - 1);
    c->state = CONN_BODY;
    c->window_start_len = 0;
    conn_arm(c, c->srv->lim.body_timeout_s);
}

/* HEAD -> BODY or BUSY once a whole head is in the input; false while it is not (or after a failure). */
static bool conn_take_head(struct h1_conn *c, struct evbuffer *in)
{
    struct err e;
    struct h1_head h;
    long n = conn_scan_input(c, in, &e);

    if (n <= 0) {
        if (n < 0)
            conn_fail(c, &e, true);
        return false;
    }
    struct h1_exchange *x = c->x = conn_new_exchange(c);
    const char *head = (const char *)evbuffer_pullup(in, n);
    int rc = head != NULL ? h1_parse_head(c->parser, x->req.arena, head, (size_t)n, &h, &x->err) : -1;
    evbuffer_drain(in, (size_t)n);
    if (rc != 0 || h1_req_from_head(&x->req, &h, &x->err) != 0) {
        if (head == NULL)
            err_set(&x->err, ERR_INTERNAL, NULL, "cannot read the request head");
        conn_fail(c, &x->err, true);
        return false;
    }
    x->minor = h.minor;
    x->head_method = strcmp(h.method, "HEAD") == 0;
    x->body_pending = h.framing != H1_BODY_NONE;
    if (!h.keep_alive)
        c->close_after = true;
    if (conn_check_head(c, x, &h) != 0 || c->srv->handler.on_head(c->srv->handler.ctx, x) != 0) {
        conn_fail(c, &x->err, false); /* closes only if a body was announced */
        return false;
    }
    x->accepted = true;
    if (h.framing == H1_BODY_NONE) {
        conn_hand_over(c);
        return false;
    }
    conn_start_body(c, &h);
    return true;
}

/* BODY -> BUSY once the body's last byte is read. Returns false when it is not yet or failed. */
static bool conn_take_body(struct h1_conn *c, struct evbuffer *in)
{
    struct evbuffer_iovec v;

    while (evbuffer_peek(in, -1, NULL, &v, 1) >= 1 && v.iov_len > 0) {
        bool done = false;
        long used = h1_parse_body(c->parser, v.iov_base, v.iov_len, conn_body_sink, c, &done, &c->x->err);
        if (used < 0) {
            conn_fail(c, &c->x->err, true);
            return false;
        }
        evbuffer_drain(in, (size_t)used);
        if (done) {
            conn_hand_over(c);
            return false;
        }
        if (used == 0)
            break;
    }
    return false;
}

static void conn_on_read(struct bufferevent *bev, void *arg)
{
    struct h1_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    if (c->state == CONN_LINGER) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    if (c->state == CONN_HEAD && !c->head_started && evbuffer_get_length(in) > 0) {
        c->head_started = true;
        conn_arm(c, c->srv->lim.header_timeout_s);
    }
    if (c->state == CONN_HEAD && !conn_take_head(c, in))
        return;
    if (c->state == CONN_BODY)
        conn_take_body(c, in);
}

/* ---- replying ---------------------------------------------------------------------------------- */

/* Frees a request's arena once libevent has sent the reply body that lives in it. */
static void free_sent_arena(const void *data, size_t len, void *arena)
{
    (void)data;
    (void)len;
    release_arena(arena);
}

void h1_exchange_reply(struct h1_exchange *x)
{
    struct h1_conn *c = x->conn;
    struct arena *a = x->req.arena;
    struct evbuffer *out = bufferevent_get_output(c->bev);

    evtimer_del(c->timer);
    if (c->broken) {
        release_arena(a);
        h1_conn_close(c);
        return;
    }
    if (x->reply.status == 0)
        http_reply_error(&x->reply, a, &x->err, x->req.request_id);
    c->srv->handler.on_reply(c->srv->handler.ctx, x);
    bool close = c->close_after || x->body_pending || c->srv->stopping;
    c->linger = c->linger || x->body_pending;
    size_t len = x->reply.body != NULL ? x->reply.body_len : 0;
    c->x = NULL;
    c->close_after = close;
    c->state = CONN_WRITING;
    if (h1_reply_head(out, x, len, x->head_method, close) != 0 ||
        (len > 0 && !x->head_method && evbuffer_add_reference(out, x->reply.body, len, free_sent_arena, a) != 0)) {
        log_warn("req=%s cannot queue the reply; closing the connection", x->req.request_id);
        release_arena(a);
        h1_conn_close(c);
        return;
    }
    if (len == 0 || x->head_method)
        release_arena(a); /* otherwise libevent frees it once the body is sent */
    bufferevent_enable(c->bev, EV_WRITE);
}

/* Streaming: a streaming reply (Server-Sent Events) would add its next piece here, in WRITING, each
 * time the output has drained, and leave WRITING only when the stream ends; see h1_conn.h. */
static void conn_on_write(struct bufferevent *bev, void *arg)
{
    struct h1_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    if (c->state != CONN_WRITING)
        return; /* "100 Continue" went out while reading the body */
    if (c->close_after && !c->linger && evbuffer_get_length(in) == 0) {
        h1_conn_close(c); /* the client asked to close, or shutdown: nothing of it is left unread */
        return;
    }
    if (c->close_after) {
        /* Lingering close: the reply is out; stop sending, read and drop what the client still sends
         * for a moment, so it sees the reply and not a reset. */
        shutdown(bufferevent_getfd(bev), SHUT_WR);
        evbuffer_drain(in, evbuffer_get_length(in));
        c->state = CONN_LINGER;
        conn_arm(c, H1_LINGER_S);
        bufferevent_enable(bev, EV_READ);
        return;
    }
    conn_wait_head(c, false);
    if (evbuffer_get_length(in) > 0) /* a pipelined request is already here */
        conn_on_read(bev, c);
}

/* ---- failures and deadlines -------------------------------------------------------------------- */

static void conn_on_event(struct bufferevent *bev, short what, void *arg)
{
    struct h1_conn *c = arg;
    (void)bev;

    if (what & BEV_EVENT_TIMEOUT)
        log_debug("closing a connection whose reader stalled for --write-timeout %d s", c->srv->lim.write_timeout_s);
    if (c->state == CONN_BUSY) { /* the server still has the request: close once it answers */
        c->broken = true;
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
        return;
    }
    h1_conn_close(c);
}

/* The body-progress window ended: enough bytes came, or the request is too slow. */
static void conn_body_window(struct h1_conn *c)
{
    const struct h1_limits *lim = &c->srv->lim;
    struct err e;

    if (c->body_len - c->window_start_len < lim->body_min_rate * (size_t)lim->body_timeout_s) {
        err_set(&e, ERR_TIMEOUT, NULL,
                "request body arrived slower than %zu bytes/s over %d s (--body-min-rate, --body-timeout)",
                lim->body_min_rate, lim->body_timeout_s);
        conn_fail(c, &e, true);
        return;
    }
    c->window_start_len = c->body_len;
    conn_arm(c, lim->body_timeout_s);
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct h1_conn *c = arg;
    struct err e;
    (void)fd;
    (void)what;

    if (c->state == CONN_BODY) {
        conn_body_window(c);
    } else if (c->state == CONN_HEAD && c->head_started) {
        err_set(&e, ERR_TIMEOUT, NULL, "request head not received within %d s (--header-timeout)",
                c->srv->lim.header_timeout_s);
        conn_fail(c, &e, true);
    } else if (c->state == CONN_HEAD || c->state == CONN_LINGER) {
        h1_conn_close(c); /* idle, or done lingering */
    }
}

/* ---- life cycle -------------------------------------------------------------------------------- */

struct h1_conn *h1_conn_new(struct h1_server *s, evutil_socket_t fd)
{
    struct h1_conn *c = calloc(1, sizeof *c);
    struct timeval write_tv = {.tv_sec = s->lim.write_timeout_s};

    if (c == NULL) {
        evutil_closesocket(fd);
        return NULL;
    }
    c->srv = s;
    c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(s->base, conn_on_timer, c);
    c->parser = h1_parser_new();
    if (c->bev == NULL || c->timer == NULL || c->parser == NULL) {
        if (c->bev == NULL)
            evutil_closesocket(fd);
        h1_conn_close(c);
        return NULL;
    }
    bufferevent_set_max_single_write(c->bev, H1_MAX_SINGLE_WRITE);
    bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event, c);
    bufferevent_set_timeouts(c->bev, NULL, &write_tv);
    conn_wait_head(c, true);
    return c;
}

/* Frees what the connection owns; a BUSY exchange stays the server's. */
static void conn_release(struct h1_conn *c)
{
    if (c->x != NULL && c->state != CONN_BUSY) {
        conn_drop(c, c->x);
        release_arena(c->x->req.arena);
    }
    if (c->timer != NULL)
        event_free(c->timer);
    if (c->bev != NULL)
        bufferevent_free(c->bev); /* frees the reply body references, and with them their arenas */
    h1_parser_free(c->parser);
    free(c);
}

void h1_conn_close(struct h1_conn *c)
{
    if (c->listed)
        h1_server_forget(c->srv, c);
    conn_release(c);
}

void h1_conn_stop(struct h1_conn *c)
{
    if (c->state == CONN_HEAD)
        h1_conn_close(c); /* between requests, or a request not yet read: never acknowledged */
    else
        c->close_after = true;
}
