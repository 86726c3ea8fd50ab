/* store/store_datasets.c - every statement on datasets, dataset_fields, dataset_symlinks,
 * dataset_facets and dataset_versions.
 *
 * Invariants:
 *  1. Datasets are upserted for a whole chunk at once, in (namespace, name) order, before anything
 *     refers to them (see store_write.h for why the order matters).
 *  2. Attributes (description, lifecycle state, field types, facets) take the value of the latest
 *     eventTime; an older event arriving late only fills what is missing.
 *  3. A version becomes the dataset's current version when an output completes (or a streaming job
 *     or DatasetEvent writes it) and it is not older than the current one; an input only gets a
 *     version when the dataset has none yet, or when it names the version it read (a named version:
 *     decode_dataset.c invariant 2), whose row the writer and the readers share.
 *  4. Symlinks are stored right after the datasets, and the groups they join are settled
 *     (dataset_aliases_settle) before anything else is written; every later statement resolves
 *     names through dataset_names, so what a symlinked name carries lands on its group's row. */
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

/* Each statement below takes rows of the whole chunk, every row carrying its event's time and seq;
 * where a key repeats, the latest event time wins. */

static const struct store_stmt UPSERT_FIELDS = {
    "dataset_fields_upsert",
    "INSERT INTO dataset_fields AS f (dataset_id, name, type, description, ordinal, updated_at)"
    " SELECT DISTINCT ON (d.id, x.field) d.id, x.field, x.type, x.description, x.ordinal, x.time"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, field text, type text,"
    "  description text, ordinal int, time timestamptz)"
    " JOIN dataset_names d ON d.ref_namespace = x.namespace AND d.ref_name = x.name"
    " ORDER BY d.id, x.field, x.time DESC"
    " ON CONFLICT (dataset_id, name) DO UPDATE SET type = EXCLUDED.type, description = EXCLUDED.description,"
    "  ordinal = EXCLUDED.ordinal, updated_at = EXCLUDED.updated_at"
    " WHERE f.updated_at <= EXCLUDED.updated_at",
    1};

/* Declarations are kept by the row of the name that made them (not its group's), and a symlink to the
 * dataset's own name is none (migrations/0005_dataset_aliases.sql). */
static const struct store_stmt INSERT_SYMLINKS = {
    "dataset_symlinks_insert",
    "INSERT INTO dataset_symlinks (dataset_id, namespace, name, type, created_at, seq)"
    " SELECT DISTINCT ON (d.id, x.sym_namespace, x.sym_name) d.id, x.sym_namespace, x.sym_name, x.type,"
    "  x.time, x.seq"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, sym_namespace text, sym_name text,"
    "  type text, time timestamptz, seq bigint)"
    " JOIN datasets d ON d.namespace = x.namespace AND d.name = x.name"
    " WHERE x.sym_namespace <> x.namespace OR x.sym_name <> x.name"
    " ORDER BY d.id, x.sym_namespace, x.sym_name, x.time"
    " ON CONFLICT DO NOTHING",
    1};

/* Joins the groups the chunk's names and symlinks put together (the names: $1 of UPSERT_DATASETS). */
static const struct store_stmt SETTLE_ALIASES = {
    "datasets_settle_aliases", "SELECT dataset_aliases_settle($1::jsonb)", 1};

/* The latest event time wins per key; within one event that names a dataset twice, the later mention
 * (ordinality), so that the same log always gives the same facet. */
static const struct store_stmt UPSERT_FACETS = {
    "dataset_facets_upsert",
    "INSERT INTO dataset_facets AS f (dataset_id, name, facet, event_time, seq)"
    " SELECT DISTINCT ON (d.id, x.facet) d.id, x.facet, x.value, x.time, x.seq"
    " FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (namespace text, name text, facet text, value jsonb,"
    "  time timestamptz, seq bigint)) WITH ORDINALITY AS x(namespace, name, facet, value, time, seq, i)"
    " JOIN dataset_names d ON d.ref_namespace = x.namespace AND d.ref_name = x.name"
    " ORDER BY d.id, x.facet, x.time DESC, x.seq DESC, x.i DESC"
    " ON CONFLICT (dataset_id, name) DO UPDATE SET facet = EXCLUDED.facet, event_time = EXCLUDED.event_time,"
    "  seq = EXCLUDED.seq"
    " WHERE f.event_time <= EXCLUDED.event_time",
    1};

/* A named version row met again takes its earliest writer (by event time, then run id) over any
 * reader, and otherwise keeps its earliest appearance; unnamed versions keep their first row. A row's
 * run_uuid is its writer only: an appearance as an input never sets it. */
#define NEW_WRITER                                                                                         \
    "(EXCLUDED.run_uuid IS NOT NULL AND (v.run_uuid IS NULL"                                               \
    " OR (EXCLUDED.created_at, EXCLUDED.run_uuid) < (v.created_at, v.run_uuid)))"

static const struct store_stmt INSERT_VERSIONS = {
    "dataset_versions_insert",
    "INSERT INTO dataset_versions AS v (version, dataset_id, run_uuid, fields, lifecycle_state, "
    "producer_version,"
    " created_at, seq)"
    " SELECT DISTINCT ON (x.version) x.version, d.id, x.writer, x.fields, x.lifecycle, x.producer, x.time, "
    "x.seq"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, version uuid, writer uuid,"
    "  fields jsonb, lifecycle text, producer text, input boolean, current boolean, time timestamptz, seq "
    "bigint)"
    " JOIN dataset_names d ON d.ref_namespace = x.namespace AND d.ref_name = x.name"
    " WHERE NOT x.input OR x.producer IS NOT NULL OR d.current_version IS NULL"
    " ORDER BY x.version, x.writer IS NULL, x.time, x.writer"
    " ON CONFLICT (version) DO UPDATE SET"
    "  run_uuid = CASE WHEN " NEW_WRITER " THEN EXCLUDED.run_uuid ELSE v.run_uuid END,"
    "  fields = CASE WHEN " NEW_WRITER " OR (v.run_uuid IS NULL AND v.fields = '[]') THEN EXCLUDED.fields"
    "   ELSE v.fields END,"
    "  lifecycle_state = CASE WHEN " NEW_WRITER " THEN EXCLUDED.lifecycle_state ELSE v.lifecycle_state END,"
    "  created_at = CASE WHEN " NEW_WRITER " THEN EXCLUDED.created_at WHEN v.run_uuid IS NULL"
    "   THEN least(v.created_at, EXCLUDED.created_at) ELSE v.created_at END,"
    "  seq = greatest(v.seq, EXCLUDED.seq)"
    " WHERE EXCLUDED.producer_version IS NOT NULL",
    1};

/* Per dataset, the latest candidate of the chunk becomes current if it is not older than the current. */
static const struct store_stmt SET_CURRENT = {
    "datasets_set_current_version",
    "UPDATE datasets d SET current_version = x.version"
    " FROM (SELECT DISTINCT ON (n.id) n.id, r.version, r.input, r.time FROM jsonb_to_recordset($1::jsonb)"
    "  AS r(namespace text, name text, version uuid, input boolean, current boolean, time timestamptz)"
    "  JOIN dataset_names n ON n.ref_namespace = r.namespace AND n.ref_name = r.name WHERE r.current"
    "  ORDER BY n.id, r.input, r.time DESC) AS x"
    " WHERE d.id = x.id"
    "  AND (d.current_version IS NULL OR (NOT x.input AND coalesce((SELECT v.created_at"
    "   FROM dataset_versions v WHERE v.version = d.current_version), '-infinity') <= x.time))",
    1};

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

static void gen_fields(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *ds)
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
        store_gen_event_keys(g, c);
        yajl_gen_map_close(g);
    }
}

static void gen_symlinks(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *ds)
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
        store_gen_event_keys(g, c);
        yajl_gen_map_close(g);
    }
}

static void gen_facets(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *ds)
{
    for (size_t k = 0; k < ds->n_facets; k++) {
        yajl_gen_map_open(g);
        gen_id(g, ds);
        store_gen_facet_value(g, &ds->facets[k]);
        store_gen_event_keys(g, c);
        yajl_gen_map_close(g);
    }
}

/* Whether this appearance of a dataset makes a version that may become current. */
static bool makes_current(const struct ol_event *ev, const struct ol_dataset *ds)
{
    if (ds->io == OL_IO_STATIC || ds->io == OL_IO_INPUT)
        return true;
    if (ds->io != OL_IO_OUTPUT || ev->kind == OL_JOB_EVENT)
        return false;
    return ev->state == RUN_STATE_COMPLETED || strcmp(ev->job_type, "STREAM") == 0;
}

static void gen_versions(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *ds)
{
    const struct ol_event *ev = c->ev;

    if (ev->kind == OL_JOB_EVENT && ds->io == OL_IO_OUTPUT)
        return;
    yajl_gen_map_open(g);
    gen_id(g, ds);
    json_gen_key(g, "version");
    json_gen_str(g, ds->version);
    /* Not "run_uuid": store_gen_event_keys writes that key (the event's run) too, and the later key wins. */
    json_gen_key(g, "writer");
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
    json_gen_key(g, "producer");
    json_gen_str(g, ds->producer_version);
    json_gen_key(g, "input");
    yajl_gen_bool(g, ds->io == OL_IO_INPUT);
    json_gen_key(g, "current");
    yajl_gen_bool(g, makes_current(ev, ds));
    store_gen_event_keys(g, c);
    yajl_gen_map_close(g);
}

typedef void gen_rows_fn(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *ds);

/* A JSON array of the rows gen_rows writes for every dataset of every event of the chunk. */
static const char *rows_param(struct arena *a, const struct store_event_ctx *c, size_t n, gen_rows_fn *gen_rows)
{
    yajl_gen g = json_gen_new();

    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < c[k].ev->n_datasets; i++)
            gen_rows(g, &c[k], &c[k].ev->datasets[i]);
    yajl_gen_array_close(g);
    return json_gen_finish(g, a, NULL);
}

static int run_rows(struct store *s, const struct store_stmt *st, const char *rows, struct err *e)
{
    const char *params[] = {rows};
    return store_exec_command(s, st, params, e);
}

int store_write_dataset_details(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                                struct err *e)
{
    size_t datasets = 0, fields = 0, facets = 0;

    for (size_t k = 0; k < n; k++) {
        datasets += c[k].ev->n_datasets;
        for (size_t i = 0; i < c[k].ev->n_datasets; i++) {
            fields += c[k].ev->datasets[i].n_fields;
            facets += c[k].ev->datasets[i].n_facets;
        }
    }
    if (datasets == 0)
        return 0;
    if (fields > 0 && run_rows(s, &UPSERT_FIELDS, rows_param(a, c, n, gen_fields), e) != 0)
        return -1;
    if (facets > 0 && run_rows(s, &UPSERT_FACETS, rows_param(a, c, n, gen_facets), e) != 0)
        return -1;
    const char *versions = rows_param(a, c, n, gen_versions);
    if (run_rows(s, &INSERT_VERSIONS, versions, e) != 0)
        return -1;
    return run_rows(s, &SET_CURRENT, versions, e);
}

int store_upsert_datasets(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e)
{
    size_t total = 0, symlinks = 0;

    for (size_t k = 0; k < n; k++) {
        total += c[k].ev->n_datasets;
        for (size_t i = 0; i < c[k].ev->n_datasets; i++)
            symlinks += c[k].ev->datasets[i].n_symlinks;
    }
    if (total == 0)
        return 0;
    const char *params[] = {datasets_param(a, c, n)};
    if (store_exec_command(s, &UPSERT_DATASETS, params, e) != 0 ||
        (symlinks > 0 && run_rows(s, &INSERT_SYMLINKS, rows_param(a, c, n, gen_symlinks), e) != 0))
        return -1;
    return store_exec_command(s, &SETTLE_ALIASES, params, e);
}
