/* bench/search.c - bench_search: GET /api/v1/search's query (store_read_search, the statement the server
 * runs) at warehouse size, with the search indexes of migrations/0008_ml_lineage.sql and without them.
 *
 *   bench_search --db CONNINFO [--setup] [--runs N] [--baseline-runs N] [--budget-s S]
 *
 * --setup   once, on a database bench_graph_db --load filled (139,000 datasets, 87,000 jobs, their
 *           fields): gives every dataset and job a description, owners and labels, and some datasets a
 *           Marquez tag, a feature column "credit_score" or "churn" in the description, deterministically
 *           by id (the generator writes none of these); then VACUUM ANALYZE.
 * Then each query of QUERIES runs --runs times (default 50) through store_read_search, the answer's size
 * checked the same every time; then the search indexes (trigram and name order) are dropped (the database is
 * the benchmark's own) and each query runs --baseline-runs times (default 10) or until --budget-s (default
 * 20) seconds went by; the results must match. One line per query: p50 and p99 in ms with and without the
 * indexes.
 *
 * Invariants:
 *  1. Both sides run the same prepared statement on the same data; only the indexes differ.
 *  2. SQL text here is fixed (setup and DROP INDEX); search values go through store_read_search.
 * Ownership: every PGresult is cleared where it is made; the store and arena are freed before exit.
 * Threads: single-threaded. Output: the table on stdout, progress on stderr. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "err.h"
#include "store.h"
#include "store_read.h"

enum { DEFAULT_RUNS = 50, DEFAULT_BASELINE_RUNS = 10, DEFAULT_BUDGET_S = 20, MAX_RUNS = 1000 };

enum {
    IN_NAME = STORE_SEARCH_NAME,
    IN_ALL = STORE_SEARCH_NAME | STORE_SEARCH_FIELDS | STORE_SEARCH_DESCRIPTION | STORE_SEARCH_TAGS |
             STORE_SEARCH_OWNERS,
};

static const struct query {
    const char *label, *q;
    unsigned in;
} QUERIES[] = {
    {"name (Marquez's search)", "orders_1234", IN_NAME},
    {"name, all places", "orders_1234", IN_ALL},
    {"feature column", "credit_score", IN_ALL},
    {"description word", "churn", STORE_SEARCH_DESCRIPTION},
    {"owner", "risk-17", STORE_SEARCH_OWNERS},
    {"label", "gold", STORE_SEARCH_TAGS},
    {"job name", "dag_1234.task_7", IN_ALL},
    {"broad: 1/16 of names", "payments", IN_NAME},
    {"broad, all places", "payments", IN_ALL},
    {"two letters (no trigram)", "zq", IN_NAME},
};
enum { N_QUERIES = sizeof QUERIES / sizeof QUERIES[0] };

static const char *const SETUP[] = {
    "UPDATE datasets SET description = 'Daily ' || split_part(name, '.', 2) || ' table of the '"
    " || (ARRAY['finance', 'growth', 'risk', 'ops', 'marketing'])[1 + id % 5] || ' domain, built by task '"
    " || (id % 997) || CASE WHEN id % 701 = 0 THEN ', input of the churn model' ELSE '' END,"
    " owners = ARRAY['team:' || (ARRAY['finance', 'growth', 'risk', 'ops', 'marketing'])[1 + id % 5] || '-'"
    " || (id % 50), 'user:u' || (id % 4000) || '@acme.io'],"
    " labels = CASE WHEN id % 3 = 0 THEN ARRAY['tier', 'tier:' || (ARRAY['gold', 'silver', 'bronze'])[1 + id "
    "% 9 / 3],"
    " 'domain:' || (ARRAY['finance', 'growth', 'risk', 'ops', 'marketing'])[1 + id % 5]] END",
    "UPDATE jobs SET description = 'Task ' || name || ' of the nightly batch', owners = ARRAY['team:'"
    " || (ARRAY['finance', 'growth', 'risk', 'ops', 'marketing'])[1 + id % 5] || '-' || (id % 50)]",
    "INSERT INTO dataset_fields (dataset_id, name, type, ordinal, updated_at)"
    " SELECT id, 'credit_score', 'INT', 99, now() FROM datasets WHERE id % 4999 = 0",
    "INSERT INTO tags (name) VALUES ('PII'), ('GDPR') ON CONFLICT DO NOTHING",
    "INSERT INTO dataset_tags (dataset_id, tag) SELECT id, CASE WHEN id % 2 = 0 THEN 'PII' ELSE 'GDPR' END"
    " FROM datasets WHERE id % 97 = 0 ON CONFLICT DO NOTHING",
    "VACUUM (ANALYZE) datasets, jobs, dataset_fields, dataset_tags, tags, dataset_symlinks",
};

static const char DROP_INDEXES[] =
    "DROP INDEX datasets_name, jobs_name, datasets_name_trgm, datasets_alias_name_trgm, "
    "datasets_description_trgm,"
    " datasets_owners_trgm, datasets_labels_trgm, dataset_symlinks_name_trgm, dataset_fields_name_trgm,"
    " jobs_name_trgm, jobs_alias_name_trgm, jobs_description_trgm, jobs_owners_trgm, jobs_labels_trgm,"
    " tags_name_trgm";

static void die(const char *fmt, const char *detail)
{
    fprintf(stderr, "bench_search: ");
    fprintf(stderr, fmt, detail);
    fputc('\n', stderr);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void exec_or_die(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        die("statement failed: %s", PQresultErrorMessage(res));
    PQclear(res);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted samples, in ms. */
static double pct_ms(const uint64_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    return sorted[rank == 0 ? 0 : rank - 1] / 1e6;
}

struct side {
    double p50, p99;
    size_t runs;
    char *answer; /* the first answer, to compare (malloc'd) */
};

/* Runs query q up to runs times (and at least once), stopping after budget_ns; fills *out. */
static void measure(struct store *s, const struct query *q, size_t runs, uint64_t budget_ns, struct side *out)
{
    uint64_t ns[MAX_RUNS], start = now_ns();
    struct err e;

    out->runs = 0;
    out->answer = NULL;
    while (out->runs < runs && (out->runs == 0 || now_ns() - start < budget_ns)) {
        struct arena *a = arena_new();
        struct store_search sq = {.q = q->q, .sort = "name", .limit = 10, .in = q->in};
        const char *json;
        uint64_t t = now_ns();
        if (store_read_search(s, a, &sq, &json, &e) != 0)
            die("search failed: %s", e.detail[0] ? e.detail : e.msg);
        ns[out->runs++] = now_ns() - t;
        if (out->answer == NULL)
            out->answer = strdup(json);
        else if (strcmp(out->answer, json) != 0)
            die("the answer changed between runs of \"%s\"", q->q);
        arena_free(a);
    }
    qsort(ns, out->runs, sizeof ns[0], cmp_u64);
    out->p50 = pct_ms(ns, out->runs, 50);
    out->p99 = pct_ms(ns, out->runs, 99);
}

/* totalCount of an answer ({"totalCount":N,...}), for the table. */
static long total_count(const char *json)
{
    const char *p = strstr(json, "\"totalCount\":");
    return p ? strtol(p + 13, NULL, 10) : -1;
}

struct options {
    const char *conninfo;
    bool setup;
    long runs, baseline_runs, budget_s;
};

static void parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){NULL, false, DEFAULT_RUNS, DEFAULT_BASELINE_RUNS, DEFAULT_BUDGET_S};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            o->conninfo = argv[++i];
        else if (strcmp(argv[i], "--setup") == 0)
            o->setup = true;
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            o->runs = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--baseline-runs") == 0 && i + 1 < argc)
            o->baseline_runs = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--budget-s") == 0 && i + 1 < argc)
            o->budget_s = strtol(argv[++i], NULL, 10);
        else
            die("unknown or incomplete option %s (see bench/search.c)", argv[i]);
    }
    if (o->conninfo == NULL || o->runs < 1 || o->runs > MAX_RUNS || o->baseline_runs < 1 ||
        o->baseline_runs > MAX_RUNS || o->budget_s < 1)
        die("usage: bench_search --db CONNINFO [--setup] [--runs 1..1000] [--baseline-runs 1..1000] "
            "[--budget-s S]%s",
            "");
}

static void print_table(const struct options *o, struct side *with, struct side *without)
{
    static const char *const places[] = {"name", "fields", "description", "tags", "owners"};

    printf("%-26s %-17s %-12s %7s %8s %8s %10s %10s %8s\n", "query", "q", "in", "results", "p50 ms", "p99 ms",
           "noidx p50", "noidx p99", "x p50");
    for (size_t i = 0; i < N_QUERIES; i++) {
        const struct query *q = &QUERIES[i];
        char in[64] = "";
        for (int k = 0; k < 5 && q->in != IN_ALL; k++)
            if (q->in & (1u << k))
                snprintf(in + strlen(in), sizeof in - strlen(in), "%s%s", in[0] ? "," : "", places[k]);
        if (q->in == IN_ALL)
            snprintf(in, sizeof in, "all five");
        printf("%-26s %-17s %-12s %7ld %8.2f %8.2f %10.1f %10.1f %7.0fx\n", q->label, q->q, in,
               total_count(with[i].answer), with[i].p50, with[i].p99, without[i].p50, without[i].p99,
               without[i].p50 / with[i].p50);
    }
    printf("runs: %ld per query with the indexes, up to %ld (%ld s budget) without; results = totalCount "
           "(at most limit=10)\n",
           o->runs, o->baseline_runs, o->budget_s);
}

int main(int argc, char **argv)
{
    struct options o;
    struct side with[N_QUERIES], without[N_QUERIES];
    struct err e;

    parse_args(argc, argv, &o);
    PGconn *c = PQconnectdb(o.conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        die("cannot connect: %s", PQerrorMessage(c));
    for (size_t i = 0; o.setup && i < sizeof SETUP / sizeof SETUP[0]; i++) {
        fprintf(stderr, "setup %zu/%zu\n", i + 1, sizeof SETUP / sizeof SETUP[0]);
        exec_or_die(c, SETUP[i]);
    }
    struct store *s = store_connect(o.conninfo, &e);
    if (s == NULL)
        die("cannot connect: %s", e.detail);
    for (size_t i = 0; i < N_QUERIES; i++) {
        fprintf(stderr, "with indexes: %s\n", QUERIES[i].label);
        measure(s, &QUERIES[i], (size_t)o.runs, UINT64_MAX, &with[i]);
    }
    exec_or_die(c, DROP_INDEXES);
    exec_or_die(c, "ANALYZE datasets, jobs, dataset_fields, dataset_symlinks, tags");
    for (size_t i = 0; i < N_QUERIES; i++) {
        fprintf(stderr, "without indexes: %s\n", QUERIES[i].label);
        measure(s, &QUERIES[i], (size_t)o.baseline_runs, (uint64_t)o.budget_s * 1000000000u, &without[i]);
        if (strcmp(with[i].answer, without[i].answer) != 0)
            die("the answers with and without the indexes differ for \"%s\"", QUERIES[i].q);
    }
    print_table(&o, with, without);
    for (size_t i = 0; i < N_QUERIES; i++) {
        free(with[i].answer);
        free(without[i].answer);
    }
    store_free(s);
    PQfinish(c);
    return 0;
}
