/* graph/bulk.c - rows of a load added many at a time, the memory each row will touch fetched ahead.
 *
 * A load of ten million nodes is bound by memory latency, not by work: every column-lineage row
 * looks up two field nodes in a table of 16 million slots and appends to two edge lists among ten
 * million, each a cache (and TLB) miss that the next step depends on. Taking rows a batch at a time
 * lets those misses overlap: one pass starts the loads of every row's table slots, the next (which
 * finds them in cache) starts the loads of the nodes they name, the next does the lookups and starts
 * the loads of the edge lists, and the last appends. Prefetches only ever read; every decision is
 * taken by the same code a single row goes through (graph_field_at, graph_add_new_edge), so a stale
 * prefetch (a node made by an earlier row of the batch) costs time, never correctness.
 *
 * Invariants: those of graph.h and graph_int.h, kept by the functions this calls.
 * Threads: callers hold the write lock. */
#include "graph.h"
#include "graph_int.h"

#include <inttypes.h>

enum { BULK_BATCH = 32 };

/* What a row of the batch learned in the passes so far. */
struct bulk_row {
    uint32_t in_ds, out_ds;     /* live dataset nodes */
    uint32_t in_off, out_off;   /* interned field names (out_off GRAPH_EMPTY: no output field) */
    uint32_t in_hash, out_hash; /* their nodetab keys' hashes */
    uint32_t from, to;
};

static void prefetch(const void *p)
{
    __builtin_prefetch(p, 0, 3);
}

static bool is_dataset(const struct graph *g, uint32_t id)
{
    return id < g->node_count && graph_ntype(g, id) == GRAPH_DATASET;
}

/* Pass 1: checks and interns the row's names; starts loading the table slots of fields not in the
 * recent-fields cache. */
static int pass_names(struct graph *g, const struct graph_column_row *r, struct bulk_row *b, struct err *e)
{
    if (!is_dataset(g, r->in_dataset) || !is_dataset(g, r->out_dataset))
        return err_set(e, ERR_INVALID, "dataset", "node %" PRIu32 " or %" PRIu32 " is not a dataset",
                       r->in_dataset, r->out_dataset);
    if (r->in_field == NULL)
        return err_set(e, ERR_BAD_INPUT, "field", "missing field name");
    b->in_ds = graph_live(g, r->in_dataset);
    b->out_ds = graph_live(g, r->out_dataset);
    b->out_off = GRAPH_EMPTY;
    if (graph_strtab_intern(g, r->in_field, &b->in_off, e) < 0 ||
        (r->out_field != NULL && graph_strtab_intern(g, r->out_field, &b->out_off, e) < 0))
        return -1;
    b->in_hash = graph_key_hash(GRAPH_FIELD, b->in_ds, r->in_field);
    prefetch(&g->nodetab.slots[b->in_hash & g->nodetab.mask]);
    if (r->out_field != NULL) {
        b->out_hash = graph_key_hash(GRAPH_FIELD, b->out_ds, r->out_field);
        prefetch(&g->nodetab.slots[b->out_hash & g->nodetab.mask]);
    }
    return 0;
}

/* Pass 2: from the (now cached) slots, starts loading the node a key most likely names, or the
 * dataset's in-list header a new field's FIELD_OF edge goes to. */
static void prefetch_key(const struct graph *g, uint32_t dataset, uint32_t hash)
{
    const struct graph_keytab *t = &g->nodetab;
    uint32_t i = hash & t->mask, v;

    while (t->slots[i].v != GRAPH_EMPTY && t->slots[i].hash != hash)
        i = (i + 1) & t->mask;
    v = t->slots[i].v;
    if (v == GRAPH_EMPTY || (v & GRAPH_ALIAS_BIT)) {
        prefetch(&g->adj[GRAPH_IN][dataset]);
        return;
    }
    prefetch(&g->names[v]);
    prefetch(&g->types[v]);
}

/* Pass 4: starts loading the slots the edge will be appended at. */
static void prefetch_tails(const struct graph *g, uint32_t from, uint32_t to)
{
    const struct graph_adj *o = &g->adj[GRAPH_OUT][from], *i = &g->adj[GRAPH_IN][to];

    __builtin_prefetch(g->pool[GRAPH_OUT].e + o->off + o->len, 1, 3);
    __builtin_prefetch(g->pool[GRAPH_IN].e + i->off + i->len, 1, 3);
}

static int add_batch(struct graph *g, const struct graph_column_row *r, size_t n, struct err *e)
{
    struct bulk_row b[BULK_BATCH];

    for (size_t k = 0; k < n; k++)
        if (pass_names(g, &r[k], &b[k], e) != 0)
            return -1;
    for (size_t k = 0; k < n; k++) {
        prefetch_key(g, b[k].in_ds, b[k].in_hash);
        if (b[k].out_off != GRAPH_EMPTY)
            prefetch_key(g, b[k].out_ds, b[k].out_hash);
    }
    for (size_t k = 0; k < n; k++) {
        b[k].from = graph_field_at(g, b[k].in_ds, r[k].in_field, b[k].in_off, e);
        b[k].to = b[k].out_off == GRAPH_EMPTY ? b[k].out_ds
                                              : graph_field_at(g, b[k].out_ds, r[k].out_field, b[k].out_off, e);
        if (b[k].from == GRAPH_NO_NODE || b[k].to == GRAPH_NO_NODE)
            return -1;
        prefetch(&g->adj[GRAPH_OUT][b[k].from]);
        prefetch(&g->adj[GRAPH_IN][b[k].to]);
    }
    for (size_t k = 0; k < n; k++)
        prefetch_tails(g, b[k].from, b[k].to);
    for (size_t k = 0; k < n; k++)
        if (graph_add_new_edge(g, b[k].from, b[k].to, GRAPH_EDGE_COLUMN, r[k].first_seen, r[k].last_seen, r[k].run,
                               e) != 0)
            return -1;
    return 0;
}

int graph_add_column_rows(struct graph *g, const struct graph_column_row *rows, size_t n, struct err *e)
{
    for (size_t at = 0; at < n; at += BULK_BATCH)
        if (add_batch(g, rows + at, n - at < BULK_BATCH ? n - at : BULK_BATCH, e) != 0)
            return -1;
    return 0;
}
