/* tests/unit/collector/test_ingest.c - the ingest pipeline's group path (collector/ingest.c): every
 * request of a group gets its own answer, whatever the others send and whatever the store does.
 *
 * The store is replaced at link time (-Wl,--wrap=store_write_events, see tests/unit/meson.build): the
 * fake records each call and fails a whole call when it holds an event of job "poisoned", the way a
 * failing transaction does. EVP_Digest is wrapped too, so a test can make the event hash fail.
 * Invariants:
 *  1. Tests go through the public entry points only (ingest_post_lineage, ingest_post_batch).
 *  2. struct req and struct cfg are filled by hand; r->graph is NULL (no graph sync) and r->store is
 *     never dereferenced by the fake.
 * Ownership: one arena per test (setup/teardown); every request lives in it. Threads: single. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "arena.h"
#include "cfg.h"
#include "err.h"
#include "http.h"
#include "ingest.h"
#include "json.h"
#include "store.h"

enum { MAX_CALLS = 32 };

/* What the fake store saw and does. */
static struct {
    size_t calls;
    size_t sizes[MAX_CALLS]; /* events per call */
    size_t written;          /* events committed over all calls */
    bool fail_hash;
} fake;

int __wrap_store_write_events(struct store *s, struct arena *a, const struct ol_event *events, size_t n,
                              enum store_outcome *outcomes, struct err *e);
int __wrap_EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size, const EVP_MD *type,
                      ENGINE *impl);
int __real_EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size, const EVP_MD *type,
                      ENGINE *impl);

int __wrap_store_write_events(struct store *s, struct arena *a, const struct ol_event *events, size_t n,
                              enum store_outcome *outcomes, struct err *e)
{
    (void)s;
    (void)a;
    if (fake.calls < MAX_CALLS)
        fake.sizes[fake.calls] = n;
    fake.calls++;
    for (size_t i = 0; i < n; i++)
        if (events[i].job_name != NULL && strcmp(events[i].job_name, "poisoned") == 0)
            return err_set_detail(e, ERR_INTERNAL, "fake store", "database error during event_insert");
    for (size_t i = 0; i < n; i++)
        outcomes[i] = STORE_WRITTEN;
    fake.written += n;
    return 0;
}

int __wrap_EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size, const EVP_MD *type,
                      ENGINE *impl)
{
    if (fake.fail_hash)
        return 0;
    return __real_EVP_Digest(data, count, md, size, type, impl);
}

struct call {
    struct req req;
    struct reply reply;
    struct err err;
};

static struct cfg config;

static int setup(void **state)
{
    memset(&fake, 0, sizeof fake);
    *state = arena_new();
    return 0;
}

static int teardown(void **state)
{
    arena_free(*state);
    return 0;
}

static int group_setup(void **state)
{
    bool help;
    struct err e;

    (void)state;
    return cfg_parse(&config, CFG_SERVE, 0, NULL, &help, &e);
}

static int group_teardown(void **state)
{
    (void)state;
    cfg_free(&config);
    return 0;
}

static const char *event_json(struct arena *a, const char *job)
{
    return arena_printf(a,
                        "{\"eventType\":\"COMPLETE\",\"eventTime\":\"2024-05-01T10:00:00Z\",\"producer\":\"p\","
                        "\"run\":{\"runId\":\"%s-run\"},\"job\":{\"namespace\":\"ns\",\"name\":\"%s\"},"
                        "\"inputs\":[{\"namespace\":\"ns\",\"name\":\"in\"}],"
                        "\"outputs\":[{\"namespace\":\"ns\",\"name\":\"out_%s\"}]}",
                        job, job, job);
}

static void set_request(struct arena *a, struct call *c, const char *body)
{
    memset(c, 0, sizeof *c);
    c->req.arena = a;
    c->req.method = HTTP_POST;
    c->req.path = "/api/v1/lineage";
    c->req.content_type = "application/json";
    c->req.body = body;
    c->req.body_len = strlen(body);
    c->req.cfg = &config;
    snprintf(c->req.request_id, sizeof c->req.request_id, "%p", (void *)c);
}

/* Runs ingest_post_lineage over the bodies as one group; calls[] get the outcomes. */
static void run_group(struct arena *a, struct call *calls, struct route_call *rc, const char *const *bodies, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        set_request(a, &calls[i], bodies[i]);
        rc[i] = (struct route_call){&calls[i].req, &calls[i].reply, &calls[i].err, 99};
    }
    ingest_post_lineage(rc, n);
}

static void test_group_of_valid_requests_is_one_write(void **state)
{
    struct arena *a = *state;
    const char *bodies[] = {event_json(a, "a"), event_json(a, "b"), event_json(a, "c")};
    struct call calls[3];
    struct route_call rc[3];

    run_group(a, calls, rc, bodies, 3);
    assert_int_equal(fake.calls, 1);
    assert_int_equal(fake.sizes[0], 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(rc[i].rc, 0);
        assert_int_equal(calls[i].reply.status, 201);
        assert_null(calls[i].reply.body);
    }
}

/* The case: request 0 is malformed, the shared write fails because of another request. Each
 * request must keep its own answer: 400 for the malformed one (not the store's error), 422 for the
 * invalid one, 500 for the one the store refuses, 201 for the rest, written one by one. */
static void test_failed_group_write_keeps_every_answer_its_own(void **state)
{
    struct arena *a = *state;
    const char *bodies[] = {"{\"eventTime\": ", event_json(a, "good1"), "{\"producer\":\"p\",\"run\":{},\"job\":{}}",
                            event_json(a, "poisoned"), event_json(a, "good2")};
    struct call calls[5];
    struct route_call rc[5];

    run_group(a, calls, rc, bodies, 5);
    assert_int_equal(rc[0].rc, -1);
    assert_int_equal(calls[0].err.kind, ERR_BAD_INPUT);
    assert_non_null(strstr(calls[0].err.msg, "malformed JSON"));

    assert_int_equal(rc[1].rc, 0);
    assert_int_equal(calls[1].reply.status, 201);

    assert_int_equal(rc[2].rc, 0);
    assert_int_equal(calls[2].reply.status, 422);
    assert_non_null(strstr(calls[2].reply.body, "eventTime"));

    assert_int_equal(rc[3].rc, -1);
    assert_int_equal(calls[3].err.kind, ERR_INTERNAL);

    assert_int_equal(rc[4].rc, 0);
    assert_int_equal(calls[4].reply.status, 201);

    /* one shared write of the three ready requests, then each of them alone */
    assert_int_equal(fake.calls, 4);
    assert_int_equal(fake.sizes[0], 3);
    assert_int_equal(fake.sizes[1], 1);
    assert_int_equal(fake.sizes[2], 1);
    assert_int_equal(fake.sizes[3], 1);
    assert_int_equal(fake.written, 2);
}

static void test_single_request_failure_is_its_error(void **state)
{
    struct arena *a = *state;
    const char *bodies[] = {event_json(a, "poisoned")};
    struct call calls[1];
    struct route_call rc[1];

    run_group(a, calls, rc, bodies, 1);
    assert_int_equal(rc[0].rc, -1);
    assert_int_equal(calls[0].err.kind, ERR_INTERNAL);
    assert_int_equal(fake.calls, 1); /* not written twice */
}

static void test_array_request_is_all_or_nothing_in_a_group(void **state)
{
    struct arena *a = *state;
    const char *arr = arena_printf(a, "[%s,%s]", event_json(a, "x1"), event_json(a, "poisoned"));
    const char *bodies[] = {event_json(a, "y"), arr};
    struct call calls[2];
    struct route_call rc[2];

    run_group(a, calls, rc, bodies, 2);
    assert_int_equal(calls[0].reply.status, 201);
    assert_int_equal(rc[1].rc, -1);
    assert_int_equal(calls[1].err.kind, ERR_INTERNAL);
}

static void test_hash_failure_fails_the_request_and_writes_nothing(void **state)
{
    struct arena *a = *state;
    const char *bodies[] = {event_json(a, "h")};
    struct call calls[1];
    struct route_call rc[1];

    fake.fail_hash = true;
    run_group(a, calls, rc, bodies, 1);
    assert_int_equal(rc[0].rc, -1);
    assert_int_equal(calls[0].err.kind, ERR_INTERNAL);
    assert_non_null(strstr(calls[0].err.msg, "SHA-256"));
    assert_int_equal(fake.calls, 0);
}

static void test_batch_route_hash_failure_fails_the_request(void **state)
{
    struct arena *a = *state;
    struct call c;

    set_request(a, &c, arena_printf(a, "[%s]", event_json(a, "b1")));
    fake.fail_hash = true;
    assert_int_equal(ingest_post_batch(&c.req, &c.reply, &c.err), -1);
    assert_int_equal(c.err.kind, ERR_INTERNAL);
    assert_int_equal(fake.calls, 0);
}

static void test_batch_route_stores_valid_events_around_a_failing_one(void **state)
{
    struct arena *a = *state;
    struct call c;

    set_request(a, &c,
                arena_printf(a, "[%s,%s,%s]", event_json(a, "b1"), event_json(a, "poisoned"), event_json(a, "b2")));
    assert_int_equal(ingest_post_batch(&c.req, &c.reply, &c.err), 0);
    assert_int_equal(c.reply.status, 200);
    assert_non_null(strstr(c.reply.body, "\"successful\":2"));
    assert_non_null(strstr(c.reply.body, "\"index\":1"));
    assert_int_equal(fake.written, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group_of_valid_requests_is_one_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_group_write_keeps_every_answer_its_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_request_failure_is_its_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_array_request_is_all_or_nothing_in_a_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_failure_fails_the_request_and_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_route_hash_failure_fails_the_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_route_stores_valid_events_around_a_failing_one, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
