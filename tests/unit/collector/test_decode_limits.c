/* tests/unit/collector/test_decode_limits.c - the length limits on names and keys that
 * collector/decode.c and decode_dataset.c hold events to (--max-name-bytes, --max-key-bytes).
 *
 * Invariants:
 *  1. Each row is an event with one placeholder, filled once with a value one byte over its limit
 *     (a violation whose exact text is written out) and once with a value exactly at the limit
 *     (accepted), so every limit is shown to bite at the right place and not before.
 *  2. Limits here are small (32 and 24 bytes: 24 still fits every facet name the model reads, such
 *     as lifecycleStateChange) so the events stay readable; the flags' defaults are
 *     tested through the server in tests/integration/test_bad_input.py.
 * Ownership: each test owns one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "decode.h"
#include "err.h"
#include "event.h"
#include "json.h"

enum { MAX_DEPTH = 64, NAME_LIMIT = 32, KEY_LIMIT = 24 };

static const struct decode_limits LIMITS = {NAME_LIMIT, KEY_LIMIT};

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

/* Decodes json under lim; returns decode_event's result with the violations in *viol. */
static int decode_with(struct arena *a, const char *json, const struct decode_limits *lim,
                       struct decode_violations *viol)
{
    struct err e;
    struct ol_event ev;

    err_clear(&e);
    memset(viol, 0, sizeof *viol);
    const struct json_value *v = json_parse(a, json, strlen(json), MAX_DEPTH, &e);
    if (v == NULL)
        fail_msg("does not parse: %s (%s)", e.msg, json);
    return decode_event(a, v, NULL, lim, &ev, viol);
}

static char *repeat(struct arena *a, char c, size_t n)
{
    char *s = arena_alloc(a, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

#define RUN_HEAD "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\""
#define JOB "\"job\":{\"namespace\":\"ns\",\"name\":\"j\"}"
#define OUT_HEAD RUN_HEAD "}," JOB ",\"outputs\":[{\"namespace\":\"ns\",\"name\":\"o\",\"facets\":{"

struct limit_row {
    const char *event; /* one %s: where the name or key goes */
    bool key;          /* held to KEY_LIMIT, else NAME_LIMIT */
    const char *path;  /* what the violation names */
    bool object_key;   /* the value is an object key: the path goes on with it, "run.facets.<key>" */
};

static const struct limit_row ROWS[] = {
    {RUN_HEAD "},\"job\":{\"namespace\":\"%s\",\"name\":\"j\"}}", false, "job.namespace", false},
    {RUN_HEAD "},\"job\":{\"namespace\":\"ns\",\"name\":\"%s\"}}", false, "job.name", false},
    {RUN_HEAD "}," JOB ",\"inputs\":[{\"namespace\":\"%s\",\"name\":\"i\"}]}", false, "inputs[0].namespace",
     false},
    {RUN_HEAD "}," JOB ",\"inputs\":[{\"namespace\":\"ns\",\"name\":\"%s\"}]}", false, "inputs[0].name",
     false},
    {RUN_HEAD "}," JOB ",\"outputs\":[{\"namespace\":\"ns\",\"name\":\"%s\"}]}", false, "outputs[0].name",
     false},
    {"{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"schemaURL\":\"s\",\"dataset\":{"
     "\"namespace\":\"ns\","
     "\"name\":\"%s\"}}",
     false, "dataset.name", false},
    {RUN_HEAD ",\"facets\":{\"parent\":{\"run\":{\"runId\":\"r0\"},\"job\":{\"namespace\":\"%s\",\"name\":"
              "\"p\"}}}}," JOB "}",
     false, "run.facets.parent.job.namespace", false},
    {OUT_HEAD "\"symlinks\":{\"identifiers\":[{\"namespace\":\"ns\",\"name\":\"%s\",\"type\":\"T\"}]}}}]}",
     false, "outputs[0].facets.symlinks.identifiers[0].name", false},
    {OUT_HEAD "\"dataSource\":{\"name\":\"%s\",\"uri\":\"u\"}}}]}", false,
     "outputs[0].facets.dataSource.name", false},
    {OUT_HEAD "\"columnLineage\":{\"fields\":{\"c\":{\"inputFields\":[{\"namespace\":\"%s\",\"name\":\"i\","
              "\"field\":\"f\"}]}}}}}]}",
     false, "outputs[0].facets.columnLineage.fields.c.inputFields[0].namespace", false},
    {RUN_HEAD ",\"facets\":{\"%s\":{}}}," JOB "}", true, "run.facets", true},
    {RUN_HEAD "},\"job\":{\"namespace\":\"ns\",\"name\":\"j\",\"facets\":{\"%s\":{}}}}", true, "job.facets",
     true},
    {OUT_HEAD "\"%s\":{}}}]}", true, "outputs[0].facets", true},
    {RUN_HEAD "}," JOB ",\"inputs\":[{\"namespace\":\"ns\",\"name\":\"i\",\"inputFacets\":{\"%s\":{}}}]}",
     true, "inputs[0].inputFacets", true},
    {RUN_HEAD "}," JOB ",\"outputs\":[{\"namespace\":\"ns\",\"name\":\"o\",\"outputFacets\":{\"%s\":{}}}]}",
     true, "outputs[0].outputFacets", true},
    {OUT_HEAD "\"schema\":{\"fields\":[{\"name\":\"%s\",\"type\":\"int\"}]}}}]}", true,
     "outputs[0].facets.schema.fields[0].name", false},
    {OUT_HEAD "\"columnLineage\":{\"fields\":{\"%s\":{\"inputFields\":[]}}}}}]}", true,
     "outputs[0].facets.columnLineage.fields", true},
    {OUT_HEAD "\"columnLineage\":{\"fields\":{\"c\":{\"inputFields\":[{\"namespace\":\"ns\",\"name\":\"i\","
              "\"field\":\"%s\"}]}}}}}]}",
     true, "outputs[0].facets.columnLineage.fields.c.inputFields[0].field", false},
};

static void test_each_name_and_key_is_held_to_its_limit(void **state)
{
    struct arena *a = *state;
    struct decode_violations viol;

    for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++) {
        size_t limit = ROWS[i].key ? KEY_LIMIT : NAME_LIMIT;
        char c = ROWS[i].key ? 'k' : 'n';
        const char *at_limit = repeat(a, c, limit), *over = repeat(a, c, limit + 1);
        if (decode_with(a, arena_printf(a, ROWS[i].event, at_limit), &LIMITS, &viol) != 0)
            fail_msg("row %zu: %zu bytes rejected: %s", i, limit, viol.n ? viol.msgs[0] : "");
        assert_int_equal(decode_with(a, arena_printf(a, ROWS[i].event, over), &LIMITS, &viol), -1);
        const char *path = ROWS[i].object_key ? arena_printf(a, "%s.%s", ROWS[i].path, over) : ROWS[i].path;
        const char *want =
            arena_printf(a, "%s is %zu bytes long; the limit is %zu bytes (%s)", path, limit + 1, limit,
                         ROWS[i].key ? "--max-key-bytes" : "--max-name-bytes");
        if (viol.n != 1 || strcmp(viol.msgs[0], want) != 0)
            fail_msg("row %zu: %zu violations, first \"%s\", want \"%s\"", i, viol.n,
                     viol.n ? viol.msgs[0] : "", want);
    }
}

/* n copies of s, in the arena. */
static const char *times(struct arena *a, const char *s, size_t n)
{
    const char *out = "";
    for (size_t i = 0; i < n; i++)
        out = arena_printf(a, "%s%s", out, s);
    return out;
}

static void test_limits_count_utf8_bytes_not_characters(void **state)
{
    struct arena *a = *state;
    struct decode_violations viol;
    const char *tmpl = RUN_HEAD "},\"job\":{\"namespace\":\"ns\",\"name\":\"%s\"}}";

    /* Sixteen two-byte characters: 32 bytes, at the limit. Seventeen: 34 bytes. */
    assert_int_equal(decode_with(a, arena_printf(a, tmpl, times(a, "\xc3\xa9", 16)), &LIMITS, &viol), 0);
    assert_int_equal(decode_with(a, arena_printf(a, tmpl, times(a, "\xc3\xa9", 17)), &LIMITS, &viol), -1);
    assert_string_equal(viol.msgs[0], "job.name is 34 bytes long; the limit is 32 bytes (--max-name-bytes)");
}

static void test_child_job_name_counts_with_its_parent(void **state)
{
    struct arena *a = *state;
    struct decode_violations viol;
    const char *tmpl =
        RUN_HEAD ",\"facets\":{\"parent\":{\"run\":{\"runId\":\"r0\"},\"job\":{\"namespace\":\"ns\","
                 "\"name\":\"%s\"}}}},\"job\":{\"namespace\":\"ns\",\"name\":\"%s\"}}";
    const char *parent = repeat(a, 'p', 16);

    /* "<16 p>.<15 c>" is 32 bytes; one more child byte makes 33. */
    assert_int_equal(decode_with(a, arena_printf(a, tmpl, parent, repeat(a, 'c', 15)), &LIMITS, &viol), 0);
    assert_int_equal(decode_with(a, arena_printf(a, tmpl, parent, repeat(a, 'c', 16)), &LIMITS, &viol), -1);
    assert_int_equal(viol.n, 1);
    assert_string_equal(viol.msgs[0],
                        "job.name with its parent job's name makes a job name of 33 bytes; the limit is "
                        "32 bytes (--max-name-bytes)");
    /* A child name that already starts with "<parent>." is the full name as sent. */
    const char *full = arena_printf(a, "%s.%s", parent, repeat(a, 'c', 15));
    assert_int_equal(decode_with(a, arena_printf(a, tmpl, parent, full), &LIMITS, &viol), 0);
}

static void test_long_keys_are_shortened_in_messages(void **state)
{
    struct arena *a = *state;
    struct decode_violations viol;
    const char *key = repeat(a, 'k', 5000);

    assert_int_equal(
        decode_with(a, arena_printf(a, RUN_HEAD ",\"facets\":{\"%s\":{}}}," JOB "}", key), &LIMITS, &viol),
        -1);
    assert_string_equal(viol.msgs[0],
                        "run.facets.kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk... is 5000 bytes long; the "
                        "limit is 24 bytes (--max-key-bytes)");
}

static void test_no_limits_when_none_are_given(void **state)
{
    struct arena *a = *state;
    struct decode_violations viol;
    const char *big = repeat(a, 'x', 5000);
    const char *json =
        arena_printf(a, RUN_HEAD ",\"facets\":{\"%s\":{}}},\"job\":{\"namespace\":\"%s\",\"name\":\"%s\"}}",
                     big, big, big);

    assert_int_equal(decode_with(a, json, NULL, &viol), 0);
    const struct decode_limits zero = {0, 0};
    assert_int_equal(decode_with(a, json, &zero, &viol), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_name_and_key_is_held_to_its_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_count_utf8_bytes_not_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_job_name_counts_with_its_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_keys_are_shortened_in_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_limits_when_none_are_given, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
