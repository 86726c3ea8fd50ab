/* tests/unit/api/test_kinds.c - the types= parameter (api/kinds.c): TYPE and TYPE:SUBTYPE tokens, trimmed
 * and upper-cased, DATASET and JOB as node types on the lineage routes only, the refusals, and which
 * kinds pass (kind_wanted) and what SQL gets (kind_sql_params).
 * Invariants: tests use only the public header; each test has its own arena. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "kinds.h"

static int setup(void **state)
{
    *state = arena_new();
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    arena_free(*state);
    return 0;
}

static struct kind_filter parse_ok(struct arena *a, const char *v, bool node_types)
{
    struct kind_filter f;
    struct err e;

    err_clear(&e);
    if (kind_parse(a, "types", v, node_types, &f, &e) != 0)
        fail_msg("kind_parse(%s): %s", v ? v : "(null)", e.msg);
    return f;
}

static void test_tokens_are_trimmed_and_upper_cased(void **state)
{
    struct kind_filter f = parse_ok(*state, " model : registered ,feature_view,Best Validation:top 1", false);

    assert_int_equal(f.n, 3);
    assert_string_equal(f.type[0], "MODEL");
    assert_string_equal(f.sub[0], "REGISTERED");
    assert_string_equal(f.type[1], "FEATURE_VIEW");
    assert_null(f.sub[1]);
    assert_string_equal(f.type[2], "BEST VALIDATION");
    assert_string_equal(f.sub[2], "TOP 1");
    assert_int_equal(f.node_types, KIND_NODE_DATASET);
}

static void test_dataset_and_job_are_node_types_on_lineage_routes_only(void **state)
{
    struct kind_filter f = parse_ok(*state, "JOB,model", true);
    assert_int_equal(f.node_types, KIND_NODE_JOB | KIND_NODE_DATASET);
    assert_int_equal(f.n, 1);
    f = parse_ok(*state, "job", true);
    assert_int_equal(f.node_types, KIND_NODE_JOB);
    assert_int_equal(f.n, 0);
    f = parse_ok(*state, "DATASET", false); /* a datasetType like any other on /api/v1/datasets */
    assert_int_equal(f.n, 1);
    assert_string_equal(f.type[0], "DATASET");
    f = parse_ok(*state, "", true);
    assert_int_equal(f.node_types, KIND_NODE_DATASET | KIND_NODE_JOB);
    assert_int_equal(f.n, 0);
}

static void test_bad_lists_are_refused_naming_the_parameter(void **state)
{
    char many[512] = "";
    char long_token[KIND_MAX_BYTES + 8];
    static const char *const bad[] = {",", "MODEL,", "MODEL:", ":LOGGED", "MO\tDEL", "A,,B"};
    struct kind_filter f;
    struct err e;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(kind_parse(*state, "types", bad[i], false, &f, &e), -1);
        assert_int_equal(e.kind, ERR_BAD_PARAM);
        assert_string_equal(e.where, "types");
    }
    for (int i = 0; i <= KIND_MAX; i++)
        strcat(many, i ? ",T" : "T");
    assert_int_equal(kind_parse(*state, "types", many, false, &f, &e), -1);
    memset(long_token, 'X', sizeof long_token - 1);
    long_token[sizeof long_token - 1] = '\0';
    assert_int_equal(kind_parse(*state, "types", long_token, false, &f, &e), -1);
}

static void test_a_kind_passes_its_type_or_its_type_and_subtype(void **state)
{
    struct kind_filter f = parse_ok(*state, "MODEL:REGISTERED,FEATURE_VIEW", false);

    assert_true(kind_wanted(&f, "MODEL", "REGISTERED"));
    assert_true(kind_wanted(&f, "model", "registered"));
    assert_false(kind_wanted(&f, "MODEL", "LOGGED"));
    assert_false(kind_wanted(&f, "MODEL", NULL));
    assert_true(kind_wanted(&f, "FEATURE_VIEW", NULL));
    assert_true(kind_wanted(&f, "FEATURE_VIEW", "ANY"));
    assert_false(kind_wanted(&f, NULL, NULL));
    struct kind_filter none = parse_ok(*state, NULL, false);
    assert_true(kind_wanted(&none, NULL, NULL));
}

static void test_sql_gets_types_and_pairs(void **state)
{
    struct kind_filter f = parse_ok(*state, "MODEL:REGISTERED,FEATURE_VIEW", false);
    const char *types, *any, *pairs;

    kind_sql_params(*state, &f, &types, &any, &pairs);
    assert_string_equal(types, "[\"MODEL\",\"FEATURE_VIEW\"]");
    assert_string_equal(any, "[\"FEATURE_VIEW\"]");
    assert_string_equal(pairs, "[\"MODEL:REGISTERED\"]");
    struct kind_filter none = parse_ok(*state, "", false);
    kind_sql_params(*state, &none, &types, &any, &pairs);
    assert_null(types);
    assert_null(any);
    assert_null(pairs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tokens_are_trimmed_and_upper_cased, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_and_job_are_node_types_on_lineage_routes_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_lists_are_refused_naming_the_parameter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_kind_passes_its_type_or_its_type_and_subtype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_gets_types_and_pairs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
