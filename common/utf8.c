/* common/utf8.c - strict UTF-8 checks (see utf8.h).
 *
 * Invariants:
 *  1. utf8_sequence is the only decoder of lead and continuation bytes; every function here uses it,
 *     so validation, cutting and repair agree on what a character is.
 *  2. ASCII runs are skipped eight bytes at a time: event bodies are mostly ASCII.
 * Threads: no state. */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

enum { UTF8_REPLACEMENT_LEN = 3 };
static const char UTF8_REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* The length (1..4) of the valid character at s[0..len), or 0 with *p set. len >= 1. */
static size_t utf8_sequence(const unsigned char *s, size_t len, enum utf8_problem *p)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    size_t n;

    if (c < 0x80)
        return 1;
    if (c < 0xC0) {
        *p = UTF8_STRAY_CONTINUATION;
        return 0;
    }
    if (c < 0xC2) {
        *p = UTF8_OVERLONG;
        return 0;
    }
    if (c >= 0xF8) {
        *p = UTF8_INVALID_BYTE;
        return 0;
    }
    if (c >= 0xF5) {
        *p = UTF8_ABOVE_MAX;
        return 0;
    }
    n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (len >= 2 && (s[1] < lo || s[1] > hi) && s[1] >= 0x80 && s[1] <= 0xBF) {
        *p = c == 0xED ? UTF8_SURROGATE : c == 0xF4 ? UTF8_ABOVE_MAX : UTF8_OVERLONG;
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if (i >= len || s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF)) {
            *p = UTF8_TRUNCATED;
            return 0;
        }
    }
    return n;
}

/* Offset of the first non-ASCII byte of s[from..len), or len. */
static size_t skip_ascii(const unsigned char *s, size_t from, size_t len)
{
    size_t i = from;

    while (i + 8 <= len) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        if (w & UINT64_C(0x8080808080808080))
            break;
        i += 8;
    }
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

enum utf8_problem utf8_check(const char *s, size_t len, size_t *bad_offset)
{
    const unsigned char *u = (const unsigned char *)s;
    enum utf8_problem p = UTF8_OK;

    for (size_t i = skip_ascii(u, 0, len); i < len; i = skip_ascii(u, i, len)) {
        size_t n = utf8_sequence(u + i, len - i, &p);
        if (n == 0) {
            if (bad_offset != NULL)
                *bad_offset = i;
            return p;
        }
        i += n;
    }
    return UTF8_OK;
}

bool utf8_valid(const char *s, size_t len)
{
    return utf8_check(s, len, NULL) == UTF8_OK;
}

const char *utf8_problem_text(enum utf8_problem p)
{
    switch (p) {
    case UTF8_OK:
        return "valid UTF-8";
    case UTF8_STRAY_CONTINUATION:
        return "a continuation byte without a lead byte";
    case UTF8_INVALID_BYTE:
        return "a byte that never occurs in UTF-8";
    case UTF8_TRUNCATED:
        return "an incomplete multi-byte sequence";
    case UTF8_OVERLONG:
        return "an overlong encoding";
    case UTF8_SURROGATE:
        return "an encoded UTF-16 surrogate (U+D800..U+DFFF)";
    case UTF8_ABOVE_MAX:
        return "a code point above U+10FFFF";
    }
    return "invalid UTF-8";
}

size_t utf8_cut(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = len;

    /* Back up over at most three continuation bytes to the lead byte of the last character. */
    while (start > 0 && len - start < 4 && (u[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0 || len - start >= 4)
        return len; /* no lead byte in reach: not valid text to begin with; leave it */
    start--;
    enum utf8_problem p;
    size_t n = u[start] < 0x80 ? 1 : utf8_sequence(u + start, len - start, &p);
    return n == len - start ? len : start;
}

int utf8_prefix(const char *s, size_t max)
{
    size_t n = strnlen(s, max);

    if (n == max && s[n] != '\0')
        n = utf8_cut(s, n);
    return (int)n;
}

const char *utf8_repair(struct arena *a, const char *s, size_t len, size_t *out_len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t bad;

    if (utf8_check(s, len, &bad) == UTF8_OK) {
        if (out_len != NULL)
            *out_len = len;
        return s;
    }
    char *out = arena_alloc(a, bad + (len - bad) * UTF8_REPLACEMENT_LEN + 1);
    size_t n = bad;
    memcpy(out, s, bad);
    for (size_t i = bad; i < len;) {
        enum utf8_problem p;
        size_t k = utf8_sequence(u + i, len - i, &p);
        if (k == 0) {
            memcpy(out + n, UTF8_REPLACEMENT, UTF8_REPLACEMENT_LEN);
            n += UTF8_REPLACEMENT_LEN;
            i++;
        } else {
            memcpy(out + n, s + i, k);
            n += k;
            i += k;
        }
    }
    out[n] = '\0';
    if (out_len != NULL)
        *out_len = n;
    return out;
}
