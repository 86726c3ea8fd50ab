/* common/store_graph.c - every statement that reads the graph's rows: the bulk load at start-up
 * (cursors in one snapshot) and the follower's poll of the event log.
 *
 * Invariants: see store_graph.h. Cursor batches are FETCH_ROWS rows, so memory stays bounded by one
 * batch however large the tables are. */
#include "store_graph.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define LOG_MODULE "store"
#include "log.h"

enum { FETCH_ROWS = 50000 };

/* Seconds since the epoch, clamped to uint32, as SQL (date_part is double precision: much cheaper
 * than extract, which goes through numeric, over millions of rows). */
#define EPOCH(col) "greatest(0, least(4294967295, date_part('epoch', " col ")))::bigint"

static const char *const LOAD_SQL[] = {
    "SELECT id, namespace, name FROM datasets ORDER BY id",
    "SELECT dataset_id, namespace, name FROM dataset_symlinks ORDER BY dataset_id, namespace, name",
    "SELECT id, namespace, name, coalesce(parent_job_id, 0) FROM jobs ORDER BY id",
    "SELECT uuid, job_id, parent_run_uuid, " EPOCH("created_at") " FROM runs ORDER BY created_at, uuid",
    "SELECT job_id, dataset_id, io_type, " EPOCH("first_seen") ", " EPOCH("last_seen") ", last_run_uuid FROM job_io",
    "SELECT run_uuid, dataset_id, io_type, " EPOCH("first_seen") ", " EPOCH("last_seen") " FROM run_io",
    "SELECT output_dataset_id, output_field, input_dataset_id, input_field, " EPOCH("first_seen") ", " EPOCH(
        "last_seen") ", last_run_uuid FROM column_lineage",
};

enum load_table { LOAD_DATASETS, LOAD_SYMLINKS, LOAD_JOBS, LOAD_RUNS, LOAD_JOB_IO, LOAD_RUN_IO, LOAD_COLUMNS };

static int64_t int_at(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static const char *str_at(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static char io_at(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col)[0] == 'I' ? 'I' : 'O';
}

/* Passes one fetched row of `table` to the sink. */
static int emit_row(const struct store_graph_sink *k, enum load_table table, const PGresult *r, int i,
                    struct err *e)
{
    switch (table) {
    case LOAD_DATASETS:
        return k->dataset(k->ctx, int_at(r, i, 0), str_at(r, i, 1), str_at(r, i, 2), e);
    case LOAD_SYMLINKS:
        return k->symlink(k->ctx, int_at(r, i, 0), str_at(r, i, 1), str_at(r, i, 2), e);
    case LOAD_JOBS:
        return k->job(k->ctx, int_at(r, i, 0), str_at(r, i, 1), str_at(r, i, 2), int_at(r, i, 3), e);
    case LOAD_RUNS:
        return k->run(k->ctx, str_at(r, i, 0), int_at(r, i, 1), str_at(r, i, 2), (uint32_t)int_at(r, i, 3), e);
    case LOAD_JOB_IO:
        return k->job_io(k->ctx, int_at(r, i, 0), int_at(r, i, 1), io_at(r, i, 2), (uint32_t)int_at(r, i, 3),
                         (uint32_t)int_at(r, i, 4), str_at(r, i, 5), e);
    case LOAD_RUN_IO:
        return k->run_io(k->ctx, str_at(r, i, 0), int_at(r, i, 1), io_at(r, i, 2), (uint32_t)int_at(r, i, 3),
                         (uint32_t)int_at(r, i, 4), e);
    case LOAD_COLUMNS:
        return k->column(k->ctx, int_at(r, i, 0), str_at(r, i, 1), int_at(r, i, 2), str_at(r, i, 3),
                         (uint32_t)int_at(r, i, 4), (uint32_t)int_at(r, i, 5), str_at(r, i, 6), e);
    }
    return 0;
}

/* Declares a cursor for LOAD_SQL[table] and streams it to the sink in FETCH_ROWS batches. */
static int load_table(struct store *s, const struct store_graph_sink *k, enum load_table table, struct err *e)
{
    char declare[1024];
    static const char FETCH[] = "FETCH " "50000" " FROM graph_load";

    _Static_assert(FETCH_ROWS == 50000, "FETCH text must match FETCH_ROWS");
    snprintf(declare, sizeof declare, "DECLARE graph_load NO SCROLL CURSOR FOR %s", LOAD_SQL[table]);
    if (store_command(s, declare, e) != 0)
        return -1;
    for (;;) {
        PGresult *res = PQexec(s->conn, FETCH);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            store_fail(s, res, "graph load", e);
            PQclear(res);
            return -1;
        }
        int n = PQntuples(res);
        for (int i = 0; i < n; i++) {
            if (emit_row(k, table, res, i, e) != 0) {
                PQclear(res);
                return -1;
            }
        }
        PQclear(res);
        if (n < FETCH_ROWS)
            break;
    }
    return store_command(s, "CLOSE graph_load", e);
}

static int read_xmin(struct store *s, uint64_t *xmin, struct err *e)
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
    if (read_xmin(s, xmin_out, e) != 0)
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

static const struct store_stmt FOLLOW_EVENTS = {
    "graph_follow_events",
    "SELECT seq, body::text FROM events WHERE xid >= $1::xid8 AND xid < $2::xid8 ORDER BY seq", 2};

int store_graph_follow(struct store *s, uint64_t *xmin,
                       int (*fn)(void *ctx, int64_t seq, const char *body, size_t len, struct err *e), void *ctx,
                       struct err *e)
{
    uint64_t now;
    char lo[32], hi[32];

    if (read_xmin(s, &now, e) != 0)
        return -1;
    if (now <= *xmin)
        return 0;
    snprintf(lo, sizeof lo, "%" PRIu64, *xmin);
    snprintf(hi, sizeof hi, "%" PRIu64, now);
    const char *params[] = {lo, hi};
    PGresult *res = store_exec(s, &FOLLOW_EVENTS, params, e);
    if (res == NULL)
        return -1;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        if (fn(ctx, int_at(res, i, 0), PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1), e) != 0) {
            PQclear(res);
            return -1;
        }
    }
    PQclear(res);
    *xmin = now;
    return n;
}
