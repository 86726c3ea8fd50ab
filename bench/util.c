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

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void util_sort_u64(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u64);
}

double util_percentile_ms(const uint64_t *v, size_t n, unsigned pct)
{
    size_t rank = (n * pct + 99) / 100;
    return (double)v[rank == 0 ? 0 : rank - 1] / 1e6;
}
