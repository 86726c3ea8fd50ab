/* server/maintain.h - the event log's upkeep while serving: partitions created ahead of time and
 * retention (store/store_log.h), once at start-up and then every --maintenance-interval seconds. */
#ifndef LINEAGED_MAINTAIN_H
#define LINEAGED_MAINTAIN_H

#include "cfg.h"
#include "err.h"

struct maintain;

/* Runs one pass now (a failure is logged, not fatal: events_default takes the rows meanwhile), then
 * starts a thread with its own connection to conninfo for the later passes. Reads the partition
 * width, retention and interval from c (kept, not copied: c must outlive the thread). NULL with e set
 * if the thread cannot start. */
struct maintain *maintain_start(const struct cfg *c, const char *conninfo, struct err *e);

/* Stops and joins the thread (a pass in progress finishes first), frees m. NULL is a no-op. */
void maintain_stop(struct maintain *m);

#endif
