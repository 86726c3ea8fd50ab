/* api/search.c - GET /api/v1/search and the /api/v2beta/search routes.
 *
 *   GET /api/v1/search?q=..&filter=dataset|job&sort=name|update_at&limit=10&namespace=..&before=..&after=..
 *                     &in=name,fields,description,tags,owners
 *       {"totalCount":N,"results":[{type,name,updatedAt,namespace,nodeId,datasetType,subType,matchedIn,
 *        matched}]}  (in= defaults to name: Marquez's search; each result says where q matched)
 *   GET /api/v2beta/search/{jobs,datasets}?q=..   503: Marquez answers so when OpenSearch is disabled,
 *       and lineaged has no OpenSearch (the web UI's base search uses /api/v1/search).
 * Invariants: parameters are validated as Marquez validates them (q not blank, limit >= 0, dates
 * YYYY-MM-DD), before any query runs. */
#include <limits.h>
#include "api_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const FILTERS[] = {"DATASET", "JOB"};
static const char *const SORTS[] = {"NAME", "UPDATE_AT"};
enum { SORT_NAME, SORT_UPDATE_AT };

static bool blank(const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* YYYY-MM-DD naming a real day; Marquez checks the pattern, then Java rejects impossible days. */
static bool valid_day(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    if (s[10] != '\0')
        return false;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    return m != 2 || d <= 28 || leap;
}

static int day_param(const struct req *r, const char *name, const char **out, struct err *e)
{
    const char *v = http_param(r, name);

    *out = NULL;
    if (v == NULL || *v == '\0')
        return 0;
    if (!valid_day(v))
        return err_set(e, ERR_BAD_PARAM, name, "must match \"^\\d{4}-\\d{2}-\\d{2}$\"");
    *out = v;
    return 0;
}

/* The places of in= (enum store_search_in), comma-separated, case-insensitive; name when absent. */
static int in_param(const struct req *r, unsigned *out, struct err *e)
{
    static const char *const PLACES[] = {"name", "fields", "description", "tags", "owners"};
    const char *v = http_param(r, "in");

    *out = STORE_SEARCH_NAME;
    if (v == NULL || *v == '\0')
        return 0;
    *out = 0;
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p), k = 0;
        while (k < 5 && !(strlen(PLACES[k]) == n && strncasecmp(p, PLACES[k], n) == 0))
            k++;
        if (k == 5)
            return err_set(e, ERR_BAD_PARAM, "in",
                           "must list places among name, fields, description, tags, "
                           "owners, comma-separated");
        *out |= 1u << k;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

int api_get_search(struct req *r, struct reply *out, struct err *e)
{
    struct store_search q = {.q = http_param(r, "q"), .ns = http_param(r, "namespace")};
    const char *sort_param = http_param(r, "sort");
    int filter, sort = SORT_UPDATE_AT;
    const char *json;

    if (blank(q.q))
        return err_set(e, ERR_BAD_PARAM, "q", "must not be blank");
    /* the column's own name is accepted too: Marquez's enum value is "updated_at" */
    bool column_name = sort_param != NULL && strcasecmp(sort_param, "updated_at") == 0;
    if (api_param_enum(r, "filter", FILTERS, 2, -1, &filter, e) != 0 ||
        (!column_name && api_param_enum(r, "sort", SORTS, 2, SORT_NAME, &sort, e) != 0) ||
        http_param_int(r, "limit", API_SEARCH_DEFAULT_LIMIT, 0, INT_MAX, &q.limit, e) != 0 ||
        day_param(r, "before", &q.before, e) != 0 || day_param(r, "after", &q.after, e) != 0 ||
        in_param(r, &q.in, e) != 0)
        return -1;
    q.filter = filter < 0 ? NULL : FILTERS[filter];
    q.sort = sort == SORT_NAME ? "name" : "updated_at";
    if (q.ns != NULL && *q.ns == '\0')
        q.ns = NULL;
    if (store_read_search(r->store, r->arena, &q, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}

int api_get_search_v2beta(struct req *r, struct reply *out, struct err *e)
{
    (void)r;
    (void)out;
    /* Not retryable: no later attempt will find an OpenSearch backend. */
    return err_set(e, ERR_UNAVAILABLE, NULL,
                   "Search is not enabled: lineaged has no OpenSearch backend; use GET /api/v1/search "
                   "(in the Marquez web UI, set REACT_APP_ADVANCED_SEARCH=false)");
}
