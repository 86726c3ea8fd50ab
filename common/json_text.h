/* common/json_text.h - JSON text assembled from pieces, for answers that pass JSON built elsewhere
 * (SQL's json_build_object, the lineage node-data cache) through unchanged: a yajl_gen can only
 * write values it generates itself, and re-parsing megabytes to write them again is the slow part
 * of a large answer.
 *
 * Invariants:
 *  1. t->p[0 .. t->len) is the text so far and t->p[t->len] is NUL; the memory is in the arena.
 *  2. Only json_text_str escapes; raw pieces must already be JSON (the caller's promise).
 * Threads: no shared state. */
#ifndef LINEAGED_JSON_TEXT_H
#define LINEAGED_JSON_TEXT_H
#include <stddef.h>
#include "arena.h"

struct json_text {
    struct arena *a;
    char *p;
    size_t len, cap;
};

/* An empty text with room for size_hint bytes (it grows by doubling when the hint was short). */
void json_text_init(struct json_text *t, struct arena *a, size_t size_hint);
/* Appends n bytes as they are. */
void json_text_raw(struct json_text *t, const char *s, size_t n);
/* Appends a NUL-terminated piece as it is (keys, punctuation, literals). */
void json_text_lit(struct json_text *t, const char *s);
/* Appends s as a quoted JSON string (", \ and control characters escaped; UTF-8 kept as is);
 * NULL appends null. */
void json_text_str(struct json_text *t, const char *s);

/* Removes the whitespace outside strings from the JSON text s[0 .. len), in place, and returns the
 * new length (Postgres writes json with " : " and ", " between members and newlines in json_agg).
 * Text that is not JSON is compacted the same way; it does not become valid by it. */
size_t json_minify(char *s, size_t len);
#endif
