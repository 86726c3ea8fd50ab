/* store/store_ml.c - datasets across namespaces, names without their namespace, runs by what they did,
 * and the data of impact rows (store_ml.h).
 *
 * Invariants:
 *  1. Kinds, owners and labels are the columns migrations/0008_ml_lineage.sql keeps from the facets;
 *     the filters read those columns and their indexes, never the facets.
 *  2. A run query is driven by its most selective filter, chosen here: the dataset it read or wrote
 *     (run_io_dataset), else its job (runs_job), else the time order of every run (runs_created). Every
 *     other filter is a condition on the rows found, so the answer is the same whichever drives.
 *  3. Filters that are NULL are off; text parameters are bound, never pasted (store_read_int.h
 *     invariant 3).
 * Threads: one thread per struct store. */
#include "store_ml.h"

#include <stdlib.h>

#include "json.h"
#include "store_read_int.h"
#include "uuid.h"

/* A JSON array parameter as a text[] in SQL. */
#define TEXT_ARRAY(p) "ARRAY(SELECT jsonb_array_elements_text(" p "::jsonb))"

static const struct store_stmt ALL_DATASETS = {
    "ml_all_datasets",
    "WITH d0 AS NOT MATERIALIZED (SELECT * FROM datasets d WHERE NOT d.is_hidden AND d.alias_of IS NULL"
    "  AND ($1::text IS NULL OR (d.dataset_type = ANY (" TEXT_ARRAY(
        "$1") ")"
              "   AND (d.dataset_type = ANY (" TEXT_ARRAY(
                  "$2") ")"
                        "    OR d.dataset_type || ':' || d.sub_type = ANY (" TEXT_ARRAY(
                            "$3") "))))"
                                  "  AND ($4::text IS NULL OR d.namespace = $4)"
                                  "  AND ($5::text IS NULL OR d.owners @> ARRAY[$5::text])"
                                  "  AND ($6::text IS NULL OR d.labels @> ARRAY[$6::text]"
                                  "   OR EXISTS (SELECT 1 FROM dataset_tags t WHERE t.dataset_id = d.id AND "
                                  "t.tag = $6))"
                                  "  AND ($7::text IS NULL OR d.name ILIKE ('%' || $7::text || '%')))"
                                  " SELECT json_build_object('totalCount', (SELECT count(*) FROM d0),"
                                  " 'datasets', coalesce((SELECT json_agg(" STORE_SQL_DATASET_JSON
                                  " ORDER BY d.namespace, d.name)"
                                  "  FROM (SELECT * FROM d0 ORDER BY namespace, name LIMIT $8::bigint OFFSET "
                                  "$9::bigint) d"
                                  "  LEFT JOIN dataset_versions fv ON fv.version = d.current_version"
                                  "  CROSS JOIN (SELECT false AS want_cl) p), '[]'))",
    9};

static const struct store_stmt CANDIDATES = {
    "ml_name_candidates",
    "SELECT x.job, x.namespace, x.name FROM ("
    " SELECT false AS job, c.namespace, c.name FROM datasets a JOIN datasets c ON c.id = "
    "coalesce(a.alias_of, a.id)"
    "  WHERE a.name = $1 AND NOT c.is_hidden"
    " UNION SELECT false, c.namespace, c.name FROM dataset_symlinks s JOIN datasets o ON o.id = s.dataset_id"
    "  JOIN datasets c ON c.id = coalesce(o.alias_of, o.id) WHERE s.name = $1 AND NOT c.is_hidden"
    " UNION SELECT true, coalesce(t.namespace, j.namespace), coalesce(t.name, j.name) FROM jobs j"
    "  LEFT JOIN jobs t ON t.id = j.symlink_target_id WHERE j.name = $1 AND NOT coalesce(t.is_hidden, "
    "j.is_hidden)"
    ") x ORDER BY x.job, x.namespace COLLATE \"C\", x.name COLLATE \"C\" LIMIT $2::bigint",
    2};

/* The dataset row and version ids a reads=/writes= filter names: $1 ns, $2 name, $3 version (UUID or
 * NULL), $4 version as its producer named it. */
#define IO_DATASET(ns, name)                                                                                 \
    "(SELECT id FROM dataset_names WHERE ref_namespace = " ns " AND ref_name = " name ")"
#define IO_VERSIONS(ns, name, uuid, named)                                                                   \
    "(SELECT v.version FROM dataset_versions v WHERE v.dataset_id = " IO_DATASET(                            \
        ns, name) " AND (v.version = " uuid "::uuid OR v.producer_version = " named "))"
#define IO_MATCH(io, type, ns, name, uuid, named)                                                            \
    "(" io ".io_type = '" type "' AND " io                                                                   \
    ".dataset_id = " IO_DATASET(ns, name) " AND (" named "::text IS NULL"                                    \
                                          " OR " io                                                          \
                                          ".dataset_version IN " IO_VERSIONS(ns, name, uuid, named) "))"

/* Filters on run r: $1 states, $2/$3 job, $4-$7 reads (ns, name, uuid, named), $8-$11 writes, $12 since,
 * $13 until. */
#define RUN_FILTERS                                                                                          \
    " ($1::text IS NULL OR r.state = ANY (" TEXT_ARRAY(                                                      \
        "$1") "))"                                                                                           \
              " AND ($2::text IS NULL OR r.job_id = (SELECT id FROM jobs WHERE namespace = $2 AND name = "   \
              "$3))"                                                                                         \
              " AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM run_io ri WHERE ri.run_uuid = r.uuid "        \
              "AND " IO_MATCH(                                                                               \
                  "ri", "INPUT", "$4", "$5", "$6",                                                           \
                  "$7") "))"                                                                                 \
                        " AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM run_io wo WHERE wo.run_uuid = "     \
                        "r.uuid AND " IO_MATCH(                                                              \
                            "wo", "OUTPUT", "$8", "$9", "$10",                                               \
                            "$11") "))"                                                                      \
                                   " AND ($12::timestamptz IS NULL OR r.created_at >= $12::timestamptz)"     \
                                   " AND ($13::timestamptz IS NULL OR r.created_at < $13::timestamptz)"

/* Marquez's Run with the job appended ({...,"job":{"namespace","name"}}): Run's object text without its
 * closing brace, then the member (json_build_object always ends its text with '}'). */
#define RUN_WITH_JOB                                                                                         \
    "(left((" STORE_SQL_RUN_JSON ")::text, -1) || ', \"job\" : ' || json_build_object('namespace',"          \
    " rj.namespace, 'name', rj.name)::text || '}')::json"

/* driver: "<from> WHERE [<its condition> AND]", which the filters complete. */
#define RUN_QUERY(driver)                                                                                    \
    "WITH sel AS NOT MATERIALIZED (SELECT r.uuid, r.created_at FROM " driver RUN_FILTERS ")"                 \
    " SELECT json_build_object('totalCount', (SELECT count(*) FROM sel),"                                    \
    " 'runs', coalesce((SELECT json_agg(" RUN_WITH_JOB " ORDER BY k.created_at DESC, k.uuid)"                \
    "  FROM (SELECT * FROM sel ORDER BY created_at DESC, uuid LIMIT $14::bigint OFFSET $15::bigint) k"       \
    "  JOIN runs r ON r.uuid = k.uuid JOIN jobs rj ON rj.id = r.job_id), '[]'))"

static const struct store_stmt RUNS_BY_READS = {
    "ml_runs_by_reads",
    RUN_QUERY("runs r WHERE r.uuid IN (SELECT i.run_uuid FROM run_io i WHERE i.dataset_id = " IO_DATASET(
        "$4", "$5") " AND i.io_type = 'INPUT') AND"),
    15};
static const struct store_stmt RUNS_BY_WRITES = {
    "ml_runs_by_writes",
    RUN_QUERY("runs r WHERE r.uuid IN (SELECT o.run_uuid FROM run_io o WHERE o.dataset_id = " IO_DATASET(
        "$8", "$9") " AND o.io_type = 'OUTPUT') AND"),
    15};
static const struct store_stmt RUNS_BY_JOB = {
    "ml_runs_by_job",
    RUN_QUERY("runs r WHERE r.job_id = (SELECT id FROM jobs WHERE namespace = $2 AND name = $3) AND"), 15};
static const struct store_stmt RUNS_ALL = {"ml_runs_all", RUN_QUERY("runs r WHERE"), 15};

/* Keys [[kind, ns, name], ...]; kind "dataset" or "job". Columns as struct store_node_summary. */
static const struct store_stmt SUMMARIES = {
    "ml_node_summaries",
    "SELECT k.ord, d.dataset_type, d.sub_type, d.current_version, v.producer_version,"
    " coalesce(to_json(d.owners), '[]')::text, d.description"
    " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS k(key, ord)"
    " JOIN datasets d ON k.key->>0 = 'dataset' AND d.namespace = k.key->>1 AND d.name = k.key->>2"
    " LEFT JOIN dataset_versions v ON v.version = d.current_version"
    " UNION ALL SELECT k.ord, NULL, NULL, j.current_version, NULL, coalesce(to_json(j.owners), '[]')::text,"
    " j.description FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS k(key, ord)"
    " JOIN jobs j ON k.key->>0 = 'job' AND j.namespace = k.key->>1 AND j.name = k.key->>2",
    1};

int store_read_all_datasets(struct store *s, struct arena *a, const struct store_dataset_query *q,
                            const char **json_out, struct err *e)
{
    const char *params[] = {q->types,
                            q->any_sub,
                            q->pairs,
                            q->ns,
                            q->owner,
                            q->tag,
                            q->q,
                            store_read_long(a, q->limit),
                            store_read_long(a, q->offset)};
    return store_read_json(s, a, &ALL_DATASETS, params, json_out, e);
}

int store_name_candidates(struct store *s, struct arena *a, const char *name, size_t max,
                          struct store_candidate *out, size_t *n_out, struct err *e)
{
    const char *params[] = {name, store_read_long(a, (long)max + 1)};
    PGresult *res = store_exec(s, &CANDIDATES, params, e);

    if (res == NULL)
        return -1;
    size_t n = (size_t)PQntuples(res);
    for (size_t i = 0; i < n && i <= max; i++) {
        out[i].job = PQgetvalue(res, (int)i, 0)[0] == 't';
        out[i].ns = arena_strdup(a, PQgetvalue(res, (int)i, 1));
        out[i].name = arena_strdup(a, PQgetvalue(res, (int)i, 2));
    }
    *n_out = n > max + 1 ? max + 1 : n;
    PQclear(res);
    return 0;
}

/* The version parameters of a reads=/writes= filter: as a UUID (or NULL), and as named. */
static void version_params(const char *version, const char **uuid, const char **named)
{
    struct uuid u;

    *named = version;
    *uuid = version != NULL && uuid_from_string(version, &u) ? version : NULL;
}

int store_read_run_query(struct store *s, struct arena *a, const struct store_run_query *q,
                         const char **json_out, struct err *e)
{
    const char *ru, *rn, *wu, *wn;

    version_params(q->reads_version, &ru, &rn);
    version_params(q->writes_version, &wu, &wn);
    const char *params[] = {q->states,
                            q->job_ns,
                            q->job_name,
                            q->reads_ns,
                            q->reads_name,
                            ru,
                            rn,
                            q->writes_ns,
                            q->writes_name,
                            wu,
                            wn,
                            q->since,
                            q->until,
                            store_read_long(a, q->limit),
                            store_read_long(a, q->offset)};
    const struct store_stmt *st = q->reads_ns != NULL    ? &RUNS_BY_READS
                                  : q->writes_ns != NULL ? &RUNS_BY_WRITES
                                  : q->job_ns != NULL    ? &RUNS_BY_JOB
                                                         : &RUNS_ALL;
    return store_read_json(s, a, st, params, json_out, e);
}

static const char *column(struct arena *a, const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : arena_strdup(a, PQgetvalue(res, row, col));
}

int store_node_summaries(struct store *s, struct arena *a, const bool *job, const char *const *ns,
                         const char *const *names, size_t n, struct store_node_summary *out, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (struct store_node_summary){0};
    if (n == 0)
        return 0;
    yajl_gen g = json_gen_new();
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        yajl_gen_array_open(g);
        json_gen_str(g, job[i] ? "job" : "dataset");
        json_gen_str(g, ns[i]);
        json_gen_str(g, names[i]);
        yajl_gen_array_close(g);
    }
    yajl_gen_array_close(g);
    const char *params[] = {json_gen_finish(g, a, NULL)};
    PGresult *res = store_exec(s, &SUMMARIES, params, e);
    if (res == NULL)
        return -1;
    for (int row = 0; row < PQntuples(res); row++) {
        long ord = strtol(PQgetvalue(res, row, 0), NULL, 10);
        if (ord < 1 || (size_t)ord > n)
            continue;
        out[ord - 1] = (struct store_node_summary){true,
                                                   column(a, res, row, 1),
                                                   column(a, res, row, 2),
                                                   column(a, res, row, 3),
                                                   column(a, res, row, 4),
                                                   column(a, res, row, 5),
                                                   column(a, res, row, 6)};
    }
    PQclear(res);
    return 0;
}
