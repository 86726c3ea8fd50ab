/* api/column_lineage.c - GET /api/v1/column-lineage: field-level lineage (Marquez's shape).
 *
 * nodeId is a datasetField (one column), a dataset (all its columns) or a job (the columns of the
 * datasets its latest run wrote, else of every dataset it wrote: Marquez's ColumnLineageService, where
 * a job's answer is its output dataset's). column_walk.c takes the edges Marquez's query takes; the
 * answer is those edges and their end fields, and each field's data lists as inputFields exactly its
 * edges in the answer (the rows Marquez aggregates), so a field only reached as an input has none and
 * fieldType "". A node that exists but reaches no edge answers {"graph":[]}; one that does not, 404.
 * Invariants: nodes sorted by id, edges by (origin, destination); the read lock is released before
 * the database is read. */
#include "lineage.h"

#include <stdlib.h>
#include <string.h>

#include "column_walk.h"
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
    struct cnode **in_nodes; /* the nodes of in[] */
};

struct canswer {
    struct cnode *nodes; /* sorted by graph id while built */
    size_t n;
    bool truncated;
    bool field_unknown; /* a field start the graph does not know (no lineage yet): ask the database */
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

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

/* Appends the field nodes of dataset node ds to out[*n]; out has room for every in-edge of ds. */
static void add_fields(const struct graph *g, uint32_t ds, uint32_t *out, size_t *n)
{
    size_t n_in;
    const struct graph_edge *in = graph_in_edges(g, ds, &n_in);

    for (size_t k = 0; k < n_in; k++)
        if (in[k].kind == GRAPH_EDGE_FIELD_OF)
            out[(*n)++] = in[k].other;
}

/* The datasets a job's answer starts from: those its latest run (by first event) wrote, else every
 * dataset it ever wrote (a job known from JobEvents only). */
static size_t job_outputs(const struct graph *g, struct arena *a, uint32_t job, uint32_t **out)
{
    size_t n_in, n_out, m = 0;
    const struct graph_edge *in = graph_in_edges(g, job, &n_in), *l;
    uint32_t run = GRAPH_NO_NODE, run_seen = 0;

    for (size_t k = 0; k < n_in; k++)
        if (in[k].kind == GRAPH_EDGE_RUN_OF && (run == GRAPH_NO_NODE || in[k].first_seen >= run_seen)) {
            run = in[k].other;
            run_seen = in[k].first_seen;
        }
    for (int pass = 0; pass < 2 && m == 0; pass++) {
        if (pass == 0 && run == GRAPH_NO_NODE)
            continue;
        l = graph_out_edges(g, pass == 0 ? run : job, &n_out);
        *out = arena_alloc(a, (n_out + 1) * sizeof **out);
        for (size_t k = 0; k < n_out; k++)
            if (l[k].kind == (pass == 0 ? GRAPH_EDGE_RUN_IO : GRAPH_EDGE_IO))
                (*out)[m++] = l[k].other;
    }
    return m;
}

/* The field nodes to start from: the field, the dataset's fields, or the job's outputs' fields. */
static size_t start_fields(const struct graph *g, struct arena *a, uint32_t node, uint32_t **out)
{
    uint32_t *datasets = &node;
    size_t n_ds = 1, total = 0, n = 0;

    if (graph_type(g, node) == GRAPH_FIELD) {
        *out = arena_alloc(a, sizeof **out);
        (*out)[0] = node;
        return 1;
    }
    if (graph_type(g, node) == GRAPH_JOB)
        n_ds = job_outputs(g, a, node, &datasets);
    for (size_t i = 0; i < n_ds; i++) {
        size_t n_in;
        graph_in_edges(g, datasets[i], &n_in);
        total += n_in;
    }
    *out = arena_alloc(a, (total + 1) * sizeof **out);
    for (size_t i = 0; i < n_ds; i++)
        add_fields(g, datasets[i], *out, &n);
    return n;
}

static struct cnode *node_of(struct canswer *ans, uint32_t node)
{
    struct cnode key = {.node = node};
    return bsearch(&key, ans->nodes, ans->n, sizeof key, cmp_cnode_node);
}

/* The answer's nodes (every end of every edge, once) and each node's in/out edges. Read lock held. */
static void collect(struct req *r, const struct column_walk_result *w, struct canswer *ans)
{
    const struct graph *g = r->graph;
    uint32_t *ends = arena_alloc(r->arena, (2 * w->n + 1) * sizeof *ends);
    size_t m = 0;

    for (size_t i = 0; i < w->n; i++) {
        ends[2 * i] = w->edges[i].from;
        ends[2 * i + 1] = w->edges[i].to;
    }
    if (w->n > 0)
        qsort(ends, 2 * w->n, sizeof *ends, cmp_u32);
    ans->nodes = arena_zalloc(r->arena, (2 * w->n + 1) * sizeof *ans->nodes);
    for (size_t i = 0; i < 2 * w->n; i++) {
        if (m > 0 && ans->nodes[m - 1].node == ends[i])
            continue;
        struct cnode *c = &ans->nodes[m++];
        c->node = ends[i];
        c->ns = arena_strdup(r->arena, graph_node_namespace(g, c->node));
        c->dataset = arena_strdup(r->arena, graph_node_name(g, c->node));
        c->field = arena_strdup(r->arena, graph_node_field(g, c->node));
        c->id = lineage_node_id(r->arena, g, c->node);
        c->in = arena_alloc(r->arena, (w->n + 1) * sizeof *c->in);
        c->in_nodes = arena_alloc(r->arena, (w->n + 1) * sizeof *c->in_nodes);
        c->out = arena_alloc(r->arena, (w->n + 1) * sizeof *c->out);
    }
    ans->n = m;
    for (size_t i = 0; i < w->n; i++) {
        struct cnode *from = node_of(ans, w->edges[i].from), *to = node_of(ans, w->edges[i].to);
        from->out[from->n_out++] = to->id;
        to->in_nodes[to->n_in] = from;
        to->in[to->n_in++] = from->id;
    }
}

static int walk_fields(struct req *r, struct node_id *start, const struct lineage_opts *o, bool downstream,
                       struct canswer *ans, struct err *e)
{
    struct graph *g = r->graph;
    struct column_walk_result w;
    struct column_walk_opts wo = {.depth = o->depth,
                                  .downstream = downstream,
                                  .as_of = o->as_of,
                                  .max_nodes = (size_t)o->max_nodes,
                                  .max_usec = LINEAGE_WALK_USEC};
    uint32_t node, dataset = GRAPH_NO_NODE, *starts;
    int rc = 0;

    graph_lock_read(g);
    if (lineage_find_node(g, r->arena, start, &node, &dataset, e) != 0) {
        ans->field_unknown = start->kind == NODE_FIELD && dataset != GRAPH_NO_NODE;
        rc = ans->field_unknown ? 0 : -1;
        goto out;
    }
    size_t n_starts = start_fields(g, r->arena, node, &starts);
    column_walk(g, r->arena, starts, n_starts, &wo, &w);
    ans->truncated = w.truncated;
    collect(r, &w, ans);
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

static void render(struct req *r, struct reply *out, struct canswer *ans)
{
    yajl_gen g = json_gen_new();
    size_t len;
    struct err ignored;

    if (ans->n > 1)
        qsort(ans->nodes, ans->n, sizeof *ans->nodes, cmp_cnode_id);
    yajl_gen_map_open(g);
    json_gen_key(g, "graph");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < ans->n; i++) {
        const struct cnode *c = &ans->nodes[i];
        yajl_gen_map_open(g);
        json_gen_key(g, "id");
        json_gen_str(g, c->id);
        json_gen_key(g, "type");
        json_gen_str(g, "DATASET_FIELD");
        json_gen_key(g, "data");
        struct json_value *v =
            c->data ? json_parse(r->arena, c->data, strlen(c->data), JSON_MAX_DEPTH, &ignored) : NULL;
        if (v != NULL)
            json_write(g, v);
        else
            yajl_gen_null(g);
        json_gen_key(g, "inEdges");
        gen_edges(g, c->id, c->in, c->n_in, true);
        json_gen_key(g, "outEdges");
        gen_edges(g, c->id, c->out, c->n_out, false);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    if (ans->truncated) {
        json_gen_key(g, "truncated");
        yajl_gen_bool(g, 1);
    }
    yajl_gen_map_close(g);
    const char *body = json_gen_finish(g, r->arena, &len);
    http_reply_json(out, 200, body, len);
}

/* Each node's data from the database: its inputFields are its inputs in this answer. */
static int fetch_data(struct req *r, struct canswer *ans, struct err *e)
{
    size_t n = ans->n;
    struct store_field_key *keys = arena_zalloc(r->arena, (n + 1) * sizeof *keys);
    const char **json = arena_alloc(r->arena, (n + 1) * sizeof *json);

    for (size_t i = 0; i < n; i++) {
        const struct cnode *c = &ans->nodes[i];
        struct store_field_key *k = &keys[i];
        *k = (struct store_field_key){c->ns, c->dataset, c->field, NULL, c->n_in};
        k->inputs = arena_alloc(r->arena, (c->n_in + 1) * sizeof *k->inputs);
        for (size_t j = 0; j < c->n_in; j++)
            k->inputs[j] =
                (struct store_field_ref){c->in_nodes[j]->ns, c->in_nodes[j]->dataset, c->in_nodes[j]->field};
    }
    if (store_field_data(r->store, r->arena, keys, n, json, e) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ans->nodes[i].data = json[i];
    return 0;
}

int api_get_column_lineage(struct req *r, struct reply *out, struct err *e)
{
    const char *node_id = http_param(r, "nodeId");
    struct lineage_opts o;
    struct node_id start;
    bool downstream, exists;
    struct canswer ans = {0};

    if (node_id == NULL || *node_id == '\0')
        return err_set(e, ERR_BAD_PARAM, "nodeId", "must not be null");
    if (lineage_parse_opts(r, &o, e) != 0 ||
        http_param_bool(r, "withDownstream", false, &downstream, e) != 0 ||
        nodeid_parse(r->arena, node_id, &start, e) != 0)
        return -1;
    if (start.kind == NODE_RUN)
        return err_set(e, ERR_BAD_INPUT, "nodeId", "Node '%.*s' must be of type dataset, datasetField or job!",
                       utf8_prefix(node_id, 200), node_id);
    if (start.version != NULL && downstream)
        return err_set(e, ERR_BAD_INPUT, "nodeId",
                       "Node version cannot be specified when withDownstream is true");
    if (start.version != NULL && (lineage_resolve(r, &start, e) != 0 || lineage_pin(r, &start, &o, e) != 0))
        return -1;
    if (walk_fields(r, &start, &o, downstream, &ans, e) != 0)
        return -1;
    if (ans.field_unknown) { /* a column without lineage is no graph node: is it a column at all? */
        if (store_field_exists(r->store, start.namespace, start.name, start.field, &exists, e) != 0)
            return -1;
        if (!exists)
            return err_set(e, ERR_NOT_FOUND, NULL,
                           "Node not found: no field \"%s\" in dataset \"%s\" of namespace \"%s\"",
                           start.field, start.name, start.namespace);
    }
    if (ans.n > 0 && fetch_data(r, &ans, e) != 0)
        return -1;
    render(r, out, &ans);
    return 0;
}
