/* api/impact.c - GET /api/v1/impact: "what breaks if this changes?" as a flat list.
 *
 * A directed walk (default downstream) over job<->dataset edges, or field edges when the start is a
 * datasetField; each reached node comes with its depth (edges from the start), one shortest path, and
 * what a person needs to act on it: its kind (datasetType, subType), current version (and the name its
 * producer gave it), owners and description (store_node_summaries; a field row shows its dataset's).
 * The start is nodeId= or name= (a name without its namespace: lineage_start). format=csv gives the same
 * rows as CSV for spreadsheets and scripts.
 * Invariant: rows are in BFS order (depth, then discovery), so output is stable for equal graphs. */
#include "lineage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "lineage_int.h"
#include "store_ml.h"

struct impact_row {
    uint32_t node;
    uint32_t depth;
    size_t via; /* index of the previous row on the path; SIZE_MAX for the start */
    const char *id, *type, *ns, *name;
    bool hidden; /* filtered out by a dataset kind in types= */
    struct store_node_summary sum;
    const char **owners; /* sum.owners parsed */
    size_t n_owners;
};

enum { IMPACT_JSON_DEPTH = 4 };

struct by_node {
    uint32_t node;
    size_t row;
};

static int cmp_by_node(const void *a, const void *b)
{
    const struct by_node *x = a, *y = b;
    return (x->node > y->node) - (x->node < y->node);
}

static const char *type_name(enum graph_node_type t)
{
    static const char *const names[] = {"DATASET", "JOB", "RUN", "DATASET_FIELD"};
    return names[t];
}

/* Walks under the read lock; copies rows out. */
static int impact_walk(struct req *r, struct node_id *start, const struct lineage_opts *o,
                       struct impact_row **rows_out, size_t *n_out, bool *truncated, struct err *e)
{
    struct graph *g = r->graph;
    struct graph_result res;
    struct graph_query q = {
        .direction = o->directed ? o->direction : GRAPH_DOWNSTREAM,
        .edge_kinds = start->kind == NODE_FIELD ? (1u << GRAPH_EDGE_COLUMN) : (1u << GRAPH_EDGE_IO),
        .node_types = start->kind == NODE_FIELD ? (1u << GRAPH_FIELD) | (1u << GRAPH_DATASET) : o->node_types,
        .max_depth = (int)o->depth,
        .max_nodes = (size_t)o->max_nodes,
        .max_usec = LINEAGE_WALK_USEC,
        .as_of = o->as_of,
    };
    int rc = -1;

    graph_lock_read(g);
    if (lineage_find_node(g, r->arena, start, &q.start, NULL, e) != 0 || lineage_walk(g, r->arena, o, &q, &res, e) != 0)
        goto out;
    struct impact_row *rows = arena_zalloc(r->arena, (res.n + 1) * sizeof *rows);
    struct by_node *index = arena_alloc(r->arena, (res.n + 1) * sizeof *index);
    for (size_t i = 0; i < res.n; i++) {
        uint32_t node = res.hits[i].node;
        rows[i] = (struct impact_row){.node = node,
                                      .depth = res.hits[i].depth,
                                      .via = SIZE_MAX,
                                      .id = lineage_node_id(r->arena, g, node),
                                      .type = type_name(graph_type(g, node)),
                                      .ns = arena_strdup(r->arena, graph_node_namespace(g, node)),
                                      .name = arena_strdup(r->arena, graph_node_name(g, node))};
        index[i] = (struct by_node){node, i};
    }
    qsort(index, res.n, sizeof *index, cmp_by_node);
    for (size_t i = 1; i < res.n; i++) {
        struct by_node key = {res.hits[i].via, 0};
        struct by_node *hit = bsearch(&key, index, res.n, sizeof key, cmp_by_node);
        rows[i].via = hit ? hit->row : SIZE_MAX;
    }
    *rows_out = rows;
    *n_out = res.n;
    *truncated = res.truncated;
    rc = 0;
out:
    graph_unlock(g);
    return rc;
}

/* The path from the start to rows[i], as node ids, start first. */
static const char **path_of(struct arena *a, const struct impact_row *rows, size_t i, size_t *len)
{
    size_t n = 0;
    for (size_t k = i; k != SIZE_MAX && n <= rows[i].depth; k = rows[k].via)
        n++;
    const char **path = arena_alloc(a, (n + 1) * sizeof *path);
    size_t at = n;
    for (size_t k = i; k != SIZE_MAX && at > 0; k = rows[k].via)
        path[--at] = rows[k].id;
    *len = n;
    return path;
}

static bool wanted(const struct impact_row *row, unsigned types)
{
    static const char *const names[] = {"DATASET", "JOB", "RUN", "DATASET_FIELD"};
    if (row->hidden)
        return false;
    for (int t = 0; t < 4; t++)
        if (strcmp(row->type, names[t]) == 0)
            return (types & (1u << t)) != 0 || t == GRAPH_FIELD;
    return false;
}

/* The owners JSON array of a summary as strings. */
static void parse_owners(struct arena *a, struct impact_row *row)
{
    struct err ignored;
    const struct json_value *v =
        row->sum.owners ? json_parse(a, row->sum.owners, strlen(row->sum.owners), IMPACT_JSON_DEPTH, &ignored)
                        : NULL;

    row->n_owners = 0;
    if (v == NULL || v->type != JSON_ARRAY)
        return;
    row->owners = arena_alloc(a, (v->u.array.n + 1) * sizeof *row->owners);
    for (size_t k = 0; k < v->u.array.n; k++)
        if (json_as_string(v->u.array.items[k]) != NULL)
            row->owners[row->n_owners++] = json_as_string(v->u.array.items[k]);
}

/* Reads every row's summary (a field's is its dataset's) and hides dataset rows whose kind types= does
 * not list (they stay on paths). */
static int summarise(struct req *r, const struct lineage_opts *o, struct impact_row *rows, size_t n,
                     struct err *e)
{
    bool *job = arena_alloc(r->arena, (n + 1) * sizeof *job);
    const char **ns = arena_alloc(r->arena, (n + 1) * sizeof *ns),
               **names = arena_alloc(r->arena, (n + 1) * sizeof *names);
    struct store_node_summary *sum = arena_alloc(r->arena, (n + 1) * sizeof *sum);

    for (size_t i = 0; i < n; i++) {
        job[i] = strcmp(rows[i].type, "JOB") == 0;
        ns[i] = rows[i].ns;
        names[i] = rows[i].name;
    }
    if (store_node_summaries(r->store, r->arena, job, ns, names, n, sum, e) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        rows[i].sum = sum[i];
        parse_owners(r->arena, &rows[i]);
        if (i > 0 && strcmp(rows[i].type, "DATASET") == 0)
            rows[i].hidden = !kind_wanted(&o->kinds, sum[i].dataset_type, sum[i].sub_type);
    }
    return 0;
}

static void gen_summary(yajl_gen g, const struct impact_row *row)
{
    json_gen_key(g, "datasetType");
    json_gen_str(g, row->sum.dataset_type);
    json_gen_key(g, "subType");
    json_gen_str(g, row->sum.sub_type);
    json_gen_key(g, "version");
    json_gen_str(g, row->sum.version);
    json_gen_key(g, "producerVersion");
    json_gen_str(g, row->sum.producer_version);
    json_gen_key(g, "owners");
    yajl_gen_array_open(g);
    for (size_t k = 0; k < row->n_owners; k++)
        json_gen_str(g, row->owners[k]);
    yajl_gen_array_close(g);
    json_gen_key(g, "description");
    json_gen_str(g, row->sum.description);
}

static void render_json(struct req *r, struct reply *out, const char *start, const char *direction,
                        const struct impact_row *rows, size_t n, bool truncated, unsigned types)
{
    yajl_gen g = json_gen_new();
    size_t len;

    yajl_gen_map_open(g);
    json_gen_key(g, "nodeId");
    json_gen_str(g, start);
    json_gen_key(g, "direction");
    json_gen_str(g, direction);
    json_gen_key(g, "truncated");
    yajl_gen_bool(g, truncated);
    json_gen_key(g, "impacted");
    yajl_gen_array_open(g);
    for (size_t i = 1; i < n; i++) {
        if (!wanted(&rows[i], types))
            continue;
        size_t plen;
        const char **path = path_of(r->arena, rows, i, &plen);
        yajl_gen_map_open(g);
        json_gen_key(g, "nodeId");
        json_gen_str(g, rows[i].id);
        json_gen_key(g, "type");
        json_gen_str(g, rows[i].type);
        json_gen_key(g, "namespace");
        json_gen_str(g, rows[i].ns);
        json_gen_key(g, "name");
        json_gen_str(g, rows[i].name);
        json_gen_key(g, "depth");
        json_gen_int(g, rows[i].depth);
        json_gen_key(g, "path");
        yajl_gen_array_open(g);
        for (size_t k = 0; k < plen; k++)
            json_gen_str(g, path[k]);
        yajl_gen_array_close(g);
        gen_summary(g, &rows[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    const char *body = json_gen_finish(g, r->arena, &len);
    http_reply_json(out, 200, body, len);
}

/* Writes one CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
static void csv_field(FILE *f, const char *s, const char *after)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fprintf(f, "%s%s", s, after);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fprintf(f, "\"%s", after);
}

/* The summary columns of a CSV row, the last ending the row; owners joined with "; ". */
static void csv_summary(FILE *f, const struct impact_row *row)
{
    const struct store_node_summary *s = &row->sum;
    char *owners = NULL;
    size_t size = 0;
    FILE *of = open_memstream(&owners, &size);

    for (size_t k = 0; of != NULL && k < row->n_owners; k++)
        fprintf(of, "%s%s", k ? "; " : "", row->owners[k]);
    if (of != NULL)
        fclose(of);
    csv_field(f, s->dataset_type ? s->dataset_type : "", ",");
    csv_field(f, s->sub_type ? s->sub_type : "", ",");
    csv_field(f, s->version ? s->version : "", ",");
    csv_field(f, s->producer_version ? s->producer_version : "", ",");
    csv_field(f, owners ? owners : "", ",");
    csv_field(f, s->description ? s->description : "", "\r\n");
    free(owners);
}

static int render_csv(struct req *r, struct reply *out, const struct impact_row *rows, size_t n,
                      unsigned types, struct err *e)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    if (f == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "cannot build the CSV answer");
    fputs("depth,type,namespace,name,nodeId,path,datasetType,subType,version,producerVersion,owners,"
          "description\r\n",
          f);
    for (size_t i = 1; i < n; i++) {
        if (!wanted(&rows[i], types))
            continue;
        size_t plen;
        const char **path = path_of(r->arena, rows, i, &plen);
        fprintf(f, "%u,%s,", rows[i].depth, rows[i].type);
        csv_field(f, rows[i].ns, ",");
        csv_field(f, rows[i].name, ",");
        csv_field(f, rows[i].id, ",");
        char *joined = NULL;
        size_t jsize = 0;
        FILE *pf = open_memstream(&joined, &jsize);
        for (size_t k = 0; pf != NULL && k < plen; k++)
            fprintf(pf, "%s%s", k ? " > " : "", path[k]);
        if (pf != NULL)
            fclose(pf);
        csv_field(f, joined ? joined : "", ",");
        free(joined);
        csv_summary(f, &rows[i]);
    }
    fclose(f);
    out->status = 200;
    out->body = arena_strndup(r->arena, buf, size);
    out->body_len = size;
    out->content_type = "text/csv; charset=utf-8";
    free(buf);
    return 0;
}

int api_get_impact(struct req *r, struct reply *out, struct err *e)
{
    const char *format = http_param(r, "format");
    struct lineage_opts o;
    struct node_id start;
    struct impact_row *rows = NULL;
    size_t n = 0;
    bool truncated = false;

    if (format != NULL && *format && strcasecmp(format, "json") != 0 && strcasecmp(format, "csv") != 0)
        return err_set(e, ERR_BAD_PARAM, "format", "must be json or csv");
    if (lineage_parse_opts(r, &o, e) != 0)
        return -1;
    int rc = lineage_start(r, out, &start, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (lineage_resolve(r, &start, e) != 0 || lineage_pin(r, &start, &o, e) != 0)
        return -1;
    if (impact_walk(r, &start, &o, &rows, &n, &truncated, e) != 0 || summarise(r, &o, rows, n, e) != 0)
        return -1;
    enum graph_direction d = o.directed ? o.direction : GRAPH_DOWNSTREAM;
    const char *dir = d == GRAPH_UPSTREAM ? "upstream" : d == GRAPH_DOWNSTREAM ? "downstream" : "both";
    if (format != NULL && strcasecmp(format, "csv") == 0)
        return render_csv(r, out, rows, n, o.node_types, e);
    const char *given = http_param(r, "nodeId");
    render_json(r, out, given != NULL && *given ? given : rows[0].id, dir, rows, n, truncated, o.node_types);
    return 0;
}
