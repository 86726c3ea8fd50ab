/* collector/routes.c - the route table and its matcher.
 *
 * Invariants: see routes.h. The table is static const; adding a route is adding one line here. */
#include "routes.h"

#include <string.h>

#include "health.h"
#include "ingest.h"

static const struct route ROUTES[] = {
    {HTTP_POST, "/api/v1/lineage", ingest_post_lineage, ROUTE_WRITE},
    {HTTP_POST, "/api/v1/lineage/batch", ingest_post_batch, ROUTE_WRITE},
    {HTTP_GET, "/healthcheck", health_get, ROUTE_PUBLIC},
};

/* True if the decoded segments match pattern ("/a/{}/c"). */
static bool pattern_matches(const char *pattern, const char *const *segments, size_t n)
{
    const char *p = pattern;
    size_t i = 0;

    while (*p == '/')
        p++;
    while (*p != '\0') {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (i >= n)
            return false;
        bool any = len == 2 && p[0] == '{' && p[1] == '}';
        if (!any && (strlen(segments[i]) != len || strncmp(segments[i], p, len) != 0))
            return false;
        i++;
        p += len;
        while (*p == '/')
            p++;
    }
    return i == n;
}

const struct route *routes_match(enum http_method method, const char *const *segments, size_t n,
                                 bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        if (!pattern_matches(ROUTES[i].pattern, segments, n))
            continue;
        *path_known = true;
        if (ROUTES[i].method == method)
            return &ROUTES[i];
    }
    return NULL;
}

/* Routes whose queued requests are better handled together (group commit of single-event POSTs). */
static const struct {
    route_fn *handler;
    route_batch_fn *batch;
} BATCHES[] = {
    {ingest_post_lineage, ingest_post_lineage_many},
};

route_batch_fn *routes_batch(const struct route *r)
{
    for (size_t i = 0; i < sizeof BATCHES / sizeof BATCHES[0]; i++)
        if (BATCHES[i].handler == r->handler)
            return BATCHES[i].batch;
    return NULL;
}
