/* common/ticker.h - a thread that calls a function at a fixed interval until stopped (periodic
 * background work with its own database connection, such as counting silent jobs for /metrics).
 *
 * Invariants:
 *  1. fn runs on the ticker's thread only, never twice at once; the first call is at once, each
 *     next one interval_ms after the previous call returned.
 *  2. ticker_stop wakes a waiting ticker at once and returns after the call in progress (if any)
 *     returned and the thread was joined; fn is never called after ticker_stop returns.
 * Ownership: the caller owns ctx; it must outlive the ticker. */
#ifndef LINEAGED_TICKER_H
#define LINEAGED_TICKER_H

#include "err.h"

struct ticker;

/* Starts the thread. NULL with e set (ERR_INTERNAL) if it cannot start; interval_ms must be > 0. */
struct ticker *ticker_start(int interval_ms, void (*fn)(void *ctx), void *ctx, struct err *e);

/* Stops and joins the thread, frees t. NULL is a no-op. */
void ticker_stop(struct ticker *t);

#endif
