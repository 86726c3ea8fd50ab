/* collector/sync.h - keeps the in-memory graph a projection of committed rows.
 *
 * Three ways in, one meaning: sync_load builds the graph from the tables at start-up; sync_event
 * applies one event right after its transaction committed (same process); the follower
 * (follower.h) applies events committed by other collectors on the same database. Applying an event
 * twice changes nothing (interning and edge upserts are idempotent), so the three may overlap.
 * Invariant: nothing reaches the graph before its COMMIT succeeded. */
#ifndef LINEAGED_SYNC_H
#define LINEAGED_SYNC_H

#include <stdint.h>

#include "event.h"
#include "graph.h"
#include "store.h"

/* Loads every node and edge from the database into the (empty) graph g, taking its write lock.
 * *xmin_out: where the follower starts. Returns 0, or -1 with e set. */
int sync_load(struct graph *g, struct store *s, uint64_t *xmin_out, struct err *e);

/* Applies one committed event to g under its write lock. Returns 0, or -1 with e set (graph full). */
int sync_event(struct graph *g, const struct ol_event *ev, struct err *e);

#endif
