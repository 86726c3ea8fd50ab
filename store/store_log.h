/* store/store_log.h - upkeep of the partitioned event log (migrations/0008): partitions created ahead
 * of time, and retention that drops whole partitions.
 *
 * Invariants:
 *  1. An insert never waits for this: creation and drops run in their own short transactions, give up
 *     after the SQL functions' lock_timeout, and are retried at the next call.
 *  2. Retention drops partitions of events only; the model tables and event_hashes are never touched,
 *     so the model keeps what dropped events derived and an old event sent again is still a duplicate.
 * Threads: one thread per struct store. */
#ifndef LINEAGED_STORE_LOG_H
#define LINEAGED_STORE_LOG_H

#include "err.h"
#include "store.h"

/* What one maintenance pass did. */
struct store_log_pass {
    int created;            /* partitions created */
    long long moved_rows;   /* rows moved into them out of events_default */
    int dropped;            /* partitions dropped by retention */
    long long default_rows; /* rows still in events_default afterwards (0 unless partitions lag) */
};

/* Creates the partitions that cover received_at up to today (UTC) + ahead_days, width_days each, then,
 * when keep_days > 0, drops every partition whose upper bound is keep_days old or more. Each partition
 * created or dropped is logged. Another collector doing the same at the same moment makes this a
 * no-op. Returns 0 with *out filled, or -1 with e set (the database unreachable, or a lock not granted
 * within the timeout: nothing of the failed step is done). */
int store_log_maintain(struct store *s, int width_days, int ahead_days, int keep_days,
                       struct store_log_pass *out, struct err *e);

#endif
