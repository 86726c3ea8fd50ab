/* api/runlineage.c - GET /api/v1/runlineage/upstream?runId=&depth=: the runs that produced the exact
 * dataset versions a run read, recursively (Marquez's LineageService.upstream).
 *
 * Answered in SQL rather than from the graph: the graph's run edges are cumulative (every run that
 * ever wrote a dataset), while this question is about the one version each run actually read.
 * runId is the producer's run id: a UUID, or any other id, taken as ingest takes it (uuid_for_run_id). */
#include "lineage.h"

#include <string.h>

#include "store_nodes.h"
#include "uuid.h"

enum { RUNLINEAGE_DEFAULT_DEPTH = 20, RUNLINEAGE_MAX_DEPTH = 1000 };

int api_get_run_lineage_upstream(struct req *r, struct reply *out, struct err *e)
{
    const char *run_id = http_param(r, "runId");
    const char *json = NULL;
    struct uuid u;
    char canonical[UUID_STR_MAX];
    long depth;

    if (run_id == NULL || *run_id == '\0')
        return err_set(e, ERR_BAD_PARAM, "runId", "must not be null");
    if (http_param_int(r, "depth", RUNLINEAGE_DEFAULT_DEPTH, 0, RUNLINEAGE_MAX_DEPTH, &depth, e) != 0)
        return -1;
    uuid_for_run_id(run_id, &u); /* the producer's run id, as ingest stored it */
    uuid_to_string(&u, canonical);
    if (store_run_upstream(r->store, r->arena, canonical, depth, &json, e) != 0)
        return -1;
    if (json == NULL)
        return err_set(e, ERR_NOT_FOUND, NULL, "Run '%s' not found.", run_id);
    http_reply_json(out, 200, json, strlen(json));
    return 0;
}
