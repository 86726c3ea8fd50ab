/* store/store_graph.c - every statement that reads the graph's rows: the bulk load at start-up
 * (COPY streams in one snapshot). The follower's poll of the event log is store_stream.c.
 *
 * Invariants (besides store_graph.h's):
 *  1. Each table is read with one `COPY (SELECT ...) TO STDOUT` in text format, so Postgres produces
 *     rows while the sink consumes them; memory stays bounded by libpq's input buffer and one row.
 *  2. A row is decoded in place (store_graph_copy_split: escapes only shrink it), and the sink's
 *     strings point into it: they are valid for that one call.
 *  3. When the load stops inside a COPY (sink error, bad row), the COPY is cancelled and drained
 *     before returning, so the connection is idle again and ROLLBACK can run.
 * Ownership: each row buffer comes from PQgetCopyData and is freed (PQfreemem) right after its call. */
#include "store_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "timefmt.h"

#define LOG_MODULE "store"
#include "log.h"

/* Seconds since the epoch, clamped to uint32, as SQL (date_part is double precision: much cheaper
 * than extract, which goes through numeric, over millions of rows). */
#define EPOCH(col) "greatest(0, least(4294967295, date_part('epoch', " col ")))::bigint"

enum load_table { LOAD_DATASETS, LOAD_SYMLINKS, LOAD_JOBS, LOAD_RUNS, LOAD_JOB_IO, LOAD_RUN_IO, LOAD_COLUMNS };

enum { LOAD_MAX_COLS = 8 };

/* One table of the load: its COPY statement and its columns, one letter each: 'i' a bigint (NULL
 * reads as 0), 's' a string (NULL stays NULL). */
struct load_spec {
    const char *name;
    const char *sql;
    const char *cols;
};

static const struct load_spec LOAD_SPECS[] = {
    [LOAD_DATASETS] = {"datasets", "COPY (SELECT id, namespace, name FROM datasets ORDER BY id) TO STDOUT",
                       "iss"},
    /* Each declaration by the name that made it (the declaring row may since be an alias of another
     * row): the graph replays them to arrive at the same groups and names (store_aliases.c). */
    [LOAD_SYMLINKS] = {"dataset_symlinks",
                       "COPY (SELECT d.namespace, d.name, s.namespace, s.name FROM dataset_symlinks s"
                       " JOIN datasets d ON d.id = s.dataset_id ORDER BY s.dataset_id, s.namespace, s.name) TO STDOUT",
                       "ssss"},
    [LOAD_JOBS] = {"jobs",
                   "COPY (SELECT id, namespace, name, coalesce(parent_job_id, 0) FROM jobs"
                   " ORDER BY id) TO STDOUT",
                   "issi"},
    [LOAD_RUNS] = {"runs",
                   "COPY (SELECT uuid, job_id, parent_run_uuid, " EPOCH("created_at") " FROM runs"
                   " ORDER BY created_at, uuid) TO STDOUT",
                   "sisi"},
    [LOAD_JOB_IO] = {"job_io",
                     "COPY (SELECT job_id, dataset_id, io_type, " EPOCH("first_seen") ", " EPOCH("last_seen")
                     ", last_run_uuid FROM job_io) TO STDOUT",
                     "iisiis"},
    [LOAD_RUN_IO] = {"run_io",
                     "COPY (SELECT run_uuid, dataset_id, io_type, " EPOCH("first_seen") ", "
                     EPOCH("last_seen") " FROM run_io) TO STDOUT",
                     "sisii"},
    /* Not ordered: the sink does not need it, and ORDER BY would cost Postgres a sort of the whole
     * table (0.9 s more for 1.7 M rows, measured). */
    [LOAD_COLUMNS] = {"column_lineage",
                      "COPY (SELECT output_dataset_id, output_field, input_dataset_id, input_field, "
                      EPOCH("first_seen") ", " EPOCH("last_seen") ", last_run_uuid"
                      " FROM column_lineage) TO STDOUT",
                      "isisiis"},
};

/* A decoded row: column i is num[i] or str[i], as the spec's letter says. */
struct load_row {
    int64_t num[LOAD_MAX_COLS];
    const char *str[LOAD_MAX_COLS];
};

/* Value of an escape's digit in `base` (8 or 16), or -1. */
static int digit_value(char c, int base)
{
    if (c >= '0' && c <= '7')
        return c - '0';
    if (base == 8)
        return -1;
    if (c >= '8' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the escape after a backslash at *p (p < end): advances *p past it and returns the byte. */
static char decode_escape(const char **p, const char *end)
{
    char c = *(*p)++;
    int v, d, max_digits;

    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    case 'x':
        if (*p == end || digit_value(**p, 16) < 0)
            return 'x'; /* "\x" not followed by a hex digit is a plain x */
        v = 0;
        max_digits = 2;
        break;
    default:
        if (digit_value(c, 8) < 0)
            return c; /* \\ and any other escaped character stand for themselves */
        v = c - '0';
        max_digits = 2; /* up to three octal digits in all */
        break;
    }
    int base = c == 'x' ? 16 : 8;
    for (int i = 0; i < max_digits && *p < end && (d = digit_value(**p, base)) >= 0; i++, (*p)++)
        v = v * base + d;
    return (char)v;
}

int store_graph_copy_split(char *line, size_t len, char **fields, size_t max_fields, size_t *n_out)
{
    char *end = line + len;
    const char *p = line;
    size_t n = 0;

    if (len > 0 && end[-1] == '\n')
        end--;
    for (;;) {
        if (n == max_fields)
            return -1;
        if (end - p >= 2 && p[0] == '\\' && p[1] == 'N' && (p + 2 == end || p[2] == '\t')) {
            fields[n++] = NULL;
            p += 2;
        } else {
            char *out = line + (p - line);
            fields[n++] = out;
            while (p < end && *p != '\t') {
                char c = *p++;
                if (c == '\\') {
                    if (p == end)
                        return -1; /* a row never ends in a lone backslash */
                    if ((c = decode_escape(&p, end)) == '\0')
                        return -1; /* Postgres text never holds a NUL */
                }
                *out++ = c;
            }
            *out = '\0'; /* at most p: overwrites the tab, the newline or libpq's terminating NUL */
        }
        if (p == end)
            break;
        p++; /* the tab */
    }
    *n_out = n;
    return 0;
}

/* A bigint column's text (optional minus, decimal digits) to *v. Returns 0, or -1 if malformed. */
static int parse_int(const char *s, int64_t *v)
{
    bool neg = *s == '-';
    uint64_t u = 0;
    const char *d = s + neg;

    if (*d == '\0')
        return -1;
    for (; *d != '\0'; d++) {
        if (*d < '0' || *d > '9' || u > (UINT64_MAX - 9) / 10)
            return -1;
        u = u * 10 + (uint64_t)(*d - '0');
    }
    if (u > (uint64_t)INT64_MAX + neg)
        return -1;
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

/* Splits and decodes one COPY line of `spec` into *row. Returns 0, or -1 with e set. */
static int decode_row(const struct load_spec *spec, char *line, size_t len, struct load_row *row,
                      struct err *e)
{
    char *f[LOAD_MAX_COLS];
    size_t n, want = strlen(spec->cols);

    if (store_graph_copy_split(line, len, f, LOAD_MAX_COLS, &n) != 0 || n != want)
        return err_set_detail(e, ERR_INTERNAL, spec->name, "malformed row in the graph load");
    for (size_t i = 0; i < n; i++) {
        row->str[i] = f[i];
        row->num[i] = 0;
        if (spec->cols[i] == 'i' && f[i] != NULL && parse_int(f[i], &row->num[i]) != 0)
            return err_set_detail(e, ERR_INTERNAL, spec->name, "malformed number in the graph load");
    }
    return 0;
}

static char io_of(const char *s)
{
    return s != NULL && s[0] == 'I' ? 'I' : 'O';
}

/* Passes one decoded row of `table` to the sink. */
static int emit_row(const struct store_graph_sink *k, enum load_table table, const struct load_row *r,
                    struct err *e)
{
    const int64_t *i = r->num;
    const char *const *s = r->str;

    switch (table) {
    case LOAD_DATASETS:
        return k->dataset(k->ctx, i[0], s[1], s[2], e);
    case LOAD_SYMLINKS:
        return k->symlink(k->ctx, s[0], s[1], s[2], s[3], e);
    case LOAD_JOBS:
        return k->job(k->ctx, i[0], s[1], s[2], i[3], e);
    case LOAD_RUNS:
        return k->run(k->ctx, s[0], i[1], s[2], (uint32_t)i[3], e);
    case LOAD_JOB_IO:
        return k->job_io(k->ctx, i[0], i[1], io_of(s[2]), (uint32_t)i[3], (uint32_t)i[4], s[5], e);
    case LOAD_RUN_IO:
        return k->run_io(k->ctx, s[0], i[1], io_of(s[2]), (uint32_t)i[3], (uint32_t)i[4], e);
    case LOAD_COLUMNS:
        return k->column(k->ctx, i[0], s[1], i[2], s[3], (uint32_t)i[4], (uint32_t)i[5], s[6], e);
    }
    return 0;
}

/* Stops a COPY OUT that is still running: asks the server to cancel it, then reads and drops what
 * was already sent, and its final result, so the connection is idle again (invariant 3). A failed
 * cancel request only means the rest of the rows are read and dropped. Cannot fail. */
static void copy_abandon(struct store *s)
{
    char errbuf[256];
    char *line;
    PGresult *res;
    PGcancel *cancel = PQgetCancel(s->conn);

    if (cancel != NULL) {
        if (PQcancel(cancel, errbuf, sizeof errbuf) != 1)
            log_debug("cancelling the graph load's COPY failed: %s", errbuf);
        PQfreeCancel(cancel);
    }
    while (PQgetCopyData(s->conn, &line, 0) > 0)
        PQfreemem(line);
    while ((res = PQgetResult(s->conn)) != NULL)
        PQclear(res);
}

/* Streams LOAD_SPECS[table] to the sink with COPY ... TO STDOUT (invariant 1). */
static int load_table(struct store *s, const struct store_graph_sink *k, enum load_table table, struct err *e)
{
    const struct load_spec *spec = &LOAD_SPECS[table];
    struct load_row row;
    char *line;
    int len, rc = 0;
    size_t rows = 0;
    int64_t started = time_now_usec();
    PGresult *res = PQexec(s->conn, spec->sql);

    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        store_fail(s, res, "graph load", e);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    while ((len = PQgetCopyData(s->conn, &line, 0)) > 0) {
        rc = decode_row(spec, line, (size_t)len, &row, e);
        if (rc == 0)
            rc = emit_row(k, table, &row, e);
        PQfreemem(line);
        rows++;
        if (rc != 0) {
            copy_abandon(s);
            return -1;
        }
    }
    /* -1: the COPY ended, its result says how; -2: the connection failed (PQgetResult then reports
     * the error, or returns NULL and store_fail reads the connection's message). */
    res = PQgetResult(s->conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = store_fail(s, res, "graph load", e);
    PQclear(res);
    while ((res = PQgetResult(s->conn)) != NULL)
        PQclear(res);
    if (rc == 0)
        log_debug("graph load: %zu rows of %s in %lld ms", rows, spec->name,
                  (long long)((time_now_usec() - started) / 1000));
    return rc;
}

int store_read_xmin(struct store *s, uint64_t *xmin, struct err *e)
{
    PGresult *res = PQexec(s->conn, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        store_fail(s, res, "reading the snapshot", e);
        PQclear(res);
        return -1;
    }
    *xmin = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int store_graph_load(struct store *s, const struct store_graph_sink *sink, uint64_t *xmin_out, struct err *e)
{
    struct err ignored;

    if (store_command(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e) != 0)
        return -1;
    if (store_read_xmin(s, xmin_out, e) != 0)
        goto fail;
    /* Unordered tables are read from their first block even when another collector is loading at the
     * same time (a synchronized scan would start mid-table), so both build their edge lists in the
     * same order and cut truncated walks at the same nodes. */
    if (store_command(s, "SET LOCAL synchronize_seqscans = off", e) != 0)
        goto fail;
    for (int t = LOAD_DATASETS; t <= LOAD_COLUMNS; t++)
        if (load_table(s, sink, (enum load_table)t, e) != 0)
            goto fail;
    return store_command(s, "COMMIT", e);
fail:
    /* The load failed already; a failed ROLLBACK only means the connection is gone too. */
    store_command(s, "ROLLBACK", &ignored);
    return -1;
}
