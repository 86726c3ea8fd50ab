/* tests/unit/api/test_node_table.c - the node table (api/node_table.c): rows in, Marquez's node data
 * out, whatever order the rows come in.
 *
 * Invariants:
 *  1. Expected texts are written out in full, in the member order and formats of store/store_nodes.c's
 *     statements after json_minify (tests/integration/test_node_table.py compares with Postgres itself).
 *  2. Tests use only public headers; no database is needed.
 * Ownership: each test owns its graph, table and arena. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "node_table.h"

enum { T1 = 1714564800, T2 = 1714568400 }; /* 2024-05-01T12:00:00Z and 13:00:00Z, in seconds */

static const int64_t USEC = 1000000;

struct fixture {
    struct graph *g;
    struct node_table *t;
    struct arena *a;
};

static int setup(void **state)
{
    static struct fixture f;

    f = (struct fixture){graph_new(), node_table_new(), arena_new()};
    *state = &f;
    return f.g && f.t && f.a ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    node_table_free(f->t);
    graph_free(f->g);
    arena_free(f->a);
    return 0;
}

/* A dataset whose kind, when description is set, is MODEL / REGISTERED (datasetType, subType). */
static uint32_t add_dataset(struct fixture *f, const char *name, const char *physical, const char *description)
{
    struct err e;
    uint32_t n = graph_intern(f->g, GRAPH_DATASET, "db", name, &e);
    struct store_graph_dataset d = {.id = n + 1, .ns = "db", .name = name, .type = "DB_TABLE",
                                    .physical_name = physical, .source_name = "default",
                                    .description = description, .created_usec = T1 * USEC,
                                    .dataset_type = description ? "MODEL" : NULL,
                                    .sub_type = description ? "REGISTERED" : NULL,
                                    .updated_usec = T2 * USEC + 5};

    assert_int_not_equal(n, GRAPH_NO_NODE);
    assert_int_equal(node_table_add_dataset(f->t, n, &d, &e), 0);
    return n;
}

static void add_field(struct fixture *f, uint32_t ds, const char *name, const char *type, int32_t ordinal)
{
    struct err e;
    struct store_graph_field fd = {.dataset_id = ds + 1, .name = name, .type = type, .ordinal = ordinal};

    assert_int_equal(node_table_add_field(f->t, ds, &fd, &e), 0);
}

/* The dataset's text, copied into the arena (a copy, so -O3's dangling-pointer analysis does not
 * take the result for the address of a local). */
static const char *dataset_text(struct fixture *f, uint32_t ds)
{
    const char *head = NULL, *tail = NULL;
    bool found = node_table_data(f->t, f->g, f->a, ds, &head, &tail);

    assert_true(found);
    assert_null(tail);
    return arena_strdup(f->a, head);
}

static void test_dataset_data_in_statement_order_with_fields_sorted(void **state)
{
    struct fixture *f = *state;
    uint32_t a = add_dataset(f, "a\t\"x\"", "a\t\"x\"", NULL), b = add_dataset(f, "b", "s3://bucket/b", "d\n");

    /* fields of a and b interleaved, out of order, and tied ordinals (then byte order of the name) */
    add_field(f, a, "zeta", "INT", 2);
    add_field(f, b, "only", NULL, 0);
    add_field(f, a, "beta", "TEXT", 1);
    add_field(f, a, "alpha", "TEXT", 1);
    add_field(f, a, "Alpha", NULL, 1);
    node_table_finish(f->t);
    assert_int_equal(node_table_count(f->t), 2);
    assert_string_equal(
        dataset_text(f, a),
        "{\"id\":{\"namespace\":\"db\",\"name\":\"a\\t\\\"x\\\"\"},\"type\":\"DB_TABLE\",\"name\":\"a\\t\\\"x\\\"\","
        "\"physicalName\":\"a\\t\\\"x\\\"\",\"createdAt\":\"2024-05-01T12:00:00.000000Z\","
        "\"updatedAt\":\"2024-05-01T13:00:00.000005Z\",\"namespace\":\"db\",\"sourceName\":\"default\",\"fields\":["
        "{\"name\":\"Alpha\",\"type\":null,\"tags\":[],\"description\":null},"
        "{\"name\":\"alpha\",\"type\":\"TEXT\",\"tags\":[],\"description\":null},"
        "{\"name\":\"beta\",\"type\":\"TEXT\",\"tags\":[],\"description\":null},"
        "{\"name\":\"zeta\",\"type\":\"INT\",\"tags\":[],\"description\":null}],"
        "\"tags\":[],\"lastModifiedAt\":null,\"description\":null,\"lastLifecycleState\":null,"
        "\"datasetType\":null,\"subType\":null}");
    assert_string_equal(
        dataset_text(f, b),
        "{\"id\":{\"namespace\":\"db\",\"name\":\"b\"},\"type\":\"DB_TABLE\",\"name\":\"b\","
        "\"physicalName\":\"s3://bucket/b\",\"createdAt\":\"2024-05-01T12:00:00.000000Z\","
        "\"updatedAt\":\"2024-05-01T13:00:00.000005Z\",\"namespace\":\"db\",\"sourceName\":\"default\",\"fields\":["
        "{\"name\":\"only\",\"type\":null,\"tags\":[],\"description\":null}],"
        "\"tags\":[],\"lastModifiedAt\":null,\"description\":\"d\\n\",\"lastLifecycleState\":null,"
        "\"datasetType\":\"MODEL\",\"subType\":\"REGISTERED\"}");
}

static void test_fields_arriving_in_many_runs_stay_with_their_dataset(void **state)
{
    struct fixture *f = *state;
    enum { N = 40, PER = 6 };
    uint32_t ds[N];
    char names[N][16];

    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        ds[i] = add_dataset(f, names[i], names[i], NULL);
    }
    static const char *const FIELD[PER] = {"f0", "f1", "f2", "f3", "f4", "f5"};

    /* round robin, last ordinal first: every dataset's fields come in PER runs, so each run moves the
     * earlier ones to the end of the array and node_table_finish must compact and sort */
    for (int k = PER - 1; k >= 0; k--)
        for (int i = 0; i < N; i++)
            add_field(f, ds[i], FIELD[k], NULL, k);
    node_table_finish(f->t);
    for (int i = 0; i < N; i++) {
        const char *p = strstr(dataset_text(f, ds[i]), "\"fields\":[");
        char want[32];
        assert_non_null(p);
        for (int k = 0; k < PER; k++) {
            snprintf(want, sizeof want, "{\"name\":\"%s\"", FIELD[k]);
            p = strstr(p, want);
            assert_non_null(p);
            p++;
        }
        assert_null(strstr(p, "{\"name\":"));
    }
}

static void test_job_without_run_or_parent_only(void **state)
{
    struct fixture *f = *state;
    struct err e;
    const char *head, *tail;
    uint32_t j = graph_intern(f->g, GRAPH_JOB, "ns", "etl", &e), run = graph_intern(f->g, GRAPH_JOB, "ns", "r", &e);
    uint32_t child = graph_intern(f->g, GRAPH_JOB, "ns", "etl.child", &e);
    struct store_graph_job row = {.id = 1, .ns = "ns", .name = "etl", .simple_name = "etl", .type = "BATCH",
                                  .location = "https://x/y", .created_usec = T1 * USEC, .updated_usec = T1 * USEC};
    struct store_graph_job with_run = row, with_parent = row;

    with_run.name = with_run.simple_name = "r";
    with_run.latest_run = "3f5e83fa-3480-44ff-99c5-ff943904e5e8";
    with_parent.name = "etl.child";
    with_parent.simple_name = "child";
    with_parent.parent_id = 1;
    assert_int_equal(node_table_add_job(f->t, j, &row, &e), 0);
    assert_int_equal(node_table_add_job(f->t, run, &with_run, &e), 0);
    assert_int_equal(node_table_add_job(f->t, child, &with_parent, &e), 0);
    node_table_finish(f->t);
    assert_int_equal(node_table_count(f->t), 1);
    assert_false(node_table_data(f->t, f->g, f->a, run, &head, &tail));
    assert_false(node_table_data(f->t, f->g, f->a, child, &head, &tail));
    assert_false(node_table_data(f->t, f->g, f->a, 12345, &head, &tail));
    assert_true(node_table_data(f->t, f->g, f->a, j, &head, &tail));
    assert_string_equal(head, "{\"id\":{\"namespace\":\"ns\",\"name\":\"etl\"},\"type\":\"BATCH\",\"name\":\"etl\","
                              "\"simpleName\":\"etl\",\"parentJobName\":null,\"parentJobUuid\":null,"
                              "\"currentRunUuid\":null,\"createdAt\":\"2024-05-01T12:00:00.000000Z\","
                              "\"updatedAt\":\"2024-05-01T12:00:00.000000Z\",\"namespace\":\"ns\"}");
    assert_string_equal(tail, "{\"location\":\"https://x/y\",\"description\":null,\"latestRun\":null}");
    assert_false(node_table_data(NULL, f->g, f->a, j, &head, &tail));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dataset_data_in_statement_order_with_fields_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_arriving_in_many_runs_stay_with_their_dataset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_without_run_or_parent_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
