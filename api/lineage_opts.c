/* api/lineage_opts.c - parsing of the options shared by the graph-backed routes, node lookup and naming.
 *
 * direction: upstream | downstream | both (given: a directed walk; absent: Marquez's undirected walk)
 * asOf: ISO-8601 time; only edges first seen at or before it count
 * types: comma-separated node types (DATASET, JOB) or dataset kinds, TYPE or TYPE:SUBTYPE (MODEL,
 *        MODEL:REGISTERED, FEATURE_VIEW: api/kinds.h), case-insensitive; a kind implies datasets of
 *        that kind only
 * maxNodes: stop after this many nodes, and say "truncated": true
 * name: instead of nodeId, a dataset or job name without its namespace; 409 with the candidates when
 *        several datasets and jobs have it (lineage_start)
 * runId, or a node id ending in #<version>: as of that run's or version's time (a run id that is not a
 *        UUID means what it meant at ingest: its name-based UUID; a dataset version may be the
 *        datasetVersion its producer named) */
#include "lineage_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "store_ml.h"
#include "store_nodes.h"
#include "cfg.h"
#include "timefmt.h"
#include "utf8.h"
#include "uuid.h"

static int parse_direction(const char *v, struct lineage_opts *o, struct err *e)
{
    o->directed = v != NULL && *v != '\0';
    o->direction = GRAPH_BOTH;
    if (!o->directed)
        return 0;
    if (strcasecmp(v, "upstream") == 0)
        o->direction = GRAPH_UPSTREAM;
    else if (strcasecmp(v, "downstream") == 0)
        o->direction = GRAPH_DOWNSTREAM;
    else if (strcasecmp(v, "both") != 0)
        return err_set(e, ERR_BAD_PARAM, "direction", "must be one of upstream, downstream, both");
    return 0;
}

int lineage_hide_kinds(struct req *r, const struct lineage_opts *o, const char *const *ns,
                       const char *const *names, size_t n, bool *hide, struct err *e)
{
    const char **types = arena_alloc(r->arena, (n + 1) * sizeof *types);
    const char **subs = arena_alloc(r->arena, (n + 1) * sizeof *subs);

    for (size_t i = 0; i < n; i++)
        hide[i] = false;
    if (o->kinds.n == 0 || n == 0)
        return 0;
    if (store_dataset_types(r->store, r->arena, ns, names, n, types, subs, e) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        hide[i] = !kind_wanted(&o->kinds, types[i], subs[i]);
    return 0;
}

enum { LINEAGE_MAX_CANDIDATES = 20 };

/* 409 {"code":409,"message":..,"candidates":[{"nodeId","type","namespace","name"}...]}. */
static int reply_ambiguous(struct req *r, struct reply *out, const char *param, const char *name,
                           const struct store_candidate *c, size_t n, struct err *e)
{
    yajl_gen g = json_gen_new();
    size_t shown = n > LINEAGE_MAX_CANDIDATES ? LINEAGE_MAX_CANDIDATES : n;

    yajl_gen_array_open(g);
    for (size_t i = 0; i < shown; i++) {
        yajl_gen_map_open(g);
        json_gen_key(g, "nodeId");
        json_gen_str(g,
                     nodeid_format(r->arena, c[i].job ? NODE_JOB : NODE_DATASET, c[i].ns, c[i].name, NULL));
        json_gen_key(g, "type");
        json_gen_str(g, c[i].job ? "JOB" : "DATASET");
        json_gen_key(g, "namespace");
        json_gen_str(g, c[i].ns);
        json_gen_key(g, "name");
        json_gen_str(g, c[i].name);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    err_set(e, ERR_CONFLICT, param,
            "%s \"%.*s\" is ambiguous: %s%zu datasets and jobs have that name; give one candidate's nodeId "
            "instead",
            param, utf8_prefix(name, 120), name, n > LINEAGE_MAX_CANDIDATES ? "more than " : "", shown);
    http_reply_error_with(out, r->arena, e, r->request_id, "candidates", json_gen_finish(g, r->arena, NULL));
    return 1;
}

int lineage_resolve_name(struct req *r, struct reply *out, const char *param, const char *name,
                         bool jobs_only, struct node_id *id, struct err *e)
{
    struct store_candidate c[LINEAGE_MAX_CANDIDATES + 1];
    size_t n, m = 0;

    if (strlen(name) > (size_t)r->cfg->max_name_bytes)
        return err_set(e, ERR_BAD_PARAM, param, "is %zu bytes long; the limit is %d bytes (--max-name-bytes)",
                       strlen(name), r->cfg->max_name_bytes);
    if (store_name_candidates(r->store, r->arena, name, LINEAGE_MAX_CANDIDATES, c, &n, e) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!jobs_only || c[i].job)
            c[m++] = c[i];
    if (m == 0)
        return err_set(e, ERR_NOT_FOUND, NULL, "Node not found: no %s named \"%.*s\"",
                       jobs_only ? "job" : "dataset or job", utf8_prefix(name, 200), name);
    if (m > 1)
        return reply_ambiguous(r, out, param, name, c, m, e);
    *id = (struct node_id){.kind = c[0].job ? NODE_JOB : NODE_DATASET,
                           .namespace = c[0].ns,
                           .name = c[0].name,
                           .body = arena_printf(r->arena, "%s:%s", c[0].ns, c[0].name)};
    return 0;
}

int lineage_start(struct req *r, struct reply *out, struct node_id *start, struct err *e)
{
    const char *id = http_param(r, "nodeId"), *name = http_param(r, "name");
    bool has_id = id != NULL && *id != '\0', has_name = name != NULL && *name != '\0';

    if (has_id && has_name)
        return err_set(e, ERR_BAD_PARAM, "name", "must not be given with nodeId");
    if (!has_name && !has_id)
        return err_set(e, ERR_BAD_PARAM, "nodeId", "must not be null");
    if (has_id)
        return nodeid_parse(r->arena, id, start, e);
    return lineage_resolve_name(r, out, "name", name, false, start, e);
}

int lineage_pin(struct req *r, const struct node_id *start, struct lineage_opts *o, struct err *e)
{
    enum store_pin_kind kind;
    const char *key;
    char run[UUID_STR_MAX];
    struct uuid u;
    uint32_t t = 0;

    if (o->run_id != NULL && *o->run_id != '\0') {
        kind = STORE_PIN_RUN;
        uuid_for_run_id(o->run_id, &u); /* the producer's run id, stored as ingest stores it */
        uuid_to_string(&u, run);
        key = run;
    } else if (start->version != NULL) {
        kind = start->kind == NODE_JOB ? STORE_PIN_JOB_VERSION : STORE_PIN_DATASET_VERSION;
        key = start->version;
        if (kind == STORE_PIN_JOB_VERSION && !uuid_from_string(key, &u)) /* a dataset's may be named */
            return err_set(e, ERR_BAD_PARAM, "nodeId", "must name a UUID (version)");
    } else {
        return 0;
    }
    int found = store_pin_time(r->store, kind, start->namespace, start->name, key, &t, e);
    if (found < 0)
        return -1;
    if (found == 0)
        return err_set(e, ERR_NOT_FOUND, NULL, "%s '%s' not found.", kind == STORE_PIN_RUN ? "Run" : "Version",
                       kind == STORE_PIN_RUN ? o->run_id : key);
    if (o->as_of == 0 || t < o->as_of)
        o->as_of = t == 0 ? 1 : t;
    return 0;
}

int lineage_parse_opts(const struct req *r, struct lineage_opts *o, struct err *e)
{
    const char *as_of = http_param(r, "asOf");
    struct err te;

    memset(o, 0, sizeof *o);
    if (http_param_int(r, "depth", LINEAGE_DEFAULT_DEPTH, 0, LINEAGE_MAX_DEPTH, &o->depth, e) != 0 ||
        http_param_int(r, "maxNodes", LINEAGE_DEFAULT_MAX_NODES, 1, LINEAGE_MAX_MAX_NODES, &o->max_nodes,
                       e) != 0 ||
        parse_direction(http_param(r, "direction"), o, e) != 0 ||
        kind_parse(r->arena, "types", http_param(r, "types"), true, &o->kinds, e) != 0)
        return -1;
    o->node_types = 0;
    if (o->kinds.node_types & KIND_NODE_DATASET)
        o->node_types |= 1u << GRAPH_DATASET;
    if (o->kinds.node_types & KIND_NODE_JOB)
        o->node_types |= 1u << GRAPH_JOB;
    o->run_id = http_param(r, "runId");
    if (as_of != NULL && *as_of != '\0') {
        int64_t usec;
        if (time_parse_iso8601(as_of, &usec, &te) != 0)
            return err_set(e, ERR_BAD_PARAM, "asOf", "must be an ISO-8601 date-time");
        o->as_of = usec <= 0 ? 1 : usec / 1000000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(usec / 1000000);
    }
    return 0;
}

/* The node of one split of a node id, or false; *dataset gets a field's dataset node when found. */
static bool find_split(const struct graph *g, const struct node_id *id, uint32_t *node, uint32_t *dataset)
{
    char run[UUID_STR_MAX];
    struct uuid u;

    switch (id->kind) {
    case NODE_DATASET:
        return graph_find(g, GRAPH_DATASET, id->namespace, id->name, node);
    case NODE_JOB:
        return graph_find(g, GRAPH_JOB, id->namespace, id->name, node);
    case NODE_RUN:
        uuid_for_run_id(id->name, &u); /* as ingest stores it */
        uuid_to_string(&u, run);
        return graph_find(g, GRAPH_RUN, "", run, node);
    case NODE_FIELD:
        return graph_find(g, GRAPH_DATASET, id->namespace, id->name, dataset) &&
               graph_find_field(g, *dataset, id->field, node);
    }
    return false;
}

int lineage_find_node(const struct graph *g, struct arena *a, struct node_id *id, uint32_t *node, uint32_t *dataset,
                      struct err *e)
{
    struct node_id splits[NODEID_MAX_SPLITS];
    size_t n = nodeid_splits(a, id, splits, NODEID_MAX_SPLITS), with_dataset = n;
    uint32_t ds = GRAPH_NO_NODE, first_ds = GRAPH_NO_NODE;

    for (size_t i = 0; i < n; i++) {
        ds = GRAPH_NO_NODE;
        if (find_split(g, &splits[i], node, &ds)) {
            *id = splits[i];
            return 0;
        }
        if (ds != GRAPH_NO_NODE && with_dataset == n) {
            with_dataset = i;
            first_ds = ds;
        }
    }
    if (dataset != NULL)
        *dataset = first_ds;
    if (with_dataset < n) {
        *id = splits[with_dataset];
        return err_set(e, ERR_NOT_FOUND, NULL, "Node not found: no field \"%s\" in dataset \"%s\" of namespace \"%s\"",
                       id->field, id->name, id->namespace);
    }
    return err_set(e, ERR_NOT_FOUND, NULL, "Node not found: no %s \"%s\" in namespace \"%s\"",
                   id->kind == NODE_JOB   ? "job"
                   : id->kind == NODE_RUN ? "run"
                                          : "dataset",
                   id->name, id->namespace ? id->namespace : "");
}

int lineage_resolve(struct req *r, struct node_id *id, struct err *e)
{
    uint32_t node;

    graph_lock_read(r->graph);
    int rc = lineage_find_node(r->graph, r->arena, id, &node, NULL, e);
    graph_unlock(r->graph);
    return rc;
}

const char *lineage_node_id(struct arena *a, const struct graph *g, uint32_t node)
{
    switch (graph_type(g, node)) {
    case GRAPH_DATASET:
        return nodeid_format(a, NODE_DATASET, graph_node_namespace(g, node), graph_node_name(g, node), NULL);
    case GRAPH_JOB:
        return nodeid_format(a, NODE_JOB, graph_node_namespace(g, node), graph_node_name(g, node), NULL);
    case GRAPH_RUN:
        return nodeid_format(a, NODE_RUN, NULL, graph_node_name(g, node), NULL);
    case GRAPH_FIELD:
        return nodeid_format(a, NODE_FIELD, graph_node_namespace(g, node), graph_node_name(g, node),
                             graph_node_field(g, node));
    }
    return "";
}

static int cmp_hit_node(const void *a, const void *b)
{
    const struct graph_hit *x = a, *y = b;
    if (x->node != y->node)
        return (x->node > y->node) - (x->node < y->node);
    return (x->depth > y->depth) - (x->depth < y->depth);
}

static int cmp_hit_depth(const void *a, const void *b)
{
    const struct graph_hit *x = a, *y = b;
    if (x->depth != y->depth)
        return (x->depth > y->depth) - (x->depth < y->depth);
    return (x->node > y->node) - (x->node < y->node);
}

int lineage_walk(const struct graph *g, struct arena *a, const struct lineage_opts *o,
                 const struct graph_query *q, struct graph_result *out, struct err *e)
{
    struct graph_query up = *q, down = *q;
    struct graph_result ru, rd;

    if (!(o->directed && q->direction == GRAPH_BOTH))
        return graph_walk(g, a, q, out, e);
    up.direction = GRAPH_UPSTREAM;
    down.direction = GRAPH_DOWNSTREAM;
    if (graph_walk(g, a, &up, &ru, e) != 0 || graph_walk(g, a, &down, &rd, e) != 0)
        return -1;
    struct graph_hit *all = arena_alloc(a, (ru.n + rd.n + 1) * sizeof *all);
    memcpy(all, ru.hits, ru.n * sizeof *all);
    memcpy(all + ru.n, rd.hits, rd.n * sizeof *all);
    /* Keep each node once, at its shallower depth, then order by depth as a walk would. */
    qsort(all, ru.n + rd.n, sizeof *all, cmp_hit_node);
    size_t n = 0;
    for (size_t i = 0; i < ru.n + rd.n; i++)
        if (n == 0 || all[n - 1].node != all[i].node)
            all[n++] = all[i];
    qsort(all, n, sizeof *all, cmp_hit_depth);
    out->truncated = ru.truncated || rd.truncated || (q->max_nodes > 0 && n > q->max_nodes);
    out->hits = all;
    out->n = q->max_nodes > 0 && n > q->max_nodes ? q->max_nodes : n;
    return 0;
}
