/* server/publish_model.h - `lineaged publish-model FILE`: publishes an ML model's metadata file as
 * one OpenLineage event to a running lineaged (see publish_model.c for the steps).
 *
 * Invariant: a file that does not parse is never sent, in part or at all.
 * Threads: runs on main's thread; nothing else runs in the process. */
#ifndef LINEAGED_PUBLISH_MODEL_H
#define LINEAGED_PUBLISH_MODEL_H

#include "cfg.h"

/* Runs the subcommand with c's publish-model options. Returns the exit code: 0 published (or printed,
 * with --dry-run; warnings allowed), 1 the file is broken or the server refused or could not be
 * reached, 2 a bad option value (--url). */
int publish_model_run(const struct cfg *c);

#endif
