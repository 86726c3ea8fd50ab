/* server/h1.h - HTTP/1.1 request framing (RFC 9112) on Debian's http_parser; no sockets, no libevent.
 *
 * A request is read in two steps, and the connection (h1_conn.c) decides between them:
 *   1. h1_scan_head finds the end of the head (request line and fields) in the bytes received so far,
 *      refusing bytes no valid head holds; h1_parse_head then parses the whole head at once, checks
 *      the framing fields and says how the body is framed (none, Content-Length, chunked).
 *   2. h1_parse_body decodes the body as it arrives (de-chunking), handing each piece to a sink, and
 *      stops right after the body's last byte, so pipelined bytes behind it stay unread.
 * Invariants (each refusal is ERR_BAD_INPUT, and the connection answers 400 and closes):
 *  1. Lines end in CRLF; a bare CR or LF, a NUL and obs-fold (a field line starting with SP or HT)
 *     are refused before http_parser sees the head, so both always agree where the head ends.
 *  2. Field names are tokens (no whitespace, so "Content-Length : 2" is refused, not ignored).
 *  3. The body length has one source: at most one Content-Length (digits only) or one
 *     Transfer-Encoding that is exactly "chunked", never both, no Transfer-Encoding in HTTP/1.0;
 *     anything else is refused, so no second request can hide inside a body (request smuggling).
 *  4. HTTP/1.1 needs exactly one Host; Content-Type, Content-Encoding, Authorization and Expect may
 *     appear once (a second one would be ambiguous); only HTTP/1.0 and 1.1; no CONNECT.
 *  5. The head is at most max_head bytes (ERR_HEADERS_TOO_LARGE); chunk-size lines and trailers are
 *     bounded by the same limit inside http_parser; trailers are read and ignored.
 * Ownership: a parser is malloc'd per connection and reused for each of its requests; the head's
 * strings are copied into the arena passed to h1_parse_head.
 * Threads: a parser belongs to one thread; h1_init runs once before any parser is used. */
#ifndef LINEAGED_H1_H
#define LINEAGED_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

/* This header does not include http.h: http_parser.h names its own enum http_method. */

enum h1_framing { H1_BODY_NONE, H1_BODY_LENGTH, H1_BODY_CHUNKED };

struct h1_field {
    const char *name;  /* as sent (case kept) */
    const char *value; /* leading and trailing whitespace removed */
};

struct h1_head {
    const char *method;       /* "GET", "POST", ... as sent */
    int major, minor;         /* 1.0 or 1.1 */
    const char *path;         /* raw (percent-encoded) path of the request target, never NULL */
    const char *query;        /* raw query string without '?', or NULL */
    struct h1_field *fields;  /* in order; trailers are not included */
    size_t n_fields;
    enum h1_framing framing;
    uint64_t content_length;  /* H1_BODY_LENGTH only */
    bool keep_alive;          /* the connection may carry another request after this one */
    bool expect_continue;     /* "Expect: 100-continue" */
};

/* Incremental search for the end of a head across reads: start zeroed, keep between calls. */
struct h1_scan {
    size_t pos;   /* bytes of the head examined so far */
    int state;
};

struct h1_parser;

/* Sets the largest head (and chunk-size line or trailer section) http_parser accepts. Call once at
 * start-up, before any parser is used. */
void h1_init(size_t max_head);

/* A parser for one connection's requests, or NULL when out of memory. h1_parser_free(NULL) is a no-op. */
struct h1_parser *h1_parser_new(void);
void h1_parser_free(struct h1_parser *p);

/* Examines data[0..len), the bytes that follow the s->pos bytes of the head already examined (the
 * head may arrive in any number of pieces). Returns the head's whole length (through its blank line)
 * once it is complete, without looking past it; 0 while more bytes are needed; or -1 with e set:
 * ERR_BAD_INPUT for bytes no head may hold (invariant 1), ERR_HEADERS_TOO_LARGE past max_head. */
long h1_scan_head(struct h1_scan *s, const char *data, size_t len, size_t max_head, struct err *e);

/* Parses a complete head (as h1_scan_head measured it) into *out, strings in arena a. Returns 0, or
 * -1 with e set (ERR_BAD_INPUT, message saying what was wrong). Resets p for a new request. */
int h1_parse_head(struct h1_parser *p, struct arena *a, const char *head, size_t len, struct h1_head *out,
                  struct err *e);

/* Receives decoded body bytes; returns 0, or -1 with e set to stop the request (over a limit, say). */
typedef int h1_body_fn(void *ctx, const char *data, size_t len, struct err *e);

/* Feeds body bytes (after a successful h1_parse_head with framing != H1_BODY_NONE). Calls sink for
 * each decoded piece; sets *done once the body ended. Returns the bytes of buf consumed (never past
 * the body's end), or -1 with e set: the sink's error, or ERR_BAD_INPUT for broken chunked framing. */
long h1_parse_body(struct h1_parser *p, const char *buf, size_t len, h1_body_fn *sink, void *ctx, bool *done,
                   struct err *e);

/* The value of field `name` (case-insensitive) in head, or NULL; the last one if repeated. */
const char *h1_field(const struct h1_head *head, const char *name);

#endif
