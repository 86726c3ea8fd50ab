/* bench/util.h - the few helpers every bench source shares: messages, allocation, a monotonic clock.
 *
 * Invariants:
 *  1. Every message goes to stderr as one line prefixed "bench_ingest: ".
 *  2. Allocation never returns NULL: out of memory aborts with a message, since a benchmark cannot
 *     do anything useful without its memory.
 * Threads: stateless; safe from any thread. */
#ifndef LINEAGED_BENCH_UTIL_H
#define LINEAGED_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Prints "bench_ingest: <message>\n" to stderr (errors and progress notes alike). Cannot fail. */
void util_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* n bytes (at least 1) of uninitialised memory; caller frees. Aborts when out of memory. */
void *util_xmalloc(size_t n);

/* n zeroed elements of size bytes; caller frees. Aborts when out of memory. */
void *util_xcalloc(size_t n, size_t size);

/* Monotonic time in nanoseconds. Aborts if the clock cannot be read. */
uint64_t util_now_ns(void);

/* Sorts v ascending. */
void util_sort_u64(uint64_t *v, size_t n);

/* Nearest-rank percentile of n > 0 values in milliseconds (nanoseconds in); v must be sorted. */
double util_percentile_ms(const uint64_t *v, size_t n, unsigned pct);

#endif
