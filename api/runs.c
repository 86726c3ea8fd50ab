/* api/runs.c - Marquez's run routes (segments: api v1 jobs runs {id}=4 [facets]).
 *
 *   GET /api/v1/jobs/runs/{id}                     Run | 404 "Run '<id>' not found."
 *   GET /api/v1/jobs/runs/{id}/facets?type=run|job {"runId":..,"facets":{..}}
 * Invariants: a run id means what it meant at ingest: a UUID itself (any case), any other id (MLflow's
 * 32 hex digits, Airflow's strings) its name-based UUID (uuid_for_run_id), so the producer's own id
 * finds the run. */
#include "api_int.h"
#include "uuid.h"

/* The UUID run id is stored under, in the arena. */
static const char *run_uuid(struct req *r, const char *id)
{
    struct uuid u;
    char *out = arena_alloc(r->arena, UUID_STR_MAX);

    uuid_for_run_id(id, &u);
    uuid_to_string(&u, out);
    return out;
}

enum { SEG_RUN = 4 };

/* Marquez's FacetType, in declaration order. */
static const char *const FACET_TYPES[] = {"RUN", "JOB", "DATASET"};
enum { FACET_NONE = -1 };

int api_get_run(struct req *r, struct reply *out, struct err *e)
{
    const char *id = api_seg(r, SEG_RUN);
    const char *json = NULL;

    if (store_read_run(r->store, r->arena, run_uuid(r, id), &json, e) != 0)
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
    if (store_read_run_facets(r->store, r->arena, run_uuid(r, id), KINDS[type], &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Run", id);
    return api_reply(out, json);
}
