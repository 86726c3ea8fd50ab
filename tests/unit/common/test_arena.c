/* tests/unit/common/test_arena.c - region allocator (common/arena.c).
 *
 * Invariants:
 *  1. Every allocation is written to end to end, so ASan catches an undersized block.
 *  2. Alignment is checked against 16, the arena's promise for any scalar type (max_align_t).
 *  3. Tests use only the public header.
 * Ownership: each test owns one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

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

static void assert_aligned(const void *p)
{
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
}

static void test_alloc_is_16_byte_aligned_for_every_size(void **state)
{
    struct arena *a = *state;

    for (size_t n = 0; n < 200; n++) {
        unsigned char *p = arena_alloc(a, n);
        assert_non_null(p);
        assert_aligned(p);
        memset(p, 0xab, n);
    }
}

static void test_alloc_returns_distinct_non_overlapping_blocks(void **state)
{
    struct arena *a = *state;
    unsigned char *p[64];

    for (int i = 0; i < 64; i++) {
        p[i] = arena_alloc(a, 100);
        memset(p[i], i, 100);
    }
    for (int i = 0; i < 64; i++)
        for (int k = 0; k < 100; k++)
            assert_int_equal(p[i][k], i);
}

static void test_zero_size_alloc_is_unique_and_aligned(void **state)
{
    struct arena *a = *state;
    void *x = arena_alloc(a, 0);
    void *y = arena_alloc(a, 0);

    assert_non_null(x);
    assert_non_null(y);
    assert_ptr_not_equal(x, y);
    assert_aligned(x);
}

static void test_used_counts_every_allocation(void **state)
{
    struct arena *a = *state;
    size_t asked = 0;

    assert_int_equal(arena_used(a), 0);
    for (size_t n = 1; n < 100; n += 7) {
        size_t before = arena_used(a);
        arena_alloc(a, n);
        asked += n;
        /* At least what was asked, at most what 16-byte rounding adds. */
        assert_true(arena_used(a) >= before + n);
        assert_true(arena_used(a) <= before + n + 15);
    }
    assert_true(arena_used(a) >= asked);
}

static void test_big_allocations_work_beside_small_ones(void **state)
{
    struct arena *a = *state;
    const size_t big = 1024 * 1024;
    unsigned char *small1 = arena_alloc(a, 32);
    unsigned char *huge = arena_alloc(a, big);
    unsigned char *small2 = arena_alloc(a, 32);

    assert_aligned(huge);
    memset(small1, 1, 32);
    memset(huge, 2, big);
    memset(small2, 3, 32);
    assert_int_equal(small1[31], 1);
    assert_int_equal(huge[0], 2);
    assert_int_equal(huge[big - 1], 2);
    assert_int_equal(small2[0], 3);
    assert_true(arena_used(a) >= big + 64);
    assert_true(arena_used(a) < big + 64 + 64);
}

static void test_sizes_around_block_boundaries(void **state)
{
    struct arena *a = *state;
    static const size_t sizes[] = {
        8 * 1024 - 1, 8 * 1024, 8 * 1024 + 1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 3, 40000, 5};

    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = arena_alloc(a, sizes[i]);
            assert_aligned(p);
            memset(p, (int)i, sizes[i]);
            assert_int_equal(p[sizes[i] - 1], (unsigned char)i);
        }
    }
}

static void test_many_small_allocations_span_blocks(void **state)
{
    struct arena *a = *state;
    size_t total = 0;

    for (int i = 0; i < 10000; i++) {
        int *p = arena_alloc(a, sizeof *p * 10);
        for (int k = 0; k < 10; k++)
            p[k] = i;
        total += sizeof *p * 10;
    }
    assert_true(arena_used(a) >= total);
    assert_true(arena_used(a) <= total + 10000 * 15);
}

static void test_zalloc_zeroes_memory(void **state)
{
    struct arena *a = *state;

    /* Dirty the first block, reset, then zalloc must hand back zeros over the old bytes. */
    memset(arena_alloc(a, 4096), 0xff, 4096);
    arena_reset(a);
    unsigned char *p = arena_zalloc(a, 4096);
    for (size_t i = 0; i < 4096; i++)
        assert_int_equal(p[i], 0);
    unsigned char *q = arena_zalloc(a, 100000);
    for (size_t i = 0; i < 100000; i += 997)
        assert_int_equal(q[i], 0);
}

static void test_reset_clears_used_and_allocation_keeps_working(void **state)
{
    struct arena *a = *state;

    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 100; i++)
            memset(arena_alloc(a, 1000), round, 1000);
        memset(arena_alloc(a, 200000), round, 200000);
        assert_true(arena_used(a) >= 300000);
        arena_reset(a);
        assert_int_equal(arena_used(a), 0);
        char *s = arena_strdup(a, "after reset");
        assert_string_equal(s, "after reset");
        assert_aligned(s);
    }
}

static void test_reset_of_fresh_arena_is_harmless(void **state)
{
    struct arena *a = *state;

    arena_reset(a);
    arena_reset(a);
    assert_int_equal(arena_used(a), 0);
    assert_string_equal(arena_strdup(a, "x"), "x");
}

static void test_free_null_is_noop(void **state)
{
    (void)state;
    arena_free(NULL);
}

static void test_strdup_copies(void **state)
{
    struct arena *a = *state;
    char src[] = "hello";
    char *p = arena_strdup(a, src);

    assert_ptr_not_equal(p, src);
    src[0] = 'j';
    assert_string_equal(p, "hello");
    assert_string_equal(arena_strdup(a, ""), "");
}

static void test_strndup_stops_at_n_and_terminates(void **state)
{
    struct arena *a = *state;
    char buf[4] = {'a', 'b', 'c', 'd'}; /* not NUL-terminated: strndup must not read past n */

    assert_string_equal(arena_strndup(a, buf, 4), "abcd");
    assert_string_equal(arena_strndup(a, buf, 2), "ab");
    assert_string_equal(arena_strndup(a, buf, 0), "");
    assert_string_equal(arena_strndup(a, "xy", 10), "xy");
    assert_string_equal(arena_strndup(a, "a\0bc", 4), "a");
}

static void test_printf_formats_into_arena(void **state)
{
    struct arena *a = *state;
    char big[5000];

    assert_string_equal(arena_printf(a, "%s-%d-%zu", "x", -3, (size_t)42), "x--3-42");
    assert_string_equal(arena_printf(a, "%s", ""), "");
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *p = arena_printf(a, "<%s>", big);
    assert_int_equal(strlen(p), sizeof big + 1);
    assert_int_equal(p[0], '<');
    assert_int_equal(p[sizeof big], '>');
    /* Bigger than half a block: takes the big-allocation path. */
    char huge[20000];
    memset(huge, 'q', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_string_equal(arena_printf(a, "%s", huge), huge);
}

static void test_budget_counts_blocks_and_adopted_memory_until_free(void **state)
{
    struct arena_budget shared = {.max = 1 << 20};
    struct arena *a = arena_new();
    (void)state;

    atomic_init(&shared.used, 0);
    arena_set_budget(a, &shared, SIZE_MAX);
    assert_int_equal(atomic_load(&shared.used), arena_charged(a));
    size_t before = arena_charged(a);
    memset(arena_alloc(a, 100000), 1, 100000); /* a block of its own */
    assert_true(arena_charged(a) >= before + 100000);
    void *p = malloc(5000);
    assert_non_null(p);
    arena_adopt(a, p, 5000);
    assert_int_equal(atomic_load(&shared.used), arena_charged(a));
    size_t held = arena_charged(a);
    struct err e;
    assert_int_equal(arena_reserve(a, 7000, &e), 0); /* a buffer being grown outside the arena */
    assert_int_equal(arena_charged(a), held + 7000);
    assert_int_equal(atomic_load(&shared.used), held + 7000);
    assert_int_equal(arena_reserve(a, 2 << 20, &e), -1); /* refused, and nothing charged for it */
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_int_equal(arena_charged(a), held + 7000);
    arena_unreserve(a, 7000);
    assert_int_equal(atomic_load(&shared.used), held);
    arena_reset(a);
    assert_int_equal(atomic_load(&shared.used), arena_charged(a));
    arena_free(a);
    assert_int_equal(atomic_load(&shared.used), 0);
}

static void test_budget_check_names_the_limit_that_is_short(void **state)
{
    struct arena_budget shared = {.max = 200000};
    struct arena *a = arena_new(), *b = arena_new();
    struct err e;
    (void)state;

    atomic_init(&shared.used, 0);
    arena_set_budget(a, &shared, 100000);
    arena_set_budget(b, &shared, SIZE_MAX);
    assert_int_equal(arena_budget_check(a, 1000, &e), 0);
    assert_int_equal(arena_budget_check(a, 200000, &e), -1);
    assert_int_equal(e.kind, ERR_TOO_LARGE); /* its own limit: retrying cannot help */
    assert_false(e.retryable);
    assert_non_null(strstr(e.msg, "--max-request-mb"));
    memset(arena_alloc(b, 150000), 0, 150000); /* another request holds most of the shared budget */
    assert_int_equal(arena_budget_check(a, 60000, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_true(e.retryable);
    assert_non_null(strstr(e.msg, "--max-inflight-mb"));
    assert_false(arena_over_budget(a));
    memset(arena_alloc(a, 90000), 0, 90000);
    assert_true(arena_over_budget(a)); /* shared budget now exceeded */
    arena_free(b);
    arena_free(a);
    assert_int_equal(atomic_load(&shared.used), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alloc_is_16_byte_aligned_for_every_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_returns_distinct_non_overlapping_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_size_alloc_is_unique_and_aligned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_used_counts_every_allocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_allocations_work_beside_small_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sizes_around_block_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_small_allocations_span_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zalloc_zeroes_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_clears_used_and_allocation_keeps_working, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_of_fresh_arena_is_harmless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_null_is_noop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strdup_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strndup_stops_at_n_and_terminates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_printf_formats_into_arena, setup, teardown),
        cmocka_unit_test(test_budget_counts_blocks_and_adopted_memory_until_free),
        cmocka_unit_test(test_budget_check_names_the_limit_that_is_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
