/* server/stats.h - `lineaged stats`: a running lineaged's activity, refreshed in place on a terminal
 * (plain snapshots otherwise), from GET /metrics and the /api/v1 routes. */
#ifndef LINEAGED_STATS_H
#define LINEAGED_STATS_H

#include "cfg.h"

/* Shows a snapshot every --interval seconds until SIGINT/SIGTERM or --count snapshots; exit 0, or 1
 * when the server refuses (401, 403) or cannot be reached for the first snapshot. */
int stats_run(const struct cfg *c);

#endif
