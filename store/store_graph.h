/* store/store_graph.h - reading the lineage graph's rows out of Postgres in bulk (the
 * increments come from the event log: store_stream.h).
 *
 * The store knows nothing of the graph: it calls a sink's callbacks once per row, in an order that
 * lets the caller build nodes before edges (datasets, symlinks, jobs, runs, then edges), and last
 * the dataset fields, which only the lineage answers' node data needs.
 * Invariants:
 *  1. store_graph_load reads everything in one REPEATABLE READ snapshot and returns that snapshot's
 *     xmin: every transaction with xid < xmin is in the load; later ones come through
 *     store_log_follow (store_stream.h), so nothing committed is missed or lost between the two.
 *  2. Edge times are seconds since the epoch (clamped to uint32, rounded down as collector/sync.c
 *     rounds event times); row times for node data are microseconds since the epoch; ids are the
 *     tables' bigint ids. */
#ifndef LINEAGED_STORE_GRAPH_H
#define LINEAGED_STORE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "store.h"

/* Row counts as the planner last estimated them (pg_class.reltuples; 0 when never counted): for
 * sizing, never for correctness. */
struct store_graph_sizes {
    size_t datasets, symlinks, jobs, runs, job_io, run_io, columns, fields;
};

/* A datasets row: what the graph needs (id, names) and what a lineage answer shows of it. */
struct store_graph_dataset {
    int64_t id;
    const char *ns, *name;
    const char *type, *physical_name, *source_name; /* never NULL */
    const char *description, *lifecycle_state;      /* NULL when unset */
    const char *dataset_type, *sub_type;            /* the kind (migration 0008); NULL when unset */
    int64_t created_usec, updated_usec;
};

/* A jobs row. parent_id 0: no parent job. */
struct store_graph_job {
    int64_t id, parent_id;
    const char *ns, *name;
    const char *simple_name, *type;                 /* never NULL */
    const char *description, *location, *latest_run; /* NULL when unset; latest_run is a UUID */
    int64_t created_usec, updated_usec;
};

/* A column_lineage row. out_field NULL: the input column affects the whole output dataset. */
struct store_graph_column {
    int64_t out_dataset, in_dataset;
    const char *out_field, *in_field;
    const char *run_uuid; /* NULL when unset */
    uint32_t first_seen, last_seen;
};

/* A dataset_fields row. */
struct store_graph_field {
    int64_t dataset_id;
    const char *name;
    const char *type, *description; /* NULL when unset */
    int32_t ordinal;
};

struct store_graph_sink {
    void *ctx;
    /* Each returns 0, or -1 with e set to stop the load. Strings are borrowed for the call. */
    /* Called once, first, with the tables' estimated sizes. May be NULL. */
    void (*sizes)(void *ctx, const struct store_graph_sizes *sz);
    int (*dataset)(void *ctx, const struct store_graph_dataset *d, struct err *e);
    /* The dataset named (owner_ns, owner_name) declared the symlink (ns, name). */
    int (*symlink)(void *ctx, const char *owner_ns, const char *owner_name, const char *ns, const char *name,
                   struct err *e);
    int (*job)(void *ctx, const struct store_graph_job *j, struct err *e);
    /* io is 'I' (dataset -> job) or 'O' (job -> dataset); run_uuid may be NULL. */
    int (*job_io)(void *ctx, int64_t job_id, int64_t dataset_id, char io, uint32_t first_seen, uint32_t last_seen,
                  const char *run_uuid, struct err *e);
    int (*run)(void *ctx, const char *uuid, int64_t job_id, const char *parent_run_uuid, uint32_t created,
               struct err *e);
    int (*run_io)(void *ctx, const char *run_uuid, int64_t dataset_id, char io, uint32_t first_seen,
                  uint32_t last_seen, struct err *e);
    /* column_lineage rows, a few hundred at a time (n >= 1). */
    int (*columns)(void *ctx, const struct store_graph_column *rows, size_t n, struct err *e);
    /* Every dataset_fields row, in no particular order. May be NULL: the table is not read then.
     * Called on another thread (its own connection, in the same snapshot), after every dataset and
     * job row and concurrently with the run, job_io, run_io and columns callbacks. */
    int (*field)(void *ctx, const struct store_graph_field *f, struct err *e);
};

/* Streams every graph row to the sink. *xmin_out: the snapshot's xmin (see invariant 1).
 * Returns 0, or -1 with e set. */
int store_graph_load(struct store *s, const struct store_graph_sink *sink, uint64_t *xmin_out, struct err *e);


#endif
