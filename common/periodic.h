/* common/periodic.h - a thread that runs one task every interval, until stopped (the graph follower,
 * the API key refresher, the silent-jobs count for /metrics).
 *
 * Invariants:
 *  1. tick runs on the periodic thread only, never twice at once: first at once, then each time one
 *     interval after the previous tick returned.
 *  2. periodic_stop wakes a waiting thread at once, lets a running tick finish, and joins: after it
 *     returns, tick never runs again.
 * Threads: start and stop from one owner thread; tick(arg) on the periodic thread. */
#ifndef LINEAGED_PERIODIC_H
#define LINEAGED_PERIODIC_H

#include "err.h"

struct periodic;

typedef void periodic_fn(void *arg);

/* Starts the thread. arg is borrowed and must outlive periodic_stop. NULL with e set if it cannot
 * start (out of memory, no thread). */
struct periodic *periodic_start(int interval_ms, periodic_fn *tick, void *arg, struct err *e);

/* Stops and joins the thread, frees p. periodic_stop(NULL) is a no-op. */
void periodic_stop(struct periodic *p);

#endif
