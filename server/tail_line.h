/* server/tail_line.h - one OpenLineage event as one readable terminal line, for `lineaged tail`:
 *   time  type  job  inputs -> outputs  state
 * e.g. "2026-11-23 10:00:00  RUN  etl:daily_load  raw.orders, raw.users -> dw.orders  COMPLETE".
 * Invariants:
 *  1. The line holds no control characters from the event: names are the producer's text and could
 *     carry terminal escapes, so C0 and C1 controls and DEL become '?'. With colour, only our own
 *     SGR sequences are added (and always reset at the end).
 *  2. Something is printed for any input: text that is not an event is shown as given (cleaned).
 * Threads: no state. */
#ifndef LINEAGED_TAIL_LINE_H
#define LINEAGED_TAIL_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

/* At most this many dataset names on each side; the rest counted ("+2 more"). */
enum { TAIL_MAX_NAMES = 3 };

/* The line for the event whose JSON is json[0..len), without a newline, in arena a. colour: SGR
 * sequences (dim time, bold job, state by outcome). Cannot fail. */
const char *tail_line(struct arena *a, const char *json, size_t len, bool colour);

/* s with every C0/C1 control character and DEL replaced by '?' (invariant 1), in arena a. */
const char *tail_clean(struct arena *a, const char *s);

#endif
