/* bench/util.c - shared helpers for the bench tools: messages, allocation that aborts, monotonic time.
 *
 * Invariants:
 *  1. util_xmalloc and util_xcalloc never return NULL (they abort) and never take 0 bytes to mean NULL.
 * Ownership: memory returned here belongs to the caller. Threads: stateless. */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { UTIL_NS_PER_S = 1000000000 };

void util_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_ingest: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void *util_xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    if (p == NULL) {
        fprintf(stderr, "bench_ingest: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

void *util_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
    if (p == NULL) {
        fprintf(stderr, "bench_ingest: out of memory (%zu x %zu bytes)\n", n, size);
        abort();
    }
    return p;
}

uint64_t util_now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("bench_ingest: clock_gettime");
        abort();
    }
    return (uint64_t)ts.tv_sec * UTIL_NS_PER_S + (uint64_t)ts.tv_nsec;
}
