/* api/column_walk.c - Marquez's walk over column-lineage edges (see column_walk.h for the rules).
 *
 * A BFS whose items are edges: the queue holds {from, to, depth} in BFS order and is also the result.
 * Two open-addressing sets in the arena (keys + 1, so 0 marks an empty slot, at most half full)
 * remember the edges taken and the fields reached (for maxNodes).
 * Invariants: column_walk.h 1-3. Ownership: everything in the caller's arena. Threads: read lock held. */
#include "column_walk.h"

#include <string.h>
#include <time.h>

enum { CW_FIRST = 64, CW_CLOCK_EVERY = 1024 };

struct cw_set {
    uint64_t *slots;
    size_t mask, count;
};

struct cw_item {
    uint32_t from, to, depth;
};

struct cw {
    const struct graph *g;
    struct arena *a;
    const struct column_walk_opts *o;
    struct cw_set edges, nodes;
    struct cw_item *q;
    size_t n, cap;
    bool stop, truncated;
};

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 29);
}

static void set_init(struct arena *a, struct cw_set *s, size_t cap)
{
    s->slots = arena_zalloc(a, cap * sizeof *s->slots);
    s->mask = cap - 1;
    s->count = 0;
}

static bool set_has(const struct cw_set *s, uint64_t key)
{
    for (size_t i = mix(key) & s->mask; s->slots[i] != 0; i = (i + 1) & s->mask)
        if (s->slots[i] == key)
            return true;
    return false;
}

/* Adds key (not yet in s), doubling s when it would be more than half full. */
static void set_add(struct arena *a, struct cw_set *s, uint64_t key)
{
    if (2 * (s->count + 1) > s->mask + 1) {
        struct cw_set bigger;
        set_init(a, &bigger, 2 * (s->mask + 1));
        for (size_t i = 0; i <= s->mask; i++)
            if (s->slots[i] != 0)
                set_add(a, &bigger, s->slots[i]);
        *s = bigger;
    }
    size_t i = mix(key) & s->mask;
    while (s->slots[i] != 0)
        i = (i + 1) & s->mask;
    s->slots[i] = key;
    s->count++;
}

/* Takes edge from -> to at depth d, unless taken before or the field limit is reached. */
static void take(struct cw *w, uint32_t from, uint32_t to, uint32_t d)
{
    uint64_t key = ((uint64_t)from << 32 | to) + 1;

    if (w->stop || set_has(&w->edges, key))
        return;
    size_t fresh =
        !set_has(&w->nodes, (uint64_t)from + 1) + (from != to && !set_has(&w->nodes, (uint64_t)to + 1));
    if (w->o->max_nodes > 0 && w->nodes.count + fresh > w->o->max_nodes) {
        w->stop = w->truncated = true;
        return;
    }
    set_add(w->a, &w->edges, key);
    if (!set_has(&w->nodes, (uint64_t)from + 1))
        set_add(w->a, &w->nodes, (uint64_t)from + 1);
    if (!set_has(&w->nodes, (uint64_t)to + 1))
        set_add(w->a, &w->nodes, (uint64_t)to + 1);
    if (w->n == w->cap) {
        struct cw_item *q = arena_alloc(w->a, 2 * w->cap * sizeof *q);
        memcpy(q, w->q, w->n * sizeof *q);
        w->q = q;
        w->cap *= 2;
    }
    w->q[w->n++] = (struct cw_item){from, to, d};
}

/* Takes the column edges into field `node` (in) or out of it, at depth d. */
static void follow(struct cw *w, uint32_t node, bool in, uint32_t d)
{
    size_t n;
    const struct graph_edge *l = in ? graph_in_edges(w->g, node, &n) : graph_out_edges(w->g, node, &n);

    for (size_t k = 0; k < n && !w->stop; k++) {
        if (l[k].kind != GRAPH_EDGE_COLUMN || (w->o->as_of != 0 && l[k].first_seen > w->o->as_of) ||
            graph_type(w->g, l[k].other) != GRAPH_FIELD)
            continue;
        take(w, in ? l[k].other : node, in ? node : l[k].other, d);
    }
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void column_walk(const struct graph *g, struct arena *a, const uint32_t *starts, size_t n_starts,
                 const struct column_walk_opts *o, struct column_walk_result *out)
{
    struct cw w = {.g = g, .a = a, .o = o, .cap = CW_FIRST};
    uint32_t max_depth = o->depth > 1 ? (uint32_t)(o->depth - 1) : 0; /* the deepest edge's depth */
    uint64_t deadline = o->max_usec ? now_usec() + o->max_usec : 0;

    set_init(a, &w.edges, CW_FIRST);
    set_init(a, &w.nodes, CW_FIRST);
    w.q = arena_alloc(a, w.cap * sizeof *w.q);
    for (size_t s = 0; s < n_starts; s++)
        follow(&w, starts[s], true, 0);
    for (size_t s = 0; o->downstream && max_depth >= 1 && s < n_starts; s++)
        follow(&w, starts[s], false, 1);
    for (size_t i = 0; i < w.n && !w.stop; i++) {
        struct cw_item it = w.q[i]; /* a copy: take() may move the queue */
        if (it.depth >= max_depth)
            break; /* BFS order: every later item is at least as deep */
        if (deadline != 0 && i % CW_CLOCK_EVERY == CW_CLOCK_EVERY - 1 && now_usec() > deadline) {
            w.truncated = true;
            break;
        }
        follow(&w, it.from, true, it.depth + 1);
        if (o->downstream)
            follow(&w, it.to, false, it.depth + 1);
    }
    out->edges = arena_alloc(a, (w.n + 1) * sizeof *out->edges);
    for (size_t i = 0; i < w.n; i++)
        out->edges[i] = (struct column_edge){w.q[i].from, w.q[i].to};
    out->n = w.n;
    out->truncated = w.truncated;
}
