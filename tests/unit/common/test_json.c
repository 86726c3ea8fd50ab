/* tests/unit/common/test_json.c - JSON parsing, lookups and canonical output (common/json.c,
 * common/json_parse.c; the checks of string contents are in test_json_parse.c).
 *
 * Invariants:
 *  1. Every rejection asserts the error kind and the text a client sees (offsets included).
 *  2. Expected canonical texts are written out by hand, not produced by the code under test.
 *  3. Tests use only the public header.
 * Ownership: each test owns one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
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

static struct json_value *parse_ok_len(struct arena *a, const char *s, size_t len)
{
    struct err e;

    err_clear(&e);
    struct json_value *v = json_parse(a, s, len, DEPTH, &e);
    if (v == NULL)
        fail_msg("rejected %s: %s", s, e.msg);
    return v;
}

static struct json_value *parse_ok(struct arena *a, const char *s)
{
    return parse_ok_len(a, s, strlen(s));
}

/* Parses s expecting failure; returns the error. */
static struct err parse_fail(struct arena *a, const char *s, int max_depth)
{
    struct err e;

    err_clear(&e);
    if (json_parse(a, s, strlen(s), max_depth, &e) != NULL)
        fail_msg("accepted %s", s);
    return e;
}

/* The byte offset named in a "malformed JSON at byte offset N of M" message; M goes to *total. */
static long offset_in(const struct err *e, long *total)
{
    long off = -1, of = -1;
    const char *p = strstr(e->msg, "byte offset ");

    if (p == NULL || sscanf(p, "byte offset %ld of %ld", &off, &of) != 2)
        fail_msg("no byte offset in \"%s\"", e->msg);
    if (total != NULL)
        *total = of;
    return off;
}

static const char *canonical(struct arena *a, const char *s)
{
    size_t len = 0;
    const char *out = json_canonical(a, parse_ok(a, s), &len);

    assert_int_equal(len, strlen(out));
    return out;
}

static void test_parse_object_keeps_members_in_input_order(void **state)
{
    struct json_value *v = parse_ok(*state, "{\"b\": 1, \"a\": \"x\", \"c\": null}");

    assert_int_equal(v->type, JSON_OBJECT);
    assert_int_equal(v->u.object.n, 3);
    assert_string_equal(v->u.object.keys[0], "b");
    assert_string_equal(v->u.object.keys[1], "a");
    assert_string_equal(v->u.object.keys[2], "c");
    assert_int_equal(v->u.object.key_lens[1], 1);
    assert_int_equal(v->u.object.values[0]->type, JSON_NUMBER);
    assert_int_equal(v->u.object.values[1]->type, JSON_STRING);
    assert_int_equal(v->u.object.values[2]->type, JSON_NULL);
}

static void test_parse_array_of_every_type(void **state)
{
    struct json_value *v = parse_ok(*state, "[null, true, false, 12, \"s\", [], {}]");

    assert_int_equal(v->type, JSON_ARRAY);
    assert_int_equal(v->u.array.n, 7);
    assert_int_equal(v->u.array.items[0]->type, JSON_NULL);
    assert_int_equal(v->u.array.items[1]->type, JSON_BOOL);
    assert_true(v->u.array.items[1]->u.boolean);
    assert_int_equal(v->u.array.items[2]->type, JSON_BOOL);
    assert_false(v->u.array.items[2]->u.boolean);
    assert_int_equal(v->u.array.items[3]->type, JSON_NUMBER);
    assert_string_equal(v->u.array.items[3]->u.str.text, "12");
    assert_int_equal(v->u.array.items[4]->type, JSON_STRING);
    assert_string_equal(v->u.array.items[4]->u.str.text, "s");
    assert_int_equal(v->u.array.items[5]->type, JSON_ARRAY);
    assert_int_equal(v->u.array.items[5]->u.array.n, 0);
    assert_int_equal(v->u.array.items[6]->type, JSON_OBJECT);
    assert_int_equal(v->u.array.items[6]->u.object.n, 0);
}

static void test_parse_scalar_documents(void **state)
{
    struct json_value *v;

    v = parse_ok(*state, "  42 ");
    assert_int_equal(v->type, JSON_NUMBER);
    assert_string_equal(v->u.str.text, "42");
    v = parse_ok(*state, "\"hello\"");
    assert_int_equal(v->type, JSON_STRING);
    assert_string_equal(v->u.str.text, "hello");
    assert_int_equal(v->u.str.len, 5);
    assert_int_equal(parse_ok(*state, "null")->type, JSON_NULL);
    v = parse_ok(*state, "true");
    assert_int_equal(v->type, JSON_BOOL);
    assert_true(json_is_true(v));
    assert_false(json_is_true(parse_ok(*state, "false")));
    assert_false(json_is_true(parse_ok(*state, "1")));
    assert_false(json_is_true(NULL));
}

static void test_parse_large_containers_grow(void **state)
{
    struct arena *a = *state;
    char *buf = arena_alloc(a, 10 * 1000 + 16);
    size_t n = 0;

    buf[n++] = '[';
    for (int i = 0; i < 1000; i++)
        n += (size_t)sprintf(buf + n, "%s%d", i ? "," : "", i);
    buf[n++] = ']';
    buf[n] = '\0';
    struct json_value *v = parse_ok(a, buf);
    assert_int_equal(v->u.array.n, 1000);
    assert_string_equal(v->u.array.items[0]->u.str.text, "0");
    assert_string_equal(v->u.array.items[999]->u.str.text, "999");
}

static void test_parse_numbers_kept_exactly_as_written(void **state)
{
    static const char *const nums[] = {
        "1.50", "1e400", "-0", "-0.0", "1E+2", "123456789012345678901234567890", "0.1000", "-1.5e-10"};
    char doc[64];

    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        snprintf(doc, sizeof doc, "[%s]", nums[i]);
        struct json_value *v = parse_ok(*state, doc);
        assert_int_equal(v->u.array.items[0]->type, JSON_NUMBER);
        assert_string_equal(v->u.array.items[0]->u.str.text, nums[i]);
        assert_int_equal(v->u.array.items[0]->u.str.len, strlen(nums[i]));
        assert_string_equal(canonical(*state, doc), doc);
    }
}

static void test_parse_malformed_reports_byte_offset(void **state)
{
    /* The stray ']' is byte 7 (0-based); yajl counts it as consumed, so 7 or 8 are both honest. */
    struct err e = parse_fail(*state, "{\"a\":1,]        ", DEPTH);
    long total = 0, off = offset_in(&e, &total);

    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_string_equal(e.where, "");
    assert_int_equal(total, 16);
    assert_true(off >= 7 && off <= 8);

    e = parse_fail(*state, "[1, 2, 3, tru, 5]", DEPTH);
    off = offset_in(&e, &total);
    assert_int_equal(total, 17);
    assert_true(off >= 10 && off <= 14);
}

static void test_parse_truncated_input_reports_offset_at_end(void **state)
{
    static const char *const truncated[] = {"{\"a\":", "[1,2", "{\"key\": [true, {\"x\": ", "\"abc"};

    for (size_t i = 0; i < sizeof truncated / sizeof truncated[0]; i++) {
        struct err e = parse_fail(*state, truncated[i], DEPTH);
        long total = 0, off = offset_in(&e, &total);
        assert_int_equal(e.kind, ERR_BAD_INPUT);
        assert_int_equal(total, (long)strlen(truncated[i]));
        if (off != total)
            fail_msg("truncated %s: offset %ld, want %ld (\"%s\")", truncated[i], off, total, e.msg);
    }
}

static void test_parse_rejects_trailing_garbage_and_second_document(void **state)
{
    struct err e = parse_fail(*state, "{\"a\":1} x", DEPTH);

    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_non_null(strstr(e.msg, "trailing garbage"));
    e = parse_fail(*state, "{\"a\":1}{\"b\":2}", DEPTH);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
    e = parse_fail(*state, "[1,2]]", DEPTH);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
}

static void test_parse_rejects_empty_and_blank_input(void **state)
{
    struct err e;

    err_clear(&e);
    assert_null(json_parse(*state, "", 0, DEPTH, &e));
    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_non_null(strstr(e.msg, "empty"));
    e = parse_fail(*state, "   \n ", DEPTH);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
}

static void test_parse_stops_at_len_not_nul(void **state)
{
    struct json_value *v = parse_ok_len(*state, "[1,2]garbage", 5);

    assert_int_equal(v->u.array.n, 2);
}

static void test_parse_rejects_nan_and_infinity(void **state)
{
    static const char *const bad[] = {"NaN", "[NaN]", "{\"x\": NaN}", "[Infinity]", "[-Infinity]", "[nan]"};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct err e = parse_fail(*state, bad[i], DEPTH);
        assert_int_equal(e.kind, ERR_BAD_INPUT);
        assert_non_null(strstr(e.msg, "malformed JSON"));
    }
}

static void test_parse_rejects_non_json_syntax(void **state)
{
    static const char *const bad[] = {"[01]", "{'a':1}", "{a:1}",     "[1,]",         "[\"\t\"]",
                                      "[.5]", "[+1]",    "/* c */ 1", "[\"a\" \"b\"]"};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_fail(*state, bad[i], DEPTH).kind, ERR_BAD_INPUT);
}

static void test_parse_rejects_invalid_utf8(void **state)
{
    struct err e = parse_fail(*state, "[\"\xc3\x28\"]", DEPTH);

    assert_int_equal(e.kind, ERR_BAD_INPUT);
    e = parse_fail(*state, "{\"\xff\": 1}", DEPTH);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
}

/* "[[[...1...]]]" with `depth` brackets. */
static char *nested_arrays(struct arena *a, int depth)
{
    char *s = arena_alloc(a, (size_t)depth * 2 + 2);
    size_t n = 0;

    for (int i = 0; i < depth; i++)
        s[n++] = '[';
    s[n++] = '1';
    for (int i = 0; i < depth; i++)
        s[n++] = ']';
    s[n] = '\0';
    return s;
}

static char *nested_objects(struct arena *a, int depth)
{
    char *s = arena_alloc(a, (size_t)depth * 6 + 2);
    size_t n = 0;

    for (int i = 0; i < depth; i++) {
        memcpy(s + n, "{\"k\":", 5);
        n += 5;
    }
    s[n++] = '1';
    for (int i = 0; i < depth; i++)
        s[n++] = '}';
    s[n] = '\0';
    return s;
}

static void test_parse_accepts_exactly_max_depth(void **state)
{
    struct arena *a = *state;
    struct err e;

    err_clear(&e);
    const char *arrays = nested_arrays(a, 5), *objects = nested_objects(a, 5);
    assert_non_null(json_parse(a, arrays, strlen(arrays), 5, &e));
    assert_non_null(json_parse(a, objects, strlen(objects), 5, &e));
    const char *deep = nested_arrays(a, DEPTH);
    struct json_value *v = json_parse(a, deep, strlen(deep), DEPTH, &e);
    assert_non_null(v);
    for (int i = 0; i < DEPTH; i++) {
        assert_int_equal(v->type, JSON_ARRAY);
        v = v->u.array.items[0];
    }
    assert_int_equal(v->type, JSON_NUMBER);
    assert_string_equal(json_canonical(a, json_parse(a, deep, strlen(deep), DEPTH, &e), NULL), deep);
}

static void test_parse_rejects_max_depth_plus_one_as_too_large(void **state)
{
    struct arena *a = *state;
    struct err e = parse_fail(a, nested_arrays(a, 6), 5);

    assert_int_equal(e.kind, ERR_TOO_LARGE);
    assert_non_null(strstr(e.msg, "5"));
    e = parse_fail(a, nested_objects(a, 6), 5);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    e = parse_fail(a, nested_arrays(a, DEPTH + 1), DEPTH);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    /* Far too deep (a stack-smashing attempt) fails the same way, without recursion. */
    e = parse_fail(a, nested_arrays(a, 100000), DEPTH);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
}

static void test_parse_depth_counts_nesting_not_siblings(void **state)
{
    struct arena *a = *state;
    struct err e;
    const char *wide = "[[1],[2],[3],{\"a\":[4]},[[5]]]";

    err_clear(&e);
    assert_non_null(json_parse(a, wide, strlen(wide), 3, &e));
    assert_null(json_parse(a, wide, strlen(wide), 2, &e));
    assert_int_equal(e.kind, ERR_TOO_LARGE);
}

static void test_parse_decodes_unicode_escapes_to_utf8(void **state)
{
    struct json_value *v = parse_ok(*state, "[\"\\u00e9\", \"\\u20ac\", \"\\ud83d\\ude00\", \"A\\u0042\", "
                                            "\"\\n\\t\\\"\\\\\\/\"]");

    assert_string_equal(v->u.array.items[0]->u.str.text, "\xc3\xa9");
    assert_int_equal(v->u.array.items[0]->u.str.len, 2);
    assert_string_equal(v->u.array.items[1]->u.str.text, "\xe2\x82\xac");
    assert_string_equal(v->u.array.items[2]->u.str.text, "\xf0\x9f\x98\x80");
    assert_int_equal(v->u.array.items[2]->u.str.len, 4);
    assert_string_equal(v->u.array.items[3]->u.str.text, "AB");
    assert_string_equal(v->u.array.items[4]->u.str.text, "\n\t\"\\/");
}

static void test_parse_decodes_escaped_keys(void **state)
{
    struct json_value *v = parse_ok(*state, "{\"caf\\u00e9\": 1}");

    assert_string_equal(v->u.object.keys[0], "caf\xc3\xa9");
    assert_int_equal(v->u.object.key_lens[0], 5);
    assert_non_null(json_get(v, "caf\xc3\xa9"));
}

static void test_get_returns_last_of_duplicate_keys(void **state)
{
    const struct json_value *v = parse_ok(*state, "{\"a\": 1, \"b\": 2, \"a\": 3}");

    assert_string_equal(json_get(v, "a")->u.str.text, "3");
    assert_string_equal(json_get(v, "b")->u.str.text, "2");
    assert_null(json_get(v, "c"));
    assert_null(json_get(v, ""));
}

static void test_get_on_non_object_is_null(void **state)
{
    assert_null(json_get(parse_ok(*state, "[1]"), "a"));
    assert_null(json_get(parse_ok(*state, "\"a\""), "a"));
    assert_null(json_get(NULL, "a"));
    assert_null(json_get_string(NULL, "a"));
    assert_null(json_as_string(NULL));
}

static void test_get_string_only_for_strings(void **state)
{
    const struct json_value *v = parse_ok(*state, "{\"s\": \"x\", \"n\": 1, \"z\": null}");

    assert_string_equal(json_get_string(v, "s"), "x");
    assert_null(json_get_string(v, "n"));
    assert_null(json_get_string(v, "z"));
    assert_null(json_get_string(v, "missing"));
    assert_null(json_as_string(json_get(v, "n")));
}

static void test_canonical_sorts_keys_and_removes_whitespace(void **state)
{
    assert_string_equal(
        canonical(*state, " { \"b\" : [ 1 , 2 ] ,\n\t\"a\" : { \"d\" : null , \"c\" : true } } "),
        "{\"a\":{\"c\":true,\"d\":null},\"b\":[1,2]}");
}

static void test_canonical_sorts_by_bytes_not_locale(void **state)
{
    /* 'B' (0x42) < '_' (0x5f) < 'a' (0x61) < "ab" (prefix first) < "z" < 'é' (0xc3 0xa9). */
    assert_string_equal(canonical(*state, "{\"\xc3\xa9\":6,\"z\":5,\"ab\":4,\"a\":3,\"_\":2,\"B\":1}"),
                        "{\"B\":1,\"_\":2,\"a\":3,\"ab\":4,\"z\":5,\"\xc3\xa9\":6}");
}

static void test_canonical_keeps_array_order(void **state)
{
    assert_string_equal(canonical(*state, "[3, 1, 2, {\"b\":1,\"a\":2}]"), "[3,1,2,{\"a\":2,\"b\":1}]");
}

static void test_canonical_equal_for_reordered_documents(void **state)
{
    struct arena *a = *state;
    const char *x = "{\"eventType\":\"START\",\"run\":{\"runId\":\"r\",\"facets\":{\"b\":{\"y\":1,\"x\":2},"
                    "\"a\":{}}},\"job\":{\"namespace\":\"n\",\"name\":\"j\"},\"inputs\":[{\"name\":\"i\","
                    "\"namespace\":\"ns\"}]}";
    const char *y =
        "{\n  \"inputs\": [ { \"namespace\": \"ns\", \"name\": \"i\" } ],\n  \"job\": {\"name\": \"j\", "
        "\"namespace\": \"n\"},\n  \"run\": {\"facets\": {\"a\": {}, \"b\": {\"x\": 2, \"y\": 1}}, "
        "\"runId\": \"r\"},\n  \"eventType\": \"START\"\n}";
    size_t lx = 0, ly = 0;
    const char *cx = json_canonical(a, parse_ok(a, x), &lx);
    const char *cy = json_canonical(a, parse_ok(a, y), &ly);

    assert_int_equal(lx, ly);
    assert_memory_equal(cx, cy, lx);
    assert_string_equal(cx, "{\"eventType\":\"START\",\"inputs\":[{\"name\":\"i\",\"namespace\":\"ns\"}],"
                            "\"job\":{\"name\":\"j\",\"namespace\":\"n\"},\"run\":{\"facets\":{\"a\":{},"
                            "\"b\":{\"x\":2,\"y\":1}},\"runId\":\"r\"}}");
}

/* Every depth the parser accepts must be writable back (yajl_gen stops at 128 levels), so the parser
 * refuses anything deeper than JSON_MAX_DEPTH, whatever max_depth the caller asks for. */
static void test_canonical_writes_every_depth_the_parser_accepts(void **state)
{
    struct arena *a = *state;
    static const int accepted[] = {1, JSON_MAX_DEPTH - 1, JSON_MAX_DEPTH};
    static const int refused[] = {JSON_MAX_DEPTH + 1, 128, 1000};
    struct err e;

    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        const char *deep = nested_arrays(a, accepted[i]);
        size_t len = 0;
        err_clear(&e);
        struct json_value *v = json_parse(a, deep, strlen(deep), 10000, &e);
        assert_non_null(v);
        const char *out = json_canonical(a, v, &len);
        if (strcmp(out, deep) != 0)
            fail_msg("depth %d: canonical output is \"%.20s\" (%zu bytes), want the %zu-byte input",
                     accepted[i], out, len, strlen(deep));
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *deep = nested_arrays(a, refused[i]);
        err_clear(&e);
        assert_null(json_parse(a, deep, strlen(deep), 10000, &e));
        assert_int_equal(e.kind, ERR_TOO_LARGE);
    }
}

static void test_canonical_differs_when_values_differ(void **state)
{
    assert_string_not_equal(canonical(*state, "{\"a\":1,\"b\":2}"), canonical(*state, "{\"a\":2,\"b\":1}"));
    assert_string_not_equal(canonical(*state, "[1,2]"), canonical(*state, "[2,1]"));
}

static void test_canonical_sorts_objects_with_many_members(void **state)
{
    struct arena *a = *state;
    char in[2048], want[2048];
    size_t n = 0, w = 0;

    /* 40 members (more than the writer's on-stack index), given in descending order. */
    n += (size_t)sprintf(in + n, "{");
    for (int i = 39; i >= 0; i--)
        n += (size_t)sprintf(in + n, "%s\"k%02d\":%d", i == 39 ? "" : ",", i, i);
    sprintf(in + n, "}");
    w += (size_t)sprintf(want + w, "{");
    for (int i = 0; i < 40; i++)
        w += (size_t)sprintf(want + w, "%s\"k%02d\":%d", i == 0 ? "" : ",", i, i);
    sprintf(want + w, "}");
    assert_string_equal(canonical(a, in), want);
}

static void test_canonical_escapes_strings_back(void **state)
{
    assert_string_equal(canonical(*state, "[\"a\\\"b\", \"\\u0001\", \"\\u00e9\", \"x/y\"]"),
                        "[\"a\\\"b\",\"\\u0001\",\"\xc3\xa9\",\"x/y\"]");
}

static void test_canonical_round_trips(void **state)
{
    struct arena *a = *state;
    const char *once =
        canonical(a, "{\"z\": [1.50, -0, 1e400, {\"b\": \"\\u0001\", \"a\": false}], \"y\": null}");
    const char *twice = canonical(a, once);

    assert_string_equal(once, twice);
    assert_string_equal(once, "{\"y\":null,\"z\":[1.50,-0,1e400,{\"a\":false,\"b\":\"\\u0001\"}]}");
}

static void test_gen_helpers_write_null_for_null_strings(void **state)
{
    yajl_gen g = json_gen_new();
    size_t len = 0;

    yajl_gen_map_open(g);
    json_gen_key(g, "s");
    json_gen_str(g, NULL);
    json_gen_key(g, "n");
    json_gen_int(g, -12);
    json_gen_key(g, "t");
    json_gen_str(g, "x\"y");
    yajl_gen_map_close(g);
    char *out = json_gen_finish(g, *state, &len);
    assert_string_equal(out, "{\"s\":null,\"n\":-12,\"t\":\"x\\\"y\"}");
    assert_int_equal(len, strlen(out));
}

/* Two million small numbers in 4 MB of text: a tree of far more than 4 MB. With a budget the parse
 * stops once the tree outgrows it, and says which limit it hit (issue 11, item 10). */
static void test_parse_stops_when_tree_outgrows_the_budget(void **state)
{
    size_t n = 2 * 1000 * 1000;
    char *text = malloc(2 * n + 2);
    struct arena_budget shared = {.max = 64 << 20};
    struct arena *a = arena_new(), *b = arena_new();
    struct err e;
    (void)state;

    assert_non_null(text);
    text[0] = '[';
    for (size_t i = 0; i < n; i++) {
        text[1 + 2 * i] = '7';
        text[2 + 2 * i] = i + 1 < n ? ',' : ']';
    }
    text[2 * n + 1] = '\0';
    atomic_init(&shared.used, 0);
    arena_set_budget(a, &shared, 16 << 20);
    assert_null(json_parse(a, text, 2 * n + 1, 64, &e));
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    assert_true(arena_charged(a) < (16 << 20) + (1 << 20)); /* stopped at the budget, not after */
    arena_set_budget(b, &shared, SIZE_MAX);
    assert_null(json_parse(b, text, 2 * n + 1, 64, &e)); /* no own limit: the shared one stops it */
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_true(e.retryable);
    arena_free(b);
    arena_free(a);
    /* Without a budget the same document parses. */
    struct arena *c = arena_new();
    const struct json_value *v = json_parse(c, text, 2 * n + 1, 64, &e);
    assert_non_null(v);
    assert_int_equal(v->u.array.n, n);
    arena_free(c);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_object_keeps_members_in_input_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_array_of_every_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_scalar_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_large_containers_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_numbers_kept_exactly_as_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_malformed_reports_byte_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_truncated_input_reports_offset_at_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_trailing_garbage_and_second_document, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_empty_and_blank_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_stops_at_len_not_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_nan_and_infinity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_non_json_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_accepts_exactly_max_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_max_depth_plus_one_as_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_depth_counts_nesting_not_siblings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_decodes_unicode_escapes_to_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_decodes_escaped_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_returns_last_of_duplicate_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_on_non_object_is_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_string_only_for_strings, setup, teardown),

        cmocka_unit_test_setup_teardown(test_canonical_sorts_keys_and_removes_whitespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canonical_sorts_by_bytes_not_locale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canonical_keeps_array_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canonical_equal_for_reordered_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canonical_writes_every_depth_the_parser_accepts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_canonical_differs_when_values_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canonical_sorts_objects_with_many_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canonical_escapes_strings_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canonical_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gen_helpers_write_null_for_null_strings, setup, teardown),
        cmocka_unit_test(test_parse_stops_when_tree_outgrows_the_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
