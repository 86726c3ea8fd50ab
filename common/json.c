/* common/json.c - arena JSON tree built from yajl's streaming parser, and canonical output.
 *
 * Invariants:
 *  1. The parser keeps an explicit frame stack (no recursion); depth never exceeds max_depth.
 *  2. Containers grow by doubling inside the arena; the old copy is abandoned (bounded 2x waste).
 *  3. Only json_write_canonical recurses, and only over trees this parser built (depth-bounded).
 * Ownership: every allocation is in the caller's arena except the yajl handle and the frame stack,
 * which json_parse frees before returning. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

enum { JSON_INITIAL_CAP = 4 };

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
    struct json_value *root;
};

static void grow_array(struct parse_state *ps, struct frame *f)
{
    struct json_value *c = f->container;
    size_t cap = f->cap ? f->cap * 2 : JSON_INITIAL_CAP;
    struct json_value **items = arena_alloc(ps->a, cap * sizeof *items);

    if (c->u.array.n)
        memcpy(items, c->u.array.items, c->u.array.n * sizeof *items);
    c->u.array.items = items;
    f->cap = cap;
}

static void grow_object(struct parse_state *ps, struct frame *f)
{
    struct json_value *c = f->container;
    size_t cap = f->cap ? f->cap * 2 : JSON_INITIAL_CAP;
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
}

/* Attaches v to the innermost open container, or makes it the root. */
static void attach(struct parse_state *ps, struct json_value *v)
{
    if (ps->depth == 0) {
        ps->root = v;
        return;
    }
    struct frame *f = &ps->stack[ps->depth - 1];
    struct json_value *c = f->container;
    if (c->type == JSON_ARRAY) {
        if (c->u.array.n == f->cap)
            grow_array(ps, f);
        c->u.array.items[c->u.array.n++] = v;
    } else {
        if (c->u.object.n == f->cap)
            grow_object(ps, f);
        c->u.object.keys[c->u.object.n] = f->pending_key;
        c->u.object.key_lens[c->u.object.n] = f->pending_key_len;
        c->u.object.values[c->u.object.n++] = v;
    }
}

static struct json_value *new_value(struct parse_state *ps, enum json_type t)
{
    struct json_value *v = arena_zalloc(ps->a, sizeof *v);
    v->type = t;
    return v;
}

static int on_null(void *ctx)
{
    struct parse_state *ps = ctx;
    attach(ps, new_value(ps, JSON_NULL));
    return 1;
}

static int on_boolean(void *ctx, int b)
{
    struct parse_state *ps = ctx;
    struct json_value *v = new_value(ps, JSON_BOOL);
    v->u.boolean = b != 0;
    attach(ps, v);
    return 1;
}

static struct json_value *new_text(struct parse_state *ps, enum json_type t, const char *s, size_t len)
{
    struct json_value *v = new_value(ps, t);
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
    attach(ps, new_text(ps, JSON_NUMBER, s, len));
    return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct parse_state *ps = ctx;
    attach(ps, new_text(ps, JSON_STRING, (const char *)s, len));
    return 1;
}

static int open_container(struct parse_state *ps, enum json_type t)
{
    if (ps->depth >= ps->max_depth) {
        ps->too_deep = true;
        return 0;
    }
    struct json_value *v = new_value(ps, t);
    attach(ps, v);
    struct frame *f = &ps->stack[ps->depth++];
    f->container = v;
    f->cap = 0;
    f->pending_key = NULL;
    f->pending_key_len = 0;
    return 1;
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
    char *copy = arena_alloc(ps->a, len + 1);

    memcpy(copy, key, len);
    copy[len] = '\0';
    f->pending_key = copy;
    f->pending_key_len = len;
    return 1;
}

static int on_end_container(void *ctx)
{
    struct parse_state *ps = ctx;
    ps->depth--;
    return 1;
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

struct json_value *json_parse(struct arena *a, const char *buf, size_t len, int max_depth, struct err *e)
{
    struct parse_state ps = {.a = a, .max_depth = max_depth < JSON_MAX_DEPTH ? max_depth : JSON_MAX_DEPTH};
    yajl_handle h = NULL;
    struct json_value *result = NULL;

    if (len == 0) {
        err_set(e, ERR_BAD_INPUT, NULL, "request body is empty; expected a JSON document");
        return NULL;
    }
    ps.stack = calloc((size_t)ps.max_depth + 1, sizeof *ps.stack);
    h = yajl_alloc(&parse_callbacks, NULL, &ps);
    if (ps.stack == NULL || h == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory parsing JSON");
        goto out;
    }
    size_t offset = len; /* input that parsed but ended too early fails at its end */
    yajl_status st = yajl_parse(h, (const unsigned char *)buf, len);
    if (st != yajl_status_ok)
        offset = yajl_get_bytes_consumed(h);
    else
        st = yajl_complete_parse(h);
    if (ps.too_deep) {
        err_set(e, ERR_TOO_LARGE, NULL, "JSON nesting is deeper than the limit of %d levels", ps.max_depth);
        goto out;
    }
    if (st != yajl_status_ok || ps.root == NULL) {
        unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)buf, len);
        char line[160];
        first_line(line, sizeof line, msg);
        yajl_free_error(h, msg);
        err_set(e, ERR_BAD_INPUT, NULL, "malformed JSON at byte offset %zu of %zu: %s", offset, len, line);
        goto out;
    }
    result = ps.root;
out:
    if (h != NULL)
        yajl_free(h);
    free(ps.stack);
    return result;
}

const struct json_value *json_get(const struct json_value *v, const char *key)
{
    if (v == NULL || v->type != JSON_OBJECT)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = v->u.object.n; i > 0; i--) {
        if (v->u.object.key_lens[i - 1] == klen && memcmp(v->u.object.keys[i - 1], key, klen) == 0)
            return v->u.object.values[i - 1];
    }
    return NULL;
}

const char *json_as_string(const struct json_value *v)
{
    return v != NULL && v->type == JSON_STRING ? v->u.str.text : NULL;
}

const char *json_get_string(const struct json_value *v, const char *key)
{
    return json_as_string(json_get(v, key));
}

bool json_is_true(const struct json_value *v)
{
    return v != NULL && v->type == JSON_BOOL && v->u.boolean;
}

/* Compares object members i and j of o by key bytes (shorter prefix first). */
static int key_cmp(const struct json_value *o, size_t i, size_t j)
{
    size_t li = o->u.object.key_lens[i], lj = o->u.object.key_lens[j];
    int c = memcmp(o->u.object.keys[i], o->u.object.keys[j], li < lj ? li : lj);
    if (c != 0)
        return c;
    return li < lj ? -1 : li > lj;
}

/* Insertion sort of member indexes: objects in events are small, and this needs no allocation
 * context (qsort has no user pointer in C11). */
static void sort_members(const struct json_value *o, size_t *idx)
{
    size_t n = o->u.object.n;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 1; i < n; i++) {
        size_t x = idx[i], k = i;
        while (k > 0 && key_cmp(o, idx[k - 1], x) > 0) {
            idx[k] = idx[k - 1];
            k--;
        }
        idx[k] = x;
    }
}

static int write_value(yajl_gen g, const struct json_value *v, bool sorted);

static int write_object(yajl_gen g, const struct json_value *v, bool sorted)
{
    size_t n = v->u.object.n;
    size_t small[32];
    size_t *idx = n <= 32 ? small : malloc(n * sizeof *idx);
    int rc = 0;

    if (idx == NULL)
        return -1;
    if (sorted)
        sort_members(v, idx);
    else
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
    if (yajl_gen_map_open(g) != yajl_gen_status_ok)
        rc = -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t k = idx[i];
        if (yajl_gen_string(g, (const unsigned char *)v->u.object.keys[k], v->u.object.key_lens[k]) !=
                yajl_gen_status_ok ||
            write_value(g, v->u.object.values[k], sorted) != 0)
            rc = -1;
    }
    if (rc == 0 && yajl_gen_map_close(g) != yajl_gen_status_ok)
        rc = -1;
    if (idx != small)
        free(idx);
    return rc;
}

int json_write_canonical(yajl_gen g, const struct json_value *v)
{
    return write_value(g, v, true);
}

int json_write(yajl_gen g, const struct json_value *v)
{
    return write_value(g, v, false);
}

static int write_value(yajl_gen g, const struct json_value *v, bool sorted)
{
    yajl_gen_status st = yajl_gen_status_ok;

    switch (v->type) {
    case JSON_NULL:
        st = yajl_gen_null(g);
        break;
    case JSON_BOOL:
        st = yajl_gen_bool(g, v->u.boolean);
        break;
    case JSON_NUMBER:
        st = yajl_gen_number(g, v->u.str.text, v->u.str.len);
        break;
    case JSON_STRING:
        st = yajl_gen_string(g, (const unsigned char *)v->u.str.text, v->u.str.len);
        break;
    case JSON_ARRAY:
        st = yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.n && st == yajl_gen_status_ok; i++)
            if (write_value(g, v->u.array.items[i], sorted) != 0)
                return -1;
        if (st == yajl_gen_status_ok)
            st = yajl_gen_array_close(g);
        break;
    case JSON_OBJECT:
        return write_object(g, v, sorted);
    }
    return st == yajl_gen_status_ok ? 0 : -1;
}

yajl_gen json_gen_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        /* yajl_gen_alloc fails only when malloc does; the arena would abort in the same case. */
        abort();
    }
    return g;
}

char *json_gen_finish(yajl_gen g, struct arena *a, size_t *len_out)
{
    const unsigned char *buf;
    size_t len = 0;

    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
        len = 0;
    char *out = arena_strndup(a, len ? (const char *)buf : "", len);
    yajl_gen_free(g);
    if (len_out != NULL)
        *len_out = len;
    return out;
}

char *json_canonical(struct arena *a, const struct json_value *v, size_t *len_out)
{
    yajl_gen g = json_gen_new();
    /* Only depth can make yajl_gen refuse, and json_parse bounds depth below its limit: a failure is
     * a broken invariant, and writing anything else (say "null") would corrupt event hashes. */
    if (json_write_canonical(g, v) != 0) {
        fprintf(stderr, "lineaged: json_canonical: a parsed tree could not be written back\n");
        abort();
    }
    return json_gen_finish(g, a, len_out);
}

void json_gen_str(yajl_gen g, const char *s)
{
    if (s == NULL)
        yajl_gen_null(g);
    else
        yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void json_gen_key(yajl_gen g, const char *key)
{
    yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

void json_gen_int(yajl_gen g, long long v)
{
    yajl_gen_integer(g, v);
}
