/* tests/unit/graph/test_graph.c - nodes, names, fields and edges (graph/graph.c, graph/edges.c,
 * graph/check.c); symlinked names and merges are in test_merge.c.
 *
 * Invariants:
 *  1. graph_check() runs after every mutation (check_ok), so a broken invariant fails the test that
 *     broke it.
 *  2. The randomized test compares the graph with a plain array model of every (from, to, kind)
 *     edge, with hubs long enough to use list indexes and enough growth to force compactions.
 *  3. Tests use only the public header.
 * Ownership: each test owns one graph (setup/teardown). Threads: single-threaded, except the lock test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "graph.h"

static int setup(void **state)
{
    *state = graph_new();
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    graph_free(*state);
    return 0;
}

static void check_ok(const struct graph *g)
{
    struct err e;

    err_clear(&e);
    if (graph_check(g, &e) != 0)
        fail_msg("graph_check: %s", e.msg);
}

static uint32_t ds(struct graph *g, const char *ns, const char *name)
{
    struct err e;
    uint32_t id = graph_intern(g, GRAPH_DATASET, ns, name, &e);

    assert_int_not_equal(id, GRAPH_NO_NODE);
    check_ok(g);
    return id;
}

static uint32_t job(struct graph *g, const char *name)
{
    struct err e;
    uint32_t id = graph_intern(g, GRAPH_JOB, "ns", name, &e);

    assert_int_not_equal(id, GRAPH_NO_NODE);
    check_ok(g);
    return id;
}

static void edge(struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind, uint32_t first,
                 uint32_t last, uint32_t run)
{
    struct err e;

    if (graph_add_edge(g, from, to, kind, first, last, run, &e) != 0)
        fail_msg("graph_add_edge: %s", e.msg);
    check_ok(g);
}

/* The out-edge from -> to of kind, or NULL. */
static const struct graph_edge *out_edge(const struct graph *g, uint32_t from, uint32_t to, unsigned kind)
{
    size_t n;
    const struct graph_edge *l = graph_out_edges(g, from, &n);

    for (size_t i = 0; i < n; i++) {
        if (l[i].other == to && l[i].kind == kind)
            return &l[i];
    }
    return NULL;
}

static const struct graph_edge *in_edge(const struct graph *g, uint32_t to, uint32_t from, unsigned kind)
{
    size_t n;
    const struct graph_edge *l = graph_in_edges(g, to, &n);

    for (size_t i = 0; i < n; i++) {
        if (l[i].other == from && l[i].kind == kind)
            return &l[i];
    }
    return NULL;
}

static void test_empty_graph_checks_and_counts_zero(void **state)
{
    struct graph *g = *state;

    check_ok(g);
    assert_int_equal(graph_node_count(g), 0);
    assert_int_equal(graph_edge_count(g), 0);
    assert_true(graph_memory_bytes(g) > 0);
}

static void test_intern_gives_dense_ids_and_same_id_for_same_key(void **state)
{
    struct graph *g = *state;
    uint32_t a = ds(g, "pg://db", "public.orders");
    uint32_t b = ds(g, "pg://db", "public.customers");
    uint32_t j = job(g, "public.orders");
    struct err e;

    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(j, 2); /* same name, other type: another node */
    assert_int_equal(ds(g, "pg://db", "public.orders"), a);
    assert_int_equal(ds(g, "pg://other", "public.orders"), 3); /* other namespace */
    assert_int_equal(graph_intern(g, GRAPH_RUN, "", "0190b7e1-58b3-7d3c-a8a4-6b5c2d7f0a11", &e), 4);
    assert_int_equal(graph_node_count(g), 5);
    assert_int_equal(graph_type(g, j), GRAPH_JOB);
    assert_string_equal(graph_node_namespace(g, a), "pg://db");
    assert_string_equal(graph_node_name(g, a), "public.orders");
    assert_string_equal(graph_node_field(g, a), "");
    assert_int_equal(graph_node_dataset(g, a), a);
}

static void test_intern_copies_its_strings(void **state)
{
    struct graph *g = *state;
    char ns[16] = "ns", name[16] = "table";
    uint32_t id = ds(g, ns, name), found;

    strcpy(ns, "xx");
    strcpy(name, "yyyyy");
    assert_string_equal(graph_node_namespace(g, id), "ns");
    assert_string_equal(graph_node_name(g, id), "table");
    assert_true(graph_find(g, GRAPH_DATASET, "ns", "table", &found));
    assert_int_equal(found, id);
}

static void test_find_never_creates(void **state)
{
    struct graph *g = *state;
    uint32_t id = 99;

    ds(g, "ns", "a");
    assert_false(graph_find(g, GRAPH_DATASET, "ns", "b", &id));
    assert_false(graph_find(g, GRAPH_DATASET, "unknown-ns", "a", &id));
    assert_false(graph_find(g, GRAPH_JOB, "ns", "a", &id));
    assert_false(graph_find(g, GRAPH_FIELD, "ns", "a", &id));
    assert_int_equal(id, 99);
    assert_int_equal(graph_node_count(g), 1);
    check_ok(g);
}

static void test_intern_rejects_field_type_and_missing_names(void **state)
{
    struct graph *g = *state;
    struct err e;

    err_clear(&e);
    assert_int_equal(graph_intern(g, GRAPH_FIELD, "ns", "a", &e), GRAPH_NO_NODE);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_int_equal(graph_intern(g, GRAPH_DATASET, NULL, "a", &e), GRAPH_NO_NODE);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_int_equal(graph_intern(g, GRAPH_DATASET, "ns", NULL, &e), GRAPH_NO_NODE);
    assert_int_equal(graph_node_count(g), 0);
    check_ok(g);
}

static void test_field_nodes_hang_off_their_dataset(void **state)
{
    struct graph *g = *state;
    uint32_t d = ds(g, "pg://db", "public.orders"), f, f2, found;
    struct err e;

    f = graph_field(g, d, "amount", &e);
    check_ok(g);
    assert_int_not_equal(f, GRAPH_NO_NODE);
    assert_int_equal(graph_type(g, f), GRAPH_FIELD);
    assert_string_equal(graph_node_namespace(g, f), "pg://db");
    assert_string_equal(graph_node_name(g, f), "public.orders");
    assert_string_equal(graph_node_field(g, f), "amount");
    assert_int_equal(graph_node_dataset(g, f), d);
    assert_non_null(out_edge(g, f, d, GRAPH_EDGE_FIELD_OF));
    assert_int_equal(graph_edge_count(g), 1);
    assert_int_equal(graph_field(g, d, "amount", &e), f); /* no second node, no second edge */
    assert_int_equal(graph_edge_count(g), 1);
    f2 = graph_field(g, ds(g, "pg://db", "public.refunds"), "amount", &e);
    assert_int_not_equal(f2, f); /* same field name, other dataset */
    assert_true(graph_find_field(g, d, "amount", &found));
    assert_int_equal(found, f);
    assert_false(graph_find_field(g, d, "missing", &found));
    assert_false(graph_find_field(g, f, "amount", &found)); /* a field is not a dataset */
    check_ok(g);
}

static void test_field_rejects_non_dataset(void **state)
{
    struct graph *g = *state;
    uint32_t j = job(g, "etl");
    struct err e;

    err_clear(&e);
    assert_int_equal(graph_field(g, j, "x", &e), GRAPH_NO_NODE);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_int_equal(graph_field(g, 42, "x", &e), GRAPH_NO_NODE);
    assert_int_equal(graph_node_count(g), 1);
    check_ok(g);
}

static void test_edge_is_stored_in_both_directions(void **state)
{
    struct graph *g = *state;
    uint32_t d = ds(g, "ns", "in"), j = job(g, "etl");
    const struct graph_edge *x;
    size_t n;

    edge(g, d, j, GRAPH_EDGE_IO, 100, 200, GRAPH_NO_NODE);
    x = out_edge(g, d, j, GRAPH_EDGE_IO);
    assert_non_null(x);
    assert_int_equal(x->first_seen, 100);
    assert_int_equal(x->last_seen, 200);
    assert_int_equal(x->run, GRAPH_NO_NODE);
    x = in_edge(g, j, d, GRAPH_EDGE_IO);
    assert_non_null(x);
    assert_int_equal(x->last_seen, 200);
    graph_out_edges(g, j, &n);
    assert_int_equal(n, 0);
    graph_in_edges(g, d, &n);
    assert_int_equal(n, 0);
    assert_int_equal(graph_edge_count(g), 1);
}

static void test_duplicate_edge_widens_times_and_updates_run_when_last_seen_grows(void **state)
{
    struct graph *g = *state;
    uint32_t d = ds(g, "ns", "in"), j = job(g, "etl");
    struct err e;
    uint32_t r1 = graph_intern(g, GRAPH_RUN, "", "run-1", &e), r2 = graph_intern(g, GRAPH_RUN, "", "run-2", &e);
    const struct graph_edge *x;

    edge(g, d, j, GRAPH_EDGE_IO, 100, 200, r1);
    edge(g, d, j, GRAPH_EDGE_IO, 150, 180, r2); /* inside: nothing changes */
    x = out_edge(g, d, j, GRAPH_EDGE_IO);
    assert_int_equal(x->first_seen, 100);
    assert_int_equal(x->last_seen, 200);
    assert_int_equal(x->run, r1);
    edge(g, d, j, GRAPH_EDGE_IO, 50, 120, r2); /* earlier first seen; run kept */
    x = out_edge(g, d, j, GRAPH_EDGE_IO);
    assert_int_equal(x->first_seen, 50);
    assert_int_equal(x->run, r1);
    edge(g, d, j, GRAPH_EDGE_IO, 300, 400, r2); /* later last seen; run follows */
    x = out_edge(g, d, j, GRAPH_EDGE_IO);
    assert_int_equal(x->first_seen, 50);
    assert_int_equal(x->last_seen, 400);
    assert_int_equal(x->run, r2);
    x = in_edge(g, j, d, GRAPH_EDGE_IO);
    assert_int_equal(x->first_seen, 50);
    assert_int_equal(x->last_seen, 400);
    assert_int_equal(x->run, r2);
    assert_int_equal(graph_edge_count(g), 1);
}

static void test_same_endpoints_with_other_kind_is_another_edge(void **state)
{
    struct graph *g = *state;
    uint32_t a = job(g, "child"), b = job(g, "parent");

    edge(g, a, b, GRAPH_EDGE_PARENT, 1, 1, GRAPH_NO_NODE);
    edge(g, a, b, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE);
    edge(g, b, a, GRAPH_EDGE_PARENT, 1, 1, GRAPH_NO_NODE); /* reverse direction is distinct */
    assert_int_equal(graph_edge_count(g), 3);
}

static void test_self_loop_is_one_edge_in_both_lists(void **state)
{
    struct graph *g = *state;
    uint32_t a = ds(g, "ns", "a");
    size_t n;

    edge(g, a, a, GRAPH_EDGE_IO, 1, 2, GRAPH_NO_NODE);
    edge(g, a, a, GRAPH_EDGE_IO, 1, 3, GRAPH_NO_NODE);
    assert_int_equal(graph_edge_count(g), 1);
    graph_out_edges(g, a, &n);
    assert_int_equal(n, 1);
    graph_in_edges(g, a, &n);
    assert_int_equal(n, 1);
    assert_int_equal(in_edge(g, a, a, GRAPH_EDGE_IO)->last_seen, 3);
}

static void test_add_edge_rejects_bad_arguments_and_changes_nothing(void **state)
{
    struct graph *g = *state;
    uint32_t a = ds(g, "ns", "a"), b = ds(g, "ns", "b");
    struct err e;

    err_clear(&e);
    assert_int_equal(graph_add_edge(g, a, 5, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_string_equal(e.where, "to");
    assert_int_equal(graph_add_edge(g, 5, a, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE, &e), -1);
    assert_string_equal(e.where, "from");
    assert_int_equal(graph_add_edge(g, a, b, GRAPH_EDGE_IO, 1, 1, 9, &e), -1);
    assert_string_equal(e.where, "run");
    assert_int_equal(graph_add_edge(g, a, b, (enum graph_edge_kind)6, 1, 1, GRAPH_NO_NODE, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_int_equal(graph_add_edge(g, a, b, GRAPH_EDGE_IO, 2, 1, GRAPH_NO_NODE, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_int_equal(graph_edge_count(g), 0);
    check_ok(g);
}

static void test_hub_lists_deduplicate_through_their_index(void **state)
{
    struct graph *g = *state;
    enum { N = 2000 };
    uint32_t hub = ds(g, "ns", "hub"), sink = ds(g, "ns", "sink"), jobs[N];
    char name[32];
    struct err e;

    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "consumer-%d", i);
        jobs[i] = graph_intern(g, GRAPH_JOB, "ns", name, &e);
        assert_int_equal(graph_add_edge(g, hub, jobs[i], GRAPH_EDGE_IO, 10, 10, GRAPH_NO_NODE, &e), 0);
        assert_int_equal(graph_add_edge(g, jobs[i], sink, GRAPH_EDGE_IO, 10, 10, GRAPH_NO_NODE, &e), 0);
        if (i % 97 == 0)
            check_ok(g);
    }
    check_ok(g);
    assert_int_equal(graph_edge_count(g), 2 * N);
    for (int i = N - 1; i >= 0; i--) { /* again, wider: found, not appended */
        assert_int_equal(graph_add_edge(g, hub, jobs[i], GRAPH_EDGE_IO, 5, 20, GRAPH_NO_NODE, &e), 0);
        assert_int_equal(graph_add_edge(g, jobs[i], sink, GRAPH_EDGE_IO, 5, 20, GRAPH_NO_NODE, &e), 0);
    }
    check_ok(g);
    assert_int_equal(graph_edge_count(g), 2 * N);
    assert_int_equal(out_edge(g, hub, jobs[N / 2], GRAPH_EDGE_IO)->first_seen, 5);
    assert_int_equal(in_edge(g, sink, jobs[N - 1], GRAPH_EDGE_IO)->last_seen, 20);
}

static void test_edge_between_two_hubs_is_found_from_either_side(void **state)
{
    struct graph *g = *state;
    uint32_t a = job(g, "big-reader"), b = ds(g, "ns", "big-table");
    char name[32];

    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "t%d", i);
        edge(g, ds(g, "ns", name), a, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE); /* a: long in-list */
        snprintf(name, sizeof name, "w%d", i);
        edge(g, job(g, name), b, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE); /* b: long in-list */
        edge(g, a, ds(g, "ns", name), GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE); /* a: long out-list */
        edge(g, b, job(g, name), GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE); /* b: long out-list */
    }
    edge(g, a, b, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE);
    edge(g, a, b, GRAPH_EDGE_IO, 1, 9, GRAPH_NO_NODE);
    edge(g, b, a, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE);
    assert_int_equal(graph_edge_count(g), 402);
    assert_int_equal(in_edge(g, b, a, GRAPH_EDGE_IO)->last_seen, 9);
}

/* graph_find_edge answers the same from either side, for short lists and indexed hub lists alike. */
static void test_find_edge_from_short_and_hub_lists(void **state)
{
    struct graph *g = *state;
    uint32_t hub = ds(g, "ns", "hub"), j[40];
    char name[16];
    struct err e;

    for (int i = 0; i < 40; i++) { /* more than GRAPH_INDEX_MIN readers: the hub's list is indexed */
        snprintf(name, sizeof name, "j%d", i);
        j[i] = job(g, name);
        assert_int_equal(graph_add_edge(g, hub, j[i], GRAPH_EDGE_IO, 10 + (uint32_t)i, 100, GRAPH_NO_NODE, &e), 0);
    }
    uint32_t lone = ds(g, "ns", "lone");
    assert_int_equal(graph_add_edge(g, j[3], lone, GRAPH_EDGE_IO, 5, 6, GRAPH_NO_NODE, &e), 0);
    for (int i = 0; i < 40; i++) {
        const struct graph_edge *ed = graph_find_edge(g, hub, j[i], GRAPH_EDGE_IO);
        assert_non_null(ed);
        assert_int_equal(ed->first_seen, 10 + (uint32_t)i);
        assert_null(graph_find_edge(g, j[i], hub, GRAPH_EDGE_IO));     /* direction matters */
        assert_null(graph_find_edge(g, hub, j[i], GRAPH_EDGE_COLUMN)); /* and kind */
    }
    assert_non_null(graph_find_edge(g, j[3], lone, GRAPH_EDGE_IO));
    assert_null(graph_find_edge(g, j[4], lone, GRAPH_EDGE_IO));
    assert_null(graph_find_edge(g, hub, lone, GRAPH_EDGE_IO));
    assert_null(graph_find_edge(g, hub, 1000000, GRAPH_EDGE_IO)); /* unknown node */
}

static void test_touch_changes_only_that_nodes_stamp(void **state)
{
    struct graph *g = *state;
    uint32_t a = ds(g, "ns", "a"), j = job(g, "j");
    struct err e;

    assert_int_equal(graph_node_stamp(g, a), 0);
    assert_int_equal(graph_node_stamp(g, j), 0);
    graph_touch(g, a);
    graph_touch(g, a);
    assert_int_equal(graph_node_stamp(g, a), 2);
    assert_int_equal(graph_node_stamp(g, j), 0);
    /* edges and interning again are not touches: only the caller knows what changed */
    assert_int_equal(graph_add_edge(g, a, j, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE, &e), 0);
    assert_int_equal(graph_intern(g, GRAPH_JOB, "ns", "j", &e), j);
    assert_int_equal(graph_node_stamp(g, j), 0);
    /* stamps survive the node arrays growing */
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "grow-%d", i);
        assert_int_not_equal(graph_intern(g, GRAPH_DATASET, "ns", name, &e), GRAPH_NO_NODE);
    }
    assert_int_equal(graph_node_stamp(g, a), 2);
}

static void test_many_nodes_grow_the_tables(void **state)
{
    struct graph *g = *state;
    enum { N = 20000 };
    char name[32];
    uint32_t id;
    struct err e;

    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "dataset-%d", i);
        assert_int_equal(graph_intern(g, GRAPH_DATASET, i % 2 ? "a" : "b", name, &e), (uint32_t)i);
    }
    for (int i = 0; i < N; i += 7) {
        snprintf(name, sizeof name, "dataset-%d", i);
        assert_true(graph_find(g, GRAPH_DATASET, i % 2 ? "a" : "b", name, &id));
        assert_int_equal(id, (uint32_t)i);
        assert_false(graph_find(g, GRAPH_DATASET, i % 2 ? "b" : "a", name, &id));
    }
    check_ok(g);
}

static void test_same_name_in_many_namespaces_gives_many_nodes(void **state)
{
    struct graph *g = *state;
    enum { N = 3000 };
    char ns[32];
    uint32_t id;
    struct err e;

    /* keys differing only in the namespace crowd each other's probe sequences */
    for (int i = 0; i < N; i++) {
        snprintf(ns, sizeof ns, "ns-%d", i);
        assert_int_equal(graph_intern(g, GRAPH_DATASET, ns, "t", &e), (uint32_t)(2 * i));
        assert_int_equal(graph_intern(g, GRAPH_JOB, ns, "t", &e), (uint32_t)(2 * i + 1));
    }
    for (int i = 0; i < N; i++) {
        snprintf(ns, sizeof ns, "ns-%d", i);
        assert_true(graph_find(g, GRAPH_DATASET, ns, "t", &id));
        assert_int_equal(id, (uint32_t)(2 * i));
        assert_string_equal(graph_node_namespace(g, id), ns);
    }
    check_ok(g);
}

/* A tiny deterministic generator, so the randomized test is reproducible. */
static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

static void test_random_edges_match_a_plain_model(void **state)
{
    struct graph *g = *state;
    enum { N = 120, K = 3, OPS = 40000 };
    static struct { uint32_t first, last, run; bool present; } model[N][N][K];
    uint64_t seed = 42;
    size_t edges = 0;
    char name[16];
    struct err e;

    memset(model, 0, sizeof model);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(graph_intern(g, GRAPH_JOB, "ns", name, &e), (uint32_t)i);
    }
    for (int op = 0; op < OPS; op++) {
        /* node 0..2 are hubs (most edges touch them), the rest random */
        uint32_t from = rnd(&seed) % 4 == 0 ? rnd(&seed) % 3 : rnd(&seed) % N;
        uint32_t to = rnd(&seed) % 4 == 0 ? rnd(&seed) % 3 : rnd(&seed) % N;
        uint32_t kind = rnd(&seed) % K, first = rnd(&seed) % 1000, last = first + rnd(&seed) % 1000;
        uint32_t run = rnd(&seed) % 5 == 0 ? GRAPH_NO_NODE : rnd(&seed) % N;
        if (graph_add_edge(g, from, to, kind, first, last, run, &e) != 0)
            fail_msg("graph_add_edge: %s", e.msg);
        if (!model[from][to][kind].present) {
            model[from][to][kind].present = true;
            model[from][to][kind].first = first;
            model[from][to][kind].last = last;
            model[from][to][kind].run = run;
            edges++;
        } else {
            if (first < model[from][to][kind].first)
                model[from][to][kind].first = first;
            if (last > model[from][to][kind].last) {
                model[from][to][kind].last = last;
                model[from][to][kind].run = run;
            }
        }
        if (op % 500 == 0)
            check_ok(g);
    }
    check_ok(g);
    assert_int_equal(graph_edge_count(g), edges);
    for (uint32_t f = 0; f < N; f++) {
        for (uint32_t t = 0; t < N; t++) {
            for (uint32_t k = 0; k < K; k++) {
                const struct graph_edge *x = out_edge(g, f, t, k);
                if (!model[f][t][k].present) {
                    assert_null(x);
                    continue;
                }
                assert_non_null(x);
                assert_int_equal(x->first_seen, model[f][t][k].first);
                assert_int_equal(x->last_seen, model[f][t][k].last);
                assert_int_equal(x->run, model[f][t][k].run);
            }
        }
    }
}

static void test_growth_by_relocation_compacts_and_keeps_every_edge(void **state)
{
    struct graph *g = *state;
    enum { N = 3000, ROUNDS = 12 };
    char name[16];
    struct err e;

    /* Every node's lists grow round after round: blocks left behind pile up on the free lists of
     * ever larger classes until the pool is compacted. */
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(graph_intern(g, GRAPH_JOB, "ns", name, &e), (uint32_t)i);
    }
    for (uint32_t r = 1; r <= ROUNDS; r++) {
        for (uint32_t i = 0; i < N; i++)
            assert_int_equal(graph_add_edge(g, i, (i + r) % N, GRAPH_EDGE_IO, r, r, GRAPH_NO_NODE, &e), 0);
        check_ok(g);
    }
    assert_int_equal(graph_edge_count(g), N * ROUNDS);
    for (uint32_t i = 0; i < N; i += 13) {
        size_t n;
        const struct graph_edge *l = graph_out_edges(g, i, &n);
        assert_int_equal(n, ROUNDS);
        for (uint32_t r = 1; r <= ROUNDS; r++) { /* order of insertion is kept */
            assert_int_equal(l[r - 1].other, (i + r) % N);
            assert_int_equal(l[r - 1].first_seen, r);
        }
    }
    /* 16 bytes per direction plus slack and nodes, far under the 64-byte budget here */
    assert_true(graph_memory_bytes(g) < 64 * graph_edge_count(g));
}

struct reader_arg {
    struct graph *g;
    uint32_t node;
    size_t seen;
};

static void *reader(void *p)
{
    struct reader_arg *r = p;

    graph_lock_read(r->g);
    graph_out_edges(r->g, r->node, &r->seen);
    graph_unlock(r->g);
    return NULL;
}

static void test_read_lock_admits_concurrent_readers(void **state)
{
    struct graph *g = *state;
    uint32_t a = ds(g, "ns", "a"), b = ds(g, "ns", "b");
    struct reader_arg r = {g, a, 0};
    pthread_t t;

    edge(g, a, b, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE);
    graph_lock_read(g); /* a reader holds the lock; another reader still gets in */
    assert_int_equal(pthread_create(&t, NULL, reader, &r), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    graph_unlock(g);
    assert_int_equal(r.seen, 1);
    graph_lock_write(g);
    graph_unlock(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_graph_checks_and_counts_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intern_gives_dense_ids_and_same_id_for_same_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intern_copies_its_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_never_creates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intern_rejects_field_type_and_missing_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_nodes_hang_off_their_dataset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_rejects_non_dataset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_is_stored_in_both_directions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_edge_widens_times_and_updates_run_when_last_seen_grows,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_endpoints_with_other_kind_is_another_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_loop_is_one_edge_in_both_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_edge_rejects_bad_arguments_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hub_lists_deduplicate_through_their_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_between_two_hubs_is_found_from_either_side, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_edge_from_short_and_hub_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_touch_changes_only_that_nodes_stamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_nodes_grow_the_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_name_in_many_namespaces_gives_many_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_edges_match_a_plain_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_by_relocation_compacts_and_keeps_every_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_lock_admits_concurrent_readers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
