/* server/tail.c - `lineaged tail`: follows GET /api/v1/events/stream and prints one line per event
 * (tail_line.h), or the event's JSON with --json.
 *
 * The client is libevent's evhttp with a chunk callback: the reply's body is fed to the SSE reader
 * (sse.h) as it arrives. When the stream ends or fails (a server restart, a network cut, a reader
 * dropped for falling behind, silence longer than --timeout) it reconnects after the server's retry:
 * time (or 1 s), doubling up to 30 s while connecting fails, and sends Last-Event-ID: the last event
 * it printed, so nothing is printed twice or skipped (server/stream.h).
 * Invariants:
 *  1. Colour only when stdout is a terminal and NO_COLOR is unset or empty; with --json never.
 *  2. stdout gets events only; what happens to the connection goes to stderr.
 *  3. A refusal retrying cannot fix (400, 401, 403, 404) ends the command with exit 1; SIGINT or
 *     SIGTERM with exit 0.
 * Ownership: struct tail owns its event base, connection and SSE reader. Threads: one. */
#include "tail.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "arena.h"
#include "sse.h"
#include "tail_line.h"

enum {
    TAIL_MAX_EVENT = 64 << 20, /* the largest event accepted from the stream */
    TAIL_RETRY_MS = 1000,
    TAIL_MAX_BACKOFF_MS = 30000,
    TAIL_MAX_ERROR_BODY = 4096,
};

struct tail {
    const struct cfg *cfg;
    struct event_base *base;
    struct evhttp_connection *conn;
    struct event *retry_ev, *sigint_ev, *sigterm_ev;
    struct sse_parser sse;
    struct arena *arena;
    char *host, *path; /* path with the filters' query */
    int port;
    bool colour;
    int status;     /* of the current reply; 0 before its head */
    int backoff_ms; /* while connecting fails */
    bool got_bytes; /* the current reply brought something */
    int rc;         /* exit code once the loop ends */
    char error_body[TAIL_MAX_ERROR_BODY + 1];
    size_t error_len;
};

static void tail_connect(struct tail *t);

static void on_event(void *ctx, const char *id, const char *data, size_t len)
{
    struct tail *t = ctx;
    (void)id;

    arena_reset(t->arena);
    if (t->cfg->json)
        fwrite(data, 1, len, stdout);
    else
        fputs(tail_line(t->arena, data, len, t->colour), stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static void on_comment(void *ctx, const char *text)
{
    (void)ctx;
    if (strncmp(text, "heartbeat", 9) != 0)
        fprintf(stderr, "lineaged tail: server: %s\n", text);
}

static void on_chunk(struct evhttp_request *req, void *arg)
{
    struct tail *t = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct sse_sink sink = {t, on_event, on_comment};
    struct evbuffer_iovec v;
    struct err e;

    t->got_bytes = true;
    while (evbuffer_peek(in, -1, NULL, &v, 1) >= 1 && v.iov_len > 0) {
        size_t n = v.iov_len;
        if (t->status != 200) { /* an error reply: keep its start for the message */
            size_t room = TAIL_MAX_ERROR_BODY - t->error_len;
            memcpy(t->error_body + t->error_len, v.iov_base, n < room ? n : room);
            t->error_len += n < room ? n : room;
        } else if (sse_feed(&t->sse, v.iov_base, n, &sink, &e) != 0) {
            fprintf(stderr, "lineaged tail: %s\n", e.msg); /* an event larger than TAIL_MAX_EVENT */
            evbuffer_drain(in, evbuffer_get_length(in));
            t->rc = 1;
            event_base_loopbreak(t->base);
            return;
        }
        evbuffer_drain(in, n);
    }
}

static int on_head(struct evhttp_request *req, void *arg)
{
    struct tail *t = arg;

    t->status = evhttp_request_get_response_code(req);
    t->error_len = 0;
    if (t->status == 200) {
        t->backoff_ms = 0;
        sse_reset(&t->sse);
    }
    return 0;
}

/* Waits before the next connection: the server's retry: once it streamed, else backing off. */
static void schedule_retry(struct tail *t)
{
    int ms = t->sse.retry_ms >= 0 ? (int)t->sse.retry_ms : TAIL_RETRY_MS;

    if (!t->got_bytes || t->status != 200) {
        t->backoff_ms = t->backoff_ms == 0 ? ms : t->backoff_ms * 2;
        if (t->backoff_ms > TAIL_MAX_BACKOFF_MS)
            t->backoff_ms = TAIL_MAX_BACKOFF_MS;
        ms = t->backoff_ms;
    }
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    evtimer_add(t->retry_ev, &tv);
}

static void on_done(struct evhttp_request *req, void *arg)
{
    struct tail *t = arg;
    int status = req != NULL ? evhttp_request_get_response_code(req) : 0;

    if (status != 0 && status != 200) {
        t->error_body[t->error_len] = '\0';
        fprintf(stderr, "lineaged tail: the server answered %d: %s\n", status, t->error_body);
        if (status == 400 || status == 401 || status == 403 || status == 404) {
            t->rc = 1;
            event_base_loopbreak(t->base);
            return;
        }
    } else {
        fprintf(stderr, "lineaged tail: %s; reconnecting%s%s\n",
                status == 200 ? "the stream ended" : "cannot reach the server",
                t->sse.id[0] != '\0' ? " after event " : "", t->sse.id);
    }
    t->status = status;
    schedule_retry(t);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tail_connect(arg);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    struct tail *t = arg;
    (void)fd;
    (void)what;
    t->rc = 0;
    event_base_loopbreak(t->base);
}

/* Opens a new connection and asks for the stream (after the last event shown, if any). */
static void tail_connect(struct tail *t)
{
    if (t->conn != NULL)
        evhttp_connection_free(t->conn);
    t->conn = evhttp_connection_base_new(t->base, NULL, t->host, (unsigned short)t->port);
    struct evhttp_request *req = evhttp_request_new(on_done, t);
    if (t->conn == NULL || req == NULL) {
        if (req != NULL)
            evhttp_request_free(req);
        fprintf(stderr, "lineaged tail: out of memory\n");
        t->rc = 1;
        event_base_loopbreak(t->base);
        return;
    }
    evhttp_connection_set_timeout(t->conn, t->cfg->timeout_s);
    evhttp_request_set_chunked_cb(req, on_chunk);
    evhttp_request_set_header_cb(req, on_head);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", t->host);
    evhttp_add_header(h, "Accept", "text/event-stream");
    if (t->sse.id[0] != '\0')
        evhttp_add_header(h, "Last-Event-ID", t->sse.id);
    if (t->cfg->api_key[0] != '\0') {
        char *auth = arena_printf(t->arena, "Bearer %s", t->cfg->api_key);
        evhttp_add_header(h, "Authorization", auth);
    }
    t->status = 0;
    t->got_bytes = false;
    if (evhttp_make_request(t->conn, req, EVHTTP_REQ_GET, t->path) != 0) {
        fprintf(stderr, "lineaged tail: cannot send the request; retrying\n");
        schedule_retry(t);
    }
}

/* Appends "&name=value" (value percent-encoded) to the query when value is set. */
static char *add_param(struct arena *a, char *query, const char *name, const char *value)
{
    if (value[0] == '\0')
        return query;
    char *enc = evhttp_encode_uri(value);
    char *out = arena_printf(a, "%s%s%s=%s", query, query[0] ? "&" : "?", name, enc != NULL ? enc : "");
    free(enc);
    return out;
}

/* host, port and path (the URL's prefix, the route and the filters) from --url. -1 with a message. */
static int tail_target(struct tail *t, const struct cfg *c)
{
    struct evhttp_uri *u = evhttp_uri_parse(c->url);
    const char *scheme = u != NULL ? evhttp_uri_get_scheme(u) : NULL;
    const char *host = u != NULL ? evhttp_uri_get_host(u) : NULL;

    if (scheme == NULL || strcmp(scheme, "http") != 0 || host == NULL || host[0] == '\0') {
        fprintf(stderr, "lineaged tail: --url \"%s\" is not a URL like http://host:port\n", c->url);
        if (u != NULL)
            evhttp_uri_free(u);
        return -1;
    }
    const char *prefix = evhttp_uri_get_path(u) != NULL ? evhttp_uri_get_path(u) : "";
    size_t n = strlen(prefix);
    while (n > 0 && prefix[n - 1] == '/')
        n--;
    char *query = "";
    query = add_param(t->arena, query, "namespace", c->tail_namespace);
    query = add_param(t->arena, query, "job", c->tail_job);
    query = add_param(t->arena, query, "eventType", c->tail_event_type);
    query = add_param(t->arena, query, "producer", c->tail_producer);
    t->path = strdup(arena_printf(t->arena, "%.*s/api/v1/events/stream%s", (int)n, prefix, query));
    t->host = strdup(host);
    t->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
    evhttp_uri_free(u);
    return t->path != NULL && t->host != NULL ? 0 : -1;
}

static bool use_colour(const struct cfg *c)
{
    const char *no = getenv("NO_COLOR");

    return !c->json && isatty(STDOUT_FILENO) && (no == NULL || no[0] == '\0');
}

int tail_run(const struct cfg *c)
{
    struct tail t = {.cfg = c, .rc = 1};

    sse_init(&t.sse, TAIL_MAX_EVENT);
    t.arena = arena_new();
    t.colour = use_colour(c);
    signal(SIGPIPE, SIG_IGN);
    if (tail_target(&t, c) == 0 && (t.base = event_base_new()) != NULL) {
        t.retry_ev = evtimer_new(t.base, on_retry, &t);
        t.sigint_ev = evsignal_new(t.base, SIGINT, on_signal, &t);
        t.sigterm_ev = evsignal_new(t.base, SIGTERM, on_signal, &t);
        if (t.retry_ev != NULL && t.sigint_ev != NULL && t.sigterm_ev != NULL &&
            evsignal_add(t.sigint_ev, NULL) == 0 && evsignal_add(t.sigterm_ev, NULL) == 0) {
            tail_connect(&t);
            event_base_dispatch(t.base);
        }
    }
    if (t.conn != NULL)
        evhttp_connection_free(t.conn);
    struct event *evs[] = {t.retry_ev, t.sigint_ev, t.sigterm_ev};
    for (size_t i = 0; i < 3; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    if (t.base != NULL)
        event_base_free(t.base);
    sse_free(&t.sse);
    arena_free(t.arena);
    free(t.host);
    free(t.path);
    return t.rc;
}
