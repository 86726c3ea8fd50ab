/* tests/unit/api/test_nodeid.c - node ids (api/nodeid.c): Marquez's split for the shapes its NodeIdTest
 * lists (URI namespaces with ports, names with colons and slashes, #version), the split when Marquez
 * has none, and the list of every other split that lineage_find_node tries against the graph; a
 * refusal quotes the id without cutting a character (found by fuzz_nodeid, kept in
 * tests/fuzz/regressions/fuzz_nodeid/).
 * Invariants: tests use only the public header; each test has its own arena. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "nodeid.h"
#include "utf8.h"

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

static struct node_id parse_ok(struct arena *a, const char *s)
{
    struct node_id id;
    struct err e;

    err_clear(&e);
    if (nodeid_parse(a, s, &id, &e) != 0)
        fail_msg("nodeid_parse(%s): %s", s, e.msg);
    return id;
}

static void expect(struct arena *a, const char *s, enum node_kind kind, const char *ns, const char *name,
                   const char *field, const char *version)
{
    struct node_id id = parse_ok(a, s);

    assert_int_equal(id.kind, kind);
    assert_string_equal(id.namespace, ns);
    assert_string_equal(id.name, name);
    if (field != NULL)
        assert_string_equal(id.field, field);
    else
        assert_null(id.field);
    if (version != NULL)
        assert_string_equal(id.version, version);
    else
        assert_null(id.version);
    if (version == NULL) /* printing gives the id back */
        assert_string_equal(nodeid_format(a, kind, ns, name, field), s);
}

static void test_marquez_dataset_and_job_shapes(void **state)
{
    struct arena *a = *state;
    static const char *const V = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    expect(a, "dataset:my-namespace:my-dataset", NODE_DATASET, "my-namespace", "my-dataset", NULL, NULL);
    expect(a, "dataset:gs://bucket:/path/to/data", NODE_DATASET, "gs://bucket", "/path/to/data", NULL, NULL);
    expect(a, "dataset:postgresql://hostname:5432/database:my_table", NODE_DATASET,
           "postgresql://hostname:5432/database", "my_table", NULL, NULL);
    expect(a, "dataset:my-namespace:my_struct<a:bigint,b:bigint,c:string>", NODE_DATASET, "my-namespace",
           "my_struct<a:bigint,b:bigint,c:string>", NULL, NULL);
    expect(a, "dataset:postgresql://hostname:5432/database:my_table#aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
           NODE_DATASET, "postgresql://hostname:5432/database", "my_table", NULL, V);
    expect(a, "dataset:gs://bucket:/path/to/data#aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", NODE_DATASET,
           "gs://bucket", "/path/to/data", NULL, V);
    expect(a, "job:my-namespace:my-job", NODE_JOB, "my-namespace", "my-job", NULL, NULL);
    expect(a, "job:org://team:my-job", NODE_JOB, "org://team", "my-job", NULL, NULL);
    expect(a, "job:org://team:my-job#aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", NODE_JOB, "org://team", "my-job",
           NULL, V);
    struct node_id run = parse_ok(a, "run:0190a1c4-0000-7000-8000-000000000001");
    assert_int_equal(run.kind, NODE_RUN);
    assert_null(run.namespace);
    assert_string_equal(run.name, "0190a1c4-0000-7000-8000-000000000001");
}

static void test_marquez_field_shapes(void **state)
{
    struct arena *a = *state;

    expect(a, "datasetField:my-namespace:my-dataset:colA", NODE_FIELD, "my-namespace", "my-dataset", "colA",
           NULL);
    expect(a, "datasetField:gs://bucket:/path/to/data:colA", NODE_FIELD, "gs://bucket", "/path/to/data",
           "colA", NULL);
    expect(a, "datasetField:gs://bucket:/path/to/data:col_A#aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", NODE_FIELD,
           "gs://bucket", "/path/to/data", "col_A", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
    expect(a, "datasetField:hive://h:9083:db.t:c", NODE_FIELD, "hive://h:9083", "db.t", "c", NULL);
}

static void test_names_starting_with_a_digit(void **state)
{
    struct arena *a = *state;

    /* one ':' for one separator: Marquez splits there, digit or not */
    expect(a, "dataset:warehouse:7day_orders", NODE_DATASET, "warehouse", "7day_orders", NULL, NULL);
    expect(a, "datasetField:warehouse:7day_orders:2nd_col", NODE_FIELD, "warehouse", "7day_orders", "2nd_col",
           NULL);
    expect(a, "dataset:warehouse:7day_orders#v1", NODE_DATASET, "warehouse", "7day_orders", NULL, "v1");
    /* too many ':' and none Marquez would split at: the first, and the other splits are listed */
    struct node_id id = parse_ok(a, "dataset:postgres://h:5432/db:7day_orders"), s[NODEID_MAX_SPLITS];
    assert_string_equal(id.namespace, "postgres");
    size_t n = nodeid_splits(a, &id, s, NODEID_MAX_SPLITS);
    assert_int_equal(n, 3);
    assert_string_equal(s[1].namespace, "postgres://h");
    assert_string_equal(s[1].name, "5432/db:7day_orders");
    assert_string_equal(s[2].namespace, "postgres://h:5432/db");
    assert_string_equal(s[2].name, "7day_orders");
}

static void test_splits_list_each_split_once_parsed_first(void **state)
{
    struct arena *a = *state;
    struct node_id s[NODEID_MAX_SPLITS];
    struct node_id id = parse_ok(a, "datasetField:a:b:c:d");
    size_t n = nodeid_splits(a, &id, s, NODEID_MAX_SPLITS);

    /* Marquez: a | b | c:d; then (a, b:c, d), (a:b, c, d) */
    assert_int_equal(n, 3);
    assert_string_equal(s[0].namespace, "a");
    assert_string_equal(s[0].name, "b");
    assert_string_equal(s[0].field, "c:d");
    assert_string_equal(s[1].name, "b:c");
    assert_string_equal(s[1].field, "d");
    assert_string_equal(s[2].namespace, "a:b");
    assert_string_equal(s[2].field, "d");
    assert_int_equal(nodeid_splits(a, &id, s, 2), 2);
    id = parse_ok(a, "dataset:ns:name");
    assert_int_equal(nodeid_splits(a, &id, s, NODEID_MAX_SPLITS), 1);
    id = parse_ok(a, "run:anything:at:all");
    assert_int_equal(nodeid_splits(a, &id, s, NODEID_MAX_SPLITS), 1);
    assert_string_equal(s[0].name, "anything:at:all");
}

static void test_bad_ids(void **state)
{
    struct arena *a = *state;
    static const char *const bad[] = {
        "table:x:y",          "dataset:x", "dataset::x", "dataset:x:", "job:", "run:", "datasetField:ns:x",
        "datasetField:ns::f", ""};
    struct node_id id;
    struct err e;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&e);
        assert_int_equal(nodeid_parse(a, bad[i], &id, &e), -1);
        assert_int_equal(e.kind, ERR_BAD_INPUT);
        assert_string_equal(e.where, "nodeId");
    }
}

/* fuzz_nodeid found this: the 128-byte quote ended inside a three-byte character. */
static void test_long_refused_id_is_quoted_without_cutting_a_character(void **state)
{
    struct arena *a = *state;
    struct node_id id;
    struct err e;
    char *s = arena_alloc(a, 300);

    memset(s, 'x', 126);
    strcpy(s + 126, "\xe2\x82\xac and more after the cut");
    assert_int_equal(nodeid_parse(a, s, &id, &e), -1);
    assert_true(utf8_valid(e.msg, strlen(e.msg)));
    assert_non_null(strstr(e.msg, "xx\" must start with"));
    /* Run ids and field ids take the other branches. */
    memcpy(s, "datasetField:", 13);
    assert_int_equal(nodeid_parse(a, s, &id, &e), -1);
    assert_true(utf8_valid(e.msg, strlen(e.msg)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_marquez_dataset_and_job_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marquez_field_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_starting_with_a_digit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_splits_list_each_split_once_parsed_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_refused_id_is_quoted_without_cutting_a_character, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
