/* tests/unit/server/test_routes.c - the route table and its matcher (server/routes.c).
 *
 * Invariants:
 *  1. Paths go through http_split_path first, exactly as the server does, so trailing-slash and
 *     percent-encoding cases test what a client would send.
 *  2. Handlers are compared by address with the public functions of ingest.h and health.h.
 * Ownership: each test owns one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "health.h"
#include "http.h"
#include "ingest.h"
#include "routes.h"

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

/* Splits raw_path and matches it; *known receives path_known. */
static const struct route *match(struct arena *a, enum http_method m, const char *raw_path, bool *known)
{
    const char **segs = NULL;
    size_t n = 0;
    struct err e;

    err_clear(&e);
    if (http_split_path(a, raw_path, &segs, &n, &e) != 0)
        fail_msg("rejected path %s: %s", raw_path, e.msg);
    *known = !*known; /* must be overwritten either way */
    return routes_match(m, segs, n, known);
}

static void test_post_lineage_matches_ingest_handler(void **state)
{
    bool known = false;
    const struct route *r = match(*state, HTTP_POST, "/api/v1/lineage", &known);

    assert_non_null(r);
    assert_true(known);
    assert_ptr_equal(r->group, ingest_post_lineage); /* group commit: one entry point, taken together */
    assert_null(r->handler);
    assert_int_equal(r->method, HTTP_POST);
    assert_int_equal(r->scope, AUTH_WRITE);
    assert_string_equal(r->pattern, "/api/v1/lineage");
}

static void test_post_lineage_batch_matches_batch_handler(void **state)
{
    bool known = false;
    const struct route *r = match(*state, HTTP_POST, "/api/v1/lineage/batch", &known);

    assert_non_null(r);
    assert_ptr_equal(r->handler, ingest_post_batch);
    assert_int_equal(r->scope, AUTH_WRITE);
}

static void test_healthcheck_is_public_get(void **state)
{
    bool known = false;
    const struct route *r = match(*state, HTTP_GET, "/healthcheck", &known);

    assert_non_null(r);
    assert_ptr_equal(r->handler, health_get);
    assert_int_equal(r->scope, AUTH_PUBLIC);
}

static void test_other_method_on_lineage_is_known_path_without_route(void **state)
{
    /* GET /api/v1/lineage is the lineage graph (a route of its own); the others are not routes. */
    static const enum http_method others[] = {HTTP_PUT, HTTP_DELETE, HTTP_HEAD, HTTP_OTHER};

    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        bool known = false;
        assert_null(match(*state, others[i], "/api/v1/lineage", &known));
        assert_true(known);
    }
    bool known = false;
    assert_null(match(*state, HTTP_POST, "/healthcheck", &known));
    assert_true(known);
}

static void test_unknown_path_is_not_known(void **state)
{
    static const char *const paths[] = {"/",
                                        "/api",
                                        "/api/v1",
                                        "/api/v1/lineages",
                                        "/api/v1/lineage/batch/x",
                                        "/api/v2/lineage",
                                        "/API/v1/lineage",
                                        "/api/v1/lineage/x",
                                        "/nope"};

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        bool known = true;
        if (match(*state, HTTP_POST, paths[i], &known) != NULL)
            fail_msg("%s matched", paths[i]);
        if (known)
            fail_msg("%s is known", paths[i]);
    }
}

static void test_trailing_slash_matches_same_route(void **state)
{
    bool known = false;
    const struct route *r = match(*state, HTTP_POST, "/api/v1/lineage/", &known);

    assert_non_null(r);
    assert_ptr_equal(r->group, ingest_post_lineage);
    known = false;
    assert_null(match(*state, HTTP_PUT, "/api/v1/lineage/", &known));
    assert_true(known);
    known = false;
    r = match(*state, HTTP_GET, "/healthcheck/", &known);
    assert_non_null(r);
    assert_ptr_equal(r->handler, health_get);
}

static void test_doubled_inner_slash_does_not_match(void **state)
{
    bool known = true;

    assert_null(match(*state, HTTP_POST, "/api//v1/lineage", &known));
    assert_false(known);
}

static void test_encoded_slash_is_not_a_separator(void **state)
{
    bool known = true;

    /* "/api%2Fv1/lineage" is two segments, "api/v1" and "lineage": not the lineage route. */
    assert_null(match(*state, HTTP_POST, "/api%2Fv1/lineage", &known));
    assert_false(known);
    known = false;
    /* Percent-encoded ordinary letters decode before matching. */
    assert_non_null(match(*state, HTTP_POST, "/api/v1/%6Cineage", &known));
}

static void test_scopes_reads_read_ingest_write_edits_admin(void **state)
{
    static const struct {
        enum http_method method;
        const char *path;
        enum auth_scope scope;
    } cases[] = {
        {HTTP_GET, "/api/v1/namespaces", AUTH_READ},
        {HTTP_GET, "/api/v1/lineage", AUTH_READ},
        {HTTP_GET, "/api/v1/namespaces/ns/jobs/j", AUTH_READ},
        {HTTP_GET, "/api/v2beta/search/jobs", AUTH_READ},
        {HTTP_POST, "/api/v1/lineage", AUTH_WRITE},
        {HTTP_PUT, "/api/v1/namespaces/ns/jobs/j", AUTH_WRITE}, /* 410: deprecated, pointing to ingest */
        {HTTP_POST, "/api/v1/jobs/runs/r/start", AUTH_WRITE},
        {HTTP_PUT, "/api/v1/namespaces/ns", AUTH_ADMIN},
        {HTTP_DELETE, "/api/v1/namespaces/ns", AUTH_ADMIN},
        {HTTP_DELETE, "/api/v1/namespaces/ns/datasets/d", AUTH_ADMIN},
        {HTTP_DELETE, "/api/v1/namespaces/ns/jobs/j", AUTH_ADMIN},
        {HTTP_PUT, "/api/v1/tags/t", AUTH_ADMIN},
        {HTTP_POST, "/api/v1/namespaces/ns/datasets/d/fields/f/tags/t", AUTH_ADMIN},
        {HTTP_DELETE, "/api/v1/namespaces/ns/jobs/j/tags/t", AUTH_ADMIN},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool known = false;
        const struct route *r = match(*state, cases[i].method, cases[i].path, &known);
        if (r == NULL)
            fail_msg("%s did not match", cases[i].path);
        if (r->scope != cases[i].scope)
            fail_msg("%s has scope %s, expected %s", cases[i].path, auth_scope_name(r->scope),
                     auth_scope_name(cases[i].scope));
    }
}

static void test_match_on_raw_segments(void **state)
{
    const char *segs[] = {"api", "v1", "lineage"};
    bool known = false;

    (void)state;
    assert_non_null(routes_match(HTTP_POST, segs, 3, &known));
    assert_true(known);
    known = true;
    assert_null(routes_match(HTTP_POST, segs, 2, &known));
    assert_false(known);
    known = true;
    assert_null(routes_match(HTTP_GET, NULL, 0, &known));
    assert_false(known);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_post_lineage_matches_ingest_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_lineage_batch_matches_batch_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_healthcheck_is_public_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_method_on_lineage_is_known_path_without_route, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_path_is_not_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_slash_matches_same_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doubled_inner_slash_does_not_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encoded_slash_is_not_a_separator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scopes_reads_read_ingest_write_edits_admin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_on_raw_segments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
