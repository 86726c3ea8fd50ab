/* collector/decode.c - one OpenLineage event (parsed JSON) -> validated struct ol_event.
 *
 * Event kind by the keys present (OpenLineage oneOf): "run" -> RunEvent; else "job" -> JobEvent;
 * else "dataset" -> DatasetEvent. Required: eventTime and producer always; schemaURL for Dataset and
 * Job events (Marquez accepts RunEvents without it); run.runId, job.namespace, job.name; dataset
 * namespace and name; the parent facet's run.runId, job.namespace, job.name.
 * Invariants: see decode.h. Every violation is recorded; decoding goes on after one so a client
 * sees all its mistakes at once. */
#include "decode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decode_int.h"
#include "timefmt.h"
#include "utf8.h"
#include "uuid.h"

void dctx_violate(struct dctx *d, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->out->n == d->out->cap) {
        size_t cap = d->out->cap ? d->out->cap * 2 : 8;
        const char **bigger = arena_alloc(d->a, cap * sizeof *bigger);
        if (d->out->n)
            memcpy(bigger, d->out->msgs, d->out->n * sizeof *bigger);
        d->out->msgs = bigger;
        d->out->cap = cap;
    }
    const char *sep = d->prefix && path[0] != '\0' ? "." : "";
    const char *space = d->prefix || path[0] != '\0' ? " " : "";
    d->out->msgs[d->out->n++] =
        arena_printf(d->a, "%s%s%s%s%s", d->prefix ? d->prefix : "", sep, path, space, msg);
    d->errors++;
}

const char *dctx_path(struct dctx *d, const char *path, const char *key)
{
    return path[0] ? arena_printf(d->a, "%s.%s", path, key) : key;
}

enum { DCTX_KEY_SHOWN = 40 };

const char *dctx_key_path(struct dctx *d, const char *path, const char *key)
{
    size_t len = strlen(key);

    if (len <= DCTX_KEY_SHOWN)
        return dctx_path(d, path, key);
    size_t cut = utf8_cut(key, DCTX_KEY_SHOWN - 3);
    return arena_printf(d->a, "%s%s%.*s...", path, path[0] ? "." : "", (int)cut, key);
}

bool dctx_fits(struct dctx *d, const char *path, const char *s, enum dctx_limit which)
{
    size_t limit = which == DCTX_NAME ? d->lim.max_name_bytes : d->lim.max_key_bytes;
    size_t len = strlen(s);

    if (limit == 0 || len <= limit)
        return true;
    dctx_violate(d, path, "is %zu bytes long; the limit is %zu bytes (%s)", len, limit,
                 which == DCTX_NAME ? "--max-name-bytes" : "--max-key-bytes");
    return false;
}

const char *dctx_required_limited(struct dctx *d, const struct json_value *obj, const char *key,
                                  const char *path, enum dctx_limit which)
{
    const char *s = dctx_required_string(d, obj, key, path);

    return s != NULL && dctx_fits(d, dctx_path(d, path, key), s, which) ? s : NULL;
}

const char *dctx_optional_string(struct dctx *d, const struct json_value *obj, const char *key,
                                 const char *path)
{
    const struct json_value *v = json_get(obj, key);

    if (v == NULL || v->type == JSON_NULL)
        return NULL;
    if (v->type != JSON_STRING) {
        dctx_violate(d, dctx_path(d, path, key), "must be a string");
        return NULL;
    }
    return v->u.str.text;
}

const char *dctx_required_string(struct dctx *d, const struct json_value *obj, const char *key,
                                 const char *path)
{
    const struct json_value *v = json_get(obj, key);
    const char *p = dctx_path(d, path, key);

    if (v == NULL || v->type == JSON_NULL) {
        dctx_violate(d, p, "must not be null");
        return NULL;
    }
    if (v->type != JSON_STRING) {
        dctx_violate(d, p, "must be a string");
        return NULL;
    }
    const char *s = v->u.str.text;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '\0') {
        dctx_violate(d, p, "must not be blank");
        return NULL;
    }
    return v->u.str.text;
}

/* True if member i of obj is overridden by a later member with the same key. */
static bool shadowed(const struct json_value *obj, size_t i)
{
    for (size_t j = i + 1; j < obj->u.object.n; j++)
        if (obj->u.object.key_lens[j] == obj->u.object.key_lens[i] &&
            memcmp(obj->u.object.keys[j], obj->u.object.keys[i], obj->u.object.key_lens[i]) == 0)
            return true;
    return false;
}

void dctx_facets(struct dctx *d, const struct json_value *facets, const char *path, bool allow_deleted,
                 struct ol_facet **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (facets == NULL || facets->type == JSON_NULL)
        return;
    if (facets->type != JSON_OBJECT) {
        dctx_violate(d, path, "must be an object");
        return;
    }
    *out = arena_zalloc(d->a, (facets->u.object.n + 1) * sizeof **out);
    for (size_t i = 0; i < facets->u.object.n; i++) {
        const struct json_value *f = facets->u.object.values[i];
        if (f->type == JSON_NULL || shadowed(facets, i))
            continue;
        if (!dctx_fits(d, dctx_key_path(d, path, facets->u.object.keys[i]), facets->u.object.keys[i],
                       DCTX_KEY))
            continue;
        struct ol_facet *o = &(*out)[(*n)++];
        o->name = facets->u.object.keys[i];
        if (allow_deleted && json_is_true(json_get(f, "_deleted")))
            o->deleted = true;
        else
            o->value = f;
    }
}

static const struct ol_facet *find_facet(const struct ol_facet *fs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fs[i].name, name) == 0 && !fs[i].deleted)
            return &fs[i];
    return NULL;
}

/* Parses an optional date-time member of a facet into *out. Lenient, as the facet is optional: a
 * date alone ("2020-01-01", as the Python client's own fixtures send) means midnight UTC, and any
 * other unparseable value is kept in the facet but not used. */
static bool optional_time(struct dctx *d, const struct json_value *obj, const char *key, const char *path,
                          int64_t *out)
{
    const char *s = dctx_optional_string(d, obj, key, path);
    struct err e;

    if (s == NULL)
        return false;
    if (time_parse_iso8601(s, out, &e) == 0)
        return true;
    if (strlen(s) == 10 && time_parse_iso8601(arena_printf(d->a, "%sT00:00:00Z", s), out, &e) == 0)
        return true;
    return false;
}

/* Marquez's parent run UUID: the runId if it is a UUID, else a v3 UUID in the URL namespace of
 * "<parent job name up to its last '.'>.<runId>" (Airflow task names are dag.task). */
static void parent_run_uuid(struct dctx *d, const char *job_name, const char *run_id, char out[37])
{
    struct uuid u, ns;

    if (!uuid_from_string(run_id, &u)) {
        const char *dot = strrchr(job_name, '.');
        size_t dag_len = dot ? (size_t)(dot - job_name) : strlen(job_name);
        const char *name = arena_printf(d->a, "%.*s.%s", (int)dag_len, job_name, run_id);
        uuid_namespace_url(&ns);
        uuid_name_v3_ns(&ns, name, strlen(name), &u);
    }
    uuid_to_string(&u, out);
}

static void decode_run_facets(struct dctx *d, const struct json_value *run, struct ol_event *ev)
{
    const struct json_value *facets = json_get(run, "facets");
    const struct json_value *parent = json_get(facets, "parent");
    const struct json_value *nominal = json_get(facets, "nominalTime");

    dctx_facets(d, facets, "run.facets", false, &ev->run_facets, &ev->n_run_facets);
    if (parent != NULL && parent->type != JSON_NULL) {
        const char *p = "run.facets.parent";
        const struct json_value *prun = json_get(parent, "run");
        const struct json_value *pjob = json_get(parent, "job");
        const char *run_id = dctx_required_string(d, prun, "runId", dctx_path(d, p, "run"));
        const char *ns = dctx_required_limited(d, pjob, "namespace", dctx_path(d, p, "job"), DCTX_NAME);
        const char *name = dctx_required_limited(d, pjob, "name", dctx_path(d, p, "job"), DCTX_NAME);
        if (run_id && ns && name) {
            ev->has_parent = true;
            ev->parent_job_namespace = ns;
            ev->parent_job_name = name;
            parent_run_uuid(d, name, run_id, ev->parent_run_uuid);
        }
    }
    if (nominal != NULL && nominal->type != JSON_NULL) {
        const char *p = "run.facets.nominalTime";
        if (json_get_string(nominal, "nominalStartTime") == NULL)
            dctx_required_string(d, nominal, "nominalStartTime", p);
        ev->has_nominal_start = optional_time(d, nominal, "nominalStartTime", p, &ev->nominal_start);
        ev->has_nominal_end = optional_time(d, nominal, "nominalEndTime", p, &ev->nominal_end);
    }
}

/* Job full name: Marquez names a child job "<parent>.<child>", keeping the name as sent when it
 * already starts with "<parent>.". A parent facet naming the job itself (same namespace and name)
 * is not a hierarchy: the run keeps its parent run, the job gets no parent job. */
static void name_job(struct dctx *d, struct ol_event *ev, const char *name)
{
    ev->job_name = name;
    ev->job_simple_name = name;
    if (!ev->has_parent)
        return;
    if (strcmp(name, ev->parent_job_name) == 0 && strcmp(ev->job_namespace, ev->parent_job_namespace) == 0) {
        ev->parent_job_self = true;
        return;
    }
    size_t plen = strlen(ev->parent_job_name);
    if (strncmp(name, ev->parent_job_name, plen) == 0 && name[plen] == '.' && name[plen + 1] != '\0') {
        ev->job_simple_name = name + plen + 1;
        return;
    }
    ev->job_name = arena_printf(d->a, "%s.%s", ev->parent_job_name, name);
    size_t limit = d->lim.max_name_bytes, len = strlen(ev->job_name);
    if (limit > 0 && len > limit)
        dctx_violate(d, "job.name",
                     "with its parent job's name makes a job name of %zu bytes; the limit is %zu "
                     "bytes (--max-name-bytes)",
                     len, limit);
}

static void decode_job(struct dctx *d, const struct json_value *job, struct ol_event *ev)
{
    const struct ol_facet *f;

    if (job == NULL || job->type == JSON_NULL) {
        dctx_violate(d, "job", "must not be null");
        return;
    }
    if (job->type != JSON_OBJECT) {
        dctx_violate(d, "job", "must be an object");
        return;
    }
    ev->job_namespace = dctx_required_limited(d, job, "namespace", "job", DCTX_NAME);
    const char *name = dctx_required_limited(d, job, "name", "job", DCTX_NAME);
    if (name != NULL && ev->job_namespace != NULL)
        name_job(d, ev, name);
    dctx_facets(d, json_get(job, "facets"), "job.facets", true, &ev->job_facets, &ev->n_job_facets);
    const struct json_value *facets = json_get(job, "facets");
    ev->job_type = "BATCH";
    const char *processing = json_get_string(json_get(facets, "jobType"), "processingType");
    if (processing != NULL && strcmp(processing, "STREAMING") == 0)
        ev->job_type = "STREAM";
    if ((f = find_facet(ev->job_facets, ev->n_job_facets, "documentation")) != NULL)
        ev->job_description = json_get_string(json_get(facets, "documentation"), "description");
    if ((f = find_facet(ev->job_facets, ev->n_job_facets, "sourceCodeLocation")) != NULL)
        ev->job_location = json_get_string(json_get(facets, "sourceCodeLocation"), "url");
}

static void decode_run(struct dctx *d, const struct json_value *run, struct ol_event *ev)
{
    struct uuid u;

    if (run->type != JSON_OBJECT) {
        dctx_violate(d, "run", run->type == JSON_NULL ? "must not be null" : "must be an object");
        return;
    }
    const char *run_id = dctx_required_string(d, run, "runId", "run");
    if (run_id != NULL) {
        uuid_for_run_id(run_id, &u);
        uuid_to_string(&u, ev->run_uuid);
    }
    decode_run_facets(d, run, ev);
}

/* Decodes inputs[] or outputs[] into ev->datasets (appending). */
static void decode_dataset_list(struct dctx *d, const struct json_value *list, const char *key, enum ol_io io,
                                struct ol_event *ev)
{
    if (list == NULL || list->type == JSON_NULL)
        return;
    if (list->type != JSON_ARRAY) {
        dctx_violate(d, key, "must be an array");
        return;
    }
    for (size_t i = 0; i < list->u.array.n; i++) {
        const char *path = arena_printf(d->a, "%s[%zu]", key, i);
        decode_dataset(d, list->u.array.items[i], path, io, &ev->datasets[ev->n_datasets]);
        ev->n_datasets++;
    }
}

static size_t array_len(const struct json_value *v)
{
    return v != NULL && v->type == JSON_ARRAY ? v->u.array.n : 0;
}

static void decode_event_type(struct dctx *d, const struct json_value *v, struct ol_event *ev)
{
    const char *t = dctx_optional_string(d, v, "eventType", "");
    static const struct {
        const char *type;
        enum run_state state;
    } states[] = {{"COMPLETE", RUN_STATE_COMPLETED}, {"FAIL", RUN_STATE_FAILED}, {"ABORT", RUN_STATE_ABORTED}};

    ev->state = RUN_STATE_RUNNING;
    if (t == NULL)
        return;
    char *upper = arena_strdup(d->a, t);
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    ev->event_type = upper;
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(upper, states[i].type) == 0)
            ev->state = states[i].state;
}

static void decode_common(struct dctx *d, const struct json_value *v, struct ol_event *ev)
{
    struct err e;
    const char *t = dctx_required_string(d, v, "eventTime", "");

    if (t != NULL && time_parse_iso8601(t, &ev->event_time, &e) != 0)
        dctx_violate(d, "eventTime", "%s", e.msg);
    ev->producer = dctx_required_string(d, v, "producer", "");
    if (ev->kind == OL_RUN_EVENT)
        ev->schema_url = dctx_optional_string(d, v, "schemaURL", "");
    else
        ev->schema_url = dctx_required_string(d, v, "schemaURL", "");
}

int decode_event(struct arena *a, const struct json_value *v, const char *prefix,
                 const struct decode_limits *lim, struct ol_event *ev, struct decode_violations *out)
{
    struct dctx d = {.a = a, .prefix = prefix, .out = out};
    const struct json_value *run = json_get(v, "run"), *job = json_get(v, "job"), *ds = json_get(v, "dataset");

    memset(ev, 0, sizeof *ev);
    if (lim != NULL)
        d.lim = *lim;
    if (v->type != JSON_OBJECT) {
        dctx_violate(&d, "", "event must be a JSON object");
        return -1;
    }
    if (run != NULL)
        ev->kind = OL_RUN_EVENT;
    else if (job != NULL)
        ev->kind = OL_JOB_EVENT;
    else if (ds != NULL)
        ev->kind = OL_DATASET_EVENT;
    else {
        dctx_violate(&d, "", "event needs \"run\" and \"job\" (RunEvent), \"job\" (JobEvent) or \"dataset\" "
                             "(DatasetEvent)");
        return -1;
    }
    decode_common(&d, v, ev);
    decode_event_type(&d, v, ev);
    size_t max = array_len(json_get(v, "inputs")) + array_len(json_get(v, "outputs")) + 1;
    ev->datasets = arena_zalloc(a, max * sizeof *ev->datasets);
    if (ev->kind == OL_RUN_EVENT)
        decode_run(&d, run, ev);
    if (ev->kind != OL_DATASET_EVENT) {
        decode_job(&d, job, ev);
        decode_dataset_list(&d, json_get(v, "inputs"), "inputs", OL_IO_INPUT, ev);
        decode_dataset_list(&d, json_get(v, "outputs"), "outputs", OL_IO_OUTPUT, ev);
    } else if (decode_dataset(&d, ds, "dataset", OL_IO_STATIC, &ev->datasets[0])) {
        ev->n_datasets = 1;
    }
    if (d.errors > 0)
        return -1;
    decode_finish_datasets(&d, ev);
    ev->body = json_canonical(a, v, &ev->body_len);
    return 0;
}
