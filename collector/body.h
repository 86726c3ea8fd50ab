/* collector/body.h - the request body as JSON text: Content-Encoding and size limits applied.
 *
 * Invariants:
 *  1. The decoded body never exceeds max_decompressed_bytes, and a gzip body never expands more than
 *     max_gzip_ratio times its compressed size: inflation stops as soon as either limit is crossed,
 *     so a gzip bomb costs at most the limit in memory and time.
 *  2. The result is in the request arena and NUL-terminated; decompressed text is counted in the
 *     arena's budgets and inflation stops when one is exceeded (413 own limit, 503 shared).
 *  3. Only JSON media types are accepted: application/json or application/<x>+json, charset UTF-8 if
 *     given; anything else, and a missing Content-Type, is 415 (no cross-site form POSTs). */
#ifndef LINEAGED_BODY_H
#define LINEAGED_BODY_H

#include <stddef.h>

#include "cfg.h"
#include "http.h"

/* Returns the decoded body (its length in *len), or NULL with e set: 415 for an encoding other than
 * gzip, x-gzip or identity (or a non-JSON Content-Type), 400 for a corrupt gzip stream, 413 over a limit,
 * 503 (retryable) when the requests in flight together hold the shared memory budget. */
const char *body_decode(struct req *r, const struct cfg *c, size_t *len, struct err *e);

#endif
