/* tests/unit/api/test_nodeid.c - Marquez node ids: parsing, printing, and the errors a client reads
 * (api/nodeid.c).
 *
 * Invariants:
 *  1. Expected parts and messages are written out by hand.
 *  2. The regression rows come from fuzz_nodeid (tests/fuzz/regressions/fuzz_nodeid/): a refusal
 *     quoted the first 128 bytes of the id and could cut a character in two.
 * Ownership: each test owns one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "err.h"
#include "nodeid.h"
#include "utf8.h"

static int setup(void **state)
{
    *state = arena_new();
    return 0;
}

static int teardown(void **state)
{
    arena_free(*state);
    return 0;
}

static void test_parses_each_kind_and_prints_it_back(void **state)
{
    static const struct {
        const char *id;
        enum node_kind kind;
        const char *ns, *name, *field, *version;
    } rows[] = {
        {"dataset:postgres://db:5432:public.t", NODE_DATASET, "postgres://db:5432", "public.t", NULL, NULL},
        {"job:ns:dag.task#v1", NODE_JOB, "ns", "dag.task", NULL, "v1"},
        {"datasetField:s3://b:path/x:col", NODE_FIELD, "s3://b", "path/x", "col", NULL},
        {"run:ea6a2e1f-0000-4000-8000-000000000000", NODE_RUN, NULL, "ea6a2e1f-0000-4000-8000-000000000000",
         NULL, NULL},
        {"dataset:caf\xc3\xa9:\xe2\x82\xac", NODE_DATASET, "caf\xc3\xa9", "\xe2\x82\xac", NULL, NULL},
    };
    struct arena *a = *state;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct node_id id;
        struct err e;
        if (nodeid_parse(a, rows[i].id, &id, &e) != 0)
            fail_msg("%s rejected: %s", rows[i].id, e.msg);
        assert_int_equal(id.kind, rows[i].kind);
        if (rows[i].ns != NULL)
            assert_string_equal(id.namespace, rows[i].ns);
        assert_string_equal(id.name, rows[i].name);
        if (rows[i].field != NULL)
            assert_string_equal(id.field, rows[i].field);
        if (rows[i].version != NULL)
            assert_string_equal(id.version, rows[i].version);
        if (rows[i].version == NULL && rows[i].kind != NODE_RUN)
            assert_string_equal(nodeid_format(a, id.kind, id.namespace, id.name, id.field), rows[i].id);
    }
}

static void test_refusals_name_node_id_and_say_why(void **state)
{
    static const char *const rows[][2] = {
        {"table:x:y", "nodeId \"table:x:y\" must start with dataset:, job:, datasetField: or run:"},
        {"run:", "nodeId \"run:\" has no run id"},
        {"datasetField:ns:t", "nodeId \"datasetField:ns:t\" must be <type>:<namespace>:<name>"},
        {"datasetField:ns:t:", "nodeId \"datasetField:ns:t:\" has no field name"},
        {"dataset:ns", "nodeId \"dataset:ns\" must be <type>:<namespace>:<name>"},
        {"job::x", "nodeId \"job::x\" must be <type>:<namespace>:<name>"},
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct node_id id;
        struct err e;
        assert_int_equal(nodeid_parse(*state, rows[i][0], &id, &e), -1);
        assert_int_equal(e.kind, ERR_BAD_INPUT);
        assert_string_equal(e.where, "nodeId");
        assert_string_equal(e.msg, rows[i][1]);
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
        cmocka_unit_test_setup_teardown(test_parses_each_kind_and_prints_it_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_name_node_id_and_say_why, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_refused_id_is_quoted_without_cutting_a_character, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
