/* bench/pgcopy.h - what the bench loaders (bench_graph_db, bench_read_db) share to put generated rows
 * into Postgres: COPY FROM STDIN in text format, and one-statement helpers.
 *
 * Invariants:
 *  1. Values are escaped for COPY's text format (backslash, tab, newline, carriage return); each value
 *     is followed by a tab, and pgcopy_row turns the last one into the row's newline.
 *  2. SQL text is fixed by the caller; values travel as $n parameters or as COPY data.
 * Ownership: struct pgcopy owns its buffer (pgcopy_free); the connection is borrowed.
 * Threads: one thread per struct pgcopy and connection. */
#ifndef LINEAGED_BENCH_PGCOPY_H
#define LINEAGED_BENCH_PGCOPY_H

#include <libpq-fe.h>
#include <stdint.h>

#include "err.h"

struct pgcopy {
    PGconn *conn;
    char *buf;
    size_t len, cap;
};

/* Runs one fixed statement with text parameters; a command or query must succeed. 0, or -1 with e set. */
int pgcopy_exec(PGconn *c, const char *sql, int n, const char *const *params, struct err *e);

/* The single bigint a fixed query returns into *out. 0, or -1 with e set. */
int pgcopy_count(PGconn *c, const char *sql, long long *out, struct err *e);

/* Starts "COPY ... FROM STDIN" (sql). 0, or -1 with e set. */
int pgcopy_begin(struct pgcopy *b, const char *sql, struct err *e);

/* One value of the current row: text (escaped), NULL, a number, seconds since the epoch as
 * "YYYY-MM-DD HH:MM:SS+00", a UUID from 16 bytes, a bytea from n bytes. Cannot fail (memory aborts). */
void pgcopy_str(struct pgcopy *b, const char *s);
void pgcopy_null(struct pgcopy *b);
void pgcopy_u64(struct pgcopy *b, uint64_t v);
void pgcopy_time(struct pgcopy *b, uint32_t t);
void pgcopy_uuid(struct pgcopy *b, const uint8_t u[16]);
void pgcopy_bytea(struct pgcopy *b, const uint8_t *p, size_t n);

/* Ends the row (at least one value was added); sends the buffer once it is large. 0, or -1 with e set. */
int pgcopy_row(struct pgcopy *b, struct err *e);

/* Sends what is left and ends the COPY; 0 when the server accepted every row, or -1 with e set. */
int pgcopy_end(struct pgcopy *b, struct err *e);

/* Frees the buffer (the connection stays open). pgcopy_free on a zeroed struct is a no-op. */
void pgcopy_free(struct pgcopy *b);

/* A UUID's canonical text (36 characters and NUL) into out. */
void pgcopy_uuid_text(const uint8_t u[16], char out[37]);

#endif
