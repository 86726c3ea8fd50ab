/* tests/unit/graph/test_traverse.c - breadth-first walks (graph/traverse.c) on hand-made graphs.
 *
 * Invariants:
 *  1. Expected results are written out node by node (name, depth, via), in BFS order.
 *  2. The randomized test checks every walk against a plain reference BFS over an adjacency matrix.
 *  3. graph_check() runs after every mutation; tests use only the public headers.
 * Ownership: each test owns one graph and one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "graph.h"

struct fixture {
    struct graph *g;
    struct arena *a;
};

static int setup(void **state)
{
    static struct fixture f;

    f.g = graph_new();
    f.a = arena_new();
    *state = &f;
    return f.g == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    graph_free(f->g);
    arena_free(f->a);
    return 0;
}

static void check_ok(const struct graph *g)
{
    struct err e;

    if (graph_check(g, &e) != 0)
        fail_msg("graph_check: %s", e.msg);
}

/* Node by name: a name starting with 'j' is a job, anything else a dataset. */
static uint32_t n(struct graph *g, const char *name)
{
    struct err e;
    uint32_t id = graph_intern(g, name[0] == 'j' ? GRAPH_JOB : GRAPH_DATASET, "ns", name, &e);

    assert_int_not_equal(id, GRAPH_NO_NODE);
    check_ok(g);
    return id;
}

static void add(struct graph *g, const char *from, const char *to, enum graph_edge_kind kind, uint32_t first)
{
    struct err e;

    if (graph_add_edge(g, n(g, from), n(g, to), kind, first, first, GRAPH_NO_NODE, &e) != 0)
        fail_msg("graph_add_edge: %s", e.msg);
    check_ok(g);
}

static void io(struct graph *g, const char *from, const char *to)
{
    add(g, from, to, GRAPH_EDGE_IO, 1);
}

static struct graph_query query(struct graph *g, const char *start, enum graph_direction dir, int depth)
{
    return (struct graph_query){.start = n(g, start), .direction = dir, .edge_kinds = 1u << GRAPH_EDGE_IO,
                                .node_types = 0xf, .max_depth = depth, .max_nodes = 0, .as_of = 0};
}

static struct graph_result walk(struct fixture *f, const struct graph_query *q)
{
    struct graph_result r;
    struct err e;

    if (graph_walk(f->g, f->a, q, &r, &e) != 0)
        fail_msg("graph_walk: %s", e.msg);
    return r;
}

/* Appends how a hit's node is named: "dataset.field" for fields, else the name. */
static void hit_name(const struct graph *g, uint32_t id, char *buf, size_t cap)
{
    size_t len = strlen(buf);

    if (id == GRAPH_NO_NODE)
        snprintf(buf + len, cap - len, "-");
    else if (graph_type(g, id) == GRAPH_FIELD)
        snprintf(buf + len, cap - len, "%s.%s", graph_node_name(g, id), graph_node_field(g, id));
    else
        snprintf(buf + len, cap - len, "%s", graph_node_name(g, id));
}

/* want: "name depth via" per hit, joined by ", "; via is "-" for the start. */
static void expect(const struct graph *g, const struct graph_result *r, const char *want)
{
    char got[1024] = "";

    for (size_t i = 0; i < r->n; i++) {
        const struct graph_hit *h = &r->hits[i];
        if (i > 0)
            strcat(got, ", ");
        hit_name(g, h->node, got, sizeof got);
        snprintf(got + strlen(got), sizeof got - strlen(got), " %u ", (unsigned)h->depth);
        hit_name(g, h->via, got, sizeof got);
    }
    assert_string_equal(got, want);
}

static void build_pipeline(struct graph *g)
{
    io(g, "a", "j1");
    io(g, "j1", "b");
    io(g, "b", "j2");
    io(g, "j2", "c");
    io(g, "a", "j3");
    io(g, "j3", "d");
}

static void test_downstream_follows_out_edges_in_bfs_order(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;

    build_pipeline(f->g);
    q = query(f->g, "a", GRAPH_DOWNSTREAM, 10);
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, j1 1 a, j3 1 a, b 2 j1, d 2 j3, j2 3 b, c 4 j2");
    assert_false(r.truncated);
}

static void test_upstream_follows_in_edges(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;

    build_pipeline(f->g);
    q = query(f->g, "c", GRAPH_UPSTREAM, 10);
    r = walk(f, &q);
    expect(f->g, &r, "c 0 -, j2 1 c, b 2 j2, j1 3 b, a 4 j1");
    q = query(f->g, "c", GRAPH_DOWNSTREAM, 10);
    r = walk(f, &q);
    expect(f->g, &r, "c 0 -");
}

static void test_both_reaches_siblings_in_edges_first(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;

    build_pipeline(f->g);
    q = query(f->g, "b", GRAPH_BOTH, 10);
    r = walk(f, &q);
    expect(f->g, &r, "b 0 -, j1 1 b, j2 1 b, a 2 j1, c 2 j2, j3 3 a, d 4 j3");
}

static void test_cycle_visits_each_node_once(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;

    io(f->g, "a", "j1");
    io(f->g, "j1", "b");
    io(f->g, "b", "j2");
    io(f->g, "j2", "a");
    q = query(f->g, "a", GRAPH_DOWNSTREAM, 100);
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, j1 1 a, b 2 j1, j2 3 b");
    q = query(f->g, "a", GRAPH_BOTH, 100);
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, j2 1 a, j1 1 a, b 2 j2");
}

static void test_self_loop_does_not_repeat_the_start(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;

    io(f->g, "j1", "j1");
    io(f->g, "j1", "x");
    q = query(f->g, "j1", GRAPH_BOTH, 5);
    r = walk(f, &q);
    expect(f->g, &r, "j1 0 -, x 1 j1");
}

static void test_diamond_reports_shortest_depth_and_first_via(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;

    io(f->g, "a", "j1");
    io(f->g, "a", "j2");
    io(f->g, "j1", "d");
    io(f->g, "j2", "d");
    io(f->g, "d", "j3");
    io(f->g, "a", "jlong");
    io(f->g, "jlong", "e");
    io(f->g, "e", "j4");
    io(f->g, "j4", "d"); /* a longer way to d */
    q = query(f->g, "a", GRAPH_DOWNSTREAM, 10);
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, j1 1 a, j2 1 a, jlong 1 a, d 2 j1, e 2 jlong, j3 3 d, j4 3 e");
}

static void build_chain(struct graph *g, int len)
{
    char a[16], b[16];

    for (int i = 0; i < len; i++) {
        snprintf(a, sizeof a, "%c%d", i % 2 ? 'j' : 'd', i);
        snprintf(b, sizeof b, "%c%d", (i + 1) % 2 ? 'j' : 'd', i + 1);
        io(g, a, b);
    }
}

static void test_max_depth_stops_the_walk(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;

    build_chain(f->g, 30);
    q = query(f->g, "d0", GRAPH_DOWNSTREAM, 0);
    r = walk(f, &q);
    expect(f->g, &r, "d0 0 -");
    q.max_depth = 1;
    r = walk(f, &q);
    expect(f->g, &r, "d0 0 -, j1 1 d0");
    q.max_depth = 20;
    r = walk(f, &q);
    assert_int_equal(r.n, 21);
    assert_int_equal(r.hits[20].depth, 20);
    assert_false(r.truncated); /* depth is not max_nodes */
    q = query(f->g, "d30", GRAPH_UPSTREAM, 1000);
    r = walk(f, &q);
    assert_int_equal(r.n, 31);
}

static void test_max_nodes_truncates_and_zero_means_no_limit(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;
    char name[16];

    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "j%d", i);
        io(f->g, "hub", name);
    }
    q = query(f->g, "hub", GRAPH_DOWNSTREAM, 5);
    q.max_nodes = 5;
    r = walk(f, &q);
    expect(f->g, &r, "hub 0 -, j0 1 hub, j1 1 hub, j2 1 hub, j3 1 hub");
    assert_true(r.truncated);
    q.max_nodes = 11; /* exactly the whole answer */
    r = walk(f, &q);
    assert_int_equal(r.n, 11);
    assert_false(r.truncated);
    q.max_nodes = 1;
    r = walk(f, &q);
    expect(f->g, &r, "hub 0 -");
    assert_true(r.truncated);
    q.max_nodes = 0;
    r = walk(f, &q);
    assert_int_equal(r.n, 11);
    assert_false(r.truncated);
}

static void test_as_of_hides_edges_first_seen_later(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;
    struct err e;

    add(f->g, "a", "j1", GRAPH_EDGE_IO, 100);
    add(f->g, "j1", "b", GRAPH_EDGE_IO, 200);
    add(f->g, "j1", "c", GRAPH_EDGE_IO, 300);
    q = query(f->g, "a", GRAPH_DOWNSTREAM, 10);
    q.as_of = 99;
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -");
    q.as_of = 200;
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, j1 1 a, b 2 j1");
    q.as_of = 0; /* cumulative: every edge ever seen */
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, j1 1 a, b 2 j1, c 2 j1");
    /* seen earlier after all: the widened edge shows up in the past */
    assert_int_equal(graph_add_edge(f->g, n(f->g, "j1"), n(f->g, "c"), GRAPH_EDGE_IO, 150, 150, GRAPH_NO_NODE, &e), 0);
    check_ok(f->g);
    q.as_of = 160;
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, j1 1 a, c 2 j1");
}

static void test_edge_kind_mask_selects_edges(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;

    io(f->g, "jchild", "out");
    add(f->g, "jchild", "jparent", GRAPH_EDGE_PARENT, 1);
    q = query(f->g, "jchild", GRAPH_DOWNSTREAM, 5);
    r = walk(f, &q);
    expect(f->g, &r, "jchild 0 -, out 1 jchild");
    q.edge_kinds = 1u << GRAPH_EDGE_PARENT;
    r = walk(f, &q);
    expect(f->g, &r, "jchild 0 -, jparent 1 jchild");
    q.edge_kinds = (1u << GRAPH_EDGE_PARENT) | (1u << GRAPH_EDGE_IO);
    r = walk(f, &q);
    expect(f->g, &r, "jchild 0 -, out 1 jchild, jparent 1 jchild");
    q.edge_kinds = 0;
    r = walk(f, &q);
    expect(f->g, &r, "jchild 0 -");
}

static void test_node_type_mask_reports_some_types_but_walks_through_all(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;

    io(f->g, "a", "j1");
    io(f->g, "j1", "b");
    io(f->g, "b", "j2");
    io(f->g, "j2", "c");
    io(f->g, "a", "j3"); /* a job with no output: walked, never reported */
    q = query(f->g, "a", GRAPH_DOWNSTREAM, 10);
    q.node_types = 1u << GRAPH_DATASET;
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, b 2 a, c 4 b"); /* via: nearest reported ancestor */
    assert_false(r.truncated);
    q.max_nodes = 2;
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, b 2 a");
    assert_true(r.truncated);
    q.max_nodes = 0;
    q.node_types = 1u << GRAPH_JOB; /* the start is reported whatever its type */
    r = walk(f, &q);
    expect(f->g, &r, "a 0 -, j1 1 a, j3 1 a, j2 3 j1");
}

static void test_bad_queries_fail_with_err(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;
    struct err e;

    io(f->g, "a", "j1");
    q = query(f->g, "a", GRAPH_DOWNSTREAM, 3);
    q.start = 99;
    assert_int_equal(graph_walk(f->g, f->a, &q, &r, &e), -1);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    q = query(f->g, "a", (enum graph_direction)0, 3);
    assert_int_equal(graph_walk(f->g, f->a, &q, &r, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    q = query(f->g, "a", (enum graph_direction)4, 3);
    assert_int_equal(graph_walk(f->g, f->a, &q, &r, &e), -1);
    q = query(f->g, "a", GRAPH_DOWNSTREAM, -1);
    assert_int_equal(graph_walk(f->g, f->a, &q, &r, &e), -1);
    assert_string_equal(e.where, "depth");
}

static void test_symlink_alias_joins_lineage_into_one_node(void **state)
{
    struct fixture *f = *state;
    struct graph_query q;
    struct graph_result r;
    struct err e;
    uint32_t d = n(f->g, "warehouse.orders");

    assert_int_equal(graph_alias(f->g, graph_node_namespace(f->g, d), "warehouse.orders", "s3://lake", "orders/",
                                 NULL, &e), 0);
    check_ok(f->g);
    /* the writer names the data by its path, the reader by its table */
    assert_int_equal(graph_intern(f->g, GRAPH_DATASET, "s3://lake", "orders/", &e), d);
    assert_int_equal(graph_add_edge(f->g, n(f->g, "jwriter"), d, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE, &e), 0);
    check_ok(f->g);
    io(f->g, "warehouse.orders", "jreader");
    q = query(f->g, "jwriter", GRAPH_DOWNSTREAM, 5);
    r = walk(f, &q);
    expect(f->g, &r, "jwriter 0 -, warehouse.orders 1 jwriter, jreader 2 warehouse.orders");
}

static uint32_t field(struct graph *g, const char *ds, const char *name)
{
    struct err e;
    uint32_t id = graph_field(g, n(g, ds), name, &e);

    assert_int_not_equal(id, GRAPH_NO_NODE);
    check_ok(g);
    return id;
}

static void test_column_lineage_walks_field_edges(void **state)
{
    struct fixture *f = *state;
    struct graph *g = f->g;
    uint32_t x = field(g, "raw", "x"), y = field(g, "stage", "y"), z = field(g, "mart", "z");
    uint32_t w = field(g, "raw", "w");
    struct graph_query q;
    struct graph_result r;
    struct err e;

    assert_int_equal(graph_add_edge(g, x, y, GRAPH_EDGE_COLUMN, 1, 1, GRAPH_NO_NODE, &e), 0);
    assert_int_equal(graph_add_edge(g, w, y, GRAPH_EDGE_COLUMN, 1, 1, GRAPH_NO_NODE, &e), 0);
    assert_int_equal(graph_add_edge(g, y, z, GRAPH_EDGE_COLUMN, 1, 1, GRAPH_NO_NODE, &e), 0);
    check_ok(g);
    q = (struct graph_query){.start = z, .direction = GRAPH_UPSTREAM, .edge_kinds = 1u << GRAPH_EDGE_COLUMN,
                             .node_types = 1u << GRAPH_FIELD, .max_depth = 10};
    r = walk(f, &q);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.hits[1].node, y);
    assert_int_equal(r.hits[2].node, x);
    assert_int_equal(r.hits[3].node, w);
    assert_int_equal(r.hits[3].via, y);
    assert_string_equal(graph_node_field(g, r.hits[3].node), "w");
    /* FIELD_OF too: a field's out-edges list FIELD_OF first (it was made with the field) */
    q.edge_kinds |= 1u << GRAPH_EDGE_FIELD_OF;
    q.direction = GRAPH_DOWNSTREAM;
    q.start = x;
    q.node_types = 0xf;
    r = walk(f, &q);
    expect(g, &r, "raw.x 0 -, raw 1 raw.x, stage.y 1 raw.x, stage 2 stage.y, mart.z 2 stage.y, mart 3 mart.z");
}

/* Reference BFS over an adjacency matrix; dist[v] = -1 when unreached. */
enum { RN = 60 };

static void reference_bfs(const unsigned char adj[RN][RN], uint32_t start, int dir, int *dist)
{
    uint32_t queue[RN];
    size_t head = 0, tail = 0;

    for (int i = 0; i < RN; i++)
        dist[i] = -1;
    dist[start] = 0;
    queue[tail++] = start;
    while (head < tail) {
        uint32_t u = queue[head++];
        for (uint32_t v = 0; v < RN; v++) {
            bool up = (dir & GRAPH_UPSTREAM) && adj[v][u], down = (dir & GRAPH_DOWNSTREAM) && adj[u][v];
            if ((up || down) && dist[v] < 0) {
                dist[v] = dist[u] + 1;
                queue[tail++] = v;
            }
        }
    }
}

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

static void test_walks_match_a_reference_bfs_on_random_graphs(void **state)
{
    struct fixture *f = *state;
    struct graph *g = f->g;
    static unsigned char adj[RN][RN]; /* edges allowed by the query below: IO, first_seen <= 500 */
    uint64_t seed = 7;
    char name[16];
    struct err e;
    int dist[RN];

    memset(adj, 0, sizeof adj);
    for (int i = 0; i < RN; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(graph_intern(g, GRAPH_DATASET, "ns", name, &e), (uint32_t)i);
    }
    for (int i = 0; i < 240; i++) {
        uint32_t a = rnd(&seed) % RN, b = rnd(&seed) % RN, kind = rnd(&seed) % 2, t = rnd(&seed) % 1000;
        assert_int_equal(graph_add_edge(g, a, b, kind, t, t, GRAPH_NO_NODE, &e), 0);
        check_ok(g);
    }
    for (uint32_t a = 0; a < RN; a++) {
        size_t cnt;
        const struct graph_edge *l = graph_out_edges(g, a, &cnt);
        for (size_t i = 0; i < cnt; i++)
            adj[a][l[i].other] |= l[i].kind == GRAPH_EDGE_IO && l[i].first_seen <= 500;
    }
    for (uint32_t start = 0; start < RN; start++) {
        for (int dir = GRAPH_UPSTREAM; dir <= GRAPH_BOTH; dir++) {
            struct graph_query q = {.start = start, .direction = (enum graph_direction)dir,
                                    .edge_kinds = 1u << GRAPH_EDGE_IO, .node_types = 0xf, .max_depth = 3,
                                    .as_of = 500};
            struct graph_result r = walk(f, &q), r2 = walk(f, &q);
            size_t want = 0;
            reference_bfs((const unsigned char(*)[RN])adj, start, dir, dist);
            for (int v = 0; v < RN; v++)
                want += dist[v] >= 0 && dist[v] <= 3;
            assert_int_equal(r.n, want);
            assert_int_equal(r2.n, r.n);
            assert_memory_equal(r.hits, r2.hits, r.n * sizeof *r.hits); /* deterministic */
            for (size_t i = 0; i < r.n; i++) {
                const struct graph_hit *h = &r.hits[i];
                assert_int_equal((int)h->depth, dist[h->node]);
                if (i > 0) {
                    bool up = (dir & GRAPH_UPSTREAM) && adj[h->node][h->via];
                    bool down = (dir & GRAPH_DOWNSTREAM) && adj[h->via][h->node];
                    assert_true(r.hits[i - 1].depth <= h->depth);
                    assert_int_equal(dist[h->via], (int)h->depth - 1);
                    assert_true(up || down);
                }
            }
            arena_reset(f->a);
        }
    }
}

/* Capped walks keep their visited set in a small table that grows, and turns into the bitmap of every
 * node once larger than it; whichever it is, a capped walk reports the first nodes of the uncapped
 * walk, in the same order. */
static void test_capped_walks_are_prefixes_of_uncapped_walks(void **state)
{
    enum { DATASETS = 5000, JOBS = 50, EDGES = 15000 };
    struct fixture *f = *state;
    struct graph *g = f->g;
    uint64_t seed = 11;
    char name[16];
    struct err e;

    for (int i = 0; i < DATASETS + JOBS; i++) {
        snprintf(name, sizeof name, "n%d", i);
        assert_int_not_equal(graph_intern(g, i < DATASETS ? GRAPH_DATASET : GRAPH_JOB, "ns", name, &e),
                             GRAPH_NO_NODE);
    }
    for (int i = 0; i < EDGES; i++) {
        uint32_t a = rnd(&seed) % (DATASETS + JOBS), b = rnd(&seed) % (DATASETS + JOBS);
        assert_int_equal(graph_add_edge(g, a, b, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE, &e), 0);
    }
    for (uint32_t start = 0; start < DATASETS; start += 97) {
        for (unsigned types = 0xf; types != 0; types = types == 0xf ? 1u << GRAPH_JOB : 0) {
            size_t cap = types == 0xf ? 7 : 3; /* jobs only: thousands of datasets walked, not reported */
            struct graph_query q = {.start = start, .direction = GRAPH_BOTH, .edge_kinds = 1u << GRAPH_EDGE_IO,
                                    .node_types = types, .max_depth = 100};
            struct graph_result all = walk(f, &q);
            q.max_nodes = cap;
            struct graph_result some = walk(f, &q);
            assert_int_equal(some.n, all.n < cap ? all.n : cap);
            assert_int_equal(some.truncated, all.n > cap);
            for (size_t i = 0; i < some.n; i++) {
                assert_int_equal(some.hits[i].node, all.hits[i].node);
                assert_int_equal(some.hits[i].depth, all.hits[i].depth);
            }
            arena_reset(f->a);
        }
    }
}

/* A chain of 20,000 nodes: a 1 us budget stops the walk at the first clock check (every 4096
 * expansions) with truncated set; no budget walks it all. */
static void test_time_budget_truncates_long_walks(void **state)
{
    struct fixture *f = *state;
    enum { CHAIN = 20000 };
    char name[32];
    uint32_t prev = GRAPH_NO_NODE;
    struct err e;

    for (int i = 0; i < CHAIN; i++) {
        snprintf(name, sizeof name, "%c%d", i % 2 ? 'j' : 'd', i);
        uint32_t id = graph_intern(f->g, i % 2 ? GRAPH_JOB : GRAPH_DATASET, "ns", name, &e);
        assert_int_not_equal(id, GRAPH_NO_NODE);
        if (prev != GRAPH_NO_NODE && graph_add_edge(f->g, prev, id, GRAPH_EDGE_IO, 1, 1, GRAPH_NO_NODE, &e) != 0)
            fail_msg("graph_add_edge: %s", e.msg);
        prev = id;
    }
    struct graph_query q = query(f->g, "d0", GRAPH_DOWNSTREAM, CHAIN);
    struct graph_result all = walk(f, &q);
    assert_int_equal(all.n, CHAIN);
    assert_false(all.truncated);
    q.max_usec = 1;
    struct graph_result cut = walk(f, &q);
    assert_true(cut.truncated);
    assert_true(cut.n >= 4096 && cut.n < CHAIN);
    for (size_t i = 0; i < cut.n; i++)
        assert_int_equal(cut.hits[i].node, all.hits[i].node); /* a prefix of the same BFS */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_downstream_follows_out_edges_in_bfs_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_follows_in_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_both_reaches_siblings_in_edges_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycle_visits_each_node_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_loop_does_not_repeat_the_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diamond_reports_shortest_depth_and_first_via, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_depth_stops_the_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_nodes_truncates_and_zero_means_no_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_of_hides_edges_first_seen_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_kind_mask_selects_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_type_mask_reports_some_types_but_walks_through_all, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_queries_fail_with_err, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_alias_joins_lineage_into_one_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_column_lineage_walks_field_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walks_match_a_reference_bfs_on_random_graphs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capped_walks_are_prefixes_of_uncapped_walks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_budget_truncates_long_walks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
