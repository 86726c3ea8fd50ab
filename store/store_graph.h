/* store/store_graph.h - reading the lineage graph's rows out of Postgres in bulk (the
 * increments come from the event log: store_stream.h).
 *
 * The store knows nothing of the graph: it calls a sink's callbacks once per row, in an order that
 * lets the caller build nodes before edges (datasets, symlinks, jobs, runs, then edges).
 * Invariants:
 *  1. store_graph_load reads everything in one REPEATABLE READ snapshot and returns that snapshot's
 *     xmin: every transaction with xid < xmin is in the load; later ones come through
 *     store_log_follow (store_stream.h), so nothing committed is missed or lost between the two.
 *  2. Times are seconds since the epoch (uint32 range), ids are the tables' bigint ids. */
#ifndef LINEAGED_STORE_GRAPH_H
#define LINEAGED_STORE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "store.h"

struct store_graph_sink {
    void *ctx;
    /* Each returns 0, or -1 with e set to stop the load. Strings are borrowed for the call. */
    int (*dataset)(void *ctx, int64_t id, const char *ns, const char *name, struct err *e);
    /* The dataset named (owner_ns, owner_name) declared the symlink (ns, name). */
    int (*symlink)(void *ctx, const char *owner_ns, const char *owner_name, const char *ns, const char *name,
                   struct err *e);
    int (*job)(void *ctx, int64_t id, const char *ns, const char *name, int64_t parent_job_id, struct err *e);
    /* io is 'I' (dataset -> job) or 'O' (job -> dataset); run_uuid may be NULL. */
    int (*job_io)(void *ctx, int64_t job_id, int64_t dataset_id, char io, uint32_t first_seen, uint32_t last_seen,
                  const char *run_uuid, struct err *e);
    int (*run)(void *ctx, const char *uuid, int64_t job_id, const char *parent_run_uuid, uint32_t created,
               struct err *e);
    int (*run_io)(void *ctx, const char *run_uuid, int64_t dataset_id, char io, uint32_t first_seen,
                  uint32_t last_seen, struct err *e);
    /* output_field NULL: the input column affects the whole output dataset. */
    int (*column)(void *ctx, int64_t out_dataset, const char *out_field, int64_t in_dataset, const char *in_field,
                  uint32_t first_seen, uint32_t last_seen, const char *run_uuid, struct err *e);
};

/* Streams every graph row to the sink. *xmin_out: the snapshot's xmin (see invariant 1).
 * Returns 0, or -1 with e set. */
int store_graph_load(struct store *s, const struct store_graph_sink *sink, uint64_t *xmin_out, struct err *e);

/* Splits one line of COPY ... TO STDOUT text format (tab-separated, the newline at its end optional)
 * into at most max_fields fields, decoding in place: fields[i] points into line, NUL-terminated,
 * with the backslash escapes decoded (\b \f \n \r \t \v, \ooo octal, \xhh hex, a backslash before
 * any other character stands for that character); a field that is exactly \N is NULL.
 * line[len] must be writable (libpq's rows end in a NUL there). Returns 0 with *n_out fields, or -1
 * for a malformed line: more than max_fields fields, a lone backslash at the end, or an escape that
 * decodes to NUL. Used by store_graph_load; public so its decoding can be tested on its own. */
int store_graph_copy_split(char *line, size_t len, char **fields, size_t max_fields, size_t *n_out);

#endif
