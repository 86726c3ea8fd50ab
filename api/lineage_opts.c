/* api/lineage_opts.c - parsing of the options shared by the graph-backed routes, node lookup and naming.
 *
 * direction: upstream | downstream | both (given: a directed walk; absent: Marquez's undirected walk)
 * asOf: ISO-8601 time; only edges first seen at or before it count
 * types: comma-separated node types (DATASET, JOB) or dataset types from the datasetType facet
 *        (MODEL, VIEW, TABLE...), case-insensitive; a dataset type implies datasets of that type only
 * maxNodes: stop after this many nodes, and say "truncated": true
 * runId, or a node id ending in #<version>: as of that run's or version's time (a run id that is not a
 *        UUID means what it meant at ingest: its name-based UUID; a dataset version may be the
 *        datasetVersion its producer named) */
#include "lineage_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_nodes.h"
#include "timefmt.h"
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

/* A dataset type token: letters, digits and '_' only (TABLE, VIEW, MODEL, JOB_OUTPUT). */
static bool is_type_token(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '_')
            return false;
    return n > 0;
}

static int parse_types(struct arena *a, const char *v, struct lineage_opts *o, struct err *e)
{
    o->node_types = (1u << GRAPH_DATASET) | (1u << GRAPH_JOB);
    if (v == NULL || *v == '\0')
        return 0;
    o->node_types = 0;
    for (const char *p = v; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 7 && strncasecmp(p, "DATASET", 7) == 0) {
            o->node_types |= 1u << GRAPH_DATASET;
        } else if (n == 3 && strncasecmp(p, "JOB", 3) == 0) {
            o->node_types |= 1u << GRAPH_JOB;
        } else if (is_type_token(p, n) && o->n_dataset_types < LINEAGE_MAX_DATASET_TYPES) {
            char *t = arena_strndup(a, p, n);
            for (char *q = t; *q; q++)
                *q = (char)toupper((unsigned char)*q);
            o->dataset_types[o->n_dataset_types++] = t;
            o->node_types |= 1u << GRAPH_DATASET;
        } else {
            return err_set(
                e, ERR_BAD_PARAM, "types",
                "must list node types (DATASET, JOB) or dataset types (MODEL, VIEW, ...), comma-separated");
        }
        p += n + (comma ? 1 : 0);
    }
    return 0;
}

bool lineage_dataset_type_wanted(const struct lineage_opts *o, const char *type)
{
    if (o->n_dataset_types == 0)
        return true;
    for (size_t i = 0; type != NULL && i < o->n_dataset_types; i++)
        if (strcmp(o->dataset_types[i], type) == 0)
            return true;
    return false;
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
        parse_types(r->arena, http_param(r, "types"), o, e) != 0)
        return -1;
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
