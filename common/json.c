/* common/json.c - lookups in parsed JSON trees, and output through yajl_gen (canonical or as parsed).
 *
 * Invariants:
 *  1. Only json_write_canonical/json_write recurse, and only over trees json_parse built, whose depth
 *     is bounded (common/json_parse.c).
 * Ownership: output goes to the caller's arena; the yajl_gen handles are freed here. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
