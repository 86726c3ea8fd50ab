/* bench/ingest.c - ingest benchmark: events/s for single POSTs and batches next to a COPY ceiling.
 *
 * usage: bench_ingest --url http://127.0.0.1:PORT --db CONNINFO --fixtures DIR
 *                     [--events N (20000)] [--connections C (32)] [--batch-size B (100)]
 *                     [--phases ceiling,single,batch (all three)]
 * One run, against one server and its Postgres (--phases picks which of the timed phases run, in this
 * order; bench/run_ingest.py runs them one at a time to measure each phase's WAL, CPU and statements):
 *  probe    each usable fixture POSTed once, untimed; fixtures the server rejects with a 4xx (the
 *           fixture set holds deliberately invalid events) are named on stderr and left out;
 *  ceiling  one COPY of the N single-event bodies into a bare jsonb table (the database alone);
 *  single   the same N bodies as POST /api/v1/lineage over C keep-alive connections, closed loop;
 *           latency percentiles per request;
 *  batch    N more events (fresh runIds) as JSON arrays of B to /api/v1/lineage/batch, same connections;
 * then prints events/s for each phase run and, when the ceiling ran, each HTTP mode's ratio to it.
 * Invariants:
 *  1. Every body is generated before its phase's clock starts; timed code only sends and counts.
 *  2. Any answer other than 201 (single) or 200 with "failed": 0 (batch) is an error: the status
 *     histogram and first error body are printed and the exit status is 1.
 * Exit status: 0 all accepted, 1 some request failed or a phase could not run, 2 bad usage.
 * Ownership: each phase's bodies are made and freed by the function that runs the phase.
 * Threads: single-threaded. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "fixture.h"
#include "loadgen.h"
#include "util.h"

enum {
    INGEST_DEFAULT_EVENTS = 20000,
    INGEST_DEFAULT_CONNECTIONS = 32,
    INGEST_DEFAULT_BATCH = 100,
    INGEST_MAX_CONNECTIONS = 1024,
    INGEST_MAX_BATCH = 100000,
    INGEST_COPY_CHUNK = 256 * 1024,
    INGEST_STATUS_LIMIT = 600,
    INGEST_STATUS_CREATED = 201,
    INGEST_STATUS_OK = 200,
    INGEST_EXIT_USAGE = 2,
    INGEST_REPORT = 1024,
};

static const char INGEST_PATH_SINGLE[] = "/api/v1/lineage";
static const char INGEST_PATH_BATCH[] = "/api/v1/lineage/batch";

struct ingest_opts {
    const char *url;
    const char *db;
    const char *fixtures;
    size_t events;
    size_t connections;
    size_t batch_size;
    bool run_ceiling;
    bool run_single;
    bool run_batch;
};

struct ingest_result {
    size_t fixtures;
    size_t rejected;
    size_t mean_bytes;
    double ceiling_eps;
    double single_eps;
    double batch_eps;
    double p50_ms;
    double p99_ms;
    size_t errors;
    char single_report[INGEST_REPORT]; /* "" or the error summary of single mode */
    char batch_report[INGEST_REPORT];
};

/* ---- options ---------------------------------------------------------------------------------- */

static void opts_usage(FILE *f)
{
    fprintf(f,
            "usage: bench_ingest --url http://127.0.0.1:PORT --db CONNINFO --fixtures DIR\n"
            "                    [--events N (%d)] [--connections C (%d)] [--batch-size B (%d)]\n"
            "                    [--phases ceiling,single,batch (all)]\n",
            INGEST_DEFAULT_EVENTS, INGEST_DEFAULT_CONNECTIONS, INGEST_DEFAULT_BATCH);
}

static int opts_size(const char *name, const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
        util_msg("--%s must be an integer in [%zu, %zu], not \"%s\"", name, lo, hi, s);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* Sets o's run_* flags from a comma-separated list of phase names; -1 after printing why. */
static int opts_phases(const char *s, struct ingest_opts *o)
{
    o->run_ceiling = o->run_single = o->run_batch = false;
    for (const char *p = s; *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (n == 7 && strncmp(p, "ceiling", n) == 0)
            o->run_ceiling = true;
        else if (n == 6 && strncmp(p, "single", n) == 0)
            o->run_single = true;
        else if (n == 5 && strncmp(p, "batch", n) == 0)
            o->run_batch = true;
        else {
            util_msg("--phases takes ceiling, single and batch, comma-separated, not \"%s\"", s);
            return -1;
        }
        p += n + (p[n] == ',');
    }
    if (!o->run_ceiling && !o->run_single && !o->run_batch) {
        util_msg("--phases names no phase");
        return -1;
    }
    return 0;
}

/* Fills o from argv; returns -1 after printing why (or the usage). --help exits 0. */
static int opts_parse(int argc, char **argv, struct ingest_opts *o)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"db", required_argument, NULL, 'd'},
        {"fixtures", required_argument, NULL, 'f'},
        {"events", required_argument, NULL, 'n'},
        {"connections", required_argument, NULL, 'c'},
        {"batch-size", required_argument, NULL, 'b'},
        {"phases", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct ingest_opts){.events = INGEST_DEFAULT_EVENTS,
                              .connections = INGEST_DEFAULT_CONNECTIONS,
                              .batch_size = INGEST_DEFAULT_BATCH,
                              .run_ceiling = true,
                              .run_single = true,
                              .run_batch = true};
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'u')
            o->url = optarg;
        else if (c == 'd')
            o->db = optarg;
        else if (c == 'f')
            o->fixtures = optarg;
        else if (c == 'n')
            rc = opts_size("events", optarg, 1, SIZE_MAX / 2, &o->events);
        else if (c == 'c')
            rc = opts_size("connections", optarg, 1, INGEST_MAX_CONNECTIONS, &o->connections);
        else if (c == 'b')
            rc = opts_size("batch-size", optarg, 1, INGEST_MAX_BATCH, &o->batch_size);
        else if (c == 'p')
            rc = opts_phases(optarg, o);
        else if (c == 'h') {
            opts_usage(stdout);
            exit(0);
        } else
            rc = -1;
    }
    if (rc == 0 && (optind != argc || o->url == NULL || o->db == NULL || o->fixtures == NULL))
        rc = -1;
    if (rc != 0)
        opts_usage(stderr);
    return rc;
}

/* ---- ceiling: one COPY into a bare jsonb table ------------------------------------------------ */

static int pg_command(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        util_msg("\"%s\" failed: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    return rc;
}

/* Writes body as one COPY text row at buf (backslash, newline, CR and tab escaped, then '\n');
 * buf holds 2 * len + 1 bytes. Returns the bytes written. */
static size_t copy_escape(const struct fixture_body *body, char *buf)
{
    char *p = buf;
    for (size_t i = 0; i < body->len; i++) {
        char ch = body->data[i];
        char esc = ch == '\\' ? '\\' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : ch == '\t' ? 't' : 0;
        if (esc != 0)
            *p++ = '\\';
        *p++ = esc != 0 ? esc : ch;
    }
    *p++ = '\n';
    return (size_t)(p - buf);
}

/* Streams all n bodies into a started COPY (PGRES_COPY_IN) in chunks, ends it and reads its result. */
static int copy_stream(PGconn *conn, const struct fixture_body *b, size_t n)
{
    size_t cap = INGEST_COPY_CHUNK, fill = 0;
    char *buf = util_xmalloc(cap);
    int rc = 0;
    for (size_t i = 0; i <= n && rc == 0; i++) {
        size_t need = i < n ? 2 * b[i].len + 1 : 0;
        if (fill > 0 && (i == n || fill + need > cap)) {
            rc = PQputCopyData(conn, buf, (int)fill) == 1 ? 0 : -1;
            fill = 0;
        }
        if (need > cap) {
            free(buf);
            buf = util_xmalloc(cap = need);
        }
        if (i < n && rc == 0)
            fill += copy_escape(&b[i], buf + fill);
    }
    free(buf);
    if (PQputCopyEnd(conn, rc == 0 ? NULL : "bench_ingest could not send a row") != 1)
        rc = -1;
    PGresult *res;
    unsigned long long rows = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = -1;
        else
            rows = strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    if (rc != 0)
        util_msg("COPY into bench_ceiling failed: %s", PQerrorMessage(conn));
    else if (rows != n)
        util_msg("COPY into bench_ceiling stored %llu rows, not %zu", rows, n);
    return rc == 0 && rows == n ? 0 : -1;
}

/* Times one COPY of all n bodies into an emptied bench_ceiling table and empties it again, untimed.
 * Returns 0 with *secs set, or -1 after printing why. */
static int ceiling_run(const char *conninfo, const struct fixture_body *b, size_t n, double *secs)
{
    PGconn *conn = PQconnectdb(conninfo);
    PGresult *res = NULL;
    int rc = -1;
    if (PQstatus(conn) != CONNECTION_OK) {
        util_msg("cannot connect to the database: %s", PQerrorMessage(conn));
        goto out;
    }
    if (pg_command(conn, "SET client_min_messages TO warning") != 0 ||
        pg_command(conn, "CREATE TABLE IF NOT EXISTS bench_ceiling (body jsonb NOT NULL)") != 0 ||
        pg_command(conn, "TRUNCATE bench_ceiling") != 0)
        goto out;
    uint64_t t0 = util_now_ns();
    res = PQexec(conn, "COPY bench_ceiling (body) FROM STDIN");
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        util_msg("COPY did not start: %s", PQerrorMessage(conn));
        goto out;
    }
    if (copy_stream(conn, b, n) != 0)
        goto out;
    *secs = (double)(util_now_ns() - t0) / 1e9;
    rc = pg_command(conn, "TRUNCATE bench_ceiling");
out:
    PQclear(res);
    PQfinish(conn);
    return rc;
}

/* ---- phases ----------------------------------------------------------------------------------- */

/* Appends printf-style text to out (cap bytes, *pos used so far), truncating at the end. */
static void report_append(char *out, size_t cap, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report_append(char *out, size_t cap, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = *pos < cap ? vsnprintf(out + *pos, cap - *pos, fmt, ap) : 0;
    va_end(ap);
    *pos = n < 0 ? cap : *pos + (size_t)n;
}

/* Describes a phase that had errors in out: the histogram of answers and the first error. */
static void report_errors(const char *mode, const struct loadgen_phase *ph, char *out, size_t cap)
{
    size_t counts[INGEST_STATUS_LIMIT] = {0}, pos = 0;
    for (size_t i = 0; i < ph->count; i++)
        counts[ph->status[i] > 0 && ph->status[i] < INGEST_STATUS_LIMIT ? ph->status[i] : 0]++;
    report_append(out, cap, &pos, "%-8s %zu of %zu requests failed; answers:", mode, ph->errors, ph->count);
    for (int s = 0; s < INGEST_STATUS_LIMIT; s++) {
        if (counts[s] > 0 && s == 0)
            report_append(out, cap, &pos, " no answer x %zu", counts[s]);
        else if (counts[s] > 0)
            report_append(out, cap, &pos, " %d x %zu", s, counts[s]);
    }
    report_append(out, cap, &pos, "\n%-8s first error: %s\n", mode, ph->first_error);
}

/* Ceiling, then single mode, over one set of N bodies, each if o asks for it. Returns -1 if either
 * could not run. */
static int run_single(const struct ingest_opts *o, struct loadgen *lg, const struct fixture *fx, size_t nfx,
                      struct ingest_result *r)
{
    struct fixture_body *b = fixture_bodies_single(fx, nfx, o->events);
    size_t bytes = 0;
    for (size_t i = 0; i < o->events; i++)
        bytes += b[i].len;
    r->mean_bytes = bytes / o->events;
    double secs = 0;
    int rc = o->run_ceiling ? ceiling_run(o->db, b, o->events, &secs) : 0;
    if (rc == 0 && o->run_ceiling)
        r->ceiling_eps = (double)o->events / secs;
    struct loadgen_phase ph = {
        .path = INGEST_PATH_SINGLE, .bodies = b, .count = o->events, .expect_status = INGEST_STATUS_CREATED};
    if (rc == 0 && o->run_single && (rc = loadgen_run(lg, &ph, &secs)) == 0) {
        r->single_eps = (double)o->events / secs;
        util_sort_u64(ph.latency_ns, ph.count);
        r->p50_ms = util_percentile_ms(ph.latency_ns, ph.count, 50);
        r->p99_ms = util_percentile_ms(ph.latency_ns, ph.count, 99);
        if (ph.errors > 0)
            report_errors("single", &ph, r->single_report, sizeof r->single_report);
        r->errors += ph.errors;
    }
    loadgen_phase_free(&ph);
    fixture_bodies_free(b, o->events);
    return rc;
}

/* Batch mode: N fresh events in arrays of batch_size. Returns -1 if it could not run. */
static int run_batch(const struct ingest_opts *o, struct loadgen *lg, const struct fixture *fx, size_t nfx,
                     struct ingest_result *r)
{
    size_t nb = 0;
    struct fixture_body *b = fixture_bodies_batches(fx, nfx, o->events, o->batch_size, &nb);
    struct loadgen_phase ph = {.path = INGEST_PATH_BATCH,
                               .bodies = b,
                               .count = nb,
                               .expect_status = INGEST_STATUS_OK,
                               .expect_zero = "failed"};
    double secs = 0;
    int rc = loadgen_run(lg, &ph, &secs);
    if (rc == 0) {
        r->batch_eps = (double)o->events / secs;
        if (ph.errors > 0)
            report_errors("batch", &ph, r->batch_report, sizeof r->batch_report);
        r->errors += ph.errors;
    }
    loadgen_phase_free(&ph);
    fixture_bodies_free(b, nb);
    return rc;
}

/* " 0.42x ceiling" when the ceiling ran, else spaces of the same width. */
static const char *report_ratio(char *buf, size_t cap, double eps, double ceiling)
{
    if (ceiling > 0)
        snprintf(buf, cap, "%5.2fx ceiling", eps / ceiling);
    else
        snprintf(buf, cap, "%14s", "");
    return buf;
}

static void report_table(const struct ingest_opts *o, const struct ingest_result *r)
{
    char ratio[32];
    printf("ingest benchmark: %zu events, %zu distinct fixture bodies", o->events, r->fixtures);
    if (r->rejected > 0)
        printf(" (%zu more rejected by the server)", r->rejected);
    if (r->mean_bytes > 0) /* measured on the single bodies only */
        printf(", mean body %.1f KiB", (double)r->mean_bytes / 1024.0);
    printf(", %zu connections\n", o->connections);
    if (o->run_ceiling)
        printf("%-8s %-28s %9.0f events/s\n", "ceiling", "COPY into bare jsonb table", r->ceiling_eps);
    if (o->run_single)
        printf("%-8s %-28s %9.0f events/s   %s   p50 %.1f ms  p99 %.1f ms\n", "single", "POST /api/v1/lineage",
               r->single_eps, report_ratio(ratio, sizeof ratio, r->single_eps, r->ceiling_eps), r->p50_ms,
               r->p99_ms);
    if (o->run_batch)
        printf("%-8s %-28s %9.0f events/s   %s   (batches of %zu)\n", "batch", "POST /api/v1/lineage/batch",
               r->batch_eps, report_ratio(ratio, sizeof ratio, r->batch_eps, r->ceiling_eps), o->batch_size);
}

int main(int argc, char **argv)
{
    struct ingest_opts o;
    struct ingest_result r = {0};
    struct loadgen *lg = NULL;
    struct fixture *fx = NULL;
    size_t nfx = 0;
    int rc = 1;
    if (opts_parse(argc, argv, &o) != 0)
        return INGEST_EXIT_USAGE;
    if (fixture_load_dir(o.fixtures, &fx, &nfx) != 0 || (lg = loadgen_new(o.url, o.connections)) == NULL ||
        loadgen_probe_fixtures(lg, INGEST_PATH_SINGLE, fx, &nfx, &r.rejected) != 0)
        goto out;
    r.fixtures = nfx;
    if (((o.run_ceiling || o.run_single) && run_single(&o, lg, fx, nfx, &r) != 0) ||
        (o.run_batch && run_batch(&o, lg, fx, nfx, &r) != 0))
        goto out;
    report_table(&o, &r);
    if (r.errors > 0)
        printf("%s%sFAILED: %zu requests were not accepted\n", r.single_report, r.batch_report, r.errors);
    rc = r.errors == 0 ? 0 : 1;
out:
    if (fflush(stdout) != 0) {
        perror("bench_ingest: stdout");
        rc = 1;
    }
    loadgen_free(lg);
    fixture_free_all(fx, nfx);
    return rc;
}
