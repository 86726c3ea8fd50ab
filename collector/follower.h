/* collector/follower.h - a thread that applies other collectors' events to this process's graph, and
 * hands every event of the log, window by window, to an observer (the event stream, server/stream.h).
 *
 * Observer contract: for each look at the log, event() is called for each event of the window in
 * (xid, seq) order (store_stream.h), then window(horizon) once the whole window is applied (every
 * event with xid below horizon has been passed), or abort() when the look failed part way (the same
 * window is read again later, so what event() got since the last window() must be forgotten). All
 * three run on the follower's thread. */
#ifndef LINEAGED_FOLLOWER_H
#define LINEAGED_FOLLOWER_H

#include <stdint.h>

#include "err.h"
#include "graph.h"
#include "metrics.h"
#include "store_stream.h"

struct follower;

struct follower_observer {
    void *ctx;
    void (*event)(void *ctx, const struct store_log_event *ev);
    void (*window)(void *ctx, uint64_t horizon);
    void (*abort)(void *ctx);
};

/* Starts a thread that every interval_ms applies events committed since xmin (see store_graph.h) and
 * reports its position and the applied events' namespace times to m (borrowed; outlives f), and
 * passes the log to obs (borrowed, may be NULL). It opens its own connection to conninfo. NULL with e
 * set if the thread cannot start. */
struct follower *follower_start(struct graph *g, const char *conninfo, uint64_t xmin, int interval_ms,
                                int max_json_depth, struct metrics *m, const struct follower_observer *obs,
                                struct err *e);

/* Stops and joins the thread, frees f. NULL is a no-op. */
void follower_stop(struct follower *f);

#endif
