/* common/store_int.h - what the store files share: the connection struct and statement execution.
 * Included only by common/store*.c. */
#ifndef LINEAGED_STORE_INT_H
#define LINEAGED_STORE_INT_H

#include <libpq-fe.h>

#include "store.h"

enum { STORE_MAX_PREPARED = 64 };

/* A statement: a unique name and its SQL with $1..$n text parameters. Defined `static const` in
 * the family file that owns the table. */
struct store_stmt {
    const char *name;
    const char *sql;
    int n_params;
};

struct store {
    PGconn *conn;
    char *conninfo;
    const struct store_stmt *prepared[STORE_MAX_PREPARED];
    size_t n_prepared;
};

/* Runs a statement (preparing it on first use) with text parameters (NULL = SQL NULL).
 * Returns the result, which the caller must PQclear, or NULL with e set. A result whose status is
 * an error is cleared here and reported through e. */
PGresult *store_exec(struct store *s, const struct store_stmt *st, const char *const *params, struct err *e);

/* store_exec for statements whose rows are not needed: runs it and clears the result. 0 or -1. */
int store_exec_command(struct store *s, const struct store_stmt *st, const char *const *params, struct err *e);

/* Runs a fixed SQL command with no parameters and no rows (BEGIN, COMMIT, SAVEPOINT ...). */
int store_command(struct store *s, const char *sql, struct err *e);

/* Maps a failed result or connection to e; returns -1. */
int store_fail(struct store *s, const PGresult *res, const char *what, struct err *e);

/* True if e came from a deadlock or serialization failure (worth retrying the transaction). */
bool store_err_retryable(const struct err *e);

#endif
