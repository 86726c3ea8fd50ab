/* tests/unit/graph/test_bulk.c - what loads use (graph/bulk.c, and graph_add_new_edge, graph_presize,
 * graph_trim and the recent-fields cache of graph/graph.c and graph/edges.c): each must give the
 * graph that the one-row-at-a-time calls give.
 *
 * Invariants:
 *  1. graph_check() runs after every step, so a broken invariant (a duplicate edge, a stale cache
 *     entry) fails the test that broke it.
 *  2. Graphs are compared by names and edges (dump), never by node ids, which depend on the order
 *     nodes were made in.
 *  3. Tests use only the public header.
 * Ownership: each test owns its graphs. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

enum { N_DATASETS = 40, N_FIELDS = 7, N_ROWS = 700, DUMP_MAX = 1 << 17 };

static void check_ok(const struct graph *g)
{
    struct err e;

    err_clear(&e);
    if (graph_check(g, &e) != 0)
        fail_msg("graph_check: %s", e.msg);
}

static uint32_t ds(struct graph *g, int i)
{
    char name[32];
    struct err e;

    snprintf(name, sizeof name, "t%d", i);
    uint32_t id = graph_intern(g, GRAPH_DATASET, "db", name, &e);
    assert_int_not_equal(id, GRAPH_NO_NODE);
    return id;
}

static const char *const FIELDS[N_FIELDS] = {"id", "a", "b", "c", "d", "e", "f"};

/* Row k of a deterministic set: every input field feeds several outputs, some rows feed a whole
 * dataset (no output field), fields repeat often (the recent-fields cache) and rarely (the table). */
static struct graph_column_row row(struct graph *g, unsigned k)
{
    unsigned in = (k * 7) % N_DATASETS, out = (k * 13 + 5) % N_DATASETS;
    return (struct graph_column_row){ds(g, (int)in), ds(g, (int)out), FIELDS[(k / 3) % N_FIELDS],
                                     k % 11 == 0 ? NULL : FIELDS[k % N_FIELDS], 100 + k, 200 + k, GRAPH_NO_NODE};
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per node (type, names) and per out-edge (names of both ends, kind, times), sorted. */
static char *dump(const struct graph *g)
{
    size_t cap = DUMP_MAX, len = 0, lines = 0;
    char *text = calloc(1, cap), **starts = calloc(DUMP_MAX / 8, sizeof *starts), *out = calloc(1, cap);

    for (uint32_t id = 0; id < graph_node_count(g); id++) {
        if (graph_resolve(g, id) != id)
            continue;
        size_t n;
        const struct graph_edge *l = graph_out_edges(g, id, &n);
        starts[lines++] = text + len;
        len += (size_t)snprintf(text + len, cap - len, "N %d %s %s %s", (int)graph_type(g, id),
                                graph_node_namespace(g, id), graph_node_name(g, id), graph_node_field(g, id)) + 1;
        for (size_t k = 0; k < n; k++) {
            starts[lines++] = text + len;
            len += (size_t)snprintf(text + len, cap - len, "E %s.%s -> %s.%s %u %u %u", graph_node_name(g, id),
                                    graph_node_field(g, id), graph_node_name(g, l[k].other),
                                    graph_node_field(g, l[k].other), l[k].kind, l[k].first_seen,
                                    l[k].last_seen) + 1;
        }
        assert_true(len < cap - 256 && lines < DUMP_MAX / 8);
    }
    qsort(starts, lines, sizeof *starts, cmp_line);
    for (size_t i = 0, at = 0; i < lines; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s\n", starts[i]);
    free(starts);
    free(text);
    return out;
}

/* The rows one at a time, as loads did before bulk.c. */
static void add_rows_one_by_one(struct graph *g, const struct graph_column_row *rows, size_t n)
{
    struct err e;

    for (size_t k = 0; k < n; k++) {
        uint32_t from = graph_field(g, rows[k].in_dataset, rows[k].in_field, &e);
        uint32_t to = rows[k].out_field ? graph_field(g, rows[k].out_dataset, rows[k].out_field, &e)
                                        : rows[k].out_dataset;
        assert_int_not_equal(from, GRAPH_NO_NODE);
        assert_int_not_equal(to, GRAPH_NO_NODE);
        if (graph_add_edge(g, from, to, GRAPH_EDGE_COLUMN, rows[k].first_seen, rows[k].last_seen, rows[k].run,
                           &e) != 0)
            fail_msg("graph_add_edge: %s", e.msg);
    }
}

static void test_column_rows_give_the_graph_single_rows_give(void **state)
{
    struct graph *bulk = graph_new(), *single = graph_new();
    struct graph_column_row rows[N_ROWS];
    struct err e;

    (void)state;
    for (int i = 0; i < N_DATASETS; i++) { /* the same ids in both graphs, so the same rows apply */
        ds(bulk, i);
        ds(single, i);
    }
    for (unsigned k = 0; k < N_ROWS; k++)
        rows[k] = row(bulk, k);
    /* unique (input field, output) pairs only: the promise graph_add_new_edge relies on */
    size_t n = 0;
    for (unsigned k = 0; k < N_ROWS; k++) {
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = rows[j].in_dataset == rows[k].in_dataset && rows[j].out_dataset == rows[k].out_dataset &&
                   strcmp(rows[j].in_field, rows[k].in_field) == 0 &&
                   (rows[j].out_field == NULL) == (rows[k].out_field == NULL) &&
                   (rows[k].out_field == NULL || strcmp(rows[j].out_field, rows[k].out_field) == 0);
        if (!seen)
            rows[n++] = rows[k];
    }
    assert_true(n > 200); /* several batches of 32 */
    assert_int_equal(graph_add_column_rows(bulk, rows, n, &e), 0);
    check_ok(bulk);
    add_rows_one_by_one(single, rows, n);
    check_ok(single);
    assert_int_equal(graph_edge_count(bulk), graph_edge_count(single));
    char *a = dump(bulk), *b = dump(single);
    assert_string_equal(a, b);
    free(a);
    free(b);
    graph_free(bulk);
    graph_free(single);
}

static void test_rows_of_merged_names_make_one_edge(void **state)
{
    struct graph *g = graph_new();
    struct err e;

    (void)state;
    uint32_t a = ds(g, 1), b = ds(g, 2), src = ds(g, 3);
    uint32_t j = graph_intern(g, GRAPH_JOB, "jobs", "j", &e);
    /* t2 declares itself another name of t1: two rows (t1 and t2) now name one node */
    assert_true(graph_alias(g, "db", "t2", "db", "t1", NULL, &e) > 0);
    check_ok(g);
    assert_int_equal(graph_add_new_edge(g, a, j, GRAPH_EDGE_IO, 10, 20, GRAPH_NO_NODE, &e), 0);
    assert_int_equal(graph_add_new_edge(g, b, j, GRAPH_EDGE_IO, 5, 30, GRAPH_NO_NODE, &e), 0);
    check_ok(g);
    assert_int_equal(graph_edge_count(g), 1);
    const struct graph_edge *x = graph_find_edge(g, a, j, GRAPH_EDGE_IO);
    assert_non_null(x);
    assert_int_equal(x->first_seen, 5);
    assert_int_equal(x->last_seen, 30);
    /* the fields of both names are one field too */
    struct graph_column_row rows[2] = {{src, a, "x", "y", 1, 1, GRAPH_NO_NODE}, {src, b, "x", "y", 2, 2, GRAPH_NO_NODE}};
    assert_int_equal(graph_add_column_rows(g, rows, 2, &e), 0);
    check_ok(g);
    assert_int_equal(graph_edge_count(g), 1 + 2 + 1); /* IO, two FIELD_OF, one COLUMN */
    graph_free(g);
}

static void test_bad_rows_are_refused(void **state)
{
    struct graph *g = graph_new();
    struct err e;

    (void)state;
    uint32_t a = ds(g, 1), j = graph_intern(g, GRAPH_JOB, "jobs", "j", &e);
    struct graph_column_row not_dataset = {j, a, "x", "y", 1, 1, GRAPH_NO_NODE};
    struct graph_column_row no_field = {a, a, NULL, "y", 1, 1, GRAPH_NO_NODE};
    struct graph_column_row backwards = {a, a, "x", "y", 5, 1, GRAPH_NO_NODE};

    assert_int_equal(graph_add_column_rows(g, &not_dataset, 1, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_int_equal(graph_add_column_rows(g, &no_field, 1, &e), -1);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_int_equal(graph_add_column_rows(g, &backwards, 1, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_int_equal(graph_add_new_edge(g, a, 999, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    check_ok(g);
    assert_int_equal(graph_edge_count(g), 2); /* the FIELD_OF edges of x and y */
    graph_free(g);
}

static void test_presize_and_trim_keep_the_graph_and_give_memory_back(void **state)
{
    struct graph *g = graph_new(), *plain = graph_new();
    struct graph_column_row rows[64];
    struct err e;

    (void)state;
    graph_presize(g, 100000, 300000, 1 << 20);
    size_t big = graph_memory_bytes(g);
    for (unsigned k = 0; k < 64; k++)
        rows[k] = (struct graph_column_row){ds(g, (int)k), ds(g, (int)(k + 1)), "in", "out", k, k, GRAPH_NO_NODE};
    assert_int_equal(graph_add_column_rows(g, rows, 64, &e), 0);
    check_ok(g);
    graph_trim(g);
    check_ok(g);
    assert_true(graph_memory_bytes(g) < big);
    for (unsigned k = 0; k < 64; k++)
        rows[k] = (struct graph_column_row){ds(plain, (int)k), ds(plain, (int)(k + 1)), "in", "out", k, k,
                                            GRAPH_NO_NODE};
    add_rows_one_by_one(plain, rows, 64);
    char *a = dump(g), *b = dump(plain);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* and it keeps growing past what was trimmed */
    assert_int_not_equal(graph_field(g, ds(g, 100), "late", &e), GRAPH_NO_NODE);
    check_ok(g);
    graph_free(g);
    graph_free(plain);
}

static void test_field_cache_never_answers_a_merged_field(void **state)
{
    struct graph *g = graph_new();
    struct err e;

    (void)state;
    uint32_t loser = ds(g, 1), survivor = ds(g, 2), j = graph_intern(g, GRAPH_JOB, "jobs", "j", &e);
    uint32_t j2 = graph_intern(g, GRAPH_JOB, "jobs", "j2", &e);
    assert_int_equal(graph_add_edge(g, survivor, j, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE, &e), 0);
    assert_int_equal(graph_add_edge(g, survivor, j2, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE, &e), 0);
    uint32_t f = graph_field(g, loser, "x", &e); /* now in the cache under the loser */
    assert_int_equal(graph_field(g, loser, "x", &e), f);
    assert_true(graph_alias(g, "db", "t1", "db", "t2", NULL, &e) > 0); /* survivor has more edges */
    check_ok(g);
    assert_int_not_equal(graph_resolve(g, loser), loser);
    uint32_t now = graph_field(g, loser, "x", &e);
    assert_int_not_equal(now, f); /* f was merged into the survivor's x */
    assert_int_equal(graph_resolve(g, f), now);
    assert_int_equal(graph_node_dataset(g, now), graph_resolve(g, survivor));
    check_ok(g);
    graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_column_rows_give_the_graph_single_rows_give),
        cmocka_unit_test(test_rows_of_merged_names_make_one_edge),
        cmocka_unit_test(test_bad_rows_are_refused),
        cmocka_unit_test(test_presize_and_trim_keep_the_graph_and_give_memory_back),
        cmocka_unit_test(test_field_cache_never_answers_a_merged_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
