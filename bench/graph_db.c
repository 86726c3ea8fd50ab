/* bench/graph_db.c - bench_graph_db: bench_graph's generated lineage in Postgres, bulk-loaded into the
 * real schema and asked the comparison questions as recursive CTEs (the Marquez approach).
 *
 *   bench_graph_db --db CONNINFO [--jobs N] [--seed S] [--load [--fk-checks]] [--starts FILE] [--cte FILE]
 *                  [--runs N] [--timeout-ms MS] [--budget-s S]
 *
 * --load      into a database whose schema `lineaged migrate` made (migrations/0001_init.sql) and
 *             that holds no dataset or job yet: namespaces and the 'default' source (INSERT), then
 *             datasets, jobs, job_io, dataset_fields, column_lineage (COPY FROM STDIN, text format,
 *             PQputCopyData), all in one transaction; then VACUUM ANALYZE, timed apart. A superuser
 *             session skips the per-row foreign-key triggers and checks them all in one query before
 *             COMMIT (see load); --fk-checks keeps the triggers.
 * --starts    the comparison's start nodes as Marquez nodeIds, for the HTTP side: one line per start,
 *             "class <TAB> dataset nodeId <TAB> job nodeId" (the job Marquez resolves; "" if none).
 * --cte       each comparison question (graph_gen.h) from each start class, as a recursive CTE over
 *             job_io, capped (first GEN_CMP_CAP rows) and not; one line per run as gen_write_runs
 *             writes them, side "cte". A row runs up to --runs times (default 10) while it has used less than
 *             --budget-s (default 20) seconds; statement_timeout is --timeout-ms (default 30000).
 *
 * The CTEs (fixed text, written from marquez-api.md section 3):
 *  - lineage: Marquez's. job_io grouped per job into input and output dataset arrays; the seed is the
 *    start job; the recursive step joins any other job whose inputs || outputs overlap the previous
 *    layer's (&&), depth < 20 job hops, UNION over rows that include depth. Answer: the jobs and the
 *    union of their datasets.
 *  - upstream/downstream: the same style, directed: dataset -> writing job -> its inputs (upstream)
 *    or dataset -> reading job -> its outputs (downstream), one node per row (dataset id, job -id),
 *    depth in edges < 2 * 20 + 2, as api/lineage.c walks, UNION over (node, depth).
 * Session: statement_timeout = --timeout-ms, jit off (it only slows these down); all else default.
 *
 * Invariants:
 *  1. Database ids are generator ids + 1 (datasets and jobs), so both sides start from the same nodes;
 *     equal --jobs and --seed give equal rows (graph_gen.c invariant 1).
 *  2. SQL text is fixed; every value goes in as a parameter ($n) or as COPY data.
 *  3. A CTE run that hits statement_timeout is recorded as slower than any (ns UINT64_MAX, nodes 0)
 *     and ends its row: the next start of the class would time out as well.
 * Ownership: each function that gets a PGresult clears it; everything is freed before exit.
 * Threads: single-threaded. Output: load figures on stdout, progress on stderr. */
#include "graph_gen.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "pgcopy.h"

enum {
    CTE_DEFAULT_RUNS = 10,
    CTE_DEFAULT_TIMEOUT_MS = 30000,
    CTE_DEFAULT_BUDGET_S = 20,
};

static const char SQLSTATE_QUERY_CANCELED[] = "57014";

/* ---- the rows ---- */

/* First and last time a dataset or job appears in job_io: its created_at and updated_at. */
struct span {
    uint32_t first, last;
};

struct spans {
    struct span *ds, *job;
};

static void span_widen(struct span *s, const struct gen_io *x)
{
    s->first = x->first < s->first ? x->first : s->first;
    s->last = x->last > s->last ? x->last : s->last;
}

static void spans_build(const struct gen *gen, struct spans *s)
{
    s->ds = gen_xcalloc(gen->n_ds, sizeof *s->ds);
    s->job = gen_xcalloc(gen->n_jobs, sizeof *s->job);
    for (uint32_t d = 0; d < gen->n_ds; d++)
        s->ds[d].first = UINT32_MAX;
    for (uint32_t j = 0; j < gen->n_jobs; j++)
        s->job[j].first = UINT32_MAX;
    for (size_t i = 0; i < gen->n_io; i++) {
        span_widen(&s->ds[gen->io[i].dataset], &gen->io[i]);
        span_widen(&s->job[gen->io[i].job], &gen->io[i]);
    }
}

static int copy_datasets(struct pgcopy *b, const struct gen *gen, const struct spans *sp, struct err *e)
{
    char name[128];
    int rc = pgcopy_begin(b,
                        "COPY datasets (id, namespace, name, physical_name, source_name, created_at, "
                        "updated_at, seq) FROM STDIN",
                        e);

    for (uint32_t d = 0; rc == 0 && d < gen->n_ds; d++) {
        gen_dataset_name(gen, d, name, sizeof name);
        pgcopy_u64(b, (uint64_t)d + 1);
        pgcopy_str(b, gen_dataset_ns(gen, d));
        pgcopy_str(b, name);
        pgcopy_str(b, name);
        pgcopy_str(b, "default");
        pgcopy_time(b, sp->ds[d].first); /* every dataset has a writer or a reader */
        pgcopy_time(b, sp->ds[d].last);
        pgcopy_u64(b, 0);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

static int copy_jobs(struct pgcopy *b, const struct gen *gen, const struct spans *sp, struct err *e)
{
    char name[128];
    int rc = pgcopy_begin(
        b, "COPY jobs (id, namespace, name, simple_name, created_at, updated_at, seq) FROM STDIN", e);

    for (uint32_t j = 0; rc == 0 && j < gen->n_jobs; j++) {
        gen_job_name(j, name, sizeof name);
        pgcopy_u64(b, (uint64_t)j + 1);
        pgcopy_str(b, gen_job_ns(j));
        pgcopy_str(b, name);
        pgcopy_str(b, name); /* no parent job: the simple name is the name */
        pgcopy_time(b, sp->job[j].first);
        pgcopy_time(b, sp->job[j].last);
        pgcopy_u64(b, 0);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

static int copy_job_io(struct pgcopy *b, const struct gen *gen, const struct spans *sp, struct err *e)
{
    (void)sp; /* job_io rows carry their own times */
    int rc =
        pgcopy_begin(b, "COPY job_io (job_id, dataset_id, io_type, first_seen, last_seen, seq) FROM STDIN", e);

    for (size_t i = 0; rc == 0 && i < gen->n_io; i++) {
        const struct gen_io *x = &gen->io[i];
        pgcopy_u64(b, (uint64_t)x->job + 1);
        pgcopy_u64(b, (uint64_t)x->dataset + 1);
        pgcopy_str(b, x->output ? "OUTPUT" : "INPUT");
        pgcopy_time(b, x->first);
        pgcopy_time(b, x->last);
        pgcopy_u64(b, 0);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

static int copy_fields(struct pgcopy *b, const struct gen *gen, const struct spans *sp, struct err *e)
{
    char field[64];
    int rc = pgcopy_begin(b, "COPY dataset_fields (dataset_id, name, ordinal, updated_at) FROM STDIN", e);

    for (uint32_t d = 0; rc == 0 && d < gen->n_ds; d++) {
        for (unsigned k = 0; rc == 0 && k < gen->ds_fields[d]; k++) {
            gen_field_name(k, field, sizeof field);
            pgcopy_u64(b, (uint64_t)d + 1);
            pgcopy_str(b, field);
            pgcopy_u64(b, k);
            pgcopy_time(b, sp->ds[d].last);
            rc = pgcopy_row(b, e);
        }
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

static int copy_columns(struct pgcopy *b, const struct gen *gen, const struct spans *sp, struct err *e)
{
    (void)sp; /* column_lineage rows carry their own times */
    char out[64], in[64];
    int rc =
        pgcopy_begin(b,
                   "COPY column_lineage (output_dataset_id, output_field, input_dataset_id, input_field, "
                   "first_seen, last_seen, seq) FROM STDIN",
                   e);

    for (size_t i = 0; rc == 0 && i < gen->n_col; i++) {
        const struct gen_col *c = &gen->col[i];
        gen_field_name(c->out_field, out, sizeof out);
        gen_field_name(c->in_field, in, sizeof in);
        pgcopy_u64(b, (uint64_t)c->out_ds + 1);
        pgcopy_str(b, out);
        pgcopy_u64(b, (uint64_t)c->in_ds + 1);
        pgcopy_str(b, in);
        pgcopy_time(b, c->first);
        pgcopy_time(b, c->last);
        pgcopy_u64(b, 0);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

/* Every namespace the generator uses, and the 'default' source datasets name. */
static int insert_parents(PGconn *c, const struct gen *gen, struct err *e)
{
    static const char NAMESPACE[] = "INSERT INTO namespaces (name, created_at, updated_at) "
                                    "VALUES ($1, now(), now()) ON CONFLICT (name) DO NOTHING";
    const char *done[16];
    size_t n = 0;

    for (uint32_t i = 0; i < gen->n_ds + 3; i++) { /* the 3 job namespaces repeat every 3 jobs */
        const char *ns = i < gen->n_ds ? gen_dataset_ns(gen, i) : gen_job_ns(i - gen->n_ds);
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen |= done[k] == ns;
        if (seen)
            continue;
        if (n == sizeof done / sizeof done[0])
            return err_set(e, ERR_INTERNAL, NULL, "more than %zu namespaces", n);
        done[n++] = ns;
        if (pgcopy_exec(c, NAMESPACE, 1, &ns, e) != 0)
            return -1;
    }
    return pgcopy_exec(c,
                   "INSERT INTO sources (name, created_at, updated_at) VALUES ('default', now(), now()) "
                   "ON CONFLICT (name) DO NOTHING",
                   0, NULL, e);
}

/* ---- --load ---- */

/* Whether this session may skip the per-row FK triggers (session_replication_role needs a superuser). */
static int fk_can_defer(PGconn *c, bool *can, struct err *e)
{
    long long super = 0;

    if (pgcopy_count(c, "SELECT (current_setting('is_superuser') = 'on')::int", &super, e) != 0)
        return -1;
    *can = super != 0;
    return 0;
}

/* The foreign keys the COPY did not check row by row, checked at once: rows without their parent. */
static int fk_validate(PGconn *c, struct err *e)
{
    static const char SQL[] =
        "SELECT (SELECT count(*) FROM datasets d LEFT JOIN namespaces n ON n.name = d.namespace"
        "        WHERE n.name IS NULL)"
        " + (SELECT count(*) FROM datasets d LEFT JOIN sources s ON s.name = d.source_name"
        "    WHERE s.name IS NULL)"
        " + (SELECT count(*) FROM jobs j LEFT JOIN namespaces n ON n.name = j.namespace WHERE n.name IS NULL)"
        " + (SELECT count(*) FROM job_io x LEFT JOIN jobs j ON j.id = x.job_id WHERE j.id IS NULL)"
        " + (SELECT count(*) FROM job_io x LEFT JOIN datasets d ON d.id = x.dataset_id WHERE d.id IS NULL)"
        " + (SELECT count(*) FROM dataset_fields f LEFT JOIN datasets d ON d.id = f.dataset_id"
        "    WHERE d.id IS NULL)"
        " + (SELECT count(*) FROM column_lineage c LEFT JOIN datasets d ON d.id = c.output_dataset_id"
        "    WHERE d.id IS NULL)"
        " + (SELECT count(*) FROM column_lineage c LEFT JOIN datasets d ON d.id = c.input_dataset_id"
        "    WHERE d.id IS NULL)";
    long long orphans = 0;

    if (pgcopy_count(c, SQL, &orphans, e) != 0)
        return -1;
    return orphans == 0 ? 0 : err_set(e, ERR_INTERNAL, NULL, "%lld rows break a foreign key", orphans);
}

typedef int copy_fn(struct pgcopy *b, const struct gen *gen, const struct spans *sp, struct err *e);

/* COPYs the generator's rows (see the file comment). Without fk_checks, a superuser session skips the
 * per-row foreign-key triggers (session_replication_role = replica, as pg_restore --disable-triggers
 * does) and checks every foreign key in one query before COMMIT instead. */
static int load(PGconn *c, const struct gen *gen, bool fk_checks, struct err *e)
{
    static const struct {
        const char *table;
        copy_fn *fn;
    } steps[] = {{"datasets", copy_datasets},
                 {"jobs", copy_jobs},
                 {"job_io", copy_job_io},
                 {"dataset_fields", copy_fields},
                 {"column_lineage", copy_columns}};
    struct pgcopy b = {.conn = c};
    struct spans sp;
    long long existing = 0;
    uint64_t t0 = gen_now_ns(), t;
    size_t n_fields = 0;
    bool defer = false;
    int rc = -1;

    for (uint32_t d = 0; d < gen->n_ds; d++)
        n_fields += gen->ds_fields[d];
    spans_build(gen, &sp);
    if (pgcopy_count(c, "SELECT (SELECT count(*) FROM datasets) + (SELECT count(*) FROM jobs)", &existing, e) !=
        0)
        goto out;
    if (existing != 0) {
        err_set(e, ERR_CONFLICT, NULL, "the database already holds %lld datasets and jobs", existing);
        goto out;
    }
    if (fk_checks || fk_can_defer(c, &defer, e) != 0)
        defer = false;
    if (pgcopy_exec(c, "BEGIN", 0, NULL, e) != 0 || insert_parents(c, gen, e) != 0 ||
        (defer && pgcopy_exec(c, "SET LOCAL session_replication_role = replica", 0, NULL, e) != 0))
        goto out;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        t = gen_now_ns();
        if (steps[i].fn(&b, gen, &sp, e) != 0)
            goto out;
        printf("copy %-15s %.3f s\n", steps[i].table, (gen_now_ns() - t) / 1e9);
    }
    if (pgcopy_exec(c,
                "SELECT setval(pg_get_serial_sequence('datasets', 'id'), (SELECT max(id) FROM datasets)), "
                "setval(pg_get_serial_sequence('jobs', 'id'), (SELECT max(id) FROM jobs))",
                0, NULL, e) != 0)
        goto out;
    t = gen_now_ns();
    if (defer && fk_validate(c, e) != 0)
        goto out;
    if (defer)
        printf("copy fk check        %.3f s (foreign keys checked in one query, not per row)\n",
               (gen_now_ns() - t) / 1e9);
    if (pgcopy_exec(c, "COMMIT", 0, NULL, e) != 0)
        goto out;
    printf("copy total           %.3f s (%" PRIu32 " datasets, %" PRIu32 " jobs, %zu job_io, "
           "%zu dataset_fields, %zu column_lineage rows)\n",
           (gen_now_ns() - t0) / 1e9, gen->n_ds, gen->n_jobs, gen->n_io, n_fields, gen->n_col);
    t = gen_now_ns();
    if (pgcopy_exec(
            c, "VACUUM (ANALYZE) namespaces, sources, datasets, jobs, job_io, dataset_fields, column_lineage",
            0, NULL, e) != 0)
        goto out;
    printf("vacuum analyze       %.3f s\n", (gen_now_ns() - t) / 1e9);
    rc = 0;
out:
    if (rc != 0 && PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK")); /* the load failed already; a failed ROLLBACK adds nothing */
    free(sp.ds);
    free(sp.job);
    pgcopy_free(&b);
    return rc;
}

/* ---- --cte ---- */

/* One node per row: dataset id, or -job id. $1 start dataset, $2 depth in edges, $3 row limit. */
#define CTE_DIRECTED(DS_JOB, JOB_DS, TAIL)                                                                   \
    "WITH RECURSIVE walk(node, depth) AS ("                                                                  \
    "  SELECT $1::bigint, 0"                                                                                 \
    "  UNION"                                                                                                \
    "  SELECT nx.node, w.depth + 1 FROM walk w CROSS JOIN LATERAL ("                                         \
    "    SELECT -x.job_id FROM job_io x WHERE w.node > 0 AND x.dataset_id = w.node AND x.io_type = " DS_JOB  \
    "    UNION ALL"                                                                                          \
    "    SELECT x.dataset_id FROM job_io x WHERE w.node < 0 AND x.job_id = -w.node AND x.io_type = " JOB_DS  \
    "  ) AS nx(node) WHERE w.depth < $2::int) " TAIL

/* Marquez's lineage query (marquez-api.md section 3). $1 start job, $2 depth in job hops, $3 limit. */
#define CTE_MARQUEZ(FOUND)                                                                                   \
    "WITH RECURSIVE job_sets AS ("                                                                           \
    "  SELECT job_id, array_agg(dataset_id) FILTER (WHERE io_type = 'INPUT') AS inputs,"                     \
    "         array_agg(dataset_id) FILTER (WHERE io_type = 'OUTPUT') AS outputs"                            \
    "  FROM job_io GROUP BY job_id),"                                                                        \
    " lineage(job_id, inputs, outputs, depth) AS ("                                                          \
    "  SELECT job_id, inputs, outputs, 0 FROM job_sets WHERE job_id = $1::bigint"                            \
    "  UNION"                                                                                                \
    "  SELECT s.job_id, s.inputs, s.outputs, l.depth + 1 FROM job_sets s, lineage l"                         \
    "  WHERE s.job_id <> l.job_id AND array_cat(s.inputs, s.outputs) && array_cat(l.inputs, l.outputs)"      \
    "    AND l.depth < $2::int),"                                                                            \
    " found AS (" FOUND ")"                                                                                  \
    " SELECT -job_id FROM found UNION SELECT unnest(array_cat(inputs, outputs)) FROM found"

/* What the directed walk returns: every node, or the first GEN_CMP_CAP rows (a node may repeat at
 * another depth there, which only makes the capped CTE's work smaller). */
#define CTE_ALL "SELECT DISTINCT node FROM walk"
#define CTE_CAP "SELECT node FROM walk LIMIT $3::int"
/* The jobs of Marquez's answer: each once (as Marquez's DISTINCT ON), or the first GEN_CMP_CAP rows. */
#define CTE_MARQUEZ_ALL                                                                                      \
    "SELECT DISTINCT ON (job_id) job_id, inputs, outputs FROM lineage ORDER BY job_id, depth"
#define CTE_MARQUEZ_CAP "SELECT job_id, inputs, outputs FROM lineage LIMIT $3::int"

static const struct cte_stmt {
    const char *name, *sql;
    int n_params; /* $3, the row limit, only in the capped ones */
} CTE_STMTS[GEN_QUESTIONS][2] = {
    /* [question][capped] */
    [GEN_Q_UPSTREAM] = {{"up_full", CTE_DIRECTED("'OUTPUT'", "'INPUT'", CTE_ALL), 2},
                        {"up_cap", CTE_DIRECTED("'OUTPUT'", "'INPUT'", CTE_CAP), 3}},
    [GEN_Q_DOWNSTREAM] = {{"down_full", CTE_DIRECTED("'INPUT'", "'OUTPUT'", CTE_ALL), 2},
                          {"down_cap", CTE_DIRECTED("'INPUT'", "'OUTPUT'", CTE_CAP), 3}},
    [GEN_Q_LINEAGE] = {{"lineage_full", CTE_MARQUEZ(CTE_MARQUEZ_ALL), 2},
                       {"lineage_cap", CTE_MARQUEZ(CTE_MARQUEZ_CAP), 3}},
};

struct cte_opts {
    size_t runs;
    int timeout_ms;
    double budget_s;
};

static int cte_prepare(PGconn *c, const struct cte_opts *o, struct err *e)
{
    char timeout[32];
    const char *param = timeout;

    snprintf(timeout, sizeof timeout, "%d", o->timeout_ms);
    /* JIT compilation adds 0.1-0.3 s to the Marquez query here and never pays off: off, in Postgres' favour.
     */
    if (pgcopy_exec(c, "SELECT set_config('statement_timeout', $1, false), set_config('jit', 'off', false)", 1,
                &param, e) != 0)
        return -1;
    for (int q = 0; q < GEN_QUESTIONS; q++) {
        for (int capped = 0; capped < 2; capped++) {
            const struct cte_stmt *st = &CTE_STMTS[q][capped];
            PGresult *res = PQprepare(c, st->name, st->sql, st->n_params, NULL);
            int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            if (!ok)
                err_set_detail(e, ERR_INTERNAL, PQresultErrorMessage(res), "cannot prepare \"%s\"", st->name);
            PQclear(res);
            if (!ok)
                return -1;
        }
    }
    return 0;
}

/* Runs st once from start; *ns and *nodes get its time and answer rows (UINT64_MAX and 0 if it hit
 * statement_timeout). Returns 0, or -1 with e set for any other failure. */
static int cte_run(PGconn *c, const struct cte_stmt *st, int64_t start, int depth, uint64_t *ns,
                   size_t *nodes, struct err *e)
{
    char a[24], b[24], cap[24];
    const char *params[3] = {a, b, cap};
    PGresult *res;
    uint64_t t0;
    int rc = 0;

    snprintf(a, sizeof a, "%" PRId64, start);
    snprintf(b, sizeof b, "%d", depth);
    snprintf(cap, sizeof cap, "%d", GEN_CMP_CAP);
    t0 = gen_now_ns();
    res = PQexecPrepared(c, st->name, st->n_params, params, NULL, NULL, 0);
    *ns = gen_now_ns() - t0;
    *nodes = (size_t)PQntuples(res);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        *ns = UINT64_MAX;
        *nodes = 0;
        if (state == NULL || strcmp(state, SQLSTATE_QUERY_CANCELED) != 0)
            rc = err_set_detail(e, ERR_UNAVAILABLE, PQresultErrorMessage(res), "\"%s\" failed", st->name);
    }
    PQclear(res);
    return rc;
}

/* Database ids of the question's starts in class c (Marquez's job for lineage), as bench_graph picks them. */
static size_t cte_starts(const struct gen *gen, enum gen_question q, enum gen_class c, int64_t *out)
{
    uint32_t ids[GEN_CMP_STARTS];
    size_t n = gen_pick(gen, c, ids, GEN_CMP_STARTS), m = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t id = q == GEN_Q_LINEAGE ? gen_marquez_job(gen, ids[i]) : ids[i];
        if (id != UINT32_MAX)
            out[m++] = (int64_t)id + 1;
    }
    return m;
}

/* One row: up to o->runs timed runs over the starts while under the budget; a timeout ends it. A capped
 * row first runs once from each start untimed, so its pages are in shared buffers as they would be
 * under steady load (a full row follows its capped row, which warmed the same starts). */
static int cte_row(FILE *f, PGconn *c, const struct gen *gen, enum gen_question q, enum gen_class cls,
                   int capped, const struct cte_opts *o, struct err *e)
{
    const struct cte_stmt *st = &CTE_STMTS[q][capped];
    int64_t starts[GEN_CMP_STARTS];
    size_t n = cte_starts(gen, q, cls, starts), runs = 0, nodes;
    uint64_t *t = gen_xcalloc(o->runs, sizeof *t), spent = 0, ns;
    size_t *sizes = gen_xcalloc(o->runs, sizeof *sizes);
    int depth = q == GEN_Q_LINEAGE ? GEN_CMP_DEPTH : 2 * GEN_CMP_DEPTH + 2, rc = 0;

    for (size_t i = 0; capped && i < n && rc == 0; i++)
        rc = cte_run(c, st, starts[i], depth, &ns, &nodes, e);
    while (rc == 0 && n > 0 && runs < o->runs && (runs == 0 || spent < o->budget_s * 1e9)) {
        if ((rc = cte_run(c, st, starts[runs % n], depth, &t[runs], &sizes[runs], e)) != 0)
            break;
        spent += t[runs] == UINT64_MAX ? (uint64_t)o->timeout_ms * 1000000u : t[runs];
        if (t[runs++] == UINT64_MAX)
            break;
    }
    fprintf(stderr, "bench_graph_db: cte %s %s %s: %zu runs, %.1f s\n", gen_question_name(q),
            gen_class_name(cls), capped ? "capped" : "full", runs, spent / 1e9);
    if (rc == 0 && runs > 0)
        gen_write_runs(f, "cte", q, cls, capped ? GEN_CMP_CAP : 0, t, sizes, runs, n);
    free(t);
    free(sizes);
    return rc;
}

static int run_ctes(PGconn *c, const struct gen *gen, const char *path, const struct cte_opts *o,
                    struct err *e)
{
    FILE *f;
    int rc = 0;

    if (cte_prepare(c, o, e) != 0)
        return -1;
    if ((f = fopen(path, "w")) == NULL)
        gen_die("cannot write \"%s\": %s", path, strerror(errno));
    for (int q = 0; q < GEN_QUESTIONS && rc == 0; q++) {
        for (int cls = 0; cls < GEN_CLASSES && rc == 0; cls++) {
            for (int capped = 1; capped >= 0 && rc == 0; capped--)
                rc = cte_row(f, c, gen, (enum gen_question)q, (enum gen_class)cls, capped, o, e);
        }
    }
    if (fclose(f) != 0)
        gen_die("cannot write \"%s\": %s", path, strerror(errno));
    return rc;
}

/* ---- main ---- */

struct options {
    const char *conninfo, *starts, *cte;
    uint32_t jobs;
    uint64_t seed;
    bool load, fk_checks;
    struct cte_opts cte_opts;
};

static void parse_args(int argc, char **argv, struct options *o)
{
    static const char USAGE[] =
        "usage: bench_graph_db --db CONNINFO [--jobs N] [--seed S] [--load [--fk-checks]] [--starts FILE] "
        "[--cte FILE] [--runs N] [--timeout-ms MS] [--budget-s S]";

    *o = (struct options){.jobs = GEN_DEFAULT_JOBS,
                          .seed = 1,
                          .cte_opts = {CTE_DEFAULT_RUNS, CTE_DEFAULT_TIMEOUT_MS, CTE_DEFAULT_BUDGET_S}};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--load") == 0 || strcmp(argv[i], "--fk-checks") == 0) {
            o->load |= argv[i][2] == 'l';
            o->fk_checks |= argv[i][2] == 'f';
            continue;
        }
        if (v == NULL)
            gen_die("%s", USAGE);
        if (strcmp(argv[i], "--db") == 0)
            o->conninfo = v;
        else if (strcmp(argv[i], "--jobs") == 0)
            o->jobs = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else if (strcmp(argv[i], "--starts") == 0)
            o->starts = v;
        else if (strcmp(argv[i], "--cte") == 0)
            o->cte = v;
        else if (strcmp(argv[i], "--runs") == 0)
            o->cte_opts.runs = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--timeout-ms") == 0)
            o->cte_opts.timeout_ms = atoi(v);
        else if (strcmp(argv[i], "--budget-s") == 0)
            o->cte_opts.budget_s = strtod(v, NULL);
        else
            gen_die("unknown option \"%s\"\n%s", argv[i], USAGE);
        i++;
    }
    if (o->conninfo == NULL && (o->load || o->cte != NULL))
        gen_die("--load and --cte need --db CONNINFO\n%s", USAGE);
    if (o->jobs < 1000 || o->cte_opts.runs < 1 || o->cte_opts.timeout_ms < 1)
        gen_die("--jobs must be at least 1000, --runs and --timeout-ms at least 1");
}

int main(int argc, char **argv)
{
    struct options o;
    struct gen gen;
    struct err e;
    PGconn *c = NULL;
    int rc = 0;

    parse_args(argc, argv, &o);
    fprintf(stderr, "bench_graph_db: generating %" PRIu32 " jobs (seed %" PRIu64 ")\n", o.jobs, o.seed);
    gen_build(&gen, o.jobs, o.seed);
    if (o.starts != NULL)
        gen_write_starts(&gen, o.starts);
    if (o.conninfo != NULL) {
        c = PQconnectdb(o.conninfo);
        if (PQstatus(c) != CONNECTION_OK)
            gen_die("cannot connect: %s", PQerrorMessage(c));
    }
    if (o.load && (rc = load(c, &gen, o.fk_checks, &e)) != 0)
        fprintf(stderr, "bench_graph_db: load: %s (%s)\n", e.msg, e.detail);
    if (rc == 0 && o.cte != NULL && (rc = run_ctes(c, &gen, o.cte, &o.cte_opts, &e)) != 0)
        fprintf(stderr, "bench_graph_db: cte: %s (%s)\n", e.msg, e.detail);
    PQfinish(c);
    gen_free(&gen);
    return rc == 0 ? 0 : 1;
}
