/* tests/unit/common/test_ticker.c - the periodic background thread (common/ticker.c).
 *
 * Invariants: no timing is asserted; a ticker that did not wake on stop would hang the test (and the
 * suite's per-executable timeout fails it). Threads: each test starts and stops one ticker. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <time.h>

#include "ticker.h"

static void count_call(void *ctx)
{
    atomic_fetch_add((atomic_int *)ctx, 1);
}

/* Waits (bounded) until *n >= want. */
static void wait_calls(atomic_int *n, int want)
{
    struct timespec ms = {0, 1000000};

    for (int i = 0; i < 60000 && atomic_load(n) < want; i++)
        nanosleep(&ms, NULL);
}

static void test_first_call_is_immediate_and_stop_wakes_a_long_wait(void **state)
{
    atomic_int n = 0;
    struct err e;
    (void)state;

    struct ticker *t = ticker_start(3600 * 1000, count_call, &n, &e);
    assert_non_null(t);
    wait_calls(&n, 1);
    ticker_stop(t); /* returns although the next call is an hour away */
    assert_int_equal(atomic_load(&n), 1);
}

static void test_calls_repeat_and_end_with_stop(void **state)
{
    atomic_int n = 0;
    struct err e;
    struct timespec pause = {0, 20 * 1000000};
    (void)state;

    struct ticker *t = ticker_start(1, count_call, &n, &e);
    assert_non_null(t);
    wait_calls(&n, 5);
    ticker_stop(t);
    int after_stop = atomic_load(&n);
    assert_true(after_stop >= 5);
    nanosleep(&pause, NULL);
    assert_int_equal(atomic_load(&n), after_stop);
    ticker_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_call_is_immediate_and_stop_wakes_a_long_wait),
        cmocka_unit_test(test_calls_repeat_and_end_with_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
