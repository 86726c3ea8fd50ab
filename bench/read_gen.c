/* bench/read_gen.c - the read benchmark's store generator (the model is described in read_gen.h).
 *
 * Invariants:
 *  1. Everything is a function of (seed, ids): run times, states, UUIDs and versions are hashes, so
 *     the loader can ask for any of them in any order and get the same answer, and equal arguments to
 *     rgen_build give equal rows.
 *  2. A job's runs do not overlap: run k ends before run k + 1 is scheduled.
 *  3. runs[] is ordered by (start, job, k) and events[] by (time, run, terminal), so seq numbers follow
 *     event time, as they follow arrival in a live store.
 * Ownership: rgen_free releases every array; the lineage part is graph_gen's (gen_free).
 * Threads: single-threaded. */
#include "read_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    HOURLY_PER_MILLE = 3,
    DAILY_PER_MILLE = 200,
    FAILED_PER_MILLE = 30,
    ABORTED_PER_MILLE = 5,
    MAX_JITTER_S = 120,
    MIN_DURATION_S = 30,
    MAX_DURATION_S = 1800,
    CURRENT_LOOKBACK = 64, /* runs searched back for a COMPLETED one */
};

/* Shares of the run target, per mille: hourly and daily jobs; rare jobs take what is left. */
static const unsigned HOURLY_RUNS_PER_MILLE = 263, DAILY_RUNS_PER_MILLE = 730;

enum hash_tag { H_CLASS = 1, H_OFFSET, H_JITTER, H_DURATION, H_STATE, H_RUN, H_VERSION, H_FIRST, H_CATALOG,
                H_JOBVER, H_CREATED };

/* Catalog datasets: 60% in the warehouse, 25% in BigQuery, 15% raw files (the first share of each). */
static const struct {
    const char *ns;
    unsigned per_cent;
} CATALOG_NS[] = {{"snowflake://acme.eu-west-1", 60}, {"bigquery://acme-analytics", 85}, {"s3://acme-raw", 100}};
static const char *const CATALOG_SCHEMAS[] = {"archive", "landing", "sandbox", "exports"};
static const char *const CATALOG_TABLES[] = {"orders", "customers", "events", "sessions", "payments",
                                             "refunds", "products", "inventory", "shipments", "invoices",
                                             "accounts", "visits", "clicks", "campaigns", "tickets"};

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rgen_hash(const struct rgen *r, uint64_t tag, uint64_t a, uint64_t b)
{
    return mix(r->seed ^ mix(tag ^ mix(a ^ mix(b))));
}

/* A version 4 UUID from two hashes. */
static void uuid_from(uint64_t hi, uint64_t lo, uint8_t out[16])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(hi >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

/* ---- datasets ---- */

const char *rgen_dataset_ns(const struct rgen *r, uint32_t d)
{
    if (d < r->g.n_ds)
        return gen_dataset_ns(&r->g, d);
    unsigned p = (unsigned)(rgen_hash(r, H_CATALOG, d, 0) % 100);
    size_t i = 0;
    while (p >= CATALOG_NS[i].per_cent)
        i++;
    return CATALOG_NS[i].ns;
}

void rgen_dataset_name(const struct rgen *r, uint32_t d, char *buf, size_t cap)
{
    if (d < r->g.n_ds) {
        gen_dataset_name(&r->g, d, buf, cap);
        return;
    }
    uint64_t h = rgen_hash(r, H_CATALOG, d, 1);
    size_t ns = sizeof CATALOG_SCHEMAS / sizeof CATALOG_SCHEMAS[0];
    size_t nt = sizeof CATALOG_TABLES / sizeof CATALOG_TABLES[0];
    snprintf(buf, cap, "%s.%s_%u", CATALOG_SCHEMAS[h % ns], CATALOG_TABLES[(h >> 8) % nt], (unsigned)d);
}

unsigned rgen_dataset_fields(const struct rgen *r, uint32_t d)
{
    return d < r->g.n_ds ? r->g.ds_fields[d] : 3 + (unsigned)(rgen_hash(r, H_CATALOG, d, 2) % 7);
}

uint32_t rgen_dataset_created(const struct rgen *r, uint32_t d)
{
    /* lineage datasets exist before the year of runs; catalog ones appear throughout it */
    if (d < r->g.n_ds)
        return r->t0 - 86400 + (uint32_t)(rgen_hash(r, H_CREATED, d, 0) % 86400);
    return r->t0 + (uint32_t)(rgen_hash(r, H_CREATED, d, 0) % (r->now - r->t0));
}

/* ---- runs ---- */

enum rgen_class rgen_job_class(const struct rgen *r, uint32_t j)
{
    unsigned p = (unsigned)(rgen_hash(r, H_CLASS, j, 0) % 1000);

    if (j + 3 >= r->g.n_jobs) /* graph_gen's catalog jobs read thousands of datasets: rare */
        return RGEN_RARE;
    return p < HOURLY_PER_MILLE ? RGEN_HOURLY : p < HOURLY_PER_MILLE + DAILY_PER_MILLE ? RGEN_DAILY : RGEN_RARE;
}

static uint32_t interval_of(const struct rgen *r, uint32_t j)
{
    return (r->now - r->t0) / r->job_runs[j];
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

void rgen_run_times(const struct rgen *r, uint32_t j, uint32_t k, uint32_t *start, uint32_t *end,
                    enum rgen_state *state)
{
    uint32_t iv = interval_of(r, j);
    uint32_t sched = r->t0 + k * iv + (uint32_t)(rgen_hash(r, H_OFFSET, j, 0) % iv);
    uint32_t jitter = (uint32_t)(rgen_hash(r, H_JITTER, j, k) % (min_u32(MAX_JITTER_S, iv / 10) + 1));
    uint32_t dur = MIN_DURATION_S + (uint32_t)(rgen_hash(r, H_DURATION, j, k) % min_u32(MAX_DURATION_S, iv / 4 + 1));
    unsigned p = (unsigned)(rgen_hash(r, H_STATE, j, k) % 1000);

    *start = sched + jitter;
    *end = *start + dur;
    *state = p < FAILED_PER_MILLE ? RGEN_FAILED : p < FAILED_PER_MILLE + ABORTED_PER_MILLE ? RGEN_ABORTED
                                                                                           : RGEN_COMPLETED;
    if (*end >= r->now) {
        *end = 0;
        *state = RGEN_RUNNING;
    }
}

void rgen_run_uuid(const struct rgen *r, uint32_t j, uint32_t k, uint8_t out[16])
{
    uuid_from(rgen_hash(r, H_RUN, j, k), rgen_hash(r, H_RUN, k, j), out);
}

void rgen_output_version(const struct rgen *r, uint32_t j, uint32_t k, uint32_t d, uint8_t out[16])
{
    uint64_t jk = (uint64_t)j << 32 | k;
    uuid_from(rgen_hash(r, H_VERSION, jk, d), rgen_hash(r, H_VERSION, d, jk), out);
}

void rgen_first_version(const struct rgen *r, uint32_t d, uint8_t out[16])
{
    uuid_from(rgen_hash(r, H_FIRST, d, 0), rgen_hash(r, H_FIRST, d, 1), out);
}

void rgen_job_version(const struct rgen *r, uint32_t j, uint8_t out[16])
{
    uuid_from(rgen_hash(r, H_JOBVER, j, 0), rgen_hash(r, H_JOBVER, j, 1), out);
}

void rgen_read_version(const struct rgen *r, uint32_t d, uint32_t t, uint8_t out[16])
{
    uint32_t w = d < r->g.n_ds ? r->writer[d] : RGEN_NONE, start, end;
    enum rgen_state st;

    if (w != RGEN_NONE && r->job_runs[w] > 0 && t > r->t0) {
        int64_t k = (int64_t)((t - r->t0) / interval_of(r, w));
        if (k >= (int64_t)r->job_runs[w])
            k = (int64_t)r->job_runs[w] - 1;
        for (; k >= 0; k--) {
            rgen_run_times(r, w, (uint32_t)k, &start, &end, &st);
            if (end != 0 && end <= t) {
                rgen_output_version(r, w, (uint32_t)k, d, out);
                return;
            }
        }
    }
    rgen_first_version(r, d, out);
}

void rgen_current_version(const struct rgen *r, uint32_t d, uint8_t out[16], uint32_t *created)
{
    uint32_t w = d < r->g.n_ds ? r->writer[d] : RGEN_NONE, start, end;
    enum rgen_state st;

    for (uint32_t i = 0; w != RGEN_NONE && i < CURRENT_LOOKBACK && i < r->job_runs[w]; i++) {
        uint32_t k = r->job_runs[w] - 1 - i;
        rgen_run_times(r, w, k, &start, &end, &st);
        if (st == RGEN_COMPLETED) {
            rgen_output_version(r, w, k, d, out);
            *created = start;
            return;
        }
    }
    rgen_first_version(r, d, out);
    *created = rgen_dataset_created(r, d);
}

uint32_t rgen_last_ended(const struct rgen *r, uint32_t j)
{
    uint32_t start, end;
    enum rgen_state st;

    for (uint32_t k = r->job_runs[j]; k-- > 0;) {
        rgen_run_times(r, j, k, &start, &end, &st);
        if (st != RGEN_RUNNING)
            return k;
    }
    return RGEN_NONE;
}

/* ---- building ---- */

static void assign_runs(struct rgen *r, uint64_t target)
{
    uint32_t n = r->g.n_jobs, n_class[3] = {0, 0, 0};

    for (uint32_t j = 0; j < n; j++)
        n_class[rgen_job_class(r, j)]++;
    uint64_t per_h = n_class[RGEN_HOURLY] ? target * HOURLY_RUNS_PER_MILLE / 1000 / n_class[RGEN_HOURLY] : 0;
    uint64_t per_d = n_class[RGEN_DAILY] ? target * DAILY_RUNS_PER_MILLE / 1000 / n_class[RGEN_DAILY] : 0;
    uint64_t used = per_h * n_class[RGEN_HOURLY] + per_d * n_class[RGEN_DAILY];
    uint64_t rest = target > used ? target - used : 0, rare = n_class[RGEN_RARE] ? n_class[RGEN_RARE] : 1;
    uint32_t i = 0;

    for (uint32_t j = 0; j < n; j++) {
        enum rgen_class c = rgen_job_class(r, j);
        if (c == RGEN_HOURLY)
            r->job_runs[j] = (uint32_t)(per_h ? per_h : 1);
        else if (c == RGEN_DAILY)
            r->job_runs[j] = (uint32_t)(per_d ? per_d : 1);
        else
            r->job_runs[j] = (uint32_t)(rest / rare + (i++ < rest % rare));
    }
}

static void index_io(struct rgen *r)
{
    size_t i = 0;

    r->io_first = gen_xcalloc((size_t)r->g.n_jobs + 1, sizeof *r->io_first);
    r->writer = gen_xcalloc(r->g.n_ds, sizeof *r->writer);
    for (uint32_t d = 0; d < r->g.n_ds; d++)
        r->writer[d] = RGEN_NONE;
    for (size_t x = 1; x < r->g.n_io; x++)
        if (r->g.io[x - 1].job > r->g.io[x].job)
            gen_die("graph_gen's job_io rows are not grouped by job");
    for (uint32_t j = 0; j <= r->g.n_jobs; j++) {
        while (i < r->g.n_io && r->g.io[i].job < j)
            i++;
        r->io_first[j] = (uint32_t)i;
    }
    for (size_t x = r->g.n_io; x-- > 0;) /* the first writer of each dataset */
        if (r->g.io[x].output)
            r->writer[r->g.io[x].dataset] = r->g.io[x].job;
}

static int cmp_run(const void *a, const void *b)
{
    const struct rgen_run *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->job != y->job)
        return x->job < y->job ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

static int cmp_event(const void *a, const void *b)
{
    const struct rgen_event *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static void build_runs(struct rgen *r)
{
    size_t n = 0, m = 0;

    for (uint32_t j = 0; j < r->g.n_jobs; j++)
        n += r->job_runs[j];
    r->runs = gen_xcalloc(n, sizeof *r->runs);
    for (uint32_t j = 0; j < r->g.n_jobs; j++) {
        for (uint32_t k = 0; k < r->job_runs[j]; k++) {
            struct rgen_run *x = &r->runs[m++];
            enum rgen_state st;
            x->job = j;
            x->k = k;
            rgen_run_times(r, j, k, &x->start, &x->end, &st);
            x->state = (uint8_t)st;
        }
    }
    r->n_runs = n;
    qsort(r->runs, n, sizeof *r->runs, cmp_run);
    r->events = gen_xcalloc(2 * n, sizeof *r->events);
    for (size_t i = 0; i < n; i++) {
        r->events[r->n_events++] = (struct rgen_event){r->runs[i].start, (uint32_t)(i << 1)};
        if (r->runs[i].end != 0)
            r->events[r->n_events++] = (struct rgen_event){r->runs[i].end, (uint32_t)(i << 1 | 1)};
    }
    qsort(r->events, r->n_events, sizeof *r->events, cmp_event);
    for (size_t i = 0; i < r->n_events; i++) {
        struct rgen_run *x = &r->runs[r->events[i].ref >> 1];
        if (r->events[i].ref & 1)
            x->seq_end = (uint32_t)(i + 1);
        else
            x->seq_start = (uint32_t)(i + 1);
    }
}

void rgen_build(struct rgen *r, uint32_t jobs, uint32_t datasets, uint64_t runs, uint64_t seed, uint32_t now)
{
    memset(r, 0, sizeof *r);
    r->seed = seed;
    r->now = now;
    r->t0 = now - RGEN_SPAN;
    if (2 * runs >= UINT32_MAX)
        gen_die("at most %u runs", UINT32_MAX / 2 - 1);
    gen_build(&r->g, jobs, seed);
    r->n_ds = datasets > r->g.n_ds ? datasets : r->g.n_ds;
    r->job_runs = gen_xcalloc(r->g.n_jobs, sizeof *r->job_runs);
    assign_runs(r, runs);
    index_io(r);
    build_runs(r);
}

void rgen_free(struct rgen *r)
{
    gen_free(&r->g);
    free(r->job_runs);
    free(r->io_first);
    free(r->writer);
    free(r->runs);
    free(r->events);
}
