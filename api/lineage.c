/* api/lineage.c - GET /api/v1/lineage: Marquez's lineage graph, answered from the in-memory graph.
 *
 * Without direction= the walk is Marquez's: undirected over job<->dataset edges, depth counting
 * job hops, so it returns upstream, downstream and siblings. direction=upstream|downstream makes it
 * directed; asOf, types (also dataset kinds: MODEL, MODEL:REGISTERED, FEATURE_VIEW), maxNodes, runId,
 * #version pinning and name= (a name without its namespace) are our extensions (see lineage_opts.c).
 * Unlike Marquez, edges
 * are cumulative: every input or output a job ever had counts, not only its current version's.
 * Node data comes from lineage_data.c (the node cache, else SQL) and passes through as text; the rest
 * of the answer is written here.
 * Invariants:
 *  1. The graph's read lock is held only while walking and copying names, never during a database read.
 *  2. Output is deterministic: nodes sorted by id, each node's edges sorted by (origin, destination),
 *     whether node data came from the cache or from Postgres. */
#include "lineage.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"
#include "lineage_int.h"
#include "store_nodes.h"
#include "utf8.h"

struct lnode {
    uint32_t node, stamp;
    enum graph_node_type type;
    const char *id, *ns, *name;
    const char *id_json; /* id as a JSON string, quoted and escaped */
    size_t id_json_len;
    const char *data;    /* JSON, or NULL */
    size_t data_len;
    bool hidden;         /* filtered out by a dataset type in types= (still walked through) */
    size_t *in, *out; /* indexes of the other end, into the nodes array */
    size_t n_in, n_out;
};

struct lgraph {
    struct lnode *nodes;
    size_t n;
    bool truncated;
    size_t *slots; /* index_nodes: positions in nodes by graph id, SIZE_MAX when empty */
    size_t mask;
    struct lineage_node *data; /* fetch_data's request; holds node cache texts until released */
    size_t n_data;
};

static int cmp_node_by_id(const void *a, const void *b)
{
    return strcmp(((const struct lnode *)a)->id, ((const struct lnode *)b)->id);
}

/* Indexes lg->nodes by graph node id: an open-addressing table at most half full, in the arena. */
static void index_nodes(struct arena *a, struct lgraph *lg)
{
    size_t cap = 16;
    while (cap < 2 * lg->n)
        cap *= 2;
    lg->slots = arena_alloc(a, cap * sizeof *lg->slots);
    memset(lg->slots, 0xff, cap * sizeof *lg->slots);
    lg->mask = cap - 1;
    for (size_t i = 0; i < lg->n; i++) {
        size_t h = (lg->nodes[i].node * 2654435761u) & lg->mask;
        while (lg->slots[h] != SIZE_MAX)
            h = (h + 1) & lg->mask;
        lg->slots[h] = i;
    }
}

/* Index of graph node `node` in lg->nodes, or -1. */
static long index_of(const struct lgraph *lg, uint32_t node)
{
    for (size_t h = (node * 2654435761u) & lg->mask; lg->slots[h] != SIZE_MAX; h = (h + 1) & lg->mask)
        if (lg->nodes[lg->slots[h]].node == node)
            return (long)lg->slots[h];
    return -1;
}

struct edge_pair {
    size_t from, to; /* indexes into lg->nodes */
};

/* Appends (from, to) to *pairs, growing it in the arena. */
static void push_pair(struct arena *a, struct edge_pair **pairs, size_t *n, size_t *cap, size_t from, size_t to)
{
    if (*n == *cap) {
        struct edge_pair *bigger = arena_alloc(a, 2 * *cap * sizeof *bigger);
        memcpy(bigger, *pairs, *n * sizeof *bigger);
        *pairs = bigger;
        *cap *= 2;
    }
    (*pairs)[(*n)++] = (struct edge_pair){from, to};
}

/* Collects the IO edges between nodes of the answer (both ends present, not newer than as_of). Per node,
 * the cheaper way: scan its out-list, or (a hub with more out-edges than the answer has nodes) ask the
 * graph for an edge to each node of the answer; so hubs with 100,000 readers cost what the answer does. */
static void collect_edges(struct arena *a, const struct graph *g, struct lgraph *lg, uint32_t as_of)
{
    size_t n_pairs = 0, cap = 4 * lg->n + 16;
    struct edge_pair *pairs = arena_alloc(a, cap * sizeof *pairs);

    for (size_t i = 0; i < lg->n; i++) {
        size_t n_out;
        const struct graph_edge *out = graph_out_edges(g, lg->nodes[i].node, &n_out);
        if (n_out <= lg->n) {
            for (size_t k = 0; k < n_out; k++) {
                long j = out[k].kind == GRAPH_EDGE_IO && (!as_of || out[k].first_seen <= as_of)
                             ? index_of(lg, out[k].other)
                             : -1;
                if (j >= 0)
                    push_pair(a, &pairs, &n_pairs, &cap, i, (size_t)j);
            }
            continue;
        }
        for (size_t j = 0; j < lg->n; j++) {
            const struct graph_edge *ed = graph_find_edge(g, lg->nodes[i].node, lg->nodes[j].node, GRAPH_EDGE_IO);
            if (ed != NULL && (!as_of || ed->first_seen <= as_of))
                push_pair(a, &pairs, &n_pairs, &cap, i, j);
        }
    }
    for (size_t k = 0; k < n_pairs; k++) {
        lg->nodes[pairs[k].from].n_out++;
        lg->nodes[pairs[k].to].n_in++;
    }
    for (size_t i = 0; i < lg->n; i++) {
        lg->nodes[i].out = arena_alloc(a, (lg->nodes[i].n_out + 1) * sizeof(size_t));
        lg->nodes[i].in = arena_alloc(a, (lg->nodes[i].n_in + 1) * sizeof(size_t));
        lg->nodes[i].n_out = lg->nodes[i].n_in = 0;
    }
    for (size_t k = 0; k < n_pairs; k++) {
        struct lnode *from = &lg->nodes[pairs[k].from], *to = &lg->nodes[pairs[k].to];
        from->out[from->n_out++] = pairs[k].to;
        to->in[to->n_in++] = pairs[k].from;
    }
}

/* Marquez starts a dataset's lineage at one job: the latest writer of the dataset, else its latest
 * reader (LineageDao.getJobFromInputOrOutput). Returns the dataset itself when no job touches it
 * (Marquez's orphan graph). Call with the read lock held. */
static uint32_t marquez_start_job(const struct graph *g, uint32_t dataset, uint32_t as_of)
{
    for (int in = 1; in >= 0; in--) {
        size_t n;
        const struct graph_edge *edges =
            in ? graph_in_edges(g, dataset, &n) : graph_out_edges(g, dataset, &n);
        uint32_t best = GRAPH_NO_NODE, best_seen = 0;
        for (size_t k = 0; k < n; k++) {
            if (edges[k].kind != GRAPH_EDGE_IO || (as_of && edges[k].first_seen > as_of))
                continue;
            if (best == GRAPH_NO_NODE || edges[k].last_seen > best_seen) {
                best = edges[k].other;
                best_seen = edges[k].last_seen;
            }
        }
        if (best != GRAPH_NO_NODE)
            return best;
    }
    return dataset;
}

/* Walks the graph under its read lock and copies out everything the answer needs. */
static int walk(struct req *r, struct node_id *start, const struct lineage_opts *o, struct lgraph *lg,
                uint32_t *start_node, struct err *e)
{
    struct graph *g = r->graph;
    struct graph_result res;
    struct graph_query q = {
        .direction = o->direction,
        .edge_kinds = 1u << GRAPH_EDGE_IO,
        .node_types = (1u << GRAPH_DATASET) | (1u << GRAPH_JOB),
        .max_depth = (int)(2 * o->depth + 1),
        .max_nodes = (size_t)o->max_nodes,
        .max_usec = LINEAGE_WALK_USEC,
        .as_of = o->as_of,
    };
    int rc = -1;

    graph_lock_read(g);
    if (lineage_find_node(g, r->arena, start, &q.start, NULL, e) != 0)
        goto out;
    *start_node = q.start;
    if (start->kind == NODE_DATASET && o->directed) {
        q.max_depth = (int)(2 * o->depth + 2); /* job hops counted from the dataset's own jobs */
    } else if (start->kind == NODE_DATASET) {
        q.start = marquez_start_job(g, q.start, o->as_of);
        if (q.start == *start_node)
            q.max_depth = 0; /* no job touches it: the dataset alone */
    }
    if (lineage_walk(g, r->arena, o, &q, &res, e) != 0)
        goto out;
    lg->nodes = arena_zalloc(r->arena, (res.n + 1) * sizeof *lg->nodes);
    lg->truncated = res.truncated;
    for (size_t i = 0; i < res.n; i++) {
        uint32_t node = res.hits[i].node;
        enum graph_node_type t = graph_type(g, node);
        if (!(o->node_types & (1u << t)) && node != q.start)
            continue;
        struct lnode *ln = &lg->nodes[lg->n++];
        ln->node = node;
        ln->stamp = graph_node_stamp(g, node);
        ln->type = t;
        ln->ns = arena_strdup(r->arena, graph_node_namespace(g, node));
        ln->name = arena_strdup(r->arena, graph_node_name(g, node));
        ln->id = lineage_node_id(r->arena, g, node);
    }
    index_nodes(r->arena, lg);
    collect_edges(r->arena, g, lg, o->as_of);
    rc = 0;
out:
    graph_unlock(g);
    return rc;
}

/* Hides datasets whose kind types= does not list (the start node always stays). */
static int filter_dataset_types(struct req *r, const struct lineage_opts *o, struct lgraph *lg,
                                uint32_t start, struct err *e)
{
    const char **ns = arena_alloc(r->arena, (lg->n + 1) * sizeof *ns);
    const char **names = arena_alloc(r->arena, (lg->n + 1) * sizeof *names);
    bool *hide = arena_alloc(r->arena, (lg->n + 1) * sizeof *hide);
    size_t *idx = arena_alloc(r->arena, (lg->n + 1) * sizeof *idx), m = 0;

    for (size_t i = 0; i < lg->n; i++) {
        if (lg->nodes[i].type != GRAPH_DATASET || lg->nodes[i].node == start)
            continue;
        ns[m] = lg->nodes[i].ns;
        names[m] = lg->nodes[i].name;
        idx[m++] = i;
    }
    if (lineage_hide_kinds(r, o, ns, names, m, hide, e) != 0)
        return -1;
    for (size_t k = 0; k < m; k++)
        lg->nodes[idx[k]].hidden = hide[k];
    return 0;
}

/* Fills the data of every node the answer shows (lineage_data.c). */
static int fetch_data(struct req *r, struct lgraph *lg, struct err *e)
{
    struct lineage_node *want = lg->data = arena_alloc(r->arena, (lg->n + 1) * sizeof *want);
    size_t *idx = arena_alloc(r->arena, (lg->n + 1) * sizeof *idx), m = 0;

    for (size_t i = 0; i < lg->n; i++) {
        const struct lnode *n = &lg->nodes[i];
        if (n->hidden)
            continue;
        want[m] = (struct lineage_node){n->node, n->stamp, n->type, n->ns, n->name, NULL, 0, NULL};
        idx[m++] = i;
    }
    if (lineage_node_data(r, want, m, e) != 0)
        return -1;
    lg->n_data = m;
    for (size_t k = 0; k < m; k++) {
        lg->nodes[idx[k]].data = want[k].data;
        lg->nodes[idx[k]].data_len = want[k].data_len;
    }
    return 0;
}

/* Edges as (origin, destination) nodes, sorted by their ids. */
struct edge_ref {
    const struct lnode *origin, *destination;
};

static int cmp_edge(const void *a, const void *b)
{
    const struct edge_ref *x = a, *y = b;
    int c = strcmp(x->origin->id, y->origin->id);
    return c != 0 ? c : strcmp(x->destination->id, y->destination->id);
}

static void gen_edges(struct json_text *t, struct arena *a, const struct lgraph *lg, const struct lnode *n,
                      bool in)
{
    size_t count = in ? n->n_in : n->n_out;
    struct edge_ref *refs = arena_alloc(a, (count + 1) * sizeof *refs);

    size_t kept = 0;
    for (size_t k = 0; k < count; k++) {
        const struct lnode *other = &lg->nodes[in ? n->in[k] : n->out[k]];
        if (other->hidden)
            continue;
        refs[kept].origin = in ? other : n;
        refs[kept++].destination = in ? n : other;
    }
    count = kept;
    qsort(refs, count, sizeof *refs, cmp_edge);
    json_text_lit(t, "[");
    for (size_t k = 0; k < count; k++) {
        json_text_lit(t, k ? ",{\"origin\":" : "{\"origin\":");
        json_text_raw(t, refs[k].origin->id_json, refs[k].origin->id_json_len);
        json_text_lit(t, ",\"destination\":");
        json_text_raw(t, refs[k].destination->id_json, refs[k].destination->id_json_len);
        json_text_lit(t, "}");
    }
    json_text_lit(t, "]");
}

/* The answer as text: node data passes through as read (see lineage_data.c), the rest is written here
 * ({"graph":[{"id","type","data","inEdges","outEdges"}...]} with "truncated" when a limit cut it). */
static void render(struct req *r, struct reply *out, struct lgraph *lg)
{
    struct json_text t;
    size_t hint = 64;

    for (size_t i = 0; i < lg->n; i++) {
        struct lnode *n = &lg->nodes[i];
        struct json_text id;
        json_text_init(&id, r->arena, 6 * strlen(n->id) + 2); /* json_text_str reserves the worst case */
        json_text_str(&id, n->id);
        n->id_json = id.p;
        n->id_json_len = id.len;
        hint += n->data_len + 3 * id.len + 64 * (n->n_in + n->n_out) + 96;
    }
    /* Edge lists hold indexes into lg->nodes, so render from an id-sorted copy. */
    struct lnode *sorted = arena_alloc(r->arena, (lg->n + 1) * sizeof *sorted);
    memcpy(sorted, lg->nodes, lg->n * sizeof *sorted);
    qsort(sorted, lg->n, sizeof *sorted, cmp_node_by_id);
    json_text_init(&t, r->arena, hint);
    json_text_lit(&t, "{\"graph\":[");
    bool first = true;
    for (size_t i = 0; i < lg->n; i++) {
        const struct lnode *n = &sorted[i];
        if (n->hidden)
            continue;
        json_text_lit(&t, first ? "{\"id\":" : ",{\"id\":");
        first = false;
        json_text_raw(&t, n->id_json, n->id_json_len);
        json_text_lit(&t, n->type == GRAPH_JOB ? ",\"type\":\"JOB\",\"data\":" : ",\"type\":\"DATASET\",\"data\":");
        if (n->data != NULL)
            json_text_raw(&t, n->data, n->data_len);
        else
            json_text_lit(&t, "null");
        json_text_lit(&t, ",\"inEdges\":");
        gen_edges(&t, r->arena, lg, n, true);
        json_text_lit(&t, ",\"outEdges\":");
        gen_edges(&t, r->arena, lg, n, false);
        json_text_lit(&t, "}");
    }
    json_text_lit(&t, lg->truncated ? "],\"truncated\":true}" : "]}");
    http_reply_json(out, 200, t.p, t.len);
}

int api_get_lineage(struct req *r, struct reply *out, struct err *e)
{
    const char *node_id = http_param(r, "nodeId");
    struct lineage_opts o;
    struct node_id start;
    struct lgraph lg = {0};
    uint32_t start_node = GRAPH_NO_NODE;

    if (lineage_parse_opts(r, &o, e) != 0)
        return -1;
    int rc = lineage_start(r, out, &start, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (start.kind != NODE_DATASET && start.kind != NODE_JOB)
        return err_set(e, ERR_BAD_INPUT, "nodeId", "Node '%.*s' must be of type dataset or job!",
                       utf8_prefix(node_id, 200), node_id);
    if (lineage_resolve(r, &start, e) != 0 || lineage_pin(r, &start, &o, e) != 0 ||
        walk(r, &start, &o, &lg, &start_node, e) != 0 ||
        filter_dataset_types(r, &o, &lg, start_node, e) != 0 || fetch_data(r, &lg, e) != 0)
        return -1;
    render(r, out, &lg);
    lineage_node_data_release(r, lg.data, lg.n_data); /* render copied the data into the answer */
    return 0;
}
