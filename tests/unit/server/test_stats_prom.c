/* tests/unit/server/test_stats_prom.c - the Prometheus text reader of `lineaged stats`
 * (server/stats_prom.c). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "stats_prom.h"

static void test_samples_labels_and_escapes(void **state)
{
    char text[] = "# HELP x help\n# TYPE x counter\nx 3\n"
                  "y{producer=\"a \\\"q\\\" b\\\\\",le=\"+Inf\"} 1.5e3\n\nz_bucket{le=\"+Inf\"} +Inf\n";
    struct arena *a = arena_new();
    struct prom_sample *s;
    size_t n;
    struct err e;
    (void)state;

    assert_int_equal(prom_parse(a, text, &s, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(s[0].name, "x");
    assert_string_equal(s[0].labels, "");
    assert_true(s[0].value == 3.0);
    assert_string_equal(s[1].name, "y");
    assert_true(s[1].value == 1500.0);
    assert_string_equal(prom_label(a, s[1].labels, "producer"), "a \"q\" b\\");
    assert_string_equal(prom_label(a, s[1].labels, "le"), "+Inf");
    assert_null(prom_label(a, s[1].labels, "l"));
    assert_true(isinf(s[2].value));
    arena_free(a);
}

static void test_malformed_line_names_its_number(void **state)
{
    char text[] = "x 1\ny{a=\"b} 2\n";
    struct arena *a = arena_new();
    struct prom_sample *s;
    size_t n;
    struct err e;
    (void)state;

    assert_int_equal(prom_parse(a, text, &s, &n, &e), -1);
    assert_non_null(strstr(e.msg, "line 2"));
    char text2[] = "x one\n";
    assert_int_equal(prom_parse(a, text2, &s, &n, &e), -1);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_labels_and_escapes),
        cmocka_unit_test(test_malformed_line_names_its_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
