/* common/store_lineage.c - every statement on the edge tables: run_io, job_io, run_io_facets and
 * column_lineage.
 *
 * Invariants:
 *  1. Edges are cumulative: a row is never removed by a later event that omits it; first_seen and
 *     last_seen widen to cover every eventTime that asserted the edge, and seq names the last event.
 *  2. An input's run_io row records the version current when the event was stored (Marquez's rule);
 *     an output's records the version this run wrote.
 *  3. Rows are deduplicated and sorted by key inside each statement. */
#include "store_write.h"

static const struct store_stmt UPSERT_RUN_IO = {
    "run_io_upsert",
    "INSERT INTO run_io AS ri (run_uuid, dataset_id, io_type, dataset_version, first_seen, last_seen, seq)"
    " SELECT DISTINCT ON (x.io, d.id) $1::uuid, d.id, x.io,"
    "  CASE WHEN x.io = 'INPUT' THEN coalesce(d.current_version, x.version) ELSE x.version END,"
    "  $3::timestamptz, $3::timestamptz, $4::bigint"
    " FROM jsonb_to_recordset($2::jsonb) AS x(namespace text, name text, io text, version uuid)"
    " JOIN datasets d ON d.namespace = x.namespace AND d.name = x.name"
    " ORDER BY x.io, d.id"
    " ON CONFLICT (run_uuid, io_type, dataset_id) DO UPDATE SET"
    "  first_seen = least(ri.first_seen, EXCLUDED.first_seen),"
    "  last_seen = greatest(ri.last_seen, EXCLUDED.last_seen),"
    "  dataset_version = CASE WHEN EXCLUDED.last_seen >= ri.last_seen THEN EXCLUDED.dataset_version"
    "   ELSE ri.dataset_version END, seq = EXCLUDED.seq",
    4};

static const struct store_stmt UPSERT_JOB_IO = {
    "job_io_upsert",
    "INSERT INTO job_io AS ji (job_id, dataset_id, io_type, first_seen, last_seen, last_run_uuid, seq)"
    " SELECT DISTINCT ON (x.io, d.id) $1::bigint, d.id, x.io, $3::timestamptz, $3::timestamptz, $5::uuid,"
    "  $4::bigint"
    " FROM jsonb_to_recordset($2::jsonb) AS x(namespace text, name text, io text, version uuid)"
    " JOIN datasets d ON d.namespace = x.namespace AND d.name = x.name"
    " ORDER BY x.io, d.id"
    " ON CONFLICT (job_id, io_type, dataset_id) DO UPDATE SET"
    "  first_seen = least(ji.first_seen, EXCLUDED.first_seen),"
    "  last_seen = greatest(ji.last_seen, EXCLUDED.last_seen),"
    "  last_run_uuid = CASE WHEN EXCLUDED.last_seen >= ji.last_seen THEN coalesce(EXCLUDED.last_run_uuid,"
    "   ji.last_run_uuid) ELSE ji.last_run_uuid END, seq = EXCLUDED.seq",
    5};

static const struct store_stmt UPSERT_IO_FACETS = {
    "run_io_facets_upsert",
    "INSERT INTO run_io_facets AS f (run_uuid, dataset_id, io_type, name, facet, event_time, seq)"
    " SELECT DISTINCT ON (x.io, d.id, x.facet) $1::uuid, d.id, x.io, x.facet, x.value, $3::timestamptz,"
    "  $4::bigint"
    " FROM jsonb_to_recordset($2::jsonb) AS x(namespace text, name text, io text, facet text, value jsonb)"
    " JOIN datasets d ON d.namespace = x.namespace AND d.name = x.name"
    " WHERE x.value IS NOT NULL"
    " ORDER BY x.io, d.id, x.facet"
    " ON CONFLICT (run_uuid, io_type, dataset_id, name) DO UPDATE SET facet = EXCLUDED.facet,"
    "  event_time = EXCLUDED.event_time, seq = EXCLUDED.seq"
    " WHERE f.event_time <= EXCLUDED.event_time",
    4};

static const struct store_stmt UPSERT_COLUMNS = {
    "column_lineage_upsert",
    "INSERT INTO column_lineage AS c (output_dataset_id, output_field, input_dataset_id, input_field,"
    " transformation_description, transformation_type, transformations, first_seen, last_seen, last_run_uuid,"
    " seq)"
    " SELECT DISTINCT ON (o.id, x.out_field, i.id, x.in_field) o.id, x.out_field, i.id, x.in_field,"
    "  x.description, x.type, x.transformations, $2::timestamptz, $2::timestamptz, $4::uuid, $3::bigint"
    " FROM jsonb_to_recordset($1::jsonb) AS x(out_namespace text, out_name text, out_field text,"
    "  in_namespace text, in_name text, in_field text, description text, type text, transformations jsonb)"
    " JOIN datasets o ON o.namespace = x.out_namespace AND o.name = x.out_name"
    " JOIN datasets i ON i.namespace = x.in_namespace AND i.name = x.in_name"
    " ORDER BY o.id, x.out_field, i.id, x.in_field"
    " ON CONFLICT (output_dataset_id, output_field, input_dataset_id, input_field) DO UPDATE SET"
    "  transformation_description = CASE WHEN EXCLUDED.last_seen >= c.last_seen"
    "   THEN EXCLUDED.transformation_description ELSE c.transformation_description END,"
    "  transformation_type = CASE WHEN EXCLUDED.last_seen >= c.last_seen"
    "   THEN EXCLUDED.transformation_type ELSE c.transformation_type END,"
    "  transformations = CASE WHEN EXCLUDED.last_seen >= c.last_seen"
    "   THEN EXCLUDED.transformations ELSE c.transformations END,"
    "  first_seen = least(c.first_seen, EXCLUDED.first_seen),"
    "  last_seen = greatest(c.last_seen, EXCLUDED.last_seen),"
    "  last_run_uuid = coalesce(EXCLUDED.last_run_uuid, c.last_run_uuid), seq = EXCLUDED.seq",
    4};

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

static const char *edges_param(const struct store_event_ctx *c, size_t *n_edges)
{
    yajl_gen g = json_gen_new();

    *n_edges = 0;
    yajl_gen_array_open(g);
    for (size_t i = 0; i < c->ev->n_datasets; i++) {
        const struct ol_dataset *ds = &c->ev->datasets[i];
        if (!is_edge(ds))
            continue;
        yajl_gen_map_open(g);
        gen_edge_key(g, ds);
        json_gen_key(g, "version");
        json_gen_str(g, ds->version);
        yajl_gen_map_close(g);
        (*n_edges)++;
    }
    yajl_gen_array_close(g);
    return json_gen_finish(g, c->a, NULL);
}

static const char *io_facets_param(const struct store_event_ctx *c, size_t *n)
{
    yajl_gen g = json_gen_new();

    *n = 0;
    yajl_gen_array_open(g);
    for (size_t i = 0; i < c->ev->n_datasets; i++) {
        const struct ol_dataset *ds = &c->ev->datasets[i];
        for (size_t k = 0; is_edge(ds) && k < ds->n_io_facets; k++) {
            yajl_gen_map_open(g);
            gen_edge_key(g, ds);
            store_gen_facet_value(g, &ds->io_facets[k]);
            yajl_gen_map_close(g);
            (*n)++;
        }
    }
    yajl_gen_array_close(g);
    return json_gen_finish(g, c->a, NULL);
}

static void gen_column(yajl_gen g, const struct ol_dataset *out, const struct ol_column_edge *col)
{
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
    yajl_gen_map_close(g);
}

static int write_columns(struct store *s, const struct store_event_ctx *c, struct err *e)
{
    size_t n = 0;
    yajl_gen g = json_gen_new();

    yajl_gen_array_open(g);
    for (size_t i = 0; i < c->ev->n_datasets; i++) {
        const struct ol_dataset *ds = &c->ev->datasets[i];
        for (size_t k = 0; k < ds->n_columns; k++, n++)
            gen_column(g, ds, &ds->columns[k]);
    }
    yajl_gen_array_close(g);
    const char *rows = json_gen_finish(g, c->a, NULL);
    if (n == 0)
        return 0;
    const char *params[] = {rows, c->time, c->seq, c->ev->run_uuid[0] ? c->ev->run_uuid : NULL};
    return store_exec_command(s, &UPSERT_COLUMNS, params, e);
}

int store_write_lineage(struct store *s, const struct store_event_ctx *c, const char *job_id, struct err *e)
{
    const struct ol_event *ev = c->ev;
    size_t n_edges, n_facets;
    const char *edges = edges_param(c, &n_edges);

    if (n_edges > 0) {
        if (ev->kind == OL_RUN_EVENT) {
            const char *rp[] = {ev->run_uuid, edges, c->time, c->seq};
            if (store_exec_command(s, &UPSERT_RUN_IO, rp, e) != 0)
                return -1;
        }
        const char *jp[] = {job_id, edges, c->time, c->seq, ev->run_uuid[0] ? ev->run_uuid : NULL};
        if (store_exec_command(s, &UPSERT_JOB_IO, jp, e) != 0)
            return -1;
    }
    const char *facets = io_facets_param(c, &n_facets);
    if (n_facets > 0 && ev->kind == OL_RUN_EVENT) {
        const char *fp[] = {ev->run_uuid, facets, c->time, c->seq};
        if (store_exec_command(s, &UPSERT_IO_FACETS, fp, e) != 0)
            return -1;
    }
    return write_columns(s, c, e);
}
