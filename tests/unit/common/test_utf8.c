/* tests/unit/common/test_utf8.c - strict UTF-8 validation, cutting and repair (common/utf8.c).
 *
 * Invariants:
 *  1. Each table row is a byte sequence from Unicode table 3-7 or one of its known violations, with
 *     the problem and offset written out by hand.
 *  2. Tests use only the public header.
 * Ownership: each test owns one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "utf8.h"

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

struct case_ {
    const char *bytes;
    size_t len;
    enum utf8_problem problem;
    size_t offset; /* of the problem; unused when valid */
};

#define BYTES(s) s, sizeof s - 1

static void test_check_accepts_every_well_formed_range(void **state)
{
    static const struct case_ ok[] = {
        {BYTES(""), UTF8_OK, 0},
        {BYTES("plain ascii, long enough to take the eight-byte path"), UTF8_OK, 0},
        {BYTES("\x00\x7f"), UTF8_OK, 0},
        {BYTES("\xc2\x80\xdf\xbf"), UTF8_OK, 0},                 /* U+0080, U+07FF */
        {BYTES("\xe0\xa0\x80\xef\xbf\xbf"), UTF8_OK, 0},         /* U+0800, U+FFFF */
        {BYTES("\xed\x9f\xbf\xee\x80\x80"), UTF8_OK, 0},         /* U+D7FF, U+E000 */
        {BYTES("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), UTF8_OK, 0}, /* U+10000, U+10FFFF */
        {BYTES("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), UTF8_OK, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t at = 99;
        assert_int_equal(utf8_check(ok[i].bytes, ok[i].len, &at), UTF8_OK);
        assert_int_equal(at, 99);
        assert_true(utf8_valid(ok[i].bytes, ok[i].len));
    }
}

static void test_check_names_each_problem_and_its_offset(void **state)
{
    static const struct case_ bad[] = {
        {BYTES("ab\x80"), UTF8_STRAY_CONTINUATION, 2},
        {BYTES("\xbf"), UTF8_STRAY_CONTINUATION, 0},
        {BYTES("x\xc0\xaf"), UTF8_OVERLONG, 1},
        {BYTES("\xc0\x80"), UTF8_OVERLONG, 0},
        {BYTES("\xc1\xbf"), UTF8_OVERLONG, 0},
        {BYTES("\xe0\x80\x80"), UTF8_OVERLONG, 0},
        {BYTES("\xe0\x9f\xbf"), UTF8_OVERLONG, 0},
        {BYTES("\xf0\x80\x80\x80"), UTF8_OVERLONG, 0},
        {BYTES("\xf0\x8f\xbf\xbf"), UTF8_OVERLONG, 0},
        {BYTES("12345678\xed\xa0\x80"), UTF8_SURROGATE, 8},
        {BYTES("\xed\xbf\xbf"), UTF8_SURROGATE, 0},
        {BYTES("\xf4\x90\x80\x80"), UTF8_ABOVE_MAX, 0},
        {BYTES("\xf5\x80\x80\x80"), UTF8_ABOVE_MAX, 0},
        {BYTES("\xf7\xbf\xbf\xbf"), UTF8_ABOVE_MAX, 0},
        {BYTES("\xf8\x88\x80\x80\x80"), UTF8_INVALID_BYTE, 0},
        {BYTES("\xfe"), UTF8_INVALID_BYTE, 0},
        {BYTES("\xff"), UTF8_INVALID_BYTE, 0},
        {BYTES("\xe2\x82"), UTF8_TRUNCATED, 0},
        {BYTES("\xc2"), UTF8_TRUNCATED, 0},
        {BYTES("\xc2\x41"), UTF8_TRUNCATED, 0},
        {BYTES("\xf0\x9f\x98"), UTF8_TRUNCATED, 0},
        {BYTES("\xe2\x82\xac\xe2\x28\xa1"), UTF8_TRUNCATED, 3},
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t at = 99;
        enum utf8_problem p = utf8_check(bad[i].bytes, bad[i].len, &at);
        if (p != bad[i].problem || at != bad[i].offset)
            fail_msg("row %zu: got problem %d at %zu, expected %d at %zu", i, p, at, bad[i].problem,
                     bad[i].offset);
        assert_false(utf8_valid(bad[i].bytes, bad[i].len));
        assert_true(strlen(utf8_problem_text(p)) > 0);
    }
}

static void test_cut_never_splits_a_character(void **state)
{
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* a é € 😀: 1+2+3+4 bytes */
    /* For each prefix length, where a cut lands. */
    static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10};

    (void)state;
    for (size_t len = 0; len < sizeof want / sizeof want[0]; len++)
        assert_int_equal(utf8_cut(s, len), want[len]);
}

static void test_prefix_for_printf_stops_before_a_split_character(void **state)
{
    const char *s = "ab\xe2\x82\xac";

    (void)state;
    assert_int_equal(utf8_prefix(s, 2), 2);
    assert_int_equal(utf8_prefix(s, 3), 2);
    assert_int_equal(utf8_prefix(s, 4), 2);
    assert_int_equal(utf8_prefix(s, 5), 5);
    assert_int_equal(utf8_prefix(s, 64), 5);
    assert_int_equal(utf8_prefix("", 8), 0);
}

static void test_repair_replaces_bad_bytes_and_keeps_good_ones(void **state)
{
    struct arena *a = *state;
    size_t n = 0;
    const char *good = "ok \xc3\xa9";

    assert_ptr_equal(utf8_repair(a, good, strlen(good), &n), good);
    assert_int_equal(n, strlen(good));
    const char *out = utf8_repair(a, BYTES("a\xffz\xc0\xaf\xc3\xa9"), &n);
    assert_string_equal(out, "a\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9");
    assert_int_equal(n, strlen(out));
    assert_true(utf8_valid(out, n));
    out = utf8_repair(a, BYTES("\xe2\x82"), &n);
    assert_true(utf8_valid(out, n));
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_check_accepts_every_well_formed_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_names_each_problem_and_its_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_never_splits_a_character, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_for_printf_stops_before_a_split_character, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_repair_replaces_bad_bytes_and_keeps_good_ones, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
