/* server/tail.h - `lineaged tail`: follows GET /api/v1/events/stream in a terminal. */
#ifndef LINEAGED_TAIL_H
#define LINEAGED_TAIL_H

#include "cfg.h"

/* Runs until SIGINT/SIGTERM (exit 0) or a refusal that retrying cannot fix (401, 403, 400: exit 1);
 * reconnects by itself otherwise, resuming after the last event shown. */
int tail_run(const struct cfg *c);

#endif
