/* store/store_read.h - the queries behind the Marquez-compatible API (api/), and the few edits that
 * API allows (namespace PUT/DELETE, soft deletes, tags).
 *
 * Every function runs a bounded number of prepared statements (one, unless said otherwise) whatever
 * the page size: Postgres builds the response JSON (json_build_object/json_agg, keys in Marquez's
 * order, nulls present, timestamps as "YYYY-MM-DDTHH:MM:SS.ffffffZ"), so a page of 100 jobs with
 * their latest runs is one statement, not 1 + 100 + 1000.
 * Invariants:
 *  1. Outputs (*json_out, ids, names) are NUL-terminated copies in the caller's arena; no PGresult
 *     escapes. A "not found" is not an error: the function returns 0 with *json_out NULL.
 *  2. Objects hidden by a soft delete (is_hidden) are "not found", except namespaces, which Marquez
 *     keeps listing with isHidden true.
 *  3. Ids passed in (dataset_id, job_id) are the decimal text of datasets.id / jobs.id, as returned by
 *     store_read_dataset_ref / store_read_job_ref in the same request.
 * Errors: -1 with e set (store errors: ERR_UNAVAILABLE, ERR_INTERNAL; ERR_BAD_INPUT where stated).
 * Threads: like every store call, one thread per struct store. */
#ifndef LINEAGED_STORE_READ_H
#define LINEAGED_STORE_READ_H

#include <stdbool.h>

#include "arena.h"
#include "err.h"

struct store;

/* What a (namespace, name) in a URL resolves to. */
struct store_ref {
    bool namespace_found;
    const char *id;               /* datasets.id or jobs.id as text; NULL if not found (or hidden) */
    const char *target_namespace; /* jobs only: set when the name is a symlink to another job */
    const char *target_name;
};

/* ---- namespaces, sources, tags (store/store_read_catalog.c) ---- */

/* {"namespaces":[Namespace...]} ordered by name. */
int store_read_namespaces(struct store *s, struct arena *a, long limit, long offset, const char **json_out,
                          struct err *e);
/* Namespace, or NULL. */
int store_read_namespace(struct store *s, struct arena *a, const char *name, const char **json_out,
                         struct err *e);
/* {"sources":[Source...]} ordered by name. */
int store_read_sources(struct store *s, struct arena *a, long limit, long offset, const char **json_out,
                       struct err *e);
/* Source, or NULL. */
int store_read_source(struct store *s, struct arena *a, const char *name, const char **json_out,
                      struct err *e);
/* {"tags":[{name,description}...]} ordered by name. */
int store_read_tags(struct store *s, struct arena *a, long limit, long offset, const char **json_out,
                    struct err *e);

/* ---- datasets (store/store_read_datasets.c) ---- */

/* Resolves (namespace, name), directly or through a dataset symlink. */
int store_read_dataset_ref(struct store *s, struct arena *a, const char *ns, const char *name,
                           struct store_ref *out, struct err *e);
/* {"totalCount":N,"datasets":[Dataset...]} ordered by name (with columnLineage); NULL when the namespace
 * does not exist. */
int store_read_datasets(struct store *s, struct arena *a, const char *ns, long limit, long offset,
                        const char **json_out, struct err *e);
/* Dataset; columnLineage is null unless with_column_lineage. NULL if the id is gone. */
int store_read_dataset(struct store *s, struct arena *a, const char *dataset_id, bool with_column_lineage,
                       const char **json_out, struct err *e);
/* {"versions":[DatasetVersion...],"totalCount":N}, newest first. */
int store_read_dataset_versions(struct store *s, struct arena *a, const char *dataset_id, long limit,
                                long offset, const char **json_out, struct err *e);
/* DatasetVersion, or NULL when version (a UUID, or the datasetVersion a producer named) is not a
 * version of this dataset. */
int store_read_dataset_version(struct store *s, struct arena *a, const char *dataset_id, const char *version,
                               const char **json_out, struct err *e);

/* ---- jobs and runs (store/store_read_jobs.c, store/store_read_runs.c) ---- */

/* Resolves (namespace, name); a job whose symlink_target_id is set resolves to its target. */
int store_read_job_ref(struct store *s, struct arena *a, const char *ns, const char *name,
                       struct store_ref *out, struct err *e);
/* {"totalCount":N,"jobs":[Job...]}, most recently updated first. ns NULL: all namespaces.
 * states_json NULL: any last run state; else a JSON array of states ("RUNNING", ...): only jobs whose
 * latest run is in one of them, or that have no run (Marquez's rule); totalCount counts the same set.
 * NULL when ns is given and does not exist. */
int store_read_jobs(struct store *s, struct arena *a, const char *ns, const char *states_json, long limit,
                    long offset, const char **json_out, struct err *e);
/* Job (latestRun, latestRuns, inputs, outputs, facets), or NULL. */
int store_read_job(struct store *s, struct arena *a, const char *job_id, const char **json_out,
                   struct err *e);
/* {"versions":[JobVersion...]}, newest first. */
int store_read_job_versions(struct store *s, struct arena *a, const char *job_id, long limit, long offset,
                            const char **json_out, struct err *e);
/* JobVersion, or NULL when version (a UUID) is not a version of this job. */
int store_read_job_version(struct store *s, struct arena *a, const char *job_id, const char *version,
                           const char **json_out, struct err *e);
/* {"runs":[Run...],"totalCount":N}, latest start first. */
int store_read_job_runs(struct store *s, struct arena *a, const char *job_id, long limit, long offset,
                        const char **json_out, struct err *e);
/* Run, or NULL. run_uuid must be a canonical UUID. */
int store_read_run(struct store *s, struct arena *a, const char *run_uuid, const char **json_out,
                   struct err *e);
enum store_facets_kind { STORE_FACETS_RUN, STORE_FACETS_JOB, STORE_FACETS_DATASET };

/* {"runId":..,"facets":{..}}: the run's facets; for STORE_FACETS_JOB the job facets the run's own
 * events carried; for STORE_FACETS_DATASET always {} (as Marquez). NULL when the run does not exist. */
int store_read_run_facets(struct store *s, struct arena *a, const char *run_uuid, enum store_facets_kind kind,
                          const char **json_out, struct err *e);

/* ---- search, events, stats (store/store_read_search.c) ---- */

/* Where search looks (in=): bits of these. */
enum store_search_in {
    STORE_SEARCH_NAME = 1u << 0,        /* names: own, alias and symlink names (Marquez's search) */
    STORE_SEARCH_FIELDS = 1u << 1,      /* a dataset's field names */
    STORE_SEARCH_DESCRIPTION = 1u << 2, /* descriptions */
    STORE_SEARCH_TAGS = 1u << 3,        /* Marquez tags and labels (tags facets, Feast tags) */
    STORE_SEARCH_OWNERS = 1u << 4,      /* owners (ownership facets, Feast owners) */
};

struct store_search {
    const char *q;      /* matched case-insensitively anywhere in the text (ILIKE, as Marquez) */
    const char *filter; /* NULL, "DATASET" or "JOB" */
    const char *sort;   /* "name" (ascending) or "updated_at" (newest first) */
    long limit;
    const char *ns;     /* NULL: any namespace */
    const char *before; /* NULL or "YYYY-MM-DD": updated before that day (UTC) */
    const char *after;  /* NULL or "YYYY-MM-DD": updated after that day */
    unsigned in;        /* enum store_search_in bits; at least one */
};

/* {"totalCount":N,"results":[SearchResult + datasetType, subType, matchedIn, matched...]}: each object
 * once, with the first place it matched in (name, fields, description, tags, owners, in that order)
 * and the text that matched there (a description cut to 200 characters). */
int store_read_search(struct store *s, struct arena *a, const struct store_search *q, const char **json_out,
                      struct err *e);
/* {"events":[RunEvent JSON...],"totalCount":N}: run events with after <= eventTime < before (ISO-8601
 * text), by eventTime; totalCount counts events of every kind in the window (Marquez's query). */
int store_read_events(struct store *s, struct arena *a, const char *before, const char *after, bool ascending,
                      long limit, long offset, const char **json_out, struct err *e);

enum store_stats_kind { STORE_STATS_EVENTS, STORE_STATS_JOBS, STORE_STATS_DATASETS, STORE_STATS_SOURCES };

/* The stats series: week false = 24 hourly buckets ending with the current hour; week true = 7 days
 * ending today in time zone tz (required, a Postgres/IANA zone name; ERR_BAD_INPUT when unknown).
 * Events: [{startInterval,endInterval,fail,start,complete,abort}]; others: cumulative
 * [{startInterval,endInterval,count}] by created_at. */
int store_read_stats(struct store *s, struct arena *a, enum store_stats_kind kind, bool week, const char *tz,
                     const char **json_out, struct err *e);

/* ---- edits the Marquez API makes (store/store_read_edit.c) ---- */

/* Creates or updates a namespace (owner; description when not NULL) and un-hides it. Namespace out. */
int store_edit_namespace_put(struct store *s, struct arena *a, const char *name, const char *owner,
                             const char *description, const char **json_out, struct err *e);
/* Hides the namespace and all its datasets and jobs; the namespace as it was before, or NULL. */
int store_edit_namespace_delete(struct store *s, struct arena *a, const char *name, const char **json_out,
                                struct err *e);
/* Hides a dataset; the dataset as it was before. */
int store_edit_dataset_delete(struct store *s, struct arena *a, const char *dataset_id, const char **json_out,
                              struct err *e);
/* Hides a job; the job as it was before. */
int store_edit_job_delete(struct store *s, struct arena *a, const char *job_id, const char **json_out,
                          struct err *e);

/* Adds (add true) or removes a tag on a dataset, or on one of its fields when field is not NULL.
 * Adding creates the tag. *field_found is false (and nothing changed) when the field does not exist. */
int store_edit_dataset_tag(struct store *s, const char *dataset_id, const char *field, const char *tag,
                           bool add, bool *field_found, struct err *e);
/* Adds or removes a tag on a job; adding creates the tag. */
int store_edit_job_tag(struct store *s, const char *job_id, const char *tag, bool add, struct err *e);
/* Creates a tag or updates its description (kept when description is NULL). {name,description} out. */
int store_edit_tag_put(struct store *s, struct arena *a, const char *name, const char *description,
                       const char **json_out, struct err *e);

#endif
