/* common/arena.c - region allocator: a list of blocks, bump allocation inside the newest.
 *
 * Invariants:
 *  1. blocks form a singly linked list, newest first; `first` is the oldest and survives resets.
 *  2. An allocation larger than half a block gets a block of its own, so waste stays bounded.
 *  3. charged == the bytes of every block (header included), adopted and reserved memory, and the same amount
 *     is counted in the shared budget (if any) from arena_set_budget until arena_free or arena_reset
 *     gives it back.
 * Ownership: the arena owns every block and adopted buffer; callers never free what it returns. */
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

/* Memory malloc'd elsewhere and handed to the arena (arena_adopt). */
struct adopted {
    struct adopted *next;
    void *p;
    size_t n;
};

struct arena {
    struct block *head;  /* newest block; bump allocation happens here */
    struct block *first; /* the block made with the arena; kept by arena_reset */
    size_t total;
    struct adopted *adopted;
    size_t charged;              /* see invariant 3 */
    struct arena_budget *shared; /* NULL: none */
    size_t own_max;              /* SIZE_MAX: none */
};

/* Adds n bytes to what a holds (and to the shared budget). */
static void charge(struct arena *a, size_t n)
{
    a->charged += n;
    if (a->shared != NULL)
        atomic_fetch_add(&a->shared->used, n);
}

/* Gives back n bytes. */
static void uncharge(struct arena *a, size_t n)
{
    a->charged -= n;
    if (a->shared != NULL)
        atomic_fetch_sub(&a->shared->used, n);
}

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
    a->adopted = NULL;
    a->charged = sizeof *a->head + ARENA_BLOCK_SIZE;
    a->shared = NULL;
    a->own_max = SIZE_MAX;
    return a;
}

/* Frees the adopted buffers and gives their bytes back. */
static void free_adopted(struct arena *a)
{
    while (a->adopted != NULL) {
        struct adopted *next = a->adopted->next;
        uncharge(a, a->adopted->n);
        free(a->adopted->p);
        free(a->adopted);
        a->adopted = next;
    }
}

/* Frees every block in the list except `keep` (which may be NULL), giving their bytes back. */
static void free_blocks(struct arena *a, const struct block *keep)
{
    struct block *b = a->head;

    while (b != NULL) {
        struct block *next = b->next;
        if (b != keep) {
            uncharge(a, sizeof *b + b->cap);
            free(b);
        }
        b = next;
    }
}

void arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    free_adopted(a);
    free_blocks(a, NULL);
    free(a);
}

void arena_reset(struct arena *a)
{
    free_adopted(a);
    free_blocks(a, a->first);
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
        charge(a, sizeof *big + need);
        big->used = need;
        big->next = b->next;
        b->next = big;
        a->total += need;
        return big->data;
    }
    if (b->cap - b->used < need) {
        b = block_new(ARENA_BLOCK_SIZE);
        charge(a, sizeof *b + ARENA_BLOCK_SIZE);
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

size_t arena_charged(const struct arena *a)
{
    return a->charged;
}

void arena_set_budget(struct arena *a, struct arena_budget *shared, size_t own_max)
{
    a->own_max = own_max;
    a->shared = shared;
    if (shared != NULL)
        atomic_fetch_add(&shared->used, a->charged);
}

int arena_budget_check(const struct arena *a, size_t more, struct err *e)
{
    if (more > a->own_max || a->charged > a->own_max - more)
        return err_set(e, ERR_TOO_LARGE, NULL,
                       "the request needs more than %zu MiB of memory to process (--max-request-mb)",
                       a->own_max >> 20);
    if (a->shared != NULL) {
        size_t used = atomic_load(&a->shared->used);
        if (more > a->shared->max || used > a->shared->max - more)
            return err_set_retry(e, NULL, "the server is short of memory for requests now "
                                          "(--max-inflight-mb %zu in use); retry later", a->shared->max >> 20);
    }
    return 0;
}

bool arena_over_budget(const struct arena *a)
{
    return a->charged > a->own_max || (a->shared != NULL && atomic_load(&a->shared->used) > a->shared->max);
}

int arena_reserve(struct arena *a, size_t n, struct err *e)
{
    if (arena_budget_check(a, n, e) != 0)
        return -1;
    charge(a, n);
    return 0;
}

void arena_unreserve(struct arena *a, size_t n)
{
    uncharge(a, n);
}

void arena_adopt(struct arena *a, void *p, size_t n)
{
    struct adopted *ad = malloc(sizeof *ad);

    if (ad == NULL) {
        fprintf(stderr, "lineaged: out of memory adopting %zu bytes\n", n);
        abort();
    }
    ad->p = p;
    ad->n = n;
    ad->next = a->adopted;
    a->adopted = ad;
    charge(a, n);
}
