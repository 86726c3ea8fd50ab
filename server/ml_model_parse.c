/* server/ml_model_parse.c - the fields of a model file (OpenMetadata MlModel YAML + `services:`) into
 * struct ml_model, each checked, the first problem reported with its line.
 *
 * Accepted keys are OpenMetadata's CreateMlModel fields (plus `serviceName`, `owner` and `services`);
 * an unknown key is an error, so a misspelt field is never silently dropped. Required: name,
 * algorithm, serviceName (or service); per feature its name; per feature source its name and its
 * table (dataSourceFqn, or dataSource.fullyQualifiedName). Enumerations are OpenMetadata's:
 * feature dataType numerical|categorical, source dataType integer|number|string|array|date|timestamp|
 * object|boolean.
 * Invariants: see ml_model.h (1 and 4 are established here). Ownership: arena. Threads: none shared. */
#include "ml_model.h"

#include <stdlib.h>
#include <string.h>

#include "ml_model_int.h"

static const char *const FEATURE_TYPES[] = {"numerical", "categorical", NULL};
static const char *const SOURCE_TYPES[] = {"integer",   "number", "string",  "array", "date",
                                           "timestamp", "object", "boolean", NULL};

static const char *const MODEL_KEYS[] = {
    "serviceName", "service",           "name",     "displayName", "description", "algorithm", "target",
    "mlFeatures",  "mlHyperParameters", "mlStore",  "server",      "dashboard",   "owner",     "owners",
    "tags",        "sourceUrl",         "services", NULL};
static const char *const FEATURE_KEYS[] = {
    "name",           "dataType", "description",        "featureAlgorithm",
    "featureSources", "tags",     "fullyQualifiedName", NULL};
static const char *const SOURCE_KEYS[] = {"name",       "dataType",           "description", "dataSourceFqn",
                                          "dataSource", "fullyQualifiedName", "tags",        NULL};
static const char *const PARAM_KEYS[] = {"name", "value", "description", NULL};
static const char *const STORE_KEYS[] = {"storage", "imageRepository", NULL};
static const char *const REF_KEYS[] = {"id",          "type",        "name",    "fullyQualifiedName",
                                       "displayName", "description", "deleted", "inherited",
                                       "href",        NULL};
static const char *const TAG_KEYS[] = {"tagFQN",    "name",  "displayName", "description", "style", "source",
                                       "labelType", "state", "href",        "reason",      NULL};

/* Fails unless the string at key is NULL (optional, absent) or one of allowed. */
static int check_enum(struct yml *y, yaml_node_t *map, const char *path, const char *key, const char *v,
                      const char *const *allowed, const char *expected)
{
    if (v == NULL)
        return 0;
    for (size_t i = 0; allowed[i] != NULL; i++)
        if (strcmp(v, allowed[i]) == 0)
            return 0;
    return yml_fail(y, yml_get(y, map, key), arena_printf(y->a, "%s.%s", path, key),
                    "unknown dataType \"%.64s\" (expected %s)", v, expected);
}

/* Splits an OpenMetadata FQN into its dot-separated parts; a part may be double-quoted to hold dots.
 * Returns the number of parts (at most max), or -1 if the quoting is broken or a part is empty. */
static int split_fqn(struct arena *a, const char *fqn, const char **parts, int max)
{
    int n = 0;
    const char *p = fqn;

    for (;;) {
        if (n == max)
            return max + 1;
        const char *end;
        if (*p == '"') {
            end = strchr(p + 1, '"');
            if (end == NULL || (end[1] != '.' && end[1] != '\0') || end == p + 1)
                return -1;
            parts[n++] = arena_strndup(a, p + 1, (size_t)(end - p - 1));
            end++;
        } else {
            end = p + strcspn(p, ".\"");
            if (end == p || *end == '"')
                return -1;
            parts[n++] = arena_strndup(a, p, (size_t)(end - p));
        }
        if (*end == '\0')
            return n;
        p = end + 1;
    }
}

/* The `services:` map, sorted for lookups (a file may name many services and many sources). */
struct services {
    struct yml_pair *pairs;
    size_t n;
};

/* The namespace of service name in the `services:` map, or NULL. */
static const char *service_ns(struct yml *y, const struct services *services, const char *service)
{
    yaml_node_t *v = yml_find(services->pairs, services->n, service);
    if (v == NULL || v->type != YAML_SCALAR_NODE)
        return NULL;
    return arena_strndup(y->a, (const char *)v->data.scalar.value, v->data.scalar.length);
}

/* The table of a feature source: dataSourceFqn, or dataSource.fullyQualifiedName; *at and *where
 * are the node and path that gave it (for errors about its form). */
static int source_fqn(struct yml *y, yaml_node_t *map, const char *path, const char **fqn, yaml_node_t **at,
                      const char **where)
{
    yaml_node_t *ds = yml_get(y, map, "dataSource");

    if (yml_string(y, map, path, "dataSourceFqn", false, fqn) != 0)
        return -1;
    *at = yml_get(y, map, "dataSourceFqn");
    *where = arena_printf(y->a, "%s.dataSourceFqn", path);
    if (*fqn != NULL)
        return 0;
    if (ds == NULL)
        return yml_fail(y, map, path, "missing dataSourceFqn (the table: service.database.schema.table)");
    const char *dpath = arena_printf(y->a, "%s.dataSource", path);
    if (yml_need_map(y, ds, dpath) != 0 || yml_check_keys(y, ds, dpath, REF_KEYS) != 0 ||
        yml_string(y, ds, dpath, "fullyQualifiedName", true, fqn) != 0)
        return -1;
    *at = yml_get(y, ds, "fullyQualifiedName");
    *where = arena_printf(y->a, "%s.fullyQualifiedName", dpath);
    return 0;
}

static int parse_source(struct yml *y, yaml_node_t *map, const char *path, const struct services *services,
                        struct ml_source *s)
{
    const char *parts[5];
    const char *fpath;
    yaml_node_t *at;

    s->line = yml_line(map);
    if (yml_need_map(y, map, path) != 0 || yml_check_keys(y, map, path, SOURCE_KEYS) != 0 ||
        yml_string(y, map, path, "name", true, &s->column) != 0 ||
        yml_string(y, map, path, "dataType", false, &s->data_type) != 0 ||
        yml_string(y, map, path, "description", false, &s->description) != 0 ||
        check_enum(y, map, path, "dataType", s->data_type, SOURCE_TYPES,
                   "integer, number, string, array, date, timestamp, object or boolean") != 0 ||
        source_fqn(y, map, path, &s->fqn, &at, &fpath) != 0)
        return -1;
    if (split_fqn(y->a, s->fqn, parts, 4) != 4)
        return yml_fail(y, at, fpath,
                        "malformed table FQN \"%.100s\" (expected service.database.schema.table)", s->fqn);
    if ((s->ns = service_ns(y, services, parts[0])) == NULL)
        return yml_fail(y, at, fpath,
                        "service \"%.64s\" is not in the services: map (service -> OpenLineage namespace)",
                        parts[0]);
    s->table = arena_printf(y->a, "%s.%s.%s", parts[1], parts[2], parts[3]);
    return 0;
}

/* One tag: a string "Classification.Tag" or OpenMetadata's TagLabel mapping {tagFQN, source, ...}. */
static int parse_tag(struct yml *y, yaml_node_t *n, const char *path, struct ml_tag *t)
{
    const char *fqn = NULL;

    t->source = NULL;
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.length > 0) {
        fqn = arena_strndup(y->a, (const char *)n->data.scalar.value, n->data.scalar.length);
    } else if (yml_need_map(y, n, path) != 0 || yml_check_keys(y, n, path, TAG_KEYS) != 0 ||
               yml_string(y, n, path, "tagFQN", true, &fqn) != 0 ||
               yml_string(y, n, path, "source", false, &t->source) != 0) {
        return -1;
    }
    const char *dot = strrchr(fqn, '.');
    if (dot == NULL || dot == fqn || dot[1] == '\0') {
        t->key = fqn;
        t->value = "true";
    } else {
        t->key = arena_strndup(y->a, fqn, (size_t)(dot - fqn));
        t->value = dot + 1;
    }
    return 0;
}

static int parse_tags(struct yml *y, yaml_node_t *map, const char *path, struct ml_tag **out, size_t *n_out)
{
    yaml_node_t *seq;
    const char *tpath = path[0] != '\0' ? arena_printf(y->a, "%s.tags", path) : "tags";

    *out = NULL;
    *n_out = 0;
    if (yml_seq(y, map, path, "tags", &seq) != 0)
        return -1;
    if (seq == NULL)
        return 0;
    *out = arena_zalloc(y->a, (yml_len(seq) + 1) * sizeof **out);
    for (size_t i = 0; i < yml_len(seq); i++)
        if (parse_tag(y, yml_item(y, seq, i), arena_printf(y->a, "%s[%zu]", tpath, i), &(*out)[i]) != 0)
            return -1;
    *n_out = yml_len(seq);
    return 0;
}

static int parse_feature(struct yml *y, yaml_node_t *map, const char *path, const struct services *services,
                         struct ml_feature *f)
{
    yaml_node_t *seq;

    f->line = yml_line(map);
    if (yml_need_map(y, map, path) != 0 || yml_check_keys(y, map, path, FEATURE_KEYS) != 0 ||
        yml_string(y, map, path, "name", true, &f->name) != 0 ||
        yml_string(y, map, path, "dataType", false, &f->data_type) != 0 ||
        check_enum(y, map, path, "dataType", f->data_type, FEATURE_TYPES, "numerical or categorical") != 0 ||
        yml_string(y, map, path, "description", false, &f->description) != 0 ||
        yml_string(y, map, path, "featureAlgorithm", false, &f->algorithm) != 0 ||
        parse_tags(y, map, path, &f->tags, &f->n_tags) != 0 ||
        yml_seq(y, map, path, "featureSources", &seq) != 0)
        return -1;
    f->n_sources = seq != NULL ? yml_len(seq) : 0;
    f->sources = arena_zalloc(y->a, (f->n_sources + 1) * sizeof *f->sources);
    for (size_t i = 0; i < f->n_sources; i++)
        if (parse_source(y, yml_item(y, seq, i), arena_printf(y->a, "%s.featureSources[%zu]", path, i),
                         services, &f->sources[i]) != 0)
            return -1;
    return 0;
}

static int parse_param(struct yml *y, yaml_node_t *map, const char *path, struct ml_param *p)
{
    if (yml_need_map(y, map, path) != 0 || yml_check_keys(y, map, path, PARAM_KEYS) != 0 ||
        yml_string(y, map, path, "name", true, &p->name) != 0 ||
        yml_string(y, map, path, "value", false, &p->value) != 0 ||
        yml_string(y, map, path, "description", false, &p->description) != 0)
        return -1;
    return 0;
}

/* An OpenMetadata EntityReference (or a plain name) as an OpenLineage owner "type:name". */
static int parse_owner(struct yml *y, yaml_node_t *n, const char *path, struct ml_owner *o)
{
    const char *name = NULL, *type = NULL;

    if (n->type == YAML_SCALAR_NODE && n->data.scalar.length > 0) {
        o->name = arena_strndup(y->a, (const char *)n->data.scalar.value, n->data.scalar.length);
        return 0;
    }
    if (yml_need_map(y, n, path) != 0 || yml_check_keys(y, n, path, REF_KEYS) != 0 ||
        yml_string(y, n, path, "name", false, &name) != 0 ||
        (name == NULL && yml_string(y, n, path, "fullyQualifiedName", true, &name) != 0) ||
        yml_string(y, n, path, "type", false, &type) != 0)
        return -1;
    o->name = type != NULL ? arena_printf(y->a, "%s:%s", type, name) : name;
    return 0;
}

/* The services: map: every key a service, every value a non-empty namespace. Empty when absent. */
static int parse_services(struct yml *y, yaml_node_t *root, struct services *out)
{
    yaml_node_t *s = yml_get(y, root, "services");

    out->pairs = NULL;
    out->n = 0;
    if (s == NULL)
        return 0;
    if (yml_need_map(y, s, "services") != 0)
        return -1;
    out->pairs = yml_sorted(y, s);
    out->n = yml_len(s);
    for (size_t i = 0; i < out->n; i++) {
        yaml_node_t *k = out->pairs[i].key, *v = out->pairs[i].value;
        const char *where = arena_printf(y->a, "services.%.*s",
                                         (int)(k->data.scalar.length > 64 ? 64 : k->data.scalar.length),
                                         (const char *)k->data.scalar.value);
        if (yml_is_null(v) || v->type != YAML_SCALAR_NODE || v->data.scalar.length == 0)
            return yml_fail(y, yml_is_null(v) ? k : v, where,
                            "must be an OpenLineage namespace (a single value)");
    }
    return 0;
}

static int parse_features(struct yml *y, yaml_node_t *root, const struct services *services,
                          struct ml_model *m)
{
    yaml_node_t *seq;

    if (yml_seq(y, root, "", "mlFeatures", &seq) != 0)
        return -1;
    m->n_features = seq != NULL ? yml_len(seq) : 0;
    m->features = arena_zalloc(y->a, (m->n_features + 1) * sizeof *m->features);
    for (size_t i = 0; i < m->n_features; i++)
        if (parse_feature(y, yml_item(y, seq, i), arena_printf(y->a, "mlFeatures[%zu]", i), services,
                          &m->features[i]) != 0)
            return -1;
    return 0;
}

static int parse_params(struct yml *y, yaml_node_t *root, struct ml_model *m)
{
    yaml_node_t *seq;

    if (yml_seq(y, root, "", "mlHyperParameters", &seq) != 0)
        return -1;
    m->n_params = seq != NULL ? yml_len(seq) : 0;
    m->params = arena_zalloc(y->a, (m->n_params + 1) * sizeof *m->params);
    for (size_t i = 0; i < m->n_params; i++)
        if (parse_param(y, yml_item(y, seq, i), arena_printf(y->a, "mlHyperParameters[%zu]", i),
                        &m->params[i]) != 0)
            return -1;
    return 0;
}

/* `owner` (one, OpenMetadata before 1.4) and `owners` (a list), in that order. */
static int parse_owners(struct yml *y, yaml_node_t *root, struct ml_model *m)
{
    yaml_node_t *one = yml_get(y, root, "owner");
    yaml_node_t *seq;

    if (yml_seq(y, root, "", "owners", &seq) != 0)
        return -1;
    size_t n = (one != NULL) + (seq != NULL ? yml_len(seq) : 0);
    m->owners = arena_zalloc(y->a, (n + 1) * sizeof *m->owners);
    if (one != NULL && parse_owner(y, one, "owner", &m->owners[m->n_owners++]) != 0)
        return -1;
    for (size_t i = 0; seq != NULL && i < yml_len(seq); i++)
        if (parse_owner(y, yml_item(y, seq, i), arena_printf(y->a, "owners[%zu]", i),
                        &m->owners[m->n_owners++]) != 0)
            return -1;
    return 0;
}

/* serviceName (the demo's spelling) or service (OpenMetadata's CreateMlModel), not both. */
static int parse_service(struct yml *y, yaml_node_t *root, const struct services *services,
                         struct ml_model *m)
{
    const char *a = NULL, *b = NULL;

    if (yml_string(y, root, "", "serviceName", false, &a) != 0 ||
        yml_string(y, root, "", "service", false, &b) != 0)
        return -1;
    if (a != NULL && b != NULL)
        return yml_fail(y, yml_get(y, root, "service"), "service", "give serviceName or service, not both");
    if (a == NULL && b == NULL)
        return yml_fail(y, root, "", "missing serviceName (the model's OpenMetadata service)");
    m->service = a != NULL ? a : b;
    m->ns = service_ns(y, services, m->service);
    if (m->ns == NULL)
        m->ns = m->service;
    return 0;
}

static int parse_store(struct yml *y, yaml_node_t *root, struct ml_model *m)
{
    yaml_node_t *st = yml_get(y, root, "mlStore");

    if (st == NULL)
        return 0;
    if (yml_need_map(y, st, "mlStore") != 0 || yml_check_keys(y, st, "mlStore", STORE_KEYS) != 0 ||
        yml_string(y, st, "mlStore", "storage", false, &m->storage) != 0 ||
        yml_string(y, st, "mlStore", "imageRepository", false, &m->image) != 0)
        return -1;
    return 0;
}

static int parse_model(struct yml *y, yaml_node_t *root, struct ml_model *m)
{
    struct services services;

    if (yml_check_keys(y, root, "", MODEL_KEYS) != 0 || parse_services(y, root, &services) != 0 ||
        yml_string(y, root, "", "name", true, &m->name) != 0 || parse_service(y, root, &services, m) != 0 ||
        yml_string(y, root, "", "description", false, &m->description) != 0 ||
        yml_string(y, root, "", "algorithm", true, &m->algorithm) != 0 ||
        yml_string(y, root, "", "target", false, &m->target) != 0 ||
        yml_string(y, root, "", "server", false, &m->server) != 0 || parse_store(y, root, m) != 0 ||
        parse_features(y, root, &services, m) != 0 || parse_params(y, root, m) != 0 ||
        parse_owners(y, root, m) != 0 || parse_tags(y, root, "", &m->tags, &m->n_tags) != 0)
        return -1;
    return 0;
}

int ml_model_parse(struct arena *a, const char *text, size_t len, struct ml_model *m, struct err *e)
{
    struct yml y = {.a = a, .e = e};
    struct ml_model parsed = {0};
    int rc = -1;

    err_clear(e);
    if (yml_load(&y, text, len, parsed.version) == 0 && parse_model(&y, yml_root(&y), &parsed) == 0 &&
        ml_model_check(a, &parsed, e) == 0) {
        *m = parsed;
        rc = 0;
    }
    yml_free(&y);
    return rc;
}
