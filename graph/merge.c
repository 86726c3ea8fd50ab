/* graph/merge.c - symlinked names: groups of dataset names served by one live node, and the merge
 * of two nodes when a symlink joins their groups.
 *
 * A symlink (owner name -> alias name) to a name that is new only adds an alias entry. One to a
 * name that already stands for another node joins the two groups: the node with fewer edges is
 * merged into the other (its fields into the survivor's fields of the same names, then its edges),
 * and keeps its id and key as a forward to the survivor. The group's smallest primary name (one that
 * declared a symlink) is then moved onto the survivor by trading names, so which name a group shows
 * depends only on the set of symlinks, never on their order. A name that declares a symlink while it
 * is an alias entry first becomes a (merged) node of its own, so it can carry the primary flag.
 *
 * Invariants: graph.h 1 and 4, graph_int.h 5-6 (graph_check verifies them); a merge keeps graph.h
 * 2-3: every moved edge is removed from both lists before it is added again.
 * Ownership: scratch copies of edge lists are malloc'd and freed here. Out of memory aborts.
 * Threads: callers hold the write lock. */
#include "graph.h"
#include "graph_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ---- symlinks: groups of names served by one live node ---- */

/* A new alias entry for key (GRAPH_DATASET, ns_off, name), whose hash is h, in the empty nodetab
 * slot i. */
static int alias_add(struct graph *g, uint32_t i, uint32_t h, uint32_t ns_off, const char *name, uint32_t node,
                     struct err *e)
{
    uint32_t name_off = 0; /* set by str_add on success; gcc -O3 cannot see it */

    if (g->alias_count >= GRAPH_ALIAS_BIT - 1)
        return err_set(e, ERR_TOO_LARGE, NULL, "the graph holds too many aliases");
    if (graph_str_add(g, name, &name_off, e) < 0)
        return -1;
    g->aliases = graph_reserve(g->aliases, &g->alias_cap, g->alias_count + 1, sizeof *g->aliases);
    g->aliases[g->alias_count] = (struct graph_alias_entry){ns_off, name_off, node};
    g->nodetab.slots[i] = (struct graph_keyslot){GRAPH_ALIAS_BIT | (uint32_t)g->alias_count++, h};
    g->nodetab.count++;
    graph_nodetab_grow(g);
    return 0;
}

/* Drops alias entry idx, whose slot now holds something else: the last entry takes its index. */
static void alias_remove(struct graph *g, uint32_t idx)
{
    uint32_t last = (uint32_t)g->alias_count - 1;

    if (idx != last) {
        const struct graph_alias_entry *al = &g->aliases[last];
        g->nodetab.slots[graph_key_slot(g, GRAPH_DATASET, al->ns_off, g->str + al->name_off, NULL)].v =
            GRAPH_ALIAS_BIT | idx;
        g->aliases[idx] = *al;
    }
    g->alias_count--;
}

/* The node that carries the dataset name (ns_off, name) itself (not resolved: it may be merged).
 * Created if the name is new; an alias entry becomes a node merged into the alias's node. */
static uint32_t name_node(struct graph *g, uint32_t ns_off, const char *name, struct err *e)
{
    uint32_t i = graph_key_slot(g, GRAPH_DATASET, ns_off, name, NULL), v = g->nodetab.slots[i].v, id;

    if (v == GRAPH_EMPTY)
        return graph_intern_key(g, GRAPH_DATASET, ns_off, name, GRAPH_EMPTY, e);
    if (!(v & GRAPH_ALIAS_BIT))
        return v;
    if (g->node_count >= GRAPH_MAX_NODES) {
        err_set(e, ERR_TOO_LARGE, NULL, "the graph is full (%u nodes)", (unsigned)GRAPH_MAX_NODES);
        return GRAPH_NO_NODE;
    }
    struct graph_alias_entry al = g->aliases[v & ~GRAPH_ALIAS_BIT];
    id = graph_node_add(g, GRAPH_DATASET, al.ns_off, al.name_off);
    g->nodetab.slots[i].v = id; /* one alias less, one node more: the count stays */
    alias_remove(g, v & ~GRAPH_ALIAS_BIT);
    graph_set_merged(g, id, graph_live(g, al.node));
    return id;
}

static bool is_primary(const struct graph *g, uint32_t id)
{
    return (g->types[id] & GRAPH_NODE_PRIMARY) != 0;
}

/* Byte order of (namespace, name) of two dataset nodes, as Postgres's COLLATE "C" orders them. */
static int name_cmp(const struct graph *g, uint32_t x, uint32_t y)
{
    int c = strcmp(g->str + g->names[x].a, g->str + g->names[y].a);
    return c != 0 ? c : strcmp(g->str + g->names[x].b, g->str + g->names[y].b);
}

/* Dataset nodes x and y trade names (and the primary flag, which belongs to the name). */
static void swap_names(struct graph *g, uint32_t x, uint32_t y)
{
    uint32_t ix = graph_key_slot(g, GRAPH_DATASET, g->names[x].a, g->str + g->names[x].b, NULL);
    uint32_t iy = graph_key_slot(g, GRAPH_DATASET, g->names[y].a, g->str + g->names[y].b, NULL);
    struct graph_names t = g->names[x];
    uint8_t px = g->types[x] & GRAPH_NODE_PRIMARY, py = g->types[y] & GRAPH_NODE_PRIMARY;

    g->names[x] = g->names[y];
    g->names[y] = t;
    g->types[x] = (uint8_t)((g->types[x] & ~GRAPH_NODE_PRIMARY) | py);
    g->types[y] = (uint8_t)((g->types[y] & ~GRAPH_NODE_PRIMARY) | px);
    g->nodetab.slots[ix].v = y; /* the keys, and so the hashes, stay where they are */
    g->nodetab.slots[iy].v = x;
}

/* Merges the groups of live dataset nodes a and b. The node with more edges survives (fewer edges
 * move) and ends up with the smaller primary name of the two. GRAPH_NO_NODE with e set if full. */
static uint32_t join(struct graph *g, uint32_t a, uint32_t b, struct err *e)
{
    size_t deg_a = (size_t)g->adj[GRAPH_OUT][a].len + g->adj[GRAPH_IN][a].len;
    size_t deg_b = (size_t)g->adj[GRAPH_OUT][b].len + g->adj[GRAPH_IN][b].len;
    uint32_t s = deg_a >= deg_b ? a : b, l = s == a ? b : a;
    uint32_t named = !is_primary(g, b) ? a : !is_primary(g, a) ? b : name_cmp(g, a, b) <= 0 ? a : b;

    if (graph_merge_into(g, l, s, e) != 0)
        return GRAPH_NO_NODE;
    if (named == l)
        swap_names(g, l, s);
    return s;
}

int graph_alias(struct graph *g, const char *owner_ns, const char *owner_name, const char *ns,
                const char *name, uint32_t *into, struct err *e)
{
    uint32_t ons, sns, owner, live, i, h, other;
    int changed = 0;

    if (owner_ns == NULL || owner_name == NULL || ns == NULL || name == NULL)
        return err_set(e, ERR_BAD_INPUT, ns == NULL || owner_ns == NULL ? "namespace" : "name",
                       "missing name");
    if (graph_strtab_intern(g, owner_ns, &ons, e) < 0 || graph_strtab_intern(g, ns, &sns, e) < 0 ||
        (owner = name_node(g, ons, owner_name, e)) == GRAPH_NO_NODE)
        return -1;
    live = graph_live(g, owner);
    if (into != NULL)
        *into = live;
    if (ons == sns && strcmp(owner_name, name) == 0)
        return 0; /* a symlink to its own name: not a declaration */
    g->types[owner] |= GRAPH_NODE_PRIMARY;
    i = graph_key_slot(g, GRAPH_DATASET, sns, name, &h);
    if (g->nodetab.slots[i].v == GRAPH_EMPTY) {
        if (alias_add(g, i, h, sns, name, live, e) < 0)
            return -1;
    } else if ((other = graph_slot_node(g, g->nodetab.slots[i].v)) != live) {
        if ((live = join(g, live, other, e)) == GRAPH_NO_NODE)
            return -1;
        changed = 1;
    }
    owner = g->nodetab.slots[graph_key_slot(g, GRAPH_DATASET, ons, owner_name, NULL)].v; /* join may move names */
    if (owner != live && (!is_primary(g, live) || name_cmp(g, owner, live) < 0)) {
        swap_names(g, owner, live);
        changed = 1;
    }
    if (into != NULL)
        *into = live;
    return changed;
}

void graph_set_merged(struct graph *g, uint32_t from, uint32_t to)
{
    assert(g->adj[GRAPH_OUT][from].len == 0 && g->adj[GRAPH_IN][from].len == 0);
    assert(graph_ntype(g, from) == graph_ntype(g, to) && from != to);
    g->types[from] |= GRAPH_NODE_MERGED;
    g->types[to] |= GRAPH_NODE_JOINED;
    graph_field_cache_clear(g);
    g->adj[GRAPH_OUT][from].off = to;
}

/* ---- moving edges ---- */

/* A malloc'd copy of node's list in direction dir (*len edges); NULL when empty. */
static struct graph_edge *list_copy(const struct graph *g, int dir, uint32_t node, uint32_t *len)
{
    const struct graph_edge *l = graph_list(g, dir, node, len);
    struct graph_edge *copy;

    if (*len == 0)
        return NULL;
    copy = graph_xrealloc(NULL, *len * sizeof *copy);
    memcpy(copy, l, *len * sizeof *copy);
    return copy;
}

/* Moves every edge of src to dst (both live, same type), keeping kind, times and run. Edges of a kind
 * in skip_kinds (bit mask), and edges between src and dst, are dropped instead. -1 with e set when
 * the graph is full (the edges not yet added are lost then; src is left empty either way). */
static int move_edges(struct graph *g, uint32_t src, uint32_t dst, unsigned skip_kinds, struct err *e)
{
    int rc = 0;

    for (int dir = GRAPH_OUT; dir <= GRAPH_IN; dir++) {
        uint32_t len;
        struct graph_edge *copy = list_copy(g, dir, src, &len);
        for (uint32_t k = 0; k < len; k++) {
            uint32_t pos = graph_list_find(g, !dir, copy[k].other, src, copy[k].kind);
            assert(pos != GRAPH_EMPTY); /* graph.h invariant 2 */
            graph_list_remove(g, !dir, copy[k].other, pos);
        }
        graph_list_clear(g, dir, src);
        g->edge_count -= len;
        for (uint32_t k = 0; k < len && rc == 0; k++) {
            const struct graph_edge *x = &copy[k];
            uint32_t other = x->other;
            if (other == src || other == dst || ((skip_kinds >> x->kind) & 1u))
                continue;
            rc = graph_add_edge(g, dir == GRAPH_OUT ? dst : other, dir == GRAPH_OUT ? other : dst, x->kind,
                                x->first_seen, x->last_seen, x->run, e);
        }
        free(copy);
    }
    return rc;
}

/* The field nodes of dataset node ds (a malloc'd array, *n of them; NULL when none). */
static uint32_t *fields_of(const struct graph *g, uint32_t ds, uint32_t *n)
{
    uint32_t len, m = 0;
    const struct graph_edge *in = graph_list(g, GRAPH_IN, ds, &len);
    uint32_t *out = len ? graph_xrealloc(NULL, len * sizeof *out) : NULL;

    for (uint32_t k = 0; k < len; k++)
        if (in[k].kind == GRAPH_EDGE_FIELD_OF)
            out[m++] = in[k].other;
    *n = m;
    return out;
}

int graph_merge_into(struct graph *g, uint32_t loser, uint32_t survivor, struct err *e)
{
    uint32_t n, *fields = fields_of(g, loser, &n);
    int rc = 0;

    assert(loser != survivor && graph_ntype(g, loser) == GRAPH_DATASET && graph_live(g, loser) == loser &&
           graph_ntype(g, survivor) == GRAPH_DATASET && graph_live(g, survivor) == survivor);
    for (uint32_t k = 0; k < n && rc == 0; k++) {
        uint32_t f = fields[k], to = graph_field(g, survivor, g->str + g->names[f].b, e);
        if (to == GRAPH_NO_NODE) {
            rc = -1; /* f and the loser keep what they have: still a consistent graph */
            break;
        }
        rc = move_edges(g, f, to, 1u << GRAPH_EDGE_FIELD_OF, e);
        graph_set_merged(g, f, to); /* f has no edges left, even if some could not be added */
    }
    free(fields);
    if (rc != 0)
        return -1;
    rc = move_edges(g, loser, survivor, 0, e);
    graph_set_merged(g, loser, survivor);
    return rc;
}
