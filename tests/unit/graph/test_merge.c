/* tests/unit/graph/test_merge.c - symlinked names and merges of nodes (graph/merge.c, with the edge
 * removal of graph/edges.c and the checks of graph/check.c).
 *
 * Invariants:
 *  1. graph_check() runs after every mutation, so a broken invariant fails the test that broke it.
 *  2. Order independence is tested by building the same facts in different orders and comparing the
 *     graphs by names (dump_graph), not by node ids, which depend on order.
 *  3. The randomized test compares with a plain model: union-find over the declared symlinks, each
 *     group named by its smallest primary name, every edge mapped onto its group.
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
    uint32_t id = graph_intern(g, GRAPH_JOB, "jobs", name, &e);

    assert_int_not_equal(id, GRAPH_NO_NODE);
    check_ok(g);
    return id;
}

static void edge(struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind, uint32_t t)
{
    struct err e;

    if (graph_add_edge(g, from, to, kind, t, t, GRAPH_NO_NODE, &e) != 0)
        fail_msg("graph_add_edge: %s", e.msg);
    check_ok(g);
}

/* graph_alias that must succeed; returns its 0/1 and the owner's live node in *into. */
static int alias(struct graph *g, const char *ons, const char *oname, const char *ns, const char *name,
                 uint32_t *into)
{
    struct err e;
    int rc = graph_alias(g, ons, oname, ns, name, into, &e);

    if (rc < 0)
        fail_msg("graph_alias: %s", e.msg);
    check_ok(g);
    return rc;
}

static uint32_t find(const struct graph *g, const char *ns, const char *name)
{
    uint32_t id = GRAPH_NO_NODE;

    if (!graph_find(g, GRAPH_DATASET, ns, name, &id))
        fail_msg("no dataset %s:%s", ns, name);
    return id;
}

/* "type:ns:name[:field]" of a node. */
static void node_text(const struct graph *g, uint32_t id, char *out, size_t n)
{
    static const char *const T[] = {"d", "j", "r", "f"};

    snprintf(out, n, "%s:%s:%s%s%s", T[graph_type(g, id)], graph_node_namespace(g, id),
             graph_node_name(g, id), graph_type(g, id) == GRAPH_FIELD ? ":" : "", graph_node_field(g, id));
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every edge of the graph as "from -kind[first,last]-> to" by names, sorted, in one malloc'd text.
 * Merged nodes have no edges, so the text names live nodes only. */
static char *dump_graph(const struct graph *g)
{
    size_t cap = graph_edge_count(g) + 1, m = 0, len = 1;
    char **lines = calloc(cap, sizeof *lines);

    for (uint32_t id = 0; id < graph_node_count(g); id++) {
        size_t n;
        const struct graph_edge *l = graph_out_edges(g, id, &n);
        for (size_t k = 0; k < n; k++) {
            char a[256], b[256];
            node_text(g, id, a, sizeof a);
            node_text(g, l[k].other, b, sizeof b);
            assert_true(m < cap);
            lines[m] = malloc(600);
            snprintf(lines[m], 600, "%s -%u[%u,%u]-> %s\n", a, (unsigned)l[k].kind, l[k].first_seen,
                     l[k].last_seen, b);
            len += strlen(lines[m++]);
        }
    }
    assert_int_equal(m, graph_edge_count(g));
    qsort(lines, m, sizeof *lines, cmp_line);
    char *out = calloc(len, 1);
    for (size_t i = 0; i < m; i++) {
        strcat(out, lines[i]);
        free(lines[i]);
    }
    free(lines);
    return out;
}

/* ---- names ---- */

static void test_alias_to_a_new_name_resolves_to_the_owner(void **state)
{
    (void)state;
    struct graph *g = graph_new();
    uint32_t other = ds(g, "pg://db", "public.other"), d = ds(g, "pg://db", "public.orders"), into = 99;

    assert_int_not_equal(d, 0); /* the alias's own index (0) must not be mistaken for a node id */
    assert_int_equal(alias(g, "pg://db", "public.orders", "s3://lake", "warehouse/orders", &into), 0);
    assert_int_equal(into, d);
    assert_int_equal(find(g, "s3://lake", "warehouse/orders"), d);
    assert_int_equal(ds(g, "s3://lake", "warehouse/orders"), d); /* intern resolves too */
    assert_int_equal(graph_node_count(g), 2);
    assert_int_equal(find(g, "pg://db", "public.other"), other);
    assert_string_equal(graph_node_name(g, d), "public.orders");
    assert_int_equal(alias(g, "pg://db", "public.orders", "s3://lake", "warehouse/orders", NULL), 0);
    assert_int_equal(alias(g, "pg://db", "public.orders", "pg://db", "public.orders", NULL), 0); /* self */
    assert_int_equal(graph_node_count(g), 2);
    graph_free(g);
}

static void test_alias_interns_an_unknown_owner(void **state)
{
    (void)state;
    struct graph *g = graph_new();
    uint32_t into;

    assert_int_equal(alias(g, "ns", "owner", "ns", "other", &into), 0);
    assert_int_equal(find(g, "ns", "owner"), into);
    assert_int_equal(find(g, "ns", "other"), into);
    assert_int_equal(graph_node_count(g), 1);
    graph_free(g);
}

static void test_alias_rejects_missing_names(void **state)
{
    (void)state;
    struct graph *g = graph_new();
    struct err e;

    err_clear(&e);
    assert_int_equal(graph_alias(g, NULL, "a", "ns", "x", NULL, &e), -1);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_int_equal(graph_alias(g, "ns", "a", "ns", NULL, NULL, &e), -1);
    assert_int_equal(graph_node_count(g), 0);
    check_ok(g);
    graph_free(g);
}

/* ---- merges ---- */

/* Feast-shaped facts: a feature view job reads the data source by its file name; the job writing the
 * data names it by its warehouse path and declares the file name as a symlink. */
static struct graph *feast_graph(bool symlink_first)
{
    struct graph *g = graph_new();
    uint32_t writer = job(g, "write_driver_stats"), view = job(g, "feature_view_driver_hourly"), d;

    if (symlink_first) {
        alias(g, "s3://lake", "driver_stats", "file", "/data/driver_stats.parquet", NULL);
        edge(g, writer, ds(g, "s3://lake", "driver_stats"), GRAPH_EDGE_IO, 20);
        edge(g, ds(g, "file", "/data/driver_stats.parquet"), view, GRAPH_EDGE_IO, 10);
    } else {
        edge(g, ds(g, "file", "/data/driver_stats.parquet"), view, GRAPH_EDGE_IO, 10);
        d = ds(g, "s3://lake", "driver_stats");
        edge(g, writer, d, GRAPH_EDGE_IO, 20);
        assert_int_equal(alias(g, "s3://lake", "driver_stats", "file", "/data/driver_stats.parquet", NULL),
                         1);
    }
    return g;
}

static void test_symlink_joins_nodes_whatever_the_order(void **state)
{
    (void)state;
    struct graph *before = feast_graph(true), *after = feast_graph(false);
    char *a = dump_graph(before), *b = dump_graph(after);

    assert_string_equal(a, b);
    assert_non_null(strstr(a, "j:jobs:write_driver_stats -0[20,20]-> d:s3://lake:driver_stats\n"));
    assert_non_null(strstr(a, "d:s3://lake:driver_stats -0[10,10]-> j:jobs:feature_view_driver_hourly\n"));
    for (int i = 0; i < 2; i++) {
        struct graph *g = i ? after : before;
        uint32_t d = find(g, "s3://lake", "driver_stats");
        assert_int_equal(find(g, "file", "/data/driver_stats.parquet"), d);
        assert_string_equal(graph_node_name(g, d), "driver_stats");
        assert_int_equal(graph_resolve(g, d), d);
    }
    free(a);
    free(b);
    graph_free(before);
    graph_free(after);
}

static void test_merged_node_forwards_edges_and_lookups(void **state)
{
    (void)state;
    struct graph *g = graph_new();
    uint32_t small = ds(g, "ns", "small"), big = ds(g, "ns", "big"), j = job(g, "j"), k = job(g, "k"), live;
    size_t n;

    edge(g, small, j, GRAPH_EDGE_IO, 5);
    edge(g, big, j, GRAPH_EDGE_IO, 7); /* the same job: the two edges widen into one */
    edge(g, big, k, GRAPH_EDGE_IO, 8);
    assert_int_equal(alias(g, "ns", "small", "ns", "big", &live), 1);
    assert_int_equal(live, big);                            /* more edges: big survives ... */
    assert_string_equal(graph_node_name(g, live), "small"); /* ... under the primary name */
    assert_int_equal(graph_resolve(g, small), big);
    assert_int_equal(find(g, "ns", "big"), big);
    assert_int_equal(graph_edge_count(g), 2);
    const struct graph_edge *x = graph_find_edge(g, big, j, GRAPH_EDGE_IO);
    assert_non_null(x);
    assert_int_equal(x->first_seen, 5);
    assert_int_equal(x->last_seen, 7);
    graph_in_edges(g, j, &n);
    assert_int_equal(n, 1);
    graph_out_edges(g, small, &n);
    assert_int_equal(n, 0);
    edge(g, small, k, GRAPH_EDGE_IO, 9); /* an old id still works: it stands for the survivor */
    assert_int_equal(graph_find_edge(g, big, k, GRAPH_EDGE_IO)->last_seen, 9);
    graph_free(g);
}

static void test_merge_moves_fields_and_their_column_edges(void **state)
{
    (void)state;
    struct graph *g = graph_new();
    uint32_t l = ds(g, "ns", "l"), w = ds(g, "ns", "w"), src = ds(g, "ns", "src"), j = job(g, "j");
    struct err e;
    uint32_t lf = graph_field(g, l, "f", &e), lg = graph_field(g, l, "g", &e),
             wf = graph_field(g, w, "f", &e);
    uint32_t sa = graph_field(g, src, "a", &e), found;
    size_t n;

    edge(g, sa, lf, GRAPH_EDGE_COLUMN, 1);
    edge(g, sa, wf, GRAPH_EDGE_COLUMN, 2);
    edge(g, lg, wf, GRAPH_EDGE_COLUMN, 3); /* l.g -> w.f */
    edge(g, wf, lf, GRAPH_EDGE_COLUMN, 4); /* w.f -> l.f: becomes a loop of w.f, dropped */
    edge(g, w, j, GRAPH_EDGE_IO, 5);       /* w has more edges: it survives */
    assert_int_equal(alias(g, "ns", "w", "ns", "l", NULL), 1);
    assert_true(graph_find_field(g, l, "f", &found)); /* through the merged dataset */
    assert_int_equal(found, wf);
    assert_int_equal(graph_resolve(g, lf), wf);
    assert_true(graph_find_field(g, w, "g", &found));
    assert_int_not_equal(found, lg); /* a new field of the survivor took l.g's edges */
    assert_int_equal(graph_resolve(g, lg), found);
    assert_string_equal(graph_node_name(g, found), "w");
    assert_non_null(graph_find_edge(g, found, wf, GRAPH_EDGE_COLUMN));
    assert_null(graph_find_edge(g, wf, wf, GRAPH_EDGE_COLUMN));
    const struct graph_edge *x = graph_find_edge(g, sa, wf, GRAPH_EDGE_COLUMN);
    assert_non_null(x);
    assert_int_equal(x->first_seen, 1);
    assert_int_equal(x->last_seen, 2);
    graph_in_edges(g, w, &n);
    assert_int_equal(n, 2); /* FIELD_OF from f and g */
    graph_free(g);
}

static void test_merging_hubs_shrinks_and_reindexes_lists(void **state)
{
    (void)state;
    struct graph *g = graph_new();
    uint32_t a = ds(g, "ns", "a"), b = ds(g, "ns", "b"), jobs[100];
    char name[32];

    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "j%d", i);
        jobs[i] = job(g, name);
    }
    for (int i = 0; i < 60; i++) /* both long enough to be indexed; 40 jobs read both */
        edge(g, a, jobs[i], GRAPH_EDGE_IO, 1);
    for (int i = 20; i < 100; i++)
        edge(g, b, jobs[i], GRAPH_EDGE_IO, 2);
    for (int i = 0; i < 100; i += 7) /* a few jobs with long in-lists of their own */
        for (int k = 0; k < 40; k++) {
            snprintf(name, sizeof name, "in%d_%d", i, k);
            edge(g, ds(g, "other", name), jobs[i], GRAPH_EDGE_IO, 3);
        }
    uint32_t edge33 = job(g, "edge33"); /* 33 inputs (indexed), 32 once a and b are one (not indexed) */
    for (int k = 0; k < 31; k++) {
        snprintf(name, sizeof name, "e33_%d", k);
        edge(g, ds(g, "other", name), edge33, GRAPH_EDGE_IO, 4);
    }
    edge(g, a, edge33, GRAPH_EDGE_IO, 4);
    edge(g, b, edge33, GRAPH_EDGE_IO, 4);
    assert_int_equal(alias(g, "ns", "a", "ns", "b", NULL), 1);
    uint32_t live = find(g, "ns", "a");
    size_t n;
    graph_in_edges(g, edge33, &n);
    assert_int_equal(n, 32);
    assert_non_null(graph_find_edge(g, live, edge33, GRAPH_EDGE_IO));
    edge(g, ds(g, "other", "e33_x"), edge33, GRAPH_EDGE_IO, 5); /* and indexed again at 33 */
    graph_out_edges(g, live, &n);
    assert_int_equal(n, 101);
    for (int i = 0; i < 100; i++) {
        const struct graph_edge *x = graph_find_edge(g, live, jobs[i], GRAPH_EDGE_IO);
        assert_non_null(x);
        assert_int_equal(x->first_seen, i < 20 ? 1u : i < 60 ? 1u : 2u);
        assert_int_equal(x->last_seen, i < 20 ? 1u : 2u);
    }
    assert_int_equal(graph_edge_count(g), 101 + 15 * 40 + 32);
    graph_free(g);
}

static void test_group_shows_its_smallest_primary_name(void **state)
{
    (void)state;
    struct graph *g = graph_new();
    uint32_t live;

    ds(g, "ns", "m");
    assert_int_equal(alias(g, "ns", "m", "ns", "x", &live), 0); /* x: an alias entry of m */
    assert_string_equal(graph_node_name(g, live), "m");
    assert_int_equal(alias(g, "ns", "x", "ns", "y", &live), 0); /* x declares, but "x" > "m" */
    assert_string_equal(graph_node_name(g, live), "m");
    assert_int_equal(alias(g, "ns", "c", "ns", "x", &live), 1); /* c declares x: c joins, "c" < "m" */
    assert_string_equal(graph_node_name(g, live), "c");
    assert_int_equal(find(g, "ns", "m"), live);
    assert_int_equal(find(g, "ns", "y"), live);
    ds(g, "ns", "a"); /* a plain dataset named by a symlink never names the group */
    assert_int_equal(alias(g, "ns", "y", "ns", "a", &live), 1);
    assert_string_equal(graph_node_name(g, live), "c");
    assert_int_equal(find(g, "ns", "a"), live);
    graph_free(g);
}

/* ---- randomized: any order gives the model's answer ---- */

enum { R_NAMES = 24, R_JOBS = 6, R_LINKS = 14, R_EDGES = 60, R_ORDERS = 6 };

struct fact {
    int kind; /* 0: symlink owner -> alias, 1: edge name -> job (IO) */
    int a, b;
    uint32_t t;
};

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

static void rname(int i, char *out)
{
    snprintf(out, 16, "n%02d", i);
}

static int uf_find(int *p, int x)
{
    while (p[x] != x)
        x = p[x] = p[p[x]];
    return x;
}

/* The model: each group's name is its smallest primary name, else its only name. */
static char *model_dump(const struct fact *f, size_t n)
{
    int parent[R_NAMES], best[R_NAMES];
    bool primary[R_NAMES] = {false};
    struct graph *g = graph_new();

    for (int i = 0; i < R_NAMES; i++)
        parent[i] = i;
    for (size_t i = 0; i < n; i++) {
        if (f[i].kind == 0 && f[i].a != f[i].b) {
            primary[f[i].a] = true;
            parent[uf_find(parent, f[i].a)] = uf_find(parent, f[i].b);
        }
    }
    for (int i = 0; i < R_NAMES; i++)
        best[i] = -1;
    for (int i = 0; i < R_NAMES; i++) { /* names in order: the first primary of a group is its smallest */
        int r = uf_find(parent, i);
        if (primary[i] && best[r] < 0)
            best[r] = i;
    }
    for (size_t i = 0; i < n; i++) {
        if (f[i].kind != 1)
            continue;
        int r = uf_find(parent, f[i].a);
        char name[16], jn[16];
        rname(best[r] >= 0 ? best[r] : f[i].a, name);
        snprintf(jn, sizeof jn, "j%d", f[i].b);
        edge(g, ds(g, "ns", name), job(g, jn), GRAPH_EDGE_IO, f[i].t);
    }
    char *out = dump_graph(g);
    graph_free(g);
    return out;
}

static char *apply_dump(const struct fact *f, size_t n)
{
    struct graph *g = graph_new();

    for (size_t i = 0; i < n; i++) {
        char a[16], b[16];
        rname(f[i].a, a);
        if (f[i].kind == 0) {
            rname(f[i].b, b);
            alias(g, "ns", a, "ns", b, NULL);
        } else {
            snprintf(b, sizeof b, "j%d", f[i].b);
            edge(g, ds(g, "ns", a), job(g, b), GRAPH_EDGE_IO, f[i].t);
        }
    }
    char *out = dump_graph(g);
    graph_free(g);
    return out;
}

static void test_random_symlinks_in_any_order_match_the_model(void **state)
{
    (void)state;
    struct fact f[R_LINKS + R_EDGES];
    size_t n = 0;

    rng_state = 42;
    for (int round = 0; round < 8; round++) {
        n = 0;
        for (int i = 0; i < R_LINKS; i++)
            f[n++] = (struct fact){0, (int)rnd(R_NAMES), (int)rnd(R_NAMES), 0};
        for (int i = 0; i < R_EDGES; i++)
            f[n++] = (struct fact){1, (int)rnd(R_NAMES), (int)rnd(R_JOBS), 1 + rnd(50)};
        char *want = model_dump(f, n);
        for (int order = 0; order < R_ORDERS; order++) {
            for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
                size_t j = rnd((uint32_t)i + 1);
                struct fact t = f[i];
                f[i] = f[j];
                f[j] = t;
            }
            char *got = apply_dump(f, n);
            assert_string_equal(got, want);
            free(got);
        }
        free(want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alias_to_a_new_name_resolves_to_the_owner),
        cmocka_unit_test(test_alias_interns_an_unknown_owner),
        cmocka_unit_test(test_alias_rejects_missing_names),
        cmocka_unit_test(test_symlink_joins_nodes_whatever_the_order),
        cmocka_unit_test(test_merged_node_forwards_edges_and_lookups),
        cmocka_unit_test(test_merge_moves_fields_and_their_column_edges),
        cmocka_unit_test(test_merging_hubs_shrinks_and_reindexes_lists),
        cmocka_unit_test(test_group_shows_its_smallest_primary_name),
        cmocka_unit_test(test_random_symlinks_in_any_order_match_the_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
