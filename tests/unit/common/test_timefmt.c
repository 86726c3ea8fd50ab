/* tests/unit/common/test_timefmt.c - ISO-8601 parsing and formatting (common/timefmt.c).
 *
 * Invariants:
 *  1. Expected microsecond values were computed independently with Python's datetime.
 *  2. Every rejection asserts ERR_INVALID and the quoted value in e.msg, never just "failed".
 * Ownership: no allocation. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"
#include "timefmt.h"

static int64_t parse_ok(const char *s)
{
    struct err e;
    int64_t usec = 0;

    err_clear(&e);
    if (time_parse_iso8601(s, &usec, &e) != 0)
        fail_msg("rejected \"%s\": %s", s, e.msg);
    return usec;
}

static void assert_rejected(const char *s)
{
    struct err e;
    int64_t usec = 42;

    err_clear(&e);
    if (time_parse_iso8601(s, &usec, &e) != -1)
        fail_msg("accepted \"%s\"", s);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_non_null(strstr(e.msg, "is not an ISO-8601 date-time"));
    assert_int_equal(usec, 42);
}

static void assert_formats_as(int64_t usec, const char *want)
{
    char out[TIME_ISO_MAX];

    time_format_iso8601(usec, out);
    assert_string_equal(out, want);
}

static void test_parse_accepts_fixture_formats(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-08-06T13:26:49.98Z"), 1722950809980000LL);
    assert_int_equal(parse_ok("2024-11-26T13:05:29.606867+00:00"), 1732626329606867LL);
    assert_int_equal(parse_ok("2020-12-28T19:52:00.001+10:00"), 1609149120001000LL);
}

static void test_parse_accepts_missing_offset_as_utc(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2021-11-03T10:53:52.427343"), 1635936832427343LL);
    assert_int_equal(parse_ok("2021-11-03T10:53:52.427343Z"), 1635936832427343LL);
}

static void test_parse_truncates_nanoseconds_to_microseconds(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2021-11-03T10:53:40.472698302Z"), 1635936820472698LL);
    assert_int_equal(parse_ok("2021-11-03T10:53:40.4726989Z"), 1635936820472698LL);
}

static void test_parse_accepts_all_offset_spellings(void **state)
{
    const int64_t want = parse_ok("2021-11-03T08:23:52Z");

    (void)state;
    assert_int_equal(parse_ok("2021-11-03T10:53:52+02:30"), want);
    assert_int_equal(parse_ok("2021-11-03T10:53:52+0230"), want);
    assert_int_equal(parse_ok("2021-11-03T06:53:52-01:30"), want);
    assert_int_equal(parse_ok("2021-11-03T06:53:52-0130"), want);
    assert_int_equal(parse_ok("2021-11-03T10:23:52+02"), want);
    assert_int_equal(parse_ok("2021-11-03T08:23:52z"), want);
    assert_int_equal(parse_ok("2021-11-03 08:23:52Z"), want);
}

static void test_parse_ignores_java_zone_id(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2021-11-03T10:53:52Z[Europe/London]"), 1635936832000000LL);
    assert_int_equal(parse_ok("2021-11-03T11:53:52+01:00[Europe/London]"), 1635936832000000LL);
}

static void test_parse_accepts_missing_seconds(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2021-11-03T10:53"), 1635936780000000LL);
    assert_int_equal(parse_ok("2021-11-03T12:53+02:00"), 1635936780000000LL);
}

static void test_parse_offset_crosses_midnight_and_year(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2021-01-01T01:00:00+02:00"), parse_ok("2020-12-31T23:00:00Z"));
    assert_int_equal(parse_ok("2020-12-31T22:00:00-05:00"), parse_ok("2021-01-01T03:00:00Z"));
    assert_formats_as(parse_ok("2020-12-28T19:52:00.001+10:00"), "2020-12-28T09:52:00.001000Z");
}

static void test_parse_accepts_leap_day_only_in_leap_years(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-02-29T12:00:00Z"), 1709208000000000LL);
    assert_int_equal(parse_ok("2000-02-29T00:00:00Z"), parse_ok("2000-03-01T00:00:00Z") - 86400000000LL);
    assert_rejected("2023-02-29T12:00:00Z");
    assert_rejected("1900-02-29T12:00:00Z");
    assert_rejected("2024-02-30T12:00:00Z");
    assert_rejected("2024-04-31T12:00:00Z");
}

static void test_parse_handles_pre_1970_and_range_ends(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999999Z"), -1);
    assert_int_equal(parse_ok("1900-01-01T00:00:00Z"), -2208988800000000LL);
    assert_int_equal(parse_ok("0001-01-01T00:00:00Z"), -62135596800000000LL);
    assert_int_equal(parse_ok("9999-12-31T23:59:59.999999Z"), 253402300799999999LL);
    assert_rejected("0000-01-01T00:00:00Z");
}

static void test_parse_rejects_date_only(void **state)
{
    (void)state;
    assert_rejected("2021-11-03");
    assert_rejected("2021-11-03T");
    assert_rejected("2021-11-03T10");
}

static void test_parse_rejects_out_of_range_fields(void **state)
{
    (void)state;
    assert_rejected("2021-13-03T10:53:52Z");
    assert_rejected("2021-00-03T10:53:52Z");
    assert_rejected("2021-11-32T10:53:52Z");
    assert_rejected("2021-11-00T10:53:52Z");
    assert_rejected("2021-11-03T25:53:52Z");
    assert_rejected("2021-11-03T24:00:00Z");
    assert_rejected("2021-11-03T10:60:52Z");
    assert_rejected("2021-11-03T10:53:60Z");
    assert_rejected("2021-11-03T10:53:52+24:00");
    assert_rejected("2021-11-03T10:53:52+01:60");
}

static void test_parse_rejects_garbage_and_trailing_junk(void **state)
{
    (void)state;
    assert_rejected("");
    assert_rejected(NULL);
    assert_rejected("yesterday");
    assert_rejected("1635936832");
    assert_rejected("2021-11-03T10:53:52Zjunk");
    assert_rejected("2021-11-03T10:53:52Z ");
    assert_rejected("2021-11-03T10:53:52.Z");
    assert_rejected("2021-11-03T10:53:52.1234567890Z");
    assert_rejected("2021-11-03T10:53.5Z");
    assert_rejected("2021-11-03T10:53:52+1");
    assert_rejected("2021-11-03T10:53:52+01:0");
    assert_rejected("2021-11-03T10:53:52+01:00:00");
    assert_rejected("2021-11-03T10:53:52Z[]");
    assert_rejected("2021-11-03T10:53:52Z[Europe/London");
    assert_rejected("2021-11-03T10:53:52Z[Europe/London]x");
    assert_rejected("2021-11-03T10:53:52[Europe/London]");
    assert_rejected("2021/11/03T10:53:52Z");
    assert_rejected("21-11-03T10:53:52Z");
    assert_rejected("2021-11-03X10:53:52Z");
}

static void test_parse_error_quotes_value_truncated(void **state)
{
    char long_value[200];
    struct err e;
    int64_t usec;

    (void)state;
    memset(long_value, 'x', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    assert_int_equal(time_parse_iso8601("2021-11-03", &usec, &e), -1);
    assert_string_equal(e.msg, "\"2021-11-03\" is not an ISO-8601 date-time");
    assert_string_equal(e.where, "");
    assert_int_equal(time_parse_iso8601(long_value, &usec, &e), -1);
    assert_true(strlen(e.msg) < 100);
}

static void test_format_writes_six_fraction_digits_utc(void **state)
{
    (void)state;
    assert_formats_as(0, "1970-01-01T00:00:00.000000Z");
    assert_formats_as(1657642931080346LL, "2022-07-12T16:22:11.080346Z");
    assert_formats_as(1722950809980000LL, "2024-08-06T13:26:49.980000Z");
}

static void test_format_handles_pre_1970(void **state)
{
    (void)state;
    assert_formats_as(-1, "1969-12-31T23:59:59.999999Z");
    assert_formats_as(-1000000LL, "1969-12-31T23:59:59.000000Z");
    assert_formats_as(-86400000000LL, "1969-12-31T00:00:00.000000Z");
    assert_formats_as(-2208988800000000LL, "1900-01-01T00:00:00.000000Z");
    assert_formats_as(-62135596800000000LL, "0001-01-01T00:00:00.000000Z");
}

static void test_format_survives_int64_extremes(void **state)
{
    char out[TIME_ISO_MAX];

    (void)state;
    time_format_iso8601(INT64_MIN, out);
    assert_true(strlen(out) < TIME_ISO_MAX);
    assert_int_equal(out[0], '-');
    time_format_iso8601(INT64_MAX, out);
    assert_true(strlen(out) < TIME_ISO_MAX);
}

static void test_round_trip_format_of_parse_is_canonical(void **state)
{
    static const char *const cases[][2] = {
        {"2024-08-06T13:26:49.98Z", "2024-08-06T13:26:49.980000Z"},
        {"2024-11-26T13:05:29.606867+00:00", "2024-11-26T13:05:29.606867Z"},
        {"2021-11-03T10:53:52.427343", "2021-11-03T10:53:52.427343Z"},
        {"2021-11-03T10:53:40.472698302Z", "2021-11-03T10:53:40.472698Z"},
        {"2024-02-29T23:30:00-01:00", "2024-03-01T00:30:00.000000Z"},
        {"1969-07-20T20:17:40Z", "1969-07-20T20:17:40.000000Z"},
        {"9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"},
    };
    char out[TIME_ISO_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t usec = parse_ok(cases[i][0]);
        time_format_iso8601(usec, out);
        assert_string_equal(out, cases[i][1]);
        assert_int_equal(parse_ok(out), usec);
    }
}

static void test_round_trip_parse_of_format_is_identity(void **state)
{
    char out[TIME_ISO_MAX];

    (void)state;
    /* About 40,000 samples from 0001 to 9999; the odd stride lands on varied days and times. */
    for (int64_t t = -62135596800000000LL; t < 253402300799999999LL; t += 7777777777777LL + 1) {
        time_format_iso8601(t, out);
        assert_int_equal(parse_ok(out), t);
    }
}

static void test_now_is_after_2024(void **state)
{
    (void)state;
    assert_true(time_now_usec() > 1704067200000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_fixture_formats),
        cmocka_unit_test(test_parse_accepts_missing_offset_as_utc),
        cmocka_unit_test(test_parse_truncates_nanoseconds_to_microseconds),
        cmocka_unit_test(test_parse_accepts_all_offset_spellings),
        cmocka_unit_test(test_parse_ignores_java_zone_id),
        cmocka_unit_test(test_parse_accepts_missing_seconds),
        cmocka_unit_test(test_parse_offset_crosses_midnight_and_year),
        cmocka_unit_test(test_parse_accepts_leap_day_only_in_leap_years),
        cmocka_unit_test(test_parse_handles_pre_1970_and_range_ends),
        cmocka_unit_test(test_parse_rejects_date_only),
        cmocka_unit_test(test_parse_rejects_out_of_range_fields),
        cmocka_unit_test(test_parse_rejects_garbage_and_trailing_junk),
        cmocka_unit_test(test_parse_error_quotes_value_truncated),
        cmocka_unit_test(test_format_writes_six_fraction_digits_utc),
        cmocka_unit_test(test_format_handles_pre_1970),
        cmocka_unit_test(test_format_survives_int64_extremes),
        cmocka_unit_test(test_round_trip_format_of_parse_is_canonical),
        cmocka_unit_test(test_round_trip_parse_of_format_is_identity),
        cmocka_unit_test(test_now_is_after_2024),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
