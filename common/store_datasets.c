/* common/store_datasets.c - every statement on datasets, dataset_fields, dataset_symlinks,
 * dataset_facets and dataset_versions.
 *
 * Invariants:
 *  1. Datasets are upserted for a whole chunk at once, in (namespace, name) order, before anything
 *     refers to them (see store_write.h for why the order matters).
 *  2. Attributes (description, lifecycle state, field types, facets) take the value of the latest
 *     eventTime; an older event arriving late only fills what is missing.
 *  3. A version becomes the dataset's current version when an output completes (or a streaming job
 *     or DatasetEvent writes it) and it is not older than the current one; an input only gets a
 *     version when the dataset has none yet. */
#include <string.h>

#include "store_write.h"

/* One row per dataset of the whole chunk: the latest event's attributes win, times widen. */
static const struct store_stmt UPSERT_DATASETS = {
    "datasets_upsert",
    "INSERT INTO datasets AS d (namespace, name, physical_name, source_name, description, lifecycle_state,"
    " created_at, updated_at, seq)"
    " SELECT namespace, name, name,"
    "  coalesce((array_agg(source ORDER BY time DESC) FILTER (WHERE source <> 'default'))[1], 'default'),"
    "  (array_agg(description ORDER BY time DESC) FILTER (WHERE description IS NOT NULL))[1],"
    "  (array_agg(lifecycle ORDER BY time DESC) FILTER (WHERE lifecycle IS NOT NULL))[1],"
    "  min(time), max(time), max(seq)"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, source text, description text,"
    "  lifecycle text, time timestamptz, seq bigint)"
    " GROUP BY namespace, name ORDER BY namespace, name"
    " ON CONFLICT (namespace, name) DO UPDATE SET is_hidden = false,"
    "  created_at = least(d.created_at, EXCLUDED.created_at),"
    "  updated_at = greatest(d.updated_at, EXCLUDED.updated_at),"
    "  description = CASE WHEN EXCLUDED.updated_at >= d.updated_at"
    "   THEN coalesce(EXCLUDED.description, d.description) ELSE coalesce(d.description, EXCLUDED.description) END,"
    "  source_name = CASE WHEN EXCLUDED.source_name <> 'default' AND EXCLUDED.updated_at >= d.updated_at"
    "   THEN EXCLUDED.source_name ELSE d.source_name END,"
    "  lifecycle_state = CASE WHEN EXCLUDED.updated_at >= d.updated_at"
    "   THEN coalesce(EXCLUDED.lifecycle_state, d.lifecycle_state) ELSE d.lifecycle_state END,"
    "  seq = greatest(d.seq, EXCLUDED.seq)",
    1};

static const struct store_stmt UPSERT_FIELDS = {
    "dataset_fields_upsert",
    "INSERT INTO dataset_fields AS f (dataset_id, name, type, description, ordinal, updated_at)"
    " SELECT DISTINCT ON (d.id, x.field) d.id, x.field, x.type, x.description, x.ordinal, $2::timestamptz"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, field text, type text,"
    "  description text, ordinal int)"
    " JOIN datasets d ON d.namespace = x.namespace AND d.name = x.name"
    " ORDER BY d.id, x.field"
    " ON CONFLICT (dataset_id, name) DO UPDATE SET type = EXCLUDED.type, description = EXCLUDED.description,"
    "  ordinal = EXCLUDED.ordinal, updated_at = EXCLUDED.updated_at"
    " WHERE f.updated_at <= EXCLUDED.updated_at",
    2};

static const struct store_stmt INSERT_SYMLINKS = {
    "dataset_symlinks_insert",
    "INSERT INTO dataset_symlinks (dataset_id, namespace, name, type, created_at, seq)"
    " SELECT DISTINCT ON (d.id, x.sym_namespace, x.sym_name) d.id, x.sym_namespace, x.sym_name, x.type,"
    "  $2::timestamptz, $3::bigint"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, sym_namespace text, sym_name text,"
    "  type text)"
    " JOIN datasets d ON d.namespace = x.namespace AND d.name = x.name"
    " ORDER BY d.id, x.sym_namespace, x.sym_name"
    " ON CONFLICT DO NOTHING",
    3};

static const struct store_stmt UPSERT_FACETS = {
    "dataset_facets_upsert",
    "INSERT INTO dataset_facets AS f (dataset_id, name, facet, event_time, seq)"
    " SELECT DISTINCT ON (d.id, x.facet) d.id, x.facet, x.value, $2::timestamptz, $3::bigint"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, facet text, value jsonb)"
    " JOIN datasets d ON d.namespace = x.namespace AND d.name = x.name"
    " ORDER BY d.id, x.facet"
    " ON CONFLICT (dataset_id, name) DO UPDATE SET facet = EXCLUDED.facet, event_time = EXCLUDED.event_time,"
    "  seq = EXCLUDED.seq"
    " WHERE f.event_time <= EXCLUDED.event_time",
    3};

static const struct store_stmt INSERT_VERSIONS = {
    "dataset_versions_insert",
    "INSERT INTO dataset_versions (version, dataset_id, run_uuid, fields, lifecycle_state, created_at, seq)"
    " SELECT DISTINCT ON (x.version) x.version, d.id, x.run_uuid, x.fields, x.lifecycle, $2::timestamptz,"
    "  $3::bigint"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, version uuid, run_uuid uuid,"
    "  fields jsonb, lifecycle text, input boolean, current boolean)"
    " JOIN datasets d ON d.namespace = x.namespace AND d.name = x.name"
    " WHERE NOT x.input OR d.current_version IS NULL"
    " ORDER BY x.version"
    " ON CONFLICT (version) DO NOTHING",
    3};

static const struct store_stmt SET_CURRENT = {
    "datasets_set_current_version",
    "UPDATE datasets d SET current_version = x.version"
    " FROM (SELECT DISTINCT ON (namespace, name) * FROM jsonb_to_recordset($1::jsonb) AS r(namespace text,"
    "  name text, version uuid, input boolean, current boolean) WHERE current ORDER BY namespace, name) AS x"
    " WHERE d.namespace = x.namespace AND d.name = x.name"
    "  AND (d.current_version IS NULL OR (NOT x.input AND coalesce((SELECT v.created_at"
    "   FROM dataset_versions v WHERE v.version = d.current_version), '-infinity') <= $2::timestamptz))",
    2};

static void gen_id(yajl_gen g, const struct ol_dataset *ds)
{
    json_gen_key(g, "namespace");
    json_gen_str(g, ds->namespace);
    json_gen_key(g, "name");
    json_gen_str(g, ds->name);
}

static const char *datasets_param(struct arena *a, const struct store_event_ctx *c, size_t n)
{
    yajl_gen g = json_gen_new();

    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < c[k].ev->n_datasets; i++) {
            const struct ol_dataset *ds = &c[k].ev->datasets[i];
            yajl_gen_map_open(g);
            gen_id(g, ds);
            json_gen_key(g, "source");
            json_gen_str(g, ds->source_name);
            json_gen_key(g, "description");
            json_gen_str(g, ds->description);
            json_gen_key(g, "lifecycle");
            json_gen_str(g, ds->lifecycle_state);
            json_gen_key(g, "time");
            json_gen_str(g, c[k].time);
            json_gen_key(g, "seq");
            json_gen_str(g, c[k].seq);
            yajl_gen_map_close(g);
        }
    }
    yajl_gen_array_close(g);
    return json_gen_finish(g, a, NULL);
}

int store_upsert_datasets(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e)
{
    size_t total = 0;

    for (size_t k = 0; k < n; k++)
        total += c[k].ev->n_datasets;
    if (total == 0)
        return 0;
    const char *params[] = {datasets_param(a, c, n)};
    return store_exec_command(s, &UPSERT_DATASETS, params, e);
}

static void gen_fields(yajl_gen g, const struct ol_dataset *ds)
{
    for (size_t k = 0; k < ds->n_fields; k++) {
        yajl_gen_map_open(g);
        gen_id(g, ds);
        json_gen_key(g, "field");
        json_gen_str(g, ds->fields[k].name);
        json_gen_key(g, "type");
        json_gen_str(g, ds->fields[k].type);
        json_gen_key(g, "description");
        json_gen_str(g, ds->fields[k].description);
        json_gen_key(g, "ordinal");
        json_gen_int(g, (long long)k + 1);
        yajl_gen_map_close(g);
    }
}

static void gen_symlinks(yajl_gen g, const struct ol_dataset *ds)
{
    for (size_t k = 0; k < ds->n_symlinks; k++) {
        yajl_gen_map_open(g);
        gen_id(g, ds);
        json_gen_key(g, "sym_namespace");
        json_gen_str(g, ds->symlinks[k].namespace);
        json_gen_key(g, "sym_name");
        json_gen_str(g, ds->symlinks[k].name);
        json_gen_key(g, "type");
        json_gen_str(g, ds->symlinks[k].type);
        yajl_gen_map_close(g);
    }
}

static void gen_facets(yajl_gen g, const struct ol_dataset *ds)
{
    for (size_t k = 0; k < ds->n_facets; k++) {
        yajl_gen_map_open(g);
        gen_id(g, ds);
        store_gen_facet_value(g, &ds->facets[k]);
        yajl_gen_map_close(g);
    }
}

/* Whether this appearance of a dataset makes a version that may become current. */
static bool makes_current(const struct ol_event *ev, const struct ol_dataset *ds)
{
    if (ds->io == OL_IO_STATIC || ds->io == OL_IO_INPUT)
        return true;
    if (ds->io != OL_IO_OUTPUT)
        return false;
    if (ev->kind == OL_JOB_EVENT)
        return false;
    return ev->state == RUN_STATE_COMPLETED || strcmp(ev->job_type, "STREAM") == 0;
}

static void gen_versions(yajl_gen g, const struct ol_event *ev, const struct ol_dataset *ds)
{
    if (ds->io == OL_IO_REFERENCED || (ev->kind == OL_JOB_EVENT && ds->io == OL_IO_OUTPUT))
        return;
    yajl_gen_map_open(g);
    gen_id(g, ds);
    json_gen_key(g, "version");
    json_gen_str(g, ds->version);
    json_gen_key(g, "run_uuid");
    json_gen_str(g, ds->io == OL_IO_OUTPUT && ev->run_uuid[0] ? ev->run_uuid : NULL);
    json_gen_key(g, "fields");
    yajl_gen_array_open(g);
    for (size_t k = 0; k < ds->n_fields; k++) {
        yajl_gen_map_open(g);
        json_gen_key(g, "name");
        json_gen_str(g, ds->fields[k].name);
        json_gen_key(g, "type");
        json_gen_str(g, ds->fields[k].type);
        json_gen_key(g, "description");
        json_gen_str(g, ds->fields[k].description);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    json_gen_key(g, "lifecycle");
    json_gen_str(g, ds->lifecycle_state);
    json_gen_key(g, "input");
    yajl_gen_bool(g, ds->io == OL_IO_INPUT);
    json_gen_key(g, "current");
    yajl_gen_bool(g, makes_current(ev, ds));
    yajl_gen_map_close(g);
}

typedef void gen_rows_fn(yajl_gen g, const struct ol_dataset *ds);

/* A JSON array of the rows gen_rows writes for every dataset of the event. */
static const char *rows_param(const struct store_event_ctx *c, gen_rows_fn *gen_rows)
{
    yajl_gen g = json_gen_new();

    yajl_gen_array_open(g);
    for (size_t i = 0; i < c->ev->n_datasets; i++)
        gen_rows(g, &c->ev->datasets[i]);
    yajl_gen_array_close(g);
    return json_gen_finish(g, c->a, NULL);
}

static int run3(struct store *s, const struct store_stmt *st, const char *json, const struct store_event_ctx *c,
                struct err *e)
{
    const char *params[] = {json, c->time, c->seq};
    return store_exec_command(s, st, params, e);
}

int store_write_dataset_details(struct store *s, const struct store_event_ctx *c, struct err *e)
{
    size_t fields = 0, symlinks = 0, facets = 0;
    const struct ol_event *ev = c->ev;

    if (ev->n_datasets == 0)
        return 0;
    for (size_t i = 0; i < ev->n_datasets; i++) {
        fields += ev->datasets[i].n_fields;
        symlinks += ev->datasets[i].n_symlinks;
        facets += ev->datasets[i].n_facets;
    }
    if (fields > 0 && run3(s, &UPSERT_FIELDS, rows_param(c, gen_fields), c, e) != 0)
        return -1;
    if (symlinks > 0 && run3(s, &INSERT_SYMLINKS, rows_param(c, gen_symlinks), c, e) != 0)
        return -1;
    if (facets > 0 && run3(s, &UPSERT_FACETS, rows_param(c, gen_facets), c, e) != 0)
        return -1;

    yajl_gen g = json_gen_new();
    yajl_gen_array_open(g);
    for (size_t i = 0; i < ev->n_datasets; i++)
        gen_versions(g, ev, &ev->datasets[i]);
    yajl_gen_array_close(g);
    const char *versions = json_gen_finish(g, c->a, NULL);
    if (run3(s, &INSERT_VERSIONS, versions, c, e) != 0)
        return -1;
    const char *params[] = {versions, c->time};
    return store_exec_command(s, &SET_CURRENT, params, e);
}
