/* server/routes.h - the one route table: method, path pattern, handler, who may call it.
 *
 * Patterns are matched segment by segment on the decoded segments; "{}" matches any one segment.
 * Invariant: a path that matches some route with another method is "known" (405, not 404). */
#ifndef LINEAGED_ROUTES_H
#define LINEAGED_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "http.h"

/* Which database connection the handler gets in r->store:
 *   ROUTE_DB_PRIMARY   the primary (--database-url); the request fails with 503 if it cannot connect
 *   ROUTE_DB_READ      the replica (--read-database-url) when one is set, else the primary: Marquez
 *                      API reads, which may be a little behind the primary
 *   ROUTE_DB_OPTIONAL  the primary if it can be reached, else NULL: the handler still answers
 *                      (/readyz saying why not)
 *   ROUTE_DB_NONE      none, r->store is NULL (/healthz, /metrics) */
enum route_db { ROUTE_DB_PRIMARY = 0, ROUTE_DB_READ, ROUTE_DB_OPTIONAL, ROUTE_DB_NONE };

/* Exactly one of handler and group is set. A group route's queued requests are handed to it together
 * (group commit of single-event POSTs); a handler route's one at a time. */
struct route {
    enum http_method method;
    const char *pattern;
    route_fn *handler;
    route_group_fn *group;
    enum auth_scope scope; /* what a credential must grant (auth.h): PUBLIC, READ, WRITE (ingest), ADMIN */
    enum route_db db;
};

/* The route for (method, segments), or NULL; *path_known tells 405 from 404 when NULL. */
const struct route *routes_match(enum http_method method, const char *const *segments, size_t n,
                                 bool *path_known);

/* The route table in order, for per-route metrics: its length, entry i, the index of an entry. */
size_t routes_count(void);
const struct route *routes_get(size_t i);
size_t routes_index(const struct route *r);

/* "GET", "POST", ... for metrics labels. */
const char *routes_method_name(enum http_method m);

#endif
