/* server/http_client.c - blocking requests over libevent's evhttp client (see http_client.h).
 *
 * One request at a time: http_client_request makes the request, runs the event loop until the
 * request's callback breaks it, and returns. The connection is kept for the next request
 * (keep-alive); libevent reconnects when the server closed it.
 * Invariants: see http_client.h. In addition:
 *  1. The loop is broken by the request's completion callback, which libevent calls with a reply or
 *     after an error (connect failure, timeout, EOF) reported through the error callback first, or by
 *     the exchange's deadline (timeout_s for the whole exchange), which cancels the request. So a
 *     dispatch never outlives its request, and no request outlives the timeout.
 * Ownership: struct http_client owns base, connection and the parsed URL. Threads: one per client. */
#include "http_client.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

struct http_client {
    struct event_base *base;
    struct evhttp_connection *conn;
    char *host_header; /* host[:port] */
    char *prefix;      /* the URL's path without a trailing '/' ("" for none) */
    char *auth;        /* "Bearer <key>" or NULL */
    int timeout_s;
};

/* One request's outcome, filled by the callbacks. */
struct exchange {
    struct event_base *base;
    char *body; /* malloc'd, at most HTTP_CLIENT_MAX_BODY bytes */
    size_t len;
    bool truncated;
    bool done;
    int status; /* 0: no reply */
    enum evhttp_request_error error;
    bool failed;
    bool timed_out;                   /* the whole exchange outlived the client's timeout */
    struct evhttp_request *req;       /* pending while !done; freed by libevent after on_done */
};

/* Fills c->prefix and c->host_header from url; *host (caller frees) and *port are for the connection. */
static int parse_url(struct http_client *c, const char *url, char **host, int *port, struct err *e)
{
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *scheme = u != NULL ? evhttp_uri_get_scheme(u) : NULL;
    const char *h = u != NULL ? evhttp_uri_get_host(u) : NULL;

    if (u == NULL || scheme == NULL || h == NULL || h[0] == '\0') {
        if (u != NULL)
            evhttp_uri_free(u);
        return err_set(e, ERR_BAD_INPUT, "url", "\"%.100s\" is not a URL like http://host:port", url);
    }
    if (strcmp(scheme, "http") != 0) {
        evhttp_uri_free(u);
        return err_set(e, ERR_BAD_INPUT, "url", "\"%.100s\": only http:// is supported", url);
    }
    const char *path = evhttp_uri_get_path(u);
    size_t n = path != NULL ? strlen(path) : 0;
    while (n > 0 && path[n - 1] == '/')
        n--;
    *port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
    *host = strdup(h);
    c->prefix = strndup(n > 0 ? path : "", n);
    size_t cap = strlen(h) + 16;
    if ((c->host_header = malloc(cap)) != NULL)
        snprintf(c->host_header, cap, *port == 80 ? "%s" : "%s:%d", h, *port);
    evhttp_uri_free(u);
    if (*host == NULL || c->prefix == NULL || c->host_header == NULL)
        return err_set(e, ERR_INTERNAL, "", "out of memory");
    return 0;
}

struct http_client *http_client_new(const char *url, int timeout_s, const char *api_key, struct err *e)
{
    struct http_client *c = calloc(1, sizeof *c);
    char *host = NULL;
    int port = 0;

    if (c == NULL) {
        err_set(e, ERR_INTERNAL, "", "out of memory");
        return NULL;
    }
    c->timeout_s = timeout_s;
    if (parse_url(c, url, &host, &port, e) != 0)
        goto fail;
    if (api_key != NULL && api_key[0] != '\0') {
        size_t n = strlen(api_key) + 8;
        for (const char *p = api_key; *p != '\0'; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                err_set(e, ERR_BAD_INPUT, "api-key", "the API key contains a control character");
                goto fail;
            }
        }
        if ((c->auth = malloc(n)) == NULL) {
            err_set(e, ERR_INTERNAL, "", "out of memory");
            goto fail;
        }
        snprintf(c->auth, n, "Bearer %s", api_key);
    }
    c->base = event_base_new();
    c->conn = c->base != NULL ? evhttp_connection_base_new(c->base, NULL, host, (unsigned short)port) : NULL;
    if (c->conn == NULL) {
        err_set(e, ERR_INTERNAL, "", "cannot start libevent's HTTP client");
        goto fail;
    }
    evhttp_connection_set_timeout(c->conn, timeout_s);
    evhttp_connection_set_retries(c->conn, 0);
    evhttp_connection_set_max_headers_size(c->conn, HTTP_CLIENT_MAX_HEADERS);
    free(host);
    return c;
fail:
    free(host);
    http_client_free(c);
    return NULL;
}

void http_client_free(struct http_client *c)
{
    if (c == NULL)
        return;
    if (c->conn != NULL)
        evhttp_connection_free(c->conn);
    if (c->base != NULL)
        event_base_free(c->base);
    if (c->auth != NULL) {
        memset(c->auth, 0, strlen(c->auth)); /* the key does not linger in freed memory */
        free(c->auth);
    }
    free(c->host_header);
    free(c->prefix);
    free(c);
}

/* Keeps what fits under HTTP_CLIENT_MAX_BODY of the body received so far and drops the rest. */
static void take_body(struct exchange *x, struct evbuffer *in)
{
    size_t n = evbuffer_get_length(in);
    size_t room = HTTP_CLIENT_MAX_BODY - x->len;
    size_t keep = n < room ? n : room;

    if (keep > 0) {
        char *grown = realloc(x->body, x->len + keep + 1);
        if (grown == NULL) {
            x->truncated = true;
            keep = 0;
        } else {
            x->body = grown;
            evbuffer_remove(in, x->body + x->len, keep);
            x->len += keep;
        }
    }
    if (n > keep)
        x->truncated = true;
    evbuffer_drain(in, evbuffer_get_length(in));
}

static void on_chunk(struct evhttp_request *req, void *arg)
{
    take_body(arg, evhttp_request_get_input_buffer(req));
}

static void on_error(enum evhttp_request_error error, void *arg)
{
    struct exchange *x = arg;
    x->failed = true;
    x->error = error;
}

static void on_done(struct evhttp_request *req, void *arg)
{
    struct exchange *x = arg;

    x->done = true;
    if (req != NULL && evhttp_request_get_response_code(req) > 0) {
        x->status = evhttp_request_get_response_code(req);
        take_body(x, evhttp_request_get_input_buffer(req));
    }
    event_base_loopbreak(x->base);
}

/* The deadline of the whole exchange: libevent's own timeout restarts with every byte read, so a
 * server trickling its answer would otherwise hold the client forever. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct exchange *x = arg;

    (void)fd;
    (void)what;
    if (x->done)
        return; /* the reply won the race in the same loop turn; req is already freed */
    x->timed_out = true;
    evhttp_cancel_request(x->req);
    event_base_loopbreak(x->base);
}

static int exchange_error(const struct http_client *c, const struct exchange *x, struct err *e)
{
    if (x->timed_out)
        return err_set(e, ERR_UNAVAILABLE, "", "no complete answer from %s within %d s", c->host_header,
                       c->timeout_s);
    switch (x->failed ? x->error : EVREQ_HTTP_EOF) {
    case EVREQ_HTTP_TIMEOUT:
        return err_set(e, ERR_UNAVAILABLE, "", "no answer from %s within %d s", c->host_header, c->timeout_s);
    case EVREQ_HTTP_INVALID_HEADER:
    case EVREQ_HTTP_DATA_TOO_LONG:
        return err_set(e, ERR_UNAVAILABLE, "", "%s sent an invalid or oversized HTTP reply", c->host_header);
    default:
        return err_set(e, ERR_UNAVAILABLE, "", "cannot connect to %s, or it closed the connection",
                       c->host_header);
    }
}

static int add_headers(const struct http_client *c, struct evhttp_request *req, bool post)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    if (evhttp_add_header(h, "Host", c->host_header) != 0 ||
        evhttp_add_header(h, "Accept", "application/json") != 0 ||
        evhttp_add_header(h, "User-Agent", "lineaged") != 0)
        return -1;
    if (post && evhttp_add_header(h, "Content-Type", "application/json") != 0)
        return -1;
    if (c->auth != NULL && evhttp_add_header(h, "Authorization", c->auth) != 0)
        return -1;
    return 0;
}

/* A request for x with its headers and body, or NULL (out of memory). */
static struct evhttp_request *new_request(const struct http_client *c, struct exchange *x, const char *body,
                                          size_t len)
{
    struct evhttp_request *req = evhttp_request_new(on_done, x);

    if (req == NULL)
        return NULL;
    evhttp_request_set_chunked_cb(req, on_chunk);
    evhttp_request_set_error_cb(req, on_error);
    if (add_headers(c, req, body != NULL) != 0 ||
        (body != NULL && evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0)) {
        evhttp_request_free(req);
        return NULL;
    }
    return req;
}

/* Runs the loop until x is done or its deadline passed. Returns -1 if the timer cannot be set. */
static int wait_for(struct http_client *c, struct exchange *x)
{
    struct timeval tv = {.tv_sec = c->timeout_s};
    struct event *deadline = evtimer_new(c->base, on_deadline, x);

    if (deadline == NULL || evtimer_add(deadline, &tv) != 0) {
        if (deadline != NULL)
            event_free(deadline);
        evhttp_cancel_request(x->req);
        return -1;
    }
    while (!x->done && !x->timed_out)
        if (event_base_dispatch(c->base) != 0)
            break; /* nothing left to wait for (not while req is pending) or a libevent error */
    event_free(deadline);
    return 0;
}

int http_client_request(struct http_client *c, struct arena *a, const char *path, const char *body,
                        size_t len, struct http_client_reply *out, struct err *e)
{
    struct exchange x = {.base = c->base};
    char *uri = arena_printf(a, "%s%s", c->prefix, path);

    memset(out, 0, sizeof *out);
    if ((x.req = new_request(c, &x, body, len)) == NULL)
        return err_set(e, ERR_INTERNAL, "", "out of memory");
    /* On failure evhttp_make_request frees req itself. */
    if (evhttp_make_request(c->conn, x.req, body != NULL ? EVHTTP_REQ_POST : EVHTTP_REQ_GET, uri) != 0)
        return err_set(e, ERR_UNAVAILABLE, "", "cannot send a request to %s", c->host_header);
    int rc = wait_for(c, &x) != 0 ? err_set(e, ERR_INTERNAL, "", "cannot set a timer") : 0;
    if (rc == 0 && (!x.done || x.status == 0)) {
        rc = exchange_error(c, &x, e);
    } else if (rc == 0) {
        out->status = x.status;
        out->body = arena_strndup(a, x.body != NULL ? x.body : "", x.len);
        out->len = x.len;
        out->truncated = x.truncated;
    }
    free(x.body);
    return rc;
}

char *http_client_escape(struct arena *a, const char *s)
{
    char *enc = evhttp_uriencode(s, -1, 0);
    char *out;

    if (enc == NULL)
        abort(); /* only when malloc fails; the arena aborts in the same case */
    out = arena_strdup(a, enc);
    free(enc);
    return out;
}
