/* store/store_lineage.c - every statement on the edge tables: run_io, job_io, run_io_facets and
 * column_lineage, each written once per chunk.
 *
 * Invariants (none depends on arrival order: migrations/0009_order_independent_model.sql):
 *  1. Edges are cumulative: a row is never removed by a later event that omits it; first_seen and
 *     last_seen widen to cover every eventTime that asserted the edge, and seq names the last event
 *     in log order.
 *  2. An output's run_io row keeps the version of the run's latest event naming it (a version the
 *     producer named first, then by event time kept in version_at, then by version); so does an input
 *     that names its version (pinned). Any other input's version is set by dataset_versions_settle
 *     (store_settle_versions), after this.
 *  3. "Latest" values (a job edge's last run, a column edge's transformation and last run, input and
 *     output facets) are those of the latest event time, then of the greater value.
 *  4. Rows repeating a key within the chunk are merged in SQL (GROUP BY: min/max times, latest values),
 *     since one INSERT ... ON CONFLICT may not touch a row twice.
 *  5. Dataset names resolve through dataset_names: a symlinked name's rows land on its group's dataset
 *     (migrations/0005_dataset_aliases.sql). */
#include "store_write.h"

/* Whether the incoming version (invariant 2) replaces the row's: a named one first, then the later event
 * time (version_at), then the greater version. */
#define NEW_VERSION                                                                                          \
    "(EXCLUDED.version_at IS NOT NULL AND (EXCLUDED.pinned, EXCLUDED.version_at, EXCLUDED.dataset_version)"  \
    " > (ri.pinned, coalesce(ri.version_at, '-infinity'),"                                                   \
    "  coalesce(ri.dataset_version, '00000000-0000-0000-0000-000000000000')))"

static const struct store_stmt UPSERT_RUN_IO = {
    "run_io_upsert",
    "INSERT INTO run_io AS ri (run_uuid, dataset_id, io_type, dataset_version, pinned, version_at, "
    "first_seen,"
    " last_seen, seq)"
    " SELECT x.run_uuid, d.id, x.io,"
    "  CASE WHEN x.io = 'OUTPUT' OR bool_or(x.pinned)"
    "   THEN (array_agg(x.version ORDER BY x.pinned DESC, x.time DESC, x.version DESC))[1] END,"
    "  bool_or(x.pinned),"
    "  CASE WHEN x.io = 'OUTPUT' OR bool_or(x.pinned)"
    "   THEN (array_agg(x.time ORDER BY x.pinned DESC, x.time DESC, x.version DESC))[1] END,"
    "  min(x.time), max(x.time), max(x.seq)"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, io text, version uuid, pinned "
    "boolean,"
    "  run_uuid uuid, time timestamptz, seq bigint)"
    " JOIN dataset_names d ON d.ref_namespace = x.namespace AND d.ref_name = x.name"
    " WHERE x.run_uuid IS NOT NULL"
    " GROUP BY x.run_uuid, x.io, d.id ORDER BY x.run_uuid, x.io, d.id"
    " ON CONFLICT (run_uuid, io_type, dataset_id) DO UPDATE SET"
    "  first_seen = least(ri.first_seen, EXCLUDED.first_seen),"
    "  last_seen = greatest(ri.last_seen, EXCLUDED.last_seen),"
    "  dataset_version = CASE WHEN " NEW_VERSION " THEN EXCLUDED.dataset_version ELSE ri.dataset_version END,"
    "  version_at = CASE WHEN " NEW_VERSION " THEN EXCLUDED.version_at ELSE ri.version_at END,"
    "  pinned = ri.pinned OR EXCLUDED.pinned, seq = greatest(ri.seq, EXCLUDED.seq)",
    1};

/* Whether the incoming last run (kept with its time, last_run_at) replaces the job edge's, the column
 * edge's. */
#define NEW_JOB_IO_RUN                                                                                       \
    "(EXCLUDED.last_run_at IS NOT NULL AND (ji.last_run_at IS NULL"                                          \
    " OR (EXCLUDED.last_run_at, EXCLUDED.last_run_uuid) > (ji.last_run_at, ji.last_run_uuid)))"
#define NEW_COLUMN_RUN                                                                                       \
    "(EXCLUDED.last_run_at IS NOT NULL AND (c.last_run_at IS NULL"                                           \
    " OR (EXCLUDED.last_run_at, EXCLUDED.last_run_uuid) > (c.last_run_at, c.last_run_uuid)))"

static const struct store_stmt UPSERT_JOB_IO = {
    "job_io_upsert",
    "INSERT INTO job_io AS ji (job_id, dataset_id, io_type, first_seen, last_seen, last_run_uuid,"
    " last_run_at, seq)"
    " SELECT x.job_id, d.id, x.io, min(x.time), max(x.time),"
    "  (array_agg(x.run_uuid ORDER BY x.time DESC, x.run_uuid DESC)"
    "   FILTER (WHERE x.run_uuid IS NOT NULL))[1],"
    "  max(x.time) FILTER (WHERE x.run_uuid IS NOT NULL), max(x.seq)"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, io text, job_id bigint,"
    "  run_uuid uuid, time timestamptz, seq bigint)"
    " JOIN dataset_names d ON d.ref_namespace = x.namespace AND d.ref_name = x.name"
    " GROUP BY x.job_id, x.io, d.id ORDER BY x.job_id, x.io, d.id"
    " ON CONFLICT (job_id, io_type, dataset_id) DO UPDATE SET"
    "  first_seen = least(ji.first_seen, EXCLUDED.first_seen),"
    "  last_seen = greatest(ji.last_seen, EXCLUDED.last_seen),"
    "  last_run_uuid = CASE WHEN " NEW_JOB_IO_RUN " THEN EXCLUDED.last_run_uuid ELSE ji.last_run_uuid END,"
    "  last_run_at = CASE WHEN " NEW_JOB_IO_RUN " THEN EXCLUDED.last_run_at ELSE ji.last_run_at END,"
    "  seq = greatest(ji.seq, EXCLUDED.seq)",
    1};

static const struct store_stmt UPSERT_IO_FACETS = {
    "run_io_facets_upsert",
    "INSERT INTO run_io_facets AS f (run_uuid, dataset_id, io_type, name, facet, event_time, seq)"
    " SELECT DISTINCT ON (x.run_uuid, x.io, d.id, x.facet) x.run_uuid, d.id, x.io, x.facet, x.value, x.time,"
    "  x.seq"
    " FROM jsonb_to_recordset($1::jsonb) AS x(namespace text, name text, io text, facet text, value jsonb,"
    "  run_uuid uuid, time timestamptz, seq bigint)"
    " JOIN dataset_names d ON d.ref_namespace = x.namespace AND d.ref_name = x.name"
    " WHERE x.value IS NOT NULL AND x.run_uuid IS NOT NULL"
    " ORDER BY x.run_uuid, x.io, d.id, x.facet, x.time DESC, x.value DESC, x.seq"
    " ON CONFLICT (run_uuid, io_type, dataset_id, name) DO UPDATE SET facet = EXCLUDED.facet,"
    "  event_time = EXCLUDED.event_time, seq = EXCLUDED.seq"
    " WHERE " FACET_LATER,
    1};

/* The order of a column edge's transformations (invariant 3), in the chunk and against the row. */
#define TRANSFORM_ORDER                                                                                      \
    "x.time DESC, coalesce(x.description, '') DESC, coalesce(x.type, '') DESC,"                              \
    " coalesce(x.transformations, 'null') DESC"
#define NEW_TRANSFORM                                                                                        \
    "column_lineage_later(EXCLUDED.last_seen, EXCLUDED.transformation_description,"                          \
    " EXCLUDED.transformation_type, EXCLUDED.transformations, c.last_seen, c.transformation_description,"    \
    " c.transformation_type, c.transformations)"

static const struct store_stmt UPSERT_COLUMNS = {
    "column_lineage_upsert",
    "INSERT INTO column_lineage AS c (output_dataset_id, output_field, input_dataset_id, input_field,"
    " transformation_description, transformation_type, transformations, first_seen, last_seen,"
    " last_run_uuid, last_run_at, seq)"
    " SELECT o.id, x.out_field, i.id, x.in_field,"
    "  (array_agg(x.description ORDER BY " TRANSFORM_ORDER "))[1],"
    "  (array_agg(x.type ORDER BY " TRANSFORM_ORDER "))[1],"
    "  (array_agg(x.transformations ORDER BY " TRANSFORM_ORDER "))[1], min(x.time), max(x.time),"
    "  (array_agg(x.run_uuid ORDER BY x.time DESC, x.run_uuid DESC)"
    "   FILTER (WHERE x.run_uuid IS NOT NULL))[1],"
    "  max(x.time) FILTER (WHERE x.run_uuid IS NOT NULL), max(x.seq)"
    " FROM jsonb_to_recordset($1::jsonb) AS x(out_namespace text, out_name text, out_field text,"
    "  in_namespace text, in_name text, in_field text, description text, type text, transformations jsonb,"
    "  run_uuid uuid, time timestamptz, seq bigint)"
    " JOIN dataset_names o ON o.ref_namespace = x.out_namespace AND o.ref_name = x.out_name"
    " JOIN dataset_names i ON i.ref_namespace = x.in_namespace AND i.ref_name = x.in_name"
    " GROUP BY o.id, x.out_field, i.id, x.in_field ORDER BY o.id, x.out_field, i.id, x.in_field"
    " ON CONFLICT (output_dataset_id, output_field, input_dataset_id, input_field) DO UPDATE SET"
    "  transformation_description = CASE WHEN " NEW_TRANSFORM
    "   THEN EXCLUDED.transformation_description ELSE c.transformation_description END,"
    "  transformation_type = CASE WHEN " NEW_TRANSFORM
    "   THEN EXCLUDED.transformation_type ELSE c.transformation_type END,"
    "  transformations = CASE WHEN " NEW_TRANSFORM
    "   THEN EXCLUDED.transformations ELSE c.transformations END,"
    "  first_seen = least(c.first_seen, EXCLUDED.first_seen),"
    "  last_seen = greatest(c.last_seen, EXCLUDED.last_seen),"
    "  last_run_uuid = CASE WHEN " NEW_COLUMN_RUN " THEN EXCLUDED.last_run_uuid ELSE c.last_run_uuid END,"
    "  last_run_at = CASE WHEN " NEW_COLUMN_RUN " THEN EXCLUDED.last_run_at ELSE c.last_run_at END,"
    "  seq = greatest(c.seq, EXCLUDED.seq)",
    1};

static bool is_edge(const struct ol_dataset *ds)
{
    return ds->io == OL_IO_INPUT || ds->io == OL_IO_OUTPUT;
}

static void gen_edge_key(yajl_gen g, const struct ol_dataset *ds)
{
    json_gen_key(g, "namespace");
    json_gen_str(g, ds->namespace);
    json_gen_key(g, "name");
    json_gen_str(g, ds->name);
    json_gen_key(g, "io");
    json_gen_str(g, ds->io == OL_IO_INPUT ? "INPUT" : "OUTPUT");
}

static void gen_edge(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *ds)
{
    yajl_gen_map_open(g);
    gen_edge_key(g, ds);
    json_gen_key(g, "version");
    json_gen_str(g, ds->version);
    json_gen_key(g, "pinned");
    yajl_gen_bool(g, ds->producer_version != NULL);
    store_gen_event_keys(g, c);
    yajl_gen_map_close(g);
}

static void gen_io_facets(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *ds)
{
    for (size_t k = 0; k < ds->n_io_facets; k++) {
        yajl_gen_map_open(g);
        gen_edge_key(g, ds);
        store_gen_facet_value(g, &ds->io_facets[k]);
        store_gen_event_keys(g, c);
        yajl_gen_map_close(g);
    }
}

static void gen_columns(yajl_gen g, const struct store_event_ctx *c, const struct ol_dataset *out)
{
    for (size_t k = 0; k < out->n_columns; k++) {
        const struct ol_column_edge *col = &out->columns[k];
        yajl_gen_map_open(g);
        json_gen_key(g, "out_namespace");
        json_gen_str(g, out->namespace);
        json_gen_key(g, "out_name");
        json_gen_str(g, out->name);
        json_gen_key(g, "out_field");
        json_gen_str(g, col->output_field);
        json_gen_key(g, "in_namespace");
        json_gen_str(g, col->input_namespace);
        json_gen_key(g, "in_name");
        json_gen_str(g, col->input_name);
        json_gen_key(g, "in_field");
        json_gen_str(g, col->input_field);
        json_gen_key(g, "description");
        json_gen_str(g, col->transformation_description);
        json_gen_key(g, "type");
        json_gen_str(g, col->transformation_type);
        json_gen_key(g, "transformations");
        if (col->transformations != NULL)
            json_write_canonical(g, col->transformations);
        else
            yajl_gen_null(g);
        store_gen_event_keys(g, c);
        yajl_gen_map_close(g);
    }
}

enum row_kind { ROWS_EDGES, ROWS_IO_FACETS, ROWS_COLUMNS };

/* The rows of one kind for every dataset of every Run or Job event of the chunk; *count rows. */
static const char *rows_param(struct arena *a, const struct store_event_ctx *c, size_t n, enum row_kind kind,
                              size_t *count)
{
    yajl_gen g = json_gen_new();

    *count = 0;
    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++) {
        if (c[k].ev->kind == OL_DATASET_EVENT)
            continue;
        for (size_t i = 0; i < c[k].ev->n_datasets; i++) {
            const struct ol_dataset *ds = &c[k].ev->datasets[i];
            if (kind == ROWS_EDGES && is_edge(ds)) {
                gen_edge(g, &c[k], ds);
                (*count)++;
            } else if (kind == ROWS_IO_FACETS && is_edge(ds) && ds->n_io_facets > 0) {
                gen_io_facets(g, &c[k], ds);
                *count += ds->n_io_facets;
            } else if (kind == ROWS_COLUMNS && ds->n_columns > 0) {
                gen_columns(g, &c[k], ds);
                *count += ds->n_columns;
            }
        }
    }
    yajl_gen_array_close(g);
    return json_gen_finish(g, a, NULL);
}

int store_write_lineage(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e)
{
    size_t count;
    const char *edges = rows_param(a, c, n, ROWS_EDGES, &count);
    const char *params[1];

    if (count > 0) {
        params[0] = edges;
        if (store_exec_command(s, &UPSERT_RUN_IO, params, e) != 0 ||
            store_exec_command(s, &UPSERT_JOB_IO, params, e) != 0)
            return -1;
    }
    params[0] = rows_param(a, c, n, ROWS_IO_FACETS, &count);
    if (count > 0 && store_exec_command(s, &UPSERT_IO_FACETS, params, e) != 0)
        return -1;
    params[0] = rows_param(a, c, n, ROWS_COLUMNS, &count);
    return count > 0 ? store_exec_command(s, &UPSERT_COLUMNS, params, e) : 0;
}
