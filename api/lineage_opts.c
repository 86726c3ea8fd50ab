/* api/lineage_opts.c - parsing of the options shared by the graph-backed routes, node lookup and naming.
 *
 * direction: upstream | downstream | both (given: a directed walk; absent: Marquez's undirected walk)
 * asOf: ISO-8601 time; only edges first seen at or before it count
 * types: comma-separated node types (DATASET, JOB), case-insensitive
 * maxNodes: stop after this many nodes, and say "truncated": true */
#include "lineage_int.h"

#include <string.h>
#include <strings.h>

#include "timefmt.h"

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

static int parse_types(const char *v, unsigned *mask, struct err *e)
{
    *mask = (1u << GRAPH_DATASET) | (1u << GRAPH_JOB);
    if (v == NULL || *v == '\0')
        return 0;
    *mask = 0;
    for (const char *p = v; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 7 && strncasecmp(p, "DATASET", 7) == 0)
            *mask |= 1u << GRAPH_DATASET;
        else if (n == 3 && strncasecmp(p, "JOB", 3) == 0)
            *mask |= 1u << GRAPH_JOB;
        else
            return err_set(e, ERR_BAD_PARAM, "types", "must list DATASET and/or JOB, comma-separated");
        p += n + (comma ? 1 : 0);
    }
    return 0;
}

int lineage_parse_opts(const struct req *r, struct lineage_opts *o, struct err *e)
{
    const char *as_of = http_param(r, "asOf");
    struct err te;

    memset(o, 0, sizeof *o);
    if (http_param_int(r, "depth", LINEAGE_DEFAULT_DEPTH, 0, LINEAGE_MAX_DEPTH, &o->depth, e) != 0 ||
        http_param_int(r, "maxNodes", LINEAGE_DEFAULT_MAX_NODES, 1, LINEAGE_MAX_MAX_NODES, &o->max_nodes, e) != 0 ||
        parse_direction(http_param(r, "direction"), o, e) != 0 || parse_types(http_param(r, "types"), &o->node_types, e) != 0)
        return -1;
    if (as_of != NULL && *as_of != '\0') {
        int64_t usec;
        if (time_parse_iso8601(as_of, &usec, &te) != 0)
            return err_set(e, ERR_BAD_PARAM, "asOf", "must be an ISO-8601 date-time");
        o->as_of = usec <= 0 ? 1 : usec / 1000000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(usec / 1000000);
    }
    return 0;
}

int lineage_find_node(const struct graph *g, const struct node_id *id, uint32_t *node, struct err *e)
{
    bool found = false;
    uint32_t ds;

    switch (id->kind) {
    case NODE_DATASET:
        found = graph_find(g, GRAPH_DATASET, id->namespace, id->name, node);
        break;
    case NODE_JOB:
        found = graph_find(g, GRAPH_JOB, id->namespace, id->name, node);
        break;
    case NODE_RUN:
        found = graph_find(g, GRAPH_RUN, "", id->name, node);
        break;
    case NODE_FIELD:
        found = graph_find(g, GRAPH_DATASET, id->namespace, id->name, &ds) && graph_find_field(g, ds, id->field, node);
        break;
    }
    if (!found)
        return err_set(e, ERR_NOT_FOUND, NULL, "Node not found: no %s \"%s\" in namespace \"%s\"",
                       id->kind == NODE_JOB ? "job" : id->kind == NODE_RUN ? "run" : "dataset", id->name,
                       id->namespace ? id->namespace : "");
    return 0;
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
