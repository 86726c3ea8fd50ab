/* common/json.h - JSON values in an arena: parsing (yajl callbacks), lookups, and output (yajl_gen).
 *
 * Invariants:
 *  1. A parsed tree lives entirely in the caller's arena; there is nothing to free separately.
 *  2. Parsing never recurses and never exceeds max_depth nesting; deeper input is an error,
 *     so every recursive walk over a parsed tree (json_write_canonical) is bounded by max_depth.
 *  3. Strings and keys are strict UTF-8 (common/utf8.h) without NUL bytes, and NUL-terminated;
 *     `len` holds their byte length. json_parse refuses anything else (common/json_parse.c).
 *  4. Object members keep their input order; json_write_canonical sorts them by key bytes.
 * Threads: no shared state. */
#ifndef LINEAGED_JSON_H
#define LINEAGED_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>

#include "arena.h"
#include "err.h"

/* The deepest nesting the parser may be asked to accept: yajl_gen refuses to write deeper than 128
 * levels, and every parsed document must be writable again (canonical form, facets). */
enum { JSON_MAX_DEPTH = 100 };

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
    enum json_type type;
    union {
        bool boolean;
        struct {
            const char *text; /* number as written, or string contents (NUL-terminated) */
            size_t len;
        } str;
        struct {
            struct json_value **items;
            size_t n;
        } array;
        struct {
            const char **keys;
            size_t *key_lens;
            struct json_value **values;
            size_t n;
        } object;
    } u;
};

/* Parses exactly one JSON document from buf[0..len); max_depth above JSON_MAX_DEPTH counts as it.
 * Returns the root (in arena a) or NULL with e set:
 * ERR_BAD_INPUT with the byte offset for malformed JSON or empty input, and with the JSON path in
 * e->where for a string or key that is not strict UTF-8 or holds a lone surrogate escape;
 * ERR_INVALID (path in e->where) for \u0000 in a string or key; ERR_TOO_LARGE when nesting exceeds
 * max_depth. NaN/Infinity are rejected as malformed (strict JSON). When a has a budget
 * (arena_set_budget), the parse stops as soon as the tree outgrows it: ERR_TOO_LARGE for the arena's
 * own limit, a retryable ERR_UNAVAILABLE for the shared one. */
struct json_value *json_parse(struct arena *a, const char *buf, size_t len, int max_depth, struct err *e);

/* Member `key` of object v, or NULL if v is not an object or has no such key (last one wins). */
const struct json_value *json_get(const struct json_value *v, const char *key);

/* The string value of v, or NULL if v is missing or not a string. (Not "json_string": jansson, which
 * libjwt loads, exports that name, and an executable's symbol would replace it inside libjwt.) */
const char *json_as_string(const struct json_value *v);

/* The string member `key` of object v, or NULL. */
const char *json_get_string(const struct json_value *v, const char *key);

/* true if v is a JSON true. */
bool json_is_true(const struct json_value *v);

/* Writes v with object keys sorted by bytes and no whitespace; output in arena, *len_out its length.
 * Equal JSON documents that differ only in member order or spacing give byte-equal output.
 * Cannot fail for trees json_parse built (depth <= JSON_MAX_DEPTH); aborts if yajl_gen refuses,
 * since that would mean the invariant is broken. */
char *json_canonical(struct arena *a, const struct json_value *v, size_t *len_out);

/* Writes v into an open generator (keys in canonical order). Returns 0, or -1 if yajl_gen failed. */
int json_write_canonical(yajl_gen g, const struct json_value *v);

/* Writes v into an open generator keeping member order as parsed (for JSON built elsewhere, such as
 * SQL's json_build_object, whose key order is part of the answer). Returns 0, or -1. */
int json_write(yajl_gen g, const struct json_value *v);

/* A yajl generator whose output is copied to arena memory by json_gen_finish. */
yajl_gen json_gen_new(void);
/* Copies the generated text into the arena, frees g, returns the text (NUL-terminated). */
char *json_gen_finish(yajl_gen g, struct arena *a, size_t *len_out);

/* Shorthands over yajl_gen for NUL-terminated strings; a NULL string writes JSON null. */
void json_gen_str(yajl_gen g, const char *s);
void json_gen_key(yajl_gen g, const char *key);
void json_gen_int(yajl_gen g, long long v);

#endif
