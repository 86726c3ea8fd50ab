/* bench/graph.c - graph engine benchmark: load generated lineage into the graph, time loads and walks.
 *
 *   bench_graph [--jobs N] [--seed S] [--samples N] [--write-csv DIR] [--compare FILE] [--check]
 *
 * Stages (bench_graph_db, graph_db.c, puts the same rows into Postgres and asks it the same questions):
 *  1. gen_build (graph_gen.c): a deterministic, warehouse-shaped edge list (datasets, jobs, job_io,
 *     fields, column lineage; ~1 M nodes and ~3 M edges by default). --write-csv DIR writes it as
 *     datasets.csv, jobs.csv, job_io.csv, dataset_fields.csv, column_lineage.csv for COPY.
 *  2. load: interns every name and adds every edge, timed (names are formatted on the fly, as rows
 *     would be decoded); then bytes per edge from graph_memory_bytes().
 *  3. bench_walks: p50/p99 of graph_walk from hub, typical and leaf datasets, upstream, downstream
 *     and both ways (Marquez's undirected expansion), capped at 1,000 nodes and unlimited, depth in
 *     edges; column lineage; re-asserting every IO edge (the dedup path).
 *  4. --compare FILE: the comparison questions (graph_gen.h: depth 20 job hops as the API counts
 *     them, from GEN_CMP_STARTS starts per class, capped and not), one line per walk for
 *     bench/run_graph.py, which sets them beside the HTTP and recursive-CTE answers.
 *
 * Invariants:
 *  1. Equal --jobs and --seed give an equal edge list, CSV and graph (ids included).
 *  2. Timings cover only the stage they name; generation is never timed.
 *  3. Stage 4 walks exactly as api/lineage.c does (compare_query), so node counts match the API's.
 * Ownership: everything is freed before exit (ASan builds stay quiet). Threads: single-threaded.
 * Output: the results table on stdout, progress on stderr. */
#include "graph_gen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "graph.h"

enum {
    BENCH_DEPTH = 20,
    BENCH_CAP = 1000,
    BENCH_STARTS = 1000, /* sampled start datasets per category */
};

/* ---- stage 2: load into the graph ---- */

struct loaded {
    uint32_t *ds, *job;  /* generator id -> graph node */
    uint32_t *field_base; /* first index in `field` of each dataset's fields */
    uint32_t *field;
};

static void check_id(uint32_t id, const struct err *e)
{
    if (id == GRAPH_NO_NODE)
        gen_die("load: %s", e->msg);
}

static void load(const struct gen *gen, struct graph *g, struct loaded *ld)
{
    char name[128];
    struct err e;
    size_t n_fields = 0;

    ld->ds = gen_xcalloc(gen->n_ds, sizeof *ld->ds);
    ld->job = gen_xcalloc(gen->n_jobs, sizeof *ld->job);
    ld->field_base = gen_xcalloc(gen->n_ds + 1, sizeof *ld->field_base);
    for (uint32_t d = 0; d < gen->n_ds; d++) {
        ld->field_base[d] = (uint32_t)n_fields;
        n_fields += gen->ds_fields[d];
    }
    ld->field_base[gen->n_ds] = (uint32_t)n_fields;
    ld->field = gen_xcalloc(n_fields, sizeof *ld->field);
    /* as sync_load does with the tables' row estimates: fields, datasets and jobs are the nodes,
     * IO, column and FIELD_OF rows the edges, names about 40 bytes a dataset or job */
    graph_presize(g, n_fields + gen->n_ds + gen->n_jobs, gen->n_io + gen->n_col + n_fields,
                  (size_t)(gen->n_ds + gen->n_jobs) * 40);
    for (uint32_t d = 0; d < gen->n_ds; d++) {
        gen_dataset_name(gen, d, name, sizeof name);
        check_id(ld->ds[d] = graph_intern(g, GRAPH_DATASET, gen_dataset_ns(gen, d), name, &e), &e);
        for (unsigned k = 0; k < gen->ds_fields[d]; k++) {
            gen_field_name(k, name, sizeof name);
            check_id(ld->field[ld->field_base[d] + k] = graph_field(g, ld->ds[d], name, &e), &e);
        }
    }
    for (uint32_t j = 0; j < gen->n_jobs; j++) {
        gen_job_name(j, name, sizeof name);
        check_id(ld->job[j] = graph_intern(g, GRAPH_JOB, gen_job_ns(j), name, &e), &e);
    }
    for (size_t i = 0; i < gen->n_io; i++) {
        const struct gen_io *x = &gen->io[i];
        uint32_t ds = ld->ds[x->dataset], job = ld->job[x->job];
        if (graph_add_new_edge(g, x->output ? job : ds, x->output ? ds : job, GRAPH_EDGE_IO, x->first, x->last,
                               GRAPH_NO_NODE, &e) != 0)
            gen_die("load: %s", e.msg);
    }
    for (size_t i = 0; i < gen->n_col; i++) {
        const struct gen_col *c = &gen->col[i];
        if (graph_add_new_edge(g, ld->field[ld->field_base[c->in_ds] + c->in_field],
                           ld->field[ld->field_base[c->out_ds] + c->out_field], GRAPH_EDGE_COLUMN, c->first,
                           c->last, GRAPH_NO_NODE, &e) != 0)
            gen_die("load: %s", e.msg);
    }
}

static void loaded_free(struct loaded *ld)
{
    free(ld->ds);
    free(ld->job);
    free(ld->field_base);
    free(ld->field);
}

/* Resident set size in bytes (0 if /proc is not there). */
static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0, resident = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (size_t)resident * 4096;
}

/* ---- stage 3: walks ---- */

struct sample_set {
    const char *name;
    uint32_t *nodes; /* graph ids */
    size_t n;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *sorted, size_t n, unsigned pct)
{
    size_t i = (n * pct + 99) / 100;

    return sorted[i == 0 ? 0 : i - 1] / 1e6;
}

static void bench_row(const struct graph *g, struct arena *a, const char *label, const struct sample_set *s,
                      enum graph_direction dir, unsigned kinds, int depth, size_t cap, size_t samples)
{
    uint64_t *t = gen_xcalloc(samples, sizeof *t);
    size_t *sizes = gen_xcalloc(samples, sizeof *sizes), truncated = 0;
    struct graph_result r;
    struct err e;

    for (size_t i = 0; i < samples; i++) {
        struct graph_query q = {.start = s->nodes[i % s->n], .direction = dir, .edge_kinds = kinds,
                                .node_types = 0xf, .max_depth = depth, .max_nodes = cap};
        uint64_t t0 = gen_now_ns();
        if (graph_walk(g, a, &q, &r, &e) != 0)
            gen_die("walk: %s", e.msg);
        t[i] = gen_now_ns() - t0;
        sizes[i] = r.n;
        truncated += r.truncated;
        arena_reset(a);
    }
    qsort(t, samples, sizeof *t, cmp_u64);
    qsort(sizes, samples, sizeof *sizes, cmp_size);
    printf("%-24s %-8s %6s %7zu %9.3f %9.3f %9.3f %9zu %9zu %6.1f\n", label, s->name,
           cap ? "1000" : "none", samples, pct_ms(t, samples, 50), pct_ms(t, samples, 99), t[samples - 1] / 1e6,
           sizes[samples / 2], sizes[samples - 1], 100.0 * (double)truncated / (double)samples);
    free(t);
    free(sizes);
}

static void bench_walks(const struct graph *g, const struct sample_set *sets, size_t n_sets, size_t samples)
{
    static const struct {
        const char *label;
        enum graph_direction dir;
        unsigned kinds;
        int depth;
    } rows[] = {
        {"upstream d20", GRAPH_UPSTREAM, 1u << GRAPH_EDGE_IO, BENCH_DEPTH},
        {"downstream d20", GRAPH_DOWNSTREAM, 1u << GRAPH_EDGE_IO, BENCH_DEPTH},
        {"both d20 (marquez)", GRAPH_BOTH, 1u << GRAPH_EDGE_IO, BENCH_DEPTH},
        {"both d40 (=20 job hops)", GRAPH_BOTH, 1u << GRAPH_EDGE_IO, 2 * BENCH_DEPTH},
    };
    struct arena *a = arena_new();

    printf("\n%-24s %-8s %6s %7s %9s %9s %9s %9s %9s %6s\n", "walk (IO edges)", "start", "cap", "samples",
           "p50 ms", "p99 ms", "max ms", "nodes p50", "nodes max", "trunc%");
    for (int capped = 1; capped >= 0; capped--) {
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            for (size_t s = 0; s < n_sets; s++)
                bench_row(g, a, rows[r].label, &sets[s], rows[r].dir, rows[r].kinds, rows[r].depth,
                          capped ? BENCH_CAP : 0, capped ? samples : samples / 10 + 1);
        }
    }
    arena_free(a);
}

/* Column lineage: upstream over COLUMN edges from the first field of each start dataset. */
static void bench_columns(const struct graph *g, const struct sample_set *leaf, size_t samples)
{
    struct sample_set fields = {"leaf col", gen_xcalloc(leaf->n, sizeof(uint32_t)), 0};
    struct arena *a = arena_new();

    for (size_t i = 0; i < leaf->n; i++) {
        size_t n;
        const struct graph_edge *in = graph_in_edges(g, leaf->nodes[i], &n);
        for (size_t k = 0; k < n; k++) {
            if (in[k].kind == GRAPH_EDGE_FIELD_OF) {
                fields.nodes[fields.n++] = in[k].other;
                break;
            }
        }
    }
    if (fields.n > 0) {
        bench_row(g, a, "column upstream d20", &fields, GRAPH_UPSTREAM, 1u << GRAPH_EDGE_COLUMN, BENCH_DEPTH,
                  BENCH_CAP, samples);
        bench_row(g, a, "column upstream d20", &fields, GRAPH_UPSTREAM, 1u << GRAPH_EDGE_COLUMN, BENCH_DEPTH, 0,
                  samples / 10 + 1);
    }
    free(fields.nodes);
    arena_free(a);
}

/* Re-asserting existing edges (a later run of the same jobs): the dedup path, hubs included. */
static void bench_reassert(struct graph *g, const struct gen *gen, const struct loaded *ld)
{
    struct err e;
    uint64_t t0 = gen_now_ns();
    size_t before = graph_edge_count(g);

    for (size_t i = 0; i < gen->n_io; i++) {
        const struct gen_io *x = &gen->io[i];
        uint32_t ds = ld->ds[x->dataset], job = ld->job[x->job];
        if (graph_add_edge(g, x->output ? job : ds, x->output ? ds : job, GRAPH_EDGE_IO, x->first,
                           x->last + 86400, GRAPH_NO_NODE, &e) != 0)
            gen_die("re-assert: %s", e.msg);
    }
    double s = (gen_now_ns() - t0) / 1e9;
    if (graph_edge_count(g) != before)
        gen_die("re-assert added edges (%zu -> %zu)", before, graph_edge_count(g));
    printf("re-assert %zu IO edges (later last_seen): %.3f s, %.0f edges/s\n", gen->n_io, s, gen->n_io / s);
}

/* ---- stage 4 (--compare FILE): the questions bench_graph_db also asks Postgres ---- */

/* The walk GET /api/v1/lineage makes (api/lineage.c): depth counts job hops, so a dataset start walks
 * 2*depth+2 edges and a job start 2*depth+1; IO edges only; datasets and jobs reported. */
static struct graph_query compare_query(enum gen_question q, uint32_t start, size_t cap)
{
    static const enum graph_direction dirs[GEN_QUESTIONS] = {GRAPH_UPSTREAM, GRAPH_DOWNSTREAM, GRAPH_BOTH};

    return (struct graph_query){.start = start, .direction = dirs[q], .edge_kinds = 1u << GRAPH_EDGE_IO,
                                .node_types = (1u << GRAPH_DATASET) | (1u << GRAPH_JOB),
                                .max_depth = 2 * GEN_CMP_DEPTH + (q == GEN_Q_LINEAGE ? 1 : 2),
                                .max_nodes = cap};
}

/* Graph nodes the question starts from: the class's datasets, or Marquez's job for each. */
static size_t compare_starts(const struct gen *gen, const struct loaded *ld, enum gen_question q,
                             enum gen_class c, uint32_t *out)
{
    uint32_t ids[GEN_CMP_STARTS];
    size_t n = gen_pick(gen, c, ids, GEN_CMP_STARTS), m = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t job = q == GEN_Q_LINEAGE ? gen_marquez_job(gen, ids[i]) : 0;
        if (job != UINT32_MAX)
            out[m++] = q == GEN_Q_LINEAGE ? ld->job[job] : ld->ds[ids[i]];
    }
    return m;
}

static void compare_row(FILE *f, const struct graph *g, struct arena *a, enum gen_question q,
                        enum gen_class c, const uint32_t *starts, size_t n, size_t cap, size_t runs)
{
    uint64_t *t = gen_xcalloc(runs, sizeof *t);
    size_t *sizes = gen_xcalloc(runs, sizeof *sizes);
    struct graph_result r;
    struct err e;

    for (size_t i = 0; i < runs; i++) {
        struct graph_query query = compare_query(q, starts[i % n], cap);
        uint64_t t0 = gen_now_ns();
        if (graph_walk(g, a, &query, &r, &e) != 0)
            gen_die("walk: %s", e.msg);
        t[i] = gen_now_ns() - t0;
        sizes[i] = r.n;
        arena_reset(a);
    }
    gen_write_runs(f, "graph", q, c, cap, t, sizes, runs, n);
    free(t);
    free(sizes);
}

/* Every question from every class, capped (samples runs) and not (samples / 20 + 1), into path. */
static void bench_compare(const struct gen *gen, const struct loaded *ld, const struct graph *g,
                          const char *path, size_t samples)
{
    FILE *f = fopen(path, "w");
    struct arena *a = arena_new();
    uint32_t starts[GEN_CMP_STARTS];

    if (f == NULL)
        gen_die("cannot write \"%s\": %s", path, strerror(errno));
    for (int q = 0; q < GEN_QUESTIONS; q++) {
        for (int c = 0; c < GEN_CLASSES; c++) {
            size_t n = compare_starts(gen, ld, (enum gen_question)q, (enum gen_class)c, starts);
            if (n == 0)
                gen_die("no start nodes for %s %s", gen_question_name(q), gen_class_name(c));
            compare_row(f, g, a, (enum gen_question)q, (enum gen_class)c, starts, n, GEN_CMP_CAP, samples);
            compare_row(f, g, a, (enum gen_question)q, (enum gen_class)c, starts, n, 0, samples / 20 + 1);
        }
    }
    if (fclose(f) != 0)
        gen_die("cannot write \"%s\": %s", path, strerror(errno));
    arena_free(a);
    fprintf(stderr, "bench_graph: comparison walks written to %s\n", path);
}

struct options {
    uint32_t jobs;
    uint64_t seed;
    size_t samples;
    const char *csv_dir, *compare;
    bool check;
};

static void parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.jobs = GEN_DEFAULT_JOBS, .seed = 1, .samples = 1000};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--check") == 0) {
            o->check = true;
            continue;
        }
        if (v == NULL)
            gen_die("usage: bench_graph [--jobs N] [--seed S] [--samples N] [--write-csv DIR] "
                    "[--compare FILE] [--check]");
        if (strcmp(argv[i], "--jobs") == 0)
            o->jobs = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else if (strcmp(argv[i], "--samples") == 0)
            o->samples = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--write-csv") == 0)
            o->csv_dir = v;
        else if (strcmp(argv[i], "--compare") == 0)
            o->compare = v;
        else
            gen_die("unknown option \"%s\"", argv[i]);
        i++;
    }
    if (o->jobs < 1000 || o->samples < 10)
        gen_die("--jobs must be at least 1000 and --samples at least 10");
}

/* Sizes by edge kind, load speed and bytes per edge. */
static void report_graph(const struct graph *g, const struct gen *gen, double load_s, size_t rss_growth)
{
    size_t nodes = graph_node_count(g), edges = graph_edge_count(g), mem = graph_memory_bytes(g);
    size_t kinds[GRAPH_EDGE_FIELD_OF + 1] = {0};

    for (uint32_t id = 0; id < nodes; id++) {
        size_t n;
        const struct graph_edge *l = graph_out_edges(g, id, &n);
        for (size_t i = 0; i < n; i++)
            kinds[l[i].kind]++;
    }
    printf("graph: %zu nodes (%" PRIu32 " datasets, %" PRIu32 " jobs, %zu fields), %zu edges (%zu io, %zu column, "
           "%zu field_of); edge list: %zu io rows, %zu column rows\n",
           nodes, gen->n_ds, gen->n_jobs, nodes - gen->n_ds - gen->n_jobs, edges, kinds[GRAPH_EDGE_IO],
           kinds[GRAPH_EDGE_COLUMN], kinds[GRAPH_EDGE_FIELD_OF], gen->n_io, gen->n_col);
    printf("load: %.3f s, %.0f edges/s (names interned and edges added; target < 5 s for 3 M edges)\n", load_s,
           edges / load_s);
    printf("memory: %zu bytes = %.1f bytes/edge (graph_memory_bytes; target <= 64); RSS grew %.1f MB\n", mem,
           (double)mem / (double)edges, (double)rss_growth / 1e6);
}

/* Graph nodes of up to max datasets of class c (gen_pick), into a new sample set. */
static void pick_class(const struct gen *gen, const struct loaded *ld, enum gen_class c, size_t max,
                       struct sample_set *s)
{
    uint32_t *ids = gen_xcalloc(max, sizeof *ids);

    s->name = gen_class_name(c);
    s->nodes = gen_xcalloc(max, sizeof *s->nodes);
    s->n = gen_pick(gen, c, ids, max);
    for (size_t i = 0; i < s->n; i++)
        s->nodes[i] = ld->ds[ids[i]];
    free(ids);
}

/* The three start sets: the hubs, typical mid-level datasets, leaves of the last levels. */
static void pick_sets(const struct gen *gen, const struct loaded *ld, struct sample_set sets[GEN_CLASSES])
{
    for (int c = 0; c < GEN_CLASSES; c++)
        pick_class(gen, ld, (enum gen_class)c, BENCH_STARTS, &sets[c]);
    printf("hub readers:");
    for (uint32_t h = 0; h < GEN_HUBS; h++) {
        char name[64];
        gen_dataset_name(gen, h, name, sizeof name);
        printf(" %s=%" PRIu32, name, gen->ds_readers[h]);
    }
    printf("\nstarts: %zu hub, %zu typical (levels %d-%d, 1-10 readers), %zu leaf (levels %d-%d, no reader)\n",
           sets[0].n, sets[1].n, GEN_LEVELS / 4, 3 * GEN_LEVELS / 4, sets[2].n, 3 * GEN_LEVELS / 4, GEN_LEVELS);
}

int main(int argc, char **argv)
{
    struct options o;
    struct gen gen;
    struct loaded ld;
    struct graph *g;
    struct sample_set sets[GEN_CLASSES];
    struct err e;
    uint64_t t0;
    size_t rss0;
    double load_s;

    parse_args(argc, argv, &o);
    fprintf(stderr, "bench_graph: generating %" PRIu32 " jobs (seed %" PRIu64 ")\n", o.jobs, o.seed);
    gen_build(&gen, o.jobs, o.seed);
    if (o.csv_dir != NULL) {
        gen_write_csv(&gen, o.csv_dir);
        fprintf(stderr, "bench_graph: wrote CSV to %s\n", o.csv_dir);
    }
    g = graph_new();
    if (g == NULL)
        gen_die("out of memory");
    rss0 = rss_bytes();
    t0 = gen_now_ns();
    load(&gen, g, &ld);
    graph_trim(g);
    load_s = (gen_now_ns() - t0) / 1e9;
    report_graph(g, &gen, load_s, rss_bytes() - rss0);
    if (o.check) {
        t0 = gen_now_ns();
        if (graph_check(g, &e) != 0)
            gen_die("graph_check: %s", e.msg);
        printf("graph_check: ok (%.3f s)\n", (gen_now_ns() - t0) / 1e9);
    }
    pick_sets(&gen, &ld, sets);
    bench_walks(g, sets, 3, o.samples);
    bench_columns(g, &sets[2], o.samples);
    printf("\n");
    if (o.compare != NULL)
        bench_compare(&gen, &ld, g, o.compare, o.samples);
    bench_reassert(g, &gen, &ld);
    for (size_t s = 0; s < 3; s++)
        free(sets[s].nodes);
    loaded_free(&ld);
    graph_free(g);
    gen_free(&gen);
    return 0;
}
