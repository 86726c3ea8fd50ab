/* tests/unit/common/test_periodic.c - the periodic thread (common/periodic.c).
 *
 * Invariants: no test asserts a duration; waits are bounded loops that fail the test if the awaited
 * thing never happens. Threads: the periodic thread and the test thread share `ticks` (atomic). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <time.h>

#include "periodic.h"

enum { WAIT_STEPS = 20000 };

static void count_tick(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

static void sleep_100us(void)
{
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
}

static void test_ticks_repeat_until_stopped(void **state)
{
    atomic_int ticks = 0;
    struct err e;
    int i;

    (void)state;
    struct periodic *p = periodic_start(1, count_tick, &ticks, &e);
    assert_non_null(p);
    for (i = 0; i < WAIT_STEPS && atomic_load(&ticks) < 3; i++)
        sleep_100us();
    assert_true(atomic_load(&ticks) >= 3);
    periodic_stop(p);
    int after = atomic_load(&ticks);
    for (i = 0; i < 50; i++)
        sleep_100us();
    assert_int_equal(atomic_load(&ticks), after); /* joined: no tick after stop */
}

static void test_first_tick_is_at_once_and_stop_wakes_a_long_wait(void **state)
{
    atomic_int ticks = 0;
    struct err e;
    int i;

    (void)state;
    struct periodic *p = periodic_start(3600 * 1000, count_tick, &ticks, &e);
    assert_non_null(p);
    for (i = 0; i < WAIT_STEPS && atomic_load(&ticks) < 1; i++)
        sleep_100us();
    periodic_stop(p); /* returns at once: the hour-long wait for the second tick is interrupted */
    assert_int_equal(atomic_load(&ticks), 1);
    periodic_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks_repeat_until_stopped),
        cmocka_unit_test(test_first_tick_is_at_once_and_stop_wakes_a_long_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
