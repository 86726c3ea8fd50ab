/* store/store_read_edit.c - the writes the Marquez API makes outside OpenLineage ingest: namespace
 * PUT, soft deletes (DELETE namespace/dataset/job) and tags.
 *
 * Invariants:
 *  1. Soft delete only sets is_hidden; any later event that mentions the object un-hides it
 *     (store/store_event.c, store_datasets.c, store_jobs.c). Nothing here deletes a model row.
 *  2. Deletes answer with the object as it was before: the JSON is built in the same statement as
 *     the UPDATE, and a statement's SELECT sees the snapshot from before its data-modifying CTEs.
 *  3. Each function is a single statement, so each edit is atomic without an explicit transaction.
 *  4. Tagging creates the tag (ON CONFLICT DO NOTHING); untagging never deletes the tag itself.
 * Threads: one thread per struct store. */
#include "store_read_int.h"

/* Marquez updates the owner and un-hides; we also update the description when one is given. */
static const struct store_stmt NAMESPACE_PUT = {
    "edit_namespace_put",
    "INSERT INTO namespaces AS n (name, owner_name, description, created_at, updated_at)"
    " VALUES ($1, $2, $3, now(), now())"
    " ON CONFLICT (name) DO UPDATE SET owner_name = EXCLUDED.owner_name,"
    "  description = coalesce(EXCLUDED.description, n.description), is_hidden = false, updated_at = now()"
    " RETURNING " STORE_SQL_NAMESPACE_JSON,
    3};

static const struct store_stmt NAMESPACE_DELETE = {
    "edit_namespace_delete",
    "WITH hd AS (UPDATE datasets SET is_hidden = true WHERE namespace = $1 AND NOT is_hidden),"
    " hj AS (UPDATE jobs SET is_hidden = true WHERE namespace = $1 AND NOT is_hidden),"
    " hn AS (UPDATE namespaces SET is_hidden = true WHERE name = $1)"
    " SELECT " STORE_SQL_NAMESPACE_JSON " FROM namespaces n WHERE n.name = $1",
    1};

static const struct store_stmt DATASET_DELETE = {
    "edit_dataset_delete",
    "WITH h AS (UPDATE datasets SET is_hidden = true WHERE id = $1::bigint)"
    " SELECT " STORE_SQL_DATASET_JSON " FROM datasets d"
    " LEFT JOIN dataset_versions fv ON fv.version = d.current_version"
    " CROSS JOIN (SELECT false AS want_cl) p WHERE d.id = $1::bigint",
    1};

static const struct store_stmt JOB_DELETE = {
    "edit_job_delete",
    "WITH h AS (UPDATE jobs SET is_hidden = true WHERE id = $1::bigint),"
    " page AS (SELECT id, 1 AS o FROM jobs WHERE id = $1::bigint)," STORE_SQL_JOBS_CTES
    " SELECT " STORE_SQL_JOB_JSON STORE_SQL_JOB_FROM,
    1};

/* $1 dataset id, $2 field (NULL: the dataset itself), $3 tag, $4 add. Returns whether the field exists. */
static const struct store_stmt DATASET_TAG = {
    "edit_dataset_tag",
    "WITH ok AS (SELECT $2::text IS NULL"
    "   OR EXISTS (SELECT 1 FROM dataset_fields WHERE dataset_id = $1::bigint AND name = $2) AS found),"
    " t AS (INSERT INTO tags (name) SELECT $3::text FROM ok WHERE ok.found AND $4::boolean"
    "  ON CONFLICT (name) DO NOTHING),"
    " ad AS (INSERT INTO dataset_tags (dataset_id, tag) SELECT $1::bigint, $3::text FROM ok"
    "  WHERE $4::boolean AND $2::text IS NULL ON CONFLICT DO NOTHING),"
    " af AS (INSERT INTO dataset_field_tags (dataset_id, field, tag)"
    "  SELECT $1::bigint, $2::text, $3::text FROM ok"
    "  WHERE $4::boolean AND ok.found AND $2::text IS NOT NULL ON CONFLICT DO NOTHING),"
    " rd AS (DELETE FROM dataset_tags WHERE NOT $4::boolean AND $2::text IS NULL"
    "  AND dataset_id = $1::bigint AND tag = $3),"
    " rf AS (DELETE FROM dataset_field_tags WHERE NOT $4::boolean AND $2::text IS NOT NULL"
    "  AND dataset_id = $1::bigint AND field = $2 AND tag = $3)"
    " SELECT found FROM ok",
    4};

static const struct store_stmt JOB_TAG = {
    "edit_job_tag",
    "WITH t AS (INSERT INTO tags (name) SELECT $2::text WHERE $3::boolean ON CONFLICT (name) DO NOTHING),"
    " a AS (INSERT INTO job_tags (job_id, tag) SELECT $1::bigint, $2::text WHERE $3::boolean"
    "  ON CONFLICT DO NOTHING),"
    " r AS (DELETE FROM job_tags WHERE NOT $3::boolean AND job_id = $1::bigint AND tag = $2)"
    " SELECT 1",
    3};

static const struct store_stmt TAG_PUT = {
    "edit_tag_put",
    "INSERT INTO tags AS t (name, description) VALUES ($1, $2)"
    " ON CONFLICT (name) DO UPDATE SET description = coalesce(EXCLUDED.description, t.description),"
    "  updated_at = now()"
    " RETURNING json_build_object('name', t.name, 'description', t.description)",
    2};

int store_edit_namespace_put(struct store *s, struct arena *a, const char *name, const char *owner,
                             const char *description, const char **json_out, struct err *e)
{
    const char *params[] = {name, owner, description};
    return store_read_json(s, a, &NAMESPACE_PUT, params, json_out, e);
}

int store_edit_namespace_delete(struct store *s, struct arena *a, const char *name, const char **json_out,
                                struct err *e)
{
    const char *params[] = {name};
    return store_read_json(s, a, &NAMESPACE_DELETE, params, json_out, e);
}

int store_edit_dataset_delete(struct store *s, struct arena *a, const char *dataset_id, const char **json_out,
                              struct err *e)
{
    const char *params[] = {dataset_id};
    return store_read_json(s, a, &DATASET_DELETE, params, json_out, e);
}

int store_edit_job_delete(struct store *s, struct arena *a, const char *job_id, const char **json_out,
                          struct err *e)
{
    const char *params[] = {job_id};
    return store_read_json(s, a, &JOB_DELETE, params, json_out, e);
}

int store_edit_dataset_tag(struct store *s, const char *dataset_id, const char *field, const char *tag,
                           bool add, bool *field_found, struct err *e)
{
    const char *params[] = {dataset_id, field, tag, add ? "true" : "false"};
    PGresult *res = store_exec(s, &DATASET_TAG, params, e);

    if (res == NULL)
        return -1;
    *field_found = PQntuples(res) > 0 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

int store_edit_job_tag(struct store *s, const char *job_id, const char *tag, bool add, struct err *e)
{
    const char *params[] = {job_id, tag, add ? "true" : "false"};
    return store_exec_command(s, &JOB_TAG, params, e);
}

int store_edit_tag_put(struct store *s, struct arena *a, const char *name, const char *description,
                       const char **json_out, struct err *e)
{
    const char *params[] = {name, description};
    return store_read_json(s, a, &TAG_PUT, params, json_out, e);
}
