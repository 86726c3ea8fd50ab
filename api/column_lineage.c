/* api/column_lineage.c - GET /api/v1/column-lineage: field-level lineage (Marquez's shape).
 *
 * nodeId is a datasetField (one column) or a dataset (all its columns that have lineage). The walk
 * follows field -> field edges upstream, and downstream too with withDownstream=true; depth counts
 * field edges, as in Marquez. Field nodes' data comes from one statement for the whole answer.
 * Invariants: nodes sorted by id, edges by (origin, destination); the read lock is released before
 * the database is read. */
#include "lineage.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lineage_int.h"
#include "store_nodes.h"
#include "utf8.h"

struct cnode {
    uint32_t node;
    const char *id, *ns, *dataset, *field;
    const char *data;
    const char **in, **out; /* ids of the other ends */
    size_t n_in, n_out;
};

static int cmp_cnode_node(const void *a, const void *b)
{
    const struct cnode *x = a, *y = b;
    return (x->node > y->node) - (x->node < y->node);
}

static int cmp_cnode_id(const void *a, const void *b)
{
    return strcmp(((const struct cnode *)a)->id, ((const struct cnode *)b)->id);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The field nodes to start from: the one field, or every field of the dataset. */
static size_t start_nodes(const struct graph *g, struct arena *a, uint32_t node, uint32_t **out)
{
    size_t n_in;
    const struct graph_edge *in = graph_in_edges(g, node, &n_in);

    *out = arena_alloc(a, (n_in + 1) * sizeof **out);
    if (graph_type(g, node) == GRAPH_FIELD) {
        (*out)[0] = node;
        return 1;
    }
    size_t n = 0;
    for (size_t k = 0; k < n_in; k++)
        if (in[k].kind == GRAPH_EDGE_FIELD_OF)
            (*out)[n++] = in[k].other;
    return n;
}

/* Appends every reached field node (duplicates are removed later, after sorting). */
static void add_hits(struct arena *a, const struct graph *g, const struct graph_result *res,
                     struct cnode **nodes, size_t *n, size_t *cap)
{
    for (size_t i = 0; i < res->n; i++) {
        uint32_t node = res->hits[i].node;
        if (graph_type(g, node) != GRAPH_FIELD)
            continue;
        if (*n == *cap) {
            size_t bigger = *cap ? *cap * 2 : 64;
            struct cnode *grown = arena_zalloc(a, bigger * sizeof *grown);
            if (*n)
                memcpy(grown, *nodes, *n * sizeof *grown);
            *nodes = grown;
            *cap = bigger;
        }
        struct cnode *c = &(*nodes)[(*n)++];
        c->node = node;
        c->ns = arena_strdup(a, graph_node_namespace(g, node));
        c->dataset = arena_strdup(a, graph_node_name(g, node));
        c->field = arena_strdup(a, graph_node_field(g, node));
        c->id = lineage_node_id(a, g, node);
    }
}

/* Sorts by graph id and drops repeats (several starts and both directions overlap). */
static size_t sort_unique(struct cnode *nodes, size_t n)
{
    size_t m = 0;

    if (n > 1) /* nodes is NULL when no field was reached, and qsort may not be given NULL */
        qsort(nodes, n, sizeof *nodes, cmp_cnode_node);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || nodes[m - 1].node != nodes[i].node)
            nodes[m++] = nodes[i];
    return m;
}

/* Field -> field edges between nodes of the answer. nodes must be sorted by graph id. */
static void collect_edges(struct arena *a, const struct graph *g, struct cnode *nodes, size_t n,
                          uint32_t as_of)
{
    for (size_t i = 0; i < n; i++) {
        size_t n_out;
        const struct graph_edge *out = graph_out_edges(g, nodes[i].node, &n_out);
        nodes[i].out = arena_alloc(a, (n_out + 1) * sizeof *nodes[i].out);
        for (size_t k = 0; k < n_out; k++) {
            struct cnode key = {.node = out[k].other};
            struct cnode *to = out[k].kind == GRAPH_EDGE_COLUMN && (!as_of || out[k].first_seen <= as_of)
                                   ? bsearch(&key, nodes, n, sizeof key, cmp_cnode_node)
                                   : NULL;
            if (to == NULL)
                continue;
            nodes[i].out[nodes[i].n_out++] = to->id;
            const char **grown = arena_alloc(a, (to->n_in + 1) * sizeof *grown);
            if (to->n_in)
                memcpy(grown, to->in, to->n_in * sizeof *grown);
            grown[to->n_in++] = nodes[i].id;
            to->in = grown;
        }
    }
}

static int walk_fields(struct req *r, const struct node_id *start, const struct lineage_opts *o,
                       bool downstream, struct cnode **nodes_out, size_t *n_out, bool *truncated,
                       struct err *e)
{
    struct graph *g = r->graph;
    struct cnode *nodes = NULL;
    size_t n = 0, cap = 0;
    uint32_t node, *starts;
    int rc = -1;

    graph_lock_read(g);
    if (lineage_find_node(g, start, &node, e) != 0)
        goto out;
    size_t n_starts = start_nodes(g, r->arena, node, &starts);
    /* Upstream always, downstream on request: two directed walks, not one undirected walk, which
     * would wander from an input into its other consumers. */
    for (int dir = 0; dir < (downstream ? 2 : 1); dir++) {
        for (size_t s = 0; s < n_starts; s++) {
            struct graph_result res;
            struct graph_query q = {.start = starts[s],
                                    .direction = dir == 0 ? GRAPH_UPSTREAM : GRAPH_DOWNSTREAM,
                                    .edge_kinds = 1u << GRAPH_EDGE_COLUMN,
                                    .node_types = 1u << GRAPH_FIELD,
                                    .max_depth = (int)o->depth,
                                    .max_nodes = (size_t)o->max_nodes,
                                    .max_usec = LINEAGE_WALK_USEC,
                                    .as_of = o->as_of};
            if (graph_walk(g, r->arena, &q, &res, e) != 0)
                goto out;
            *truncated |= res.truncated;
            add_hits(r->arena, g, &res, &nodes, &n, &cap);
        }
    }
    n = sort_unique(nodes, n);
    collect_edges(r->arena, g, nodes, n, o->as_of);
    *nodes_out = nodes;
    *n_out = n;
    rc = 0;
out:
    graph_unlock(g);
    return rc;
}

static void gen_edges(yajl_gen g, const char *self, const char **others, size_t n, bool in)
{
    if (n > 1) /* others is NULL for a node without edges on that side */
        qsort(others, n, sizeof *others, cmp_str);
    yajl_gen_array_open(g);
    for (size_t k = 0; k < n; k++) {
        yajl_gen_map_open(g);
        json_gen_key(g, "origin");
        json_gen_str(g, in ? others[k] : self);
        json_gen_key(g, "destination");
        json_gen_str(g, in ? self : others[k]);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static void render(struct req *r, struct reply *out, struct cnode *nodes, size_t n, bool truncated)
{
    yajl_gen g = json_gen_new();
    size_t len;
    struct err ignored;

    qsort(nodes, n, sizeof *nodes, cmp_cnode_id);
    yajl_gen_map_open(g);
    json_gen_key(g, "graph");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        yajl_gen_map_open(g);
        json_gen_key(g, "id");
        json_gen_str(g, nodes[i].id);
        json_gen_key(g, "type");
        json_gen_str(g, "DATASET_FIELD");
        json_gen_key(g, "data");
        struct json_value *v = nodes[i].data ? json_parse(r->arena, nodes[i].data, strlen(nodes[i].data),
                                                          JSON_MAX_DEPTH, &ignored)
                                             : NULL;
        if (v != NULL)
            json_write(g, v);
        else
            yajl_gen_null(g);
        json_gen_key(g, "inEdges");
        gen_edges(g, nodes[i].id, nodes[i].in, nodes[i].n_in, true);
        json_gen_key(g, "outEdges");
        gen_edges(g, nodes[i].id, nodes[i].out, nodes[i].n_out, false);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    if (truncated) {
        json_gen_key(g, "truncated");
        yajl_gen_bool(g, 1);
    }
    yajl_gen_map_close(g);
    const char *body = json_gen_finish(g, r->arena, &len);
    http_reply_json(out, 200, body, len);
}

int api_get_column_lineage(struct req *r, struct reply *out, struct err *e)
{
    const char *node_id = http_param(r, "nodeId");
    struct lineage_opts o;
    struct node_id start;
    bool downstream, truncated = false;
    struct cnode *nodes = NULL;
    size_t n = 0;

    if (node_id == NULL || *node_id == '\0')
        return err_set(e, ERR_BAD_PARAM, "nodeId", "must not be null");
    if (lineage_parse_opts(r, &o, e) != 0 ||
        http_param_bool(r, "withDownstream", false, &downstream, e) != 0 ||
        nodeid_parse(r->arena, node_id, &start, e) != 0)
        return -1;
    if (start.kind != NODE_DATASET && start.kind != NODE_FIELD)
        return err_set(e, ERR_BAD_INPUT, "nodeId", "Node '%.*s' must be of type dataset or datasetField!",
                       utf8_prefix(node_id, 200), node_id);
    if (start.version != NULL && downstream)
        return err_set(e, ERR_BAD_INPUT, "nodeId",
                       "Node version cannot be specified when withDownstream is true");
    if (lineage_pin(r, &start, &o, e) != 0)
        return -1;
    if (walk_fields(r, &start, &o, downstream, &nodes, &n, &truncated, e) != 0)
        return -1;
    if (n == 0)
        return err_set(e, ERR_NOT_FOUND, NULL, "Could not find node");
    const char **ns = arena_alloc(r->arena, n * sizeof *ns), **ds = arena_alloc(r->arena, n * sizeof *ds);
    const char **fs = arena_alloc(r->arena, n * sizeof *fs), **json = arena_alloc(r->arena, n * sizeof *json);
    for (size_t i = 0; i < n; i++) {
        ns[i] = nodes[i].ns;
        ds[i] = nodes[i].dataset;
        fs[i] = nodes[i].field;
    }
    if (store_field_data(r->store, r->arena, ns, ds, fs, n, json, e) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        nodes[i].data = json[i];
    render(r, out, nodes, n, truncated);
    return 0;
}
