/* store/store_read_datasets.c - reads of datasets and dataset versions for the Marquez API.
 *
 * Invariants:
 *  1. A dataset is found by its own (namespace, name) first, then through dataset_symlinks; either
 *     way a symlinked name resolves to its group's dataset, and only that one is listed (alias rows
 *     are not: migrations/0005_dataset_aliases.sql). Hidden (soft-deleted) datasets are not found.
 *  2. Each function is one statement (see store_read.h), the JSON built by Postgres.
 *  3. A version is found by its UUID or by the name its producer gave it (migrations/0005).
 * Threads: one thread per struct store. */
#include "store_read_int.h"

#include "uuid.h"

/* A name resolves to its group's dataset: through its own (alias) row, else through the row that
 * declared it as a symlink. A namespace that only symlinks name still counts as found then. */
static const struct store_stmt REF = {
    "read_dataset_ref",
    "SELECT EXISTS (SELECT 1 FROM namespaces WHERE name = $1) OR r.id IS NOT NULL, r.id"
    " FROM (SELECT coalesce((SELECT id FROM dataset_names WHERE ref_namespace = $1 AND ref_name = $2"
    "   AND NOT is_hidden),"
    "  (SELECT d.id FROM dataset_symlinks s JOIN datasets o ON o.id = s.dataset_id"
    "   JOIN datasets d ON d.id = coalesce(o.alias_of, o.id)"
    "   WHERE s.namespace = $1 AND s.name = $2 AND NOT d.is_hidden ORDER BY d.id LIMIT 1)) AS id) r",
    2};

/* A page in the order of the index datasets_list (skipped entries from the index alone); totalCount
 * from the counters of read_counts (migrations/0010_read_routes.sql). */
static const struct store_stmt LIST = {
    "read_datasets",
    "WITH pg AS (SELECT id FROM datasets WHERE namespace = $1 AND NOT is_hidden AND alias_of IS NULL"
    "  ORDER BY name LIMIT $2::bigint OFFSET $3::bigint)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM namespaces WHERE name = $1) THEN json_build_object("
    " 'totalCount', (SELECT coalesce(sum(n), 0)::bigint FROM read_counts WHERE counter = 'datasets'"
    "  AND t = '-infinity' AND k = $1),"
    " 'datasets', coalesce((SELECT json_agg(" STORE_SQL_DATASET_JSON " ORDER BY d.name)"
    "  FROM pg JOIN datasets d ON d.id = pg.id"
    "  LEFT JOIN dataset_versions fv ON fv.version = d.current_version"
    "  CROSS JOIN (SELECT true AS want_cl) p), '[]')) END",
    3};

static const struct store_stmt GET = {"read_dataset",
                                      "SELECT " STORE_SQL_DATASET_JSON " FROM datasets d"
                                      " LEFT JOIN dataset_versions fv ON fv.version = d.current_version"
                                      " CROSS JOIN (SELECT $2::boolean AS want_cl) p WHERE d.id = $1::bigint",
                                      2};

/* A page of versions, read in the order of the index dataset_versions_list (skipped entries from the
 * index alone), each version's Run and facets set-wise for the page:
 *  - vw: the received_at ranges that can hold events of the page's runs (event_log_window over their
 *    first and last event times), so the run events of the page are looked up in a few partitions
 *    of the event log instead of all of them;
 *  - vr: the events of each version's run; vs: for a version no run wrote, the events at its creation
 *    time (events_time); together exactly the events the per-version form reads
 *    (STORE_SQL_VERSION_FACETS), the later eventTime, then the greater value, winning per facet. */
static const struct store_stmt VERSIONS = {
    "read_dataset_versions",
    "WITH pg AS (SELECT version, row_number() OVER (ORDER BY created_at DESC, version) AS o"
    "  FROM dataset_versions WHERE dataset_id = $1::bigint"
    "  ORDER BY created_at DESC, version LIMIT $2::bigint OFFSET $3::bigint),"
    " fv AS (SELECT v.*, pg.o FROM pg JOIN dataset_versions v ON v.version = pg.version),"
    " k AS (SELECT DISTINCT run_uuid AS uuid FROM fv WHERE run_uuid IS NOT NULL)," STORE_SQL_RUNS_CTES ","
    " vw AS (SELECT (event_log_window(min(coalesce(r.created_at, '-infinity')),"
    "   max(coalesce(r.updated_at, 'infinity')))).* FROM fv LEFT JOIN runs r ON r.uuid = fv.run_uuid"
    "  WHERE fv.run_uuid IS NOT NULL),"
    " vr AS (SELECT fv.version, fv.dataset_id, ev.event_time, ev.body FROM fv"
    "  JOIN events ev ON ev.run_uuid = fv.run_uuid"
    "  WHERE (ev.received_at >= (SELECT lower FROM vw) AND ev.received_at < (SELECT upper FROM vw))"
    "   OR ev.received_at >= (SELECT open_from FROM vw)),"
    " vs AS (SELECT fv.version, fv.dataset_id, ev.event_time, ev.body FROM fv"
    "  JOIN events ev ON ev.event_time = fv.created_at WHERE fv.run_uuid IS NULL),"
    " vf AS (SELECT z.version, json_object_agg(z.k, z.v ORDER BY z.k) AS facets FROM ("
    "  SELECT DISTINCT ON (y.version, y.k) y.version, y.k, y.v FROM ("
    STORE_SQL_EVENT_DATASET_FACETS("ev.version, ", "(SELECT * FROM vr UNION ALL SELECT * FROM vs)", "ev.dataset_id")
    "   UNION ALL SELECT fv.version, 'version', jsonb_build_object('datasetVersion', fv.producer_version),"
    "    '-infinity' FROM fv WHERE fv.producer_version IS NOT NULL) y"
    "  ORDER BY y.version, y.k, y.t DESC, y.v DESC) z GROUP BY z.version)"
    " SELECT json_build_object("
    " 'versions', coalesce((SELECT json_agg(" STORE_SQL_DSVERSION_OBJECT("rjs.j", "coalesce(vf.facets, '{}')")
    "  ORDER BY fv.o) FROM fv JOIN datasets d ON d.id = fv.dataset_id LEFT JOIN rjs ON rjs.uuid = fv.run_uuid"
    "  LEFT JOIN vf ON vf.version = fv.version), '[]'),"
    " 'totalCount', (SELECT count(*) FROM dataset_versions WHERE dataset_id = $1::bigint))",
    3};

/* $2: the version as a UUID, or NULL; $3: as the producer named it (a content hash, a snapshot id). */
static const struct store_stmt VERSION = {"read_dataset_version",
                                          "SELECT " STORE_SQL_DSVERSION_JSON
                                          " FROM dataset_versions fv JOIN datasets d ON d.id = fv.dataset_id"
                                          " WHERE fv.dataset_id = $1::bigint"
                                          "  AND (fv.version = $2::uuid OR fv.producer_version = $3)"
                                          " ORDER BY fv.version = $2::uuid DESC NULLS LAST LIMIT 1",
                                          3};

int store_read_dataset_ref(struct store *s, struct arena *a, const char *ns, const char *name,
                           struct store_ref *out, struct err *e)
{
    const char *params[] = {ns, name};
    const char *cols[2];

    if (store_read_row(s, a, &REF, params, cols, 2, 0, NULL, e) != 0)
        return -1;
    out->namespace_found = cols[0] != NULL && cols[0][0] == 't';
    out->id = cols[1];
    out->target_namespace = out->target_name = NULL;
    return 0;
}

int store_read_datasets(struct store *s, struct arena *a, const char *ns, long limit, long offset,
                        const char **json_out, struct err *e)
{
    const char *params[] = {ns, store_read_long(a, limit), store_read_long(a, offset)};
    return store_read_json(s, a, &LIST, params, json_out, e);
}

int store_read_dataset(struct store *s, struct arena *a, const char *dataset_id, bool with_column_lineage,
                       const char **json_out, struct err *e)
{
    const char *params[] = {dataset_id, with_column_lineage ? "true" : "false"};
    return store_read_json(s, a, &GET, params, json_out, e);
}

int store_read_dataset_versions(struct store *s, struct arena *a, const char *dataset_id, long limit,
                                long offset, const char **json_out, struct err *e)
{
    const char *params[] = {dataset_id, store_read_long(a, limit), store_read_long(a, offset)};
    return store_read_json(s, a, &VERSIONS, params, json_out, e);
}

int store_read_dataset_version(struct store *s, struct arena *a, const char *dataset_id, const char *version,
                               const char **json_out, struct err *e)
{
    struct uuid u;
    const char *params[] = {dataset_id, uuid_from_string(version, &u) ? version : NULL, version};
    return store_read_json(s, a, &VERSION, params, json_out, e);
}
