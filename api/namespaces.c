/* api/namespaces.c - Marquez's namespace, source and tag routes.
 *
 *   GET    /api/v1/namespaces              {"namespaces":[Namespace]}   (limit, offset; no totalCount)
 *   GET    /api/v1/namespaces/{ns}         Namespace | 404
 *   PUT    /api/v1/namespaces/{ns}         body {ownerName, description?} -> Namespace
 *   DELETE /api/v1/namespaces/{ns}         soft delete (namespace, its datasets and jobs) -> Namespace
 *   GET    /api/v1/sources[/{source}]      {"sources":[Source]} | Source | 404
 *   GET    /api/v1/tags                    {"tags":[Tag]}
 *   PUT    /api/v1/tags/{tag}              body {description?} -> Tag
 * Invariants: namespace names created here follow Marquez's NamespaceName rule (letters, digits and
 * _ @ + - : = ; / . up to 1024 characters); names that events created are accepted everywhere else. */
#include "api_int.h"

#include <string.h>

#include "utf8.h"

enum { NAMESPACE_NAME_MAX = 1024 };

static bool namespace_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAMESPACE_NAME_MAX)
        return false;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr(":;=/_-.@+", c) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

int api_get_namespaces(struct req *r, struct reply *out, struct err *e)
{
    long limit, offset;
    const char *json;

    if (api_page(r, API_DEFAULT_LIMIT, &limit, &offset, e) != 0 ||
        store_read_namespaces(r->store, r->arena, limit, offset, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}

int api_get_namespace(struct req *r, struct reply *out, struct err *e)
{
    const char *json;

    if (store_read_namespace(r->store, r->arena, api_seg(r, 3), &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Namespace", api_seg(r, 3));
    return api_reply(out, json);
}

/* A string member, or NULL when absent or null; -1 with e set (422) when of another type. */
static int optional_string(const struct json_value *obj, const char *key, const char **out, struct err *e)
{
    const struct json_value *v = json_get(obj, key);

    *out = NULL;
    if (v == NULL || v->type == JSON_NULL)
        return 0;
    if (v->type != JSON_STRING)
        return err_set(e, ERR_INVALID, key, "must be a string");
    *out = v->u.str.text;
    return 0;
}

int api_put_namespace(struct req *r, struct reply *out, struct err *e)
{
    const char *name = api_seg(r, 3);
    const struct json_value *body;
    const char *owner, *description, *json;

    if (!namespace_name_ok(name))
        return err_set(
            e, ERR_BAD_INPUT, NULL,
            "namespace '%.*s' must contain only letters (a-z, A-Z), numbers (0-9), underscores (_), "
            "at (@), plus (+), dashes (-), colons (:), equals (=), semicolons (;), slashes (/) or "
            "dots (.) with a maximum length of %d characters.",
            utf8_prefix(name, 32), name, NAMESPACE_NAME_MAX);
    if (api_body_object(r, &body, e) != 0)
        return -1;
    if (body == NULL)
        return err_set(e, ERR_INVALID, NULL, "The request body may not be null");
    if (optional_string(body, "ownerName", &owner, e) != 0 ||
        optional_string(body, "description", &description, e) != 0)
        return -1;
    if (owner == NULL || owner[0] == '\0')
        return err_set(e, ERR_INVALID, "ownerName", "must not be null");
    if (store_edit_namespace_put(r->store, r->arena, name, owner, description, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}

int api_delete_namespace(struct req *r, struct reply *out, struct err *e)
{
    const char *json;

    if (store_edit_namespace_delete(r->store, r->arena, api_seg(r, 3), &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Namespace", api_seg(r, 3));
    return api_reply(out, json);
}

int api_get_sources(struct req *r, struct reply *out, struct err *e)
{
    long limit, offset;
    const char *json;

    if (api_page(r, API_DEFAULT_LIMIT, &limit, &offset, e) != 0 ||
        store_read_sources(r->store, r->arena, limit, offset, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}

int api_get_source(struct req *r, struct reply *out, struct err *e)
{
    const char *json;

    if (store_read_source(r->store, r->arena, api_seg(r, 3), &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Source", api_seg(r, 3));
    return api_reply(out, json);
}

int api_get_tags(struct req *r, struct reply *out, struct err *e)
{
    long limit, offset;
    const char *json;

    if (api_page(r, API_DEFAULT_LIMIT, &limit, &offset, e) != 0 ||
        store_read_tags(r->store, r->arena, limit, offset, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}

int api_put_tag(struct req *r, struct reply *out, struct err *e)
{
    const struct json_value *body;
    const char *description = NULL, *json;

    const char *tag = api_tag_name(r, 3, e);

    if (tag == NULL || api_body_object(r, &body, e) != 0)
        return -1;
    if (body != NULL && optional_string(body, "description", &description, e) != 0)
        return -1;
    if (store_edit_tag_put(r->store, r->arena, tag, description, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}
