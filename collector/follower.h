/* collector/follower.h - a thread that applies other collectors' events to this process's graph. */
#ifndef LINEAGED_FOLLOWER_H
#define LINEAGED_FOLLOWER_H

#include <stdint.h>

#include "err.h"
#include "graph.h"
#include "metrics.h"

struct follower;

/* Starts a thread that every interval_ms applies events committed since xmin (see store_graph.h) and
 * reports its position and the applied events' namespace times to m (borrowed; outlives f).
 * It opens its own connection to conninfo. NULL with e set if the thread cannot start. */
struct follower *follower_start(struct graph *g, const char *conninfo, uint64_t xmin, int interval_ms,
                                int max_json_depth, struct metrics *m, struct err *e);

/* Stops and joins the thread, frees f. NULL is a no-op. */
void follower_stop(struct follower *f);

#endif
