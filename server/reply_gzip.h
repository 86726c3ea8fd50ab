/* server/reply_gzip.h - gzip for large replies, when the client says it accepts it.
 *
 * Lineage answers run to megabytes of JSON that compress about tenfold; Marquez (Dropwizard) gzips
 * replies for clients that send Accept-Encoding: gzip, and the Marquez web UI's browser does.
 * Invariants:
 *  1. A reply is compressed only if the client accepts gzip and its body is at least
 *     REPLY_GZIP_MIN_BYTES; the compressed body replaces it only if it is smaller.
 *  2. Compression runs on the worker thread that made the reply, never on the event loop. */
#ifndef LINEAGED_REPLY_GZIP_H
#define LINEAGED_REPLY_GZIP_H

#include <stdbool.h>

#include "arena.h"
#include "http.h"

enum { REPLY_GZIP_MIN_BYTES = 8 * 1024 };

/* Whether an Accept-Encoding header value accepts gzip (RFC 9110: "gzip" or "x-gzip" or "*", with no
 * q=0). NULL (no header) does not. */
bool reply_gzip_accepted(const char *accept_encoding);

/* Compresses out->body into the arena and sets out->content_encoding when invariant 1 allows;
 * otherwise leaves the reply as it is. Never fails: without memory or on a zlib error the reply goes
 * out uncompressed. */
void reply_gzip(struct arena *a, struct reply *out);

#endif
