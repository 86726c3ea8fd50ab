/* graph/traverse.c - breadth-first walks (upstream, downstream, both) over the in-memory lineage graph.
 *
 * A walk keeps every node it reaches in one queue of {node, depth, parent queue position}, which is
 * also the BFS order of the result. When every node type is reported the queue becomes the result in
 * place; otherwise the reported nodes are copied out and each one's `via` is its nearest reported
 * ancestor in the BFS tree.
 *
 * Invariants:
 *  1. A walk never visits a node twice (a visited set per walk: an open-addressing table for capped
 *     walks, which would otherwise pay for zeroing a bitmap of graph_node_count() bits every time,
 *     1.3 MB at ten million nodes; the bitmap once the table would be larger than it).
 *  2. Queue order is (depth, discovery order); discovery follows list order, in-edges before out-edges
 *     for GRAPH_BOTH, so equal graphs and queries give equal results.
 *  3. At most max_nodes nodes are reported (0 = no limit); truncated is set only when one more
 *     reportable node was reached, or when max_usec ran out (checked every TRAVERSE_CLOCK_EVERY
 *     expanded nodes, so a walk overruns it by at most that many expansions).
 * Ownership: the visited bitmap, queue and results live in the caller's arena; nothing here frees.
 * Threads: only reads the graph; callers hold the read lock, so walks run concurrently. */
#include "graph.h"
#include "graph_int.h"

#include <assert.h>
#include <string.h>
#include <time.h>

enum {
    TRAVERSE_QUEUE_FIRST = 64,
    TRAVERSE_ALL_TYPES = 0xf,
    TRAVERSE_PREFETCH = 16, /* queue entries ahead: adjacency headers at +16, edge lists at +8 */
    TRAVERSE_CLOCK_EVERY = 4096,
    TRAVERSE_SET_MIN = 64,     /* slots of the smallest visited table */
};

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The nodes a walk reached: bits (a bitmap of node_count bits) when set, else slots, a table of node
 * ids (GRAPH_NO_NODE when empty) at most half full. */
struct seen {
    uint64_t *bits;
    uint32_t *slots;
    uint32_t mask, count;
};

struct walk {
    const struct graph *g;
    struct arena *a;
    const struct graph_query *q;
    struct seen seen;
    struct graph_hit *queue; /* via holds the parent's queue position while walking */
    size_t n, cap;
    size_t reported, limit;
    bool filtered; /* node_types hides some types */
    bool truncated;
    uint64_t deadline; /* now_usec() value to stop at; 0: none */
};

static uint32_t *set_slots(struct arena *a, uint32_t n)
{
    uint32_t *s = arena_alloc(a, (size_t)n * sizeof *s);

    memset(s, 0xff, (size_t)n * sizeof *s); /* GRAPH_NO_NODE */
    return s;
}

static bool bit_add(uint64_t *bits, uint32_t v)
{
    uint64_t m = 1ull << (v & 63);

    if (bits[v >> 6] & m)
        return false;
    bits[v >> 6] |= m;
    return true;
}

static bool slot_add(uint32_t *slots, uint32_t mask, uint32_t v)
{
    uint32_t i = (v * 2654435761u) & mask;

    for (; slots[i] != GRAPH_NO_NODE; i = (i + 1) & mask)
        if (slots[i] == v)
            return false;
    slots[i] = v;
    return true;
}

/* Doubles the table, or turns it into the bitmap once the table would take more room than that. */
static void set_grow(struct walk *w)
{
    struct seen *s = &w->seen;
    uint32_t n = (s->mask + 1) * 2, *old = s->slots, old_mask = s->mask;
    size_t words = (w->g->node_count + 63) / 64;

    if ((size_t)n * sizeof *old >= words * sizeof *s->bits) {
        s->bits = arena_zalloc(w->a, words * sizeof *s->bits);
        for (uint32_t i = 0; i <= old_mask; i++)
            if (old[i] != GRAPH_NO_NODE)
                bit_add(s->bits, old[i]);
        return;
    }
    s->slots = set_slots(w->a, n);
    s->mask = n - 1;
    for (uint32_t i = 0; i <= old_mask; i++)
        if (old[i] != GRAPH_NO_NODE)
            slot_add(s->slots, s->mask, old[i]);
}

/* Adds v to the visited set; false if it was there already. */
static bool seen_add(struct walk *w, uint32_t v)
{
    struct seen *s = &w->seen;

    if (s->bits != NULL)
        return bit_add(s->bits, v);
    if (!slot_add(s->slots, s->mask, v))
        return false;
    if (++s->count * 2 > s->mask + 1)
        set_grow(w);
    return true;
}

/* An empty visited set: a table sized for about max_nodes nodes when the walk is capped, else (or
 * when that would be no smaller) the bitmap. */
static void seen_init(struct walk *w)
{
    size_t words = (w->g->node_count + 63) / 64, n = TRAVERSE_SET_MIN;

    while (w->q->max_nodes != 0 && n < 4 * w->q->max_nodes && n * sizeof(uint32_t) < words * sizeof(uint64_t))
        n *= 2;
    if (w->q->max_nodes == 0 || n * sizeof(uint32_t) >= words * sizeof(uint64_t)) {
        w->seen.bits = arena_zalloc(w->a, words * sizeof *w->seen.bits);
        return;
    }
    w->seen.slots = set_slots(w->a, (uint32_t)n);
    w->seen.mask = (uint32_t)n - 1;
}

static void queue_push(struct walk *w, uint32_t node, uint32_t depth, uint32_t parent)
{
    if (w->n == w->cap) {
        struct graph_hit *q = arena_alloc(w->a, 2 * w->cap * sizeof *q);
        memcpy(q, w->queue, w->n * sizeof *q);
        w->queue = q;
        w->cap *= 2;
    }
    w->queue[w->n++] = (struct graph_hit){node, depth, parent};
}

/* Follows the allowed edges of the queue entry at position i; false once the walk must stop. */
static bool expand(struct walk *w, int dir, size_t i)
{
    uint32_t len;
    const struct graph_edge *l = graph_list(w->g, dir, w->queue[i].node, &len);
    const unsigned kinds = w->q->edge_kinds, types = w->q->node_types;
    const uint32_t as_of = w->q->as_of, depth = w->queue[i].depth + 1;

    for (uint32_t k = 0; k < len; k++) {
        uint32_t v = l[k].other;
        if (!((kinds >> l[k].kind) & 1u) || (as_of != 0 && l[k].first_seen > as_of))
            continue;
        if (!seen_add(w, v))
            continue;
        if (w->filtered ? (types >> graph_ntype(w->g, v)) & 1u : true) {
            if (w->reported == w->limit) {
                w->truncated = true;
                return false;
            }
            w->reported++;
        }
        queue_push(w, v, depth, (uint32_t)i);
    }
    return true;
}

/* The loop is bound by memory latency (one random edge list per node), but BFS knows its next
 * nodes: it fetches their adjacency headers 16 entries ahead and their edge lists 8 ahead. The
 * prefetches stay in this loop: GCC deletes calls to a helper that only prefetches (no side effects). */
static void run_walk(struct walk *w)
{
    const struct graph_query *q = w->q;
    const struct graph *g = w->g;
    const bool up = q->direction & GRAPH_UPSTREAM, down = q->direction & GRAPH_DOWNSTREAM;

    for (size_t i = 0; i < w->n; i++) {
        if (w->queue[i].depth >= (uint32_t)q->max_depth)
            break; /* BFS order: every later entry is at least as deep */
        if (w->deadline != 0 && i % TRAVERSE_CLOCK_EVERY == TRAVERSE_CLOCK_EVERY - 1 && now_usec() > w->deadline) {
            w->truncated = true;
            return;
        }
        if (i + TRAVERSE_PREFETCH < w->n) {
            uint32_t v = w->queue[i + TRAVERSE_PREFETCH].node;
            if (up)
                __builtin_prefetch(&g->adj[GRAPH_IN][v]);
            if (down)
                __builtin_prefetch(&g->adj[GRAPH_OUT][v]);
        }
        if (i + TRAVERSE_PREFETCH / 2 < w->n) {
            uint32_t v = w->queue[i + TRAVERSE_PREFETCH / 2].node;
            if (up)
                __builtin_prefetch(g->pool[GRAPH_IN].e + g->adj[GRAPH_IN][v].off);
            if (down)
                __builtin_prefetch(g->pool[GRAPH_OUT].e + g->adj[GRAPH_OUT][v].off);
        }
        if ((up && !expand(w, GRAPH_IN, i)) || (down && !expand(w, GRAPH_OUT, i)))
            return;
    }
}

/* Every node reported: turn parent positions into node ids, in place (parents come first). */
static void finish_all(struct walk *w, struct graph_result *out)
{
    w->queue[0].via = GRAPH_NO_NODE;
    for (size_t i = 1; i < w->n; i++)
        w->queue[i].via = w->queue[w->queue[i].via].node;
    out->hits = w->queue;
    out->n = w->n;
}

/* Some types hidden: copy out the reported nodes; via = nearest reported ancestor. */
static void finish_filtered(struct walk *w, struct graph_result *out)
{
    uint32_t *rep = arena_alloc(w->a, w->n * sizeof *rep);
    struct graph_hit *hits = arena_alloc(w->a, w->reported * sizeof *hits);
    size_t n = 0;

    for (size_t i = 0; i < w->n; i++) {
        struct graph_hit h = w->queue[i];
        uint32_t via = i == 0 ? GRAPH_NO_NODE : rep[h.via];
        if (i == 0 || ((w->q->node_types >> graph_ntype(w->g, h.node)) & 1u)) {
            hits[n++] = (struct graph_hit){h.node, h.depth, via};
            rep[i] = h.node;
        } else {
            rep[i] = via;
        }
    }
    out->hits = hits;
    out->n = n;
}

int graph_walk(const struct graph *g, struct arena *a, const struct graph_query *q, struct graph_result *out,
               struct err *e)
{
    struct walk w = {.g = g, .a = a, .q = q, .cap = TRAVERSE_QUEUE_FIRST, .reported = 1};
    uint32_t s = q->start;

    if (s >= g->node_count)
        return err_set(e, ERR_NOT_FOUND, "start", "unknown node %u", (unsigned)s);
    if (q->direction < GRAPH_UPSTREAM || q->direction > GRAPH_BOTH)
        return err_set(e, ERR_INVALID, "direction", "unknown direction %d", (int)q->direction);
    if (q->max_depth < 0)
        return err_set(e, ERR_INVALID, "depth", "depth %d is negative", q->max_depth);
    w.limit = q->max_nodes == 0 ? SIZE_MAX : q->max_nodes;
    w.deadline = q->max_usec == 0 ? 0 : now_usec() + q->max_usec;
    w.filtered = (q->node_types & TRAVERSE_ALL_TYPES) != TRAVERSE_ALL_TYPES;
    seen_init(&w);
    w.queue = arena_alloc(a, w.cap * sizeof *w.queue);
    bool fresh = seen_add(&w, s);
    assert(fresh); /* the set was empty */
    (void)fresh;   /* read only by the assert */
    queue_push(&w, s, 0, 0);
    run_walk(&w);
    if (w.filtered)
        finish_filtered(&w, out);
    else
        finish_all(&w, out);
    out->truncated = w.truncated;
    return 0;
}
