/* tests/unit/store/test_store_copy.c - decoding binary COPY data (store/store_copy.c), which the
 * start-up graph load reads.
 *
 * Invariants:
 *  1. Messages are built here byte by byte as PostgreSQL's docs describe the format ("COPY", Binary
 *     Format): signature, flags, header extension, tuples of (int16 count, (int32 length, bytes)...),
 *     int16 -1 as the trailer, all in network byte order.
 *  2. Tests use only the public header; no database is needed.
 * Ownership: each test builds its message in a stack buffer. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "store_copy.h"

enum { MSG_MAX = 512 };

struct msg {
    char b[MSG_MAX];
    size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put16(struct msg *m, int16_t v)
{
    unsigned char b[2] = {(unsigned char)((uint16_t)v >> 8), (unsigned char)v};
    put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    put(m, b, 4);
}

/* The header with the given flags and an extension of ext_len bytes (all 'x'). */
static void put_header(struct msg *m, uint32_t flags, uint32_t ext_len)
{
    put(m, "PGCOPY\n\377\r\n\0", 11);
    put32(m, flags);
    put32(m, ext_len);
    for (uint32_t i = 0; i < ext_len; i++)
        put(m, "x", 1);
}

/* A field: its length and bytes, or -1 for NULL (s == NULL). */
static void put_field(struct msg *m, const char *s, size_t n)
{
    if (s == NULL) {
        put32(m, UINT32_MAX);
        return;
    }
    put32(m, (uint32_t)n);
    put(m, s, n);
}

static const char INT8_42[8] = {0, 0, 0, 0, 0, 0, 0, 42};

/* header, tuple (42::int8, 'ns', NULL) */
static void put_first_message(struct msg *m)
{
    put_header(m, 0, 0);
    put16(m, 3);
    put_field(m, INT8_42, 8);
    put_field(m, "ns", 2);
    put_field(m, NULL, 0);
}

static int next(struct store_copy_reader *r, const struct msg *m, size_t *pos, struct store_copy_tuple *t)
{
    return store_copy_next(r, m->b, m->n, pos, 8, t);
}

static void test_reads_the_header_and_a_tuple_of_each_kind_of_value(void **state)
{
    struct store_copy_reader r = {0};
    struct store_copy_tuple t;
    struct msg m = {.n = 0};
    size_t pos = 0;

    (void)state;
    put_first_message(&m);
    assert_int_equal(next(&r, &m, &pos, &t), 1);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.len[0], 8);
    assert_int_equal(store_copy_int64(t.val[0]), 42);
    assert_int_equal(t.len[1], 2);
    assert_memory_equal(t.val[1], "ns", 2);
    assert_int_equal(t.len[2], -1);
    assert_null(t.val[2]);
    assert_int_equal(next(&r, &m, &pos, &t), 0); /* message used up, not yet ended */
    assert_false(r.ended);
}

static void test_trailer_ends_the_data_and_nothing_may_follow(void **state)
{
    struct store_copy_reader r = {0};
    struct store_copy_tuple t;
    struct msg first = {.n = 0}, last = {.n = 0}, after = {.n = 0};
    size_t pos = 0;

    (void)state;
    put_first_message(&first);
    assert_int_equal(next(&r, &first, &pos, &t), 1);
    put16(&last, -1);
    pos = 0;
    assert_int_equal(next(&r, &last, &pos, &t), 0);
    assert_true(r.ended);
    put16(&after, 1);
    put_field(&after, "x", 1);
    pos = 0;
    assert_int_equal(next(&r, &after, &pos, &t), -1);
}

static void test_several_tuples_and_the_trailer_in_one_message(void **state)
{
    struct store_copy_reader r = {0};
    struct store_copy_tuple t;
    struct msg m = {.n = 0};
    size_t pos = 0;

    (void)state;
    put_header(&m, 0, 0);
    for (int i = 0; i < 3; i++) {
        put16(&m, 1);
        put_field(&m, i == 1 ? "" : "ab", i == 1 ? 0 : 2);
    }
    put16(&m, -1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(next(&r, &m, &pos, &t), 1);
        assert_int_equal(t.len[0], i == 1 ? 0 : 2); /* an empty string is not NULL */
        assert_non_null(t.val[0]);
    }
    assert_int_equal(next(&r, &m, &pos, &t), 0);
    assert_true(r.ended);
}

static void test_header_extension_is_skipped_and_only_critical_flags_refused(void **state)
{
    struct store_copy_reader r = {0}, r2 = {0};
    struct store_copy_tuple t;
    struct msg m = {.n = 0}, oids = {.n = 0};
    size_t pos = 0;

    (void)state;
    put_header(&m, 0x0000ffff, 5); /* bits 0-15 may be set: ignored */
    put16(&m, 1);
    put_field(&m, "v", 1);
    assert_int_equal(next(&r, &m, &pos, &t), 1);
    assert_memory_equal(t.val[0], "v", 1);
    put_header(&oids, 1u << 16, 0); /* OIDs included: a critical bit */
    put16(&oids, 1);
    put_field(&oids, "v", 1);
    pos = 0;
    assert_int_equal(next(&r2, &oids, &pos, &t), -1);
}

enum bad { BAD_SIGNATURE, BAD_FIELD_PAST_END, BAD_NEGATIVE_LENGTH, BAD_TOO_MANY_FIELDS, BAD_CUT_LENGTH,
           BAD_EXTENSION_PAST_END, BAD_COUNT };

/* A message broken in the way `bad` says (otherwise one tuple of one field). */
static void put_bad(struct msg *m, enum bad bad)
{
    if (bad == BAD_SIGNATURE || bad == BAD_EXTENSION_PAST_END) {
        put(m, bad == BAD_SIGNATURE ? "PGCOPY\n\377\r\n\1" : "PGCOPY\n\377\r\n\0", 11);
        put32(m, 0);
        put32(m, bad == BAD_SIGNATURE ? 0 : 100);
    } else {
        put_header(m, 0, 0);
    }
    put16(m, bad == BAD_TOO_MANY_FIELDS ? 9 : 1);
    if (bad == BAD_FIELD_PAST_END) {
        put32(m, 10);
        put(m, "short", 5);
    } else if (bad == BAD_NEGATIVE_LENGTH) {
        put32(m, (uint32_t)-2);
    } else if (bad == BAD_CUT_LENGTH) {
        put(m, "\0\0", 2);
    } else {
        put_field(m, "v", 1);
    }
}

static void test_malformed_data_is_refused(void **state)
{
    (void)state;
    for (int bad = 0; bad < BAD_COUNT; bad++) {
        struct store_copy_reader r = {0};
        struct store_copy_tuple t;
        struct msg m = {.n = 0};
        size_t pos = 0;
        put_bad(&m, (enum bad)bad);
        if (next(&r, &m, &pos, &t) != -1)
            fail_msg("malformed message %d was accepted", bad);
    }
}

static void test_integers_are_network_order_and_times_move_to_the_unix_epoch(void **state)
{
    static const char I16[2] = {(char)0xff, (char)0xfe};
    static const char I32[4] = {0x01, 0x02, 0x03, 0x04};
    static const char I64[8] = {(char)0xff, (char)0xff, (char)0xff, (char)0xff,
                                (char)0xff, (char)0xff, (char)0xff, (char)0xfe};

    (void)state;
    assert_int_equal(store_copy_int16(I16), -2);
    assert_int_equal(store_copy_int32(I32), 0x01020304);
    assert_int_equal(store_copy_int64(I64), -2);
    assert_int_equal(store_copy_epoch_usec(0), 946684800LL * 1000000); /* 2000-01-01T00:00:00Z */
    assert_int_equal(store_copy_epoch_usec(-946684800LL * 1000000), 0);
    assert_int_equal(store_copy_epoch_usec(INT64_MAX), INT64_MAX); /* infinity saturates */
    assert_int_equal(store_copy_epoch_usec(INT64_MIN), INT64_MIN + 946684800LL * 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_the_header_and_a_tuple_of_each_kind_of_value),
        cmocka_unit_test(test_trailer_ends_the_data_and_nothing_may_follow),
        cmocka_unit_test(test_several_tuples_and_the_trailer_in_one_message),
        cmocka_unit_test(test_header_extension_is_skipped_and_only_critical_flags_refused),
        cmocka_unit_test(test_malformed_data_is_refused),
        cmocka_unit_test(test_integers_are_network_order_and_times_move_to_the_unix_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
