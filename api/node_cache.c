/* api/node_cache.c - lineage node data kept between requests (see node_cache.h). */
#include "node_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct node_cache_text {
    uint32_t refs; /* the slot's reference (if still in one) plus one per holder; under the lock */
    uint32_t len;
    char bytes[];
};

struct entry {
    struct node_cache_text *t; /* NULL: empty slot */
    uint32_t stamp;
};

struct node_cache {
    pthread_mutex_t lock;
    struct entry *slots; /* indexed by node id */
    size_t cap;          /* slots allocated */
    size_t hand;         /* next slot the eviction sweep looks at */
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, evictions;
};

struct node_cache *node_cache_new(size_t max_bytes)
{
    struct node_cache *c = calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    return c;
}

void node_cache_free(struct node_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i].t); /* nothing is held any more: the server's workers have stopped */
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

size_t node_cache_get(struct node_cache *c, const uint32_t *nodes, const uint32_t *stamps, size_t n,
                      struct node_cache_text **held)
{
    size_t hits = 0;

    for (size_t i = 0; i < n; i++)
        held[i] = NULL;
    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        const struct entry *s = nodes[i] < c->cap ? &c->slots[nodes[i]] : NULL;
        if (s == NULL || s->t == NULL || s->stamp != stamps[i])
            continue;
        s->t->refs++;
        held[i] = s->t;
        hits++;
    }
    c->hits += hits;
    c->misses += n - hits;
    pthread_mutex_unlock(&c->lock);
    return hits;
}

const char *node_cache_text(const struct node_cache_text *t, size_t *len)
{
    *len = t->len;
    return t->bytes;
}

/* Drops one reference; the last one frees the text. Called with the lock held. */
static void unref(struct node_cache_text *t)
{
    if (--t->refs == 0)
        free(t);
}

void node_cache_release(struct node_cache *c, struct node_cache_text **held, size_t n)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        if (held[i] != NULL)
            unref(held[i]);
        held[i] = NULL;
    }
    pthread_mutex_unlock(&c->lock);
}

static void drop(struct node_cache *c, struct entry *s)
{
    c->bytes -= s->t->len;
    c->entries--;
    unref(s->t);
    s->t = NULL;
}

/* Frees entries, sweeping from the hand, until `need` more bytes fit. Terminates: need <= max_bytes,
 * so while they do not fit some entry holds bytes. */
static void make_room(struct node_cache *c, size_t need)
{
    while (c->bytes + need > c->max_bytes) {
        if (c->hand >= c->cap)
            c->hand = 0;
        struct entry *s = &c->slots[c->hand++];
        if (s->t != NULL) {
            drop(c, s);
            c->evictions++;
        }
    }
}

/* Makes slots[node] exist. Returns 0, or -1 when memory runs out (the put is skipped). */
static int grow(struct node_cache *c, uint32_t node)
{
    if (node < c->cap)
        return 0;
    size_t cap = c->cap ? c->cap : 1024;
    while (cap <= node)
        cap *= 2;
    struct entry *bigger = realloc(c->slots, cap * sizeof *bigger);
    if (bigger == NULL)
        return -1;
    memset(bigger + c->cap, 0, (cap - c->cap) * sizeof *bigger);
    c->slots = bigger;
    c->cap = cap;
    return 0;
}

void node_cache_put(struct node_cache *c, const uint32_t *nodes, const uint32_t *stamps, const char *const *texts,
                    const size_t *lens, size_t n)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        if (texts[i] == NULL || lens[i] > c->max_bytes / 8 || grow(c, nodes[i]) != 0)
            continue;
        struct entry *s = &c->slots[nodes[i]];
        if (s->t != NULL)
            drop(c, s);
        make_room(c, lens[i]);
        struct node_cache_text *t = malloc(sizeof *t + lens[i]);
        if (t == NULL)
            continue;
        t->refs = 1;
        t->len = (uint32_t)lens[i];
        memcpy(t->bytes, texts[i], lens[i]);
        *s = (struct entry){t, stamps[i]};
        c->entries++;
        c->bytes += lens[i];
    }
    pthread_mutex_unlock(&c->lock);
}

void node_cache_stats(struct node_cache *c, struct node_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    *out = (struct node_cache_stats){c->entries, c->bytes, c->max_bytes, c->hits, c->misses, c->evictions};
    pthread_mutex_unlock(&c->lock);
}
