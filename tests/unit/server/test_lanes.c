/* tests/unit/server/test_lanes.c - the read and write lanes of the request queue (server/lanes.c).
 *
 * Invariants:
 *  1. Routes come from the real table (routes_match), so the lane a route takes is the one it takes in
 *     the server.
 *  2. Every test pops everything it pushed, so admitted counts return to zero (checked).
 * Ownership: lanes and queued entries live on the test's stack. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "http.h"
#include "lanes.h"

/* The route the server picks for (m, raw path). */
static const struct route *route_of(enum http_method m, const char *path)
{
    struct arena *a = arena_new();
    const char **segs = NULL;
    size_t n = 0;
    bool known;
    struct err e;

    assert_int_equal(http_split_path(a, path, &segs, &n, &e), 0);
    const struct route *r = routes_match(m, segs, n, &known);
    arena_free(a);
    assert_non_null(r);
    return r;
}

static struct queued make(const struct route *r)
{
    struct queued q;

    memset(&q, 0, sizeof q);
    q.route = r;
    lanes_classify(r, &q.lane, &q.urgent);
    return q;
}

static void test_routes_take_their_lanes(void **state)
{
    struct queued health = make(route_of(HTTP_GET, "/healthcheck"));
    struct queued read = make(route_of(HTTP_GET, "/api/v1/namespaces"));
    struct queued write = make(route_of(HTTP_POST, "/api/v1/lineage"));
    (void)state;

    assert_int_equal(health.lane, LANE_READ);
    assert_true(health.urgent);
    assert_int_equal(read.lane, LANE_READ);
    assert_false(read.urgent);
    assert_int_equal(write.lane, LANE_WRITE);
    assert_false(write.urgent);
}

static void test_full_lane_refuses_but_not_health_or_the_other_lane(void **state)
{
    struct lanes l = {.max = 2};
    (void)state;

    assert_true(lanes_admit(&l, LANE_WRITE, false));
    assert_true(lanes_admit(&l, LANE_WRITE, false));
    assert_false(lanes_admit(&l, LANE_WRITE, false));
    assert_true(lanes_admit(&l, LANE_READ, false));
    assert_true(lanes_admit(&l, LANE_READ, false));
    assert_false(lanes_admit(&l, LANE_READ, false));
    assert_true(lanes_admit(&l, LANE_READ, true)); /* health */
    lanes_release(&l, LANE_WRITE);
    assert_true(lanes_admit(&l, LANE_WRITE, false));
}

static void test_reads_before_writes_and_health_first(void **state)
{
    struct lanes l = {.max = 10};
    struct queued w1 = make(route_of(HTTP_POST, "/api/v1/lineage"));
    struct queued w2 = make(route_of(HTTP_POST, "/api/v1/lineage"));
    struct queued r1 = make(route_of(HTTP_GET, "/api/v1/namespaces"));
    struct queued h = make(route_of(HTTP_GET, "/healthcheck"));
    struct queued *got[LANES_MAX_GROUP];
    (void)state;

    struct queued *order[] = {&w1, &w2, &r1, &h};
    for (size_t i = 0; i < 4; i++) {
        assert_true(lanes_admit(&l, order[i]->lane, order[i]->urgent));
        lanes_push(&l, order[i]);
    }
    /* The reads-only worker never gets a write. */
    assert_int_equal(lanes_pop(&l, true, got), 1);
    assert_ptr_equal(got[0], &h);
    assert_int_equal(lanes_pop(&l, false, got), 1);
    assert_ptr_equal(got[0], &r1);
    assert_false(lanes_ready(&l, true));
    assert_int_equal(lanes_pop(&l, true, got), 0);
    assert_true(lanes_ready(&l, false));
    /* The two queued POST /api/v1/lineage go together (group commit). */
    assert_int_equal(lanes_pop(&l, false, got), 2);
    assert_ptr_equal(got[0], &w1);
    assert_ptr_equal(got[1], &w2);
    assert_int_equal(l.admitted[LANE_READ] + l.admitted[LANE_WRITE], 0);
}

static void test_groups_stop_at_another_route_and_at_the_cap(void **state)
{
    struct lanes l = {.max = 1000};
    struct queued q[LANES_MAX_GROUP + 3];
    struct queued *got[LANES_MAX_GROUP];
    const struct route *lineage = route_of(HTTP_POST, "/api/v1/lineage");
    (void)state;

    for (size_t i = 0; i < LANES_MAX_GROUP + 3; i++) {
        q[i] = make(i == 1 ? route_of(HTTP_DELETE, "/api/v1/namespaces/ns") : lineage);
        assert_true(lanes_admit(&l, q[i].lane, false));
        lanes_push(&l, &q[i]);
    }
    assert_int_equal(lanes_pop(&l, false, got), 1); /* the run of lineage POSTs ends at the DELETE */
    assert_int_equal(lanes_pop(&l, false, got), 1);
    assert_int_equal(lanes_pop(&l, false, got), LANES_MAX_GROUP);
    assert_int_equal(lanes_pop(&l, false, got), 1);
    assert_int_equal(lanes_pop(&l, false, got), 0);
    assert_int_equal(l.admitted[LANE_WRITE], 0);
}

static void test_health_requests_keep_their_order_ahead_of_reads(void **state)
{
    struct lanes l = {.max = 10};
    struct queued r1 = make(route_of(HTTP_GET, "/api/v1/namespaces"));
    struct queued h1 = make(route_of(HTTP_GET, "/healthcheck"));
    struct queued h2 = make(route_of(HTTP_GET, "/healthcheck"));
    struct queued r2 = make(route_of(HTTP_GET, "/api/v1/namespaces"));
    struct queued h3 = make(route_of(HTTP_GET, "/healthcheck"));
    struct queued *order[] = {&r1, &h1, &h2, &r2, &h3}, *want[] = {&h1, &h2, &h3, &r1, &r2}, *got[LANES_MAX_GROUP];
    (void)state;

    for (size_t i = 0; i < 5; i++) {
        assert_true(lanes_admit(&l, order[i]->lane, order[i]->urgent));
        lanes_push(&l, order[i]);
    }
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(lanes_pop(&l, false, got), 1);
        assert_ptr_equal(got[0], want[i]);
        if (i == 2) { /* a health check arriving now still goes ahead of the waiting reads */
            struct queued h4 = make(route_of(HTTP_GET, "/healthcheck"));
            assert_true(lanes_admit(&l, LANE_READ, true));
            lanes_push(&l, &h4);
            assert_int_equal(lanes_pop(&l, false, got), 1);
            assert_ptr_equal(got[0], &h4);
        }
    }
    assert_false(lanes_ready(&l, false));
    assert_null(l.tail[LANE_READ]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_take_their_lanes),
        cmocka_unit_test(test_full_lane_refuses_but_not_health_or_the_other_lane),
        cmocka_unit_test(test_reads_before_writes_and_health_first),
        cmocka_unit_test(test_groups_stop_at_another_route_and_at_the_cap),
        cmocka_unit_test(test_health_requests_keep_their_order_ahead_of_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
