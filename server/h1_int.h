/* server/h1_int.h - what h1_conn.c, h1_server.c, h1_reply.c and h1_req.c share; not for other files.
 *
 * Connection states (h1_conn.c names the function behind each transition):
 *   HEAD --conn_take_head--> BODY --conn_take_body--> BUSY --h1_exchange_reply--> WRITING
 *   HEAD --conn_take_head (no body)--> BUSY;  any reading state --conn_fail--> WRITING (close after)
 *   WRITING --conn_on_write, keep-alive--> HEAD;  WRITING --conn_on_write, closing--> closed, or LINGER
 *   (when request bytes may be left unread: linger) --timer or EOF--> closed
 *   any state but BUSY --timeout, EOF, socket error--> closed (conn_close)
 * Invariants:
 *  1. x != NULL in BODY, BUSY and WRITING (until its reply is queued); NULL in HEAD and LINGER.
 *  2. Reading is enabled only in HEAD, BODY and LINGER.
 *  3. A connection is in its server's list from accept to conn_close; BUSY connections are never closed
 *     by this layer except by h1_server_free at exit. */
#ifndef LINEAGED_H1_INT_H
#define LINEAGED_H1_INT_H

#include <stdint.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "h1.h"
#include "h1_conn.h"
#include "log.h"

enum conn_state { CONN_HEAD, CONN_BODY, CONN_BUSY, CONN_WRITING, CONN_LINGER };

enum { H1_LINGER_S = 2, H1_REQUEST_ID_MAX = 24 };

struct h1_conn {
    struct h1_server *srv;
    struct h1_conn *prev, *next;  /* the server's list */
    struct bufferevent *bev;
    struct event *timer;          /* the deadline of the current state */
    struct h1_parser *parser;
    enum conn_state state;
    struct h1_scan scan;          /* head search in HEAD */
    bool head_started;            /* a byte of the next request arrived */
    bool close_after;             /* no more requests on this connection */
    bool linger;                  /* closing with request bytes possibly unread: lingering close */
    bool broken;                  /* the socket failed while BUSY: close once the server answers */
    bool listed;                  /* in the server's list */
    struct h1_exchange *x;        /* see invariant 1 */
    char *body;                   /* in x's arena */
    size_t body_len, body_cap;
    size_t window_start_len;      /* body_len when the current body-progress window began */
};

struct h1_server {
    struct event_base *base;
    struct h1_limits lim;
    struct h1_handler handler;
    struct evconnlistener *listener;
    struct event *backoff_ev;     /* re-enables accepting after an accept error */
    int backoff_ms;               /* 0: not backing off */
    bool listener_paused;         /* at the connection cap */
    bool stopping;
    void (*stopped)(void *arg);
    void *stopped_arg;
    struct h1_conn *conns;
    size_t n_conns;
    unsigned long long next_id;
    struct log_limit accept_log;
};

/* h1_conn.c: a connection for an accepted socket (already non-blocking), or NULL (socket closed). */
struct h1_conn *h1_conn_new(struct h1_server *s, evutil_socket_t fd);
/* Closes and frees a connection. In BUSY (only at exit) its exchange stays the server's. */
void h1_conn_close(struct h1_conn *c);
/* Shutdown: closes c now if it is idle between requests; otherwise marks it close-after. */
void h1_conn_stop(struct h1_conn *c);

/* h1_server.c: the connection left the list (called by h1_conn_close). */
void h1_server_forget(struct h1_server *s, struct h1_conn *c);

/* h1_reply.c: appends x's status line and headers to out (body_len bytes follow unless no_body). */
int h1_reply_head(struct evbuffer *out, const struct h1_exchange *x, size_t body_len, bool no_body, bool close);

/* h1_req.c: fills x->req from a parsed head (method, path, segments, query, headers); -1 with e set. */
int h1_req_from_head(struct req *r, const struct h1_head *h, struct err *e);

#endif
