/* store/store_replay_tables.c - which tables `lineaged replay` compares, and how each is projected onto
 * what the events derive (the rules are in store/store_replay.h).
 *
 * Invariants:
 *  1. Every base table of the schema is in exactly one of TABLES (compared) and NOT_DERIVED
 *     (not derived from events, with the reason); anything else is reported as
 *     unknown by store_replay_snapshot.
 *  2. A projection names no surrogate id and no seq: ids become natural keys, seqs become the hex hash of
 *     the event (event_hashes), so the same rows compare equal in two schemas.
 *  3. Projections are unqualified: they run under the live session's search_path and under the scratch
 *     one. */
#include "store_replay_int.h"

/* The event a seq column names, as the hex of its hash: EVENT_COL in the select list, EVENT_JOIN(alias)
 * after the FROM list (a join, so that the whole table is matched in one hash join). */
#define EVENT_COL "encode(eh.hash, 'hex') AS event"
#define EVENT_JOIN(alias) " LEFT JOIN event_hashes eh ON eh.seq = " alias ".seq"

static const struct store_replay_projection TABLES[] = {
    {"namespaces",
     "SELECT n.name, CASE WHEN n.name <> 'default' THEN n.created_at END AS created_at FROM namespaces n"
     " WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.namespace = n.name)"
     "  OR EXISTS (SELECT 1 FROM datasets d WHERE d.namespace = n.name)"},
    {"sources", "SELECT name, type, connection_url, description, created_at, updated_at FROM sources"},
    /* An alias row is compared by its name and group only: reads resolve it to its group's row, and its
     * own attributes (kept only to be merged into that row) depend on which rows the group had. */
    {"datasets",
     "SELECT d.namespace, d.name, a.namespace AS alias_of_namespace, a.name AS alias_of_name, o.*"
     " FROM datasets d LEFT JOIN datasets a ON a.id = d.alias_of" EVENT_JOIN("d")
     " LEFT JOIN LATERAL (SELECT d.type, d.physical_name, d.source_name, d.description, d.current_version,"
     "  d.lifecycle_state, d.description_at, d.lifecycle_at, d.source_at, d.dataset_type, d.sub_type, d.owners,"
     "  d.labels, d.created_at, d.updated_at, " EVENT_COL
     "  WHERE d.alias_of IS NULL) o ON true"},
    {"dataset_symlinks",
     "SELECT d.namespace AS dataset_namespace, d.name AS dataset_name, s.namespace, s.name, s.type, s.created_at, "
     EVENT_COL " FROM dataset_symlinks s JOIN datasets d ON d.id = s.dataset_id" EVENT_JOIN("s")},
    {"dataset_fields",
     "SELECT d.namespace AS dataset_namespace, d.name AS dataset_name, f.name, f.type, f.description, f.ordinal,"
     " f.updated_at FROM dataset_fields f JOIN datasets d ON d.id = f.dataset_id"},
    {"dataset_versions",
     "SELECT v.version, d.namespace AS dataset_namespace, d.name AS dataset_name, v.run_uuid, v.fields,"
     " v.schema_version, v.lifecycle_state, v.producer_version, v.created_at, v.written_at, v.event_written_at,"
     " v.first_read, " EVENT_COL
     " FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id" EVENT_JOIN("v")},
    {"jobs",
     "SELECT j.namespace, j.name, j.simple_name, p.namespace AS parent_namespace, p.name AS parent_name, j.type,"
     " j.description, j.location, j.current_version, j.latest_run_uuid, j.latest_run_time, j.type_at,"
     " j.description_at, j.location_at, j.parent_at, j.owners, j.labels,"
     " t.namespace AS symlink_namespace, t.name AS symlink_name, j.created_at, j.updated_at, " EVENT_COL
     " FROM jobs j LEFT JOIN jobs p ON p.id = j.parent_job_id LEFT JOIN jobs t ON t.id = j.symlink_target_id"
     EVENT_JOIN("j")},
    {"job_versions",
     "SELECT v.version, j.namespace AS job_namespace, j.name AS job_name, v.location, v.latest_run_uuid,"
     " v.inputs, v.outputs, v.created_at, v.updated_at, " EVENT_COL
     " FROM job_versions v JOIN jobs j ON j.id = v.job_id" EVENT_JOIN("v")},
    {"runs",
     "SELECT r.uuid, j.namespace AS job_namespace, j.name AS job_name, r.parent_run_uuid, r.state, r.state_time,"
     " r.nominal_start_time, r.nominal_end_time, r.started_at, r.ended_at, r.job_version, r.created_at,"
     " r.updated_at, r.parent_at, r.nominal_at, r.completed_at, r.job_location, r.job_location_at, r.streaming, "
     EVENT_COL " FROM runs r JOIN jobs j ON j.id = r.job_id" EVENT_JOIN("r")},
    {"run_states",
     "SELECT s.run_uuid, s.event_type, s.state, s.transitioned_at, " EVENT_COL " FROM run_states s" EVENT_JOIN("s")},
    {"run_io",
     "SELECT io.run_uuid, d.namespace AS dataset_namespace, d.name AS dataset_name, io.io_type,"
     " io.dataset_version, io.pinned, io.version_at, io.first_seen, io.last_seen, " EVENT_COL
     " FROM run_io io JOIN datasets d ON d.id = io.dataset_id" EVENT_JOIN("io")},
    {"job_io",
     "SELECT j.namespace AS job_namespace, j.name AS job_name, d.namespace AS dataset_namespace,"
     " d.name AS dataset_name, io.io_type, io.first_seen, io.last_seen, io.last_run_uuid, io.last_run_at, "
     EVENT_COL
     " FROM job_io io JOIN jobs j ON j.id = io.job_id JOIN datasets d ON d.id = io.dataset_id" EVENT_JOIN("io")},
    {"column_lineage",
     "SELECT o.namespace AS output_namespace, o.name AS output_name, c.output_field, i.namespace AS input_namespace,"
     " i.name AS input_name, c.input_field, c.transformation_description, c.transformation_type,"
     " c.transformations, c.first_seen, c.last_seen, c.last_run_uuid, c.last_run_at, " EVENT_COL
     " FROM column_lineage c JOIN datasets o ON o.id = c.output_dataset_id"
     " JOIN datasets i ON i.id = c.input_dataset_id" EVENT_JOIN("c")},
    {"run_facets",
     "SELECT f.run_uuid, f.name, f.facet, f.event_time, " EVENT_COL " FROM run_facets f" EVENT_JOIN("f")},
    {"job_facets",
     "SELECT j.namespace AS job_namespace, j.name AS job_name, f.name, f.facet, f.event_time, " EVENT_COL
     " FROM job_facets f JOIN jobs j ON j.id = f.job_id" EVENT_JOIN("f")},
    {"dataset_facets",
     "SELECT d.namespace AS dataset_namespace, d.name AS dataset_name, f.name, f.facet, f.event_time, "
     EVENT_COL " FROM dataset_facets f JOIN datasets d ON d.id = f.dataset_id" EVENT_JOIN("f")},
    {"run_io_facets",
     "SELECT f.run_uuid, d.namespace AS dataset_namespace, d.name AS dataset_name, f.io_type, f.name, f.facet,"
     " f.event_time, " EVENT_COL " FROM run_io_facets f JOIN datasets d ON d.id = f.dataset_id" EVENT_JOIN("f")},
};

const struct store_replay_projection *store_replay_tables(size_t *n)
{
    *n = sizeof TABLES / sizeof TABLES[0];
    return TABLES;
}

/* Tables that are not derived from events, each with the reason it is not compared. */
static const char *const NOT_DERIVED[] = {
    "events",             /* the log itself: replay's input */
    "event_hashes",       /* the log's idempotency keys */
    "event_log_dropped",  /* the log's retention record */
    "event_partition_times", /* the event times each closed partition of the log holds */
    "schema_migrations",  /* the schema's version */
    "read_counts",        /* counts of model rows and events for the read routes (migrations/0009) */
    "api_keys",           /* credentials, made by `lineaged keys` */
    "tags",               /* tags are API edits (PUT /tags, POST .../tags), not in the log */
    "dataset_tags",
    "dataset_field_tags",
    "job_tags",
};

const char *const *store_replay_not_derived(size_t *n)
{
    *n = sizeof NOT_DERIVED / sizeof NOT_DERIVED[0];
    return NOT_DERIVED;
}
