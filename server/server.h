/* server/server.h - the HTTP server: our HTTP/1.1 layer (h1_conn.h) on the main thread, handlers on a
 * worker pool.
 *
 * Threads: the event loop thread accepts, reads and routes requests and writes replies; N worker
 * threads (one Postgres connection each) run the handlers. A request moves loop -> its lane (reads or
 * writes, lanes.h) -> worker -> done list -> loop, and is replied to exactly once, on the loop thread.
 * Shutdown (SIGINT/SIGTERM): new requests get 503, requests in flight finish and are answered, then
 * server_run returns. After --shutdown-timeout seconds (or at a second signal) requests no worker has
 * started are dropped unanswered: they were never acknowledged, so clients retry them elsewhere. */
#ifndef LINEAGED_SERVER_H
#define LINEAGED_SERVER_H

#include "auth.h"
#include "cfg.h"
#include "err.h"
#include "graph.h"
#include "metrics.h"

/* Serves until SIGINT or SIGTERM. conninfo is the database every worker connects to (and
 * c->read_database_url, when set, the one for ROUTE_DB_READ routes); handlers get the graph and the
 * metrics registry m (borrowed; the server reports requests, queue and connections to it) through
 * struct req; auth (borrowed) decides who may call each route. Returns 0 after a clean shutdown, -1
 * with e set if the server could not start. */
int server_run(const struct cfg *c, const char *conninfo, struct graph *g, struct auth *auth, struct metrics *m,
               struct err *e);

#endif
