/* common/err.h - the one error value every module fills and every caller reads.
 *
 * Invariants:
 *  1. Reporting a failure never allocates: all text lives in fixed buffers.
 *  2. `msg` is safe to send to a client; `detail` (libpq text, errno) goes to the log only.
 *  3. err_set() always returns -1 so callers can write `return err_set(e, ...);`.
 *  4. Every setter resets sqlstate and retryable; only the store sets sqlstate (store/store.c), and
 *     decisions about a database error read sqlstate, never the message text.
 * Threads: a struct err belongs to one thread; the functions here keep no state. */
#ifndef LINEAGED_ERR_H
#define LINEAGED_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum err_kind {
    ERR_NONE = 0,
    ERR_BAD_INPUT,    /* malformed request: 400 {"code":400,"message":...} */
    ERR_BAD_PARAM,    /* invalid query or path parameter: 400 {"errors":["<where> <msg>"]} (Marquez) */
    ERR_INVALID,      /* well-formed but violates the model: 422 */
    ERR_NOT_FOUND,    /* 404 */
    ERR_METHOD,       /* known path, wrong method: 405 */
    ERR_CONFLICT,     /* 409 */
    ERR_TOO_LARGE,    /* 413 */
    ERR_UNSUPPORTED,  /* unsupported media type or encoding: 415 */
    ERR_UNAUTHORIZED, /* no or invalid credentials: 401 */
    ERR_FORBIDDEN,    /* valid credentials whose scope does not cover the route: 403 */
    ERR_GONE,         /* a route that no longer exists (Marquez's deprecated writes): 410 */
    ERR_UNAVAILABLE,  /* database down, shutting down, out of memory for now: 503 */
    ERR_INTERNAL,     /* 500 */
    ERR_TIMEOUT,      /* the client did not send its request in time: 408 */
    ERR_HEADERS_TOO_LARGE /* request line and headers over the limit: 431 */
};

enum { ERR_WHERE_MAX = 128, ERR_MSG_MAX = 256, ERR_DETAIL_MAX = 512 };

struct err {
    enum err_kind kind;
    char where[ERR_WHERE_MAX];   /* JSON path or parameter: "run.runId", "limit"; "" if none */
    char msg[ERR_MSG_MAX];       /* primary message, lower case, no trailing period */
    char detail[ERR_DETAIL_MAX]; /* log only */
    char sqlstate[6];            /* Postgres SQLSTATE ("40P01") when the database refused; "" otherwise */
    bool retryable;              /* sending the same request again later can succeed (503 + Retry-After) */
};

/* Fills e (kind, where, formatted msg) and returns -1. where may be NULL. */
int err_set(struct err *e, enum err_kind kind, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* err_set for ERR_UNAVAILABLE with retryable set: the condition is expected to pass (database
 * restarting, memory busy), so the client is told to retry. Returns -1. */
int err_set_retry(struct err *e, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like err_set, and also records a log-only detail. Returns -1. */
int err_set_detail(struct err *e, enum err_kind kind, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Resets e to ERR_NONE with empty strings. */
void err_clear(struct err *e);

/* The HTTP status for a kind (ERR_NONE -> 200). */
int err_http_status(enum err_kind kind);

#endif
