/* store/store_graph.c - every statement that reads the graph's rows: the bulk load at start-up
 * (binary COPY streams in one snapshot). The follower's poll of the event log is store_stream.c.
 *
 * Invariants (besides store_graph.h's):
 *  1. Each table is read with one `COPY (SELECT ...) TO STDOUT (FORMAT binary)`, so Postgres produces
 *     rows while the sink consumes them; memory stays bounded by libpq's input buffer, one row and
 *     the row's decoded strings. Binary, because text output would cost Postgres a conversion of
 *     every integer and time, and us the parsing back.
 *  2. A row is decoded (store_copy.c) into an arena that the sink's strings point into: they are
 *     valid for that one call (column rows: for the call that gets their batch). Each column's binary
 *     length is checked against its type.
 *  3. When the load stops inside a COPY (sink error, bad row), the COPY is cancelled and drained
 *     before returning, so the connection is idle again and ROLLBACK can run.
 *  4. dataset_fields is read on a second connection that imports the first one's snapshot
 *     (pg_export_snapshot), in a thread of its own, while the first connection streams runs, job_io,
 *     run_io and column_lineage: both see the same rows. The thread starts after the last job row
 *     and is joined before store_graph_load returns, whatever happened on either side.
 * Ownership: each message comes from PQgetCopyData and is freed (PQfreemem) once its rows are decoded;
 * the arena lives for one load. */
#include "store_graph.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_copy.h"
#include "store_int.h"
#include "timefmt.h"
#include "uuid.h"

#define LOG_MODULE "store"
#include "log.h"

enum load_table {
    LOAD_DATASETS,
    LOAD_SYMLINKS,
    LOAD_JOBS,
    LOAD_RUNS,
    LOAD_JOB_IO,
    LOAD_RUN_IO,
    LOAD_COLUMNS,
    LOAD_FIELDS,
};

enum { LOAD_MAX_COLS = 12, LOAD_USEC_PER_SEC = 1000000, LOAD_SNAPSHOT_MAX = 64 };

/* One table of the load: its COPY statement and its columns, one letter each, as the binary format
 * sends them: 'i' int8 and 'n' int4 (NULL reads as 0), 'b' bool (NULL reads as false), 't'
 * timestamptz (microseconds since the Unix epoch; NULL reads as 0), 's' text and 'u' uuid (as
 * text; NULL stays NULL). */
struct load_spec {
    const char *name;
    const char *sql;
    const char *cols;
};

static const struct load_spec LOAD_SPECS[] = {
    [LOAD_DATASETS] = {"datasets",
                       "COPY (SELECT id, namespace, name, type, physical_name, source_name, description,"
                       " lifecycle_state, created_at, updated_at, dataset_type, sub_type FROM datasets ORDER BY id)"
                       " TO STDOUT (FORMAT binary)",
                       "isssssssttss"},
    /* Each declaration by the name that made it (the declaring row may since be an alias of another
     * row): the graph replays them to arrive at the same groups and names (store_aliases.c). */
    [LOAD_SYMLINKS] = {"dataset_symlinks",
                       "COPY (SELECT d.namespace, d.name, s.namespace, s.name FROM dataset_symlinks s"
                       " JOIN datasets d ON d.id = s.dataset_id ORDER BY s.dataset_id, s.namespace, s.name)"
                       " TO STDOUT (FORMAT binary)",
                       "ssss"},
    [LOAD_JOBS] = {"jobs",
                   "COPY (SELECT id, coalesce(parent_job_id, 0), namespace, name, simple_name, type, description,"
                   " location, latest_run_uuid, created_at, updated_at FROM jobs ORDER BY id) TO STDOUT (FORMAT binary)",
                   "iissssssutt"},
    [LOAD_RUNS] = {"runs",
                   "COPY (SELECT uuid, job_id, parent_run_uuid, created_at FROM runs ORDER BY created_at, uuid)"
                   " TO STDOUT (FORMAT binary)",
                   "uiut"},
    [LOAD_JOB_IO] = {"job_io",
                     "COPY (SELECT job_id, dataset_id, io_type = 'INPUT', first_seen, last_seen, last_run_uuid"
                     " FROM job_io) TO STDOUT (FORMAT binary)",
                     "iibttu"},
    [LOAD_RUN_IO] = {"run_io",
                     "COPY (SELECT run_uuid, dataset_id, io_type = 'INPUT', first_seen, last_seen FROM run_io)"
                     " TO STDOUT (FORMAT binary)",
                     "uibtt"},
    /* Not ordered: the sink does not need it, and ORDER BY would cost Postgres a sort of the whole
     * table (0.9 s more for 1.7 M rows, measured). */
    [LOAD_COLUMNS] = {"column_lineage",
                      "COPY (SELECT output_dataset_id, output_field, input_dataset_id, input_field, first_seen,"
                      " last_seen, last_run_uuid FROM column_lineage) TO STDOUT (FORMAT binary)",
                      "isisttu"},
    [LOAD_FIELDS] = {"dataset_fields",
                     "COPY (SELECT dataset_id, name, type, description, ordinal FROM dataset_fields)"
                     " TO STDOUT (FORMAT binary)",
                     "isssn"},
};

/* A decoded row: column i is num[i] or str[i], as the spec's letter says; strings live in the load's arena. */
struct load_row {
    int64_t num[LOAD_MAX_COLS];
    const char *str[LOAD_MAX_COLS];
};

/* Column-lineage rows go to the sink this many at a time (the graph fetches a batch's memory ahead). */
enum { LOAD_BATCH = 256 };

/* One load's state: the sink, the arena decoded strings go to (reset after each row, or after each
 * batch of column rows), and the batch being filled. */
struct load {
    const struct store_graph_sink *sink;
    struct arena *strings;
    struct store_graph_column batch[LOAD_BATCH];
    size_t n_batch;
};

/* The binary length a column letter needs (0: any length, text). */
static int32_t col_size(char c)
{
    switch (c) {
    case 'i': case 't': return 8;
    case 'n': return 4;
    case 'b': return 1;
    case 'u': return 16;
    default: return 0;
    }
}

/* Value of one non-NULL column; strings are copied into a (with their NUL). */
static void decode_col(struct arena *a, char c, const char *v, int32_t len, int64_t *num, const char **str)
{
    struct uuid u;
    char *out;

    switch (c) {
    case 'i': *num = store_copy_int64(v); return;
    case 'n': *num = store_copy_int32(v); return;
    case 'b': *num = v[0] != 0; return;
    case 't': *num = store_copy_epoch_usec(store_copy_int64(v)); return;
    case 'u':
        memcpy(u.b, v, sizeof u.b);
        out = arena_alloc(a, UUID_STR_MAX);
        uuid_to_string(&u, out);
        *str = out;
        return;
    default:
        out = arena_alloc(a, (size_t)len + 1);
        memcpy(out, v, (size_t)len);
        out[len] = '\0';
        *str = out;
        return;
    }
}

/* Checks one tuple against `spec` and decodes it into *row. Returns 0, or -1 with e set. */
static int decode_row(struct load *l, const struct load_spec *spec, const struct store_copy_tuple *t,
                      struct load_row *row, struct err *e)
{
    size_t n = strlen(spec->cols);

    if (t->n != n)
        return err_set_detail(e, ERR_INTERNAL, spec->name, "malformed row in the graph load");
    for (size_t i = 0; i < n; i++) {
        char c = spec->cols[i];
        row->num[i] = 0;
        row->str[i] = NULL;
        if (t->len[i] < 0)
            continue;
        if (col_size(c) != 0 && t->len[i] != col_size(c))
            return err_set_detail(e, ERR_INTERNAL, spec->name, "malformed value in the graph load");
        decode_col(l->strings, c, t->val[i], t->len[i], &row->num[i], &row->str[i]);
    }
    return 0;
}

/* Microseconds since the epoch to seconds, rounded down and clamped to uint32 (as sync.c does). */
static uint32_t seconds(int64_t usec)
{
    int64_t s = usec / LOAD_USEC_PER_SEC;
    return usec < 0 ? 0 : s > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static char io_of(int64_t is_input)
{
    return is_input ? 'I' : 'O';
}

static int emit_dataset(const struct store_graph_sink *k, const struct load_row *r, struct err *e)
{
    const struct store_graph_dataset d = {
        .id = r->num[0], .ns = r->str[1], .name = r->str[2], .type = r->str[3], .physical_name = r->str[4],
        .source_name = r->str[5], .description = r->str[6], .lifecycle_state = r->str[7],
        .created_usec = r->num[8], .updated_usec = r->num[9], .dataset_type = r->str[10], .sub_type = r->str[11]};

    return k->dataset(k->ctx, &d, e);
}

static int emit_job(const struct store_graph_sink *k, const struct load_row *r, struct err *e)
{
    const struct store_graph_job j = {
        .id = r->num[0], .parent_id = r->num[1], .ns = r->str[2], .name = r->str[3], .simple_name = r->str[4],
        .type = r->str[5], .description = r->str[6], .location = r->str[7], .latest_run = r->str[8],
        .created_usec = r->num[9], .updated_usec = r->num[10]};

    return k->job(k->ctx, &j, e);
}

/* Passes one decoded row of `table` to the sink. */
static int emit_row(const struct store_graph_sink *k, enum load_table table, const struct load_row *r,
                    struct err *e)
{
    const int64_t *i = r->num;
    const char *const *s = r->str;

    switch (table) {
    case LOAD_DATASETS:
        return emit_dataset(k, r, e);
    case LOAD_SYMLINKS:
        return k->symlink(k->ctx, s[0], s[1], s[2], s[3], e);
    case LOAD_JOBS:
        return emit_job(k, r, e);
    case LOAD_RUNS:
        return k->run(k->ctx, s[0], i[1], s[2], seconds(i[3]), e);
    case LOAD_JOB_IO:
        return k->job_io(k->ctx, i[0], i[1], io_of(i[2]), seconds(i[3]), seconds(i[4]), s[5], e);
    case LOAD_RUN_IO:
        return k->run_io(k->ctx, s[0], i[1], io_of(i[2]), seconds(i[3]), seconds(i[4]), e);
    case LOAD_COLUMNS:
        return 0; /* batched: see load_message */
    case LOAD_FIELDS: {
        const struct store_graph_field f = {i[0], s[1], s[2], s[3], (int32_t)i[4]};
        return k->field(k->ctx, &f, e);
    }
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

/* Hands the column rows gathered so far to the sink and frees their strings. */
static int flush_columns(struct load *l, struct err *e)
{
    int rc = l->n_batch > 0 ? l->sink->columns(l->sink->ctx, l->batch, l->n_batch, e) : 0;

    l->n_batch = 0;
    arena_reset(l->strings);
    return rc;
}

/* Passes one decoded row to the sink: column rows in batches, the others one by one. */
static int take_row(struct load *l, enum load_table table, const struct load_row *r, struct err *e)
{
    const int64_t *i = r->num;
    const char *const *s = r->str;
    int rc;

    if (table != LOAD_COLUMNS) {
        rc = emit_row(l->sink, table, r, e);
        arena_reset(l->strings);
        return rc;
    }
    l->batch[l->n_batch++] = (struct store_graph_column){
        .out_dataset = i[0], .out_field = s[1], .in_dataset = i[2], .in_field = s[3],
        .first_seen = seconds(i[4]), .last_seen = seconds(i[5]), .run_uuid = s[6]};
    return l->n_batch == LOAD_BATCH ? flush_columns(l, e) : 0;
}

/* Passes every tuple of one COPY message to the sink. Returns 0, or -1 with e set. */
static int load_message(struct load *l, enum load_table table, struct store_copy_reader *rd, const char *msg,
                        size_t len, size_t *rows, struct err *e)
{
    const struct load_spec *spec = &LOAD_SPECS[table];
    struct store_copy_tuple t;
    struct load_row row;
    size_t pos = 0;
    int rc;

    while ((rc = store_copy_next(rd, msg, len, &pos, LOAD_MAX_COLS, &t)) == 1) {
        if (decode_row(l, spec, &t, &row, e) != 0 || take_row(l, table, &row, e) != 0)
            return -1;
        (*rows)++;
    }
    return rc == 0 ? 0 : err_set_detail(e, ERR_INTERNAL, spec->name, "malformed COPY data in the graph load");
}

/* Streams LOAD_SPECS[table] to the sink with COPY ... TO STDOUT (invariant 1). */
static int load_table(struct store *s, struct load *l, enum load_table table, struct err *e)
{
    const struct load_spec *spec = &LOAD_SPECS[table];
    struct store_copy_reader rd = {0};
    char *msg;
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
    while ((len = PQgetCopyData(s->conn, &msg, 0)) > 0) {
        rc = load_message(l, table, &rd, msg, (size_t)len, &rows, e);
        PQfreemem(msg);
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
    else if (!rd.ended)
        rc = err_set_detail(e, ERR_INTERNAL, spec->name, "COPY data of the graph load ended early");
    else
        rc = flush_columns(l, e);
    PQclear(res);
    while ((res = PQgetResult(s->conn)) != NULL)
        PQclear(res);
    if (rc == 0)
        log_debug("graph load: %zu rows of %s in %lld ms", rows, spec->name,
                  (long long)((time_now_usec() - started) / 1000));
    return rc;
}

/* The planner's row estimate of each table, in store_graph_sizes order. */
static const char LOAD_SIZES_SQL[] =
    "SELECT (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(t))"
    " FROM unnest(ARRAY['datasets', 'dataset_symlinks', 'jobs', 'runs', 'job_io', 'run_io', 'column_lineage',"
    " 'dataset_fields']) WITH ORDINALITY AS x(t, o) ORDER BY o";

/* Tells the sink how large the tables are (inside the load's transaction: a failure ends it). */
static int load_sizes(struct store *s, const struct store_graph_sink *k, struct err *e)
{
    struct store_graph_sizes sz = {0};
    size_t v[8];
    PGresult *res;

    if (k->sizes == NULL)
        return 0;
    res = PQexec(s->conn, LOAD_SIZES_SQL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 8) {
        store_fail(s, res, "graph load sizes", e);
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < 8; i++)
        v[i] = PQgetisnull(res, i, 0) ? 0 : (size_t)strtoull(PQgetvalue(res, i, 0), NULL, 10);
    PQclear(res);
    sz = (struct store_graph_sizes){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    k->sizes(k->ctx, &sz);
    return 0;
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

static struct load *load_new(const struct store_graph_sink *sink)
{
    struct load *l = calloc(1, sizeof *l);

    if (l != NULL) {
        l->sink = sink;
        l->strings = arena_new();
    }
    return l;
}

static void load_free(struct load *l)
{
    if (l != NULL)
        arena_free(l->strings);
    free(l);
}

/* dataset_fields, read on a second connection in the first one's snapshot while that one streams
 * the edge tables (invariant 4): Postgres and the sink's node data use the second core then. */
struct fields_reader {
    pthread_t thread;
    const char *conninfo;
    const struct store_graph_sink *sink;
    char snapshot[LOAD_SNAPSHOT_MAX];
    struct err e;
    int rc;
};

/* Snapshot ids are hex digits and dashes ("00000003-0000001B-1"): checked, since SET TRANSACTION
 * SNAPSHOT takes a literal, not a parameter. */
static bool snapshot_id_ok(const char *id)
{
    size_t n = strlen(id);

    return n > 0 && n < LOAD_SNAPSHOT_MAX && strspn(id, "0123456789ABCDEFabcdef-") == n;
}

static void *fields_main(void *arg)
{
    struct fields_reader *f = arg;
    char sql[LOAD_SNAPSHOT_MAX + 64];
    struct err ignored;
    struct load *l = load_new(f->sink);
    struct store *s = l != NULL ? store_connect(f->conninfo, &f->e) : NULL;

    f->rc = -1;
    if (l == NULL)
        err_set(&f->e, ERR_INTERNAL, NULL, "out of memory loading the graph");
    snprintf(sql, sizeof sql, "SET TRANSACTION SNAPSHOT '%s'", f->snapshot);
    if (s != NULL && store_command(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", &f->e) == 0) {
        if (store_command(s, sql, &f->e) == 0 && load_table(s, l, LOAD_FIELDS, &f->e) == 0)
            f->rc = store_command(s, "COMMIT", &f->e);
        else
            store_command(s, "ROLLBACK", &ignored); /* failed already; the connection goes anyway */
    }
    store_free(s);
    load_free(l);
    return NULL;
}

/* Exports the load's snapshot and starts the fields reader. Returns 0, or -1 with e set. */
static int fields_start(struct store *s, struct fields_reader *f, struct err *e)
{
    PGresult *res = PQexec(s->conn, "SELECT pg_export_snapshot()");
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
             snapshot_id_ok(PQgetvalue(res, 0, 0));

    if (!ok) {
        store_fail(s, res, "graph load snapshot", e);
        PQclear(res);
        return -1;
    }
    snprintf(f->snapshot, sizeof f->snapshot, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    f->conninfo = s->conninfo;
    if (pthread_create(&f->thread, NULL, fields_main, f) != 0)
        return err_set(e, ERR_INTERNAL, NULL, "cannot start a thread for the graph load");
    return 0;
}

/* Waits for the fields reader; its error, if any, becomes e (unless e holds one already: rc != 0). */
static int fields_join(struct fields_reader *f, int rc, struct err *e)
{
    pthread_join(f->thread, NULL);
    if (rc == 0 && f->rc != 0) {
        *e = f->e;
        return -1;
    }
    return rc;
}

/* The edge tables, and the fields reader beside them (started once every dataset and job row is
 * in: the sink's field callback reads what those built). */
static int load_tables(struct store *s, struct load *l, uint64_t *xmin_out, struct err *e)
{
    struct fields_reader f = {.sink = l->sink};
    bool fields = l->sink->field != NULL;
    int rc = 0;

    if (store_read_xmin(s, xmin_out, e) != 0 || load_sizes(s, l->sink, e) != 0)
        return -1;
    /* Unordered tables are read from their first block even when another collector is loading at the
     * same time (a synchronized scan would start mid-table), so both build their edge lists in the
     * same order and cut truncated walks at the same nodes. */
    if (store_command(s, "SET LOCAL synchronize_seqscans = off", e) != 0)
        return -1;
    for (int t = LOAD_DATASETS; t <= LOAD_JOBS; t++)
        if (load_table(s, l, (enum load_table)t, e) != 0)
            return -1;
    if (fields && fields_start(s, &f, e) != 0)
        return -1;
    for (int t = LOAD_RUNS; t <= LOAD_COLUMNS && rc == 0; t++)
        rc = load_table(s, l, (enum load_table)t, e);
    return fields ? fields_join(&f, rc, e) : rc;
}

int store_graph_load(struct store *s, const struct store_graph_sink *sink, uint64_t *xmin_out, struct err *e)
{
    struct load *l = load_new(sink);
    struct err ignored;

    if (l == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory loading the graph");
    if (store_command(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e) != 0) {
        load_free(l);
        return -1;
    }
    if (load_tables(s, l, xmin_out, e) != 0) {
        load_free(l);
        /* The load failed already; a failed ROLLBACK only means the connection is gone too. */
        store_command(s, "ROLLBACK", &ignored);
        return -1;
    }
    load_free(l);
    return store_command(s, "COMMIT", e);
}
