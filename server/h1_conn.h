/* server/h1_conn.h - lineaged's HTTP/1.1 server layer: connections on libevent bufferevents.
 *
 * Replaces evhttp. Framing is h1.c (http_parser); this layer does the I/O around it:
 *   accept   h1_server.c: at most --max-connections at once (accepting pauses at the cap), and on
 *            EMFILE/ENFILE accepting backs off (100 ms doubling to 2 s) instead of spinning.
 *   head     read until the blank line; --header-timeout from the request's first byte (or from
 *            accept), --idle-timeout between keep-alive requests; framing errors -> 400 and close.
 *   on_head  the server sees the parsed request before its body is read (route, auth, queue room,
 *            memory): a refusal is answered at once, and the unread body closes the connection.
 *   body     streamed into the request arena as it arrives, counted against --max-body-bytes and the
 *            arena's budgets (413 own limit, 503 shared); must keep up --body-min-rate bytes/s over
 *            every --body-timeout window (408 and close otherwise).
 *   request  on_request hands the whole request to the server, which answers exactly once with
 *            h1_exchange_reply; no more bytes are read from the connection until the reply is written
 *            (pipelined requests wait in the socket, one at a time per connection).
 *   reply    status line and headers copied, the body sent by reference from the request arena, which
 *            is freed once libevent has written it; --write-timeout bounds a reader that stalls.
 *   close    after an error that leaves request bytes unread, the reply is sent, the write side shut
 *            and what still arrives is read and dropped for up to 2 s (lingering close), so the client
 *            reads the reply instead of a connection reset.
 * Streaming replies (a hook for Server-Sent Events, not used yet): a reply is written in two steps,
 * head then body, and the next request is taken up only when the output buffer has drained
 * (conn_on_write in h1_conn.c). A streaming reply would send its head with no Content-Length (or
 * chunked), stay in the WRITING state, and append each piece from conn_on_write when the buffer has
 * drained below the write low-watermark: that is the back-pressure on a slow reader, and
 * --write-timeout still closes a reader that stops. See "Streaming" in h1_conn.c.
 * Invariants:
 *  1. Every request whose head parsed is answered exactly once (h1_exchange_reply), on the loop
 *     thread, unless the connection failed first; every error this layer makes is a JSON body built
 *     by http_reply_error.
 *  2. An exchange handed to the server (on_request) is owned by the server until h1_exchange_reply;
 *     the connection never frees it before.
 *  3. Memory per connection outside request arenas is bounded: the input buffer holds at most a head
 *     (--max-header-bytes) plus one read, since body bytes move into the arena as they arrive and
 *     reading stops while a request is with the server.
 * Threads: everything here runs on the event-loop thread. */
#ifndef LINEAGED_H1_CONN_H
#define LINEAGED_H1_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "arena.h"
#include "err.h"
#include "http.h"

struct h1_conn;
struct h1_server;

/* One request and its reply. Lives in req.arena, which dies once the reply is sent. */
struct h1_exchange {
    struct req req;
    struct reply reply; /* status 0: the reply is http_reply_error of err */
    struct err err;
    void *user;         /* the server's own state for this request (set in on_head) */
    int64_t started_usec;     /* metrics_clock_usec() when its head was parsed (for latency) */
    struct h1_conn *conn;     /* private to the connection layer: */
    bool body_pending;        /* a body was announced and not read yet */
    bool accepted;            /* on_head accepted it: on_request or on_drop follows */
    bool head_method;         /* HEAD: the reply's body is not sent */
    int minor;                /* HTTP/1.minor of the request */
};

/* What the server does with requests; both run on the loop thread. */
struct h1_handler {
    /* The head arrived and parsed; x->req has everything but the body. Return 0 to read the body and
     * get on_request, or -1 with x->err set to answer that error now (the body is not read). */
    int (*on_head)(void *ctx, struct h1_exchange *x);
    /* The body arrived (x->req.body, NUL-terminated). The server answers later with h1_exchange_reply. */
    void (*on_request)(void *ctx, struct h1_exchange *x);
    /* A request on_head accepted will not reach on_request (its body failed, timed out, or the
     * connection closed): the server releases what it set aside for it. x dies right after. */
    void (*on_drop)(void *ctx, struct h1_exchange *x);
    /* Every reply, the layer's own errors included, just before it is written (status final). */
    void (*on_reply)(void *ctx, const struct h1_exchange *x);
    /* The number of open connections changed by delta (+1 accepted, -1 closed). */
    void (*on_connections)(void *ctx, int delta);
    void *ctx;
};

/* The limits and deadlines of the layer (flags in common/cfg.c, README "Limits and security"). */
struct h1_limits {
    size_t max_head;          /* request line + headers, bytes */
    size_t max_body;          /* body as sent, bytes */
    int max_connections;
    int header_timeout_s;     /* a request's head, from its first byte */
    int idle_timeout_s;       /* keep-alive connection with no request */
    int body_timeout_s;       /* window of the body-progress check */
    size_t body_min_rate;     /* bytes per second a body must average over each window */
    int write_timeout_s;      /* a reply that makes no progress */
    struct arena_budget *budget; /* shared by every request arena (may be NULL) */
    size_t request_max;       /* each request arena's own limit, bytes */
};

/* A server on base with no listener yet. Returns NULL with e set. Free with h1_server_free. */
struct h1_server *h1_server_new(struct event_base *base, const struct h1_limits *lim, const struct h1_handler *h,
                                struct err *e);

/* Binds and listens on host:port (port 0: any free port); *bound_port receives the port. -1 with e set. */
int h1_server_listen(struct h1_server *s, const char *host, int port, int *bound_port, struct err *e);

/* Sends x's reply (x->reply, or the error in x->err when reply.status is 0) and continues the
 * connection. x and its arena belong to the connection layer again afterwards. */
void h1_exchange_reply(struct h1_exchange *x);

/* Stops accepting, closes idle connections and closes the others after their current reply; calls
 * done(arg) once no connection is left (at once if none is). */
void h1_server_shutdown(struct h1_server *s, void (*done)(void *arg), void *arg);

/* Open connections now. */
size_t h1_server_connections(const struct h1_server *s);

/* Closes every connection and the listener. Exchanges the server still owns are not touched.
 * h1_server_free(NULL) is a no-op. */
void h1_server_free(struct h1_server *s);

#endif
