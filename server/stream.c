/* server/stream.c - the event stream's hub on the loop thread: subscribers, live windows, catch-up
 * pages, heartbeats, slow readers, shutdown.
 *
 * The state machine and invariants are in stream.h. The transitions are:
 *   stream_hub_attach a new subscriber: LIVE at the chain's end, or CATCHUP from its resume position
 *   on_page           CATCHUP -> LIVE (sub_go_live) when a page came back short at the hub's horizon
 *   on_lost           LIVE -> CATCHUP when the follower could not hand windows over (stream_feed.c)
 *   sub_too_slow      LIVE -> ENDING: a reader behind by more than --stream-buffer-kb when a window comes
 *   sub_end           any -> ENDING: also a failed read, shutdown (a final comment says why)
 *   on_close          the connection is gone: the subscriber is freed (once no page is out for it)
 * Live windows join one chain of messages (chain_append), closed by a marker at their horizon; a LIVE
 * subscriber walks it (sub_pump) and copies what it matches into its output.
 * Ownership: the hub owns its subscribers and a reference to the chain's tail; a subscriber owns a
 * reference to its place in the chain; its connection belongs to the HTTP layer and tells us when it
 * closes (on_close). Message references: stream_int.h.
 * Threads: loop thread, except stream_hub_new/free and what stream_feed.c does. */
#include "stream_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_log.h"

enum sub_state { SUB_CATCHUP, SUB_LIVE, SUB_ENDING };

struct stream_sub {
    struct stream_hub *hub;
    struct stream_sub *prev, *next;
    struct h1_conn *conn; /* NULL once closed */
    enum sub_state state;
    struct store_stream_pos cursor; /* every matching event up to here has gone out */
    struct stream_msg *at;          /* LIVE: the last chain message taken in (one reference) */
    int64_t min_seq;
    struct store_stream_filter filter; /* strings in `strings` */
    char *strings;
    bool page_out;    /* a catch-up page is with the catch-up thread */
    bool page_wanted; /* ask for the next page once the output drained */
    bool wrote;       /* something went out since the last heartbeat */
    char request_id[24];
    int64_t started_usec;
};

static void on_drain(void *ctx);
static void on_close(void *ctx, uint64_t bytes_sent);
static void on_lost(struct stream_hub *h, uint64_t horizon);

static const struct h1_stream_handler SUB_HANDLER = {on_drain, on_close};

/* ---- subscribers ------------------------------------------------------------------------------- */

static void sub_free(struct stream_sub *s)
{
    stream_msg_unref(s->at);
    free(s->strings);
    free(s);
}

/* Lets go of the subscriber's place in the chain (and so of the backlog it pinned). */
static void sub_leave_chain(struct stream_sub *s)
{
    stream_msg_unref(s->at);
    s->at = NULL;
}

/* A copy of m's bytes goes out (a copy: the chain must not be pinned by a socket's buffer). */
static void sub_send(struct stream_sub *s, const struct stream_msg *m)
{
    h1_stream_add(s->conn, m->text, m->len);
    s->cursor = m->ev.pos;
    s->wrote = true;
}

static void sub_comment(struct stream_sub *s, const char *text)
{
    char line[512];
    int n = snprintf(line, sizeof line, ": %s\n\n", text);

    if (n > 0)
        h1_stream_add(s->conn, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    s->wrote = true;
}

/* Any state -> ENDING: a final comment saying why, then the connection closes once it is written (or
 * after grace_s; a reader that stalls is also closed by --write-timeout). */
static void sub_end(struct stream_sub *s, const char *why, int grace_s)
{
    if (s->state == SUB_ENDING || s->conn == NULL)
        return;
    sub_comment(s, why);
    s->state = SUB_ENDING;
    sub_leave_chain(s);
    h1_stream_end(s->conn, grace_s);
}

/* The cursor moves to (horizon, 0) when every event below horizon has been considered. */
static void sub_reach(struct stream_sub *s, uint64_t horizon)
{
    struct store_stream_pos edge = {horizon, 0};

    if (store_stream_before(s->cursor, edge))
        s->cursor = edge;
}

/* Asks the catch-up thread for the subscriber's next page, up to the hub's horizon. */
static void sub_ask_page(struct stream_sub *s)
{
    struct stream_hub *h = s->hub;
    struct stream_page *p = calloc(1, sizeof *p);

    if (p == NULL) {
        sub_end(s, "dropped: out of memory; reconnect with Last-Event-ID", h->cfg->write_timeout_s);
        return;
    }
    *p = (struct stream_page){
        .sub = s, .after = s->cursor, .horizon = h->horizon, .min_seq = s->min_seq, .filter = &s->filter};
    log_debug("req=%s catch-up after (%" PRIu64 ", %" PRId64 ") below %" PRIu64, s->request_id, s->cursor.xid,
              s->cursor.seq, h->horizon);
    s->page_out = true;
    s->page_wanted = false;
    stream_catchup_ask(h->catchup, p);
}

/* LIVE: takes in chain messages after s->at while the output holds less than half the buffer; an
 * event goes out when s has not had it and it matches; a marker moves the cursor to its horizon. */
static void sub_pump(struct stream_sub *s)
{
    size_t fill = s->hub->buffer_bytes / STREAM_PUMP_DIVISOR;

    while (s->state == SUB_LIVE && s->at->next != NULL && h1_stream_pending(s->conn) < fill) {
        struct stream_msg *m = s->at->next;
        m->refs++;
        stream_msg_unref(s->at);
        s->at = m;
        if (m->marker)
            sub_reach(s, m->ev.pos.xid);
        else if (store_stream_before(s->cursor, m->ev.pos) && store_stream_match(&s->filter, &m->ev))
            sub_send(s, m);
    }
}

/* A new window arrived: a LIVE subscriber still short of the window before it by more than
 * --stream-buffer-kb (what waits in its output included) is dropped (stream.h invariant 1). */
static bool sub_too_slow(struct stream_sub *s)
{
    struct stream_hub *h = s->hub;
    uint64_t taken = s->at->offset + s->at->len;
    uint64_t behind = h->prev_window_at > taken ? h->prev_window_at - taken : 0;
    char why[200];

    if (behind + h1_stream_pending(s->conn) <= h->buffer_bytes)
        return false;
    log_warn_limited(&h->drop_log,
                     "req=%s event stream reader fell behind by more than %zu bytes "
                     "(--stream-buffer-kb); dropped after seq %" PRId64,
                     s->request_id, h->buffer_bytes, s->cursor.seq);
    metrics_stream_dropped(h->metrics);
    snprintf(why, sizeof why,
             "dropped: this reader fell more than %zu KiB behind (--stream-buffer-kb); "
             "reconnect with Last-Event-ID to resume",
             h->buffer_bytes >> 10);
    sub_end(s, why, h->cfg->write_timeout_s);
    return true;
}

/* ---- from the follower and the catch-up thread ------------------------------------------------- */

/* Appends m to the hub's chain, taking the caller's reference to m for the link that now points to it
 * (the hub's own reference moves from the old tail to m). */
static void chain_append(struct stream_hub *h, struct stream_msg *m)
{
    m->offset = h->chain_bytes;
    h->chain_bytes += m->len;
    h->tail->next = m;
    m->refs++;
    stream_msg_unref(h->tail); /* the hub's reference moves to the new tail */
    h->tail = m;
}

/* A window of live events joins the chain, closed by a marker at its horizon; LIVE subscribers that
 * are too slow are dropped, the others take in what they can (hub_attach/on_page made them LIVE at
 * a horizon no later than this window's start). */
static void on_window(struct stream_hub *h, struct stream_window *w)
{
    struct stream_msg *marker = stream_msg_marker(w->horizon);

    if (marker == NULL) { /* cannot close the window in the chain: treat it as lost */
        stream_msg_unref(w->head);
        on_lost(h, w->horizon);
        return;
    }
    log_debug("window below %" PRIu64 ": %zu bytes", w->horizon, w->bytes);
    h->prev_window_at = h->last_window_at;
    h->last_window_at = h->chain_bytes;
    for (struct stream_msg *m = w->head, *next; m != NULL; m = next) {
        next = m->next;
        m->next = NULL;
        chain_append(h, m); /* the window's (or its predecessor's) reference to m */
    }
    chain_append(h, marker);
    h->horizon = w->horizon;
    for (struct stream_sub *s = h->subs; s != NULL; s = s->next)
        if (s->state == SUB_LIVE && !sub_too_slow(s))
            sub_pump(s);
}

/* Windows up to `horizon` were not handed over: live subscribers read them from the log. */
static void on_lost(struct stream_hub *h, uint64_t horizon)
{
    for (struct stream_sub *s = h->subs; s != NULL; s = s->next) {
        if (s->state == SUB_LIVE) {
            s->state = SUB_CATCHUP;
            s->page_wanted = true;
            sub_leave_chain(s);
        }
    }
    log_debug("windows below %" PRIu64 " not handed over: live streams read the log", horizon);
    h->horizon = horizon > h->horizon ? horizon : h->horizon;
    for (struct stream_sub *s = h->subs; s != NULL; s = s->next)
        if (s->state == SUB_CATCHUP && s->page_wanted && !s->page_out)
            sub_ask_page(s);
}

/* CATCHUP -> LIVE at the chain's end (the hub's horizon). */
static void sub_go_live(struct stream_sub *s)
{
    log_debug("req=%s live after (%" PRIu64 ", %" PRId64 ") at %" PRIu64, s->request_id, s->cursor.xid,
              s->cursor.seq, s->hub->horizon);
    s->state = SUB_LIVE;
    s->at = s->hub->tail;
    s->at->refs++;
}

/* A catch-up page came back: send it, then go LIVE, ask for more, or wait for the output to drain. */
static void on_page(struct stream_hub *h, struct stream_page *p)
{
    struct stream_sub *s = p->sub;
    char why[400];

    s->page_out = false;
    log_debug("req=%s catch-up page: %d events%s", s->request_id, p->n, p->failed ? " (failed)" : "");
    if (s->conn == NULL) {
        sub_free(s); /* closed while the page was out (on_close left it to us) */
    } else if (s->state != SUB_CATCHUP) {
        /* ENDING: nothing more goes out */
    } else if (p->failed) {
        log_warn_limited(&h->drop_log, "req=%s event stream cannot read the event log: %s (%s)",
                         s->request_id, p->err.msg, p->err.detail);
        snprintf(why, sizeof why, "cannot read the event log (%.200s); reconnect with Last-Event-ID",
                 p->err.msg);
        sub_end(s, why, h->cfg->write_timeout_s);
    } else {
        for (struct stream_msg *m = p->msgs; m != NULL; m = m->next)
            sub_send(s, m);
        if (p->n < STREAM_PAGE_EVENTS)
            sub_reach(s, p->horizon);
        if (p->n < STREAM_PAGE_EVENTS && p->horizon == h->horizon)
            sub_go_live(s); /* caught up: the next window continues where the page ended */
        else if (h1_stream_pending(s->conn) <= h->buffer_bytes / 2)
            sub_ask_page(s);
        else
            s->page_wanted = true;
    }
    stream_page_free(p);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct stream_hub *h = arg;
    (void)fd;
    (void)what;

    pthread_mutex_lock(&h->lock);
    struct stream_window *list = h->queue;
    bool lost = h->lost;
    uint64_t fed = h->fed_horizon;
    h->queue = h->queue_tail = NULL;
    h->queued_bytes = 0;
    h->lost = false;
    pthread_mutex_unlock(&h->lock);
    while (list != NULL) {
        struct stream_window *next = list->next;
        on_window(h, list); /* takes the window's messages */
        free(list);
        list = next;
    }
    if (lost)
        on_lost(h, fed);
    else if (fed > h->horizon)
        h->horizon = fed; /* only empty windows came after the last one queued */
    for (struct stream_page *p = stream_catchup_take(h->catchup), *next; p != NULL; p = next) {
        next = p->next;
        on_page(h, p);
    }
}

/* ---- the HTTP side ----------------------------------------------------------------------------- */

static void on_drain(void *ctx)
{
    struct stream_sub *s = ctx;

    if (s->state == SUB_LIVE)
        sub_pump(s);
    else if (s->state == SUB_CATCHUP && s->page_wanted && !s->page_out)
        sub_ask_page(s);
}

static void on_close(void *ctx, uint64_t bytes_sent)
{
    struct stream_sub *s = ctx;
    struct stream_hub *h = s->hub;

    if (h->cfg->access_log)
        access_log_write(&(struct access_entry){s->request_id, "GET", "/api/v1/events/stream", 200,
                                                metrics_clock_usec() - s->started_usec, bytes_sent, NULL});
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        h->subs = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->conn = NULL;
    sub_leave_chain(s);
    atomic_fetch_sub(&h->n_subs, 1);
    metrics_stream_subscribers(h->metrics, -1);
    if (!s->page_out)
        sub_free(s); /* else on_page (or stream_hub_stop) frees it */
}

/* A subscriber with its own copy of the request's filters, or NULL when memory runs out. */
static struct stream_sub *sub_new(struct stream_hub *h, const struct stream_request *rq,
                                  const char *request_id, int64_t started_usec)
{
    const char *src[] = {rq->filter.namespace, rq->filter.job, rq->filter.event_type, rq->filter.producer};
    const char **dst[4];
    size_t size = 0;
    struct stream_sub *s = calloc(1, sizeof *s);

    for (size_t i = 0; i < 4; i++)
        size += src[i] != NULL ? strlen(src[i]) + 1 : 0;
    if (s == NULL || (s->strings = malloc(size + 1)) == NULL) {
        free(s);
        return NULL;
    }
    dst[0] = &s->filter.namespace, dst[1] = &s->filter.job, dst[2] = &s->filter.event_type;
    dst[3] = &s->filter.producer;
    char *at = s->strings;
    for (size_t i = 0; i < 4; i++) {
        if (src[i] == NULL)
            continue;
        size_t n = strlen(src[i]) + 1;
        *dst[i] = memcpy(at, src[i], n);
        at += n;
    }
    s->hub = h;
    s->min_seq = rq->min_seq;
    snprintf(s->request_id, sizeof s->request_id, "%s", request_id);
    s->started_usec = started_usec;
    return s;
}

/* Why a stream cannot open now, or NULL. */
static const char *refusal(struct stream_hub *h)
{
    if (h->stopping || !h->running)
        return "the server is shutting down; reconnect to another instance";
    if (!h->enabled)
        return "the event stream follows the event log with the graph follower, which is off "
               "(--follow-interval-ms 0)";
    if (atomic_load(&h->n_subs) >= h->cfg->max_streams)
        return "too many event streams are open (--max-streams); retry later";
    return NULL;
}

void stream_hub_attach(struct stream_hub *h, struct h1_exchange *x)
{
    const struct stream_request *rq = x->reply.stream;
    const char *why = refusal(h);
    char text[160];
    struct stream_sub *s = why == NULL ? sub_new(h, rq, x->req.request_id, x->started_usec) : NULL;

    if (s == NULL) {
        x->reply = (struct reply){0};
        err_set_retry(&x->err, NULL, "%s", why != NULL ? why : "out of memory; retry later");
        h1_exchange_reply(x);
        return;
    }
    bool resume = rq->resume, missing = rq->id_missing;
    int64_t last_id = rq->last_id;
    s->cursor = resume ? rq->after : (struct store_stream_pos){h->horizon, 0};
    s->conn = h1_exchange_stream(x, "text/event-stream; charset=utf-8", h->buffer_bytes, h->buffer_bytes / 2,
                                 &SUB_HANDLER, s); /* x (and rq with it) is released here */
    if (s->conn == NULL) {
        sub_free(s);
        return;
    }
    if ((s->next = h->subs) != NULL)
        s->next->prev = s;
    h->subs = s;
    atomic_fetch_add(&h->n_subs, 1);
    metrics_stream_subscribers(h->metrics, 1);
    snprintf(text, sizeof text, "retry: %d\n\n", STREAM_RETRY_MS);
    h1_stream_add(s->conn, text, strlen(text));
    if (missing) {
        snprintf(text, sizeof text,
                 "event %" PRId64 " is no longer in the event log; resuming with the events "
                 "stored after it",
                 last_id);
        sub_comment(s, text);
    }
    s->state = SUB_CATCHUP;
    if (resume)
        sub_ask_page(s);
    else
        sub_go_live(s);
}

/* Every --stream-heartbeat seconds: a comment to each stream that sent nothing since the last one, so
 * clients and proxies see the connection alive and a dead client is noticed by a failed write. */
static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    struct stream_hub *h = arg;
    (void)fd;
    (void)what;

    for (struct stream_sub *s = h->subs; s != NULL; s = s->next) {
        if (s->state != SUB_ENDING && !s->wrote)
            sub_comment(s, "heartbeat");
        s->wrote = false;
    }
}

/* ---- life cycle -------------------------------------------------------------------------------- */

struct stream_hub *stream_hub_new(const struct cfg *c, struct metrics *m, const char *conninfo,
                                  uint64_t horizon, bool enabled)
{
    struct stream_hub *h = calloc(1, sizeof *h);

    if (h == NULL || (h->conninfo = strdup(conninfo)) == NULL) {
        free(h);
        return NULL;
    }
    h->cfg = c;
    h->metrics = m;
    h->enabled = enabled;
    h->buffer_bytes = (size_t)c->stream_buffer_kb << 10;
    h->window_max = (size_t)c->stream_window_mb << 20;
    h->fed_horizon = h->horizon = horizon;
    atomic_init(&h->n_subs, 0);
    pthread_mutex_init(&h->lock, NULL);
    log_limit_init(&h->drop_log, STREAM_LOG_BURST, STREAM_LOG_INTERVAL_S);
    return h;
}

int stream_hub_start(struct stream_hub *h, struct event_base *base, struct err *e)
{
    struct timeval beat = {.tv_sec = h->cfg->stream_heartbeat_s};

    h->base = base;
    h->wake = event_new(base, -1, 0, on_wake, h);
    h->heartbeat = event_new(base, -1, EV_PERSIST, on_heartbeat, h);
    if (h->wake == NULL || h->heartbeat == NULL || event_add(h->heartbeat, &beat) != 0)
        return err_set(e, ERR_INTERNAL, NULL, "cannot set up the event stream's events");
    if ((h->catchup = stream_catchup_start(h->conninfo, h->wake, e)) == NULL)
        return -1;
    pthread_mutex_lock(&h->lock);
    h->horizon = h->fed_horizon;
    h->running = true;
    pthread_mutex_unlock(&h->lock);
    if ((h->tail = stream_msg_marker(h->horizon)) == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    return 0;
}

void stream_hub_shutdown(struct stream_hub *h)
{
    h->stopping = true;
    for (struct stream_sub *s = h->subs; s != NULL; s = s->next)
        sub_end(s, "the server is shutting down; reconnect with Last-Event-ID", STREAM_END_GRACE_S);
}

void stream_hub_stop(struct stream_hub *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    h->running = false;
    struct stream_window *list = h->queue;
    h->queue = h->queue_tail = NULL;
    pthread_mutex_unlock(&h->lock);
    for (struct stream_page *p = stream_catchup_stop(h->catchup), *next; p != NULL; p = next) {
        next = p->next;
        p->sub->page_out = false;
        if (p->sub->conn == NULL)
            sub_free(p->sub);
        stream_page_free(p);
    }
    h->catchup = NULL;
    while (list != NULL) {
        struct stream_window *next = list->next;
        stream_msg_unref(list->head);
        free(list);
        list = next;
    }
    stream_msg_unref(h->tail);
    h->tail = NULL;
    if (h->wake != NULL)
        event_free(h->wake);
    if (h->heartbeat != NULL)
        event_free(h->heartbeat);
    h->wake = h->heartbeat = NULL;
}

void stream_hub_free(struct stream_hub *h)
{
    if (h == NULL)
        return;
    stream_hub_stop(h);
    stream_feed_abort(h);
    pthread_mutex_destroy(&h->lock);
    free(h->conninfo);
    free(h);
}
