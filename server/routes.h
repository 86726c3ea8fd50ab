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

/* Exactly one of handler and group is set. A group route's queued requests are handed to it together
 * (group commit of single-event POSTs); a handler route's one at a time. */
struct route {
    enum http_method method;
    const char *pattern;
    route_fn *handler;
    route_group_fn *group;
    enum auth_scope scope; /* what a credential must grant (auth.h): PUBLIC, READ, WRITE (ingest), ADMIN */
};

/* The route for (method, segments), or NULL; *path_known tells 405 from 404 when NULL. */
const struct route *routes_match(enum http_method method, const char *const *segments, size_t n,
                                 bool *path_known);

#endif
