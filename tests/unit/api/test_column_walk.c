/* tests/unit/api/test_column_walk.c - the column-lineage walk (api/column_walk.c) reaches, at each
 * depth, the fields Marquez's ColumnLineageDao.getLineage reaches.
 *
 * The graph (fields as dataset.field): a.a, a.b -> b.c -> c.d -> e.e, with x.x -> c.d (another input of
 * c.d), y.y -> x.x, and a dataset-level edge a.a -> dataset e. Marquez's rows from b.c: depth 0 the
 * edges into b.c; depth 1 b.c -> c.d (downstream); depth 2 c.d -> e.e; depth 3 x.x -> c.d (the other
 * input of c.d, as the row before c.d -> e.e); depth 4 y.y -> x.x. The expected sets below are those.
 * Invariants: tests use only the public headers; each test builds its own graph. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "column_walk.h"
#include "graph.h"

struct fixture {
    struct graph *g;
    struct arena *a;
};

static uint32_t fld(struct graph *g, const char *ds, const char *field)
{
    struct err e;
    uint32_t d = graph_intern(g, GRAPH_DATASET, "ns", ds, &e), f = graph_field(g, d, field, &e);

    assert_int_not_equal(f, GRAPH_NO_NODE);
    return f;
}

static void col(struct graph *g, const char *from, const char *to, uint32_t t)
{
    struct err e;
    char fd[8], ff[8], td[8], tf[8];

    assert_int_equal(sscanf(from, "%7[^.].%7s", fd, ff), 2);
    assert_int_equal(sscanf(to, "%7[^.].%7s", td, tf), 2);
    assert_int_equal(
        graph_add_edge(g, fld(g, fd, ff), fld(g, td, tf), GRAPH_EDGE_COLUMN, t, t, GRAPH_NO_NODE, &e), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e;

    f->g = graph_new();
    f->a = arena_new();
    col(f->g, "a.a", "b.c", 10);
    col(f->g, "a.b", "b.c", 10);
    col(f->g, "b.c", "c.d", 20);
    col(f->g, "x.x", "c.d", 20);
    col(f->g, "c.d", "e.e", 30);
    col(f->g, "y.y", "x.x", 5);
    assert_int_equal(graph_add_edge(f->g, fld(f->g, "a", "a"),
                                    graph_intern(f->g, GRAPH_DATASET, "ns", "e", &e), GRAPH_EDGE_COLUMN, 1, 1,
                                    GRAPH_NO_NODE, &e),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    graph_free(f->g);
    arena_free(f->a);
    free(f);
    return 0;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The reached fields as "ds.field" sorted and joined by ' ', and the edges in *edges_out. */
static const char *walk(struct fixture *f, const char *start, long depth, bool down, uint32_t as_of,
                        size_t max_nodes, const char **edges_out, bool *truncated)
{
    char sd[8], sf[8];
    struct column_walk_result r;
    struct column_walk_opts o = {.depth = depth, .downstream = down, .as_of = as_of, .max_nodes = max_nodes};

    assert_int_equal(sscanf(start, "%7[^.].%7s", sd, sf), 2);
    uint32_t s = fld(f->g, sd, sf);
    column_walk(f->g, f->a, &s, 1, &o, &r);
    char **names = arena_zalloc(f->a, (2 * r.n + 1) * sizeof *names);
    size_t n = 0;
    char *edges = arena_strdup(f->a, "");
    for (size_t i = 0; i < r.n; i++) {
        uint32_t ends[2] = {r.edges[i].from, r.edges[i].to};
        for (int k = 0; k < 2; k++) {
            char *nm =
                arena_printf(f->a, "%s.%s", graph_node_name(f->g, ends[k]), graph_node_field(f->g, ends[k]));
            bool seen = false;
            for (size_t j = 0; j < n; j++)
                seen |= strcmp(names[j], nm) == 0;
            if (!seen)
                names[n++] = nm;
        }
        edges = arena_printf(f->a, "%s%s%s.%s>%s.%s", edges, i ? " " : "", graph_node_name(f->g, ends[0]),
                             graph_node_field(f->g, ends[0]), graph_node_name(f->g, ends[1]),
                             graph_node_field(f->g, ends[1]));
    }
    qsort(names, n, sizeof *names, cmp_str);
    char *out = arena_strdup(f->a, "");
    for (size_t j = 0; j < n; j++)
        out = arena_printf(f->a, "%s%s%s", out, j ? " " : "", names[j]);
    if (edges_out)
        *edges_out = edges;
    if (truncated)
        *truncated = r.truncated;
    return out;
}

static void test_upstream_reaches_depth_edges(void **state)
{
    struct fixture *f = *state;
    const char *edges;

    assert_string_equal(walk(f, "c.d", 1, false, 0, 0, &edges, NULL), "b.c c.d x.x");
    assert_string_equal(edges, "b.c>c.d x.x>c.d");
    assert_string_equal(walk(f, "c.d", 0, false, 0, 0, NULL, NULL), "b.c c.d x.x"); /* 0 acts as 1 */
    assert_string_equal(walk(f, "c.d", 2, false, 0, 0, NULL, NULL), "a.a a.b b.c c.d x.x y.y");
    assert_string_equal(walk(f, "e.e", 2, false, 0, 0, NULL, NULL), "b.c c.d e.e x.x");
}

static void test_a_field_without_inputs_has_no_upstream(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(walk(f, "a.a", 20, false, 0, 0, NULL, NULL), "");
}

static void test_downstream_depth_by_depth_as_marquez(void **state)
{
    struct fixture *f = *state;
    static const char *const want[] = {
        "a.a a.b b.c",                 /* depth 1: the rows into b.c only */
        "a.a a.b b.c c.d",             /* 2: b.c -> c.d at depth 1 */
        "a.a a.b b.c c.d e.e",         /* 3: c.d -> e.e at depth 2 */
        "a.a a.b b.c c.d e.e x.x",     /* 4: x.x -> c.d, the row before c.d -> e.e, at depth 3 */
        "a.a a.b b.c c.d e.e x.x y.y", /* 5: y.y -> x.x at depth 4 */
    };
    for (long d = 1; d <= 5; d++)
        assert_string_equal(walk(f, "b.c", d, true, 0, 0, NULL, NULL), want[d - 1]);
}

static void test_downstream_from_a_source_field_starts_at_depth_one(void **state)
{
    struct fixture *f = *state;
    const char *edges;

    assert_string_equal(walk(f, "a.a", 1, true, 0, 0, NULL, NULL), "");
    assert_string_equal(walk(f, "a.a", 2, true, 0, 0, &edges, NULL), "a.a b.c");
    assert_string_equal(edges, "a.a>b.c"); /* the dataset-level edge a.a -> e is no field edge */
    assert_string_equal(walk(f, "a.a", 3, true, 0, 0, NULL, NULL), "a.a b.c c.d");
    /* depth 4: c.d -> e.e, and a.b -> b.c: the other input of b.c, as the row before b.c -> c.d */
    assert_string_equal(walk(f, "a.a", 4, true, 0, 0, NULL, NULL), "a.a a.b b.c c.d e.e");
}

static void test_as_of_and_max_nodes(void **state)
{
    struct fixture *f = *state;
    bool truncated;

    assert_string_equal(walk(f, "b.c", 5, true, 15, 0, NULL, NULL), "a.a a.b b.c"); /* not yet b.c -> c.d */
    assert_string_equal(walk(f, "b.c", 5, true, 9, 0, NULL, NULL), "");
    assert_string_equal(walk(f, "e.e", 5, false, 0, 3, NULL, &truncated), "b.c c.d e.e");
    assert_true(truncated);
    walk(f, "e.e", 5, false, 0, 0, NULL, &truncated);
    assert_false(truncated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upstream_reaches_depth_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_field_without_inputs_has_no_upstream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downstream_depth_by_depth_as_marquez, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downstream_from_a_source_field_starts_at_depth_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_as_of_and_max_nodes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
