/* store/store_stream.h - the event log in the order the event stream delivers it: by position
 * (xid, seq), the writing transaction's id and then seq.
 *
 * Why this order: seq is taken at insert, but transactions commit in any order, so a lower seq can
 * become visible after a higher one. A reader that takes only the events of transactions with xid
 * below the oldest running transaction (pg_snapshot_xmin), window after window, never skips one:
 * every such transaction has ended, and a transaction still running, or without an xid yet, has (or
 * will get) an xid at or above that xmin. Each window's events therefore all sort after the previous
 * window's by (xid, seq). So the stream delivers in (xid, seq) order, and a client that saw event S
 * has seen every event positioned before S: resuming after S's position skips nothing and repeats
 * nothing, on this collector or any other that shares the database.
 * Invariants:
 *  1. store_log_follow and store_stream_page read the same columns through one row decoder, so a live
 *     event and the same event read back on a resume look the same (filters match the same way).
 *  2. Every position handed out is below the horizon it was read with; positions only grow.
 * Threads: one thread per struct store. */
#ifndef LINEAGED_STORE_STREAM_H
#define LINEAGED_STORE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* Where an event is in the log's delivery order. */
struct store_stream_pos {
    uint64_t xid;
    int64_t seq;
};

/* One event of the log. Strings are borrowed for the callback; NULL when the column is NULL. */
struct store_log_event {
    struct store_stream_pos pos;
    const char *kind;       /* RUN_EVENT, DATASET_EVENT, JOB_EVENT */
    const char *event_type; /* eventType, or NULL */
    const char *producer;
    const char *namespace; /* the job's, or a DatasetEvent's dataset's */
    const char *job_name;  /* NULL for DatasetEvents */
    const char *body;      /* the stored event, JSON text on one line */
    size_t len;
};

/* Exact matches; NULL: any. */
struct store_stream_filter {
    const char *namespace, *job, *event_type, *producer;
};

typedef int store_log_fn(void *ctx, const struct store_log_event *ev, struct err *e);

/* true when ev passes f (the same test store_stream_page applies in SQL). */
bool store_stream_match(const struct store_stream_filter *f, const struct store_log_event *ev);

/* (a) < (b) in delivery order. */
bool store_stream_before(struct store_stream_pos a, struct store_stream_pos b);

/* Calls fn for each event whose writing transaction ended since the last call: xid in
 * [*xmin, current xmin), in (xid, seq) order; then advances *xmin. Returns the number of events, or
 * -1 with e set (*xmin unchanged: the same window is read again next time). */
int store_log_follow(struct store *s, uint64_t *xmin, store_log_fn *fn, void *ctx, struct err *e);

/* The position of event `seq`: 1 when it is in the log, 0 when it is not (dropped by retention, or
 * never stored here). */
int store_stream_position(struct store *s, int64_t seq, struct store_stream_pos *pos, struct err *e);

/* Calls fn for at most limit events after `after` with xid below horizon, seq >= min_seq, passing f,
 * in (xid, seq) order. Returns the number of events, or -1 with e set. */
int store_stream_page(struct store *s, struct store_stream_pos after, uint64_t horizon, int64_t min_seq,
                      const struct store_stream_filter *f, int limit, store_log_fn *fn, void *ctx,
                      struct err *e);

#endif
