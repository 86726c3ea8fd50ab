/* tests/unit/common/test_store_graph.c - decoding of COPY ... TO STDOUT text lines
 * (store_graph_copy_split in store/store_graph.c), which the start-up graph load reads.
 *
 * Invariants:
 *  1. Expected values follow PostgreSQL's COPY text format (docs "COPY", File Formats: Text Format):
 *     tab-separated, \N is NULL, backslash escapes \b \f \n \r \t \v, \ooo octal (1-3 digits), \xhh
 *     hex (1-2 digits), and a backslash before any other character stands for that character.
 *  2. Tests use only the public header; no database is needed.
 * Ownership: each test decodes a line in its own stack buffer. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "store_graph.h"

enum { MAX_FIELDS = 8, LINE_MAX_LEN = 256 };

struct split {
    char buf[LINE_MAX_LEN];
    char *f[MAX_FIELDS];
    size_t n;
};

/* Copies text (as libpq hands it over: NUL after the last byte) and splits it. Returns the split's rc. */
static int split_text(struct split *s, const char *text, size_t max_fields)
{
    size_t len = strlen(text);

    assert_true(len < sizeof s->buf);
    memcpy(s->buf, text, len + 1);
    s->n = 0;
    return store_graph_copy_split(s->buf, len, s->f, max_fields, &s->n);
}

static void test_splits_on_tabs_and_drops_the_newline(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "42\tns\tname\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.f[0], "42");
    assert_string_equal(s.f[1], "ns");
    assert_string_equal(s.f[2], "name");
}

static void test_newline_at_end_is_optional(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "1\tx", MAX_FIELDS), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.f[1], "x");
}

static void test_empty_fields_are_empty_strings_not_null(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "\t\t\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_non_null(s.f[i]);
        assert_string_equal(s.f[i], "");
    }
    assert_int_equal(split_text(&s, "\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.f[0], "");
}

static void test_backslash_n_alone_is_null(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "\\N\tmid\t\\N\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 3);
    assert_null(s.f[0]);
    assert_string_equal(s.f[1], "mid");
    assert_null(s.f[2]);
    assert_int_equal(split_text(&s, "\\N", MAX_FIELDS), 0);
    assert_int_equal(s.n, 1);
    assert_null(s.f[0]);
}

static void test_escaped_backslash_n_is_text_not_null(void **state)
{
    struct split s;

    (void)state;
    /* the value \N is written \\N; \Nx is not NULL either (only a field that is exactly \N) */
    assert_int_equal(split_text(&s, "\\\\N\t\\Nx\t\\N\\N\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.f[0], "\\N");
    assert_string_equal(s.f[1], "Nx");
    assert_string_equal(s.f[2], "NN");
}

static void test_decodes_every_control_escape(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "a\\tb\\nc\\rd\\be\\ff\\vg\\\\h\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.f[0], "a\tb\nc\rd\be\ff\vg\\h");
}

static void test_escaped_tab_does_not_split(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "ta\\tb\tc\\\\\tend\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.f[0], "ta\tb");
    assert_string_equal(s.f[1], "c\\");
    assert_string_equal(s.f[2], "end");
}

static void test_decodes_octal_with_one_to_three_digits(void **state)
{
    struct split s;

    (void)state;
    /* \101 = 'A'; \7 ends at a non-octal digit; \0101 is \010 then '1'; \18 is \1 then '8' */
    assert_int_equal(split_text(&s, "\\101\t\\7x\t\\0101\t\\18\t\\377\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.f[0], "A");
    assert_string_equal(s.f[1], "\ax");
    assert_string_equal(s.f[2], "\b1");
    assert_string_equal(s.f[3], "\0018");
    assert_string_equal(s.f[4], "\377");
}

static void test_decodes_hex_with_one_or_two_digits(void **state)
{
    struct split s;

    (void)state;
    /* \x41 = 'A'; \x4g is \x4 then 'g'; \x414 is 'A' then '4'; \xg is a plain x */
    assert_int_equal(split_text(&s, "\\x41\t\\x4g\t\\x414\t\\xg\t\\xfF\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.f[0], "A");
    assert_string_equal(s.f[1], "\x04g");
    assert_string_equal(s.f[2], "A4");
    assert_string_equal(s.f[3], "xg");
    assert_string_equal(s.f[4], "\xff");
}

static void test_other_escaped_characters_stand_for_themselves(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "\\a\\.\\q\\ \\\xc3\xa9\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.f[0], "a.q \xc3\xa9");
}

static void test_raw_bytes_pass_through(void **state)
{
    struct split s;

    (void)state;
    /* COPY writes control characters other than \b \f \n \r \t \v, and all of UTF-8, as they are */
    assert_int_equal(split_text(&s, "\x01\x1b[0m\t\xe2\x86\x92 \xf0\x9f\x93\x8a\n", MAX_FIELDS), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.f[0], "\x01\x1b[0m");
    assert_string_equal(s.f[1], "\xe2\x86\x92 \xf0\x9f\x93\x8a");
}

static void test_rejects_more_fields_than_allowed(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "a\tb\tc\n", 3), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(split_text(&s, "a\tb\tc\td\n", 3), -1);
    assert_int_equal(split_text(&s, "a\tb\t\n", 2), -1);
}

static void test_rejects_lone_backslash_at_the_end(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "abc\\\n", MAX_FIELDS), -1);
    assert_int_equal(split_text(&s, "abc\\", MAX_FIELDS), -1);
}

static void test_rejects_escapes_that_decode_to_nul(void **state)
{
    struct split s;

    (void)state;
    assert_int_equal(split_text(&s, "a\\0b\n", MAX_FIELDS), -1);
    assert_int_equal(split_text(&s, "a\\000\n", MAX_FIELDS), -1);
    assert_int_equal(split_text(&s, "a\\x00\n", MAX_FIELDS), -1);
    assert_int_equal(split_text(&s, "a\\400\n", MAX_FIELDS), -1); /* 0400 wraps to 0, as in Postgres */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splits_on_tabs_and_drops_the_newline),
        cmocka_unit_test(test_newline_at_end_is_optional),
        cmocka_unit_test(test_empty_fields_are_empty_strings_not_null),
        cmocka_unit_test(test_backslash_n_alone_is_null),
        cmocka_unit_test(test_escaped_backslash_n_is_text_not_null),
        cmocka_unit_test(test_decodes_every_control_escape),
        cmocka_unit_test(test_escaped_tab_does_not_split),
        cmocka_unit_test(test_decodes_octal_with_one_to_three_digits),
        cmocka_unit_test(test_decodes_hex_with_one_or_two_digits),
        cmocka_unit_test(test_other_escaped_characters_stand_for_themselves),
        cmocka_unit_test(test_raw_bytes_pass_through),
        cmocka_unit_test(test_rejects_more_fields_than_allowed),
        cmocka_unit_test(test_rejects_lone_backslash_at_the_end),
        cmocka_unit_test(test_rejects_escapes_that_decode_to_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
