/* collector/decode.h - turns one parsed JSON event into a validated struct ol_event.
 *
 * Validation is strict on structure and lenient on format (see README "What we accept"):
 * required fields missing or of the wrong type are violations; unknown keys and unknown facets are kept.
 * Invariants:
 *  1. On success every derived value in the event is filled (run UUID, job full name, versions, hash).
 *  2. On failure `violations` holds one message per problem, each starting with its JSON path
 *     ("run.runId must not be null"), in document order; nothing is written anywhere.
 * Ownership: all output is allocated in the arena passed in. */
#ifndef LINEAGED_DECODE_H
#define LINEAGED_DECODE_H

#include <stddef.h>

#include "arena.h"
#include "event.h"
#include "json.h"

struct decode_violations {
    const char **msgs;
    size_t n;
    size_t cap;
};

/* Length limits in UTF-8 bytes; 0 means none. Names and keys end up in Postgres index entries,
 * which have a size limit (see CFG_NAME_BYTES_CEILING in common/cfg.h). */
struct decode_limits {
    size_t max_name_bytes; /* namespaces; dataset, job (parent.child), source and symlink names */
    size_t max_key_bytes;  /* facet names; schema field and column-lineage field names */
};

/* Decodes v into ev. Returns 0 if valid, -1 if violations were appended to out (prefixed with
 * `prefix`, e.g. "[3]", when not NULL). lim NULL: no length limits (the follower re-reading events
 * that another collector, maybe with other limits, already stored). */
int decode_event(struct arena *a, const struct json_value *v, const char *prefix,
                 const struct decode_limits *lim, struct ol_event *ev, struct decode_violations *out);

#endif
