/* api/column_walk.h - the field-level walk behind GET /api/v1/column-lineage, the way Marquez walks it.
 *
 * Marquez walks column-lineage rows, that is edges, not fields (ColumnLineageDao.getLineage): it
 * starts from the edges into the start fields (depth 0); from an edge in -> out it takes the edges
 * into `in` (upstream) and, with withDownstream, the edges out of `out` (downstream), each one depth
 * further, while the depth stays below the requested depth. So upstream reaches `depth` edges and
 * downstream `depth - 1`, and a downstream field brings in its other inputs only through an edge that
 * leaves it (the row that feeds on it). The answer is those edges and their end fields.
 * One deliberate difference: the edges out of a start field are taken at depth 1 even when it has no
 * input (where they would be if it had one); Marquez finds no row to start from and answers nothing.
 *
 * Invariants:
 *  1. Each edge is taken once, at its smallest depth; edges come out in BFS order (depth, then
 *     discovery, which follows the graph's list order), so equal graphs give equal answers.
 *  2. Only COLUMN edges between field nodes count (a dataset-level edge, field -> dataset, does not
 *     appear in a field graph), and with as_of only edges first seen by then.
 *  3. At most max_nodes distinct fields (0: no limit) and about max_usec of walking (0: no limit);
 *     either limit sets truncated.
 * Ownership: results and scratch live in the caller's arena. Threads: call with the read lock held. */
#ifndef LINEAGED_API_COLUMN_WALK_H
#define LINEAGED_API_COLUMN_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "graph.h"

struct column_walk_opts {
    long depth;       /* Marquez's depth; 0 behaves as 1 (the edges into the start fields) */
    bool downstream;  /* withDownstream */
    uint32_t as_of;   /* 0: every edge */
    size_t max_nodes; /* 0: no limit */
    uint32_t max_usec;
};

struct column_edge {
    uint32_t from, to; /* field nodes: input field -> output field */
};

struct column_walk_result {
    struct column_edge *edges; /* in BFS order */
    size_t n;
    bool truncated;
};

/* Walks from the field nodes starts[0 .. n_starts) (duplicates allowed). Cannot fail. */
void column_walk(const struct graph *g, struct arena *a, const uint32_t *starts, size_t n_starts,
                 const struct column_walk_opts *o, struct column_walk_result *out);

#endif
