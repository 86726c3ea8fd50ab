/* store/store_ml.h - the queries behind the ML lineage routes (api/ml.h): datasets across namespaces by
 * kind, owner and label; names without their namespace; runs by what they read and wrote; the data an
 * impact row shows; a version's provenance and a run's children, one level at a time.
 *
 * Invariants:
 *  1. As store_read.h: outputs are arena copies, JSON is built by Postgres with every key present,
 *     hidden (soft-deleted) objects and alias rows are not listed, a symlinked or aliased name
 *     resolves to its group's row.
 *  2. Every function runs one statement, bounded by its limit (callers validate limits).
 * Errors: -1 with e set (store errors: ERR_UNAVAILABLE, ERR_INTERNAL).
 * Threads: like every store call, one thread per struct store. */
#ifndef LINEAGED_STORE_ML_H
#define LINEAGED_STORE_ML_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "err.h"

struct store;

/* ---- store/store_ml.c ---- */

/* GET /api/v1/datasets. Each filter NULL: any. kinds: kind_sql_params's three JSON arrays (all NULL
 * for any kind). owner: one of the dataset's owners; tag: a Marquez tag of the dataset or one of its
 * labels (migrations/0008_ml_lineage.sql); q: a substring of its name (case-insensitive). */
struct store_dataset_query {
    const char *types, *any_sub, *pairs;
    const char *ns, *owner, *tag, *q;
    long limit, offset;
};

/* {"totalCount":N,"datasets":[Dataset...]} ordered by namespace, then name. */
int store_read_all_datasets(struct store *s, struct arena *a, const struct store_dataset_query *q,
                            const char **json_out, struct err *e);

/* A dataset or job whose name is exactly the one asked, in some namespace. */
struct store_candidate {
    bool job;
    const char *ns, *name; /* the group's row for a dataset, the target for a symlinked job */
};

/* The datasets (own, alias and symlink names) and jobs named `name`, ordered (datasets first, then by
 * namespace and name), at most max; *n_out how many were found, max + 1 meaning "more than max" (out
 * must hold max + 1). */
int store_name_candidates(struct store *s, struct arena *a, const char *name, size_t max,
                          struct store_candidate *out, size_t *n_out, struct err *e);

/* GET /api/v1/runs. states: JSON array of run states or NULL; job: a job's (namespace, name) or NULL
 * namespace; reads/writes: a dataset's (namespace, name) and optionally a version (a UUID or the
 * producer's name for it), or NULL namespace; since/until: ISO-8601 times or NULL (a run's time is its
 * first event's). */
struct store_run_query {
    const char *states;
    const char *job_ns, *job_name;
    const char *reads_ns, *reads_name, *reads_version;
    const char *writes_ns, *writes_name, *writes_version;
    const char *since, *until;
    long limit, offset;
};

/* {"totalCount":N,"runs":[Run + "job":{namespace,name}...]}, newest first (first event time, then id). */
int store_read_run_query(struct store *s, struct arena *a, const struct store_run_query *q,
                         const char **json_out, struct err *e);

/* What an impact row shows about a node. Strings NULL when unknown; owners a JSON array text. */
struct store_node_summary {
    bool found; /* the database has the row */
    const char *dataset_type, *sub_type;
    const char *version;          /* the current dataset or job version (UUID) */
    const char *producer_version; /* the producer's name for the current dataset version */
    const char *owners;           /* ["team:risk", ...] */
    const char *description;
};

/* The summary of each (job[i] ? job : dataset, ns[i], names[i]) into out[i] (a job has no kind and no
 * producer version). Returns 0, or -1 with e set. */
int store_node_summaries(struct store *s, struct arena *a, const bool *job, const char *const *ns,
                         const char *const *names, size_t n, struct store_node_summary *out, struct err *e);

/* ---- store/store_provenance.c ---- */

/* One run of a provenance or DAG answer: its JSON object (id, state, times, parentRunId, job with its
 * version and location, facets, jobFacets, inputs and outputs at the versions used, each input with the
 * run that produced its version) and the versions it read and wrote, as JSON arrays. */
struct store_prov_run {
    const char *uuid;
    const char *json;
    const char *inputs; /* [["<version uuid>", "<namespace>", "<name>"], ...] */
    const char *outputs;
    const char *parent; /* parent run UUID, or NULL */
};

/* The dataset version {"namespace","name","version","producerVersion","datasetType","subType",
 * "createdAt","producedByRunId"} of dataset row dataset_id named `version` (its UUID, or the version its
 * producer named); *json_out NULL when there is none. *run_out: the run that wrote it, NULL when it was
 * only read. */
int store_prov_version(struct store *s, struct arena *a, const char *dataset_id, const char *version,
                       const char **json_out, const char **version_out, const char **run_out, struct err *e);

/* The runs that wrote the versions in versions_json (a JSON array of UUIDs), at most max (max + 1 rows
 * mean more), ordered by run id; *n_out how many. */
int store_prov_producers(struct store *s, struct arena *a, const char *versions_json, size_t max,
                         struct store_prov_run *out, size_t *n_out, struct err *e);

/* The runs in runs_json (a JSON array of UUIDs) themselves (by_parent false), or their child runs
 * (by_parent true: parent facet), at most max (max + 1 rows mean more), ordered by first event time and
 * id. */
int store_prov_runs(struct store *s, struct arena *a, const char *runs_json, bool by_parent, size_t max,
                    struct store_prov_run *out, size_t *n_out, struct err *e);

#endif
