/* tests/unit/server/test_ml_model_event.c - the OpenLineage event of a model file
 * (server/ml_model_event.c): its content, read back with the JSON parser, and its determinism.
 *
 * Invariants: models come from the shared reference file (../shared/ml/ml_model.yaml), optionally with
 * one text change; every check reads the event through common/json.h, not by searching the text.
 * Ownership: one arena per test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "ml_model.h"

static const char REFERENCE[] = LINEAGED_SHARED_DIR "/ml/ml_model.yaml";
static const char WHEN[] = "2025-03-01T10:00:00.123456Z";

/* The reference model with the first `find` replaced by `repl` ("" and "": unchanged). */
static struct ml_model *model(struct arena *a, const char *find, const char *repl)
{
    FILE *f = fopen(REFERENCE, "rb");
    char buf[16384];
    struct ml_model *m = arena_zalloc(a, sizeof *m);
    struct err e;

    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *at = strstr(buf, find);
    assert_non_null(at);
    char *text = arena_printf(a, "%.*s%s%s", (int)(at - buf), buf, repl, at + strlen(find));
    if (ml_model_parse(a, text, strlen(text), m, &e) != 0)
        fail_msg("%s", e.msg);
    return m;
}

static const struct json_value *event(struct arena *a, const struct ml_model *m,
                                      const struct ml_code_location *loc)
{
    struct err e;
    size_t len;
    char *text = ml_model_event(a, m, WHEN, loc, &len);
    assert_int_equal(strlen(text), len);
    const struct json_value *v = json_parse(a, text, len, 64, &e);
    assert_non_null(v);
    return v;
}

/* Path lookups: key names and array indexes ("outputs", "0", "facets"), NULL-terminated. */
static const struct json_value *at(const struct json_value *v, ...)
{
    va_list ap;
    const char *k;

    va_start(ap, v);
    while (v != NULL && (k = va_arg(ap, const char *)) != NULL) {
        if (v->type == JSON_ARRAY) {
            size_t i = (size_t)atoi(k);
            v = i < v->u.array.n ? v->u.array.items[i] : NULL;
        } else {
            v = json_get(v, k);
        }
    }
    va_end(ap);
    return v;
}

static const char *str_at(const struct json_value *v, const char *a, const char *b, const char *c,
                          const char *d)
{
    const struct json_value *x = at(v, a, b, c, d, NULL);
    assert_non_null(x);
    assert_int_equal(x->type, JSON_STRING);
    return x->u.str.text;
}

static void test_event_header_run_and_job(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_model *m = model(a, "", "");
    const struct json_value *ev = event(a, m, NULL);
    char run_id[37];

    ml_model_run_id(m, run_id);
    assert_string_equal(json_get_string(ev, "eventType"), "COMPLETE");
    assert_string_equal(json_get_string(ev, "eventTime"), WHEN);
    assert_string_equal(json_get_string(ev, "schemaURL"),
                        "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent");
    assert_string_equal(str_at(ev, "run", "runId", NULL, NULL), run_id);
    assert_string_equal(str_at(ev, "job", "namespace", NULL, NULL), "CustomMLService");
    assert_string_equal(str_at(ev, "job", "name", NULL, NULL), "publish_model.Revenue Predictions");
    assert_null(at(ev, "job", "facets", "sourceCodeLocation", NULL));
    const struct json_value *p = at(ev, "run", "facets", "executionParameters", "parameters", "0", NULL);
    assert_string_equal(json_get_string(p, "key"), "regularisation");
    assert_string_equal(json_get_string(p, "value"), "0.5");
    assert_string_equal(json_get_string(p, "description"), "Adding some room for error");
    assert_non_null(strstr(str_at(ev, "run", "facets", "executionParameters", "_schemaURL"),
                           "ExecutionParametersRunFacet.json"));
    arena_free(a);
}

static void test_inputs_are_tables_with_the_columns_used(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    const struct json_value *ev = event(a, model(a, "", ""), NULL);
    const struct json_value *in = json_get(ev, "inputs");

    assert_int_equal(in->u.array.n, 3);
    assert_string_equal(str_at(in, "0", "namespace", NULL, NULL), "postgres://postgresql:5432");
    assert_string_equal(str_at(in, "0", "name", NULL, NULL), "postgres.public.orders");
    assert_string_equal(str_at(in, "1", "name", NULL, NULL), "postgres.public.restaurants");
    assert_string_equal(str_at(in, "2", "name", NULL, NULL), "postgres.public.users");
    assert_null(at(in, "1", "facets", NULL)); /* the table's own schema is left alone */
    const struct json_value *fields = at(in, "1", "inputFacets", "lineaged_columnsRead", "fields", NULL);
    assert_int_equal(fields->u.array.n, 2);
    assert_string_equal(str_at(fields, "0", "name", NULL, NULL), "average_price");
    assert_string_equal(str_at(fields, "1", "name", NULL, NULL), "rating");
    assert_string_equal(str_at(fields, "1", "type", NULL, NULL), "integer");
    arena_free(a);
}

static void test_output_is_the_model(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_model *m = model(a, "", "");
    const struct json_value *ev = event(a, m, NULL);
    const struct json_value *f = at(ev, "outputs", "0", "facets", NULL);

    assert_int_equal(json_get(ev, "outputs")->u.array.n, 1);
    assert_string_equal(str_at(ev, "outputs", "0", "name", NULL), "Revenue Predictions");
    assert_string_equal(str_at(f, "datasetType", "datasetType", NULL, NULL), "MODEL");
    assert_string_equal(str_at(f, "datasetType", "subType", NULL, NULL), "REGISTERED");
    assert_string_equal(str_at(f, "version", "datasetVersion", NULL, NULL), m->version);
    assert_string_equal(str_at(f, "schema", "fields", "2", "name"), "is_premium");
    assert_string_equal(str_at(f, "schema", "fields", "1", "type"), "numerical");
    assert_non_null(strstr(str_at(f, "documentation", "description", NULL, NULL), "picked up and delivered"));
    assert_string_equal(str_at(f, "lineaged_mlModel", "algorithm", NULL, NULL), "XGBoost");
    assert_string_equal(str_at(f, "lineaged_mlModel", "target", NULL, NULL), "expected_time");
    assert_string_equal(str_at(f, "lineaged_mlModel", "mlStore", "storage", NULL), "s3://path-to-pickle");
    assert_string_equal(str_at(f, "lineaged_mlModel", "_schemaURL", NULL, NULL),
                        "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetFacet");
    assert_null(json_get(f, "ownership"));
    assert_null(json_get(f, "tags"));
    arena_free(a);
}

static void test_column_lineage_carries_the_feature_algorithm(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    const struct json_value *ev = event(a, model(a, "", ""), NULL);
    const struct json_value *cl = at(ev, "outputs", "0", "facets", "columnLineage", "fields", NULL);
    const struct json_value *pca = json_get(cl, "restaurant_dimension");
    const struct json_value *ident = json_get(cl, "is_premium");

    assert_int_equal(cl->u.object.n, 3);
    assert_int_equal(json_get(pca, "inputFields")->u.array.n, 2);
    assert_string_equal(str_at(pca, "inputFields", "1", "field", NULL), "average_price");
    assert_string_equal(str_at(pca, "inputFields", "1", "name", NULL), "postgres.public.restaurants");
    assert_string_equal(str_at(pca, "inputFields", "1", "namespace", NULL), "postgres://postgresql:5432");
    const struct json_value *t = at(pca, "inputFields", "0", "transformations", "0", NULL);
    assert_string_equal(json_get_string(t, "type"), "DIRECT");
    assert_string_equal(json_get_string(t, "subtype"), "TRANSFORMATION");
    assert_string_equal(json_get_string(t, "description"), "PCA");
    assert_int_equal(json_get(t, "masking")->type, JSON_BOOL);
    assert_string_equal(json_get_string(pca, "transformationDescription"), "PCA");
    assert_string_equal(json_get_string(pca, "transformationType"), "TRANSFORMATION");
    t = at(ident, "inputFields", "0", "transformations", "0", NULL);
    assert_string_equal(json_get_string(t, "subtype"), "IDENTITY");
    assert_null(json_get(t, "description"));
    assert_null(json_get(ident, "transformationDescription"));
    assert_string_equal(json_get_string(ident, "transformationType"), "IDENTITY");
    arena_free(a);
}

static void test_owners_and_tags(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_model *m =
        model(a, "algorithm: XGBoost\n",
              "algorithm: XGBoost\nowner: {name: ml-platform, type: team}\n"
              "owners:\n  - jdoe\n  - {fullyQualifiedName: ana, type: user}\n"
              "tags: [Tier.Tier1, {tagFQN: PII.Sensitive, source: Classification}, production]\n");
    const struct json_value *f = at(event(a, m, NULL), "outputs", "0", "facets", NULL);
    const struct json_value *owners = at(f, "ownership", "owners", NULL);
    const struct json_value *tags = at(f, "tags", "tags", NULL);

    assert_int_equal(owners->u.array.n, 3);
    assert_string_equal(str_at(owners, "0", "name", NULL, NULL), "team:ml-platform");
    assert_string_equal(str_at(owners, "1", "name", NULL, NULL), "jdoe");
    assert_string_equal(str_at(owners, "2", "name", NULL, NULL), "user:ana");
    assert_int_equal(tags->u.array.n, 3);
    assert_string_equal(str_at(tags, "0", "key", NULL, NULL), "Tier");
    assert_string_equal(str_at(tags, "0", "value", NULL, NULL), "Tier1");
    assert_null(at(tags, "0", "source", NULL));
    assert_string_equal(str_at(tags, "1", "key", NULL, NULL), "PII");
    assert_string_equal(str_at(tags, "1", "source", NULL, NULL), "Classification");
    assert_string_equal(str_at(tags, "2", "key", NULL, NULL), "production");
    assert_string_equal(str_at(tags, "2", "value", NULL, NULL), "true");
    arena_free(a);
}

static void test_feature_tags_name_their_field(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_model *m =
        model(a, "    featureAlgorithm: PCA\n", "    featureAlgorithm: PCA\n    tags: [PII.None]\n");
    const struct json_value *tags = at(event(a, m, NULL), "outputs", "0", "facets", "tags", "tags", NULL);

    assert_int_equal(tags->u.array.n, 1);
    assert_string_equal(str_at(tags, "0", "field", NULL, NULL), "restaurant_dimension");
    assert_string_equal(str_at(tags, "0", "value", NULL, NULL), "None");
    arena_free(a);
}

static void test_equal_input_gives_byte_equal_events(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_code_location loc = {"git", "https://example.com/r/blob/abc/m.yaml",
                                   "https://example.com/r.git", "m.yaml", "abc"};
    size_t n1, n2;
    /* two separate parses of differently formatted text: the same model */
    char *e1 = ml_model_event(a, model(a, "", ""), WHEN, &loc, &n1);
    char *e2 = ml_model_event(a, model(a, "    value: 0.5", "    value: '0.5'   # tuned"), WHEN, &loc, &n2);

    assert_int_equal(n1, n2);
    assert_memory_equal(e1, e2, n1);
    assert_null(memchr(e1, '\n', n1)); /* no whitespace between tokens */
    arena_free(a);
}

static void test_run_id_follows_the_version(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    char r1[37], r2[37], r3[37];

    ml_model_run_id(model(a, "", ""), r1);
    ml_model_run_id(model(a, "target: expected_time\n", "target: expected_time # comment\n"), r2);
    ml_model_run_id(model(a, "target: expected_time", "target: delivery_time"), r3);
    assert_string_equal(r1, r2);
    assert_string_not_equal(r1, r3);
    assert_int_equal(strlen(r1), 36);
    assert_int_equal(r1[14], '3'); /* a name-based (v3) UUID */
    arena_free(a);
}

static void test_code_location_facet(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_code_location loc = {"git", "https://github.com/acme/ml/blob/abc/models/m.yaml",
                                   "https://github.com/acme/ml.git", "models/m.yaml", "abc"};
    const struct json_value *f =
        at(event(a, model(a, "", ""), &loc), "job", "facets", "sourceCodeLocation", NULL);

    assert_string_equal(json_get_string(f, "type"), "git");
    assert_string_equal(json_get_string(f, "url"), loc.url);
    assert_string_equal(json_get_string(f, "repoUrl"), loc.repo_url);
    assert_string_equal(json_get_string(f, "path"), "models/m.yaml");
    assert_string_equal(json_get_string(f, "version"), "abc");
    assert_non_null(strstr(json_get_string(f, "_schemaURL"), "/1-1-0/SourceCodeLocationJobFacet.json#"));
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_header_run_and_job),
        cmocka_unit_test(test_inputs_are_tables_with_the_columns_used),
        cmocka_unit_test(test_output_is_the_model),
        cmocka_unit_test(test_column_lineage_carries_the_feature_algorithm),
        cmocka_unit_test(test_owners_and_tags),
        cmocka_unit_test(test_feature_tags_name_their_field),
        cmocka_unit_test(test_equal_input_gives_byte_equal_events),
        cmocka_unit_test(test_run_id_follows_the_version),
        cmocka_unit_test(test_code_location_facet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
