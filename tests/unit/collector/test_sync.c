/* tests/unit/collector/test_sync.c - graph sync (collector/sync.c): committed events and loaded rows
 * become the nodes and edges sync.c's header promises, the same either way, idempotently.
 *
 * Events are decoded from JSON with the real decoder; the start-up load reads rows from a fake
 * store_graph_load (-Wl,--wrap=store_graph_load, see tests/unit/meson.build) that feeds the sink the
 * rows a database holding the same events would give, in the store's order.
 * Invariants: tests use the public headers only; every graph is checked with graph_check.
 * Ownership: one arena per test for decoding; graphs are freed by the test that made them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "decode.h"
#include "err.h"
#include "graph.h"
#include "json.h"
#include "store_graph.h"
#include "sync.h"

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

static struct ol_event decode(struct arena *a, const char *json)
{
    struct decode_violations v = {0};
    struct ol_event ev;
    struct err e;
    struct json_value *root = json_parse(a, json, strlen(json), 64, &e);

    if (root == NULL)
        fail_msg("fixture JSON: %s", e.msg);
    if (decode_event(a, root, NULL, NULL, &ev, &v) != 0)
        fail_msg("fixture rejected: %s", v.n ? v.msgs[0] : "?");
    return ev;
}

/* 2024-05-01T10:00:00Z in seconds. */
enum { T0 = 1714557600 };

static const char RUN_EVENT[] =
    "{\"eventType\":\"COMPLETE\",\"eventTime\":\"2024-05-01T10:00:00Z\",\"producer\":\"p\","
    "\"run\":{\"runId\":\"3f5e83fa-3480-44ff-99c5-ff943904e5e8\",\"facets\":{\"parent\":{"
    "\"run\":{\"runId\":\"11111111-2222-3333-4444-555555555555\"},\"job\":{\"namespace\":\"ns\",\"name\":\"dag\"}}}},"
    "\"job\":{\"namespace\":\"ns\",\"name\":\"task\"},"
    "\"inputs\":[{\"namespace\":\"db\",\"name\":\"orders\"}],"
    "\"outputs\":[{\"namespace\":\"db\",\"name\":\"daily\",\"facets\":{\"columnLineage\":{\"fields\":{"
    "\"total\":{\"inputFields\":[{\"namespace\":\"db\",\"name\":\"orders\",\"field\":\"amount\"}]}}},"
    "\"symlinks\":{\"identifiers\":[{\"namespace\":\"warehouse\",\"name\":\"analytics.daily\",\"type\":\"TABLE\"}]}}}]}";

static uint32_t node(const struct graph *g, enum graph_node_type t, const char *ns, const char *name)
{
    uint32_t id;

    if (!graph_find(g, t, ns, name, &id))
        fail_msg("no node %s:%s", ns, name);
    return id;
}

static uint32_t field(const struct graph *g, uint32_t ds, const char *f)
{
    uint32_t id;

    if (!graph_find_field(g, ds, f, &id))
        fail_msg("no field %s", f);
    return id;
}

static void assert_edge(const struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind)
{
    const struct graph_edge *edge = graph_find_edge(g, from, to, kind);

    if (edge == NULL)
        fail_msg("missing edge %u -> %u kind %d", from, to, (int)kind);
}

/* Every edge of RUN_EVENT, as sync.c's header lists them. */
static void assert_run_event_edges(const struct graph *g, bool with_times)
{
    uint32_t in = node(g, GRAPH_DATASET, "db", "orders"), out = node(g, GRAPH_DATASET, "db", "daily");
    uint32_t job = node(g, GRAPH_JOB, "ns", "dag.task"), parent = node(g, GRAPH_JOB, "ns", "dag");
    uint32_t run = node(g, GRAPH_RUN, "", "3f5e83fa-3480-44ff-99c5-ff943904e5e8");
    uint32_t prun = node(g, GRAPH_RUN, "", "11111111-2222-3333-4444-555555555555");

    assert_edge(g, in, job, GRAPH_EDGE_IO);
    assert_edge(g, job, out, GRAPH_EDGE_IO);
    assert_edge(g, in, run, GRAPH_EDGE_RUN_IO);
    assert_edge(g, run, out, GRAPH_EDGE_RUN_IO);
    assert_edge(g, run, job, GRAPH_EDGE_RUN_OF);
    assert_edge(g, job, parent, GRAPH_EDGE_PARENT);
    assert_edge(g, run, prun, GRAPH_EDGE_PARENT);
    assert_edge(g, field(g, in, "amount"), field(g, out, "total"), GRAPH_EDGE_COLUMN);
    /* the symlink is another name of the output */
    assert_int_equal(node(g, GRAPH_DATASET, "warehouse", "analytics.daily"), out);
    if (with_times) {
        const struct graph_edge *io = graph_find_edge(g, job, out, GRAPH_EDGE_IO);
        assert_int_equal(io->first_seen, T0);
        assert_int_equal(io->last_seen, T0);
        assert_int_equal(io->run, run);
    }
}

static void check(const struct graph *g)
{
    struct err e;

    if (graph_check(g, &e) != 0)
        fail_msg("graph_check: %s", e.msg);
}

static void test_event_makes_every_edge(void **state)
{
    struct graph *g = graph_new();
    struct ol_event ev = decode(*state, RUN_EVENT);
    struct err e;

    assert_int_equal(sync_event(g, &ev, &e), 0);
    assert_run_event_edges(g, true);
    check(g);
    graph_free(g);
}

static void test_applying_an_event_twice_changes_nothing(void **state)
{
    struct graph *g = graph_new();
    struct ol_event ev = decode(*state, RUN_EVENT);
    struct err e;

    assert_int_equal(sync_event(g, &ev, &e), 0);
    size_t nodes = graph_node_count(g), edges = graph_edge_count(g);
    assert_int_equal(sync_event(g, &ev, &e), 0);
    assert_int_equal(graph_node_count(g), nodes);
    assert_int_equal(graph_edge_count(g), edges);
    check(g);
    graph_free(g);
}

static void test_event_touches_the_jobs_and_datasets_it_names(void **state)
{
    struct graph *g = graph_new();
    struct ol_event ev = decode(*state, RUN_EVENT);
    struct err e;

    assert_int_equal(sync_event(g, &ev, &e), 0);
    uint32_t job = node(g, GRAPH_JOB, "ns", "dag.task"), out = node(g, GRAPH_DATASET, "db", "daily");
    uint32_t parent = node(g, GRAPH_JOB, "ns", "dag"), in = node(g, GRAPH_DATASET, "db", "orders");
    uint32_t before[4] = {graph_node_stamp(g, job), graph_node_stamp(g, out), graph_node_stamp(g, parent),
                          graph_node_stamp(g, in)};
    assert_int_equal(sync_event(g, &ev, &e), 0);
    assert_true(graph_node_stamp(g, job) != before[0]);
    assert_true(graph_node_stamp(g, out) != before[1]);
    assert_true(graph_node_stamp(g, parent) != before[2]);
    assert_true(graph_node_stamp(g, in) != before[3]);
    graph_free(g);
}

static void test_later_event_widens_last_seen(void **state)
{
    struct arena *a = *state;
    struct graph *g = graph_new();
    struct ol_event first = decode(a, RUN_EVENT);
    char *later_json = arena_strdup(a, RUN_EVENT);
    struct err e;

    memcpy(strstr(later_json, "10:00:00Z"), "11:00:00Z", 9);
    struct ol_event later = decode(a, later_json);
    assert_int_equal(sync_event(g, &later, &e), 0);
    assert_int_equal(sync_event(g, &first, &e), 0); /* out of order */
    const struct graph_edge *io =
        graph_find_edge(g, node(g, GRAPH_JOB, "ns", "dag.task"), node(g, GRAPH_DATASET, "db", "daily"), GRAPH_EDGE_IO);
    assert_int_equal(io->first_seen, T0);
    assert_int_equal(io->last_seen, T0 + 3600);
    graph_free(g);
}

static void test_dataset_event_makes_a_node_and_no_edges(void **state)
{
    struct graph *g = graph_new();
    struct ol_event ev = decode(*state, "{\"eventTime\":\"2024-05-01T10:00:00Z\",\"producer\":\"p\","
                                        "\"schemaURL\":\"https://openlineage.io/spec/2-0-2/OpenLineage.json\","
                                        "\"dataset\":{\"namespace\":\"db\",\"name\":\"lonely\"}}");
    struct err e;

    assert_int_equal(sync_event(g, &ev, &e), 0);
    assert_int_equal(graph_type(g, node(g, GRAPH_DATASET, "db", "lonely")), GRAPH_DATASET);
    assert_int_equal(graph_edge_count(g), 0);
    graph_free(g);
}

/* ---- the start-up load, from the rows a database holding RUN_EVENT gives ---- */

int __wrap_store_graph_load(struct store *s, const struct store_graph_sink *sink, uint64_t *xmin_out, struct err *e);

/* Dataset ids: orders 1, daily 2; job ids: the child (3) before its parent (7), as ids may come. */
int __wrap_store_graph_load(struct store *s, const struct store_graph_sink *k, uint64_t *xmin_out, struct err *e)
{
    const char *run = "3f5e83fa-3480-44ff-99c5-ff943904e5e8", *prun = "11111111-2222-3333-4444-555555555555";
    void *c = k->ctx;

    const struct store_graph_dataset orders = {.id = 1, .ns = "db", .name = "orders"};
    const struct store_graph_dataset daily = {.id = 2, .ns = "db", .name = "daily"};
    const struct store_graph_job task = {.id = 3, .parent_id = 7, .ns = "ns", .name = "dag.task"};
    const struct store_graph_job dag = {.id = 7, .ns = "ns", .name = "dag"};
    const struct store_graph_column column = {.out_dataset = 2, .out_field = "total", .in_dataset = 1,
                                              .in_field = "amount", .run_uuid = run, .first_seen = T0,
                                              .last_seen = T0};

    (void)s;
    *xmin_out = 42;
    if (k->dataset(c, &orders, e) != 0 || k->dataset(c, &daily, e) != 0 ||
        k->symlink(c, "db", "daily", "warehouse", "analytics.daily", e) != 0 || k->job(c, &task, e) != 0 ||
        k->job(c, &dag, e) != 0 || k->run(c, prun, 7, NULL, T0, e) != 0 ||
        k->run(c, run, 3, prun, T0, e) != 0 || k->job_io(c, 3, 1, 'I', T0, T0, run, e) != 0 ||
        k->job_io(c, 3, 2, 'O', T0, T0, run, e) != 0 || k->run_io(c, run, 1, 'I', T0, T0, e) != 0 ||
        k->run_io(c, run, 2, 'O', T0, T0, e) != 0 || k->columns(c, &column, 1, e) != 0)
        return -1;
    return 0;
}

static void test_load_gives_the_graph_events_give(void **state)
{
    struct graph *loaded = graph_new(), *synced = graph_new();
    struct ol_event ev = decode(*state, RUN_EVENT);
    uint64_t xmin = 0;
    struct err e;

    assert_int_equal(sync_load(loaded, NULL, NULL, &xmin, &e), 0);
    assert_int_equal(xmin, 42);
    assert_run_event_edges(loaded, true);
    check(loaded);
    assert_int_equal(sync_event(synced, &ev, &e), 0);
    /* the parent run's own RUN_OF edge comes from its row; everything else is the same */
    assert_int_equal(graph_edge_count(loaded), graph_edge_count(synced) + 1);
    /* and the event applied on top of the load (the follower's overlap) adds nothing */
    size_t edges = graph_edge_count(loaded);
    assert_int_equal(sync_event(loaded, &ev, &e), 0);
    assert_int_equal(graph_edge_count(loaded), edges);
    graph_free(loaded);
    graph_free(synced);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_event_makes_every_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_applying_an_event_twice_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_touches_the_jobs_and_datasets_it_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_later_event_widens_last_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_event_makes_a_node_and_no_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_gives_the_graph_events_give, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
