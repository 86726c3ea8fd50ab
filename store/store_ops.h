/* store/store_ops.h - the queries operators' routes need: readiness (migrations), the follower's
 * position in the event log, newest event time per namespace, silent jobs.
 *
 * Invariants:
 *  1. Each function runs one statement whose cost does not grow with the event log: max(seq) reads
 *     the primary key's last entries; the silent-jobs query reads at most `window` newest runs per
 *     job through runs_job (job_id, created_at DESC).
 *  2. Outputs are plain values or arena copies; no PGresult escapes.
 * Errors: -1 with e set (ERR_UNAVAILABLE when the database cannot be reached, ERR_INTERNAL else).
 * Threads: like every store call, one thread per struct store. */
#ifndef LINEAGED_STORE_OPS_H
#define LINEAGED_STORE_OPS_H

#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "store.h"

/* How many of the migrations compiled into this binary the database has applied (*applied) and how
 * many there are (*expected). A database never migrated has applied 0. */
int store_ops_migrations(struct store *s, int *applied, int *expected, struct err *e);

/* *newest: the largest seq in the event log (0 when empty); *applied: the largest seq written by a
 * transaction with xid below xmin (every such transaction has ended, so a follower that has read up
 * to xmin holds it and everything committed before it). */
int store_ops_log_position(struct store *s, uint64_t xmin, int64_t *newest, int64_t *applied, struct err *e);

/* Calls fn(ctx, namespace, usec) with the newest eventTime of each namespace's jobs (jobs.updated_at),
 * newest first, at most limit namespaces. */
int store_ops_namespace_times(struct store *s, long limit,
                              void (*fn)(void *ctx, const char *ns, int64_t usec), void *ctx, struct err *e);

/* What makes a job silent (GET /api/v1/alerts/silent-jobs): its expected interval is the median gap
 * between the nominal start times of its `window` newest runs, or if they have none, between their
 * start times; it is silent when it has at least min_runs runs among them and its last run started
 * more than factor x interval ago. */
struct store_silent_query {
    double factor;
    long min_runs;
    long window;
    long limit, offset; /* page of the answer */
};

/* {"totalCount":N,"factor":F,"minRuns":M,"silentJobs":[{namespace,name,runs,intervalSource,
 * expectedIntervalSeconds,lastRunTime,expectedBy,lateSeconds}...]}, latest first. */
int store_ops_silent_jobs(struct store *s, struct arena *a, const struct store_silent_query *q,
                          const char **json_out, struct err *e);

/* The number of silent jobs only (limit and offset are ignored). */
int store_ops_silent_count(struct store *s, const struct store_silent_query *q, int64_t *count,
                           struct err *e);

#endif
