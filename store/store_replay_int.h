/* store/store_replay_int.h - what store/store_replay.c and store/store_replay_tables.c share: the
 * list of compared tables with their projections, and the list of tables not derived from events.
 * Included only by those two files. */
#ifndef LINEAGED_STORE_REPLAY_INT_H
#define LINEAGED_STORE_REPLAY_INT_H

#include "store_int.h"
#include "store_replay.h"

/* A model table and the SELECT that projects it onto what events derive (store_replay.h). */
struct store_replay_projection {
    const char *table;
    const char *sql;
};

/* The compared tables, in comparison order; *n their count. */
const struct store_replay_projection *store_replay_tables(size_t *n);

/* The tables that are not derived from events (never compared); *n their count. */
const char *const *store_replay_not_derived(size_t *n);

#endif
