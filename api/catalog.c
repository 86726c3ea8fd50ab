/* api/catalog.c - GET /api/v1/datasets: datasets of every namespace, filtered by kind, namespace, owner,
 * tag and a substring of the name ("list all models": types=MODEL).
 *
 *   GET /api/v1/datasets?types=MODEL,FEATURE_VIEW&namespace=&owner=&tag=&q=&limit=100&offset=0
 *       {"totalCount":N,"datasets":[Dataset...]}  by namespace, then name; columnLineage null
 * Invariants: every parameter is checked before the query (limit 0..ML_MAX_LIMIT, offset >= 0, types
 * as api/kinds.h, texts at most --max-name-bytes); an unknown namespace, owner or tag lists nothing. */
#include "ml.h"

#include <limits.h>
#include <string.h>

#include "api_int.h"
#include "cfg.h"
#include "kinds.h"
#include "store_ml.h"

/* Parameter `name` when given and not empty, else NULL; -1 with e set when longer than the name limit. */
static int text_param(const struct req *r, const char *name, const char **out, struct err *e)
{
    const char *v = http_param(r, name);

    *out = v != NULL && *v != '\0' ? v : NULL;
    if (*out != NULL && strlen(v) > (size_t)r->cfg->max_name_bytes)
        return err_set(e, ERR_BAD_PARAM, name, "is %zu bytes long; the limit is %d bytes (--max-name-bytes)",
                       strlen(v), r->cfg->max_name_bytes);
    return 0;
}

int api_get_all_datasets(struct req *r, struct reply *out, struct err *e)
{
    struct store_dataset_query q = {0};
    struct kind_filter kinds;
    const char *json;

    if (http_param_int(r, "limit", API_DEFAULT_LIMIT, 0, ML_MAX_LIMIT, &q.limit, e) != 0 ||
        http_param_int(r, "offset", 0, 0, INT_MAX, &q.offset, e) != 0 ||
        kind_parse(r->arena, "types", http_param(r, "types"), false, &kinds, e) != 0 ||
        text_param(r, "namespace", &q.ns, e) != 0 || text_param(r, "owner", &q.owner, e) != 0 ||
        text_param(r, "tag", &q.tag, e) != 0 || text_param(r, "q", &q.q, e) != 0)
        return -1;
    kind_sql_params(r->arena, &kinds, &q.types, &q.any_sub, &q.pairs);
    if (store_read_all_datasets(r->store, r->arena, &q, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}
