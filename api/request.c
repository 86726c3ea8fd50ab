/* api/request.c - what every Marquez route does with its request: parameters validated as Marquez
 * validates them, {namespace}/{name} path segments resolved (404 or 301), and replies.
 *
 * Invariants: see api_int.h. Everything allocated here lives in r->arena.
 * Threads: no shared state. */
#include "api_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"

enum { API_BODY_MAX_DEPTH = 32 };

const char *api_seg(const struct req *r, size_t i)
{
    return i < r->n_segments ? r->segments[i] : "";
}

const char *api_tag_name(const struct req *r, size_t i, struct err *e)
{
    const char *tag = api_seg(r, i);
    size_t len = strlen(tag);

    if (len > (size_t)r->cfg->max_name_bytes) {
        err_set(e, ERR_INVALID, "tag", "is %zu bytes long; the limit is %d bytes (--max-name-bytes)", len,
                r->cfg->max_name_bytes);
        return NULL;
    }
    return tag;
}

int api_page(const struct req *r, long def_limit, long *limit, long *offset, struct err *e)
{
    if (http_param_int(r, "limit", def_limit, 0, INT_MAX, limit, e) != 0)
        return -1;
    return http_param_int(r, "offset", 0, 0, INT_MAX, offset, e);
}

/* Dropwizard's fuzzy enum match: case-insensitive, '-' and '.' count as '_'. */
static bool enum_equal(const char *value, const char *name)
{
    for (; *value != '\0' && *name != '\0'; value++, name++) {
        char c = (*value == '-' || *value == '.') ? '_' : *value;
        if (toupper((unsigned char)c) != toupper((unsigned char)*name))
            return false;
    }
    return *value == '\0' && *name == '\0';
}

int api_enum(const char *name, const char *value, const char *const *names, size_t n, int *out, struct err *e)
{
    char list[ERR_MSG_MAX] = "";

    for (size_t i = 0; i < n; i++) {
        if (enum_equal(value, names[i])) {
            *out = (int)i;
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    return err_set(e, ERR_BAD_INPUT, name, "query param %s must be one of [%s]", name, list);
}

int api_param_enum(const struct req *r, const char *name, const char *const *names, size_t n, int def,
                   int *out, struct err *e)
{
    const char *v = http_param(r, name);

    if (v == NULL || *v == '\0') {
        *out = def;
        return 0;
    }
    return api_enum(name, v, names, n, out, e);
}

int api_param_enum_list(struct req *r, const char *name, const char *const *names, size_t n, bool commas,
                        const char **json_out, struct err *e)
{
    bool *seen = arena_zalloc(r->arena, (n + 1) * sizeof *seen);
    size_t count = 0;

    *json_out = NULL;
    for (size_t i = 0; i < r->n_params; i++) {
        if (strcmp(r->params[i].name, name) != 0 || r->params[i].value[0] == '\0')
            continue;
        for (const char *p = r->params[i].value;; p++) { /* every item, empty ones too (refused) */
            const char *comma = commas ? strchr(p, ',') : NULL;
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            int k;
            if (api_enum(name, arena_strndup(r->arena, p, len), names, n, &k, e) != 0)
                return -1;
            count += !seen[k];
            seen[k] = true;
            if (comma == NULL)
                break;
            p = comma;
        }
    }
    if (count == 0)
        return 0;
    yajl_gen g = json_gen_new();
    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++)
        if (seen[k])
            json_gen_str(g, names[k]);
    yajl_gen_array_close(g);
    *json_out = json_gen_finish(g, r->arena, NULL);
    return 0;
}

int api_not_found(struct err *e, const char *what, const char *name)
{
    return err_set(e, ERR_NOT_FOUND, NULL, "%s '%s' not found.", what, name);
}

int api_reply(struct reply *out, const char *json)
{
    http_reply_json(out, 200, json, strlen(json));
    return 0;
}

int api_dataset_id(struct req *r, size_t ns_i, size_t name_i, const char **id, struct err *e)
{
    struct store_ref ref;

    if (store_read_dataset_ref(r->store, r->arena, api_seg(r, ns_i), api_seg(r, name_i), &ref, e) != 0)
        return -1;
    if (!ref.namespace_found)
        return api_not_found(e, "Namespace", api_seg(r, ns_i));
    if (ref.id == NULL)
        return api_not_found(e, "Dataset", api_seg(r, name_i));
    *id = ref.id;
    return 0;
}

/* Appends s percent-encoded as one path segment (only RFC 3986 unreserved characters stay). */
static void append_segment(char *out, size_t *n, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    out[(*n)++] = '/';
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out[(*n)++] = (char)c;
        } else {
            out[(*n)++] = '%';
            out[(*n)++] = hex[c >> 4];
            out[(*n)++] = hex[c & 15];
        }
    }
}

/* The request's path with segments ns_i and name_i replaced, every segment re-encoded. */
static const char *redirect_path(const struct req *r, size_t ns_i, size_t name_i, const char *ns,
                                 const char *name)
{
    size_t cap = 1;
    for (size_t i = 0; i < r->n_segments; i++) {
        const char *seg = i == ns_i ? ns : i == name_i ? name : r->segments[i];
        cap += 1 + 3 * strlen(seg);
    }
    char *out = arena_alloc(r->arena, cap);
    size_t n = 0;
    for (size_t i = 0; i < r->n_segments; i++)
        append_segment(out, &n, i == ns_i ? ns : i == name_i ? name : r->segments[i]);
    out[n] = '\0';
    return out;
}

int api_job_id(struct req *r, struct reply *out, size_t ns_i, size_t name_i, const char **id, struct err *e)
{
    struct store_ref ref;

    *id = NULL;
    if (store_read_job_ref(r->store, r->arena, api_seg(r, ns_i), api_seg(r, name_i), &ref, e) != 0)
        return -1;
    if (!ref.namespace_found)
        return api_not_found(e, "Namespace", api_seg(r, ns_i));
    if (ref.id == NULL)
        return api_not_found(e, "Job", api_seg(r, name_i));
    if (ref.target_name != NULL) {
        out->status = 301;
        out->location = redirect_path(r, ns_i, name_i, ref.target_namespace, ref.target_name);
        return 0;
    }
    *id = ref.id;
    return 0;
}

int api_body_object(struct req *r, const struct json_value **obj, struct err *e)
{
    const char *p = r->body;
    size_t len = r->body_len;

    *obj = NULL;
    while (len > 0 && isspace((unsigned char)*p)) {
        p++;
        len--;
    }
    if (len == 0)
        return 0;
    const struct json_value *v = json_parse(r->arena, p, len, API_BODY_MAX_DEPTH, e);
    if (v == NULL)
        return -1;
    if (v->type == JSON_NULL)
        return 0;
    if (v->type != JSON_OBJECT)
        return err_set(e, ERR_BAD_INPUT, NULL, "the request body must be a JSON object");
    *obj = v;
    return 0;
}
