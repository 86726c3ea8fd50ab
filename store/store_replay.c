/* store/store_replay.c - the SQL side of `lineaged replay` (see store/store_replay.h): scratch
 * schema, one snapshot of the live model and log, and the table-by-table comparison.
 *
 * Invariants:
 *  1. The live model's projections and the log are read in one REPEATABLE READ transaction, so the
 *     comparison is against the model exactly as that log left it, whatever is ingested meanwhile.
 *  2. Projections are copied into tables of the scratch schema (live_<t>, replay_<t>) and compared
 *     there; the live schema is only read.
 *  3. Schema names are plain identifiers made by the caller, and still quoted with
 *     PQescapeIdentifier; nothing from the log is ever pasted into SQL.
 * Threads: one thread per struct store. */
#include "store_replay_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The log grouped by writing transaction (xid), groups in the order of their first seq, events in seq
 * order: keys are sorted first, then each body is fetched by primary key (OFFSET 0 keeps that a
 * per-row lookup, so bodies are never sorted). */
static const char CURSOR_SQL[] =
    "DECLARE replay_log NO SCROLL CURSOR FOR"
    " SELECT k.seq, encode(e.hash, 'hex'), e.body::text, k.first_seq"
    " FROM (SELECT seq, received_at, min(seq) OVER (PARTITION BY xid) AS first_seq FROM events"
    "  ORDER BY 3, 1) k"
    " CROSS JOIN LATERAL (SELECT hash, body FROM events e"
    "  WHERE e.seq = k.seq AND e.received_at = k.received_at OFFSET 0) e"
    " ORDER BY k.first_seq, k.seq";

/* $1: every table name replay knows (compared or not derived), as a text[] literal. */
static const struct store_stmt LOG_INFO = {
    "replay_log_info",
    "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_log_dropped),"
    " (SELECT api_ts(max(upper_bound)) FROM event_log_dropped),"
    " (SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c"
    "  JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
    "   AND c.relname <> ALL ($1::text[]))",
    1};

static char *quoted(struct store *s, struct arena *a, const char *ident, struct err *e)
{
    char *q = PQescapeIdentifier(s->conn, ident, strlen(ident));
    if (q == NULL) {
        store_fail(s, NULL, "quoting a schema name", e);
        return NULL;
    }
    char *copy = arena_strdup(a, q);
    PQfreemem(q);
    return copy;
}

struct store *store_replay_scratch_connect(const char *conninfo, const char *schema, struct err *e)
{
    char options[256];
    struct arena *a = arena_new();

    snprintf(options, sizeof options, "-c search_path=%s -c synchronous_commit=off", schema);
    struct store *s = store_connect_with(conninfo, options, e);
    char *q = s != NULL ? quoted(s, a, schema, e) : NULL;
    if (q == NULL || store_command(s, arena_printf(a, "CREATE SCHEMA %s", q), e) != 0) {
        store_free(s);
        s = NULL;
    }
    arena_free(a);
    return s;
}

int store_replay_scratch_drop(struct store *s, const char *schema, struct err *e)
{
    struct arena *a = arena_new();
    char *q = quoted(s, a, schema, e);
    int rc = q != NULL ? store_command(s, arena_printf(a, "DROP SCHEMA %s CASCADE", q), e) : -1;

    arena_free(a);
    return rc;
}

/* {name,name,...} of every table replay knows. */
static const char *known_tables(struct arena *a)
{
    size_t n_cmp, n_not;
    const struct store_replay_projection *cmp = store_replay_tables(&n_cmp);
    const char *const *excluded = store_replay_not_derived(&n_not);
    const char *out = "{";

    for (size_t i = 0; i < n_cmp; i++)
        out = arena_printf(a, "%s%s%s", out, i ? "," : "", cmp[i].table);
    for (size_t i = 0; i < n_not; i++)
        out = arena_printf(a, "%s,%s", out, excluded[i]);
    return arena_printf(a, "%s}", out);
}

static const char *value_or_null(struct arena *a, const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : arena_strdup(a, PQgetvalue(res, row, col));
}

int store_replay_log_info(struct store *live, struct arena *a, struct store_replay_log_info *info,
                          struct err *e)
{
    const char *params[] = {known_tables(a)};
    PGresult *res = store_exec(live, &LOG_INFO, params, e);

    if (res == NULL)
        return -1;
    info->events = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    info->dropped_parts = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    info->dropped_until = value_or_null(a, res, 0, 2);
    info->unknown_tables = value_or_null(a, res, 0, 3);
    PQclear(res);
    return 0;
}

int store_replay_snapshot(struct store *live, struct arena *a, const char *schema, bool with_log,
                          struct store_replay_log_info *info, struct err *e)
{
    struct err ignored;
    size_t n;
    const struct store_replay_projection *t = store_replay_tables(&n);
    char *q = quoted(live, a, schema, e);

    if (q == NULL || store_command(live, "BEGIN ISOLATION LEVEL REPEATABLE READ", e) != 0)
        return -1;
    if (store_replay_log_info(live, a, info, e) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (store_command(live, arena_printf(a, "CREATE TABLE %s.live_%s AS %s", q, t[i].table, t[i].sql),
                          e) != 0)
            goto fail;
    if (!with_log)
        return store_command(live, "COMMIT", e);
    if (store_command(live, CURSOR_SQL, e) == 0)
        return 0;
fail:
    store_command(live, "ROLLBACK", &ignored);
    return -1;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* 64 lower-case hex digits into 32 bytes; -1 if the text is not that. */
static int hash_from_hex(const char *hex, unsigned char out[32])
{
    if (strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int store_replay_fetch(struct store *live, struct arena *a, struct store_logged_event *out, size_t max,
                       size_t *n, struct err *e)
{
    char sql[64];

    snprintf(sql, sizeof sql, "FETCH %zu FROM replay_log", max);
    PGresult *res = PQexec(live->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        store_fail(live, res, "reading the event log", e);
        PQclear(res);
        return -1;
    }
    *n = (size_t)PQntuples(res);
    for (size_t i = 0; i < *n; i++) {
        out[i].seq = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
        out[i].transaction = strtoll(PQgetvalue(res, (int)i, 3), NULL, 10);
        out[i].body_len = (size_t)PQgetlength(res, (int)i, 2);
        out[i].body = arena_strndup(a, PQgetvalue(res, (int)i, 2), out[i].body_len);
        if (hash_from_hex(PQgetvalue(res, (int)i, 1), out[i].hash) != 0) {
            PQclear(res);
            return err_set(e, ERR_INTERNAL, NULL, "event seq=%lld has a hash that is not 32 bytes",
                           (long long)out[i].seq);
        }
    }
    PQclear(res);
    return 0;
}

int store_replay_snapshot_end(struct store *live, struct err *e)
{
    if (store_command(live, "CLOSE replay_log", e) != 0)
        return -1;
    return store_command(live, "COMMIT", e);
}

void store_replay_snapshot_abort(struct store *live)
{
    struct err ignored;
    store_command(live, "ROLLBACK", &ignored);
}

/* Up to STORE_REPLAY_SAMPLES rows of `minus` as JSON cut to STORE_REPLAY_SAMPLE_CHARS, in a stable
 * order. */
static int read_samples(struct store *s, struct arena *a, const char *minus, const char **out, struct err *e)
{
    const char *sql =
        arena_printf(a,
                     "SELECT CASE WHEN length(j) > %d THEN left(j, %d) || '...' ELSE j END FROM"
                     " (SELECT row_to_json(x)::text AS j FROM (%s) x) y ORDER BY 1 LIMIT %d",
                     STORE_REPLAY_SAMPLE_CHARS, STORE_REPLAY_SAMPLE_CHARS, minus, STORE_REPLAY_SAMPLES);
    PGresult *res = PQexec(s->conn, sql);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        store_fail(s, res, "reading differing rows", e);
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res) && i < STORE_REPLAY_SAMPLES; i++)
        out[i] = arena_strdup(a, PQgetvalue(res, i, 0));
    PQclear(res);
    return 0;
}

/* Counts rows and differences of one table pair (live_<t>, replay_<t>), with samples of each side. */
static int compare_one(struct store *s, struct arena *a, struct store_replay_table *t, struct err *e)
{
    const char *only_live =
        arena_printf(a, "SELECT * FROM live_%s EXCEPT ALL SELECT * FROM replay_%s", t->name, t->name);
    const char *only_replay =
        arena_printf(a, "SELECT * FROM replay_%s EXCEPT ALL SELECT * FROM live_%s", t->name, t->name);
    const char *sql = arena_printf(a,
                                   "SELECT (SELECT count(*) FROM live_%s), (SELECT count(*) FROM replay_%s),"
                                   " (SELECT count(*) FROM (%s) x), (SELECT count(*) FROM (%s) y)",
                                   t->name, t->name, only_live, only_replay);
    PGresult *res = PQexec(s->conn, sql);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        store_fail(s, res, "comparing a table", e);
        PQclear(res);
        return -1;
    }
    t->live_rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    t->replay_rows = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    t->only_live = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    t->only_replay = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    PQclear(res);
    if (t->only_live > 0 && read_samples(s, a, only_live, t->samples_live, e) != 0)
        return -1;
    if (t->only_replay > 0 && read_samples(s, a, only_replay, t->samples_replay, e) != 0)
        return -1;
    return 0;
}

int store_replay_project(struct store *scratch, struct arena *a, struct err *e)
{
    size_t n;
    const struct store_replay_projection *p = store_replay_tables(&n);

    for (size_t i = 0; i < n; i++)
        if (store_command(scratch, arena_printf(a, "CREATE TABLE replay_%s AS %s", p[i].table, p[i].sql),
                          e) != 0)
            return -1;
    return 0;
}

int store_replay_compare(struct store *scratch, struct arena *a, bool without_arrival,
                         struct store_replay_table **tables, size_t *n, struct err *e)
{
    const struct store_replay_projection *p = store_replay_tables(n);
    struct store_replay_table *t = arena_zalloc(a, *n * sizeof *t);

    for (size_t i = 0; i < *n; i++) {
        t[i].name = p[i].table;
        if (without_arrival &&
            (store_command(scratch,
                           arena_printf(a, "ALTER TABLE live_%s DROP COLUMN IF EXISTS event", p[i].table),
                           e) != 0 ||
             store_command(scratch,
                           arena_printf(a, "ALTER TABLE replay_%s DROP COLUMN IF EXISTS event", p[i].table),
                           e) != 0))
            return -1;
        if (compare_one(scratch, a, &t[i], e) != 0)
            return -1;
    }
    *tables = t;
    return 0;
}
