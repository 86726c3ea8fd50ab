/* common/json_text.c - JSON text assembled from pieces (see json_text.h). */
#include "json_text.h"

#include <stdbool.h>
#include <string.h>

void json_text_init(struct json_text *t, struct arena *a, size_t size_hint)
{
    t->a = a;
    t->cap = size_hint < 64 ? 64 : size_hint;
    t->p = arena_alloc(a, t->cap + 1);
    t->len = 0;
    t->p[0] = '\0';
}

/* Makes room for n more bytes (and the NUL). The old block stays in the arena until it is reset. */
static void reserve(struct json_text *t, size_t n)
{
    if (t->len + n <= t->cap)
        return;
    size_t cap = t->cap * 2;
    while (cap < t->len + n)
        cap *= 2;
    char *p = arena_alloc(t->a, cap + 1);
    memcpy(p, t->p, t->len + 1);
    t->p = p;
    t->cap = cap;
}

void json_text_raw(struct json_text *t, const char *s, size_t n)
{
    reserve(t, n);
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

void json_text_lit(struct json_text *t, const char *s)
{
    json_text_raw(t, s, strlen(s));
}

void json_text_str(struct json_text *t, const char *s)
{
    static const char HEX[] = "0123456789abcdef";

    if (s == NULL) {
        json_text_raw(t, "null", 4);
        return;
    }
    size_t n = strlen(s);
    reserve(t, 6 * n + 2); /* worst case: every byte as \u00XX */
    char *out = t->p + t->len;
    *out++ = '"';
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
        switch (*c) {
        case '"': *out++ = '\\'; *out++ = '"'; break;
        case '\\': *out++ = '\\'; *out++ = '\\'; break;
        case '\n': *out++ = '\\'; *out++ = 'n'; break;
        case '\r': *out++ = '\\'; *out++ = 'r'; break;
        case '\t': *out++ = '\\'; *out++ = 't'; break;
        case '\b': *out++ = '\\'; *out++ = 'b'; break;
        case '\f': *out++ = '\\'; *out++ = 'f'; break;
        default:
            if (*c < 0x20) {
                memcpy(out, "\\u00", 4);
                out[4] = HEX[*c >> 4];
                out[5] = HEX[*c & 15];
                out += 6;
            } else {
                *out++ = (char)*c;
            }
        }
    }
    *out++ = '"';
    t->len = (size_t)(out - t->p);
    t->p[t->len] = '\0';
}

size_t json_minify(char *s, size_t len)
{
    size_t out = 0;
    bool in_string = false, escaped = false;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            continue;
        } else if (c == '"') {
            in_string = true;
        }
        s[out++] = c;
    }
    if (out < len)
        s[out] = '\0';
    return out;
}
