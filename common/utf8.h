/* common/utf8.h - strict UTF-8 (RFC 3629, Unicode table 3-7): validation, cutting at character
 * boundaries, and repair of text that must reach a client.
 *
 * Every text that enters lineaged from a client (JSON strings and keys, path segments, query
 * parameters) is checked here once, at the door (common/json.c, common/http.c); everything after
 * that may assume valid UTF-8.
 * Invariants:
 *  1. Valid means well-formed per Unicode table 3-7: no overlong forms (C0 AF), no encoded
 *     surrogates (ED A0 80), nothing above U+10FFFF (F4 90 80 80, F5..FF), no stray continuation
 *     bytes, no sequence cut short. U+0000 is valid UTF-8; callers that cannot store it check for it.
 *  2. Nothing here allocates except utf8_repair, in the caller's arena.
 * Threads: no state. */
#ifndef LINEAGED_UTF8_H
#define LINEAGED_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

enum utf8_problem {
    UTF8_OK = 0,
    UTF8_STRAY_CONTINUATION, /* 80..BF where a character should start */
    UTF8_INVALID_BYTE,       /* F8..FF, never part of UTF-8 */
    UTF8_TRUNCATED,          /* a lead byte without all its continuation bytes */
    UTF8_OVERLONG,           /* C0, C1, E0 80..9F, F0 80..8F: a longer form than needed */
    UTF8_SURROGATE,          /* ED A0..BF: U+D800..U+DFFF encoded directly */
    UTF8_ABOVE_MAX           /* F4 90..BF, F5..F7: above U+10FFFF */
};

/* Checks s[0..len). Returns UTF8_OK, or the first problem with its byte offset in *bad_offset
 * (bad_offset may be NULL). Cannot fail otherwise. */
enum utf8_problem utf8_check(const char *s, size_t len, size_t *bad_offset);

/* utf8_check(...) == UTF8_OK. */
bool utf8_valid(const char *s, size_t len);

/* A short lower-case phrase for a problem ("overlong encoding"), for error messages. */
const char *utf8_problem_text(enum utf8_problem p);

/* The largest n <= len such that s[0..n) does not end inside a character of valid UTF-8 text:
 * where to cut a valid string so that the cut stays valid. */
size_t utf8_cut(const char *s, size_t len);

/* For "%.*s" in messages: the byte length of the longest prefix of NUL-terminated s that has at
 * most max bytes and does not split a character (a plain "%.64s" can cut one in two). */
int utf8_prefix(const char *s, size_t max);

/* s itself when s[0..len) is valid (terminated or not, as it was); otherwise a NUL-terminated copy
 * in arena a where each byte that does not start a valid character is replaced by U+FFFD.
 * *out_len (may be NULL) gets the result's length. Cannot fail. */
const char *utf8_repair(struct arena *a, const char *s, size_t len, size_t *out_len);

#endif
