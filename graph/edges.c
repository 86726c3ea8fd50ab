/* graph/edges.c - edge storage: size-classed lists in one pool per direction, hub indexes, add_edge.
 *
 * A node's out-list and in-list live in pool[GRAPH_OUT] and pool[GRAPH_IN] (layout: graph_int.h).
 * Appending to a full list grows it in place if it ends the pool, else moves it to the next size
 * class and puts the old block on the free list of its class, where the next list growing into that
 * class picks it up; when free blocks pass 1/8 of the pool, the pool is compacted. Duplicate edges
 * are found in the cheaper of the two lists: a scan of at most GRAPH_INDEX_MIN edges, or one probe
 * of a long list's hash index, so adding edges to hubs is never quadratic. Removing an edge (merges
 * only, merge.c) moves the list's last edge into its place, deletes its index slot by backward shift
 * and gives the list's surplus tail back to the free lists, so the invariants hold as if the list
 * had only ever been that long.
 *
 * Invariants: graph.h 2-3 and graph_int.h 1-3; graph_check() verifies them.
 * Ownership: the graph owns the pools and indexes. Out of memory aborts (see graph.c).
 * Threads: callers hold the write lock for graph_add_edge, a read lock for the accessors. */
#include "graph.h"
#include "graph_int.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum {
    GRAPH_INDEX_FIRST = 128,  /* slots of a new list index (for GRAPH_INDEX_MIN + 1 edges) */
    GRAPH_COMPACT_MIN = 4096, /* free slots below this never trigger a compaction */
    GRAPH_COMPACT_SHIFT = 3,  /* compact when free slots exceed used >> 3 (12.5%) */
};

/* ---- edge lists: size classes, pool blocks ---- */

size_t graph_class_cap(unsigned k)
{
    if (k == 0)
        return 1;
    return (k & 1) ? (size_t)1 << ((k + 1) / 2) : (size_t)3 << ((k - 2) / 2);
}

/* The smallest class whose capacity is at least len (len >= 1). */
static unsigned class_of(size_t len)
{
    unsigned p;

    if (len <= 2)
        return len <= 1 ? 0 : 1;
    p = 63u - (unsigned)__builtin_clzll((unsigned long long)(len - 1)); /* 2^p < len <= 2^(p+1) */
    return len <= ((size_t)3 << (p - 1)) ? 2 * p : 2 * p + 1;
}

size_t graph_list_cap(size_t len)
{
    return len == 0 ? 0 : graph_class_cap(class_of(len));
}

/* The class a list of length len moves to when one more edge is appended, or -1 if it has room. */
static int grow_class(size_t len)
{
    if (len == 0)
        return 0;
    return len == graph_list_cap(len) ? (int)class_of(len) + 1 : -1;
}

bool graph_pool_has_room(const struct graph *g, int dir, uint32_t node)
{
    const struct graph_pool *p = &g->pool[dir];
    int k = grow_class(g->adj[dir][node].len);

    return k < 0 || p->free_head[k] != GRAPH_EMPTY || p->used + graph_class_cap((unsigned)k) <= UINT32_MAX;
}

static uint32_t pool_alloc(struct graph *g, int dir, unsigned k)
{
    struct graph_pool *p = &g->pool[dir];
    uint32_t off = p->free_head[k];

    if (off != GRAPH_EMPTY) {
        p->free_head[k] = p->e[off].first_seen;
        p->free_slots -= graph_class_cap(k);
        return off;
    }
    p->e = graph_reserve(p->e, &p->cap, p->used + graph_class_cap(k), sizeof *p->e);
    off = (uint32_t)p->used;
    p->used += graph_class_cap(k);
    return off;
}

static void pool_release(struct graph *g, int dir, uint32_t off, unsigned k)
{
    struct graph_pool *p = &g->pool[dir];

    p->e[off].first_seen = p->free_head[k];
    p->free_head[k] = off;
    p->free_slots += graph_class_cap(k);
}

/* Copies every list of direction dir into a new array of exactly the live capacity, in node order. */
static void pool_compact(struct graph *g, int dir)
{
    struct graph_pool *p = &g->pool[dir];
    size_t live = p->used - p->free_slots, at = 0;
    struct graph_edge *ne = graph_xrealloc(NULL, live * sizeof *ne);

    for (size_t id = 0; id < g->node_count; id++) {
        struct graph_adj *a = &g->adj[dir][id];
        if (a->len == 0)
            continue;
        memcpy(ne + at, p->e + a->off, a->len * sizeof *ne);
        a->off = (uint32_t)at;
        at += graph_list_cap(a->len);
    }
    assert(at == live);
    free(p->e);
    p->e = ne;
    p->cap = p->used = live;
    p->free_slots = 0;
    memset(p->free_head, 0xff, sizeof p->free_head);
}

/* ---- long-list indexes ---- */

static uint32_t pair_hash(uint32_t other, unsigned kind)
{
    return (uint32_t)graph_mix64(((uint64_t)kind << 32) | other);
}

struct graph_index *graph_index_get(const struct graph *g, int dir, uint32_t node)
{
    const struct graph_index_map *m = &g->big[dir];

    for (uint32_t i = (uint32_t)graph_mix64(node) & m->mask;; i = (i + 1) & m->mask) {
        if (m->t[i].node == node)
            return &m->t[i];
        if (m->t[i].node == GRAPH_EMPTY)
            return NULL;
    }
}

static void index_put(struct graph_index *ix, const struct graph_edge *list, uint32_t pos)
{
    uint32_t i = pair_hash(list[pos].other, list[pos].kind) & ix->mask;

    while (ix->slots[i] != GRAPH_EMPTY)
        i = (i + 1) & ix->mask;
    ix->slots[i] = pos;
}

/* (Re)builds ix with n slots over the first len positions of list. */
static void index_fill(struct graph_index *ix, const struct graph_edge *list, uint32_t len, uint32_t n)
{
    free(ix->slots);
    ix->slots = graph_table_slots(n);
    ix->mask = n - 1;
    for (uint32_t pos = 0; pos < len; pos++)
        index_put(ix, list, pos);
}

/* A new, empty map entry for node (the map is kept at most half full). */
static struct graph_index *index_new(struct graph *g, int dir, uint32_t node)
{
    struct graph_index_map *m = &g->big[dir];
    uint32_t i;

    if ((uint64_t)(m->count + 1) * 2 > (uint64_t)m->mask + 1) {
        uint32_t n = (m->mask + 1) * 2;
        struct graph_index *t = graph_xrealloc(NULL, n * sizeof *t);
        for (uint32_t j = 0; j < n; j++)
            t[j] = (struct graph_index){GRAPH_EMPTY, 0, NULL};
        for (uint32_t j = 0; j <= m->mask; j++) {
            if (m->t[j].node == GRAPH_EMPTY)
                continue;
            for (i = (uint32_t)graph_mix64(m->t[j].node) & (n - 1); t[i].node != GRAPH_EMPTY; i = (i + 1) & (n - 1))
                ;
            t[i] = m->t[j];
        }
        free(m->t);
        m->t = t;
        m->mask = n - 1;
    }
    for (i = (uint32_t)graph_mix64(node) & m->mask; m->t[i].node != GRAPH_EMPTY; i = (i + 1) & m->mask)
        ;
    m->t[i] = (struct graph_index){node, 0, NULL};
    m->count++;
    return &m->t[i];
}

/* Keeps node's index current after an edge was appended at position len - 1. */
static void index_append(struct graph *g, int dir, uint32_t node)
{
    uint32_t len = g->adj[dir][node].len;
    const struct graph_edge *list = g->pool[dir].e + g->adj[dir][node].off;
    struct graph_index *ix;

    if (len <= GRAPH_INDEX_MIN)
        return;
    if (len == GRAPH_INDEX_MIN + 1) {
        index_fill(index_new(g, dir, node), list, len, GRAPH_INDEX_FIRST);
        return;
    }
    ix = graph_index_get(g, dir, node);
    if ((uint64_t)len * 2 > (uint64_t)ix->mask + 1)
        index_fill(ix, list, len, (ix->mask + 1) * 2);
    else
        index_put(ix, list, len - 1);
}

/* ---- edges ---- */

uint32_t graph_list_find(const struct graph *g, int dir, uint32_t node, uint32_t other, unsigned kind)
{
    uint32_t len;
    const struct graph_edge *l = graph_list(g, dir, node, &len);

    if (len > GRAPH_INDEX_MIN) {
        const struct graph_index *ix = graph_index_get(g, dir, node);
        for (uint32_t i = pair_hash(other, kind) & ix->mask; ix->slots[i] != GRAPH_EMPTY; i = (i + 1) & ix->mask) {
            const struct graph_edge *x = &l[ix->slots[i]];
            if (x->other == other && x->kind == kind)
                return ix->slots[i];
        }
        return GRAPH_EMPTY;
    }
    for (uint32_t i = 0; i < len; i++) {
        if (l[i].other == other && l[i].kind == kind)
            return i;
    }
    return GRAPH_EMPTY;
}

/* How many edges list_find may compare for this list. */
static uint32_t list_cost(const struct graph *g, int dir, uint32_t node)
{
    uint32_t len = g->adj[dir][node].len;

    return len > GRAPH_INDEX_MIN ? 1 : len;
}

/* Looks for the edge from -> to of `kind` in the cheaper of from's out-list and to's in-list: sets
 * *dir to that list's direction and returns the edge's position in it, or GRAPH_EMPTY. */
static uint32_t find_cheaper(const struct graph *g, uint32_t from, uint32_t to, unsigned kind, int *dir)
{
    *dir = list_cost(g, GRAPH_OUT, from) <= list_cost(g, GRAPH_IN, to) ? GRAPH_OUT : GRAPH_IN;
    return *dir == GRAPH_OUT ? graph_list_find(g, GRAPH_OUT, from, to, kind)
                             : graph_list_find(g, GRAPH_IN, to, from, kind);
}

const struct graph_edge *graph_find_edge(const struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind)
{
    int dir;
    uint32_t len;

    if (from >= g->node_count || to >= g->node_count)
        return NULL;
    from = graph_live(g, from);
    to = graph_live(g, to);
    uint32_t pos = find_cheaper(g, from, to, kind, &dir);
    return pos == GRAPH_EMPTY ? NULL : graph_list(g, dir, dir == GRAPH_OUT ? from : to, &len) + pos;
}

static void list_append(struct graph *g, int dir, uint32_t node, struct graph_edge ed)
{
    struct graph_adj *a = &g->adj[dir][node];
    struct graph_pool *tail = &g->pool[dir];
    int k = grow_class(a->len);

    if (k > 0 && a->off + graph_class_cap((unsigned)k - 1) == tail->used) {
        /* the list ends the pool: grow it in place, nothing to copy or free */
        size_t more = graph_class_cap((unsigned)k) - graph_class_cap((unsigned)k - 1);
        tail->e = graph_reserve(tail->e, &tail->cap, tail->used + more, sizeof *tail->e);
        tail->used += more;
    } else if (k >= 0) {
        uint32_t off = pool_alloc(g, dir, (unsigned)k);
        struct graph_pool *p = &g->pool[dir];
        if (a->len > 0) {
            memcpy(p->e + off, p->e + a->off, a->len * sizeof *p->e);
            pool_release(g, dir, a->off, (unsigned)k - 1);
        }
        a->off = off;
    }
    g->pool[dir].e[a->off + a->len++] = ed;
    index_append(g, dir, node);
}

static void pool_maybe_compact(struct graph *g, int dir)
{
    const struct graph_pool *p = &g->pool[dir];

    if (p->free_slots > GRAPH_COMPACT_MIN && p->free_slots > p->used >> GRAPH_COMPACT_SHIFT)
        pool_compact(g, dir);
}

/* ---- removing edges (merges) ---- */

/* Whether home slot k is cyclically within (i, j]: the entry at j may stay where it is. */
static bool probe_keeps(uint32_t i, uint32_t j, uint32_t k)
{
    return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

static uint32_t pos_home(const struct graph_index *ix, const struct graph_edge *list, uint32_t pos)
{
    return pair_hash(list[pos].other, list[pos].kind) & ix->mask;
}

/* Deletes position pos from ix (backward shift: later entries of its probe chain move up). */
static void index_delete(struct graph_index *ix, const struct graph_edge *list, uint32_t pos)
{
    uint32_t i = pos_home(ix, list, pos), j;

    while (ix->slots[i] != pos)
        i = (i + 1) & ix->mask;
    for (j = (i + 1) & ix->mask; ix->slots[j] != GRAPH_EMPTY; j = (j + 1) & ix->mask) {
        if (probe_keeps(i, j, pos_home(ix, list, ix->slots[j])))
            continue;
        ix->slots[i] = ix->slots[j];
        i = j;
    }
    ix->slots[i] = GRAPH_EMPTY;
}

/* The slot of ix holding position pos holds position to instead. */
static void index_relabel(struct graph_index *ix, const struct graph_edge *list, uint32_t pos, uint32_t to)
{
    uint32_t i = pos_home(ix, list, pos);

    while (ix->slots[i] != pos)
        i = (i + 1) & ix->mask;
    ix->slots[i] = to;
}

/* Frees node's list index and deletes its map entry (backward shift, as index_delete). */
static void index_drop(struct graph *g, int dir, uint32_t node)
{
    struct graph_index_map *m = &g->big[dir];
    uint32_t i = (uint32_t)graph_mix64(node) & m->mask, j;

    while (m->t[i].node != node)
        i = (i + 1) & m->mask;
    free(m->t[i].slots);
    for (j = (i + 1) & m->mask; m->t[j].node != GRAPH_EMPTY; j = (j + 1) & m->mask) {
        if (probe_keeps(i, j, (uint32_t)graph_mix64(m->t[j].node) & m->mask))
            continue;
        m->t[i] = m->t[j];
        i = j;
    }
    m->t[i] = (struct graph_index){GRAPH_EMPTY, 0, NULL};
    m->count--;
}

void graph_list_remove(struct graph *g, int dir, uint32_t node, uint32_t pos)
{
    struct graph_adj *a = &g->adj[dir][node];
    struct graph_edge *list = g->pool[dir].e + a->off;
    uint32_t last = a->len - 1;
    size_t cap = graph_list_cap(a->len), new_cap;

    assert(pos < a->len);
    if (a->len > GRAPH_INDEX_MIN) {
        struct graph_index *ix = graph_index_get(g, dir, node);
        index_delete(ix, list, pos);
        if (pos != last)
            index_relabel(ix, list, last, pos);
    }
    list[pos] = list[last];
    if (--a->len == GRAPH_INDEX_MIN)
        index_drop(g, dir, node);
    new_cap = graph_list_cap(a->len);
    if (new_cap < cap) {
        /* class capacities differ by a class capacity (1, 1, 1, 2, 2, 4, 4, ...): the tail is a block */
        assert(graph_class_cap(class_of(cap - new_cap)) == cap - new_cap);
        pool_release(g, dir, a->off + (uint32_t)new_cap, class_of(cap - new_cap));
    }
    if (a->len == 0)
        a->off = 0;
    pool_maybe_compact(g, dir);
}

void graph_list_clear(struct graph *g, int dir, uint32_t node)
{
    struct graph_adj *a = &g->adj[dir][node];

    if (a->len == 0)
        return;
    if (a->len > GRAPH_INDEX_MIN)
        index_drop(g, dir, node);
    pool_release(g, dir, a->off, class_of(a->len));
    *a = (struct graph_adj){0, 0};
    pool_maybe_compact(g, dir);
}

static int edge_insert(struct graph *g, uint32_t from, uint32_t to, unsigned kind, uint32_t first_seen,
                       uint32_t last_seen, uint32_t run, struct err *e)
{
    struct graph_edge ed = {.other = to, .kind = kind, .first_seen = first_seen, .last_seen = last_seen, .run = run};

    if (!graph_pool_has_room(g, GRAPH_OUT, from) || !graph_pool_has_room(g, GRAPH_IN, to))
        return err_set(e, ERR_TOO_LARGE, NULL, "the graph holds too many edges");
    list_append(g, GRAPH_OUT, from, ed);
    ed.other = from;
    list_append(g, GRAPH_IN, to, ed);
    g->edge_count++;
    pool_maybe_compact(g, GRAPH_OUT);
    pool_maybe_compact(g, GRAPH_IN);
    return 0;
}

static int check_node_arg(const struct graph *g, uint32_t id, const char *where, struct err *e)
{
    if (id >= g->node_count)
        return err_set(e, ERR_NOT_FOUND, where, "unknown node %" PRIu32, id);
    return 0;
}

/* The argument checks graph_add_edge and graph_add_new_edge share. */
static int check_edge_args(const struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind,
                           uint32_t first_seen, uint32_t last_seen, uint32_t run, struct err *e)
{
    if (check_node_arg(g, from, "from", e) < 0 || check_node_arg(g, to, "to", e) < 0 ||
        (run != GRAPH_NO_NODE && check_node_arg(g, run, "run", e) < 0))
        return -1;
    if ((unsigned)kind > GRAPH_EDGE_FIELD_OF)
        return err_set(e, ERR_INVALID, "kind", "unknown edge kind %u", (unsigned)kind);
    if (first_seen > last_seen)
        return err_set(e, ERR_INVALID, "first_seen", "first seen %" PRIu32 " is after last seen %" PRIu32,
                       first_seen, last_seen);
    return 0;
}

int graph_add_edge(struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind, uint32_t first_seen,
                   uint32_t last_seen, uint32_t run, struct err *e)
{
    uint32_t here, there, pos, pos2;
    int dir;
    struct graph_edge *x, *y;

    if (check_edge_args(g, from, to, kind, first_seen, last_seen, run, e) < 0)
        return -1;
    from = graph_live(g, from); /* a merged node stands for its survivor (graph.h invariant 1) */
    to = graph_live(g, to);
    pos = find_cheaper(g, from, to, kind, &dir);
    here = dir == GRAPH_OUT ? from : to;
    there = dir == GRAPH_OUT ? to : from;
    if (pos == GRAPH_EMPTY)
        return edge_insert(g, from, to, kind, first_seen, last_seen, run, e);
    x = &g->pool[dir].e[g->adj[dir][here].off + pos];
    if (first_seen >= x->first_seen && last_seen <= x->last_seen)
        return 0;
    pos2 = graph_list_find(g, !dir, there, here, kind);
    assert(pos2 != GRAPH_EMPTY); /* invariant 2: every edge is stored twice */
    y = &g->pool[!dir].e[g->adj[!dir][there].off + pos2];
    if (first_seen < x->first_seen)
        x->first_seen = y->first_seen = first_seen;
    if (last_seen > x->last_seen) {
        x->last_seen = y->last_seen = last_seen;
        x->run = y->run = run;
    }
    return 0;
}

/* Whether rows naming live node id may have been made under several names: id, or a field's
 * dataset, absorbed a merged node. */
static bool joined(const struct graph *g, uint32_t id)
{
    if (graph_ntype(g, id) == GRAPH_FIELD && (g->types[graph_live(g, g->names[id].a)] & GRAPH_NODE_JOINED))
        return true;
    return (g->types[id] & GRAPH_NODE_JOINED) != 0;
}

int graph_add_new_edge(struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind, uint32_t first_seen,
                       uint32_t last_seen, uint32_t run, struct err *e)
{
    if (check_edge_args(g, from, to, kind, first_seen, last_seen, run, e) < 0)
        return -1;
    from = graph_live(g, from);
    to = graph_live(g, to);
    if (joined(g, from) || joined(g, to))
        return graph_add_edge(g, from, to, kind, first_seen, last_seen, run, e);
    return edge_insert(g, from, to, kind, first_seen, last_seen, run, e);
}

void graph_pools_reserve(struct graph *g, size_t slots)
{
    for (int dir = GRAPH_OUT; dir <= GRAPH_IN; dir++) {
        struct graph_pool *p = &g->pool[dir];
        if (slots > p->cap) {
            p->e = graph_xrealloc(p->e, slots * sizeof *p->e);
            p->cap = slots;
        }
    }
}

void graph_pools_trim(struct graph *g)
{
    for (int dir = GRAPH_OUT; dir <= GRAPH_IN; dir++) {
        struct graph_pool *p = &g->pool[dir];
        if (p->cap > p->used) {
            p->e = graph_xrealloc(p->e, p->used * sizeof *p->e);
            p->cap = p->used;
        }
    }
}

const struct graph_edge *graph_out_edges(const struct graph *g, uint32_t id, size_t *n)
{
    uint32_t len;
    const struct graph_edge *l;

    assert(id < g->node_count);
    l = graph_list(g, GRAPH_OUT, id, &len);
    *n = len;
    return l;
}

const struct graph_edge *graph_in_edges(const struct graph *g, uint32_t id, size_t *n)
{
    uint32_t len;
    const struct graph_edge *l;

    assert(id < g->node_count);
    l = graph_list(g, GRAPH_IN, id, &len);
    *n = len;
    return l;
}
