/* tests/unit/common/test_uuid.c - UUID parsing, printing and generation (common/uuid.c).
 *
 * Invariants:
 *  1. Name-based vectors come from outside this code: Python's hashlib/uuid (same algorithm as
 *     Java's UUID.nameUUIDFromBytes) and the uuid3 example in Python's documentation.
 *  2. Tests use only the public header.
 * Ownership: no allocation. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "uuid.h"

static void assert_uuid_str(const struct uuid *u, const char *want)
{
    char out[UUID_STR_MAX];

    uuid_to_string(u, out);
    assert_string_equal(out, want);
}

static void test_from_string_round_trips_lower_case(void **state)
{
    struct uuid u;

    (void)state;
    assert_true(uuid_from_string("6ba7b811-9dad-11d1-80b4-00c04fd430c8", &u));
    assert_int_equal(u.b[0], 0x6b);
    assert_int_equal(u.b[15], 0xc8);
    assert_uuid_str(&u, "6ba7b811-9dad-11d1-80b4-00c04fd430c8");
}

static void test_from_string_accepts_upper_case(void **state)
{
    struct uuid u;

    (void)state;
    assert_true(uuid_from_string("0ACF093B-3C88-3560-8DC6-22A33921D360", &u));
    assert_uuid_str(&u, "0acf093b-3c88-3560-8dc6-22a33921d360");
}

static void test_from_string_rejects_non_canonical_forms(void **state)
{
    static const char *const bad[] = {
        "",
        "run_id",
        "0acf093b3c8835608dc622a33921d360",       /* no dashes */
        "{0acf093b-3c88-3560-8dc6-22a33921d360}", /* braces */
        "urn:uuid:0acf093b-3c88-3560-8dc6-22a33921d360",
        "0acf093b-3c88-3560-8dc6-22a33921d36",   /* 35 chars */
        "0acf093b-3c88-3560-8dc6-22a33921d3600", /* 37 chars */
        "0acf093b-3c88-3560-8dc6-22a33921d360 ", /* trailing space */
        " 0acf093b-3c88-3560-8dc6-22a33921d360", /* leading space */
        "0acf093b-3c88-3560-8dc622a33921d3600",  /* dash moved */
        "0acf093g-3c88-3560-8dc6-22a33921d360",  /* not hex */
        "0acf093b-3c88-3560-8dc6-22a33921d3\n0",
    };
    struct uuid u;

    (void)state;
    memset(&u, 0xaa, sizeof u);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (uuid_from_string(bad[i], &u))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_false(uuid_from_string(NULL, &u));
    assert_int_equal(u.b[0], 0xaa); /* untouched on failure */
}

static void test_name_v3_matches_java_name_uuid_from_bytes(void **state)
{
    struct uuid u;

    (void)state;
    uuid_name_v3("run_id", strlen("run_id"), &u);
    assert_uuid_str(&u, "0acf093b-3c88-3560-8dc6-22a33921d360");
    uuid_name_v3("my-airflow-run", strlen("my-airflow-run"), &u);
    assert_uuid_str(&u, "fa034971-9545-394c-903d-cc19612e6809");
    uuid_name_v3("", 0, &u);
    assert_uuid_str(&u, "d41d8cd9-8f00-3204-a980-0998ecf8427e");
}

static void test_name_v3_ns_matches_rfc4122_uuid3(void **state)
{
    struct uuid ns, u, dns;

    (void)state;
    uuid_namespace_url(&ns);
    assert_uuid_str(&ns, "6ba7b811-9dad-11d1-80b4-00c04fd430c8");
    uuid_name_v3_ns(&ns, "x", 1, &u);
    assert_uuid_str(&u, "60a7f89c-e446-309c-8b4f-460bfdfd0dee");
    uuid_name_v3_ns(&ns, "", 0, &u);
    assert_uuid_str(&u, "14cdb9b4-de01-3faa-aff5-65bc2f771745");
    assert_true(uuid_from_string("6ba7b810-9dad-11d1-80b4-00c04fd430c8", &dns));
    uuid_name_v3_ns(&dns, "python.org", strlen("python.org"), &u);
    assert_uuid_str(&u, "6fa459ea-ee8a-3ca4-894e-db77e160355e");
}

static void test_name_v3_ns_allows_out_aliasing_ns(void **state)
{
    struct uuid u;

    (void)state;
    uuid_namespace_url(&u);
    uuid_name_v3_ns(&u, "x", 1, &u);
    assert_uuid_str(&u, "60a7f89c-e446-309c-8b4f-460bfdfd0dee");
}

static void test_for_run_id_keeps_uuid_run_ids(void **state)
{
    struct uuid u;

    (void)state;
    uuid_for_run_id("D41D8CD9-8F00-3204-A980-0998ECF8427E", &u);
    assert_uuid_str(&u, "d41d8cd9-8f00-3204-a980-0998ecf8427e");
}

static void test_for_run_id_hashes_other_run_ids(void **state)
{
    struct uuid u;

    (void)state;
    uuid_for_run_id("run_id", &u);
    assert_uuid_str(&u, "0acf093b-3c88-3560-8dc6-22a33921d360");
    uuid_for_run_id("{d41d8cd9-8f00-3204-a980-0998ecf8427e}", &u);
    assert_int_equal(u.b[6] >> 4, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_string_round_trips_lower_case),
        cmocka_unit_test(test_from_string_accepts_upper_case),
        cmocka_unit_test(test_from_string_rejects_non_canonical_forms),
        cmocka_unit_test(test_name_v3_matches_java_name_uuid_from_bytes),
        cmocka_unit_test(test_name_v3_ns_matches_rfc4122_uuid3),
        cmocka_unit_test(test_name_v3_ns_allows_out_aliasing_ns),
        cmocka_unit_test(test_for_run_id_keeps_uuid_run_ids),
        cmocka_unit_test(test_for_run_id_hashes_other_run_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
