/* common/arena.c - region allocator: a list of blocks, bump allocation inside the newest.
 *
 * Invariants:
 *  1. blocks form a singly linked list, newest first; `first` is the oldest and survives resets.
 *  2. An allocation larger than half a block gets a block of its own, so waste stays bounded.
 * Ownership: the arena owns every block; callers never free what it returns. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ARENA_BLOCK_SIZE = 16 * 1024, ARENA_ALIGN = 16 };

struct block {
    struct block *next;
    size_t cap;
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
    struct block *head;  /* newest block; bump allocation happens here */
    struct block *first; /* the block made with the arena; kept by arena_reset */
    size_t total;
};

static struct block *block_new(size_t cap)
{
    struct block *b = malloc(sizeof *b + cap);

    if (b == NULL) {
        fprintf(stderr, "lineaged: out of memory allocating %zu bytes\n", cap);
        abort();
    }
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    return b;
}

struct arena *arena_new(void)
{
    struct arena *a = malloc(sizeof *a);

    if (a == NULL) {
        fprintf(stderr, "lineaged: out of memory allocating an arena\n");
        abort();
    }
    a->head = block_new(ARENA_BLOCK_SIZE);
    a->first = a->head;
    a->total = 0;
    return a;
}

/* Frees every block in the list except `keep` (which may be NULL). */
static void free_blocks(struct block *b, const struct block *keep)
{
    while (b != NULL) {
        struct block *next = b->next;
        if (b != keep)
            free(b);
        b = next;
    }
}

void arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    free_blocks(a->head, NULL);
    free(a);
}

void arena_reset(struct arena *a)
{
    free_blocks(a->head, a->first);
    a->first->next = NULL;
    a->first->used = 0;
    a->head = a->first;
    a->total = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct block *b = a->head;

    if (need == 0)
        need = ARENA_ALIGN;
    if (need > ARENA_BLOCK_SIZE / 2) {
        /* Big allocation: its own block, linked behind the head so the head keeps filling. */
        struct block *big = block_new(need);
        big->used = need;
        big->next = b->next;
        b->next = big;
        a->total += need;
        return big->data;
    }
    if (b->cap - b->used < need) {
        b = block_new(ARENA_BLOCK_SIZE);
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = arena_alloc(a, len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, SIZE_MAX);
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return arena_strdup(a, "");
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t arena_used(const struct arena *a)
{
    return a->total;
}
