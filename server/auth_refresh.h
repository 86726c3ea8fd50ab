/* server/auth_refresh.h - keeps struct auth's database keys current: one load at start, then a thread
 * that re-reads the api_keys table every --keys-refresh-ms, so `lineaged keys create/revoke` take
 * effect on running servers (and on every collector sharing the database) within that interval.
 * Invariants:
 *  1. A failed load keeps the previous keys (a database outage neither locks everyone out nor lets
 *     a revoked key back in); failures are logged once per outage, recovery once.
 *  2. The thread has its own database connection.
 * Threads: start and stop from the main thread; the refresher only calls auth_set_db_keys. */
#ifndef LINEAGED_AUTH_REFRESH_H
#define LINEAGED_AUTH_REFRESH_H

#include "auth.h"
#include "err.h"
#include "store.h"

/* Reads the active keys and whether the table has rows, and hands them to a. Returns 0, or -1 with
 * e set (the keys in a are unchanged then). */
int auth_refresh_load(struct auth *a, struct store *s, struct err *e);

struct auth_refresh;

/* Starts the refresher thread (interval_ms between loads). NULL with e set if it cannot start. */
struct auth_refresh *auth_refresh_start(struct auth *a, const char *conninfo, int interval_ms, struct err *e);

/* Stops and joins the thread, closes its connection. auth_refresh_stop(NULL) is a no-op. */
void auth_refresh_stop(struct auth_refresh *r);

#endif
