/* tests/unit/common/test_json_parse.c - the text checks json_parse makes at the door
 * (common/json_parse.c): strict UTF-8, no \u0000, surrogate escapes only in pairs, and errors that
 * name the JSON path and byte offset.
 *
 * Invariants:
 *  1. Every row states the input bytes, the error kind, and the exact message or path expected.
 *  2. Every input here was accepted by yajl 2.1 on its own (the gaps this door closes), except the
 *     rows that show yajl's own refusals still come through as 400.
 * Ownership: each test owns one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "err.h"
#include "json.h"

enum { DEPTH = 64 };

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

static struct err parse_fail(struct arena *a, const char *s, size_t len)
{
    struct err e;

    err_clear(&e);
    if (json_parse(a, s, len, DEPTH, &e) != NULL)
        fail_msg("accepted \"%s\"", s);
    return e;
}

struct bad_text {
    const char *json;
    enum err_kind kind;
    const char *where;
    const char *msg;
};

static void check_rows(struct arena *a, const struct bad_text *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct err e = parse_fail(a, rows[i].json, strlen(rows[i].json));
        if (e.kind != rows[i].kind || strcmp(e.where, rows[i].where) != 0 || strcmp(e.msg, rows[i].msg) != 0)
            fail_msg("row %zu %s: got kind %d where \"%s\" msg \"%s\"", i, rows[i].json, e.kind, e.where,
                     e.msg);
    }
}

static void test_refuses_utf8_that_yajl_lets_through(void **state)
{
    static const struct bad_text rows[] = {
        {"{\"job\": {\"name\": \"a\xc0\xaf\"}}", ERR_BAD_INPUT, "job.name",
         "invalid UTF-8 in the string at job.name (byte offset 19): an overlong encoding"},
        {"[\"\xc0\x80\"]", ERR_BAD_INPUT, "[0]",
         "invalid UTF-8 in the string at [0] (byte offset 2): an overlong encoding"},
        {"[1, \"\xe0\x80\xaf\"]", ERR_BAD_INPUT, "[1]",
         "invalid UTF-8 in the string at [1] (byte offset 5): an overlong encoding"},
        {"[\"\xed\xa0\x80\"]", ERR_BAD_INPUT, "[0]",
         "invalid UTF-8 in the string at [0] (byte offset 2): an encoded UTF-16 surrogate (U+D800..U+DFFF)"},
        {"[\"\xf4\x90\x80\x80\"]", ERR_BAD_INPUT, "[0]",
         "invalid UTF-8 in the string at [0] (byte offset 2): a code point above U+10FFFF"},
        {"{\"a\": {\"\xf5\x80\x80\x80\": 1}}", ERR_BAD_INPUT, "a",
         "invalid UTF-8 in an object key in a (byte offset 8): a code point above U+10FFFF"},
        {"{\"\xc1\xbf\": 1}", ERR_BAD_INPUT, "",
         "invalid UTF-8 in an object key at the top level (byte offset 2): an overlong encoding"},
        /* With escapes in the string, the offset is where the string starts. */
        {"[\"\\n\xed\xbf\xbf\"]", ERR_BAD_INPUT, "[0]",
         "invalid UTF-8 in the string at [0] (byte offset 2): an encoded UTF-16 surrogate (U+D800..U+DFFF)"},
    };

    check_rows(*state, rows, sizeof rows / sizeof rows[0]);
}

static void test_refuses_nul_escapes_with_422_and_path(void **state)
{
    static const struct bad_text rows[] = {
        {"{\"run\": {\"runId\": \"a\\u0000b\"}}", ERR_INVALID, "run.runId", "must not contain \\u0000 (NUL)"},
        {"[{\"x\": [\"ok\", \"\\u0000\"]}]", ERR_INVALID, "[0].x[1]", "must not contain \\u0000 (NUL)"},
        {"{\"f\": {\"k\\u0000\": 1}}", ERR_INVALID, "f",
         "has an object key containing \\u0000 (NUL), which cannot be stored"},
        {"{\"\\u0000\": 1}", ERR_INVALID, "", "an object key contains \\u0000 (NUL), which cannot be stored"},
        {"\"\\u0000\"", ERR_INVALID, "", "the string must not contain \\u0000 (NUL)"},
    };

    check_rows(*state, rows, sizeof rows / sizeof rows[0]);
}

static void test_refuses_lone_surrogate_escapes(void **state)
{
    static const char tail[] = " (byte offset 2): characters above U+FFFF are written as a surrogate pair";
    static const struct {
        const char *json, *unit;
    } rows[] = {
        {"[\"\\ud800\"]", "d800"},        {"[\"\\udc00\"]", "dc00"},        {"[\"\\uDBFF\"]", "dbff"},
        {"[\"\\udfff\"]", "dfff"},        {"[\"\\ud800\\u0041\"]", "d800"}, {"[\"\\ud800\\ud800\"]", "d800"},
        {"[\"\\udc00\\ud800\"]", "dc00"}, {"[\"\\ud800x\"]", "d800"},       {"[\"\\ud800\\n\"]", "d800"},
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct err e = parse_fail(*state, rows[i].json, strlen(rows[i].json));
        char want[256];
        snprintf(want, sizeof want, "lone UTF-16 surrogate \\u%s in the string at [0]%s", rows[i].unit, tail);
        assert_int_equal(e.kind, ERR_BAD_INPUT);
        assert_string_equal(e.where, "[0]");
        assert_string_equal(e.msg, want);
    }
    /* The offset is the escape's own, after other escapes. */
    struct err e = parse_fail(*state, "{\"k\": \"\\\\u0000 \\t \\udc00\"}", 26);
    assert_string_equal(e.msg,
                        "lone UTF-16 surrogate \\udc00 in the string at k (byte offset 18): characters "
                        "above U+FFFF are written as a surrogate pair");
}

static void test_accepts_pairs_escaped_backslashes_and_the_edges_of_unicode(void **state)
{
    struct err e;
    const char *ok =
        "{\"\\ud83d\\ude00\": [\"\\udbff\\udfff\", \"\xf4\x8f\xbf\xbf\", \"\\\\u0000\", \"\\\\ud800\", "
        "\"\xef\xbf\xbf\", \"\\u0001\"]}";
    struct json_value *v = json_parse(*state, ok, strlen(ok), DEPTH, &e);

    if (v == NULL)
        fail_msg("rejected: %s", e.msg);
    assert_string_equal(v->u.object.keys[0], "\xf0\x9f\x98\x80");
    const struct json_value *a = v->u.object.values[0];
    assert_string_equal(a->u.array.items[0]->u.str.text, "\xf4\x8f\xbf\xbf");
    assert_string_equal(a->u.array.items[2]->u.str.text, "\\u0000");
    assert_string_equal(a->u.array.items[3]->u.str.text, "\\ud800");
}

static void test_path_shortens_long_keys_and_keeps_the_end_of_long_paths(void **state)
{
    struct arena *a = *state;
    char *key = arena_alloc(a, 301);
    memset(key, 'k', 300);
    key[300] = '\0';
    const char *doc = arena_printf(a, "{\"%s\": {\"x\": \"\\u0000\"}}", key);
    struct err e = parse_fail(a, doc, strlen(doc));

    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.where, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk....x");
    /* Ten long keys in a row: the path keeps its end. */
    const char *deep = "";
    for (int i = 0; i < 10; i++)
        deep = arena_printf(a, "%s{\"%.60s%d\": ", deep, key, i);
    deep = arena_printf(a, "%s\"\\ud800\"}}}}}}}}}}", deep);
    e = parse_fail(a, deep, strlen(deep));
    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_true(strlen(e.where) < ERR_WHERE_MAX);
    assert_memory_equal(e.where, "...", 3);
    const char *end = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...";
    assert_string_equal(e.where + strlen(e.where) - strlen(end), end);
}

static void test_yajl_refusals_still_answer_malformed_json(void **state)
{
    static const char *const rows[] = {"[\"\x80\"]", "[\"\xff\"]", "[\"\xf8\x88\x80\x80\x80\"]",
                                       "[\"\xe2\x82\"]"};

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct err e = parse_fail(*state, rows[i], strlen(rows[i]));
        assert_int_equal(e.kind, ERR_BAD_INPUT);
        assert_non_null(strstr(e.msg, "invalid bytes in UTF8 string"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refuses_utf8_that_yajl_lets_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_nul_escapes_with_422_and_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_lone_surrogate_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepts_pairs_escaped_backslashes_and_the_edges_of_unicode,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_shortens_long_keys_and_keeps_the_end_of_long_paths, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_yajl_refusals_still_answer_malformed_json, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
