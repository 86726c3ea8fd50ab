/* collector/sync.c - keeps the graph a projection of committed rows: event -> graph edges, and the
 * start-up load from the tables.
 *
 * Edges an event makes (t = eventTime in seconds, R = the run node, J = the job node):
 *   input D:  D -IO-> J, D -RUN_IO-> R        output D:  J -IO-> D, R -RUN_IO-> D
 *   R -RUN_OF-> J;  child job -PARENT-> parent job;  child run -PARENT-> parent run
 *   column lineage: input field -COLUMN-> output field (or -> output dataset for dataset-level); the
 *     decoder kept only edges whose input is one of the event's inputs (decode_dataset.c)
 *   symlinks: each identifier becomes another name of D; when it already names another node, the two
 *     are merged (graph_alias), as the store merges their rows (store/store_aliases.c).
 * Every job and dataset an event names is touched (graph_touch), so copies of their data made before
 * this commit (api/node_cache.c) stop counting as current; a merge also touches the jobs next to the
 * merged node, whose inputs and outputs now show its new name.
 * Invariants: see sync.h. Db ids map to node ids through growable arrays owned by the load. */
#include "sync.h"

#include <stdlib.h>
#include <string.h>

#include "store_graph.h"

static uint32_t seconds(int64_t usec)
{
    int64_t s = usec / 1000000;
    return s < 0 ? 0 : s > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static uint32_t dataset_node(struct graph *g, const struct ol_dataset *ds, struct err *e)
{
    return graph_intern(g, GRAPH_DATASET, ds->namespace, ds->name, e);
}

/* Touches every job reading or writing dataset node d (their node data lists d's name). */
static void touch_jobs_of(struct graph *g, uint32_t d)
{
    for (int in = 0; in < 2; in++) {
        size_t n;
        const struct graph_edge *l = in ? graph_in_edges(g, d, &n) : graph_out_edges(g, d, &n);
        for (size_t k = 0; k < n; k++)
            if (l[k].kind == GRAPH_EDGE_IO)
                graph_touch(g, l[k].other);
    }
}

static int apply_dataset(struct graph *g, const struct ol_dataset *ds, uint32_t job, uint32_t run, uint32_t t,
                         struct err *e)
{
    uint32_t d = dataset_node(g, ds, e);

    if (d == GRAPH_NO_NODE)
        return -1;
    for (size_t k = 0; k < ds->n_symlinks; k++) {
        int rc = graph_alias(g, ds->namespace, ds->name, ds->symlinks[k].namespace, ds->symlinks[k].name, &d, e);
        if (rc < 0)
            return -1;
        if (rc > 0)
            touch_jobs_of(g, d);
    }
    graph_touch(g, d);
    if (ds->io != OL_IO_INPUT && ds->io != OL_IO_OUTPUT)
        return 0;
    bool in = ds->io == OL_IO_INPUT;
    if (job != GRAPH_NO_NODE &&
        graph_add_edge(g, in ? d : job, in ? job : d, GRAPH_EDGE_IO, t, t, run, e) != 0)
        return -1;
    if (run != GRAPH_NO_NODE && graph_add_edge(g, in ? d : run, in ? run : d, GRAPH_EDGE_RUN_IO, t, t, run, e) != 0)
        return -1;
    return 0;
}

static int apply_columns(struct graph *g, const struct ol_dataset *ds, uint32_t run, uint32_t t, struct err *e)
{
    for (size_t k = 0; k < ds->n_columns; k++) {
        const struct ol_column_edge *c = &ds->columns[k];
        uint32_t in_ds = graph_intern(g, GRAPH_DATASET, c->input_namespace, c->input_name, e);
        uint32_t out_ds = dataset_node(g, ds, e);
        if (in_ds == GRAPH_NO_NODE || out_ds == GRAPH_NO_NODE)
            return -1;
        graph_touch(g, in_ds); /* the write may have created its row */
        uint32_t from = graph_field(g, in_ds, c->input_field, e);
        uint32_t to = c->output_field ? graph_field(g, out_ds, c->output_field, e) : out_ds;
        if (from == GRAPH_NO_NODE || to == GRAPH_NO_NODE ||
            graph_add_edge(g, from, to, GRAPH_EDGE_COLUMN, t, t, run, e) != 0)
            return -1;
    }
    return 0;
}

/* Job, run and hierarchy nodes of a Run or Job event; *job and *run get their nodes. */
static int apply_job_and_run(struct graph *g, const struct ol_event *ev, uint32_t t, uint32_t *job, uint32_t *run,
                             struct err *e)
{
    *run = GRAPH_NO_NODE;
    if ((*job = graph_intern(g, GRAPH_JOB, ev->job_namespace, ev->job_name, e)) == GRAPH_NO_NODE)
        return -1;
    graph_touch(g, *job);
    if (ev->has_parent && !ev->parent_job_self) {
        uint32_t pj = graph_intern(g, GRAPH_JOB, ev->parent_job_namespace, ev->parent_job_name, e);
        if (pj == GRAPH_NO_NODE || graph_add_edge(g, *job, pj, GRAPH_EDGE_PARENT, t, t, GRAPH_NO_NODE, e) != 0)
            return -1;
        graph_touch(g, pj);
    }
    if (ev->kind != OL_RUN_EVENT)
        return 0;
    if ((*run = graph_intern(g, GRAPH_RUN, "", ev->run_uuid, e)) == GRAPH_NO_NODE)
        return -1;
    if (graph_add_edge(g, *run, *job, GRAPH_EDGE_RUN_OF, t, t, *run, e) != 0)
        return -1;
    if (ev->has_parent) {
        uint32_t pr = graph_intern(g, GRAPH_RUN, "", ev->parent_run_uuid, e);
        if (pr == GRAPH_NO_NODE || (pr != *run && graph_add_edge(g, *run, pr, GRAPH_EDGE_PARENT, t, t, *run, e) != 0))
            return -1;
    }
    return 0;
}

static int apply_locked(struct graph *g, const struct ol_event *ev, struct err *e)
{
    uint32_t t = seconds(ev->event_time), job = GRAPH_NO_NODE, run = GRAPH_NO_NODE;

    if (ev->kind != OL_DATASET_EVENT && apply_job_and_run(g, ev, t, &job, &run, e) != 0)
        return -1;
    for (size_t i = 0; i < ev->n_datasets; i++)
        if (apply_dataset(g, &ev->datasets[i], job, run, t, e) != 0)
            return -1;
    for (size_t i = 0; i < ev->n_datasets; i++)
        if (apply_columns(g, &ev->datasets[i], run, t, e) != 0)
            return -1;
    return 0;
}

int sync_event(struct graph *g, const struct ol_event *ev, struct err *e)
{
    graph_lock_write(g);
    int rc = apply_locked(g, ev, e);
    graph_unlock(g);
    return rc;
}

/* Db id -> node id, for the load. Grows to the largest id seen. */
struct id_map {
    uint32_t *nodes;
    size_t cap;
};

struct parent_link {
    int64_t child, parent;
};

enum { LOAD_COLUMN_BATCH = 256 };

struct load_ctx {
    struct graph *g;
    const struct sync_rows *rows; /* never NULL: an empty one when the caller gave none */
    struct id_map datasets, jobs;
    struct parent_link *parents;
    size_t n_parents, cap_parents;
    struct graph_column_row columns[LOAD_COLUMN_BATCH];
};

enum {
    LOAD_NAME_BYTES = 48, /* room set aside per dataset or job name (and namespace offset) */
    LOAD_UUID_BYTES = 37, /* per run name: a UUID's text and its NUL */
};

static int id_map_set(struct id_map *m, int64_t id, uint32_t node, struct err *e)
{
    if (id < 0)
        return err_set(e, ERR_INTERNAL, NULL, "negative row id %lld", (long long)id);
    if ((size_t)id >= m->cap) {
        size_t cap = m->cap ? m->cap : 1024;
        while (cap <= (size_t)id)
            cap *= 2;
        uint32_t *bigger = realloc(m->nodes, cap * sizeof *bigger);
        if (bigger == NULL)
            return err_set(e, ERR_INTERNAL, NULL, "out of memory loading the graph");
        memset(bigger + m->cap, 0xff, (cap - m->cap) * sizeof *bigger); /* GRAPH_NO_NODE */
        m->nodes = bigger;
        m->cap = cap;
    }
    m->nodes[id] = node;
    return 0;
}

static uint32_t id_map_get(const struct id_map *m, int64_t id)
{
    return id >= 0 && (size_t)id < m->cap ? m->nodes[id] : GRAPH_NO_NODE;
}

/* Sizes the graph for the tables' estimated rows: datasets, jobs, runs and fields with column lineage
 * (at most two per column row) are the nodes; IO, run IO, column, RUN_OF, parent and FIELD_OF rows
 * the edges. */
static void load_sizes(void *ctx, const struct store_graph_sizes *sz)
{
    struct load_ctx *l = ctx;
    size_t fields = sz->fields < 2 * sz->columns ? sz->fields : 2 * sz->columns;

    graph_presize(l->g, sz->datasets + sz->jobs + sz->runs + fields,
                  sz->job_io + sz->run_io + sz->columns + 2 * sz->runs + fields + sz->jobs / 8,
                  (sz->datasets + sz->jobs + sz->symlinks) * LOAD_NAME_BYTES + sz->runs * LOAD_UUID_BYTES);
    if (l->rows->sizes != NULL)
        l->rows->sizes(l->rows->ctx, sz);
}

static int load_dataset(void *ctx, const struct store_graph_dataset *d, struct err *e)
{
    struct load_ctx *l = ctx;
    uint32_t n = graph_intern(l->g, GRAPH_DATASET, d->ns, d->name, e);

    if (n == GRAPH_NO_NODE || id_map_set(&l->datasets, d->id, n, e) != 0)
        return -1;
    return l->rows->dataset != NULL ? l->rows->dataset(l->rows->ctx, n, d, e) : 0;
}

/* A symlink that merged nodes or renamed the live node touches it: what was read about it under its
 * old name no longer describes it (sync_rows). */
static int load_symlink(void *ctx, const char *owner_ns, const char *owner_name, const char *ns, const char *name,
                        struct err *e)
{
    struct load_ctx *l = ctx;
    uint32_t live;
    int rc = graph_alias(l->g, owner_ns, owner_name, ns, name, &live, e);

    if (rc > 0)
        graph_touch(l->g, live);
    return rc < 0 ? -1 : 0;
}

static int load_job(void *ctx, const struct store_graph_job *j, struct err *e)
{
    struct load_ctx *l = ctx;
    uint32_t n = graph_intern(l->g, GRAPH_JOB, j->ns, j->name, e);

    if (n == GRAPH_NO_NODE || id_map_set(&l->jobs, j->id, n, e) != 0)
        return -1;
    if (l->rows->job != NULL && l->rows->job(l->rows->ctx, n, j, e) != 0)
        return -1;
    if (j->parent_id == 0)
        return 0;
    if (l->n_parents == l->cap_parents) {
        size_t cap = l->cap_parents ? l->cap_parents * 2 : 256;
        struct parent_link *bigger = realloc(l->parents, cap * sizeof *bigger);
        if (bigger == NULL)
            return err_set(e, ERR_INTERNAL, NULL, "out of memory loading the graph");
        l->parents = bigger;
        l->cap_parents = cap;
    }
    l->parents[l->n_parents++] = (struct parent_link){j->id, j->parent_id};
    return 0;
}

/* Parent links wait until every job is known (a parent may have a larger id than its child). */
static int link_parents(struct load_ctx *l, struct err *e)
{
    for (size_t i = 0; i < l->n_parents; i++) {
        uint32_t c = id_map_get(&l->jobs, l->parents[i].child), p = id_map_get(&l->jobs, l->parents[i].parent);
        if (c != GRAPH_NO_NODE && p != GRAPH_NO_NODE &&
            graph_add_new_edge(l->g, c, p, GRAPH_EDGE_PARENT, 0, 0, GRAPH_NO_NODE, e) != 0)
            return -1;
    }
    l->n_parents = 0;
    return 0;
}

static uint32_t run_node(struct load_ctx *l, const char *uuid, struct err *e)
{
    return uuid == NULL ? GRAPH_NO_NODE : graph_intern(l->g, GRAPH_RUN, "", uuid, e);
}

static int load_run(void *ctx, const char *uuid, int64_t job_id, const char *parent, uint32_t created,
                    struct err *e)
{
    struct load_ctx *l = ctx;
    uint32_t r = run_node(l, uuid, e), j = id_map_get(&l->jobs, job_id);

    if (l->n_parents > 0 && link_parents(l, e) != 0)
        return -1;
    if (r == GRAPH_NO_NODE)
        return -1;
    if (j != GRAPH_NO_NODE && graph_add_new_edge(l->g, r, j, GRAPH_EDGE_RUN_OF, created, created, r, e) != 0)
        return -1;
    if (parent != NULL) {
        uint32_t p = run_node(l, parent, e);
        if (p == GRAPH_NO_NODE ||
            (p != r && graph_add_new_edge(l->g, r, p, GRAPH_EDGE_PARENT, created, created, r, e) != 0))
            return -1;
    }
    return 0;
}

static int load_job_io(void *ctx, int64_t job_id, int64_t dataset_id, char io, uint32_t first, uint32_t last,
                       const char *run_uuid, struct err *e)
{
    struct load_ctx *l = ctx;
    uint32_t j = id_map_get(&l->jobs, job_id), d = id_map_get(&l->datasets, dataset_id);
    uint32_t r = run_uuid ? run_node(l, run_uuid, e) : GRAPH_NO_NODE;

    if (l->n_parents > 0 && link_parents(l, e) != 0)
        return -1;
    if (j == GRAPH_NO_NODE || d == GRAPH_NO_NODE)
        return 0;
    return graph_add_new_edge(l->g, io == 'I' ? d : j, io == 'I' ? j : d, GRAPH_EDGE_IO, first, last, r, e);
}

static int load_run_io(void *ctx, const char *run_uuid, int64_t dataset_id, char io, uint32_t first, uint32_t last,
                       struct err *e)
{
    struct load_ctx *l = ctx;
    uint32_t r = run_node(l, run_uuid, e), d = id_map_get(&l->datasets, dataset_id);

    if (r == GRAPH_NO_NODE)
        return -1;
    if (d == GRAPH_NO_NODE)
        return 0;
    return graph_add_new_edge(l->g, io == 'I' ? d : r, io == 'I' ? r : d, GRAPH_EDGE_RUN_IO, first, last, r, e);
}

/* Column rows in a batch: rows whose datasets the load does not know are skipped, as edges to
 * unknown nodes are everywhere in the load. */
static int load_columns(void *ctx, const struct store_graph_column *rows, size_t n, struct err *e)
{
    struct load_ctx *l = ctx;
    struct graph_column_row *out = l->columns;
    size_t m = 0;

    for (size_t k = 0; k < n; k++) {
        const struct store_graph_column *c = &rows[k];
        uint32_t o = id_map_get(&l->datasets, c->out_dataset), i = id_map_get(&l->datasets, c->in_dataset);
        uint32_t r = c->run_uuid ? run_node(l, c->run_uuid, e) : GRAPH_NO_NODE;
        if (c->run_uuid != NULL && r == GRAPH_NO_NODE)
            return -1;
        if (o == GRAPH_NO_NODE || i == GRAPH_NO_NODE)
            continue;
        out[m++] = (struct graph_column_row){i, o, c->in_field, c->out_field, c->first_seen, c->last_seen, r};
        if (m == LOAD_COLUMN_BATCH) {
            if (graph_add_column_rows(l->g, out, m, e) != 0)
                return -1;
            m = 0;
        }
    }
    return graph_add_column_rows(l->g, out, m, e);
}

static int load_field(void *ctx, const struct store_graph_field *f, struct err *e)
{
    struct load_ctx *l = ctx;
    uint32_t d = id_map_get(&l->datasets, f->dataset_id);

    return d == GRAPH_NO_NODE ? 0 : l->rows->field(l->rows->ctx, d, f, e);
}

int sync_load(struct graph *g, struct store *s, const struct sync_rows *rows, uint64_t *xmin_out, struct err *e)
{
    static const struct sync_rows NO_ROWS = {0};
    struct load_ctx *l = calloc(1, sizeof *l);

    if (l == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory loading the graph");
    l->g = g;
    l->rows = rows != NULL ? rows : &NO_ROWS;
    const struct store_graph_sink sink = {
        .ctx = l,
        .sizes = load_sizes,
        .dataset = load_dataset,
        .symlink = load_symlink,
        .job = load_job,
        .job_io = load_job_io,
        .run = load_run,
        .run_io = load_run_io,
        .columns = load_columns,
        .field = l->rows->field != NULL ? load_field : NULL,
    };

    graph_lock_write(g);
    int rc = store_graph_load(s, &sink, xmin_out, e);
    if (rc == 0 && l->n_parents > 0)
        rc = link_parents(l, e);
    graph_trim(g);
    graph_unlock(g);
    free(l->datasets.nodes);
    free(l->jobs.nodes);
    free(l->parents);
    free(l);
    return rc;
}
