/* common/http.h - what a route handler sees (struct req) and fills (struct reply), without libevent.
 *
 * Handlers are plain functions `route_fn(req, reply, err)`: they read the request, write a reply or
 * return -1 with err set, and never touch the socket. The server (server/server.c) turns the reply
 * into bytes exactly once. Keeping evhttp out of this header lets api/ and tests use handlers directly.
 * Invariants:
 *  1. Every string in req and reply lives in req->arena and dies with the request.
 *  2. http_reply_error is the only place that builds an error body (Marquez shapes, via yajl_gen).
 * Threads: a req is used by one thread at a time (the worker that runs its handler). */
#ifndef LINEAGED_HTTP_H
#define LINEAGED_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "err.h"

struct store;
struct cfg;
struct graph;
struct node_cache;
struct metrics;
struct server_stats;
struct log_limit;

enum http_method { HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_HEAD, HTTP_OTHER };

struct http_param {
    const char *name;  /* decoded */
    const char *value; /* decoded */
};

struct req {
    struct arena *arena;
    enum http_method method;
    const char *path;             /* raw, still percent-encoded */
    const char **segments;        /* path split on '/', each segment percent-decoded */
    size_t n_segments;
    struct http_param *params;    /* query string, decoded, in order */
    size_t n_params;
    struct http_param *headers;   /* every request header in order: name as sent, value trimmed */
    size_t n_headers;
    const char *content_type;     /* NULL if absent */
    const char *content_encoding; /* NULL if absent */
    bool accepts_gzip;            /* Accept-Encoding allows gzip for the reply */
    const char *body;             /* as received; NUL-terminated copy */
    size_t body_len;
    char request_id[24];
    /* What the handler may use: */
    struct store *store;          /* the worker's database connection (borrowed) */
    const struct cfg *cfg;
    struct graph *graph;          /* the in-memory lineage graph (borrowed; lock it to read) */
    struct node_cache *node_cache; /* lineage node data between requests (api/node_cache.h; borrowed) */
    struct metrics *metrics;      /* the process's metrics registry (common/metrics.h; borrowed) */
    struct log_limit *outage_log; /* rate limit for lines about failures a request cannot help (the
                                     database down), shared by all requests; NULL: none (borrowed) */
};

struct reply {
    int status;
    const char *body;         /* NULL: empty body */
    size_t body_len;
    const char *content_type; /* default application/json when body is set */
    const char *location;     /* Location header, or NULL */
    const char *content_encoding; /* Content-Encoding of body ("gzip"), or NULL */
    int retry_after_s;        /* > 0: a Retry-After header (503s a later attempt can pass) */
};

/* A route handler. Returns 0 with reply filled, or -1 with e set (the caller replies the error). */
typedef int route_fn(struct req *r, struct reply *out, struct err *e);

/* One request of a group, and its own outcome: rc is what a route_fn would have returned for it (0 with
 * *reply filled, or -1 with *err set). */
struct route_call {
    struct req *req;
    struct reply *reply;
    struct err *err;
    int rc;
};

/* Handles n >= 1 queued requests of one route together (group commit: they share the worker's database
 * connection and transactions). Sets every call's rc; one request's failure never becomes another's. */
typedef void route_group_fn(struct route_call *calls, size_t n);

/* The last value of query parameter `name`, or NULL. */
const char *http_param(const struct req *r, const char *name);

/* The value of request header `name` (case-insensitive), or NULL. The server refuses requests that
 * repeat Content-Type, Content-Encoding, Authorization or Expect; for others the last one is returned. */
const char *http_header(const struct req *r, const char *name);

/* Integer parameter with default and range; -1 with e set (ERR_BAD_PARAM, where=name) when invalid,
 * with Marquez's messages: "is not a number.", "must be greater than or equal to 0", "must be less
 * than or equal to N". */
int http_param_int(const struct req *r, const char *name, long def, long min, long max, long *out,
                   struct err *e);

/* Decodes %XX escapes of s[0..len) into arena memory ('+' stays '+'; pass plus_is_space for query
 * strings). Returns NULL if an escape is malformed or decodes to a NUL byte, or if the result is not
 * strict UTF-8 (common/utf8.h): every decoded path segment and parameter is valid text. */
char *http_percent_decode(struct arena *a, const char *s, size_t len, bool plus_is_space);

/* Splits the raw path on '/' first, then decodes each segment (so %2F stays inside one segment).
 * Returns 0, or -1 with e set (ERR_BAD_INPUT, where "path") for a malformed escape, %00, or a segment
 * that is not valid UTF-8 once decoded; the message shows the raw segment with non-ASCII as %XX. */
int http_split_path(struct arena *a, const char *raw_path, const char ***segments, size_t *n, struct err *e);

/* Boolean parameter, case-insensitive true/false (Marquez accepts withDownstream=True); missing or
 * empty gives def; anything else is -1 with e set (ERR_BAD_PARAM). */
int http_param_bool(const struct req *r, const char *name, bool def, bool *out, struct err *e);

/* Parses a raw query string ("a=1&b=x%20y") into decoded params. -1 with e set (ERR_BAD_INPUT,
 * where "query") for a malformed escape, %00, or a name or value that is not valid UTF-8 once decoded. */
int http_parse_query(struct arena *a, const char *query, struct http_param **params, size_t *n,
                     struct err *e);

/* The one builder of error bodies, in Marquez's shapes: 422 and ERR_BAD_PARAM's 400 -> {"errors":[msg]}
 * (msg prefixed with where when set, and for parameters with "query param ": "query param limit must
 * be ..."), others -> {"code":N,"message":msg}. ERR_INTERNAL replies a generic message naming the
 * request id; the detail is for the log only. A retryable error gets Retry-After. */
enum { HTTP_RETRY_AFTER_S = 1 };

void http_reply_error(struct reply *out, struct arena *a, const struct err *e, const char *request_id);

/* http_reply_error with one more member after "message": `key` with the JSON text `json` (an array or
 * object the caller built), for an error a client acts on with data: the candidates of an ambiguous
 * name in a 409. Only for kinds answered {"code","message"} (not ERR_BAD_PARAM, ERR_INVALID,
 * ERR_INTERNAL); for those it is http_reply_error. */
void http_reply_error_with(struct reply *out, struct arena *a, const struct err *e, const char *request_id,
                           const char *key, const char *json);

/* 422 {"errors":[...]} with the given messages, in order. */
void http_reply_validation(struct reply *out, struct arena *a, const char *const *msgs, size_t n);

/* Sets a JSON body produced elsewhere. */
void http_reply_json(struct reply *out, int status, const char *body, size_t len);

#endif
