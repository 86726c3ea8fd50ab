/* api/jobs.c - Marquez's job routes (segments: api v1 namespaces {ns}=3 jobs {job}=5 ...).
 *
 *   GET    /api/v1/jobs                     {"totalCount":N,"jobs":[Job]}  (lastRunStates*, limit, offset)
 *   GET    .../namespaces/{ns}/jobs         the same, one namespace
 *   GET    .../jobs/{job}                   Job (latestRun, latestRuns, inputs, outputs, facets)
 *   DELETE .../jobs/{job}                   soft delete -> Job as it was
 *   GET    .../jobs/{job}/versions[/{v}]    {"versions":[JobVersion]} | JobVersion
 *   GET    .../jobs/{job}/runs              {"runs":[Run],"totalCount":N}
 *   POST|DELETE .../jobs/{job}/tags/{tag}   -> Job
 * Invariants: every {job} route answers 301 to the canonical name when {job} is a symlink
 * (api_job_id), before any other work. */
#include "api_int.h"
#include "uuid.h"

#include <string.h>

enum { SEG_NS = 3, SEG_JOB = 5, SEG_VERSION = 7, SEG_TAG = 7 };

/* Marquez's RunState enum, in declaration order (the order of its error message). */
static const char *const RUN_STATES[] = {"NEW", "RUNNING", "COMPLETED", "ABORTED", "FAILED", "OTHER"};
enum { N_RUN_STATES = sizeof RUN_STATES / sizeof RUN_STATES[0] };

/* Every lastRunStates parameter (repeatable) as a JSON array of state names, or NULL when none. */
static int last_run_states(struct req *r, const char **json_out, struct err *e)
{
    return api_param_enum_list(r, "lastRunStates", RUN_STATES, N_RUN_STATES, false, json_out, e);
}

static int list_jobs(struct req *r, struct reply *out, const char *ns, struct err *e)
{
    long limit, offset;
    const char *states, *json;

    if (last_run_states(r, &states, e) != 0 || api_page(r, API_DEFAULT_LIMIT, &limit, &offset, e) != 0 ||
        store_read_jobs(r->store, r->arena, ns, states, limit, offset, &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Namespace", ns);
    return api_reply(out, json);
}

int api_get_jobs(struct req *r, struct reply *out, struct err *e)
{
    return list_jobs(r, out, NULL, e);
}

int api_get_namespace_jobs(struct req *r, struct reply *out, struct err *e)
{
    return list_jobs(r, out, api_seg(r, SEG_NS), e);
}

static int reply_job(struct req *r, struct reply *out, const char *id, struct err *e)
{
    const char *json;

    if (store_read_job(r->store, r->arena, id, &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Job", api_seg(r, SEG_JOB));
    return api_reply(out, json);
}

int api_get_job(struct req *r, struct reply *out, struct err *e)
{
    const char *id;

    if (api_job_id(r, out, SEG_NS, SEG_JOB, &id, e) != 0)
        return -1;
    return id == NULL ? 0 : reply_job(r, out, id, e);
}

int api_delete_job(struct req *r, struct reply *out, struct err *e)
{
    const char *id, *json;

    if (api_job_id(r, out, SEG_NS, SEG_JOB, &id, e) != 0)
        return -1;
    if (id == NULL)
        return 0;
    if (store_edit_job_delete(r->store, r->arena, id, &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Job", api_seg(r, SEG_JOB));
    return api_reply(out, json);
}

/* A page of one job's versions or runs: the two lists differ only in the store reader. */
typedef int job_list_fn(struct store *s, struct arena *a, const char *job_id, long limit, long offset,
                        const char **json_out, struct err *e);

static int get_job_list(struct req *r, struct reply *out, job_list_fn *read_list, struct err *e)
{
    long limit, offset;
    const char *id, *json;

    if (api_page(r, API_DEFAULT_LIMIT, &limit, &offset, e) != 0 ||
        api_job_id(r, out, SEG_NS, SEG_JOB, &id, e) != 0)
        return -1;
    if (id == NULL)
        return 0;
    if (read_list(r->store, r->arena, id, limit, offset, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}

int api_get_job_versions(struct req *r, struct reply *out, struct err *e)
{
    return get_job_list(r, out, store_read_job_versions, e);
}

int api_get_job_version(struct req *r, struct reply *out, struct err *e)
{
    const char *version = api_seg(r, SEG_VERSION);
    const char *id, *json = NULL;

    if (api_job_id(r, out, SEG_NS, SEG_JOB, &id, e) != 0)
        return -1;
    if (id == NULL)
        return 0;
    struct uuid parsed;
    if (uuid_from_string(version, &parsed) &&
        store_read_job_version(r->store, r->arena, id, version, &json, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Job version", version);
    return api_reply(out, json);
}

int api_get_job_runs(struct req *r, struct reply *out, struct err *e)
{
    return get_job_list(r, out, store_read_job_runs, e);
}

static int job_tag(struct req *r, struct reply *out, bool add, struct err *e)
{
    const char *id, *tag = api_tag_name(r, SEG_TAG, e);

    if (tag == NULL || api_job_id(r, out, SEG_NS, SEG_JOB, &id, e) != 0)
        return -1;
    if (id == NULL)
        return 0;
    if (store_edit_job_tag(r->store, id, tag, add, e) != 0)
        return -1;
    return reply_job(r, out, id, e);
}

int api_post_job_tag(struct req *r, struct reply *out, struct err *e)
{
    return job_tag(r, out, true, e);
}

int api_delete_job_tag(struct req *r, struct reply *out, struct err *e)
{
    return job_tag(r, out, false, e);
}
