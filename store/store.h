/* store/store.h - lineaged's Postgres access: one struct store per connection (one per worker thread).
 *
 * The store files (store/store*.c) are the only C code with SQL text; each table family has one
 * file holding every statement that touches it. Callers get plain values, never a PGresult.
 * Invariants:
 *  1. Statements are prepared once per connection, on first use, by name.
 *  2. SQLSTATEs are mapped to err kinds in one place (store_fail, store/store.c), which also copies the
 *     SQLSTATE into err.sqlstate: 23505 -> ERR_CONFLICT; 40001/40P01 -> retried by store_write_events;
 *     connection loss, class 08, 53 and 57P01-57P03 -> ERR_UNAVAILABLE with retryable set (503 and
 *     Retry-After; the next call reconnects).
 *  3. Nothing is acknowledged before COMMIT returns success.
 * Threads: a struct store is used by one thread at a time. */
#ifndef LINEAGED_STORE_H
#define LINEAGED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "event.h"

struct store;

/* Opens a connection (conninfo: libpq keywords or a postgresql:// URL). NULL with e set
 * (ERR_UNAVAILABLE, detail = libpq message) on failure. Caller frees with store_free. */
struct store *store_connect(const char *conninfo, struct err *e);

/* Connects to admin_conninfo (a maintenance database such as "postgres") and creates database `name`
 * unless it exists. Returns 0, or -1 with e set (ERR_UNAVAILABLE, detail = libpq message). */
int store_create_database(const char *admin_conninfo, const char *name, struct err *e);

/* Closes the connection. store_free(NULL) is a no-op. */
void store_free(struct store *s);

/* Applies every migration not yet recorded in schema_migrations, in order, each in its own
 * transaction, under an advisory lock so that several collectors starting at once apply each once.
 * Returns the number applied (>= 0), or -1 with e set. */
int store_migrate(struct store *s, struct err *e);

/* Microseconds this connection has spent waiting for the server since it was made: statements,
 * pipeline flushes, reconnects. Callers take the difference around a piece of work (database time
 * per request, for /metrics). Cannot fail. */
int64_t store_busy_usec(const struct store *s);

/* SELECT 1: 0 if the database answers, -1 with e set otherwise (reconnects first if needed). */
int store_ping(struct store *s, struct err *e);

/* What happened to one event. */
enum store_outcome { STORE_WRITTEN, STORE_DUPLICATE };

/* Writes n decoded events in one transaction and commits.
 * outcomes[i] says whether event i was new or a duplicate (already in the log: nothing changed).
 * Deadlocks and serialization failures are retried a few times. Returns 0 after COMMIT, or -1
 * with e set and nothing written. */
int store_write_events(struct store *s, struct arena *a, const struct ol_event *events, size_t n,
                       enum store_outcome *outcomes, struct err *e);

#endif
