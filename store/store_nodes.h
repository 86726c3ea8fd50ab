/* store/store_nodes.h - the `data` objects of lineage graph nodes (Marquez's JobData and DatasetData),
 * fetched for a whole answer in one statement per node type (no per-node queries).
 *
 * The JSON is built in SQL with Marquez's key order and formats (ISO-8601 UTC timestamps with
 * microseconds, nulls present). A job's inputs and outputs are left to the caller, which has them in
 * the lineage graph (thousands of them cost microseconds there, a join per row here). */
#ifndef LINEAGED_STORE_NODES_H
#define LINEAGED_STORE_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "store.h"

/* For each (namespace[i], name[i]) sets heads_out[i] and tails_out[i] to the job's JobData in two
 * objects: the members before "inputs" (id .. namespace) and those after "outputs" (location,
 * description, latestRun); both NULL when the database has no such job. Returns 0, or -1 with e set. */
int store_job_data(struct store *s, struct arena *a, const char *const *namespaces, const char *const *names,
                   size_t n, const char **heads_out, const char **tails_out, struct err *e);

/* For each (namespace[i], name[i]) sets json_out[i] to the dataset's DatasetData (arena text), or NULL
 * when the database has no such dataset. Returns 0, or -1 with e set. */
int store_dataset_data(struct store *s, struct arena *a, const char *const *namespaces, const char *const *names,
                       size_t n, const char **json_out, struct err *e);

/* A dataset field by names. */
struct store_field_ref {
    const char *ns, *dataset, *field;
};

/* A field of a column-lineage answer and its inputs in that answer. */
struct store_field_key {
    const char *ns, *dataset, *field;
    struct store_field_ref *inputs;
    size_t n_inputs;
};

/* Marquez's ColumnLineageNodeData for each keys[i]; NULL if the dataset is unknown. inputFields are the
 * column-lineage rows from keys[i].inputs to the field, the top-level transformation members the
 * first input's; a field without inputs gets fieldType "" and inputFields [], as Marquez builds
 * input-only nodes. Returns 0, or -1 with e set. */
int store_field_data(struct store *s, struct arena *a, const struct store_field_key *keys, size_t n,
                     const char **json_out, struct err *e);

/* Whether (ns, dataset) names a dataset (directly or as an alias) that has the column `field`.
 * Returns 0 with *exists set, or -1 with e set. */
int store_field_exists(struct store *s, const char *ns, const char *dataset, const char *field, bool *exists,
                       struct err *e);

/* Marquez's run-level upstream answer {"runs":[...]} for run_uuid: the runs that produced the exact
 * dataset versions it read, recursively up to depth, ordered by depth then job name. *json_out is
 * NULL when the run does not exist. Returns 0, or -1 with e set. */
int store_run_upstream(struct store *s, struct arena *a, const char *run_uuid, long depth, const char **json_out,
                       struct err *e);

/* The kind of each dataset (migrations/0008_ml_lineage.sql): its type (upper case: TABLE, MODEL,
 * FEATURE_VIEW, ...) and subtype (REGISTERED, ...), each NULL when unknown. */
int store_dataset_types(struct store *s, struct arena *a, const char *const *namespaces,
                        const char *const *names, size_t n, const char **types_out,
                        const char **sub_types_out, struct err *e);

enum store_pin_kind { STORE_PIN_RUN, STORE_PIN_JOB_VERSION, STORE_PIN_DATASET_VERSION };

/* The event time (seconds) a lineage answer is pinned to: the run's last event, the job version's
 * last run, or the dataset version's creation. key is the run UUID or the version UUID (for a dataset
 * version also the datasetVersion its producer named); ns/name name the job or dataset for versions. Returns 1 and sets *seconds, 0 if there is no such run or version,
 * or -1 with e set. */
int store_pin_time(struct store *s, enum store_pin_kind kind, const char *ns, const char *name, const char *key,
                   uint32_t *seconds, struct err *e);

#endif
