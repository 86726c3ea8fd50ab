/* common/json_parse.c - arena JSON tree built from yajl's streaming parser; the door where every
 * string and key of a request body is checked for text lineaged can store.
 *
 * yajl 2.1 (strings validated) still lets through overlong forms (C0 AF), UTF-8-encoded surrogates
 * (ED A0 80), code points above U+10FFFF (F4 90 80 80, F5..F7), \u0000, and lone surrogate escapes:
 * it turns a lone high surrogate into '?', a lone low one into ED B0 80, and a high one followed by a
 * non-surrogate escape into a wrong character. So each string and key is checked as it arrives:
 * its \u escapes on the raw token (surrogates must pair, no \u0000), then the decoded bytes with
 * utf8_check. A failure stops the parse and names the JSON path ("[2].job.name") and byte offset.
 *
 * Invariants:
 *  1. The parser keeps an explicit frame stack (no recursion); depth never exceeds max_depth.
 *  2. Containers grow by doubling inside the arena; the old copy is abandoned (bounded 2x waste).
 *  3. Every string in a returned tree is strict UTF-8 without NUL bytes (utf8.h).
 *  4. The whole input goes to yajl in one chunk, so a string token lies in the input buffer between
 *     the end of the previous token (prev_end) and the current parse offset; raw_string finds it.
 *  5. Every allocation is first asked of the arena's budgets (budget_allows; arena.h), and the parse
 *     stops at the first one refused, so a document whose tree outgrows its text (millions of small
 *     numbers) costs at most the budget, counted in bytes of the tree, and no single allocation (a long
 *     string, a doubled array) can jump past it.
 * Ownership: every allocation is in the caller's arena except the yajl handle and the frame stack,
 * which json_parse frees before returning. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "utf8.h"

enum { JSON_INITIAL_CAP = 4, JSON_PATH_KEY_MAX = 48, JSON_PATH_BUF = 512 };

struct frame {
    struct json_value *container;
    size_t cap;
    const char *pending_key; /* objects: the key read, waiting for its value */
    size_t pending_key_len;
};

struct parse_state {
    struct arena *a;
    struct frame *stack;
    int depth;
    int max_depth;
    bool too_deep;
    bool refused; /* a string failed its check, or a budget refused memory; *e says why */
    struct err *e;
    yajl_handle h;
    const char *raw; /* the input, while it is the chunk being parsed; NULL after */
    size_t raw_len;
    size_t prev_end; /* parse offset after the previous token */
    struct json_value *root;
};

/* Whether n more bytes fit the arena's budgets (invariant 5); once they do not, the parse stops with
 * *e saying which: 413 for the request's own limit, a retryable 503 for the shared one. */
static bool budget_allows(struct parse_state *ps, size_t n)
{
    if (!ps->refused && arena_budget_check(ps->a, n, ps->e) != 0)
        ps->refused = true;
    return !ps->refused;
}

static bool grow_array(struct parse_state *ps, struct frame *f)
{
    struct json_value *c = f->container;
    size_t cap = f->cap ? f->cap * 2 : JSON_INITIAL_CAP;

    if (!budget_allows(ps, cap * sizeof *c->u.array.items))
        return false;
    struct json_value **items = arena_alloc(ps->a, cap * sizeof *items);
    if (c->u.array.n)
        memcpy(items, c->u.array.items, c->u.array.n * sizeof *items);
    c->u.array.items = items;
    f->cap = cap;
    return true;
}

static bool grow_object(struct parse_state *ps, struct frame *f)
{
    struct json_value *c = f->container;
    size_t cap = f->cap ? f->cap * 2 : JSON_INITIAL_CAP;

    if (!budget_allows(ps, cap * (sizeof *c->u.object.keys + sizeof *c->u.object.key_lens +
                                  sizeof *c->u.object.values)))
        return false;
    const char **keys = arena_alloc(ps->a, cap * sizeof *keys);
    size_t *lens = arena_alloc(ps->a, cap * sizeof *lens);
    struct json_value **values = arena_alloc(ps->a, cap * sizeof *values);
    size_t n = c->u.object.n;

    if (n) {
        memcpy(keys, c->u.object.keys, n * sizeof *keys);
        memcpy(lens, c->u.object.key_lens, n * sizeof *lens);
        memcpy(values, c->u.object.values, n * sizeof *values);
    }
    c->u.object.keys = keys;
    c->u.object.key_lens = lens;
    c->u.object.values = values;
    f->cap = cap;
    return true;
}

/* Attaches v (NULL: a budget refused it) to the innermost open container, or makes it the root.
 * Returns false when the parse must stop (over a budget). */
static bool attach(struct parse_state *ps, struct json_value *v)
{
    if (v == NULL)
        return false;
    if (ps->depth == 0) {
        ps->root = v;
        return true;
    }
    struct frame *f = &ps->stack[ps->depth - 1];
    struct json_value *c = f->container;
    if (c->type == JSON_ARRAY) {
        if (c->u.array.n == f->cap && !grow_array(ps, f))
            return false;
        c->u.array.items[c->u.array.n++] = v;
    } else {
        if (c->u.object.n == f->cap && !grow_object(ps, f))
            return false;
        c->u.object.keys[c->u.object.n] = f->pending_key;
        c->u.object.key_lens[c->u.object.n] = f->pending_key_len;
        c->u.object.values[c->u.object.n++] = v;
    }
    return true;
}

/* Records where the token just read ends; every callback calls it last (invariant 4). */
static int token_done(struct parse_state *ps)
{
    ps->prev_end = yajl_get_bytes_consumed(ps->h);
    return 1;
}

/* Appends one path step to buf[*n..cap): "[3]" or ".key" ("key" at the start), long keys shortened. */
static void path_step(char *buf, size_t *n, size_t cap, const struct json_value *c, size_t index,
                      const char *key, size_t key_len)
{
    int w;

    if (c->type == JSON_ARRAY) {
        w = snprintf(buf + *n, cap - *n, "[%zu]", index);
    } else {
        size_t shown = key_len > JSON_PATH_KEY_MAX ? utf8_cut(key, JSON_PATH_KEY_MAX - 3) : key_len;
        w = snprintf(buf + *n, cap - *n, "%s%.*s%s", *n ? "." : "", (int)shown, key,
                     shown < key_len ? "..." : "");
    }
    if (w > 0)
        *n = *n + (size_t)w < cap ? *n + (size_t)w : cap - 1;
}

/* The JSON path of the value being read (of_key false) or of the object whose key is being read,
 * into out[ERR_WHERE_MAX]; when too long, its end is kept behind "...". */
static void current_path(const struct parse_state *ps, bool of_key, char *out)
{
    char buf[JSON_PATH_BUF];
    size_t n = 0;
    int levels = of_key ? ps->depth - 1 : ps->depth;

    buf[0] = '\0';
    for (int i = 0; i < levels; i++) {
        const struct frame *f = &ps->stack[i];
        const struct json_value *c = f->container;
        bool top = i == ps->depth - 1; /* the value is being added to this one */
        if (c->type == JSON_ARRAY)
            path_step(buf, &n, sizeof buf, c, top ? c->u.array.n : c->u.array.n - 1, NULL, 0);
        else if (top)
            path_step(buf, &n, sizeof buf, c, 0, f->pending_key, f->pending_key_len);
        else
            path_step(buf, &n, sizeof buf, c, 0, c->u.object.keys[c->u.object.n - 1],
                      c->u.object.key_lens[c->u.object.n - 1]);
    }
    size_t from = 0;
    if (n >= ERR_WHERE_MAX) {
        from = n - (ERR_WHERE_MAX - 4);
        while (((unsigned char)buf[from] & 0xC0) == 0x80)
            from++;
    }
    snprintf(out, ERR_WHERE_MAX, "%s%s", from ? "..." : "", buf + from);
}

/* The raw text between the quotes of the string token that ends at the current parse offset, or
 * false if it is not in the input (only a token split over chunks could be elsewhere). */
static bool raw_string(const struct parse_state *ps, const char **start, size_t *len)
{
    size_t end = yajl_get_bytes_consumed(ps->h);

    if (ps->raw == NULL || end > ps->raw_len || end < ps->prev_end + 2 || ps->raw[end - 1] != '"')
        return false;
    const char *q = memchr(ps->raw + ps->prev_end, '"', end - 1 - ps->prev_end);
    if (q == NULL)
        return false;
    *start = q + 1;
    *len = (size_t)(ps->raw + end - 1 - *start);
    return true;
}

static unsigned hex4(const char *s)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v = v * 16 + (unsigned)(c >= '0' && c <= '9'   ? c - '0'
                                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                       : c - 'A' + 10);
    }
    return v;
}

/* Scans the \u escapes of a raw string token (yajl checked their syntax: four hex digits follow).
 * Returns -1 when all are fine; else the offending code unit (a lone surrogate, or 0 for \u0000 with
 * *nul set), whose offset in s goes to *at. */
static long bad_escape(const char *s, size_t len, size_t *at, bool *nul)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\')
            continue;
        if (i + 5 >= len || s[i + 1] != 'u') {
            i++; /* a one-character escape such as \" or \\ */
            continue;
        }
        unsigned cp = hex4(s + i + 2);
        *at = i;
        if (cp == 0) {
            *nul = true;
            return 0;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return (long)cp;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 11 >= len || s[i + 6] != '\\' || s[i + 7] != 'u')
                return (long)cp;
            unsigned low = hex4(s + i + 8);
            if (low < 0xDC00 || low > 0xDFFF)
                return (long)cp;
            i += 6;
        }
        i += 5;
    }
    return -1;
}

/* The 422 text for \u0000, said after the path when there is one: "job.name must not contain ...". */
static const char *nul_message(bool is_key, bool has_path)
{
    if (is_key)
        return has_path ? "has an object key containing \\u0000 (NUL), which cannot be stored"
                        : "an object key contains \\u0000 (NUL), which cannot be stored";
    return has_path ? "must not contain \\u0000 (NUL)" : "the string must not contain \\u0000 (NUL)";
}

/* Refuses the string or key s[0..len) just read unless it is storable text (invariant 3). */
static int check_text(struct parse_state *ps, const unsigned char *s, size_t len, bool is_key)
{
    const char *raw = NULL;
    size_t raw_len = 0, at = 0, token_at;
    bool nul = false;
    char where[ERR_WHERE_MAX], place[ERR_WHERE_MAX + 32];
    long cp = -1;
    enum utf8_problem p = UTF8_OK;

    if (raw_string(ps, &raw, &raw_len) && memchr(raw, '\\', raw_len) != NULL)
        cp = bad_escape(raw, raw_len, &at, &nul);
    if (cp < 0 && !nul && (p = utf8_check((const char *)s, len, &at)) == UTF8_OK && memchr(s, 0, len) == NULL)
        return 1;
    token_at = raw != NULL ? (size_t)(raw - ps->raw) : yajl_get_bytes_consumed(ps->h);
    current_path(ps, is_key, where);
    if (where[0] == '\0')
        snprintf(place, sizeof place, "%s",
                 is_key ? "an object key at the top level" : "the top-level string");
    else
        snprintf(place, sizeof place, "%s %s", is_key ? "an object key in" : "the string at", where);
    ps->refused = true;
    if (nul || (cp < 0 && p == UTF8_OK))
        err_set(ps->e, ERR_INVALID, where, "%s", nul_message(is_key, where[0] != '\0'));
    else if (cp >= 0)
        err_set(ps->e, ERR_BAD_INPUT, where,
                "lone UTF-16 surrogate \\u%04lx in %s (byte offset %zu): characters above U+FFFF are "
                "written as a surrogate pair",
                (unsigned long)cp, place, token_at + at);
    else
        err_set(ps->e, ERR_BAD_INPUT, where, "invalid UTF-8 in %s (byte offset %zu): %s", place,
                raw != NULL && memchr(raw, '\\', raw_len) == NULL ? token_at + at : token_at,
                utf8_problem_text(p));
    return 0;
}

/* A zeroed value of type t, or NULL when the budgets refuse it together with the extra bytes the
 * caller allocates next for it. One check for both: the in-flight total other requests share moves
 * between two checks, so a second one could refuse after the first passed. */
static struct json_value *new_value(struct parse_state *ps, enum json_type t, size_t extra)
{
    if (!budget_allows(ps, sizeof(struct json_value) + extra))
        return NULL;
    struct json_value *v = arena_zalloc(ps->a, sizeof *v);
    v->type = t;
    return v;
}

static int on_null(void *ctx)
{
    struct parse_state *ps = ctx;
    if (!attach(ps, new_value(ps, JSON_NULL, 0)))
        return 0;
    return token_done(ps);
}

static int on_boolean(void *ctx, int b)
{
    struct parse_state *ps = ctx;
    struct json_value *v = new_value(ps, JSON_BOOL, 0);
    if (v != NULL)
        v->u.boolean = b != 0;
    if (!attach(ps, v))
        return 0;
    return token_done(ps);
}

/* A number or string value with a NUL-terminated copy of s, or NULL when the budgets refuse it. */
static struct json_value *new_text(struct parse_state *ps, enum json_type t, const char *s, size_t len)
{
    struct json_value *v = new_value(ps, t, len + 1);
    if (v == NULL)
        return NULL;
    char *copy = arena_alloc(ps->a, len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    v->u.str.text = copy;
    v->u.str.len = len;
    return v;
}

static int on_number(void *ctx, const char *s, size_t len)
{
    struct parse_state *ps = ctx;
    if (!attach(ps, new_text(ps, JSON_NUMBER, s, len)))
        return 0;
    return token_done(ps);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct parse_state *ps = ctx;
    if (!check_text(ps, s, len, false) || !attach(ps, new_text(ps, JSON_STRING, (const char *)s, len)))
        return 0;
    return token_done(ps);
}

static int open_container(struct parse_state *ps, enum json_type t)
{
    if (ps->depth >= ps->max_depth) {
        ps->too_deep = true;
        return 0;
    }
    struct json_value *v = new_value(ps, t, 0);
    if (!attach(ps, v))
        return 0;
    struct frame *f = &ps->stack[ps->depth++];
    f->container = v;
    f->cap = 0;
    f->pending_key = NULL;
    f->pending_key_len = 0;
    return token_done(ps);
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, JSON_OBJECT);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, JSON_ARRAY);
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    struct parse_state *ps = ctx;
    struct frame *f = &ps->stack[ps->depth - 1];

    if (!check_text(ps, key, len, true) || !budget_allows(ps, len + 1))
        return 0;
    char *copy = arena_alloc(ps->a, len + 1);
    memcpy(copy, key, len);
    copy[len] = '\0';
    f->pending_key = copy;
    f->pending_key_len = len;
    return token_done(ps);
}

static int on_end_container(void *ctx)
{
    struct parse_state *ps = ctx;
    ps->depth--;
    return token_done(ps);
}

static const yajl_callbacks parse_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_container,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_container,
};

/* Turns yajl's multi-line message into one line: "lexical error: invalid char in json text". */
static void first_line(char *dst, size_t cap, const unsigned char *src)
{
    size_t n = 0;
    while (src != NULL && src[n] != '\0' && src[n] != '\n' && n + 1 < cap) {
        dst[n] = (char)src[n];
        n++;
    }
    while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '.'))
        n--;
    dst[n] = '\0';
}

/* Runs yajl over buf[0..len) in one chunk; returns its status and the offset where it stopped. */
static yajl_status run_yajl(struct parse_state *ps, const char *buf, size_t len, size_t *offset)
{
    yajl_status st;

    ps->raw = buf;
    ps->raw_len = len;
    *offset = len; /* input that parsed but ended too early fails at its end */
    st = yajl_parse(ps->h, (const unsigned char *)buf, len);
    ps->raw = NULL; /* yajl_complete_parse feeds its own chunk: offsets no longer point into buf */
    if (st != yajl_status_ok)
        *offset = yajl_get_bytes_consumed(ps->h);
    else
        st = yajl_complete_parse(ps->h);
    return st;
}

struct json_value *json_parse(struct arena *a, const char *buf, size_t len, int max_depth, struct err *e)
{
    struct parse_state ps = {
        .a = a, .e = e, .max_depth = max_depth < JSON_MAX_DEPTH ? max_depth : JSON_MAX_DEPTH};
    struct json_value *result = NULL;
    size_t offset;

    if (len == 0) {
        err_set(e, ERR_BAD_INPUT, NULL, "request body is empty; expected a JSON document");
        return NULL;
    }
    ps.stack = calloc((size_t)ps.max_depth + 1, sizeof *ps.stack);
    ps.h = yajl_alloc(&parse_callbacks, NULL, &ps);
    if (ps.stack == NULL || ps.h == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory parsing JSON");
        goto out;
    }
    yajl_status st = run_yajl(&ps, buf, len, &offset);
    if (ps.refused)
        goto out;
    if (ps.too_deep) {
        err_set(e, ERR_TOO_LARGE, NULL, "JSON nesting is deeper than the limit of %d levels", ps.max_depth);
        goto out;
    }
    if (st != yajl_status_ok || ps.root == NULL) {
        unsigned char *msg = yajl_get_error(ps.h, 0, (const unsigned char *)buf, len);
        char line[160];
        first_line(line, sizeof line, msg);
        yajl_free_error(ps.h, msg);
        err_set(e, ERR_BAD_INPUT, NULL, "malformed JSON at byte offset %zu of %zu: %s", offset, len, line);
        goto out;
    }
    result = ps.root;
out:
    if (ps.h != NULL)
        yajl_free(ps.h);
    free(ps.stack);
    return result;
}
