/* collector/decode_int.h - helpers shared by decode.c and decode_dataset.c only.
 *
 * A struct dctx carries the arena, the path prefix and the violation list through one event's decode.
 * Paths are built as strings ("inputs[2].facets.schema") so every message names where it applies. */
#ifndef LINEAGED_DECODE_INT_H
#define LINEAGED_DECODE_INT_H

#include <stdbool.h>

#include "decode.h"

struct dctx {
    struct arena *a;
    const char *prefix; /* "[3]" for array elements, or NULL */
    struct decode_limits lim; /* 0: no limit */
    struct decode_violations *out;
    int errors;
};

/* Appends "<prefix>.<path> <message>". */
void dctx_violate(struct dctx *d, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A required non-blank string member, or NULL after recording a violation. */
const char *dctx_required_string(struct dctx *d, const struct json_value *obj, const char *key,
                                 const char *path);

/* An optional string member: NULL if absent or null; a violation if present with another type. */
const char *dctx_optional_string(struct dctx *d, const struct json_value *obj, const char *key,
                                 const char *path);

/* path + "." + key, in the arena. */
const char *dctx_path(struct dctx *d, const char *path, const char *key);

/* path + "." + key for a key from the event: keys longer than a few dozen bytes are shortened
 * (cut at a UTF-8 boundary, then "..."), so messages stay short whatever the input. */
const char *dctx_key_path(struct dctx *d, const char *path, const char *key);

/* Which limit of struct decode_limits a value is held to. */
enum dctx_limit { DCTX_NAME, DCTX_KEY };

/* True if s fits its limit; else records "<path> is N bytes long; the limit is M bytes (--flag)". */
bool dctx_fits(struct dctx *d, const char *path, const char *s, enum dctx_limit which);

/* dctx_required_string, then dctx_fits: a name or key that is present, non-blank and short enough,
 * or NULL after recording a violation. */
const char *dctx_required_limited(struct dctx *d, const struct json_value *obj, const char *key,
                                  const char *path, enum dctx_limit which);

/* Decodes a facets object (NULL/absent: none). allow_deleted: {"_deleted": true} marks a deletion
 * (job and dataset facets); otherwise `_deleted` is kept as an ordinary member. */
void dctx_facets(struct dctx *d, const struct json_value *facets, const char *path, bool allow_deleted,
                 struct ol_facet **out, size_t *n);

/* Decodes one input/output/static dataset at `path`; returns false if it had violations. */
bool decode_dataset(struct dctx *d, const struct json_value *v, const char *path, enum ol_io io,
                    struct ol_dataset *out);

/* Keeps the column-lineage edges whose input is one of the event's inputs (decode_dataset.c
 * invariant 3) and computes each dataset's version. Call after everything else is decoded. */
void decode_finish_datasets(struct dctx *d, struct ol_event *ev);

#endif
