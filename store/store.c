/* store/store.c - connections, prepared statements, and the one SQLSTATE -> err mapping.
 *
 * Invariants:
 *  1. s->prepared lists exactly the statements prepared on s->conn; a reconnect clears it.
 *  2. Every PGresult made here is cleared here unless returned to a store file, which clears it.
 * Threads: one thread per struct store. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define LOG_MODULE "store"
#include "log.h"

/* Server NOTICEs ("relation already exists, skipping") are chatter: debug level only. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgres: %s", message);
}

/* Session settings of every connection, applied again after a reconnect. JIT off: the planner's cost
 * of a query over the partitioned event log grows with the partition count and crosses
 * jit_above_cost, and compiling per partition then dominates (the stats query: 2.5 ms -> 2 s with 55
 * partitions); lineaged's statements are short and gain nothing from JIT. */
static int session_setup(struct store *s, struct err *e)
{
    PGresult *res = PQexec(s->conn, "SET jit = off");
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : store_fail(s, res, "setting up the session", e);

    PQclear(res);
    return rc;
}

/* conninfo's own "options" (server settings such as "-c statement_timeout=5s"), with extra after
 * them; malloc'd. NULL when conninfo does not parse (PQconnectdbParams then reports why). */
static char *merged_options(const char *conninfo, const char *extra)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    const char *own = "";
    char *out = NULL;

    if (opts == NULL)
        return NULL;
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, "options") == 0 && o->val != NULL)
            own = o->val;
    size_t len = strlen(own) + strlen(extra) + 2;
    if ((out = malloc(len)) != NULL)
        snprintf(out, len, "%s%s%s", own, *own ? " " : "", extra);
    PQconninfoFree(opts);
    return out;
}

struct store *store_connect(const char *conninfo, struct err *e)
{
    return store_connect_with(conninfo, NULL, e);
}

struct store *store_connect_with(const char *conninfo, const char *options, struct err *e)
{
    struct store *s = calloc(1, sizeof *s);
    char *merged = options != NULL ? merged_options(conninfo, options) : NULL;

    if (s == NULL || (s->conninfo = strdup(conninfo)) == NULL) {
        free(s);
        free(merged);
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    /* dbname is expanded as a whole conninfo or URL; a later "options" overrides the one in it. */
    const char *keys[] = {"dbname", merged != NULL ? "options" : NULL, NULL};
    const char *values[] = {conninfo, merged, NULL};
    s->conn = PQconnectdbParams(keys, values, 1);
    free(merged);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        err_set_detail(e, ERR_UNAVAILABLE, PQerrorMessage(s->conn), "cannot connect to the database; retry later");
        e->retryable = true;
        store_free(s);
        return NULL;
    }
    PQsetNoticeProcessor(s->conn, on_notice, NULL);
    if (session_setup(s, e) != 0) {
        store_free(s);
        return NULL;
    }
    return s;
}

int store_create_database(const char *admin_conninfo, const char *name, struct err *e)
{
    struct store *s = store_connect(admin_conninfo, e);
    PGresult *res = NULL;
    char *ident = NULL;
    int rc = -1;

    if (s == NULL)
        return -1;
    const char *params[] = {name};
    res = PQexecParams(s->conn, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        err_set_detail(e, ERR_UNAVAILABLE, PQerrorMessage(s->conn), "cannot look up database \"%s\"", name);
        goto out;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        log_info("creating database %s", name);
        if ((ident = PQescapeIdentifier(s->conn, name, strlen(name))) == NULL) {
            err_set_detail(e, ERR_UNAVAILABLE, PQerrorMessage(s->conn), "cannot quote database name \"%s\"", name);
            res = NULL;
            goto out;
        }
        char sql[256];
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", ident);
        res = PQexec(s->conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            err_set_detail(e, ERR_UNAVAILABLE, PQerrorMessage(s->conn), "cannot create database \"%s\"", name);
            goto out;
        }
    }
    rc = 0;
out:
    PQfreemem(ident);
    PQclear(res);
    store_free(s);
    return rc;
}

void store_free(struct store *s)
{
    if (s == NULL)
        return;
    free(s->pending);
    PQfinish(s->conn);
    free(s->conninfo);
    free(s);
}

int64_t store_busy_usec(const struct store *s)
{
    return s->busy_usec;
}

/* Adds the time since `since` (metrics_clock_usec) to the connection's busy time. */
static void busy_since(struct store *s, int64_t since)
{
    s->busy_usec += metrics_clock_usec() - since;
}

/* Reconnects if the connection was lost. Returns 0 when usable. */
static int ensure_connected(struct store *s, struct err *e)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return 0;
    int64_t started = metrics_clock_usec();
    PQreset(s->conn);
    busy_since(s, started);
    s->n_prepared = 0;
    if (PQstatus(s->conn) != CONNECTION_OK) {
        err_set_detail(e, ERR_UNAVAILABLE, PQerrorMessage(s->conn), "the database is unavailable; retry later");
        e->retryable = true;
        return -1;
    }
    log_info("reconnected to the database");
    return session_setup(s, e);
}

/* True for SQLSTATEs that mean the server or the connection is going away or overloaded for now:
 * class 08 (connection exception), 53 (insufficient resources), 57P01-57P03 (admin or crash
 * shutdown, cannot connect now). A later attempt, on a new connection, can succeed. */
static bool sqlstate_unavailable(const char *state)
{
    return strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 || strcmp(state, "57P01") == 0 ||
           strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

int store_fail(struct store *s, const PGresult *res, const char *what, struct err *e)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn);
    char detail[ERR_DETAIL_MAX];

    if (state == NULL)
        state = "";
    snprintf(detail, sizeof detail, "%s: SQLSTATE %s %s", what, *state ? state : "-", msg);
    if (PQstatus(s->conn) != CONNECTION_OK || sqlstate_unavailable(state)) {
        err_set_detail(e, ERR_UNAVAILABLE, detail, "the database is unavailable (during %s); retry later", what);
        e->retryable = true;
    } else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
        err_set_detail(e, ERR_UNAVAILABLE, detail, "the database was busy during %s; retry", what);
        e->retryable = true;
    } else if (strcmp(state, "23505") == 0) {
        err_set_detail(e, ERR_CONFLICT, detail, "conflict during %s", what);
    } else {
        err_set_detail(e, ERR_INTERNAL, detail, "database error during %s", what);
    }
    snprintf(e->sqlstate, sizeof e->sqlstate, "%s", state);
    return -1;
}

bool store_err_serialization(const struct err *e)
{
    return strcmp(e->sqlstate, "40001") == 0 || strcmp(e->sqlstate, "40P01") == 0;
}

static bool is_prepared(const struct store *s, const struct store_stmt *st)
{
    for (size_t i = 0; i < s->n_prepared; i++)
        if (s->prepared[i] == st)
            return true;
    return false;
}

static int prepare(struct store *s, const struct store_stmt *st, struct err *e)
{
    if (s->n_prepared == STORE_MAX_PREPARED) {
        log_error("too many prepared statements; raise STORE_MAX_PREPARED");
        return err_set(e, ERR_INTERNAL, NULL, "too many prepared statements");
    }
    PGresult *res = PQprepare(s->conn, st->name, st->sql, st->n_params, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        store_fail(s, res, st->name, e);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    s->prepared[s->n_prepared++] = st;
    return 0;
}

/* Runs st, prepared once (planned false) or planned for these values (PQexecParams' unnamed statement):
 * the result, or NULL with e set. */
static PGresult *exec_stmt(struct store *s, const struct store_stmt *st, const char *const *params,
                           bool planned, struct err *e)
{
    if (ensure_connected(s, e) != 0)
        return NULL;
    int64_t started = metrics_clock_usec();
    if (!planned && !is_prepared(s, st) && prepare(s, st, e) != 0) {
        busy_since(s, started);
        return NULL;
    }
    PGresult *res = planned ? PQexecParams(s->conn, st->sql, st->n_params, NULL, params, NULL, NULL, 0)
                            : PQexecPrepared(s->conn, st->name, st->n_params, params, NULL, NULL, 0);
    busy_since(s, started);
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        store_fail(s, res, st->name, e);
        PQclear(res);
        return NULL;
    }
    return res;
}

PGresult *store_exec(struct store *s, const struct store_stmt *st, const char *const *params, struct err *e)
{
    return exec_stmt(s, st, params, false, e);
}

PGresult *store_exec_planned(struct store *s, const struct store_stmt *st, const char *const *params,
                             struct err *e)
{
    return exec_stmt(s, st, params, true, e);
}

int store_exec_command(struct store *s, const struct store_stmt *st, const char *const *params, struct err *e)
{
    if (s->pipelined)
        return store_pipeline_add(s, st, params, NULL, NULL, e);
    PGresult *res = store_exec(s, st, params, e);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

static int push_pending(struct store *s, const struct store_stmt *st, bool is_prepare, store_result_fn *fn,
                        void *ctx, struct err *e);

int store_command(struct store *s, const char *sql, struct err *e)
{
    if (s->pipelined) {
        if (PQsendQueryParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0) != 1)
            return store_fail(s, NULL, sql, e);
        return push_pending(s, NULL, false, NULL, NULL, e);
    }
    if (ensure_connected(s, e) != 0)
        return -1;
    int64_t started = metrics_clock_usec();
    PGresult *res = PQexec(s->conn, sql);
    busy_since(s, started);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        store_fail(s, res, sql, e);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

int store_ping(struct store *s, struct err *e)
{
    /* A connection lost while idle (the database restarted) fails its next statement; a health check
     * must not call that "database down" when a new connection works: one retry, reconnected. */
    if (store_command(s, "SELECT 1", e) == 0)
        return 0;
    if (PQstatus(s->conn) == CONNECTION_OK)
        return -1;
    return store_command(s, "SELECT 1", e);
}

/* Statements queued before a flush is forced: keeps the results the server writes while we are still
 * sending well inside the socket buffers, so neither side blocks on the other. */
enum { STORE_PIPELINE_MAX_PENDING = 256 };

static int push_pending(struct store *s, const struct store_stmt *st, bool is_prepare, store_result_fn *fn,
                        void *ctx, struct err *e)
{
    if (s->n_pending == s->cap_pending) {
        size_t cap = s->cap_pending ? s->cap_pending * 2 : 64;
        struct store_pending *bigger = realloc(s->pending, cap * sizeof *bigger);
        if (bigger == NULL)
            return err_set(e, ERR_INTERNAL, NULL, "out of memory queueing a statement");
        s->pending = bigger;
        s->cap_pending = cap;
    }
    s->pending[s->n_pending++] = (struct store_pending){st, is_prepare, fn, ctx};
    return 0;
}

int store_pipeline_start(struct store *s, struct err *e)
{
    if (ensure_connected(s, e) != 0)
        return -1;
    if (PQenterPipelineMode(s->conn) != 1)
        return store_fail(s, NULL, "entering pipeline mode", e);
    s->pipelined = true;
    s->n_pending = 0;
    return 0;
}

int store_pipeline_add(struct store *s, const struct store_stmt *st, const char *const *params, store_result_fn *fn,
                       void *ctx, struct err *e)
{
    if (!is_prepared(s, st)) {
        if (s->n_prepared == STORE_MAX_PREPARED)
            return err_set(e, ERR_INTERNAL, NULL, "too many prepared statements");
        if (PQsendPrepare(s->conn, st->name, st->sql, st->n_params, NULL) != 1 ||
            push_pending(s, st, true, NULL, NULL, e) != 0)
            return store_fail(s, NULL, st->name, e);
        s->prepared[s->n_prepared++] = st; /* taken back at the flush if the prepare fails */
    }
    if (PQsendQueryPrepared(s->conn, st->name, st->n_params, params, NULL, NULL, 0) != 1)
        return store_fail(s, NULL, st->name, e);
    if (push_pending(s, st, false, fn, ctx, e) != 0)
        return -1;
    return s->n_pending >= STORE_PIPELINE_MAX_PENDING ? store_pipeline_flush(s, e) : 0;
}

static void forget_prepared(struct store *s, const struct store_stmt *st)
{
    for (size_t i = 0; i < s->n_prepared; i++)
        if (s->prepared[i] == st)
            s->prepared[i] = s->prepared[--s->n_prepared];
}

/* Reads the result of one pending entry (and the NULL that ends it); records the first error. */
static void read_one(struct store *s, const struct store_pending *p, int *rc, struct err *e)
{
    PGresult *res = PQgetResult(s->conn);
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (*rc == 0 && p->fn != NULL && p->fn(p->ctx, res, e) != 0)
            *rc = -1;
    } else {
        if (p->is_prepare)
            forget_prepared(s, p->stmt);
        if (*rc == 0 && st != PGRES_PIPELINE_ABORTED)
            *rc = store_fail(s, res, p->stmt ? p->stmt->name : "a command", e);
        else if (*rc == 0)
            *rc = err_set(e, ERR_INTERNAL, NULL, "pipeline aborted");
    }
    PQclear(res);
    if (res != NULL)
        PQclear(PQgetResult(s->conn)); /* the NULL that ends this statement's results */
}

int store_pipeline_flush(struct store *s, struct err *e)
{
    int rc = 0;

    if (s->n_pending == 0)
        return 0;
    int64_t started = metrics_clock_usec();
    if (PQpipelineSync(s->conn) != 1)
        rc = store_fail(s, NULL, "pipeline sync", e);
    for (size_t i = 0; i < s->n_pending && PQstatus(s->conn) == CONNECTION_OK; i++)
        read_one(s, &s->pending[i], &rc, e);
    s->n_pending = 0;
    PGresult *sync = PQgetResult(s->conn); /* PGRES_PIPELINE_SYNC */
    if (rc == 0 && PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
        rc = store_fail(s, sync, "pipeline sync", e);
    PQclear(sync);
    busy_since(s, started);
    return rc;
}

void store_pipeline_end(struct store *s)
{
    struct err ignored;

    if (!s->pipelined)
        return;
    if (s->n_pending > 0)
        store_pipeline_flush(s, &ignored); /* the caller already has the error that ended the pipeline */
    if (PQexitPipelineMode(s->conn) != 1) {
        PQreset(s->conn); /* a pipeline we cannot leave is a connection we cannot trust */
        s->n_prepared = 0;
    }
    s->pipelined = false;
}
