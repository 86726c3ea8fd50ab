/* store/store_datasets.c - every statement on datasets, dataset_fields, dataset_symlinks,
 * dataset_facets and dataset_versions.
 *
 * Invariants (the rules: migrations/0009_order_independent_model.sql; none depends on arrival order):
 *  1. Datasets are upserted for a whole chunk at once, in (namespace, name) order, before anything
 *     refers to them (see store_write.h for why the order matters).
 *  2. An attribute (description, lifecycle state, source) is the latest non-null value by event time,
 *     kept with that time (description_at, ...); at one time, the greater value. Field types and
 *     facets: the latest event's by time, then by value.
 *  3. A version row is inserted for every output, DatasetEvent and named version appearance, and the
 *     dataset's first-read version for every input that names none. Which version is current and
 *     which version an unnamed input read is settled after the chunk's runs and edges are stored
 *     (store_settle_versions: dataset_versions_settle), since both depend on when runs completed.
 *  4. Symlinks are stored right after the datasets, and the groups they join are settled
 *     (dataset_aliases_settle) before anything else is written; every later statement resolves
 *     names through dataset_names, so what a symlinked name carries lands on its group's row. */
#include <string.h>

#include "store_write.h"

/* Whether the row's description, source, lifecycle state takes the incoming one (invariant 2). */
#define NEW_DESCRIPTION                                                                                      \
    "(EXCLUDED.description_at IS NOT NULL AND (d.description_at IS NULL"                                     \
    " OR (EXCLUDED.description_at, EXCLUDED.description) > (d.description_at, d.description)))"
#define NEW_SOURCE                                                                                           \
    "(EXCLUDED.source_at IS NOT NULL AND (d.source_at IS NULL"                                               \
    " OR (EXCLUDED.source_at, EXCLUDED.source_name) > (d.source_at, d.source_name)))"
#define NEW_LIFECYCLE                                                                                        \
    "(EXCLUDED.lifecycle_at IS NOT NULL AND (d.lifecycle_at IS NULL"                                         \
    " OR (EXCLUDED.lifecycle_at, EXCLUDED.lifecycle_state) > (d.lifecycle_at, d.lifecycle_state)))"

/* One row per dataset of the whole chunk: the latest event's attributes win, times widen. */
static const struct store_stmt UPSERT_DATASETS = {
    "datasets_upsert",
    "INSERT INTO datasets AS d (namespace, name, physical_name, source_name, source_at, description,"
    " description_at, lifecycle_state, lifecycle_at, created_at, updated_at, seq)"
    " SELECT namespace, name, name,"
    "  coalesce((array_agg(source ORDER BY time DESC, source DESC)"
    "   FILTER (WHERE source <> 'default'))[1], 'default'),"
    "  max(time) FILTER (WHERE source <> 'default'),"
    "  (array_agg(description ORDER BY time DESC, description DESC)"
    "   FILTER (WHERE description IS NOT NULL))[1],"
    "  max(time) FILTER (WHERE description IS NOT NULL),"
    "  (array_agg(lifecycle ORDER BY time DESC, lifecycle DESC) FILTER (WHERE lifecycle IS NOT NULL))[1],"
    "  max(time) FILTER (WHERE lifecycle IS NOT NULL),"
    "  min(time), max(time), max(seq)"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, source text, description text,"
    "  lifecycle text, time timestamptz, seq bigint)"
    " GROUP BY namespace, name ORDER BY namespace, name"
    " ON CONFLICT (namespace, name) DO UPDATE SET is_hidden = false,"
    "  created_at = least(d.created_at, EXCLUDED.created_at),"
    "  updated_at = greatest(d.updated_at, EXCLUDED.updated_at),"
    "  description = CASE WHEN " NEW_DESCRIPTION " THEN EXCLUDED.description ELSE d.description END,"
    "  description_at = CASE WHEN " NEW_DESCRIPTION " THEN EXCLUDED.description_at"
    "   ELSE d.description_at END,"
    "  source_name = CASE WHEN " NEW_SOURCE " THEN EXCLUDED.source_name ELSE d.source_name END,"
    "  source_at = CASE WHEN " NEW_SOURCE " THEN EXCLUDED.source_at ELSE d.source_at END,"
    "  lifecycle_state = CASE WHEN " NEW_LIFECYCLE " THEN EXCLUDED.lifecycle_state"
    "   ELSE d.lifecycle_state END,"
    "  lifecycle_at = CASE WHEN " NEW_LIFECYCLE " THEN EXCLUDED.lifecycle_at ELSE d.lifecycle_at END,"
    "  seq = greatest(d.seq, EXCLUDED.seq)",
    1};

/* Each statement below takes rows of the whole chunk, every row carrying its event's time and seq;
 * where a key repeats, the latest event time wins, then the greater value (invariant 2), then the least
 * seq (the kept value's first event in log order, whatever order transactions committed in). */

static const struct store_stmt UPSERT_FIELDS = {
    "dataset_fields_upsert",
    "INSERT INTO dataset_fields AS f (dataset_id, name, type, description, ordinal, updated_at)"
    " SELECT DISTINCT ON (d.id, x.field) d.id, x.field, x.type, x.description, x.ordinal, x.time"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, field text, type text,"
    "  description text, ordinal int, time timestamptz)"
    " JOIN dataset_names d ON d.ref_namespace = x.namespace AND d.ref_name = x.name"
    " ORDER BY d.id, x.field, x.time DESC, coalesce(x.type, '') DESC, coalesce(x.description, '') DESC,"
    "  x.ordinal DESC"
    " ON CONFLICT (dataset_id, name) DO UPDATE SET type = EXCLUDED.type, description = EXCLUDED.description,"
    "  ordinal = EXCLUDED.ordinal, updated_at = EXCLUDED.updated_at"
    " WHERE (f.updated_at, coalesce(f.type, ''), coalesce(f.description, ''), f.ordinal)"
    "  < (EXCLUDED.updated_at, coalesce(EXCLUDED.type, ''), coalesce(EXCLUDED.description, ''),"
    "   EXCLUDED.ordinal)",
    1};

/* Declarations are kept by the row of the name that made them (not its group's), and a symlink to the
 * dataset's own name is none (migrations/0005_dataset_aliases.sql); each keeps the earliest
 * declaration's time and type (NEW_DECLARATION: the incoming one is earlier), and the least seq. */
#define NEW_DECLARATION "(EXCLUDED.created_at, coalesce(EXCLUDED.type, '')) < (s.created_at, coalesce(s.type, ''))"

static const struct store_stmt INSERT_SYMLINKS = {
    "dataset_symlinks_insert",
    "INSERT INTO dataset_symlinks AS s (dataset_id, namespace, name, type, created_at, seq)"
    " SELECT d.id, x.sym_namespace, x.sym_name,"
    "  (array_agg(x.type ORDER BY x.time, coalesce(x.type, '')))[1], min(x.time), min(x.seq)"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, sym_namespace text, sym_name text,"
    "  type text, time timestamptz, seq bigint)"
    " JOIN datasets d ON d.namespace = x.namespace AND d.name = x.name"
    " WHERE x.sym_namespace <> x.namespace OR x.sym_name <> x.name"
    " GROUP BY d.id, x.sym_namespace, x.sym_name ORDER BY d.id, x.sym_namespace, x.sym_name"
    " ON CONFLICT (dataset_id, namespace, name) DO UPDATE SET"
    "  type = CASE WHEN " NEW_DECLARATION " THEN EXCLUDED.type ELSE s.type END,"
    "  created_at = CASE WHEN " NEW_DECLARATION " THEN EXCLUDED.created_at ELSE s.created_at END,"
    "  seq = least(s.seq, EXCLUDED.seq)"
    " WHERE " NEW_DECLARATION " OR EXCLUDED.seq < s.seq",
    1};

/* Joins the groups the chunk's names and symlinks put together (the names: $1 of UPSERT_DATASETS). */
static const struct store_stmt SETTLE_ALIASES = {"datasets_settle_aliases",
                                                 "SELECT dataset_aliases_settle($1::jsonb)", 1};

/* A deletion ({"_deleted": true}: NULL) counts as the greatest value at its time; one value from several
 * events keeps the least seq. FACET_LATER (store_write.h): whether the incoming facet replaces the row's. */
static const struct store_stmt UPSERT_FACETS = {
    "dataset_facets_upsert",
    "INSERT INTO dataset_facets AS f (dataset_id, name, facet, event_time, seq)"
    " SELECT DISTINCT ON (d.id, x.facet) d.id, x.facet, x.value, x.time, x.seq"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, facet text, value jsonb,"
    "  time timestamptz, seq bigint)"
    " JOIN dataset_names d ON d.ref_namespace = x.namespace AND d.ref_name = x.name"
    " ORDER BY d.id, x.facet, x.time DESC, x.value IS NULL DESC, x.value DESC, x.seq"
    " ON CONFLICT (dataset_id, name) DO UPDATE SET facet = EXCLUDED.facet, event_time = EXCLUDED.event_time,"
    "  seq = EXCLUDED.seq"
    " WHERE " FACET_LATER,
    1};

/* The appearance that defines a version row (its creator run, schema, lifecycle and time) is the least
 * by DEFINING_KEY: writers first, then those that sent a schema, then the earliest, then the values.
 * DEFINES: whether the incoming one does. */
#define DEFINING_KEY                                                                                         \
    "run_uuid IS NULL, fields = '[]'::jsonb, created_at, run_uuid, fields, coalesce(lifecycle_state, '')"
#define DEFINES                                                                                              \
    "(EXCLUDED.run_uuid IS NULL, EXCLUDED.fields = '[]', EXCLUDED.created_at,"                               \
    " coalesce(EXCLUDED.run_uuid, '00000000-0000-0000-0000-000000000000'), EXCLUDED.fields,"                 \
    " coalesce(EXCLUDED.lifecycle_state, ''))"                                                               \
    " < (v.run_uuid IS NULL, v.fields = '[]', v.created_at,"                                                 \
    " coalesce(v.run_uuid, '00000000-0000-0000-0000-000000000000'), v.fields, coalesce(v.lifecycle_state, "  \
    "''))"

/* The version rows of the chunk's appearances (invariant 3): an input that names no version stands for
 * its dataset's first-read version; a DatasetEvent or a streaming job's output is written at its time. */
static const struct store_stmt INSERT_VERSIONS = {
    "dataset_versions_insert",
    "WITH x AS (SELECT d.id AS dataset_id,"
    "  CASE WHEN r.io = 'INPUT' AND r.producer IS NULL THEN d.first_read_version ELSE r.version END AS version,"
    "  CASE WHEN r.io = 'OUTPUT' THEN r.run_uuid END AS run_uuid, r.fields, r.lifecycle AS lifecycle_state,"
    "  r.producer, r.io = 'INPUT' AND r.producer IS NULL AS first_read,"
    "  CASE WHEN r.io = 'STATIC' OR (r.io = 'OUTPUT' AND r.stream) THEN r.time END AS written,"
    "  r.time AS created_at, r.seq"
    " FROM jsonb_to_recordset($1::jsonb) AS r(namespace text, name text, version uuid, run_uuid uuid,"
    "  io text, fields jsonb, lifecycle text, producer text, stream boolean, time timestamptz, seq bigint)"
    " JOIN dataset_names d ON d.ref_namespace = r.namespace AND d.ref_name = r.name),"
    " k AS (SELECT DISTINCT ON (version) * FROM x ORDER BY version, " DEFINING_KEY "),"
    " a AS (SELECT version, min(written) AS written, min(seq) AS seq FROM x GROUP BY version)"
    " INSERT INTO dataset_versions AS v (version, dataset_id, run_uuid, fields, lifecycle_state,"
    "  producer_version, created_at, seq, event_written_at, first_read)"
    " SELECT k.version, k.dataset_id, k.run_uuid, k.fields, k.lifecycle_state, k.producer, k.created_at,"
    "  a.seq, a.written, k.first_read"
    " FROM k JOIN a USING (version) ORDER BY k.version"
    " ON CONFLICT (version) DO UPDATE SET"
    "  run_uuid = CASE WHEN " DEFINES " THEN EXCLUDED.run_uuid ELSE v.run_uuid END,"
    "  fields = CASE WHEN " DEFINES " THEN EXCLUDED.fields ELSE v.fields END,"
    "  lifecycle_state = CASE WHEN " DEFINES " THEN EXCLUDED.lifecycle_state ELSE v.lifecycle_state END,"
    "  created_at = CASE WHEN " DEFINES " THEN EXCLUDED.created_at ELSE v.created_at END,"
    "  event_written_at = least(v.event_written_at, EXCLUDED.event_written_at), seq = least(v.seq, EXCLUDED.seq)"
    " WHERE " DEFINES " OR EXCLUDED.event_written_at < coalesce(v.event_written_at, 'infinity')"
    "  OR EXCLUDED.seq < v.seq",
    1};

/* $1: the rows of INSERT_VERSIONS; $2: the run UUIDs of the chunk's RunEvents. */
static const struct store_stmt SETTLE_VERSIONS = {"dataset_versions_settle",
                                                  "SELECT dataset_versions_settle($1::jsonb, $2::jsonb)", 2};

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

static const char *io_name(enum ol_io io)
{
    return io == OL_IO_INPUT ? "INPUT" : io == OL_IO_OUTPUT ? "OUTPUT" : "STATIC";
}

static void gen_version_fields(yajl_gen g, const struct ol_dataset *ds)
{
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
}

/* One appearance of a dataset for INSERT_VERSIONS and SETTLE_VERSIONS; a JobEvent's outputs have none. */
static void gen_versions(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *ds)
{
    const struct ol_event *ev = c->ev;

    if (ev->kind == OL_JOB_EVENT && ds->io == OL_IO_OUTPUT)
        return;
    yajl_gen_map_open(g);
    gen_id(g, ds);
    json_gen_key(g, "version");
    json_gen_str(g, ds->version);
    json_gen_key(g, "run_uuid");
    json_gen_str(g, ev->run_uuid[0] ? ev->run_uuid : NULL);
    json_gen_key(g, "io");
    json_gen_str(g, io_name(ds->io));
    gen_version_fields(g, ds);
    json_gen_key(g, "lifecycle");
    json_gen_str(g, ds->lifecycle_state);
    json_gen_key(g, "producer");
    json_gen_str(g, ds->producer_version);
    json_gen_key(g, "stream");
    yajl_gen_bool(g, ev->kind == OL_RUN_EVENT && strcmp(ev->job_type, "STREAM") == 0);
    json_gen_key(g, "time");
    json_gen_str(g, c->time);
    json_gen_key(g, "seq");
    json_gen_str(g, c->seq);
    yajl_gen_map_close(g);
}

typedef void gen_rows_fn(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *ds);

/* A JSON array of the rows gen_rows writes for every dataset of every event of the chunk. */
static const char *rows_param(struct arena *a, const struct store_event_ctx *c, size_t n,
                              gen_rows_fn *gen_rows)
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
    return run_rows(s, &INSERT_VERSIONS, rows_param(a, c, n, gen_versions), e);
}

int store_settle_versions(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                          struct err *e)
{
    yajl_gen g = json_gen_new();
    size_t runs = 0, datasets = 0;

    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++) {
        datasets += c[k].ev->n_datasets;
        if (c[k].ev->kind == OL_RUN_EVENT) {
            json_gen_str(g, c[k].ev->run_uuid);
            runs++;
        }
    }
    yajl_gen_array_close(g);
    const char *params[] = {rows_param(a, c, n, gen_versions), json_gen_finish(g, a, NULL)};
    return runs + datasets > 0 ? store_exec_command(s, &SETTLE_VERSIONS, params, e) : 0;
}

int store_upsert_datasets(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                          struct err *e)
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
