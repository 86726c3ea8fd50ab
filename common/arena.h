/* common/arena.h - region allocator for request-scoped memory.
 *
 * Invariants:
 *  1. Everything allocated from an arena is freed at once by arena_free() or arena_reset();
 *     nothing is freed piece by piece.
 *  2. Allocation never fails: out of memory aborts the process with a message (as xmalloc does).
 *  3. Returned memory is aligned for any scalar type.
 * Threads: an arena belongs to one thread at a time. */
#ifndef LINEAGED_ARENA_H
#define LINEAGED_ARENA_H

#include <stddef.h>

struct arena;

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

#endif
