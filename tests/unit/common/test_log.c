/* tests/unit/common/test_log.c - rate-limited log lines (common/log.c: log_limit_pass).
 *
 * Invariants: time is passed in explicitly (log_limit_pass takes the second), so no test sleeps or
 * depends on the clock. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "log.h"

static void test_burst_then_silence_then_count_of_dropped(void **state)
{
    struct log_limit l;
    unsigned long dropped = 99;
    (void)state;

    log_limit_init(&l, 3, 10);
    for (int i = 0; i < 3; i++) {
        assert_true(log_limit_pass(&l, 1000, &dropped));
        assert_int_equal(dropped, 0);
    }
    for (int i = 0; i < 500; i++)
        assert_false(log_limit_pass(&l, 1005, &dropped));
    assert_false(log_limit_pass(&l, 1009, &dropped));
    /* A new window: the first line through says how many were left out. */
    assert_true(log_limit_pass(&l, 1010, &dropped));
    assert_int_equal(dropped, 501);
    assert_true(log_limit_pass(&l, 1010, &dropped));
    assert_int_equal(dropped, 0);
}

static void test_quiet_source_is_never_limited(void **state)
{
    struct log_limit l;
    unsigned long dropped;
    (void)state;

    log_limit_init(&l, 1, 5);
    for (long long t = 0; t < 100; t += 5) {
        assert_true(log_limit_pass(&l, t, &dropped));
        assert_int_equal(dropped, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_silence_then_count_of_dropped),
        cmocka_unit_test(test_quiet_source_is_never_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
