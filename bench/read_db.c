/* bench/read_db.c - bench_read_db: the read benchmark's store (read_gen.h: 1 M datasets, 100,000 jobs,
 * 10 M runs and their events at --scale 1) bulk-loaded into the real schema, and the requests the
 * benchmark times.
 *
 *   bench_read_db --db CONNINFO [--scale F] [--jobs N] [--datasets N] [--runs N] [--seed S] [--now EPOCH]
 *                 [--load] [--targets FILE]
 *
 * --load      into a database whose schema `lineaged migrate` made and that holds no dataset or job:
 *             the secondary indexes of the loaded tables are dropped, every table is COPYed in one
 *             transaction (foreign-key triggers skipped when the session is a superuser's: the rows
 *             are consistent by construction, read_copy.h), the indexes are built again from their
 *             saved definitions, then VACUUM ANALYZE. The event log gets the weekly partitions a
 *             year of `lineaged serve` would have made (--event-partition-days 7), each holding the
 *             events received that week, and their event times are recorded (event_log_floor); each
 *             event's hash goes into event_hashes (the idempotency key). The
 *             read routes' counters and each job's latest run state are computed once at the end
 *             (read_routes_rebuild, migrations/0010_read_routes.sql), as the triggers were off.
 * --targets   the requests of each route, one per line: "route <TAB> path" (read_targets.c).
 * Sizes: --scale multiplies 100,000 jobs, 1,000,000 datasets and 10,000,000 runs; --jobs, --datasets
 * and --runs set one of them. Load figures go to stdout ("load <step> <seconds> s"), progress to stderr.
 *
 * Invariants:
 *  1. SQL text is fixed; values go in as $n parameters or COPY data (read_copy.h).
 *  2. The schema after the load is the migrated one: the same indexes (by definition) and partitions
 *     that cover every received_at the year could have, contiguous with what maintenance adds later.
 * Ownership: the PGresults are cleared where they are made; the generator is freed before exit.
 * Threads: single-threaded. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgcopy.h"
#include "read_copy.h"
#include "read_gen.h"
#include "read_targets.h"

enum { BASE_JOBS = 100000, BASE_DATASETS = 1000000, BASE_RUNS = 10000000, MAX_INDEXES = 64, PART_DAYS = 7 };

static const char LOADED[] = "{datasets,dataset_fields,dataset_facets,dataset_versions,jobs,job_facets,"
                             "job_versions,job_io,column_lineage,runs,run_io,run_facets,events}";

/* Secondary (not constraint) indexes of the loaded tables, partitioned parents only. */
static const char INDEX_DEFS[] =
    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
    " JOIN pg_class t ON t.oid = i.indrelid"
    " WHERE t.relname = ANY ($1::text[]) AND t.relnamespace = current_schema()::regnamespace"
    "  AND NOT t.relispartition AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
    " ORDER BY 1";

/* The triggers that keep the read routes' counters were off during the COPY (or would have counted
 * row by row): the counters and latest run states are computed once from the tables instead. */
static const char REBUILD[] = "DO $$ BEGIN IF to_regproc('read_routes_rebuild') IS NOT NULL THEN"
                              " PERFORM read_routes_rebuild(); END IF; END $$";

/* The idempotency keys of the loaded events (migrations/0007: event_hashes maps each hash to its
 * events row), so an event sent again after the load is recognised as a duplicate. */
static const char HASHES[] = "INSERT INTO event_hashes (hash, seq, received_at) SELECT hash, seq, received_at FROM events";

/* The kind, owner and label summaries the facet triggers (migrations/0008_ml_lineage.sql) would have
 * written, for the rows whose facets they read (the generator writes none today: this keeps the load
 * right if it does). */
static const char DATASET_SUMMARIES[] =
    "SELECT count(dataset_summary_refresh(id)) FROM (SELECT DISTINCT dataset_id AS id FROM dataset_facets"
    " WHERE lineaged_summary_facet(name)) x";
static const char JOB_SUMMARIES[] = "SELECT count(job_summary_refresh(id)) FROM (SELECT DISTINCT job_id AS id"
                                    " FROM job_facets WHERE lineaged_summary_facet(name)) x";

struct saved_indexes {
    size_t n;
    char *name[MAX_INDEXES], *def[MAX_INDEXES];
};

static double since(uint64_t t0)
{
    return (double)(gen_now_ns() - t0) / 1e9;
}

static int indexes_drop(PGconn *c, struct saved_indexes *s, struct err *e)
{
    const char *params[] = {LOADED};
    PGresult *res = PQexecParams(c, INDEX_DEFS, 1, NULL, params, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) > MAX_INDEXES) {
        err_set_detail(e, ERR_UNAVAILABLE, PQresultErrorMessage(res), "cannot list the indexes");
        PQclear(res);
        return -1;
    }
    s->n = (size_t)PQntuples(res);
    for (size_t i = 0; i < s->n; i++) {
        s->name[i] = strdup(PQgetvalue(res, (int)i, 0));
        s->def[i] = strdup(PQgetvalue(res, (int)i, 1));
        if (s->name[i] == NULL || s->def[i] == NULL)
            gen_die("out of memory");
    }
    PQclear(res);
    for (size_t i = 0; i < s->n; i++) {
        const char *p[] = {s->name[i]};
        if (pgcopy_exec(c, "SELECT set_config('lineaged.bench_index', $1, true)", 1, p, e) != 0 ||
            pgcopy_exec(c, "DO $$ BEGIN EXECUTE format('DROP INDEX %s', current_setting('lineaged.bench_index'));"
                           " END $$", 0, NULL, e) != 0)
            return -1;
    }
    return 0;
}

/* A partitioned table's index definition reads "ON ONLY parent": built from it, the index would cover
 * no partition. Built here on the parent and every partition. */
static int indexes_build(PGconn *c, struct saved_indexes *s, struct err *e)
{
    for (size_t i = 0; i < s->n; i++) {
        uint64_t t = gen_now_ns();
        char *only = strstr(s->def[i], " ON ONLY ");
        if (only != NULL)
            memmove(only + 3, only + 8, strlen(only + 8) + 1);
        if (pgcopy_exec(c, s->def[i], 0, NULL, e) != 0)
            return -1;
        printf("load index %-32s %.1f s\n", s->name[i], since(t));
        fflush(stdout);
    }
    return 0;
}

static void indexes_free(struct saved_indexes *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->name[i]);
        free(s->def[i]);
    }
}

/* The event log as a year of upkeep leaves it: weekly partitions ending where the migration's first
 * partition ended (so maintenance continues from there), back to before the first event, and
 * events_legacy below them. */
static int partitions_make(PGconn *c, const struct rgen *r, struct err *e)
{
    static const char UPPER[] = "SELECT extract(epoch FROM upper_bound)::bigint FROM event_partitions()"
                                " WHERE partition_name = 'events_legacy'";
    long long upper = 0;
    char lo[24], hi[24];

    if (pgcopy_count(c, UPPER, &upper, e) != 0 ||
        pgcopy_exec(c, "ALTER TABLE events DETACH PARTITION events_legacy", 0, NULL, e) != 0 ||
        pgcopy_exec(c, "DROP TABLE events_legacy", 0, NULL, e) != 0)
        return -1;
    for (long long h = upper; h > (long long)r->t0 - PART_DAYS * 86400LL; h -= PART_DAYS * 86400LL) {
        snprintf(lo, sizeof lo, "%lld", h - PART_DAYS * 86400LL);
        snprintf(hi, sizeof hi, "%lld", h);
        const char *p[] = {lo, hi};
        if (pgcopy_exec(c, "SELECT event_partition_add(current_schema(), to_timestamp($1::bigint),"
                           " to_timestamp($2::bigint))", 2, p, e) != 0)
            return -1;
    }
    return pgcopy_exec(c,
                       "DO $$ BEGIN EXECUTE format('CREATE TABLE events_legacy PARTITION OF events"
                       " FOR VALUES FROM (MINVALUE) TO (%L)', (SELECT min(lower_bound) FROM event_partitions()"
                       " WHERE lower_bound IS NOT NULL)); END $$",
                       0, NULL, e);
}

static int copy_all(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    static const struct {
        const char *table;
        read_copy_fn *fn;
    } steps[] = {{"datasets", read_copy_datasets},         {"dataset_fields", read_copy_fields},
                 {"dataset_facets", read_copy_dataset_facets}, {"dataset_versions", read_copy_versions},
                 {"jobs", read_copy_jobs},                 {"job_facets", read_copy_job_facets},
                 {"job_versions", read_copy_job_versions}, {"job_io", read_copy_job_io},
                 {"column_lineage", read_copy_columns},    {"runs", read_copy_runs},
                 {"run_io", read_copy_run_io},             {"run_facets", read_copy_run_facets},
                 {"events", read_copy_events}};

    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        uint64_t t = gen_now_ns();
        if (steps[i].fn(b, r, e) != 0)
            return -1;
        printf("load copy %-31s %.1f s\n", steps[i].table, since(t));
        fflush(stdout);
    }
    return 0;
}

static int load_rows(PGconn *c, const struct rgen *r, struct saved_indexes *ix, struct err *e)
{
    struct pgcopy b = {.conn = c};
    long long super = 0;
    uint64_t t;
    int rc = -1;

    if (pgcopy_count(c, "SELECT (current_setting('is_superuser') = 'on')::int", &super, e) != 0 ||
        pgcopy_exec(c, "BEGIN", 0, NULL, e) != 0 ||
        (super && pgcopy_exec(c, "SET LOCAL session_replication_role = replica", 0, NULL, e) != 0) ||
        indexes_drop(c, ix, e) != 0 || partitions_make(c, r, e) != 0 || read_copy_parents(&b, r, e) != 0 ||
        copy_all(&b, r, e) != 0)
        goto out;
    t = gen_now_ns();
    if (pgcopy_exec(c, HASHES, 0, NULL, e) != 0 || pgcopy_exec(c, DATASET_SUMMARIES, 0, NULL, e) != 0 ||
        pgcopy_exec(c, JOB_SUMMARIES, 0, NULL, e) != 0)
        goto out;
    printf("load event_hashes, summaries %12.1f s\n", since(t));
    if (pgcopy_exec(c,
                    "SELECT setval(pg_get_serial_sequence('datasets', 'id'), (SELECT max(id) FROM datasets)),"
                    " setval(pg_get_serial_sequence('jobs', 'id'), (SELECT max(id) FROM jobs)),"
                    " setval('events_seq_seq', greatest((SELECT max(seq) FROM events), 1))",
                    0, NULL, e) != 0 ||
        pgcopy_exec(c, "COMMIT", 0, NULL, e) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0 && PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK")); /* the load failed already; a failed ROLLBACK adds nothing */
    pgcopy_free(&b);
    return rc;
}

static int load(PGconn *c, const struct rgen *r, struct err *e)
{
    struct saved_indexes ix = {0};
    long long existing = 0;
    uint64_t t0 = gen_now_ns(), t;
    int rc = -1;

    if (pgcopy_count(c, "SELECT (SELECT count(*) FROM datasets) + (SELECT count(*) FROM jobs)", &existing, e) != 0)
        return -1;
    if (existing != 0)
        return err_set(e, ERR_CONFLICT, NULL, "the database already holds %lld datasets and jobs", existing);
    if (pgcopy_exec(c, "SET maintenance_work_mem = '1GB'", 0, NULL, e) != 0 || load_rows(c, r, &ix, e) != 0)
        goto out;
    printf("load copy total %25.1f s\n", since(t0));
    t = gen_now_ns();
    if (indexes_build(c, &ix, e) != 0 ||
        pgcopy_exec(c, "SELECT event_partitions_note_times(current_schema())", 0, NULL, e) != 0)
        goto out;
    printf("load index total %24.1f s\n", since(t));
    t = gen_now_ns();
    if (pgcopy_exec(c, REBUILD, 0, NULL, e) != 0)
        goto out;
    printf("load read-route counters %16.1f s\n", since(t));
    t = gen_now_ns();
    if (pgcopy_exec(c, "VACUUM (ANALYZE)", 0, NULL, e) != 0)
        goto out;
    printf("load vacuum analyze %21.1f s\n", since(t));
    printf("load total %30.1f s (%u datasets, %u jobs, %zu runs, %zu events)\n", since(t0), r->n_ds,
           r->g.n_jobs, r->n_runs, r->n_events);
    rc = 0;
out:
    indexes_free(&ix);
    return rc;
}

/* ---- main ---- */

struct options {
    const char *conninfo, *targets;
    double scale;
    long long jobs, datasets, runs;
    uint64_t seed;
    long long now;
    bool load;
};

static void parse_args(int argc, char **argv, struct options *o)
{
    static const char USAGE[] = "usage: bench_read_db --db CONNINFO [--scale F] [--jobs N] [--datasets N] "
                                "[--runs N] [--seed S] [--now EPOCH] [--load] [--targets FILE]";

    *o = (struct options){.scale = 1.0, .jobs = -1, .datasets = -1, .runs = -1, .seed = 1, .now = time(NULL)};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--load") == 0) {
            o->load = true;
            continue;
        }
        if (v == NULL)
            gen_die("%s", USAGE);
        if (strcmp(argv[i], "--db") == 0)
            o->conninfo = v;
        else if (strcmp(argv[i], "--targets") == 0)
            o->targets = v;
        else if (strcmp(argv[i], "--scale") == 0)
            o->scale = strtod(v, NULL);
        else if (strcmp(argv[i], "--jobs") == 0)
            o->jobs = strtoll(v, NULL, 10);
        else if (strcmp(argv[i], "--datasets") == 0)
            o->datasets = strtoll(v, NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0)
            o->runs = strtoll(v, NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else if (strcmp(argv[i], "--now") == 0)
            o->now = strtoll(v, NULL, 10);
        else
            gen_die("unknown option \"%s\"\n%s", argv[i], USAGE);
        i++;
    }
    if (!(o->scale > 0 && o->scale <= 10))
        gen_die("--scale must be above 0 and at most 10");
    o->jobs = o->jobs >= 0 ? o->jobs : (long long)(BASE_JOBS * o->scale);
    o->datasets = o->datasets >= 0 ? o->datasets : (long long)(BASE_DATASETS * o->scale);
    o->runs = o->runs >= 0 ? o->runs : (long long)(BASE_RUNS * o->scale);
    if (o->jobs < 1000 || o->jobs > 10000000 || o->datasets > 100000000 || o->runs < 0 ||
        o->now < RGEN_SPAN || o->now > (long long)UINT32_MAX)
        gen_die("--jobs must be 1000 to 10 M, --datasets at most 100 M, --now a time after 1971");
    if (o->load && o->conninfo == NULL)
        gen_die("--load needs --db CONNINFO\n%s", USAGE);
}

int main(int argc, char **argv)
{
    struct options o;
    struct rgen r;
    struct err e;
    PGconn *c = NULL;
    int rc = 0;
    uint64_t t0 = gen_now_ns();

    parse_args(argc, argv, &o);
    fprintf(stderr, "bench_read_db: generating %lld jobs, %lld datasets, %lld runs (seed %" PRIu64 ")\n", o.jobs,
            o.datasets, o.runs, o.seed);
    rgen_build(&r, (uint32_t)o.jobs, (uint32_t)o.datasets, (uint64_t)o.runs, o.seed, (uint32_t)o.now);
    printf("load generate %27.1f s\n", since(t0));
    if (o.targets != NULL)
        read_targets_write(&r, o.targets);
    if (o.load) {
        c = PQconnectdb(o.conninfo);
        if (PQstatus(c) != CONNECTION_OK)
            gen_die("cannot connect: %s", PQerrorMessage(c));
        if ((rc = load(c, &r, &e)) != 0)
            fprintf(stderr, "bench_read_db: load: %s (%s)\n", e.msg, e.detail);
    }
    PQfinish(c);
    rgen_free(&r);
    return rc == 0 ? 0 : 1;
}
