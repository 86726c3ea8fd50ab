/* bench/graph_gen.c - bench_graph's lineage generator: a deterministic, warehouse-shaped edge list.
 *
 * Shape: GEN_LEVELS levels of jobs; a job at level l reads 2-5 datasets, mostly from level l-1, else
 * from the 5 levels below, and writes 1-3 datasets of level l (3% of outputs rewrite an existing one,
 * so some datasets have several writers). Level 0 holds raw datasets, the first GEN_HUBS of which are
 * hubs: 12% of jobs also read one, skewed towards hub 0, so hubs have hundreds to thousands of
 * readers. Three catalog jobs read 3,000 random datasets each. Every dataset has 3-9 fields; every
 * field of a new output dataset gets 1-3 input columns drawn from the job's inputs.
 *
 * Invariants:
 *  1. Equal jobs and seed give an equal edge list, row for row (splitmix64, no other input).
 *  2. No duplicate rows: (job, dataset, io_type) and (output field, input field) pairs are unique.
 *  3. Comparison starts (gen_pick, gen_marquez_job) are a function of the rows alone, so every tool
 *     that builds the same (jobs, seed) picks the same start nodes.
 * Ownership: struct gen owns its arrays (gen_free). Threads: single-threaded. */
#include "graph_gen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum {
    GEN_MEGA_JOBS = 3,         /* catalog jobs reading GEN_MEGA_FAN_IN datasets each */
    GEN_MEGA_FAN_IN = 3000,
    GEN_HUB_PERCENT = 12,      /* share of jobs that also read a hub */
    GEN_REWRITE_PERCENT = 3,   /* share of outputs that go to an existing dataset (several writers) */
    GEN_SOURCE_PER_MILLE = 20, /* raw datasets per 1000 jobs */
    GEN_T0 = 1704067200,       /* 2024-01-01T00:00:00Z */
    GEN_SPAN = 365 * 86400,
};

static const char *const ds_namespaces[] = {"s3://acme-raw", "postgres://warehouse.acme:5432",
                                             "snowflake://acme.eu-west-1", "bigquery://acme-analytics"};
static const char *const job_namespaces[] = {"airflow://prod", "spark://etl-cluster", "dbt://analytics"};
static const char *const hub_names[GEN_HUBS] = {"raw.events", "raw.customers", "raw.orders",
                                                "raw.products", "raw.sessions", "raw.payments"};
static const char *const tables[] = {"orders", "customers", "events", "sessions", "payments", "refunds",
                                     "products", "inventory", "shipments", "invoices", "accounts", "visits",
                                     "clicks", "campaigns", "subscriptions", "tickets"};
static const char *const columns[] = {"id", "created_at", "updated_at", "customer_id", "order_id", "amount",
                                      "currency", "status", "country", "email"};

/* ---- messages, allocation, random numbers ---- */

void gen_die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("bench_graph: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void *gen_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n == 0 ? 1 : n);

    if (q == NULL)
        gen_die("out of memory (%zu bytes)", n);
    return q;
}

void *gen_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n == 0 ? 1 : n, size);

    if (p == NULL)
        gen_die("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

uint64_t gen_now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        gen_die("clock_gettime: %s", strerror(errno));
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r) /* splitmix64 */
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)((rng_next(r) >> 32) * n >> 32);
}

/* ---- names ---- */

void gen_dataset_name(const struct gen *gen, uint32_t d, char *buf, size_t cap)
{
    static const char *const schema[] = {"raw", "staging", "intermediate", "marts", "reports"};
    unsigned l = gen->ds_level[d];

    if (d < GEN_HUBS)
        snprintf(buf, cap, "%s", hub_names[d]);
    else
        snprintf(buf, cap, "%s.%s_%" PRIu32, schema[l == 0 ? 0 : 1 + (l - 1) * 4 / GEN_LEVELS],
                 tables[d % (sizeof tables / sizeof tables[0])], d);
}

const char *gen_dataset_ns(const struct gen *gen, uint32_t d)
{
    unsigned l = gen->ds_level[d];

    return ds_namespaces[l == 0 ? 0 : 1 + d % 3];
}

void gen_job_name(uint32_t j, char *buf, size_t cap)
{
    snprintf(buf, cap, "dag_%" PRIu32 ".task_%" PRIu32, j / 20, j % 20);
}

const char *gen_job_ns(uint32_t j)
{
    return job_namespaces[j % 3];
}

void gen_field_name(unsigned f, char *buf, size_t cap)
{
    if (f < sizeof columns / sizeof columns[0])
        snprintf(buf, cap, "%s", columns[f]);
    else
        snprintf(buf, cap, "attr_%u", f);
}

/* ---- generation ---- */

static uint32_t gen_dataset(struct gen *gen, unsigned level, struct rng *r)
{
    uint32_t d = gen->n_ds++;

    gen->ds_level[d] = (uint8_t)level;
    gen->ds_fields[d] = (uint8_t)(3 + rng_below(r, 7));
    return d;
}

static void gen_io_add(struct gen *gen, uint32_t job, uint32_t d, int output, uint32_t first, uint32_t last)
{
    if (gen->n_io == gen->cap_io) {
        gen->cap_io = gen->cap_io ? gen->cap_io * 2 : 1024;
        gen->io = gen_xrealloc(gen->io, gen->cap_io * sizeof *gen->io);
    }
    gen->io[gen->n_io++] = (struct gen_io){job, d, (uint8_t)output, first, last};
    if (!output)
        gen->ds_readers[d]++;
}

static void gen_col_add(struct gen *gen, struct gen_col c)
{
    if (gen->n_col == gen->cap_col) {
        gen->cap_col = gen->cap_col ? gen->cap_col * 2 : 1024;
        gen->col = gen_xrealloc(gen->col, gen->cap_col * sizeof *gen->col);
    }
    gen->col[gen->n_col++] = c;
}

/* A dataset for a job at `level` to read: mostly from the level below, else from the 5 below that. */
static uint32_t pick_input(const struct gen *gen, unsigned level, struct rng *r)
{
    unsigned l = level - 1;
    uint32_t lo, n;

    if (rng_below(r, 2) && level > 1)
        l = level - 1 - rng_below(r, level < 6 ? level : 6);
    lo = gen->level_first[l];
    n = gen->level_first[l + 1] - lo;
    return lo + rng_below(r, n);
}

/* 1-3 input columns for every column of every output, drawn from the job's inputs. */
static void gen_columns(struct gen *gen, const uint32_t *in, unsigned n_in, const uint32_t *out, unsigned n_out,
                        uint32_t first, uint32_t last, struct rng *r)
{
    static const unsigned fan[] = {1, 2, 2, 3, 3};

    for (unsigned o = 0; o < n_out; o++) {
        for (unsigned fo = 0; fo < gen->ds_fields[out[o]]; fo++) {
            unsigned k = fan[rng_below(r, sizeof fan / sizeof fan[0])];
            struct gen_col picked[3];
            for (unsigned i = 0; i < k; i++) {
                uint32_t d = in[rng_below(r, n_in)];
                struct gen_col c = {d, out[o], (uint8_t)rng_below(r, gen->ds_fields[d]), (uint8_t)fo, first, last};
                bool dup = false;
                for (unsigned j = 0; j < i; j++)
                    dup |= picked[j].in_ds == c.in_ds && picked[j].in_field == c.in_field;
                picked[i] = c;
                if (!dup)
                    gen_col_add(gen, c);
            }
        }
    }
}

static void gen_job(struct gen *gen, uint32_t j, unsigned level, struct rng *r)
{
    static const unsigned fan_in[] = {2, 2, 3, 3, 3, 4, 4, 5};
    static const unsigned fan_out[] = {1, 1, 1, 1, 2, 2, 2, 3};
    uint32_t in[6], out[3], fresh[3], first = GEN_T0 + rng_below(r, GEN_SPAN);
    uint32_t last = first + rng_below(r, 30 * 86400);
    unsigned n_in = fan_in[rng_below(r, 8)], n_out = fan_out[rng_below(r, 8)], n_fresh = 0;

    for (unsigned i = 0; i < n_in; i++)
        in[i] = pick_input(gen, level, r);
    if (rng_below(r, 100) < GEN_HUB_PERCENT) {
        uint32_t h = 0; /* skewed: hub 0 most often, each next one less (the last takes the tail) */
        while (h + 1 < GEN_HUBS && rng_below(r, h + 2) != 0)
            h++;
        in[n_in++] = h;
    }
    for (unsigned i = 0; i < n_in; i++) {
        bool dup = false;
        for (unsigned k = 0; k < i; k++)
            dup |= in[k] == in[i];
        if (!dup)
            gen_io_add(gen, j, in[i], 0, first, last);
    }
    for (unsigned o = 0; o < n_out; o++) {
        uint32_t d = UINT32_MAX; /* a new dataset, unless this output rewrites one of this level */
        if (gen->n_ds > gen->level_first[level] && rng_below(r, 100) < GEN_REWRITE_PERCENT)
            d = gen->level_first[level] + rng_below(r, gen->n_ds - gen->level_first[level]);
        for (unsigned k = 0; k < o; k++) {
            if (out[k] == d)
                d = UINT32_MAX;
        }
        if (d == UINT32_MAX)
            d = fresh[n_fresh++] = gen_dataset(gen, level, r);
        out[o] = d;
        gen_io_add(gen, j, d, 1, first, last);
    }
    /* column lineage only into new datasets, so no (input, output) column pair repeats */
    gen_columns(gen, in, n_in, fresh, n_fresh, first, last, r);
}

void gen_build(struct gen *gen, uint32_t jobs, uint64_t seed)
{
    struct rng r = {seed};
    uint32_t sources = GEN_HUBS + jobs / 1000 * GEN_SOURCE_PER_MILLE + 10, max_ds = sources + jobs * 3 + 1;
    uint32_t per_level = jobs / GEN_LEVELS, j = 0, *read_by;

    memset(gen, 0, sizeof *gen);
    gen->ds_level = gen_xcalloc(max_ds, 1);
    gen->ds_fields = gen_xcalloc(max_ds, 1);
    gen->ds_readers = gen_xcalloc(max_ds, sizeof *gen->ds_readers);
    for (uint32_t i = 0; i < sources; i++)
        gen_dataset(gen, 0, &r);
    gen->level_first[0] = 0;
    for (unsigned level = 1; level <= GEN_LEVELS; level++) {
        uint32_t n = level == GEN_LEVELS ? jobs - GEN_MEGA_JOBS - j : per_level;
        gen->level_first[level] = gen->n_ds;
        for (uint32_t i = 0; i < n; i++, j++)
            gen_job(gen, j, level, &r);
    }
    gen->level_first[GEN_LEVELS + 1] = gen->n_ds;
    read_by = gen_xcalloc(gen->n_ds, sizeof *read_by);
    for (unsigned m = 0; m < GEN_MEGA_JOBS; m++, j++) { /* catalog jobs: read many, write nothing */
        for (unsigned i = 0; i < GEN_MEGA_FAN_IN; i++) {
            uint32_t d = rng_below(&r, gen->n_ds);
            if (read_by[d] == j + 1)
                continue;
            read_by[d] = j + 1;
            gen_io_add(gen, j, d, 0, GEN_T0 + GEN_SPAN, GEN_T0 + GEN_SPAN);
        }
    }
    free(read_by);
    gen->n_jobs = j;
}

void gen_free(struct gen *gen)
{
    free(gen->ds_level);
    free(gen->ds_fields);
    free(gen->ds_readers);
    free(gen->io);
    free(gen->col);
}

/* ---- comparison starts and result rows ---- */

const char *gen_class_name(enum gen_class c)
{
    static const char *const names[GEN_CLASSES] = {"hub", "typical", "leaf"};

    return names[c];
}

const char *gen_question_name(enum gen_question q)
{
    static const char *const names[GEN_QUESTIONS] = {"upstream", "downstream", "lineage"};

    return names[q];
}

static bool class_has(const struct gen *gen, enum gen_class c, uint32_t d)
{
    unsigned l = gen->ds_level[d];

    if (c == GEN_HUB)
        return d < GEN_HUBS;
    if (d < GEN_HUBS)
        return false;
    if (c == GEN_TYPICAL)
        return l >= GEN_LEVELS / 4 && l <= 3 * GEN_LEVELS / 4 && gen->ds_readers[d] >= 1 &&
               gen->ds_readers[d] <= 10;
    return l >= 3 * GEN_LEVELS / 4 && gen->ds_readers[d] == 0;
}

size_t gen_pick(const struct gen *gen, enum gen_class c, uint32_t *out, size_t max)
{
    size_t eligible = 0, step, n = 0, k = 0;

    for (uint32_t d = 0; d < gen->n_ds; d++)
        eligible += class_has(gen, c, d);
    step = eligible / (max == 0 ? 1 : max) + 1;
    for (uint32_t d = 0; d < gen->n_ds && n < max; d++) {
        if (class_has(gen, c, d) && k++ % step == 0)
            out[n++] = d;
    }
    return n;
}

uint32_t gen_marquez_job(const struct gen *gen, uint32_t d)
{
    const struct gen_io *best = NULL;

    for (size_t i = 0; i < gen->n_io; i++) {
        const struct gen_io *x = &gen->io[i];
        if (x->dataset != d)
            continue;
        if (best == NULL || x->output > best->output ||
            (x->output == best->output &&
             (x->last > best->last || (x->last == best->last && x->job < best->job))))
            best = x;
    }
    return best == NULL ? UINT32_MAX : best->job;
}

void gen_write_runs(FILE *f, const char *side, enum gen_question q, enum gen_class c, size_t cap,
                    const uint64_t *ns, const size_t *nodes, size_t runs, size_t n_starts)
{
    for (size_t i = 0; i < runs; i++) {
        fprintf(f, "%s\t%s\t%s\t%zu\t%zu\t", side, gen_question_name(q), gen_class_name(c), cap,
                i % n_starts);
        if (ns[i] == UINT64_MAX)
            fprintf(f, "-1\t%zu\n", nodes[i]);
        else
            fprintf(f, "%" PRIu64 "\t%zu\n", ns[i], nodes[i]);
    }
    if (fflush(f) != 0 || ferror(f))
        gen_die("cannot write results: %s", strerror(errno));
}

void gen_write_starts(const struct gen *gen, const char *path)
{
    FILE *f = fopen(path, "w");
    uint32_t ids[GEN_CMP_STARTS];
    char name[128];

    if (f == NULL)
        gen_die("cannot write \"%s\": %s", path, strerror(errno));
    for (int c = 0; c < GEN_CLASSES; c++) {
        size_t n = gen_pick(gen, (enum gen_class)c, ids, GEN_CMP_STARTS);
        for (size_t i = 0; i < n; i++) {
            uint32_t job = gen_marquez_job(gen, ids[i]);
            gen_dataset_name(gen, ids[i], name, sizeof name);
            fprintf(f, "%s\tdataset:%s:%s\t", gen_class_name((enum gen_class)c), gen_dataset_ns(gen, ids[i]),
                    name);
            if (job != UINT32_MAX) {
                gen_job_name(job, name, sizeof name);
                fprintf(f, "job:%s:%s", gen_job_ns(job), name);
            }
            fputc('\n', f);
        }
    }
    if (ferror(f) || fclose(f) != 0)
        gen_die("cannot write \"%s\": %s", path, strerror(errno));
}

/* ---- the edge list as CSV ---- */

static void iso_time(uint32_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static FILE *csv_open(const char *dir, const char *file, const char *header)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, file);
    f = fopen(path, "w");
    if (f == NULL)
        gen_die("cannot write \"%s\": %s", path, strerror(errno));
    fprintf(f, "%s\n", header);
    return f;
}

static void csv_close(FILE *f, const char *file)
{
    if (ferror(f) || fclose(f) != 0)
        gen_die("cannot write \"%s\": %s", file, strerror(errno));
}

void gen_write_csv(const struct gen *gen, const char *dir)
{
    char name[128], a[32], b[32];
    FILE *f;

    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        gen_die("cannot create \"%s\": %s", dir, strerror(errno));
    f = csv_open(dir, "datasets.csv", "id,namespace,name");
    for (uint32_t d = 0; d < gen->n_ds; d++) {
        gen_dataset_name(gen, d, name, sizeof name);
        fprintf(f, "%" PRIu32 ",%s,%s\n", d, gen_dataset_ns(gen, d), name);
    }
    csv_close(f, "datasets.csv");
    f = csv_open(dir, "jobs.csv", "id,namespace,name");
    for (uint32_t j = 0; j < gen->n_jobs; j++) {
        gen_job_name(j, name, sizeof name);
        fprintf(f, "%" PRIu32 ",%s,%s\n", j, gen_job_ns(j), name);
    }
    csv_close(f, "jobs.csv");
    f = csv_open(dir, "job_io.csv", "job_id,dataset_id,io_type,first_seen,last_seen");
    for (size_t i = 0; i < gen->n_io; i++) {
        const struct gen_io *x = &gen->io[i];
        iso_time(x->first, a, sizeof a);
        iso_time(x->last, b, sizeof b);
        fprintf(f, "%" PRIu32 ",%" PRIu32 ",%s,%s,%s\n", x->job, x->dataset, x->output ? "OUTPUT" : "INPUT", a, b);
    }
    csv_close(f, "job_io.csv");
    f = csv_open(dir, "dataset_fields.csv", "dataset_id,field");
    for (uint32_t d = 0; d < gen->n_ds; d++) {
        for (unsigned k = 0; k < gen->ds_fields[d]; k++) {
            gen_field_name(k, name, sizeof name);
            fprintf(f, "%" PRIu32 ",%s\n", d, name);
        }
    }
    csv_close(f, "dataset_fields.csv");
    f = csv_open(dir, "column_lineage.csv",
                 "output_dataset_id,output_field,input_dataset_id,input_field,first_seen,last_seen");
    for (size_t i = 0; i < gen->n_col; i++) {
        const struct gen_col *c = &gen->col[i];
        char fo[32], fi[32];
        gen_field_name(c->out_field, fo, sizeof fo);
        gen_field_name(c->in_field, fi, sizeof fi);
        iso_time(c->first, a, sizeof a);
        iso_time(c->last, b, sizeof b);
        fprintf(f, "%" PRIu32 ",%s,%" PRIu32 ",%s,%s,%s\n", c->out_ds, fo, c->in_ds, fi, a, b);
    }
    csv_close(f, "column_lineage.csv");
}
