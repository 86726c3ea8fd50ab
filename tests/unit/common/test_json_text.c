/* tests/unit/common/test_json_text.c - JSON text from pieces and minifying (common/json_text.c).
 *
 * Invariants:
 *  1. Expected texts are written out by hand; escaped output is also parsed back with json_parse
 *     (a second, independent reader) to check it is JSON with the original string.
 *  2. Tests use only the public headers.
 * Ownership: each test owns one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "json.h"
#include "json_text.h"

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

static void test_pieces_concatenate(void **state)
{
    struct json_text t;

    json_text_init(&t, *state, 0);
    json_text_lit(&t, "{\"a\":");
    json_text_str(&t, "x");
    json_text_lit(&t, ",\"b\":");
    json_text_raw(&t, "[1,2]xyz", 5);
    json_text_lit(&t, ",\"c\":");
    json_text_str(&t, NULL);
    json_text_lit(&t, "}");
    assert_string_equal(t.p, "{\"a\":\"x\",\"b\":[1,2],\"c\":null}");
    assert_int_equal(t.len, strlen(t.p));
}

static void test_grows_past_the_hint(void **state)
{
    struct json_text t;
    char piece[100];

    memset(piece, 'a', sizeof piece);
    json_text_init(&t, *state, 1);
    for (int i = 0; i < 1000; i++)
        json_text_raw(&t, piece, sizeof piece);
    assert_int_equal(t.len, 100000);
    assert_int_equal(t.p[t.len], '\0');
    for (size_t i = 0; i < t.len; i++)
        if (t.p[i] != 'a')
            fail_msg("byte %zu changed", i);
}

static void test_escapes(void **state)
{
    struct json_text t;
    const char *s = "q\"b\\n\nr\rt\tb\bf\fc\x01\x1f/é€";
    struct err e;

    json_text_init(&t, *state, 4);
    json_text_str(&t, s);
    assert_string_equal(t.p, "\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\fc\\u0001\\u001f/é€\"");
    struct json_value *v = json_parse(*state, t.p, t.len, 4, &e);
    assert_non_null(v);
    assert_string_equal(json_as_string(v), s);
}

static void test_minify_keeps_strings(void **state)
{
    (void)state;
    char s[] = "{\"a b\" : [1, \n 2],\t\"c\" : \"x \\\" y\\\\\", \"d\" : \" \\n \"}";
    size_t n = json_minify(s, strlen(s));
    assert_string_equal(s, "{\"a b\":[1,2],\"c\":\"x \\\" y\\\\\",\"d\":\" \\n \"}");
    assert_int_equal(n, strlen(s));
}

static void test_minify_of_compact_text_is_identity(void **state)
{
    (void)state;
    char s[] = "{\"a\":[true,false,null,-1.5e3,\"\"]}";
    char copy[sizeof s];
    memcpy(copy, s, sizeof s);
    assert_int_equal(json_minify(s, strlen(s)), strlen(copy));
    assert_string_equal(s, copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pieces_concatenate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grows_past_the_hint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minify_keeps_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minify_of_compact_text_is_identity, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
