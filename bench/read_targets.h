/* bench/read_targets.h - the requests bench/run_read.py times (read_targets.c).
 * Threads: single-threaded. */
#ifndef LINEAGED_BENCH_READ_TARGETS_H
#define LINEAGED_BENCH_READ_TARGETS_H

#include "read_gen.h"

/* Writes "route <TAB> path" lines for the store r describes to path; exits through gen_die when the
 * file cannot be written. */
void read_targets_write(const struct rgen *r, const char *path);

#endif
