/* common/arena.h - region allocator for request-scoped memory.
 *
 * Invariants:
 *  1. Everything allocated from an arena is freed at once by arena_free() or arena_reset();
 *     nothing is freed piece by piece.
 *  2. Allocation never fails: out of memory aborts the process with a message (as xmalloc does).
 *  3. Returned memory is aligned for any scalar type.
 *  4. Budgets are cooperative: allocation never fails, but an arena given a budget counts the bytes
 *     of its blocks (and of memory it adopted) against its own limit and a budget shared with other
 *     arenas, and code that lets input grow memory (the body reader, gunzip, the JSON parser) asks
 *     arena_budget_check/arena_over_budget and stops with an error when either is exceeded.
 * Threads: an arena belongs to one thread at a time; a shared budget is updated with atomics. */
#ifndef LINEAGED_ARENA_H
#define LINEAGED_ARENA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct arena;

/* Memory shared by many arenas (every request of a server): bytes charged now, and the most allowed.
 * Set max before any arena uses it. */
struct arena_budget {
    atomic_size_t used;
    size_t max;
};

/* A new empty arena; caller frees with arena_free(). Aborts when out of memory. */
struct arena *arena_new(void);

/* Frees the arena and all its memory. arena_free(NULL) is a no-op. */
void arena_free(struct arena *a);

/* Frees all allocations but keeps the first block for reuse. */
void arena_reset(struct arena *a);

/* n bytes of uninitialised memory owned by the arena. */
void *arena_alloc(struct arena *a, size_t n);

/* n zeroed bytes owned by the arena. */
void *arena_zalloc(struct arena *a, size_t n);

/* Copies of strings into the arena; strndup stops at n bytes and always NUL-terminates. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into arena memory. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Total bytes handed out since the last reset (for limits and tests). */
size_t arena_used(const struct arena *a);

/* Bytes the arena holds: its blocks with their headers and adopted memory (what a budget counts). */
size_t arena_charged(const struct arena *a);

/* Counts a's memory, now and until it is freed, against shared (may be NULL: none) and own_max (its
 * own limit; SIZE_MAX: none). Call once, right after arena_new. */
void arena_set_budget(struct arena *a, struct arena_budget *shared, size_t own_max);

/* 0 if `more` bytes beyond what a holds fit both its own limit and the shared budget; otherwise -1
 * with e set: ERR_TOO_LARGE for the arena's own limit (the request is too big to ever fit), or a
 * retryable ERR_UNAVAILABLE for the shared one (other requests hold the memory now). Never allocates. */
int arena_budget_check(const struct arena *a, size_t more, struct err *e);

/* True if a already holds more than one of its budgets allows (cheap; for loops that allocate). */
bool arena_over_budget(const struct arena *a);

/* Counts n bytes the caller holds outside the arena (a buffer it is growing) as the arena's, if they
 * fit (arena_budget_check); -1 with e set otherwise. Give them back with arena_unreserve. */
int arena_reserve(struct arena *a, size_t n, struct err *e);
void arena_unreserve(struct arena *a, size_t n);

/* Takes ownership of malloc'd memory p of n bytes: freed (and uncharged) with the arena. */
void arena_adopt(struct arena *a, void *p, size_t n);

#endif
