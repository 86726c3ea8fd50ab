/* store/store_int.h - what the store files share: the connection struct and statement execution.
 * Included only by store/store*.c. */
#ifndef LINEAGED_STORE_INT_H
#define LINEAGED_STORE_INT_H

#include <libpq-fe.h>

#include "store.h"

enum { STORE_MAX_PREPARED = 128 };

/* A statement: a unique name and its SQL with $1..$n text parameters. Defined `static const` in
 * the family file that owns the table. */
struct store_stmt {
    const char *name;
    const char *sql;
    int n_params;
};

/* Called with each result of a pipelined statement (tuples or command status), in send order. */
typedef int store_result_fn(void *ctx, const PGresult *res, struct err *e);

/* A statement sent in pipeline mode whose result has not been read yet. */
struct store_pending {
    const struct store_stmt *stmt; /* NULL for a plain command */
    bool is_prepare;               /* the PQsendPrepare of stmt, not its execution */
    store_result_fn *fn;
    void *ctx;
};

struct store {
    PGconn *conn;
    char *conninfo;
    const struct store_stmt *prepared[STORE_MAX_PREPARED];
    size_t n_prepared;
    bool pipelined;                /* between store_pipeline_start and store_pipeline_end */
    struct store_pending *pending; /* sent, results not read yet */
    size_t n_pending, cap_pending;
    int64_t busy_usec;             /* time spent waiting for the server (store_busy_usec) */
};

/* store_connect with server settings for the session (libpq "options", e.g. "-c search_path=x"),
 * added after any conninfo already has; they hold across reconnects. options NULL: store_connect. */
struct store *store_connect_with(const char *conninfo, const char *options, struct err *e);

/* Runs a statement (preparing it on first use) with text parameters (NULL = SQL NULL).
 * Returns the result, which the caller must PQclear, or NULL with e set. A result whose status is
 * an error is cleared here and reported through e. */
PGresult *store_exec(struct store *s, const struct store_stmt *st, const char *const *params, struct err *e);

/* store_exec, except that st is planned for these parameter values (the unnamed statement of
 * PQexecParams) rather than prepared once, for a statement whose best plan depends on the values so
 * much that a cached generic plan could be many times slower (search: a rare term wants its trigram
 * index, a frequent one the name order). Not for pipeline mode. Same result and errors as store_exec. */
PGresult *store_exec_planned(struct store *s, const struct store_stmt *st, const char *const *params,
                             struct err *e);

/* store_exec for statements whose rows are not needed: runs it and clears the result. 0 or -1.
 * In pipeline mode it only queues the statement; an error then surfaces at the next flush. */
int store_exec_command(struct store *s, const struct store_stmt *st, const char *const *params, struct err *e);

/* Pipeline mode (libpq): statements are sent without waiting, results are read at a flush, so a
 * transaction of many statements costs a few round trips instead of one per statement.
 * store_pipeline_add queues st; fn (may be NULL) gets its result at the flush. After a failed flush
 * the transaction is aborted: call store_pipeline_end, then roll back. */
int store_pipeline_start(struct store *s, struct err *e);
int store_pipeline_add(struct store *s, const struct store_stmt *st, const char *const *params, store_result_fn *fn,
                       void *ctx, struct err *e);
int store_pipeline_flush(struct store *s, struct err *e);
/* Reads whatever is still pending (discarding errors) and leaves pipeline mode. Cannot fail. */
void store_pipeline_end(struct store *s);

/* Runs a fixed SQL command with no parameters and no rows (BEGIN, COMMIT, SAVEPOINT ...); queued in
 * pipeline mode. */
int store_command(struct store *s, const char *sql, struct err *e);

/* Maps a failed result or connection to e, the one place SQLSTATEs become error kinds: e->sqlstate
 * is set; a lost connection, class 08, 53 and 57P01-57P03 -> ERR_UNAVAILABLE (retryable), 40001 and
 * 40P01 -> ERR_UNAVAILABLE (retryable), 23505 -> ERR_CONFLICT, the rest -> ERR_INTERNAL. Returns -1. */
int store_fail(struct store *s, const PGresult *res, const char *what, struct err *e);

/* True if e came from a serialization failure or deadlock (40001, 40P01): the transaction can be run
 * again at once, on the same connection. */
bool store_err_serialization(const struct err *e);

#endif
