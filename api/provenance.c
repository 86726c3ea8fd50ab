/* api/provenance.c - a version's provenance and a run's DAG, walked one level per statement
 * (store_provenance.c) with a visited set, so every run is reported once whatever the shape.
 *
 *   GET /api/v1/namespaces/{ns}/datasets/{name}/versions/{version}/provenance?depth=20&maxRuns=200
 *       {"version":{namespace,name,version,producerVersion,datasetType,subType,createdAt,producedByRunId},
 *        "depth":D,"runs":[{"depth":1,<run>}...],"truncated":false}
 *     {version}: a lineaged version id or the producer's name for it (a model version "2", an md5).
 *     runs: the run that wrote the version (depth 1), the runs that wrote the versions it read (depth
 *     2), and so on to depth; a version that was only read has no producing run (producedByRunId null,
 *     no runs).
 *   GET /api/v1/jobs/runs/{id}/children?depth=20&maxRuns=200
 *       {"run":<run>,"children":[{"depth":1,<run>}...],"edges":[{"from","to","namespace","name",
 *        "version"}...],"truncated":false}
 *     children: the runs whose parent facet names the run, their children, and so on to depth; edges:
 *     the data flow among the runs of the answer (a run read the version another one wrote).
 * <run>: "id","state","createdAt","startedAt","endedAt","nominalStartTime","parentRunId","job"
 * {namespace,name,version,location},"facets" (hyperparameters live here),"jobFacets" (the code location
 * its events carried),"inputs" and "outputs" at the versions that run used (each input with the
 * "producedByRunId" of its version).
 * Invariants:
 *  1. Runs are in level order (depth), each level in the store's order; a run is listed once, at the
 *     first depth it is reached; at most maxRuns runs, then "truncated": true.
 *  2. Statements: one per level (depth + 1 at most), whatever the answer's size. */
#include "ml.h"

#include <string.h>

#include "api_int.h"
#include "json_text.h"
#include "store_ml.h"
#include "uuid.h"

enum { SEG_NS = 3, SEG_DATASET = 5, SEG_VERSION = 7, SEG_RUN = 4, PROV_JSON_DEPTH = 8 };

/* A set of strings with a value each (run ids, versions), open addressing, in the request arena. */
struct strmap {
    const char **keys, **values;
    size_t cap, n;
};

static size_t str_hash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static const char **strmap_slot(const struct strmap *m, const char *key)
{
    size_t i = str_hash(key) & (m->cap - 1);
    while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return &m->keys[i];
}

static const char *strmap_get(const struct strmap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    const char **k = strmap_slot(m, key);
    return *k ? m->values[k - m->keys] : NULL;
}

/* Adds key (kept, not copied) with value; false when it was there already (its value stays). */
static bool strmap_put(struct arena *a, struct strmap *m, const char *key, const char *value)
{
    if (2 * (m->n + 1) > m->cap) {
        struct strmap bigger = {NULL, NULL, m->cap ? 2 * m->cap : 64, 0};
        bigger.keys = arena_zalloc(a, bigger.cap * sizeof *bigger.keys);
        bigger.values = arena_zalloc(a, bigger.cap * sizeof *bigger.values);
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i] != NULL)
                strmap_put(a, &bigger, m->keys[i], m->values[i]);
        *m = bigger;
    }
    const char **k = strmap_slot(m, key);
    if (*k != NULL)
        return false;
    *k = key;
    m->values[k - m->keys] = value;
    m->n++;
    return true;
}

/* A walk's answer so far. */
struct walk {
    struct req *r;
    long depth, max_runs;
    size_t cap;                  /* runs listed at most: maxRuns, and the DAG's root */
    struct strmap visited;       /* run id -> its JSON (NULL for a run not listed) */
    struct store_prov_run *runs; /* listed, in order (the DAG's root first) */
    long *depths;
    size_t n;
    bool truncated;
};

/* The [[version, ns, name]...] array text as a parsed JSON array (NULL when malformed). */
static const struct json_value *triples(struct arena *a, const char *text)
{
    struct err ignored;
    const struct json_value *v = text ? json_parse(a, text, strlen(text), PROV_JSON_DEPTH, &ignored) : NULL;
    return v != NULL && v->type == JSON_ARRAY ? v : NULL;
}

/* Adds the runs of one level that are new; true when some were added. A level the store cut (more than
 * maxRuns rows) truncates the answer, since the rows it left out may be new. */
static bool add_level(struct walk *w, const struct store_prov_run *got, size_t n, long depth)
{
    bool added = false;

    if (n > (size_t)w->max_runs) {
        w->truncated = true;
        n = (size_t)w->max_runs;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strmap_put(w->r->arena, &w->visited, got[i].uuid, got[i].json))
            continue;
        if (w->n >= w->cap) {
            w->truncated = true;
            break;
        }
        w->runs[w->n] = got[i];
        w->depths[w->n++] = depth;
        added = true;
    }
    return added;
}

/* A JSON array of strings, from items[0..n). */
static const char *string_array(struct arena *a, const char *const *items, size_t n)
{
    yajl_gen g = json_gen_new();
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++)
        json_gen_str(g, items[i]);
    yajl_gen_array_close(g);
    return json_gen_finish(g, a, NULL);
}

/* root: the answer lists a root run besides maxRuns others (the DAG). */
static void walk_init(struct walk *w, struct req *r, long depth, long max_runs, bool root)
{
    *w =
        (struct walk){.r = r, .depth = depth, .max_runs = max_runs, .cap = (size_t)max_runs + (root ? 1 : 0)};
    w->runs = arena_zalloc(r->arena, (w->cap + 1) * sizeof *w->runs);
    w->depths = arena_zalloc(r->arena, (w->cap + 1) * sizeof *w->depths);
}

/* The versions read by runs[from .. n), each once, as a JSON array of UUIDs (NULL when none). */
static const char *inputs_of(struct walk *w, size_t from, struct strmap *seen)
{
    const char **versions = NULL;
    size_t m = 0, cap = 0;

    for (size_t i = from; i < w->n; i++) {
        const struct json_value *in = triples(w->r->arena, w->runs[i].inputs);
        for (size_t k = 0; in != NULL && k < in->u.array.n; k++) {
            const char *v =
                json_as_string(in->u.array.items[k]->type == JSON_ARRAY && in->u.array.items[k]->u.array.n > 0
                                   ? in->u.array.items[k]->u.array.items[0]
                                   : NULL);
            if (v == NULL || !strmap_put(w->r->arena, seen, v, v))
                continue;
            if (m == cap) {
                const char **bigger = arena_alloc(w->r->arena, (cap = cap ? 2 * cap : 16) * sizeof *bigger);
                if (m > 0)
                    memcpy(bigger, versions, m * sizeof *bigger);
                versions = bigger;
            }
            versions[m++] = v;
        }
    }
    return m ? string_array(w->r->arena, versions, m) : NULL;
}

/* Appends w's runs from index `from` as {"depth":D,<run members>} objects, comma-separated. */
static void gen_runs(struct json_text *t, const struct walk *w, size_t from)
{
    for (size_t i = from; i < w->n; i++) {
        const char *json = w->runs[i].json;
        json_text_lit(t, i > from ? ",{\"depth\":" : "{\"depth\":");
        json_text_lit(t, arena_printf(w->r->arena, "%ld", w->depths[i]));
        if (json[1] != '}')
            json_text_lit(t, ",");
        json_text_lit(t, json + 1);
    }
}

static int walk_params(struct req *r, long *depth, long *max_runs, struct err *e)
{
    return http_param_int(r, "depth", ML_DEFAULT_DEPTH, 0, ML_MAX_DEPTH, depth, e) != 0 ||
                   http_param_int(r, "maxRuns", ML_DEFAULT_MAX_RUNS, 1, ML_MAX_MAX_RUNS, max_runs, e) != 0
               ? -1
               : 0;
}

int api_get_dataset_provenance(struct req *r, struct reply *out, struct err *e)
{
    const char *version = api_seg(r, SEG_VERSION), *id, *json, *uuid, *producer;
    struct store_prov_run *got;
    struct strmap seen = {0};
    struct walk w;
    long depth, max_runs;
    size_t n;

    if (walk_params(r, &depth, &max_runs, e) != 0 || api_dataset_id(r, SEG_NS, SEG_DATASET, &id, e) != 0 ||
        store_prov_version(r->store, r->arena, id, version, &json, &uuid, &producer, e) != 0)
        return -1;
    if (json == NULL)
        return api_not_found(e, "Version", version);
    walk_init(&w, r, depth, max_runs, false);
    got = arena_alloc(r->arena, ((size_t)max_runs + 2) * sizeof *got);
    strmap_put(r->arena, &seen, uuid, uuid);
    const char *frontier = producer != NULL ? string_array(r->arena, &uuid, 1) : NULL;
    for (long d = 1; d <= depth && frontier != NULL && !w.truncated; d++) {
        size_t from = w.n;
        if (store_prov_producers(r->store, r->arena, frontier, (size_t)max_runs, got, &n, e) != 0)
            return -1;
        frontier = add_level(&w, got, n, d) ? inputs_of(&w, from, &seen) : NULL;
    }
    struct json_text t;
    json_text_init(&t, r->arena, 4096);
    json_text_lit(&t, "{\"version\":");
    json_text_lit(&t, json);
    json_text_lit(&t, arena_printf(r->arena, ",\"depth\":%ld,\"runs\":[", depth));
    gen_runs(&t, &w, 0);
    json_text_lit(&t, w.truncated ? "],\"truncated\":true}" : "],\"truncated\":false}");
    http_reply_json(out, 200, t.p, t.len);
    return 0;
}

/* {"from","to","namespace","name","version"} for every input of a run of w that another run of w
 * wrote, in run order. */
static void gen_edges(struct json_text *t, const struct walk *w)
{
    struct strmap writer = {0};
    bool first = true;

    for (size_t i = 0; i < w->n; i++) {
        const struct json_value *o = triples(w->r->arena, w->runs[i].outputs);
        for (size_t k = 0; o != NULL && k < o->u.array.n; k++)
            if (o->u.array.items[k]->type == JSON_ARRAY && o->u.array.items[k]->u.array.n == 3)
                strmap_put(w->r->arena, &writer, json_as_string(o->u.array.items[k]->u.array.items[0]),
                           w->runs[i].uuid);
    }
    for (size_t i = 0; i < w->n; i++) {
        const struct json_value *in = triples(w->r->arena, w->runs[i].inputs);
        for (size_t k = 0; in != NULL && k < in->u.array.n; k++) {
            const struct json_value *x = in->u.array.items[k];
            if (x->type != JSON_ARRAY || x->u.array.n != 3 || json_as_string(x->u.array.items[0]) == NULL)
                continue;
            const char *from = strmap_get(&writer, json_as_string(x->u.array.items[0]));
            if (from == NULL || strcmp(from, w->runs[i].uuid) == 0)
                continue;
            json_text_lit(t, first ? "{\"from\":" : ",{\"from\":");
            first = false;
            json_text_str(t, from);
            json_text_lit(t, ",\"to\":");
            json_text_str(t, w->runs[i].uuid);
            json_text_lit(t, ",\"namespace\":");
            json_text_str(t, json_as_string(x->u.array.items[1]));
            json_text_lit(t, ",\"name\":");
            json_text_str(t, json_as_string(x->u.array.items[2]));
            json_text_lit(t, ",\"version\":");
            json_text_str(t, json_as_string(x->u.array.items[0]));
            json_text_lit(t, "}");
        }
    }
}

int api_get_run_children(struct req *r, struct reply *out, struct err *e)
{
    const char *id = api_seg(r, SEG_RUN);
    char run[UUID_STR_MAX];
    struct uuid u;
    struct walk w;
    long depth, max_runs;
    size_t n;

    if (walk_params(r, &depth, &max_runs, e) != 0)
        return -1;
    uuid_for_run_id(id, &u); /* the producer's run id, as ingest stored it */
    uuid_to_string(&u, run);
    walk_init(&w, r, depth, max_runs, true);
    struct store_prov_run *got = arena_alloc(r->arena, ((size_t)max_runs + 2) * sizeof *got);
    const char *root = string_array(r->arena, (const char *const[]){run}, 1);
    if (store_prov_runs(r->store, r->arena, root, false, 1, got, &n, e) != 0)
        return -1;
    if (n == 0)
        return api_not_found(e, "Run", id);
    add_level(&w, got, 1, 0);
    const char *frontier = root;
    for (long d = 1; d <= depth && frontier != NULL && !w.truncated; d++) {
        size_t from = w.n;
        if (store_prov_runs(r->store, r->arena, frontier, true, (size_t)max_runs, got, &n, e) != 0)
            return -1;
        const char **ids = arena_alloc(r->arena, (n + 1) * sizeof *ids);
        frontier = NULL;
        if (add_level(&w, got, n, d)) {
            for (size_t i = from; i < w.n; i++)
                ids[i - from] = w.runs[i].uuid;
            frontier = string_array(r->arena, ids, w.n - from);
        }
    }
    struct json_text t;
    json_text_init(&t, r->arena, 4096);
    json_text_lit(&t, "{\"run\":");
    json_text_lit(&t, w.runs[0].json);
    json_text_lit(&t, ",\"children\":[");
    gen_runs(&t, &w, 1);
    json_text_lit(&t, "],\"edges\":[");
    gen_edges(&t, &w);
    json_text_lit(&t, w.truncated ? "],\"truncated\":true}" : "],\"truncated\":false}");
    http_reply_json(out, 200, t.p, t.len);
    return 0;
}
