/* collector/decode_dataset.c - one dataset of an event: identity, the facets the model reads
 * (dataSource, documentation, lifecycleStateChange, schema, symlinks, columnLineage) and its version.
 *
 * Invariants:
 *  1. Facets are kept whole (opaque JSON); only the members the model needs are read out of them.
 *  2. Versions follow Marquez (Utils.newDatasetVersionFor): UUIDv3 of
 *     "namespace:source:name:physicalName:<fields>:<lifecycleState or ''>[:runId]", where <fields>
 *     joins each distinct (name, TYPE, description) in sorted order with ':' (null parts skipped).
 *     The run id makes every run's appearance a new version; DatasetEvents have none. An input's
 *     own version is not used: which version an input read is the store's decision, by event time
 *     (migrations/0009_order_independent_model.sql).
 *     Unless the producer names the version (datasetVersion of the input or output facet `version`,
 *     else of the dataset facet `version`: a Delta/Iceberg snapshot, a DVC md5): then it is that data,
 *     whoever writes or reads it, and its UUID is UUIDv3 of "namespace:name:<datasetVersion>", the
 *     same for the run that wrote it and for every run that read it, in any order.
 *  3. Column lineage is kept as Marquez keeps it (OpenLineageDao.upsertColumnLineage): on outputs only,
 *     from fields of datasets among the same event's inputs. When the event sends that input's (or
 *     the output's) schema, the field must be in it; without one, the field is taken as sent (a check
 *     against schemas stored earlier would make the answer depend on arrival order). A field of a
 *     dataset that is not an input is dropped: a column-lineage reference never creates a dataset.
 *     The columnLineage facet itself is stored whole either way.
 *  4. transformationDescription/Type (deprecated) are read from the output column; when it has none,
 *     from the input field's first `transformations` entry: its description (unless empty), its
 *     subtype (or else its type).
 *  5. Datasets with equal dataSource.uri are one dataset, as in Feast's lineage, when the URI names
 *     data rather than a database or bucket: the dataset carries a Feast facet (feast_*: Feast puts a
 *     data source's path or table there), or its name is a whole part of the URI ("raw/customers" in
 *     "s3://lake/raw/customers.parquet"), and the URI is not its namespace. Other producers send the
 *     source there (Spark "file", dbt "postgres://postgres:5432"): joining those would merge every
 *     table of a database. The join is one more symlink, to the name (DECODE_URI_JOIN_NAMESPACE, URI),
 *     so the store, the graph, the follower and a reload treat it as any symlink: two datasets that
 *     declare the same name are one group, in any order. Decided from this appearance alone, with a
 *     fixed length bound (not --max-name-bytes), so every collector decodes the same join. */
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "uuid.h"

/* The namespace of the names that dataSource URIs join (invariant 5), and the longest URI joined: a
 * symlink name is an index key (dataset_symlinks). */
static const char DECODE_URI_JOIN_NAMESPACE[] = "dataSource.uri";
static const char DECODE_URI_JOIN_TYPE[] = "DATASOURCE_URI";
enum { DECODE_URI_JOIN_MAX_BYTES = 1024 };

static void decode_schema(struct dctx *d, const struct json_value *schema, const char *path,
                          struct ol_dataset *out)
{
    const struct json_value *fields = json_get(schema, "fields");

    if (schema == NULL || schema->type != JSON_OBJECT || fields == NULL || fields->type == JSON_NULL)
        return;
    if (fields->type != JSON_ARRAY) {
        dctx_violate(d, dctx_path(d, path, "fields"), "must be an array");
        return;
    }
    out->has_schema = true;
    out->fields = arena_zalloc(d->a, (fields->u.array.n + 1) * sizeof *out->fields);
    for (size_t i = 0; i < fields->u.array.n; i++) {
        const struct json_value *f = fields->u.array.items[i];
        const char *fp = arena_printf(d->a, "%s.fields[%zu]", path, i);
        const char *name = dctx_required_limited(d, f, "name", fp, DCTX_KEY);
        if (name == NULL)
            continue;
        struct ol_field *o = &out->fields[out->n_fields++];
        o->name = name;
        o->type = dctx_optional_string(d, f, "type", fp);
        o->description = dctx_optional_string(d, f, "description", fp);
    }
}

static void decode_symlinks(struct dctx *d, const struct json_value *sym, const char *path,
                            struct ol_dataset *out)
{
    const struct json_value *ids = json_get(sym, "identifiers");

    if (ids == NULL || ids->type != JSON_ARRAY)
        return;
    out->symlinks = arena_zalloc(d->a, (ids->u.array.n + 1) * sizeof *out->symlinks);
    for (size_t i = 0; i < ids->u.array.n; i++) {
        const char *ip = arena_printf(d->a, "%s.identifiers[%zu]", path, i);
        const struct json_value *id = ids->u.array.items[i];
        const char *ns = dctx_required_limited(d, id, "namespace", ip, DCTX_NAME);
        const char *name = dctx_required_limited(d, id, "name", ip, DCTX_NAME);
        if (ns == NULL || name == NULL)
            continue;
        struct ol_symlink *o = &out->symlinks[out->n_symlinks++];
        o->namespace = ns;
        o->name = name;
        o->type = dctx_optional_string(d, id, "type", ip);
    }
}

/* Appends one input field entry (namespace, name, field, transformations) as a column edge. */
static void add_column_input(struct dctx *d, const struct json_value *in, const char *path,
                             const char *output_field, const struct json_value *legacy, struct ol_dataset *out)
{
    const char *ns = dctx_required_limited(d, in, "namespace", path, DCTX_NAME);
    const char *name = dctx_required_limited(d, in, "name", path, DCTX_NAME);
    const char *field = dctx_required_limited(d, in, "field", path, DCTX_KEY);
    const struct json_value *tr = json_get(in, "transformations");

    if (ns == NULL || name == NULL || field == NULL)
        return;
    struct ol_column_edge *c = &out->columns[out->n_columns++];
    c->output_field = output_field;
    c->input_namespace = ns;
    c->input_name = name;
    c->input_field = field;
    c->transformation_description = json_get_string(legacy, "transformationDescription");
    c->transformation_type = json_get_string(legacy, "transformationType");
    c->transformations = tr != NULL && tr->type == JSON_ARRAY ? tr : NULL;
    if (c->transformations != NULL && c->transformations->u.array.n > 0) { /* invariant 4 */
        const struct json_value *first = c->transformations->u.array.items[0];
        const char *sub = json_get_string(first, "subtype"), *desc = json_get_string(first, "description");
        if (c->transformation_description == NULL && desc != NULL && *desc != '\0')
            c->transformation_description = desc;
        if (c->transformation_type == NULL)
            c->transformation_type = sub != NULL ? sub : json_get_string(first, "type");
    }
}

static size_t count_column_inputs(const struct json_value *fields, const struct json_value *dataset)
{
    size_t n = dataset != NULL && dataset->type == JSON_ARRAY ? dataset->u.array.n : 0;

    for (size_t i = 0; fields != NULL && fields->type == JSON_OBJECT && i < fields->u.object.n; i++) {
        const struct json_value *in = json_get(fields->u.object.values[i], "inputFields");
        n += in != NULL && in->type == JSON_ARRAY ? in->u.array.n : 0;
    }
    return n;
}

static void decode_column_lineage(struct dctx *d, const struct json_value *cl, const char *path,
                                  struct ol_dataset *out)
{
    const struct json_value *fields = json_get(cl, "fields");
    const struct json_value *dataset = json_get(cl, "dataset");

    if (cl == NULL || cl->type != JSON_OBJECT)
        return;
    out->columns = arena_zalloc(d->a, (count_column_inputs(fields, dataset) + 1) * sizeof *out->columns);
    for (size_t i = 0; fields != NULL && fields->type == JSON_OBJECT && i < fields->u.object.n; i++) {
        const struct json_value *spec = fields->u.object.values[i];
        const struct json_value *ins = json_get(spec, "inputFields");
        const char *key = fields->u.object.keys[i];
        const char *kp = dctx_key_path(d, dctx_path(d, path, "fields"), key);
        if (!dctx_fits(d, kp, key, DCTX_KEY))
            continue;
        for (size_t k = 0; ins != NULL && ins->type == JSON_ARRAY && k < ins->u.array.n; k++)
            add_column_input(d, ins->u.array.items[k], arena_printf(d->a, "%s.inputFields[%zu]", kp, k), key,
                             spec, out);
    }
    for (size_t k = 0; dataset != NULL && dataset->type == JSON_ARRAY && k < dataset->u.array.n; k++)
        add_column_input(d, dataset->u.array.items[k], arena_printf(d->a, "%s.dataset[%zu]", path, k), NULL,
                         NULL, out);
}

/* datasetVersion of facet `version` in object `facets` as text (a string or a number), or NULL. */
static const char *version_of(const struct json_value *facets)
{
    const struct json_value *v = json_get(json_get(facets, "version"), "datasetVersion");

    if (v == NULL || (v->type != JSON_STRING && v->type != JSON_NUMBER) || v->u.str.len == 0 ||
        strlen(v->u.str.text) != v->u.str.len)
        return NULL;
    return v->u.str.text;
}

/* The version the producer named for this appearance (invariant 2), or NULL. */
static const char *producer_version(const struct json_value *v, enum ol_io io)
{
    const char *named = io == OL_IO_INPUT    ? version_of(json_get(v, "inputFacets"))
                        : io == OL_IO_OUTPUT ? version_of(json_get(v, "outputFacets"))
                                             : NULL;
    return named != NULL ? named : version_of(json_get(v, "facets"));
}

/* Whether name is a whole part of uri: after its start, '/' or ':', and before its end, '.', '/', '?'
 * or '#'. */
static bool name_in_uri(const char *uri, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = n ? strstr(uri, name) : NULL; p != NULL; p = strstr(p + 1, name)) {
        char before = p == uri ? '/' : p[-1], after = p[n];
        if ((before == '/' || before == ':') &&
            (after == '\0' || after == '.' || after == '/' || after == '?' || after == '#'))
            return true;
    }
    return false;
}

static bool has_feast_facet(const struct json_value *facets)
{
    for (size_t i = 0; facets != NULL && facets->type == JSON_OBJECT && i < facets->u.object.n; i++)
        if (strncmp(facets->u.object.keys[i], "feast_", 6) == 0)
            return true;
    return false;
}

/* Adds the symlink that joins datasets with out's dataSource.uri (invariant 5), when it applies. */
static void join_by_uri(struct dctx *d, const struct json_value *facets, struct ol_dataset *out)
{
    const char *uri = out->source_uri;

    if (out->namespace == NULL || out->name == NULL || uri[0] == '\0' ||
        strlen(uri) > DECODE_URI_JOIN_MAX_BYTES || strcmp(uri, out->namespace) == 0 ||
        (!has_feast_facet(facets) && !name_in_uri(uri, out->name)))
        return;
    struct ol_symlink *all = arena_zalloc(d->a, (out->n_symlinks + 1) * sizeof *all);
    if (out->n_symlinks > 0)
        memcpy(all, out->symlinks, out->n_symlinks * sizeof *all);
    all[out->n_symlinks++] = (struct ol_symlink){DECODE_URI_JOIN_NAMESPACE, uri, DECODE_URI_JOIN_TYPE};
    out->symlinks = all;
}

static void decode_model_facets(struct dctx *d, const struct json_value *facets, const char *path,
                                struct ol_dataset *out)
{
    const struct json_value *src = json_get(facets, "dataSource");
    const char *name = json_get_string(src, "name");

    out->source_name = name && *name ? name : "default";
    if (name != NULL)
        dctx_fits(d, dctx_path(d, dctx_path(d, path, "dataSource"), "name"), name, DCTX_NAME);
    out->source_uri = json_get_string(src, "uri") ? json_get_string(src, "uri") : "";
    out->description = json_get_string(json_get(facets, "documentation"), "description");
    out->lifecycle_state = json_get_string(json_get(facets, "lifecycleStateChange"), "lifecycleStateChange");
    decode_schema(d, json_get(facets, "schema"), dctx_path(d, path, "schema"), out);
    decode_symlinks(d, json_get(facets, "symlinks"), dctx_path(d, path, "symlinks"), out);
    decode_column_lineage(d, json_get(facets, "columnLineage"), dctx_path(d, path, "columnLineage"), out);
    join_by_uri(d, facets, out);
}

bool decode_dataset(struct dctx *d, const struct json_value *v, const char *path, enum ol_io io,
                    struct ol_dataset *out)
{
    int before = d->errors;

    memset(out, 0, sizeof *out);
    out->io = io;
    if (v == NULL || v->type != JSON_OBJECT) {
        dctx_violate(d, path, v == NULL || v->type == JSON_NULL ? "must not be null" : "must be an object");
        return false;
    }
    out->namespace = dctx_required_limited(d, v, "namespace", path, DCTX_NAME);
    out->name = dctx_required_limited(d, v, "name", path, DCTX_NAME);
    const struct json_value *facets = json_get(v, "facets");
    const char *fpath = dctx_path(d, path, "facets");
    dctx_facets(d, facets, fpath, true, &out->facets, &out->n_facets);
    if (facets != NULL && facets->type == JSON_OBJECT)
        decode_model_facets(d, facets, fpath, out);
    else
        decode_model_facets(d, NULL, fpath, out);
    out->producer_version = producer_version(v, io);
    if (io == OL_IO_INPUT)
        dctx_facets(d, json_get(v, "inputFacets"), dctx_path(d, path, "inputFacets"), false, &out->io_facets,
                    &out->n_io_facets);
    else if (io == OL_IO_OUTPUT)
        dctx_facets(d, json_get(v, "outputFacets"), dctx_path(d, path, "outputFacets"), false,
                    &out->io_facets, &out->n_io_facets);
    return d->errors == before;
}

/* The event's input named (ns, name), or NULL. */
static const struct ol_dataset *find_input(const struct ol_event *ev, const char *ns, const char *name)
{
    for (size_t i = 0; i < ev->n_datasets; i++) {
        const struct ol_dataset *ds = &ev->datasets[i];
        if (ds->io == OL_IO_INPUT && strcmp(ds->namespace, ns) == 0 && strcmp(ds->name, name) == 0)
            return ds;
    }
    return NULL;
}

/* Whether the event sends no schema for ds, or one that has `field`. */
static bool field_allowed(const struct ol_dataset *ds, const char *field)
{
    if (!ds->has_schema)
        return true;
    for (size_t k = 0; k < ds->n_fields; k++)
        if (strcmp(ds->fields[k].name, field) == 0)
            return true;
    return false;
}

/* Drops the column edges of ds that invariant 3 does not keep. */
static void keep_input_columns(const struct ol_event *ev, struct ol_dataset *ds)
{
    size_t m = 0;

    for (size_t k = 0; k < ds->n_columns; k++) {
        const struct ol_column_edge *c = &ds->columns[k];
        const struct ol_dataset *in = ds->io == OL_IO_OUTPUT ? find_input(ev, c->input_namespace, c->input_name)
                                                             : NULL;
        if (in == NULL || !field_allowed(in, c->input_field) ||
            (c->output_field != NULL && !field_allowed(ds, c->output_field)))
            continue;
        ds->columns[m++] = *c;
    }
    ds->n_columns = m;
}

/* Null-safe comparison, nulls first (Apache Commons' Triple order). */
static int cmp_nullable(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

struct field_key {
    const char *name, *type, *description;
};

static int field_key_cmp(const void *x, const void *y)
{
    const struct field_key *a = x, *b = y;
    int c = cmp_nullable(a->name, b->name);
    if (c == 0)
        c = cmp_nullable(a->type, b->type);
    return c != 0 ? c : cmp_nullable(a->description, b->description);
}

/* Appends ":" + s to buf when s is not NULL (Guava's Joiner.skipNulls, after the first part). */
static char *join_part(struct dctx *d, char *buf, const char *s)
{
    if (s == NULL)
        return buf;
    return buf == NULL ? arena_strdup(d->a, s) : arena_printf(d->a, "%s:%s", buf, s);
}

static char *upper_dup(struct dctx *d, const char *s)
{
    if (s == NULL)
        return NULL;
    char *u = arena_strdup(d->a, s);
    for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return u;
}

static const char *joined_fields(struct dctx *d, const struct ol_dataset *ds)
{
    struct field_key *keys = arena_alloc(d->a, (ds->n_fields + 1) * sizeof *keys);
    char *out = arena_strdup(d->a, "");

    for (size_t i = 0; i < ds->n_fields; i++) {
        keys[i].name = ds->fields[i].name;
        keys[i].type = upper_dup(d, ds->fields[i].type);
        keys[i].description = ds->fields[i].description;
    }
    qsort(keys, ds->n_fields, sizeof *keys, field_key_cmp);
    for (size_t i = 0; i < ds->n_fields; i++) {
        if (i > 0 && field_key_cmp(&keys[i - 1], &keys[i]) == 0)
            continue; /* a set: duplicates count once */
        char *one = join_part(d, join_part(d, join_part(d, NULL, keys[i].name), keys[i].type), keys[i].description);
        out = out[0] ? arena_printf(d->a, "%s:%s", out, one) : one;
    }
    return out;
}

static void dataset_version(struct dctx *d, const struct ol_event *ev, struct ol_dataset *ds)
{
    struct uuid u;
    char *s = NULL;

    if (ds->producer_version != NULL) {
        s = arena_printf(d->a, "%s:%s:%s", ds->namespace, ds->name, ds->producer_version);
        uuid_name_v3(s, strlen(s), &u);
        uuid_to_string(&u, ds->version);
        return;
    }
    s = join_part(d, s, ds->namespace);
    s = join_part(d, s, ds->source_name);
    s = join_part(d, s, ds->name);
    s = join_part(d, s, ds->name); /* physical name: OpenLineage datasets have none of their own */
    s = join_part(d, s, joined_fields(d, ds));
    s = join_part(d, s, ds->lifecycle_state ? ds->lifecycle_state : "");
    s = join_part(d, s, ev->run_uuid[0] ? ev->run_uuid : NULL);
    uuid_name_v3(s, strlen(s), &u);
    uuid_to_string(&u, ds->version);
}

void decode_finish_datasets(struct dctx *d, struct ol_event *ev)
{
    for (size_t i = 0; i < ev->n_datasets; i++) {
        keep_input_columns(ev, &ev->datasets[i]);
        dataset_version(d, ev, &ev->datasets[i]);
    }
}
