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
#include "store_graph.h"

/* The rows of the load, each with the node it became, for whoever keeps more about nodes than the
 * graph does (the API's resident node data). A dataset or field row comes with the node its
 * dataset's name interned to at that point of the load; a node whose name a later symlink of the
 * load changed is touched (graph_touch), so data kept under stamp 0 no longer counts for it. Any
 * callback may be NULL; without a field callback the dataset_fields table is not read. field runs on
 * the store's second thread (store_graph.h), after every dataset and job row: it must not touch what
 * the other callbacks change meanwhile. Each returns 0, or -1 with e set to stop the load. Strings are
 * borrowed for the call. */
struct sync_rows {
    void *ctx;
    void (*sizes)(void *ctx, const struct store_graph_sizes *sz);
    int (*dataset)(void *ctx, uint32_t node, const struct store_graph_dataset *d, struct err *e);
    int (*job)(void *ctx, uint32_t node, const struct store_graph_job *j, struct err *e);
    int (*field)(void *ctx, uint32_t dataset_node, const struct store_graph_field *f, struct err *e);
};

/* Loads every node and edge from the database into the (empty) graph g, taking its write lock, and
 * passes the rows to rows (may be NULL). *xmin_out: where the follower starts. Returns 0, or -1 with
 * e set. */
int sync_load(struct graph *g, struct store *s, const struct sync_rows *rows, uint64_t *xmin_out, struct err *e);

/* Applies one committed event to g under its write lock. Returns 0, or -1 with e set (graph full). */
int sync_event(struct graph *g, const struct ol_event *ev, struct err *e);

#endif
