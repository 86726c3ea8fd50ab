/* api/lineage_data.c - the `data` object of each node of a lineage answer (Marquez's JobData and
 * DatasetData): from the node cache when current; else from the node table (what the start-up load
 * read) when nothing touched the node since; else from Postgres (one statement per node type for
 * all the rest); plus, for jobs, the inputs and outputs from the graph. Misses are cached for next
 * time.
 *
 * Invariants:
 *  1. Texts are minified JSON objects with Marquez's member order, the same from every source.
 *  2. A text read now is cached under the stamp the caller read during its walk, which is not newer
 *     than the data (node_cache.h), so a change committed meanwhile makes it a miss, never stale.
 *     The node table's data is as old as the load, so it is used only for stamp 0 (node_table.h).
 *  3. inputs/outputs are every IO edge the job ever had (cumulative, like Marquez's job_io based
 *     lists), sorted by (namespace, name); symlinked names appear once, under the node's name. */
#include <stdlib.h>
#include <string.h>

#include "json_text.h"
#include "lineage_int.h"
#include "node_cache.h"
#include "node_table.h"
#include "store_nodes.h"

struct name_ref {
    const char *ns, *name;
};

static int cmp_name_ref(const void *a, const void *b)
{
    const struct name_ref *x = a, *y = b;
    int c = strcmp(x->ns, y->ns);
    return c != 0 ? c : strcmp(x->name, y->name);
}

/* Appends "key":[{"namespace":..,"name":..},...] for the job's IO edges in one direction. Call with
 * the read lock held (the names point into the graph). */
static void gen_io_list(struct json_text *t, struct arena *a, const struct graph *g, uint32_t job, bool inputs)
{
    size_t n, m = 0;
    const struct graph_edge *edges = inputs ? graph_in_edges(g, job, &n) : graph_out_edges(g, job, &n);
    struct name_ref *refs = arena_alloc(a, (n + 1) * sizeof *refs);

    for (size_t k = 0; k < n; k++) {
        if (edges[k].kind != GRAPH_EDGE_IO)
            continue;
        refs[m].ns = graph_node_namespace(g, edges[k].other);
        refs[m++].name = graph_node_name(g, edges[k].other);
    }
    if (m > 1)
        qsort(refs, m, sizeof *refs, cmp_name_ref);
    json_text_lit(t, inputs ? "\"inputs\":[" : "\"outputs\":[");
    for (size_t k = 0; k < m; k++) {
        json_text_lit(t, k ? ",{\"namespace\":" : "{\"namespace\":");
        json_text_str(t, refs[k].ns);
        json_text_lit(t, ",\"name\":");
        json_text_str(t, refs[k].name);
        json_text_lit(t, "}");
    }
    json_text_lit(t, "]");
}

/* Strips the outer braces of the JSON object text s: the members, or NULL if s is no object. */
static const char *members(const char *s, size_t *len)
{
    size_t n = s ? strlen(s) : 0;

    if (n < 2 || s[0] != '{' || s[n - 1] != '}')
        return NULL;
    *len = n - 2;
    return s + 1;
}

/* head[k] (and tail[k] for jobs) of the nodes at idx[0 .. m) that the node table holds and nothing
 * touched since the load; the others are left NULL. Takes the graph's read lock (parent job names). */
static void read_resident(struct req *r, const struct lineage_node *nodes, const size_t *idx, size_t m,
                          const char **head, const char **tail)
{
    if (r->node_table == NULL)
        return;
    graph_lock_read(r->graph);
    for (size_t k = 0; k < m; k++)
        if (nodes[idx[k]].stamp == 0)
            node_table_data(r->node_table, r->graph, r->arena, nodes[idx[k]].node, &head[k], &tail[k]);
    graph_unlock(r->graph);
}

/* head[k] (and tail[k]) of the nodes at idx[0 .. m) still without them, from Postgres. */
static int read_stored(struct req *r, const struct lineage_node *nodes, const size_t *idx, size_t m,
                       enum graph_node_type type, const char **head, const char **tail, struct err *e)
{
    const char **ns = arena_alloc(r->arena, (m + 1) * sizeof *ns);
    const char **names = arena_alloc(r->arena, (m + 1) * sizeof *names);
    const char **h = arena_alloc(r->arena, (m + 1) * sizeof *h);
    const char **t = arena_alloc(r->arena, (m + 1) * sizeof *t);
    size_t *at = arena_alloc(r->arena, (m + 1) * sizeof *at), n = 0;

    for (size_t k = 0; k < m; k++) {
        if (head[k] != NULL)
            continue;
        ns[n] = nodes[idx[k]].ns;
        names[n] = nodes[idx[k]].name;
        at[n++] = k;
    }
    if (n == 0)
        return 0;
    if ((type == GRAPH_JOB ? store_job_data(r->store, r->arena, ns, names, n, h, t, e)
                           : store_dataset_data(r->store, r->arena, ns, names, n, h, e)) != 0)
        return -1;
    for (size_t k = 0; k < n; k++) {
        head[at[k]] = h[k];
        tail[at[k]] = type == GRAPH_JOB ? t[k] : NULL;
    }
    return 0;
}

/* The data of the nodes at idx[0 .. m), all of one type, from the node table or Postgres (and the
 * graph for jobs). A job's object is its head's members, "inputs", "outputs", then its tail's members. */
static int read_missing(struct req *r, struct lineage_node *nodes, const size_t *idx, size_t m,
                        enum graph_node_type type, struct err *e)
{
    const char **head = arena_zalloc(r->arena, (m + 1) * sizeof *head);
    const char **tail = arena_zalloc(r->arena, (m + 1) * sizeof *tail);
    bool *resident = arena_alloc(r->arena, m + 1);

    read_resident(r, nodes, idx, m, head, tail);
    for (size_t k = 0; k < m; k++)
        resident[k] = head[k] != NULL;
    if (read_stored(r, nodes, idx, m, type, head, tail, e) != 0)
        return -1;
    if (type == GRAPH_JOB)
        graph_lock_read(r->graph);
    for (size_t k = 0; k < m; k++) {
        struct lineage_node *n = &nodes[idx[k]];
        size_t head_len, tail_len = 0;
        if (resident[k] && type == GRAPH_DATASET) {
            n->data = head[k]; /* the whole object, minified already */
            n->data_len = strlen(head[k]);
            continue;
        }
        const char *h = members(head[k], &head_len), *t = type == GRAPH_JOB ? members(tail[k], &tail_len) : "";
        if (h == NULL || t == NULL)
            continue; /* no row: the answer says null */
        struct json_text out;
        json_text_init(&out, r->arena, head_len + tail_len + 64);
        json_text_lit(&out, "{");
        json_text_raw(&out, h, head_len);
        if (type == GRAPH_JOB) {
            json_text_lit(&out, ",");
            gen_io_list(&out, r->arena, r->graph, n->node, true);
            json_text_lit(&out, ",");
            gen_io_list(&out, r->arena, r->graph, n->node, false);
            json_text_lit(&out, ",");
            json_text_raw(&out, t, tail_len);
        }
        json_text_lit(&out, "}");
        n->data_len = resident[k] ? out.len : json_minify(out.p, out.len); /* the node table's is minified */
        n->data = out.p;
    }
    if (type == GRAPH_JOB)
        graph_unlock(r->graph);
    return 0;
}

int lineage_node_data(struct req *r, struct lineage_node *nodes, size_t n, struct err *e)
{
    uint32_t *ids = arena_alloc(r->arena, (n + 1) * sizeof *ids);
    uint32_t *stamps = arena_alloc(r->arena, (n + 1) * sizeof *stamps);
    struct node_cache_text **held = arena_alloc(r->arena, (n + 1) * sizeof *held);
    const char **texts = arena_alloc(r->arena, (n + 1) * sizeof *texts);
    size_t *lens = arena_alloc(r->arena, (n + 1) * sizeof *lens);
    size_t *idx = arena_alloc(r->arena, (n + 1) * sizeof *idx), m = 0;

    for (size_t i = 0; i < n; i++) {
        ids[i] = nodes[i].node;
        stamps[i] = nodes[i].stamp;
    }
    node_cache_get(r->node_cache, ids, stamps, n, held);
    for (size_t i = 0; i < n; i++) {
        nodes[i].held = held[i];
        nodes[i].data = held[i] ? node_cache_text(held[i], &nodes[i].data_len) : NULL;
        if (held[i] == NULL)
            nodes[i].data_len = 0;
    }
    for (int type = GRAPH_DATASET; type <= GRAPH_JOB; type++) {
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (nodes[i].data == NULL && nodes[i].type == (enum graph_node_type)type)
                idx[m++] = i;
        if (m > 0 && read_missing(r, nodes, idx, m, (enum graph_node_type)type, e) != 0) {
            lineage_node_data_release(r, nodes, n);
            return -1;
        }
        for (size_t k = 0; k < m; k++) {
            texts[k] = nodes[idx[k]].data;
            lens[k] = nodes[idx[k]].data_len;
            ids[k] = nodes[idx[k]].node;
            stamps[k] = nodes[idx[k]].stamp;
        }
        node_cache_put(r->node_cache, ids, stamps, texts, lens, m);
    }
    return 0;
}

void lineage_node_data_release(struct req *r, struct lineage_node *nodes, size_t n)
{
    struct node_cache_text **held = arena_alloc(r->arena, (n + 1) * sizeof *held);

    for (size_t i = 0; i < n; i++) {
        held[i] = nodes[i].held;
        nodes[i].held = NULL;
        if (held[i] != NULL) {
            nodes[i].data = NULL;
            nodes[i].data_len = 0;
        }
    }
    node_cache_release(r->node_cache, held, n);
}
