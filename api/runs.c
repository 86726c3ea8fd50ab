/* api/runs.c - Marquez's run routes (segments: api v1 jobs runs {id}=4 [facets]).
 *
 *   GET /api/v1/jobs/runs/{id}                     Run | 404 "Run '<id>' not found."
 *   GET /api/v1/jobs/runs/{id}/facets?type=run|job {"runId":..,"facets":{..}}
 * Invariants: a run id that is not a UUID is simply not found (Marquez cannot parse it either). */
#include "api_int.h"
#include "uuid.h"

enum { SEG_RUN = 4 };

/* Marquez's FacetType, in declaration order. */
static const char *const FACET_TYPES[] = {"RUN", "JOB", "DATASET"};
enum { FACET_NONE = -1 };

int api_get_run(struct req *r, struct reply *out, struct err *e)
{
    const char *id = api_seg(r, SEG_RUN);
    const char *json = NULL;

    if (uuid_from_string(id, &(struct uuid){0}) && store_read_run(r->store, r->arena, id, &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Run", id);
    return api_reply(out, json);
}

int api_get_run_facets(struct req *r, struct reply *out, struct err *e)
{
    const char *id = api_seg(r, SEG_RUN);
    const char *json = NULL;
    int type;

    if (api_param_enum(r, "type", FACET_TYPES, sizeof FACET_TYPES / sizeof FACET_TYPES[0], FACET_NONE, &type,
                       e) != 0)
        return -1;
    if (type == FACET_NONE)
        return err_set(e, ERR_BAD_PARAM, "type", "must not be null");
    /* DATASET is accepted and has no facets, as in Marquez. */
    static const enum store_facets_kind KINDS[] = {STORE_FACETS_RUN, STORE_FACETS_JOB, STORE_FACETS_DATASET};
    if (uuid_from_string(id, &(struct uuid){0}) &&
        store_read_run_facets(r->store, r->arena, id, KINDS[type], &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Run", id);
    return api_reply(out, json);
}
