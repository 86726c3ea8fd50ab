/* bench/read_targets.c - the requests bench/run_read.py times, per route, for the store read_gen.c
 * makes: "route <TAB> path" lines (paths percent-encoded, as Marquez's clients send them).
 *
 * Invariants:
 *  1. Each route gets several targets spread over the store (hourly, daily and rare jobs; lineage and
 *     catalog datasets; runs over the whole year), so no answer is a single cached row.
 *  2. "offset" routes page half-way into their list (the deepest page a client paging through the
 *     whole list reaches on average).
 *  3. Only visible objects are named: a hidden job or dataset answers 404, not the route's work.
 * Ownership: nothing kept. Threads: single-threaded. */
#include <stdio.h>
#include <string.h>

#include "read_copy.h"
#include "read_gen.h"
#include "read_targets.h"

enum { PICKS = 10, NAME_MAX_LEN = 160, URL_MAX = 1024, DS_NAMESPACES = 4, JOB_NAMESPACES = 3 };

static const char *const SEARCHES[] = {"orders", "a", "task_1", "sessions_12"};
static const char *const ZONES[] = {"UTC", "Asia/Kolkata", "America/New_York"};

/* s percent-encoded (everything but RFC 3986 unreserved characters) into out. */
static const char *enc(const char *s, char *out, size_t cap)
{
    static const char HEX[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s != '\0' && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = HEX[c >> 4];
            out[n++] = HEX[c & 15];
        }
    }
    out[n] = '\0';
    return out;
}

static void job_path(FILE *f, const char *route, uint32_t j, const char *tail)
{
    char name[NAME_MAX_LEN], a[URL_MAX], b[URL_MAX];

    gen_job_name(j, name, sizeof name);
    fprintf(f, "%s\t/api/v1/namespaces/%s/jobs/%s%s\n", route, enc(gen_job_ns(j), a, sizeof a),
            enc(name, b, sizeof b), tail);
}

static void dataset_path(FILE *f, const struct rgen *r, const char *route, uint32_t d, const char *tail)
{
    char name[NAME_MAX_LEN], a[URL_MAX], b[URL_MAX];

    rgen_dataset_name(r, d, name, sizeof name);
    fprintf(f, "%s\t/api/v1/namespaces/%s/datasets/%s%s\n", route, enc(rgen_dataset_ns(r, d), a, sizeof a),
            enc(name, b, sizeof b), tail);
}

/* Up to PICKS visible jobs of class c that ran, spread over the job ids; returns how many. */
static size_t pick_jobs(const struct rgen *r, enum rgen_class c, uint32_t *out)
{
    size_t n = 0, eligible = 0, step, k = 0;

    for (uint32_t j = 0; j < r->g.n_jobs; j++)
        eligible += rgen_job_class(r, j) == c && r->job_runs[j] > 0;
    step = eligible / PICKS + 1;
    for (uint32_t j = 0; j < r->g.n_jobs && n < PICKS; j++) {
        if (rgen_job_class(r, j) != c || r->job_runs[j] == 0 || read_copy_hidden(r, READ_COPY_TAG_HIDDEN_JOB, j))
            continue;
        if (k++ % step == 0)
            out[n++] = j;
    }
    return n;
}

/* A visible dataset job j writes first (its versions are j's runs), or RGEN_NONE. */
static uint32_t written_by(const struct rgen *r, uint32_t j)
{
    for (uint32_t k = r->io_first[j]; k < r->io_first[j + 1]; k++) {
        uint32_t d = r->g.io[k].dataset;
        if (r->g.io[k].output && r->writer[d] == j && !read_copy_hidden(r, READ_COPY_TAG_HIDDEN_DATASET, d))
            return d;
    }
    return RGEN_NONE;
}

static void write_jobs(FILE *f, const struct rgen *r)
{
    static const enum rgen_class CLASSES[] = {RGEN_HOURLY, RGEN_DAILY, RGEN_RARE};
    uint32_t picks[PICKS];
    char tail[64];

    for (size_t c = 0; c < 3; c++) {
        size_t n = pick_jobs(r, CLASSES[c], picks);
        for (size_t i = 0; i < n; i++) {
            uint32_t j = picks[i], d = written_by(r, j);
            job_path(f, "job", j, "");
            if (CLASSES[c] == RGEN_RARE)
                continue;
            job_path(f, "job runs", j, "/runs?limit=100");
            if (d != RGEN_NONE)
                dataset_path(f, r, "dataset versions", d, "/versions?limit=100");
            if (CLASSES[c] != RGEN_HOURLY)
                continue;
            snprintf(tail, sizeof tail, "/runs?limit=100&offset=%u", r->job_runs[j] / 2);
            job_path(f, "job runs offset", j, tail);
            snprintf(tail, sizeof tail, "/versions?limit=100&offset=%u", r->job_runs[j] / 2);
            if (d != RGEN_NONE)
                dataset_path(f, r, "dataset versions offset", d, tail);
        }
    }
}

static void write_lists(FILE *f, const struct rgen *r)
{
    uint32_t per_ns[DS_NAMESPACES] = {0};
    const char *ns[DS_NAMESPACES] = {NULL};
    char a[URL_MAX];

    fprintf(f, "jobs\t/api/v1/jobs?limit=100\n");
    fprintf(f, "jobs offset\t/api/v1/jobs?limit=100&offset=%u\n", r->g.n_jobs / 2);
    fprintf(f, "jobs lastRunStates\t/api/v1/jobs?lastRunStates=FAILED&limit=100\n");
    fprintf(f, "jobs lastRunStates\t/api/v1/jobs?lastRunStates=RUNNING&lastRunStates=ABORTED&limit=100\n");
    for (uint32_t j = 0; j < JOB_NAMESPACES && j < r->g.n_jobs; j++) {
        fprintf(f, "ns jobs\t/api/v1/namespaces/%s/jobs?limit=100\n", enc(gen_job_ns(j), a, sizeof a));
        fprintf(f, "ns jobs offset\t/api/v1/namespaces/%s/jobs?limit=100&offset=%u\n", a,
                r->g.n_jobs / JOB_NAMESPACES / 2);
    }
    for (uint32_t d = 0; d < r->n_ds; d++) { /* namespaces in order of first appearance, with sizes */
        const char *x = rgen_dataset_ns(r, d);
        size_t i = 0;
        while (i < DS_NAMESPACES && ns[i] != NULL && strcmp(ns[i], x) != 0)
            i++;
        if (i == DS_NAMESPACES)
            gen_die("more than %d dataset namespaces", DS_NAMESPACES);
        ns[i] = x;
        per_ns[i]++;
    }
    for (size_t i = 0; i < DS_NAMESPACES && ns[i] != NULL; i++) {
        fprintf(f, "ns datasets\t/api/v1/namespaces/%s/datasets?limit=100\n", enc(ns[i], a, sizeof a));
        fprintf(f, "ns datasets offset\t/api/v1/namespaces/%s/datasets?limit=100&offset=%u\n", a, per_ns[i] / 2);
    }
}

static void write_singles(FILE *f, const struct rgen *r)
{
    uint8_t u[16];
    char run[37];

    for (size_t i = 0; i < 2 * PICKS; i++) {
        const struct rgen_run *x = &r->runs[r->n_runs * (i + 1) / (2 * PICKS + 1)];
        rgen_run_uuid(r, x->job, x->k, u);
        pgcopy_uuid_text(u, run);
        fprintf(f, "run\t/api/v1/jobs/runs/%s\n", run);
    }
    for (size_t i = 0, n = 0; n < 2 * PICKS && i < 4 * PICKS; i++) {
        uint32_t d = (uint32_t)((uint64_t)r->n_ds * (2 * i + 1) / (8 * PICKS)); /* lineage and catalog ones */
        if (!read_copy_hidden(r, READ_COPY_TAG_HIDDEN_DATASET, d)) {
            dataset_path(f, r, "dataset", d, "");
            n++;
        }
    }
}

static void write_events(FILE *f, const struct rgen *r)
{
    char lo[32], hi[32];

    fprintf(f, "events\t/api/v1/events/lineage?limit=100\n");
    fprintf(f, "events asc\t/api/v1/events/lineage?limit=100&sortDirection=asc\n");
    fprintf(f, "events offset\t/api/v1/events/lineage?limit=100&offset=%zu\n", r->n_events / 2);
    read_copy_iso(r->now - 30 * 86400, lo);
    read_copy_iso(r->now - 29 * 86400, hi);
    fprintf(f, "events window\t/api/v1/events/lineage?limit=100&after=%s&before=%s\n", lo, hi);
    for (size_t i = 0; i < sizeof SEARCHES / sizeof SEARCHES[0]; i++)
        fprintf(f, "search\t/api/v1/search?q=%s\n", SEARCHES[i]);
    fprintf(f, "stats lineage-events\t/api/v1/stats/lineage-events?period=DAY\n");
    for (size_t i = 0; i < sizeof ZONES / sizeof ZONES[0]; i++)
        fprintf(f, "stats lineage-events\t/api/v1/stats/lineage-events?period=WEEK&timezone=%s\n", ZONES[i]);
    fprintf(f, "stats jobs\t/api/v1/stats/jobs?period=DAY\n");
    fprintf(f, "stats jobs\t/api/v1/stats/jobs?period=WEEK&timezone=UTC\n");
    fprintf(f, "stats datasets\t/api/v1/stats/datasets?period=DAY\n");
    fprintf(f, "stats datasets\t/api/v1/stats/datasets?period=WEEK&timezone=Asia/Kolkata\n");
    fprintf(f, "stats sources\t/api/v1/stats/sources?period=DAY\n");
}

void read_targets_write(const struct rgen *r, const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        gen_die("cannot write \"%s\"", path);
    write_lists(f, r);
    write_jobs(f, r);
    write_singles(f, r);
    write_events(f, r);
    if (ferror(f) || fclose(f) != 0)
        gen_die("cannot write \"%s\"", path);
}
