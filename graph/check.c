/* graph/check.c - graph_check: verifies the invariants of graph.h and graph_int.h, for tests.
 *
 * Invariants:
 *  1. It only reads the graph; its one scratch allocation (a byte per pool slot) is freed before
 *     it returns.
 *  2. It reports the first violation found, naming the node, and never stops at an assert.
 * Cost: O(nodes + edges + pool slots), each edge looked up through list indexes, never quadratic.
 * Threads: call with at least the read lock held. */
#include "graph.h"
#include "graph_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct err *e, const char *what, size_t id)
{
    return err_set(e, ERR_INTERNAL, NULL, "graph invariant broken: %s (id %zu)", what, id);
}

static bool str_ok(const struct graph *g, uint32_t off)
{
    return off < g->str_len;
}

static bool merged(const struct graph *g, size_t id)
{
    return (g->types[id] & GRAPH_NODE_MERGED) != 0;
}

/* A merged node has no edges and forwards, through nodes of its own type, to a live node. */
static int check_merged(const struct graph *g, size_t id, struct err *e)
{
    size_t to = id, steps = 0;

    if (g->adj[GRAPH_OUT][id].len != 0 || g->adj[GRAPH_IN][id].len != 0)
        return fail(e, "merged node with edges", id);
    while (merged(g, to)) {
        to = g->adj[GRAPH_OUT][to].off;
        if (to >= g->node_count || graph_ntype(g, (uint32_t)to) != graph_ntype(g, (uint32_t)id) ||
            ++steps >= g->node_count)
            return fail(e, "merged node forwards nowhere, to another type, or in a cycle", id);
    }
    return 0;
}

/* Byte order of (namespace, name), as merge.c compares primary names. */
static int name_cmp(const struct graph *g, size_t x, size_t y)
{
    int c = strcmp(g->str + g->names[x].a, g->str + g->names[y].a);
    return c != 0 ? c : strcmp(g->str + g->names[x].b, g->str + g->names[y].b);
}

/* Type, flags and names of one node; a live field hangs off a live dataset by its FIELD_OF edge; a
 * primary name merged away is not smaller than its live node's (graph.h invariant 4). */
static int check_node(const struct graph *g, size_t id, struct err *e)
{
    struct graph_names nm = g->names[id];
    unsigned type = graph_ntype(g, (uint32_t)id), flags = g->types[id] & ~(unsigned)GRAPH_TYPE_MASK;

    if (type > GRAPH_FIELD || !str_ok(g, nm.b) || (type != GRAPH_FIELD && !str_ok(g, nm.a)) ||
        (flags & ~(unsigned)(GRAPH_NODE_PRIMARY | GRAPH_NODE_MERGED | GRAPH_NODE_JOINED)) != 0 ||
        ((flags & GRAPH_NODE_PRIMARY) && type != GRAPH_DATASET))
        return fail(e, "bad type, flags or string offset", id);
    if (type == GRAPH_FIELD &&
        (nm.a >= id || graph_ntype(g, nm.a) != GRAPH_DATASET ||
         (!merged(g, id) && (merged(g, nm.a) || graph_list_find(g, GRAPH_OUT, (uint32_t)id, nm.a,
                                                                GRAPH_EDGE_FIELD_OF) == GRAPH_EMPTY))))
        return fail(e, "field without its dataset or FIELD_OF edge", id);
    if (g->nodetab.slots[graph_key_slot(g, type, nm.a, g->str + nm.b, NULL)].v != id)
        return fail(e, "node key does not resolve to the node", id);
    if (merged(g, id) && check_merged(g, id, e) < 0)
        return -1;
    if ((flags & GRAPH_NODE_PRIMARY) && merged(g, id)) {
        uint32_t live = graph_live(g, (uint32_t)id);
        if (!(g->types[live] & GRAPH_NODE_PRIMARY) || name_cmp(g, live, id) > 0)
            return fail(e, "a group's node does not carry its smallest primary name", id);
    }
    return 0;
}

/* Every node's key resolves to it, aliases resolve to a live dataset (through merged nodes). */
static int check_names(const struct graph *g, struct err *e)
{
    if (g->str_len == 0 || g->str[0] != '\0' || g->str[g->str_len - 1] != '\0')
        return fail(e, "string pool does not start with \"\" or end with NUL", 0);
    if (g->nodetab.count != g->node_count + g->alias_count)
        return fail(e, "node table count differs from nodes + aliases", g->nodetab.count);
    for (size_t id = 0; id < g->node_count; id++)
        if (check_node(g, id, e) < 0)
            return -1;
    for (size_t i = 0; i < g->alias_count; i++) {
        const struct graph_alias_entry *al = &g->aliases[i];
        if (al->node >= g->node_count || graph_ntype(g, al->node) != GRAPH_DATASET || !str_ok(g, al->ns_off) ||
            !str_ok(g, al->name_off))
            return fail(e, "alias of a missing or non-dataset node", i);
        if (g->nodetab.slots[graph_key_slot(g, GRAPH_DATASET, al->ns_off, g->str + al->name_off, NULL)].v !=
            (GRAPH_ALIAS_BIT | (uint32_t)i))
            return fail(e, "alias does not resolve", i);
    }
    return 0;
}

/* Marks slots [off, off + n) as owned; false if one is outside the pool or already owned. */
static bool own(uint8_t *owned, size_t used, size_t off, size_t n)
{
    if (off + n > used)
        return false;
    for (size_t i = off; i < off + n; i++) {
        if (owned[i])
            return false;
        owned[i] = 1;
    }
    return true;
}

/* Lists and free blocks tile the used part of the pool exactly (graph_int.h invariants 1-2). */
static int check_pool(const struct graph *g, int dir, struct err *e)
{
    const struct graph_pool *p = &g->pool[dir];
    uint8_t *owned = NULL;
    size_t free_slots = 0, marked = 0;
    int rc = -1;

    if (p->used > p->cap || p->free_slots > p->used)
        return fail(e, "pool counters out of range", (size_t)dir);
    owned = calloc(p->used ? p->used : 1, 1);
    if (owned == NULL)
        abort(); /* out of memory, as everywhere in graph/ */
    for (size_t id = 0; id < g->node_count; id++) {
        const struct graph_adj *a = &g->adj[dir][id];
        if (a->len == 0)
            continue; /* owns nothing; a merged node's out offset is its forward */
        if (!own(owned, p->used, a->off, graph_list_cap(a->len))) {
            fail(e, "edge list overlaps another or leaves the pool", id);
            goto out;
        }
        marked += graph_list_cap(a->len);
    }
    for (unsigned k = 0; k < GRAPH_CLASSES; k++) {
        for (uint32_t off = p->free_head[k]; off != GRAPH_EMPTY; off = p->e[off].first_seen) {
            if (!own(owned, p->used, off, graph_class_cap(k))) {
                fail(e, "free block overlaps a list or another block", off);
                goto out;
            }
            free_slots += graph_class_cap(k);
        }
    }
    marked += free_slots;
    if (free_slots != p->free_slots || marked != p->used) {
        fail(e, "free slot count or pool usage is wrong", (size_t)dir);
        goto out;
    }
    rc = 0;
out:
    free(owned);
    return rc;
}

/* A list's index exactly when it is long, holding each position once, at most half full. */
static int check_index(const struct graph *g, int dir, uint32_t id, size_t *indexed, struct err *e)
{
    uint32_t len = g->adj[dir][id].len, used = 0;
    const struct graph_index *ix = graph_index_get(g, dir, id);

    if ((len > GRAPH_INDEX_MIN) != (ix != NULL))
        return fail(e, "long list without index or short list with one", id);
    if (ix == NULL)
        return 0;
    (*indexed)++;
    if ((uint64_t)len * 2 > (uint64_t)ix->mask + 1)
        return fail(e, "list index more than half full", id);
    for (uint32_t i = 0; i <= ix->mask; i++) {
        if (ix->slots[i] == GRAPH_EMPTY)
            continue;
        if (ix->slots[i] >= len)
            return fail(e, "list index points past the list", id);
        used++;
    }
    return used == len ? 0 : fail(e, "list index misses positions", id);
}

/* One edge at position i of id's list in direction dir: valid, unique, mirrored. */
static int check_edge(const struct graph *g, int dir, uint32_t id, uint32_t i, struct err *e)
{
    uint32_t len;
    const struct graph_edge *x = &graph_list(g, dir, id, &len)[i];
    uint32_t pos;
    const struct graph_edge *y;

    if (x->other >= g->node_count || merged(g, x->other) || x->kind > GRAPH_EDGE_FIELD_OF ||
        x->first_seen > x->last_seen || (x->run != GRAPH_NO_NODE && x->run >= g->node_count))
        return fail(e, "edge with a bad or merged node, kind, run or times", id);
    if (graph_list_find(g, dir, id, x->other, x->kind) != i)
        return fail(e, "duplicate edge or stale list index", id);
    if (dir == GRAPH_IN)
        return 0; /* in-edges are matched one to one by the out-edges and the counts */
    pos = graph_list_find(g, GRAPH_IN, x->other, id, x->kind);
    if (pos == GRAPH_EMPTY)
        return fail(e, "out-edge missing from the target's in-list", id);
    y = &graph_list(g, GRAPH_IN, x->other, &len)[pos];
    if (y->first_seen != x->first_seen || y->last_seen != x->last_seen || y->run != x->run)
        return fail(e, "edge copies disagree on times or run", id);
    return 0;
}

static int check_edges(const struct graph *g, struct err *e)
{
    for (int dir = 0; dir < 2; dir++) {
        size_t total = 0, indexed = 0;
        for (uint32_t id = 0; id < g->node_count; id++) {
            uint32_t len = g->adj[dir][id].len;
            if (check_index(g, dir, id, &indexed, e) < 0)
                return -1;
            for (uint32_t i = 0; i < len; i++) {
                if (check_edge(g, dir, id, i, e) < 0)
                    return -1;
            }
            total += len;
        }
        if (total != g->edge_count)
            return fail(e, "edge count differs from the list lengths", total);
        if (indexed != g->big[dir].count)
            return fail(e, "index map count differs from the long lists", indexed);
    }
    return 0;
}

/* Each used recent-fields entry names the live field its key looks up (graph_int.h invariant 7). */
static int check_field_cache(const struct graph *g, struct err *e)
{
    for (size_t i = 0; i < GRAPH_FIELD_CACHE; i++) {
        const struct graph_field_hit *h = &g->field_cache[i];
        if (h->dataset == GRAPH_EMPTY)
            continue;
        if (h->dataset >= g->node_count || h->node >= g->node_count || !str_ok(g, h->field) ||
            merged(g, h->dataset) || merged(g, h->node) ||
            g->nodetab.slots[graph_key_slot(g, GRAPH_FIELD, h->dataset, g->str + h->field, NULL)].v != h->node)
            return fail(e, "recent-fields cache entry is stale", i);
    }
    return 0;
}

int graph_check(const struct graph *g, struct err *e)
{
    if (g->node_count > g->node_cap || g->node_count > GRAPH_MAX_NODES)
        return fail(e, "node count out of range", g->node_count);
    if (check_names(g, e) < 0 || check_field_cache(g, e) < 0 || check_pool(g, GRAPH_OUT, e) < 0 ||
        check_pool(g, GRAPH_IN, e) < 0)
        return -1;
    return check_edges(g, e);
}
