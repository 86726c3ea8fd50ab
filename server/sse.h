/* server/sse.h - reading Server-Sent Events (the WHATWG HTML "event stream" format) incrementally,
 * for `lineaged tail`. No Debian package parses SSE in C; the format is a few line rules.
 *
 * Rules kept: lines end in CRLF, LF or CR; a line starting with ':' is a comment; "field: value"
 * (one optional space after the colon) or a bare "field"; data lines are joined with LF; an empty
 * line dispatches the event when it has data; `id` sets the last event id (ignored when it holds a
 * NUL), which stays for later events; `retry` with digits only sets the reconnection time; other
 * fields are ignored. A leading UTF-8 BOM is not expected (our server sends none).
 * Invariants:
 *  1. Memory is bounded: a line or an event's data longer than max_bytes is an error, not growth.
 *  2. Callbacks get NUL-terminated strings valid for the call only.
 * Ownership: the parser owns its buffers (sse_free). Threads: one parser per thread. */
#ifndef LINEAGED_SSE_H
#define LINEAGED_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct sse_sink {
    void *ctx;
    void (*event)(void *ctx, const char *id, const char *data, size_t len);
    void (*comment)(void *ctx, const char *text); /* may be NULL */
};

struct sse_parser {
    size_t max_bytes;
    char *line;
    size_t line_len, line_cap;
    char *data;
    size_t data_len, data_cap;
    bool has_data;
    bool after_cr; /* the last byte was CR: a LF right after it ends nothing more */
    char id[64];   /* the last event id; "" when none */
    long retry_ms; /* -1 until the server sends retry: */
};

/* A parser accepting lines and events up to max_bytes. Cannot fail. */
void sse_init(struct sse_parser *p, size_t max_bytes);

/* Frees the buffers; the parser may be used again after sse_init. */
void sse_free(struct sse_parser *p);

/* Forgets a partial line and event (a new connection); keeps id and retry. */
void sse_reset(struct sse_parser *p);

/* Feeds bytes; calls the sink for each complete event and comment. Returns 0, or -1 with e set
 * (ERR_TOO_LARGE past max_bytes, ERR_INTERNAL out of memory). */
int sse_feed(struct sse_parser *p, const char *buf, size_t n, const struct sse_sink *sink, struct err *e);

#endif
