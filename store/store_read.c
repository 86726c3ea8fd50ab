/* store/store_read.c - the helpers every read-query file uses (row copy, compact JSON), and the
 * catalog reads: namespaces, sources, tags.
 *
 * Invariants:
 *  1. Every PGresult made here is cleared here; callers get arena copies only.
 *  2. Compacting removes only whitespace outside JSON strings, so the text stays the JSON Postgres
 *     built, byte for byte inside every string.
 * Threads: one thread per struct store. */
#include "store_read_int.h"

/* Copies JSON text without the whitespace between tokens (json_build_object writes " : " and ", "). */
static const char *compact_json(struct arena *a, const char *text, size_t len)
{
    char *out = arena_alloc(a, len + 1);
    size_t n = 0;
    bool in_string = false, escaped = false;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            out[n++] = c;
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            out[n++] = c;
            in_string = c == '"';
        }
    }
    out[n] = '\0';
    return out;
}

/* Copies the first row of res (see store_read_row) and clears res. */
static void copy_row(struct arena *a, PGresult *res, const char **out, int n, unsigned json_mask, bool *found)
{
    bool have = PQntuples(res) > 0;
    for (int i = 0; i < n; i++) {
        out[i] = NULL;
        if (!have || i >= PQnfields(res) || PQgetisnull(res, 0, i))
            continue;
        const char *v = PQgetvalue(res, 0, i);
        size_t len = (size_t)PQgetlength(res, 0, i);
        out[i] = (json_mask & (1u << i)) ? compact_json(a, v, len) : arena_strndup(a, v, len);
    }
    if (found != NULL)
        *found = have;
    PQclear(res);
}

int store_read_json_planned(struct store *s, struct arena *a, const struct store_stmt *st,
                            const char *const *params, const char **json_out, struct err *e)
{
    PGresult *res = store_exec_planned(s, st, params, e);

    if (res == NULL)
        return -1;
    copy_row(a, res, json_out, 1, 1u, NULL);
    return 0;
}

int store_read_row(struct store *s, struct arena *a, const struct store_stmt *st, const char *const *params,
                   const char **out, int n, unsigned json_mask, bool *found, struct err *e)
{
    PGresult *res = store_exec(s, st, params, e);

    if (res == NULL)
        return -1;
    copy_row(a, res, out, n, json_mask, found);
    return 0;
}

int store_read_json(struct store *s, struct arena *a, const struct store_stmt *st, const char *const *params,
                    const char **json_out, struct err *e)
{
    return store_read_row(s, a, st, params, json_out, 1, 1u, NULL, e);
}

const char *store_read_long(struct arena *a, long v)
{
    return arena_printf(a, "%ld", v);
}

static const struct store_stmt NAMESPACES = {
    "read_namespaces",
    "SELECT json_build_object('namespaces', coalesce(json_agg(" STORE_SQL_NAMESPACE_JSON
    " ORDER BY n.name), '[]'))"
    " FROM (SELECT * FROM namespaces ORDER BY name LIMIT $1::bigint OFFSET $2::bigint) n",
    2};

static const struct store_stmt NAMESPACE = {
    "read_namespace", "SELECT " STORE_SQL_NAMESPACE_JSON " FROM namespaces n WHERE n.name = $1", 1};

static const struct store_stmt SOURCES = {
    "read_sources",
    "SELECT json_build_object('sources', coalesce(json_agg(" STORE_SQL_SOURCE_JSON
    " ORDER BY src.name), '[]'))"
    " FROM (SELECT * FROM sources ORDER BY name LIMIT $1::bigint OFFSET $2::bigint) src",
    2};

static const struct store_stmt SOURCE = {
    "read_source", "SELECT " STORE_SQL_SOURCE_JSON " FROM sources src WHERE src.name = $1", 1};

static const struct store_stmt TAGS = {
    "read_tags",
    "SELECT json_build_object('tags', coalesce(json_agg(json_build_object('name', t.name,"
    " 'description', t.description) ORDER BY t.name), '[]'))"
    " FROM (SELECT * FROM tags ORDER BY name LIMIT $1::bigint OFFSET $2::bigint) t",
    2};

static int read_page(struct store *s, struct arena *a, const struct store_stmt *st, long limit, long offset,
                     const char **json_out, struct err *e)
{
    const char *params[] = {store_read_long(a, limit), store_read_long(a, offset)};
    return store_read_json(s, a, st, params, json_out, e);
}

int store_read_namespaces(struct store *s, struct arena *a, long limit, long offset, const char **json_out,
                          struct err *e)
{
    return read_page(s, a, &NAMESPACES, limit, offset, json_out, e);
}

int store_read_namespace(struct store *s, struct arena *a, const char *name, const char **json_out,
                         struct err *e)
{
    const char *params[] = {name};
    return store_read_json(s, a, &NAMESPACE, params, json_out, e);
}

int store_read_sources(struct store *s, struct arena *a, long limit, long offset, const char **json_out,
                       struct err *e)
{
    return read_page(s, a, &SOURCES, limit, offset, json_out, e);
}

int store_read_source(struct store *s, struct arena *a, const char *name, const char **json_out,
                      struct err *e)
{
    const char *params[] = {name};
    return store_read_json(s, a, &SOURCE, params, json_out, e);
}

int store_read_tags(struct store *s, struct arena *a, long limit, long offset, const char **json_out,
                    struct err *e)
{
    return read_page(s, a, &TAGS, limit, offset, json_out, e);
}
