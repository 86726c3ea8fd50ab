/* api/run_query.c - GET /api/v1/runs: runs by what they did ("when was the failed model pushed": the
 * deploy runs that FAILED reading the model's version).
 *
 *   GET /api/v1/runs?state=FAILED&job=<job:ns:name | name>&reads=<dataset:ns:name[#version]>&writes=..
 *                   &since=<ISO time>&until=<ISO time>&limit=100&offset=0
 *       {"totalCount":N,"runs":[Run + "job":{"namespace","name"}...]}, newest first
 * state: run states, comma-separated or repeated (Marquez's names: NEW, RUNNING, COMPLETED, ABORTED,
 * FAILED). job: a job node id, or a name without its namespace (409 with the candidates when several
 * jobs have it). reads/writes: a dataset node id, optionally pinned to a version (#<UUID> or the
 * version its producer named, such as a model version "2" or an md5). since <= a run's first event
 * time < until.
 * Invariants: every parameter is checked before the query; node ids are resolved against the graph as
 * /lineage resolves them (the split that names something); a node that does not exist is a 404. */
#include "ml.h"

#include <limits.h>
#include <string.h>

#include "api_int.h"
#include "lineage_int.h"
#include "store_ml.h"
#include "timefmt.h"

static const char *const RUN_STATES[] = {"NEW", "RUNNING", "COMPLETED", "ABORTED", "FAILED"};
enum { N_RUN_STATES = sizeof RUN_STATES / sizeof RUN_STATES[0] };

/* Every state= value (repeatable, comma-separated) as a JSON array, or NULL when none. */
static int states_param(struct req *r, const char **json_out, struct err *e)
{
    return api_param_enum_list(r, "state", RUN_STATES, N_RUN_STATES, true, json_out, e);
}

/* An ISO-8601 time parameter, as canonical UTC text, or NULL when absent. */
static int time_param(const struct req *r, const char *name, const char **out, struct err *e)
{
    const char *v = http_param(r, name);
    char buf[TIME_ISO_MAX];
    int64_t usec;
    struct err ignored;

    *out = NULL;
    if (v == NULL || *v == '\0')
        return 0;
    if (time_parse_iso8601(v, &usec, &ignored) != 0)
        return err_set(e, ERR_BAD_PARAM, name, "must be an ISO-8601 date-time");
    time_format_iso8601(usec, buf);
    *out = arena_strdup(r->arena, buf);
    return 0;
}

/* reads= or writes=: a dataset node id [#version], resolved to (namespace, name). */
static int dataset_param(struct req *r, const char *name, const char **ns, const char **ds,
                         const char **version, struct err *e)
{
    const char *v = http_param(r, name);
    struct node_id id;

    *ns = *ds = *version = NULL;
    if (v == NULL || *v == '\0')
        return 0;
    if (nodeid_parse(r->arena, v, &id, e) != 0 || id.kind != NODE_DATASET)
        return err_set(e, ERR_BAD_PARAM, name,
                       "must be a dataset node id: dataset:<namespace>:<name>[#<version>]");
    if (lineage_resolve(r, &id, e) != 0)
        return -1;
    *ns = id.namespace;
    *ds = id.name;
    *version = id.version;
    return 0;
}

/* job=: a job node id, or a job name without its namespace. Returns 1 when it replied 409. */
static int job_param(struct req *r, struct reply *out, const char **ns, const char **name, struct err *e)
{
    const char *v = http_param(r, "job");
    struct node_id id;
    int rc;

    *ns = *name = NULL;
    if (v == NULL || *v == '\0')
        return 0;
    if (strncmp(v, "job:", 4) == 0) {
        if (nodeid_parse(r->arena, v, &id, e) != 0 || lineage_resolve(r, &id, e) != 0)
            return -1;
    } else if ((rc = lineage_resolve_name(r, out, "job", v, true, &id, e)) != 0) {
        return rc;
    }
    *ns = id.namespace;
    *name = id.name;
    return 0;
}

int api_get_runs(struct req *r, struct reply *out, struct err *e)
{
    struct store_run_query q = {0};
    const char *json;
    int rc;

    if (http_param_int(r, "limit", API_DEFAULT_LIMIT, 0, ML_MAX_LIMIT, &q.limit, e) != 0 ||
        http_param_int(r, "offset", 0, 0, INT_MAX, &q.offset, e) != 0 || states_param(r, &q.states, e) != 0 ||
        time_param(r, "since", &q.since, e) != 0 || time_param(r, "until", &q.until, e) != 0 ||
        dataset_param(r, "reads", &q.reads_ns, &q.reads_name, &q.reads_version, e) != 0 ||
        dataset_param(r, "writes", &q.writes_ns, &q.writes_name, &q.writes_version, e) != 0)
        return -1;
    if ((rc = job_param(r, out, &q.job_ns, &q.job_name, e)) != 0)
        return rc < 0 ? -1 : 0;
    if (store_read_run_query(r->store, r->arena, &q, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}
