/* tests/unit/server/test_ml_model_parse.c - model files to struct ml_model (server/ml_model_parse.c,
 * server/ml_model_yaml.c, server/ml_model_check.c through ml_model_parse).
 *
 * Invariants:
 *  1. Every case starts from the shared reference file (../shared/ml/ml_model.yaml), changes one thing
 *     and writes the variant to a temporary file that is read back, as publish-model reads a file.
 *  2. Every broken variant asserts the exact "line N: " prefix and the words that say what is wrong.
 * Ownership: one arena per test; temporary files are removed by the test that made them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "ml_model.h"

static const char REFERENCE[] = LINEAGED_SHARED_DIR "/ml/ml_model.yaml";

static char *slurp(struct arena *a, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = arena_alloc(a, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* The reference text with the first `find` replaced by `repl` (find must occur). */
static char *variant(struct arena *a, const char *find, const char *repl)
{
    size_t len;
    char *ref = slurp(a, REFERENCE, &len);
    char *at = strstr(ref, find);
    assert_non_null(at);
    return arena_printf(a, "%.*s%s%s", (int)(at - ref), ref, repl, at + strlen(find));
}

/* Writes text to a temporary file, parses the file's contents back, removes the file. */
static int parse_via_file(struct arena *a, const char *text, struct ml_model *m, struct err *e)
{
    const char *dir = getenv("TMPDIR") != NULL && getenv("TMPDIR")[0] != '\0' ? getenv("TMPDIR") : "/tmp";
    char *path = arena_printf(a, "%s/lineaged-ml-model-XXXXXX", dir);
    int fd = mkstemp(path);
    size_t len;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char *back = slurp(a, path, &len);
    unlink(path);
    return ml_model_parse(a, back, len, m, e);
}

/* The variant fails with a message that starts with prefix and contains words. */
static void assert_broken(const char *text, const char *prefix, const char *words)
{
    struct arena *a = arena_new();
    struct ml_model m;
    struct err e;

    assert_int_equal(parse_via_file(a, text, &m, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    if (strncmp(e.msg, prefix, strlen(prefix)) != 0 || strstr(e.msg, words) == NULL)
        fail_msg("message \"%s\" does not start with \"%s\" or lacks \"%s\"", e.msg, prefix, words);
    arena_free(a);
}

static void broken_variant(const char *find, const char *repl, const char *prefix, const char *words)
{
    struct arena *a = arena_new();
    assert_broken(variant(a, find, repl), prefix, words);
    arena_free(a);
}

/* An anchor on the first feature's sources, reused by the third: refused at the anchor's line (19). */
static void assert_anchor_reused(void)
{
    struct arena *a = arena_new();
    char *text = variant(a, "    featureSources:\n      - name: orders",
                         "    featureSources: &src\n      - name: orders");
    const char *third = "    featureSources:\n      - name: premium\n        dataType: boolean\n"
                        "        dataSourceFqn: demo_pg.postgres.public.users\n";
    char *at = strstr(text, third);

    assert_non_null(at);
    text = arena_printf(a, "%.*s    featureSources: *src\n%s", (int)(at - text), text, at + strlen(third));
    assert_broken(text, "line 19: ", "anchors and aliases (&name, *name) are not supported");
    arena_free(a);
}

static void test_reference_file_parses(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_model m;
    struct err e;
    size_t len;
    char *text = slurp(a, REFERENCE, &len);

    assert_int_equal(parse_via_file(a, text, &m, &e), 0);
    assert_string_equal(m.name, "Revenue Predictions");
    assert_string_equal(m.service, "CustomMLService");
    assert_string_equal(m.ns, "CustomMLService"); /* not in services: the service name itself */
    assert_string_equal(m.algorithm, "XGBoost");
    assert_string_equal(m.target, "expected_time");
    assert_non_null(strstr(m.description, "picked up and delivered\nwhen a user"));
    assert_string_equal(m.storage, "s3://path-to-pickle");
    assert_string_equal(m.image, "https://docker.hub.com/image");
    assert_int_equal(m.n_features, 3);
    assert_string_equal(m.features[1].name, "restaurant_dimension");
    assert_string_equal(m.features[1].data_type, "numerical");
    assert_string_equal(m.features[1].algorithm, "PCA");
    assert_null(m.features[2].algorithm);
    assert_int_equal(m.features[1].n_sources, 2);
    assert_string_equal(m.features[1].sources[1].column, "average_price");
    assert_string_equal(m.features[1].sources[1].ns, "postgres://postgresql:5432");
    assert_string_equal(m.features[1].sources[1].table, "postgres.public.restaurants");
    assert_int_equal(m.features[1].sources[1].line, 30);
    assert_int_equal(m.n_params, 1);
    assert_string_equal(m.params[0].value, "0.5");
    assert_int_equal(m.n_tables, 3);
    assert_string_equal(m.tables[1].name, "postgres.public.restaurants");
    assert_int_equal(m.tables[1].line, 27);
    assert_int_equal(m.tables[1].n_columns, 2);
    assert_string_equal(m.tables[1].columns[0].name, "average_price");
    assert_string_equal(m.tables[1].columns[1].data_type, "integer");
    assert_int_equal(strlen(m.version), ML_MODEL_VERSION_LEN);
    arena_free(a);
}

static void test_missing_required_fields(void **state)
{
    (void)state;
    broken_variant("name: Revenue Predictions\n", "", "line 5: ", "missing name");
    broken_variant("algorithm: XGBoost\n", "", "line 5: ", "missing algorithm");
    broken_variant("serviceName: CustomMLService\n", "", "line 6: ", "missing serviceName");
    broken_variant("  - name: is_premium\n    dataType", "  - dataType",
                   "line 33: mlFeatures[2]: ", "missing name");
    broken_variant("        dataSourceFqn: demo_pg.postgres.public.users\n", "",
                   "line 36: mlFeatures[2].featureSources[0]: ", "missing dataSourceFqn");
    broken_variant("  - name: regularisation\n    value: 0.5", "  - value: 0.5",
                   "line 41: mlHyperParameters[0]: ", "missing name");
}

static void test_unknown_data_types(void **state)
{
    (void)state;
    broken_variant("dataType: categorical\n    featureAlgorithm: Bucketing",
                   "dataType: categorial\n    featureAlgorithm: Bucketing",
                   "line 17: mlFeatures[0].dataType: ",
                   "unknown dataType \"categorial\" (expected numerical or categorical)");
    broken_variant("name: rating\n        dataType: integer", "name: rating\n        dataType: int",
                   "line 28: mlFeatures[1].featureSources[0].dataType: ", "unknown dataType \"int\"");
}

static void test_malformed_fqn_and_unknown_service(void **state)
{
    (void)state;
    broken_variant(
        "demo_pg.postgres.public.restaurants\n      - name: average",
        "demo_pg.postgres.restaurants\n      - name: average",
        "line 29: mlFeatures[1].featureSources[0].dataSourceFqn: ",
        "malformed table FQN \"demo_pg.postgres.restaurants\" (expected service.database.schema.table)");
    broken_variant("demo_pg.postgres.public.orders", "demo_pg.postgres.public.orders.extra",
                   "line 22: mlFeatures[0].featureSources[0].dataSourceFqn: ", "malformed table FQN");
    broken_variant("demo_pg.postgres.public.orders", "demo_pg..public.orders",
                   "line 22: ", "malformed table FQN");
    broken_variant("demo_pg.postgres.public.orders", "demo_pg.\"postgres.public.orders",
                   "line 22: ", "malformed table FQN");
    broken_variant("demo_pg.postgres.public.users", "other_pg.postgres.public.users",
                   "line 38: mlFeatures[2].featureSources[0].dataSourceFqn: ",
                   "service \"other_pg\" is not in the services: map");
}

static void test_quoted_fqn_parts_may_hold_dots(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_model m;
    struct err e;
    char *text = variant(a, "demo_pg.postgres.public.users", "'demo_pg.postgres.public.\"users.v2\"'");

    assert_int_equal(parse_via_file(a, text, &m, &e), 0);
    assert_string_equal(m.features[2].sources[0].table, "postgres.public.users.v2");
    arena_free(a);
}

static void test_cross_feature_checks(void **state)
{
    (void)state;
    broken_variant("  - name: is_premium", "  - name: restaurant_dimension", "line 33: mlFeatures[2].name: ",
                   "feature \"restaurant_dimension\" is already defined on line 23");
    broken_variant("      - name: average_price", "      - name: rating",
                   "line 30: mlFeatures[1].featureSources[1]: ",
                   "column \"rating\" of \"demo_pg.postgres.public.restaurants\" is listed twice in this "
                   "feature (also on line 27)");
    broken_variant("      - name: premium\n        dataType: boolean\n        dataSourceFqn: "
                   "demo_pg.postgres.public.users",
                   "      - name: rating\n        dataType: boolean\n        dataSourceFqn: "
                   "demo_pg.postgres.public.restaurants",
                   "line 36: mlFeatures[2].featureSources[0].dataType: ",
                   "column \"rating\" of \"demo_pg.postgres.public.restaurants\" is \"boolean\" here but "
                   "\"integer\" on line 27");
}

static void test_unknown_keys_and_wrong_shapes(void **state)
{
    (void)state;
    broken_variant("algorithm: XGBoost", "algoritm: XGBoost", "line 12: ", "unknown key \"algoritm\"");
    broken_variant("    featureAlgorithm: PCA", "    featureAlgo: PCA",
                   "line 25: mlFeatures[1]: ", "unknown key \"featureAlgo\"");
    broken_variant("mlFeatures:\n", "mlFeatures: all of them\ndashboard:\n",
                   "line 15: mlFeatures: ", "must be a list");
    broken_variant("target: expected_time", "target: [a, b]", "line 13: target: ", "must be a single value");
    broken_variant("mlStore:\n", "mlStore: s3://x\nsourceUrl:\n", "line 45: mlStore: ", "must be a mapping");
}

static void test_services_map_values(void **state)
{
    (void)state;
    broken_variant("  demo_pg: postgres://postgresql:5432",
                   "  demo_pg:", "line 51: services.demo_pg: ", "must be an OpenLineage namespace");
    broken_variant("  demo_pg: postgres://postgresql:5432", "  demo_pg: [a, b]",
                   "line 51: services.demo_pg: ", "must be an OpenLineage namespace");
}

/* Thousands of services: each source finds its own (the map is searched, not scanned). */
static void test_many_services_are_looked_up(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_model m;
    struct err e;
    enum { N = 5000 };
    char *map = arena_alloc(a, N * 32 + 16);
    size_t n = (size_t)sprintf(map, "services:\n");

    for (int i = N - 1; i >= 0; i--)
        n += (size_t)sprintf(map + n, "  svc%04d: ns%d\n", i, i);
    char *text = variant(a, "services:\n", map);
    for (int i = 0; i < 3; i++) {
        const char *from[] = {"demo_pg.postgres.public.orders",
                              "demo_pg.postgres.public.restaurants\n      - name: average",
                              "demo_pg.postgres.public.users"};
        const char *to[] = {"svc0000.postgres.public.orders",
                            "svc4999.postgres.public.restaurants\n      - name: average",
                            "svc2500.postgres.public.users"};
        char *at = strstr(text, from[i]);
        assert_non_null(at);
        text = arena_printf(a, "%.*s%s%s", (int)(at - text), text, to[i], at + strlen(from[i]));
    }
    assert_int_equal(parse_via_file(a, text, &m, &e), 0);
    assert_string_equal(m.features[0].sources[0].ns, "ns0");
    assert_string_equal(m.features[1].sources[0].ns, "ns4999");
    assert_string_equal(m.features[1].sources[1].ns, "postgres://postgresql:5432");
    assert_string_equal(m.features[2].sources[0].ns, "ns2500");
    arena_free(a);
}

static void test_yaml_level_problems(void **state)
{
    (void)state;
    broken_variant("    value: 0.5\n", "    value: [0.5\n", "line 43: ", "did not find expected ',' or ']'");
    broken_variant("target: expected_time\n", "target: expected_time\ntarget: other\n",
                   "line 14: ", "duplicate key \"target\"");
    assert_anchor_reused();
    broken_variant("  imageRepository: https://docker.hub.com/image\n",
                   "  imageRepository: https://docker.hub.com/image\n---\nname: x\n",
                   "line 49: ", "a second YAML document");
    assert_broken("", "line 1: ", "holds no YAML document");
    assert_broken("# only a comment\n", "line 1: ", "holds no YAML document");
    assert_broken("just a string\n", "line 1: the document: ", "must be a mapping");
    assert_broken("name: x\nbad: \xff\xfe\n", "line 2: ", "invalid");
}

static void test_aliases_are_refused_not_expanded(void **state)
{
    (void)state;
    /* The billion-laughs shape: each level doubles the last; expanding it would take 2^30 nodes. */
    struct arena *a = arena_new();
    char *text = arena_strdup(a, "name: x\nl0: &l0 [a, b]\n");
    for (int i = 1; i <= 30; i++)
        text = arena_printf(a, "%sl%d: &l%d [*l%d, *l%d]\n", text, i, i, i - 1, i - 1);
    assert_broken(text, "line 2: ", "anchors and aliases");
    assert_broken("&root [*root]\n", "line 1: ", "anchors and aliases");
    assert_broken("&root {name: *root}\n", "line 1: ", "anchors and aliases");
    arena_free(a);
}

static void test_deep_nesting_is_refused(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    enum { DEPTH = 100000 };
    char *text = arena_alloc(a, 2 * DEPTH + 16);
    size_t n = 0;

    n += (size_t)sprintf(text, "name: ");
    for (int i = 0; i < DEPTH; i++)
        text[n++] = '[';
    for (int i = 0; i < DEPTH; i++)
        text[n++] = ']';
    text[n] = '\0';
    assert_broken(text, "line 1: ", "nested deeper than 32 levels");
    arena_free(a);
}

/* The version of text (which must parse), copied out of the arena. */
static void version_of(const char *text, char out[ML_MODEL_VERSION_LEN + 1])
{
    struct arena *a = arena_new();
    struct ml_model m;
    struct err e;

    if (parse_via_file(a, text, &m, &e) != 0)
        fail_msg("variant does not parse: %s", e.msg);
    memcpy(out, m.version, ML_MODEL_VERSION_LEN + 1);
    arena_free(a);
}

static void test_version_ignores_formatting_comments_and_order(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    char ref[ML_MODEL_VERSION_LEN + 1], other[ML_MODEL_VERSION_LEN + 1];
    /* the same model written differently: each must give the reference's version */
    const char *same[][2] = {
        {"# lineaged addition: OpenMetadata service name -> OpenLineage namespace of its datasets\n", ""},
        {"algorithm: XGBoost\n", "algorithm: XGBoost   # the booster\n"},
        {"    value: 0.5\n", "    value: \"0.5\"\n"},
        {"    value: 0.5\n", "    value: '0.5'\n"},
        {"mlStore:\n  storage: s3://path-to-pickle\n  imageRepository: https://docker.hub.com/image\n",
         "mlStore: {imageRepository: \"https://docker.hub.com/image\", storage: s3://path-to-pickle}\n"},
        {"serviceName: CustomMLService\n",
         "services:\n    demo_pg: postgres://postgresql:5432\nserviceName: CustomMLService\n"
         "mlStore:\n    storage: s3://path-to-pickle\n    imageRepository: https://docker.hub.com/image\n"},
        {"target: expected_time\n", "target: expected_time\ndashboard: ~\nserver:\n"},
        {"  - name: regularisation\n    value: 0.5\n    description: Adding some room for error\n",
         "  - description: Adding some room for error\n    name: regularisation\n    value: 0.5\n"},
    };

    version_of(variant(a, "", ""), ref);
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char *text = variant(a, same[i][0], same[i][1]);
        if (i == 5) { /* moved to the top: drop the originals at the bottom */
            text = arena_strndup(a, text, (size_t)(strstr(text, "\nmlStore:\n  storage") - text) + 1);
        }
        version_of(text, other);
        if (strcmp(ref, other) != 0)
            fail_msg("variant %zu changed the version", i);
    }
    arena_free(a);
}

static void test_version_changes_with_content(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    char ref[ML_MODEL_VERSION_LEN + 1], other[ML_MODEL_VERSION_LEN + 1];
    const char *changed[][2] = {
        {"    value: 0.5\n", "    value: 0.6\n"},
        {"    value: 0.5\n", "    value: 0.50\n"},
        {"featureAlgorithm: PCA", "featureAlgorithm: ICA"},
        {"postgres://postgresql:5432", "postgres://db:5432"},
        {"  when a user", "  when the user"},
    };

    version_of(variant(a, "", ""), ref);
    for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) {
        version_of(variant(a, changed[i][0], changed[i][1]), other);
        if (strcmp(ref, other) == 0)
            fail_msg("variant %zu kept the version", i);
    }
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_file_parses),
        cmocka_unit_test(test_missing_required_fields),
        cmocka_unit_test(test_unknown_data_types),
        cmocka_unit_test(test_malformed_fqn_and_unknown_service),
        cmocka_unit_test(test_quoted_fqn_parts_may_hold_dots),
        cmocka_unit_test(test_cross_feature_checks),
        cmocka_unit_test(test_unknown_keys_and_wrong_shapes),
        cmocka_unit_test(test_services_map_values),
        cmocka_unit_test(test_many_services_are_looked_up),
        cmocka_unit_test(test_yaml_level_problems),
        cmocka_unit_test(test_aliases_are_refused_not_expanded),
        cmocka_unit_test(test_deep_nesting_is_refused),
        cmocka_unit_test(test_version_ignores_formatting_comments_and_order),
        cmocka_unit_test(test_version_changes_with_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
