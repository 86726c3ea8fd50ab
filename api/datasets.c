/* api/datasets.c - Marquez's dataset routes (segments: api v1 namespaces {ns}=3 datasets {dataset}=5 ...).
 *
 *   GET    .../datasets                         {"totalCount":N,"datasets":[Dataset]}  (limit, offset)
 *   GET    .../datasets/{dataset}               Dataset (with columnLineage)
 *   DELETE .../datasets/{dataset}               soft delete -> Dataset as it was
 *   GET    .../datasets/{dataset}/versions      {"versions":[DatasetVersion],"totalCount":N}
 *   GET    .../datasets/{dataset}/versions/{v}  DatasetVersion ({v}: its UUID, or the version its producer named)
 *   POST|DELETE .../datasets/{dataset}/tags/{tag}                 -> Dataset
 *   POST|DELETE .../datasets/{dataset}/fields/{field}/tags/{tag}  -> Dataset (tag upper-cased, as Marquez)
 * Invariants: the namespace is checked before the dataset, so a missing namespace answers
 * "Namespace 'x' not found." whatever the dataset. */
#include "api_int.h"
#include "uuid.h"

#include <ctype.h>

enum { SEG_NS = 3, SEG_DATASET = 5, SEG_VERSION = 7, SEG_TAG = 7, SEG_FIELD = 7, SEG_FIELD_TAG = 9 };

int api_get_datasets(struct req *r, struct reply *out, struct err *e)
{
    long limit, offset;
    const char *json;

    if (api_page(r, API_DEFAULT_LIMIT, &limit, &offset, e) != 0 ||
        store_read_datasets(r->store, r->arena, api_seg(r, SEG_NS), limit, offset, &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Namespace", api_seg(r, SEG_NS));
    return api_reply(out, json);
}

/* Replies the dataset (after an edit, or for GET). */
static int reply_dataset(struct req *r, struct reply *out, const char *id, bool column_lineage, struct err *e)
{
    const char *json;

    if (store_read_dataset(r->store, r->arena, id, column_lineage, &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Dataset", api_seg(r, SEG_DATASET));
    return api_reply(out, json);
}

int api_get_dataset(struct req *r, struct reply *out, struct err *e)
{
    const char *id;

    if (api_dataset_id(r, SEG_NS, SEG_DATASET, &id, e) != 0)
        return -1;
    return reply_dataset(r, out, id, true, e);
}

int api_delete_dataset(struct req *r, struct reply *out, struct err *e)
{
    const char *id, *json;

    if (api_dataset_id(r, SEG_NS, SEG_DATASET, &id, e) != 0 ||
        store_edit_dataset_delete(r->store, r->arena, id, &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Dataset", api_seg(r, SEG_DATASET));
    return api_reply(out, json);
}

int api_get_dataset_versions(struct req *r, struct reply *out, struct err *e)
{
    long limit, offset;
    const char *id, *json;

    if (api_page(r, API_DEFAULT_LIMIT, &limit, &offset, e) != 0 ||
        api_dataset_id(r, SEG_NS, SEG_DATASET, &id, e) != 0 ||
        store_read_dataset_versions(r->store, r->arena, id, limit, offset, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}

int api_get_dataset_version(struct req *r, struct reply *out, struct err *e)
{
    const char *version = api_seg(r, SEG_VERSION);
    const char *id, *json = NULL;

    if (api_dataset_id(r, SEG_NS, SEG_DATASET, &id, e) != 0)
        return -1;
    if (store_read_dataset_version(r->store, r->arena, id, version, &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Dataset version", version);
    return api_reply(out, json);
}

static int dataset_tag(struct req *r, struct reply *out, bool add, struct err *e)
{
    const char *id, *tag = api_tag_name(r, SEG_TAG, e);
    bool found;

    if (tag == NULL || api_dataset_id(r, SEG_NS, SEG_DATASET, &id, e) != 0 ||
        store_edit_dataset_tag(r->store, id, NULL, tag, add, &found, e) != 0)
        return -1;
    return reply_dataset(r, out, id, false, e);
}

int api_post_dataset_tag(struct req *r, struct reply *out, struct err *e)
{
    return dataset_tag(r, out, true, e);
}

int api_delete_dataset_tag(struct req *r, struct reply *out, struct err *e)
{
    return dataset_tag(r, out, false, e);
}

/* Marquez upper-cases field tags (toUpperCase(Locale.getDefault())); ASCII letters here. */
static const char *upper(struct arena *a, const char *s)
{
    char *u = arena_strdup(a, s);
    for (char *p = u; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
    return u;
}

static int field_tag(struct req *r, struct reply *out, bool add, struct err *e)
{
    const char *field = api_seg(r, SEG_FIELD);
    const char *id, *tag = api_tag_name(r, SEG_FIELD_TAG, e);
    bool found;

    if (tag == NULL || api_dataset_id(r, SEG_NS, SEG_DATASET, &id, e) != 0 ||
        store_edit_dataset_tag(r->store, id, field, upper(r->arena, tag), add, &found, e) != 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, NULL, "Field '%s' not found for dataset '%s'.", field,
                       api_seg(r, SEG_DATASET));
    return reply_dataset(r, out, id, false, e);
}

int api_post_field_tag(struct req *r, struct reply *out, struct err *e)
{
    return field_tag(r, out, true, e);
}

int api_delete_field_tag(struct req *r, struct reply *out, struct err *e)
{
    return field_tag(r, out, false, e);
}
