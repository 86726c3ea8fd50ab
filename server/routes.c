/* server/routes.c - the route table and its matcher.
 *
 * Invariants: see routes.h. The table is static const; adding a route is adding one line here.
 * Scopes: ingest is AUTH_WRITE, and so are Marquez's deprecated writes (they answer 410 and point the
 * producer to /api/v1/lineage); edits, deletes and tags are AUTH_ADMIN; reads AUTH_READ; health public. */
#include "routes.h"

#include <string.h>

#include "api.h"
#include "health.h"
#include "ingest.h"
#include "lineage.h"
#include "ml.h"
#include "ops.h"

/* Marquez's routes (reference/marquez-api.md 1.2) are all under /api/v1 or /api/v2beta. */
#define NS "/api/v1/namespaces/{}"

static const struct route ROUTES[] = {
    {HTTP_POST, "/api/v1/lineage", NULL, ingest_post_lineage, AUTH_WRITE,
     ROUTE_DB_PRIMARY}, /* group commit */
    {HTTP_POST, "/api/v1/lineage/batch", ingest_post_batch, NULL, AUTH_WRITE, ROUTE_DB_PRIMARY},
    {HTTP_GET, "/healthcheck", health_get, NULL, AUTH_PUBLIC, ROUTE_DB_PRIMARY},
    /* operations (api/health.h, api/ops.h) */
    {HTTP_GET, "/healthz", health_live, NULL, AUTH_PUBLIC, ROUTE_DB_NONE},
    {HTTP_GET, "/readyz", health_ready, NULL, AUTH_PUBLIC, ROUTE_DB_OPTIONAL},
    {HTTP_GET, "/metrics", api_get_metrics, NULL, AUTH_READ, ROUTE_DB_NONE},
    {HTTP_GET, "/api/v1/alerts/silent-jobs", api_get_silent_jobs, NULL, AUTH_READ, ROUTE_DB_READ},
    /* lineage graph (api/lineage.h) */
    {HTTP_GET, "/api/v1/lineage", api_get_lineage, NULL, AUTH_READ, ROUTE_DB_PRIMARY},
    {HTTP_GET, "/api/v1/column-lineage", api_get_column_lineage, NULL, AUTH_READ, ROUTE_DB_PRIMARY},
    {HTTP_GET, "/api/v1/runlineage/upstream", api_get_run_lineage_upstream, NULL, AUTH_READ,
     ROUTE_DB_PRIMARY},
    {HTTP_GET, "/api/v1/impact", api_get_impact, NULL, AUTH_READ, ROUTE_DB_PRIMARY},
    /* events and stats */
    {HTTP_GET, "/api/v1/events/lineage", api_get_events, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v1/stats/lineage-events", api_get_stats, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v1/stats/jobs", api_get_stats, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v1/stats/datasets", api_get_stats, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v1/stats/sources", api_get_stats, NULL, AUTH_READ, ROUTE_DB_READ},
    /* namespaces, sources, tags */
    {HTTP_GET, "/api/v1/namespaces", api_get_namespaces, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, NS, api_get_namespace, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_PUT, NS, api_put_namespace, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    {HTTP_DELETE, NS, api_delete_namespace, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    {HTTP_GET, "/api/v1/sources", api_get_sources, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v1/sources/{}", api_get_source, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_PUT, "/api/v1/sources/{}", api_gone, NULL, AUTH_WRITE, ROUTE_DB_PRIMARY},
    {HTTP_GET, "/api/v1/tags", api_get_tags, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_PUT, "/api/v1/tags/{}", api_put_tag, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    /* datasets */
    {HTTP_GET, NS "/datasets", api_get_datasets, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, NS "/datasets/{}", api_get_dataset, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_PUT, NS "/datasets/{}", api_gone, NULL, AUTH_WRITE, ROUTE_DB_PRIMARY},
    {HTTP_DELETE, NS "/datasets/{}", api_delete_dataset, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    {HTTP_GET, NS "/datasets/{}/versions", api_get_dataset_versions, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, NS "/datasets/{}/versions/{}", api_get_dataset_version, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, NS "/datasets/{}/versions/{}/provenance", api_get_dataset_provenance, NULL, AUTH_READ,
     ROUTE_DB_READ},
    {HTTP_POST, NS "/datasets/{}/tags/{}", api_post_dataset_tag, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    {HTTP_DELETE, NS "/datasets/{}/tags/{}", api_delete_dataset_tag, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    {HTTP_POST, NS "/datasets/{}/fields/{}/tags/{}", api_post_field_tag, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    {HTTP_DELETE, NS "/datasets/{}/fields/{}/tags/{}", api_delete_field_tag, NULL, AUTH_ADMIN,
     ROUTE_DB_PRIMARY},
    /* jobs and runs */
    {HTTP_GET, "/api/v1/jobs", api_get_jobs, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, NS "/jobs", api_get_namespace_jobs, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, NS "/jobs/{}", api_get_job, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_PUT, NS "/jobs/{}", api_gone, NULL, AUTH_WRITE, ROUTE_DB_PRIMARY},
    {HTTP_DELETE, NS "/jobs/{}", api_delete_job, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    {HTTP_GET, NS "/jobs/{}/versions", api_get_job_versions, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, NS "/jobs/{}/versions/{}", api_get_job_version, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, NS "/jobs/{}/runs", api_get_job_runs, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_POST, NS "/jobs/{}/runs", api_gone, NULL, AUTH_WRITE, ROUTE_DB_PRIMARY},
    {HTTP_POST, NS "/jobs/{}/tags/{}", api_post_job_tag, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    {HTTP_DELETE, NS "/jobs/{}/tags/{}", api_delete_job_tag, NULL, AUTH_ADMIN, ROUTE_DB_PRIMARY},
    {HTTP_GET, "/api/v1/jobs/runs/{}", api_get_run, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v1/jobs/runs/{}/facets", api_get_run_facets, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v1/jobs/runs/{}/children", api_get_run_children, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_POST, "/api/v1/jobs/runs/{}/start", api_gone, NULL, AUTH_WRITE, ROUTE_DB_PRIMARY},
    {HTTP_POST, "/api/v1/jobs/runs/{}/complete", api_gone, NULL, AUTH_WRITE, ROUTE_DB_PRIMARY},
    {HTTP_POST, "/api/v1/jobs/runs/{}/fail", api_gone, NULL, AUTH_WRITE, ROUTE_DB_PRIMARY},
    {HTTP_POST, "/api/v1/jobs/runs/{}/abort", api_gone, NULL, AUTH_WRITE, ROUTE_DB_PRIMARY},
    /* ML lineage (api/ml.h): datasets of every namespace, runs by what they did */
    {HTTP_GET, "/api/v1/datasets", api_get_all_datasets, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v1/runs", api_get_runs, NULL, AUTH_READ, ROUTE_DB_READ},
    /* search */
    {HTTP_GET, "/api/v1/search", api_get_search, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v2beta/search/jobs", api_get_search_v2beta, NULL, AUTH_READ, ROUTE_DB_READ},
    {HTTP_GET, "/api/v2beta/search/datasets", api_get_search_v2beta, NULL, AUTH_READ, ROUTE_DB_READ},
};

#undef NS

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

size_t routes_count(void)
{
    return sizeof ROUTES / sizeof ROUTES[0];
}

const struct route *routes_get(size_t i)
{
    return i < routes_count() ? &ROUTES[i] : NULL;
}

size_t routes_index(const struct route *r)
{
    return (size_t)(r - ROUTES);
}

const char *routes_method_name(enum http_method m)
{
    switch (m) {
    case HTTP_GET: return "GET";
    case HTTP_POST: return "POST";
    case HTTP_PUT: return "PUT";
    case HTTP_DELETE: return "DELETE";
    case HTTP_HEAD: return "HEAD";
    default: return "OTHER";
    }
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
