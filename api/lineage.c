/* api/lineage.c - GET /api/v1/lineage: Marquez's lineage graph, answered from the in-memory graph.
 *
 * Without direction= the walk is Marquez's: undirected over job<->dataset edges, depth counting
 * job hops, so it returns upstream, downstream and siblings. direction=upstream|downstream makes it
 * directed; asOf, types (also dataset types: MODEL, VIEW), maxNodes, runId and #version pinning are our
 * extensions (see lineage_opts.c). Unlike Marquez, edges
 * are cumulative: every input or output a job ever had counts, not only its current version's.
 * Invariants:
 *  1. The graph's read lock is held only while walking and copying names; database reads happen after.
 *  2. Output is deterministic: nodes sorted by id, each node's edges sorted by (origin, destination). */
#include "lineage.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lineage_int.h"
#include "store_nodes.h"

struct lnode {
    uint32_t node;
    enum graph_node_type type;
    const char *id, *ns, *name;
    const char *data; /* JSON, or NULL */
    bool hidden;      /* filtered out by a dataset type in types= (still walked through) */
    size_t *in, *out; /* indexes of the other end, into the nodes array */
    size_t n_in, n_out;
};

struct lgraph {
    struct lnode *nodes;
    size_t n;
    bool truncated;
};

static int cmp_node_by_graph_id(const void *a, const void *b)
{
    const struct lnode *x = a, *y = b;
    return (x->node > y->node) - (x->node < y->node);
}

static int cmp_node_by_id(const void *a, const void *b)
{
    return strcmp(((const struct lnode *)a)->id, ((const struct lnode *)b)->id);
}

/* Index of graph node `node` among nodes sorted by graph id, or -1. */
static long index_of(const struct lgraph *lg, uint32_t node)
{
    struct lnode key = {.node = node};
    const struct lnode *hit = bsearch(&key, lg->nodes, lg->n, sizeof key, cmp_node_by_graph_id);
    return hit ? hit - lg->nodes : -1;
}

/* Collects the IO edges between nodes of the answer (both ends present, not newer than as_of). */
static void collect_edges(struct arena *a, const struct graph *g, struct lgraph *lg, uint32_t as_of)
{
    for (size_t i = 0; i < lg->n; i++) {
        size_t n_out, n_in;
        const struct graph_edge *out = graph_out_edges(g, lg->nodes[i].node, &n_out);
        const struct graph_edge *in = graph_in_edges(g, lg->nodes[i].node, &n_in);
        lg->nodes[i].out = arena_alloc(a, (n_out + 1) * sizeof(size_t));
        lg->nodes[i].in = arena_alloc(a, (n_in + 1) * sizeof(size_t));
        for (size_t k = 0; k < n_out; k++) {
            long j = out[k].kind == GRAPH_EDGE_IO && (!as_of || out[k].first_seen <= as_of)
                         ? index_of(lg, out[k].other)
                         : -1;
            if (j >= 0)
                lg->nodes[i].out[lg->nodes[i].n_out++] = (size_t)j;
        }
        for (size_t k = 0; k < n_in; k++) {
            long j = in[k].kind == GRAPH_EDGE_IO && (!as_of || in[k].first_seen <= as_of)
                         ? index_of(lg, in[k].other)
                         : -1;
            if (j >= 0)
                lg->nodes[i].in[lg->nodes[i].n_in++] = (size_t)j;
        }
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
static int walk(struct req *r, const struct node_id *start, const struct lineage_opts *o, struct lgraph *lg,
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
        .as_of = o->as_of,
    };
    int rc = -1;

    graph_lock_read(g);
    if (lineage_find_node(g, start, &q.start, e) != 0)
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
        ln->type = t;
        ln->ns = arena_strdup(r->arena, graph_node_namespace(g, node));
        ln->name = arena_strdup(r->arena, graph_node_name(g, node));
        ln->id = lineage_node_id(r->arena, g, node);
    }
    qsort(lg->nodes, lg->n, sizeof *lg->nodes, cmp_node_by_graph_id);
    collect_edges(r->arena, g, lg, o->as_of);
    rc = 0;
out:
    graph_unlock(g);
    return rc;
}

/* Hides datasets whose datasetType is not among types= (the start node always stays). */
static int filter_dataset_types(struct req *r, const struct lineage_opts *o, struct lgraph *lg,
                                uint32_t start, struct err *e)
{
    if (o->n_dataset_types == 0)
        return 0;
    const char **ns = arena_alloc(r->arena, (lg->n + 1) * sizeof *ns);
    const char **names = arena_alloc(r->arena, (lg->n + 1) * sizeof *names);
    const char **types = arena_alloc(r->arena, (lg->n + 1) * sizeof *types);
    size_t *idx = arena_alloc(r->arena, (lg->n + 1) * sizeof *idx), m = 0;
    for (size_t i = 0; i < lg->n; i++) {
        if (lg->nodes[i].type != GRAPH_DATASET || lg->nodes[i].node == start)
            continue;
        ns[m] = lg->nodes[i].ns;
        names[m] = lg->nodes[i].name;
        idx[m++] = i;
    }
    if (store_dataset_types(r->store, r->arena, ns, names, m, types, e) != 0)
        return -1;
    for (size_t k = 0; k < m; k++)
        lg->nodes[idx[k]].hidden = !lineage_dataset_type_wanted(o, types[k]);
    return 0;
}

/* Fills each node's data with one statement per node type. */
static int fetch_data(struct req *r, struct lgraph *lg, struct err *e)
{
    for (int kind = STORE_NODE_JOB; kind <= STORE_NODE_DATASET; kind++) {
        enum graph_node_type t = kind == STORE_NODE_JOB ? GRAPH_JOB : GRAPH_DATASET;
        const char **ns = arena_alloc(r->arena, (lg->n + 1) * sizeof *ns);
        const char **names = arena_alloc(r->arena, (lg->n + 1) * sizeof *names);
        const char **json = arena_alloc(r->arena, (lg->n + 1) * sizeof *json);
        size_t *idx = arena_alloc(r->arena, (lg->n + 1) * sizeof *idx), m = 0;
        for (size_t i = 0; i < lg->n; i++) {
            if (lg->nodes[i].type != t)
                continue;
            ns[m] = lg->nodes[i].ns;
            names[m] = lg->nodes[i].name;
            idx[m++] = i;
        }
        if (store_node_data(r->store, r->arena, (enum store_node_kind)kind, ns, names, m, json, e) != 0)
            return -1;
        for (size_t k = 0; k < m; k++)
            lg->nodes[idx[k]].data = json[k];
    }
    return 0;
}

/* Edges as (origin id, destination id) pairs, sorted. */
struct edge_ref {
    const char *origin, *destination;
};

static int cmp_edge(const void *a, const void *b)
{
    const struct edge_ref *x = a, *y = b;
    int c = strcmp(x->origin, y->origin);
    return c != 0 ? c : strcmp(x->destination, y->destination);
}

static void gen_edges(yajl_gen g, struct arena *a, const struct lgraph *lg, const struct lnode *n, bool in)
{
    size_t count = in ? n->n_in : n->n_out;
    struct edge_ref *refs = arena_alloc(a, (count + 1) * sizeof *refs);

    size_t kept = 0;
    for (size_t k = 0; k < count; k++) {
        const struct lnode *other = &lg->nodes[in ? n->in[k] : n->out[k]];
        if (other->hidden)
            continue;
        refs[kept].origin = in ? other->id : n->id;
        refs[kept++].destination = in ? n->id : other->id;
    }
    count = kept;
    qsort(refs, count, sizeof *refs, cmp_edge);
    yajl_gen_array_open(g);
    for (size_t k = 0; k < count; k++) {
        yajl_gen_map_open(g);
        json_gen_key(g, "origin");
        json_gen_str(g, refs[k].origin);
        json_gen_key(g, "destination");
        json_gen_str(g, refs[k].destination);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

/* Writes a JSON text produced elsewhere (the node data from SQL) as a value. */
static int gen_raw_json(yajl_gen g, struct arena *a, const char *text)
{
    struct err e;
    struct json_value *v = text ? json_parse(a, text, strlen(text), JSON_MAX_DEPTH, &e) : NULL;

    if (v == NULL)
        return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
    return json_write(g, v);
}

static void render(struct req *r, struct reply *out, struct lgraph *lg)
{
    yajl_gen g = json_gen_new();
    size_t len;

    /* Edge lists hold indexes into lg->nodes (graph-id order), so render from an id-sorted copy. */
    struct lnode *sorted = arena_alloc(r->arena, (lg->n + 1) * sizeof *sorted);
    memcpy(sorted, lg->nodes, lg->n * sizeof *sorted);
    qsort(sorted, lg->n, sizeof *sorted, cmp_node_by_id);
    yajl_gen_map_open(g);
    json_gen_key(g, "graph");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < lg->n; i++) {
        const struct lnode *n = &sorted[i];
        if (n->hidden)
            continue;
        yajl_gen_map_open(g);
        json_gen_key(g, "id");
        json_gen_str(g, n->id);
        json_gen_key(g, "type");
        json_gen_str(g, n->type == GRAPH_JOB ? "JOB" : "DATASET");
        json_gen_key(g, "data");
        gen_raw_json(g, r->arena, n->data);
        json_gen_key(g, "inEdges");
        gen_edges(g, r->arena, lg, n, true);
        json_gen_key(g, "outEdges");
        gen_edges(g, r->arena, lg, n, false);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    if (lg->truncated) {
        json_gen_key(g, "truncated");
        yajl_gen_bool(g, 1);
    }
    yajl_gen_map_close(g);
    const char *body = json_gen_finish(g, r->arena, &len);
    http_reply_json(out, 200, body, len);
}

int api_get_lineage(struct req *r, struct reply *out, struct err *e)
{
    const char *node_id = http_param(r, "nodeId");
    struct lineage_opts o;
    struct node_id start;
    struct lgraph lg = {0};
    uint32_t start_node = GRAPH_NO_NODE;

    if (node_id == NULL || *node_id == '\0')
        return err_set(e, ERR_BAD_PARAM, "nodeId", "must not be null");
    if (lineage_parse_opts(r, &o, e) != 0 || nodeid_parse(r->arena, node_id, &start, e) != 0)
        return -1;
    if (start.kind != NODE_DATASET && start.kind != NODE_JOB)
        return err_set(e, ERR_BAD_INPUT, "nodeId", "Node '%.200s' must be of type dataset or job!", node_id);
    if (lineage_pin(r, &start, &o, e) != 0 || walk(r, &start, &o, &lg, &start_node, e) != 0 ||
        filter_dataset_types(r, &o, &lg, start_node, e) != 0 || fetch_data(r, &lg, e) != 0)
        return -1;
    render(r, out, &lg);
    return 0;
}
