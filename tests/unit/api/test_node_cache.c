/* tests/unit/api/test_node_cache.c - the lineage node-data cache (api/node_cache.c): stamps decide
 * what is current, the byte budget holds, concurrent use is safe.
 *
 * Invariants: tests use only the public header; each test owns its cache and arena.
 * Threads: test_concurrent_use runs four threads against one cache. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "node_cache.h"

static void put1(struct node_cache *c, uint32_t node, uint32_t stamp, const char *text)
{
    size_t len = strlen(text);
    node_cache_put(c, &node, &stamp, &text, &len, 1);
}

/* A copy (in a) of the cached text of node at stamp, or NULL; the text is released again. */
static const char *get1(struct node_cache *c, struct arena *a, uint32_t node, uint32_t stamp)
{
    struct node_cache_text *held;
    size_t len = 0;

    node_cache_get(c, &node, &stamp, 1, &held);
    if (held == NULL)
        return NULL;
    const char *text = node_cache_text(held, &len);
    const char *copy = arena_strndup(a, text, len);
    node_cache_release(c, &held, 1);
    assert_null(held);
    return copy;
}

static void test_hit_only_at_the_same_stamp(void **state)
{
    (void)state;
    struct node_cache *c = node_cache_new(1 << 20);
    struct arena *a = arena_new();

    assert_null(get1(c, a, 7, 0));
    put1(c, 7, 3, "{\"a\":1}");
    assert_string_equal(get1(c, a, 7, 3), "{\"a\":1}");
    assert_null(get1(c, a, 7, 4)); /* the node changed since */
    assert_null(get1(c, a, 8, 3));
    assert_null(get1(c, a, 100000, 3)); /* beyond every slot */
    put1(c, 7, 4, "{\"a\":2}");       /* replaces */
    assert_string_equal(get1(c, a, 7, 4), "{\"a\":2}");
    struct node_cache_stats st;
    node_cache_stats(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.bytes, 7);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 4);
    node_cache_free(c);
    arena_free(a);
}

static void test_batch_get_reports_each_node(void **state)
{
    (void)state;
    struct node_cache *c = node_cache_new(1 << 20);
    struct arena *a = arena_new();
    uint32_t nodes[] = {1, 2, 3}, stamps[] = {0, 0, 1};
    const char *texts[3] = {"one", NULL, "three"};
    size_t lens[3] = {3, 0, 5};

    struct node_cache_text *held[3];
    size_t len;

    node_cache_put(c, nodes, stamps, texts, lens, 3); /* a NULL text is skipped */
    stamps[2] = 2;
    assert_int_equal(node_cache_get(c, nodes, stamps, 3, held), 1);
    assert_memory_equal(node_cache_text(held[0], &len), "one", 3);
    assert_int_equal(len, 3);
    assert_null(held[1]);
    assert_null(held[2]);
    node_cache_release(c, held, 3);
    node_cache_free(c);
    arena_free(a);
}

static void test_budget_is_kept_by_evicting(void **state)
{
    (void)state;
    char text[101];
    struct node_cache *c = node_cache_new(1000); /* texts up to 125 bytes are kept */
    struct arena *a = arena_new();
    struct node_cache_stats st;

    memset(text, 'x', 100);
    text[100] = '\0';
    for (uint32_t i = 0; i < 50; i++) {
        put1(c, i, 0, text);
        node_cache_stats(c, &st);
        assert_true(st.bytes <= 1000);
    }
    assert_int_equal(st.entries, 10);
    assert_int_equal(st.evictions, 40);
    assert_string_equal(get1(c, a, 49, 0), text); /* the newest stays */
    char big[200];
    memset(big, 'y', 199);
    big[199] = '\0';
    put1(c, 60, 0, big); /* over an eighth of the budget: not kept */
    assert_null(get1(c, a, 60, 0));
    node_cache_free(c);
    arena_free(a);
}

/* A text handed out stays readable, unchanged, after its entry is replaced and evicted (ASan would
 * report a read after free), until it is released. */
static void test_held_text_outlives_its_entry(void **state)
{
    (void)state;
    struct node_cache *c = node_cache_new(800); /* texts up to 100 bytes */
    struct arena *a = arena_new();
    uint32_t node = 1, stamp = 0;
    struct node_cache_text *held;
    size_t len;

    put1(c, 1, 0, "{\"first\":1}");
    node_cache_get(c, &node, &stamp, 1, &held);
    assert_non_null(held);
    put1(c, 1, 1, "{\"second\":2}"); /* replaces the entry */
    for (uint32_t i = 2; i < 40; i++)
        put1(c, i, 0, "{\"filler\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"); /* evicts everything */
    const char *t = node_cache_text(held, &len);
    assert_int_equal(len, 11);
    assert_memory_equal(t, "{\"first\":1}", 11);
    struct node_cache_stats st;
    node_cache_stats(c, &st);
    assert_true(st.bytes <= 800); /* the held text no longer counts */
    node_cache_release(c, &held, 1);
    node_cache_free(c);
    arena_free(a);
}

static void test_zero_budget_and_null_cache_keep_nothing(void **state)
{
    (void)state;
    struct node_cache *c = node_cache_new(0);
    struct arena *a = arena_new();

    put1(c, 1, 0, "x");
    assert_null(get1(c, a, 1, 0));
    put1(NULL, 1, 0, "x");
    assert_null(get1(NULL, a, 1, 0));
    node_cache_free(c);
    node_cache_free(NULL);
    arena_free(a);
}

struct worker {
    struct node_cache *c;
    uint32_t base;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    struct arena *a = arena_new();
    char text[32];

    for (uint32_t i = 0; i < 20000; i++) {
        uint32_t node = (w->base + i * 7) % 3000, stamp = i % 3;
        snprintf(text, sizeof text, "{\"n\":%u,\"s\":%u}", (unsigned)node, (unsigned)stamp);
        put1(w->c, node, stamp, text);
        const char *got = get1(w->c, a, node, stamp);
        /* another thread may have replaced or evicted it, but a hit is always the right text */
        if (got != NULL && strcmp(got, text) != 0)
            fail_msg("node %u stamp %u: got %s", (unsigned)node, (unsigned)stamp, got);
        if (i % 1000 == 0)
            arena_reset(a);
    }
    arena_free(a);
    return NULL;
}

static void test_concurrent_use(void **state)
{
    (void)state;
    struct node_cache *c = node_cache_new(16 * 1024);
    pthread_t t[4];
    struct worker w[4];
    struct node_cache_stats st;

    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, (uint32_t)i * 1000};
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    node_cache_stats(c, &st);
    assert_true(st.bytes <= 16 * 1024);
    assert_int_equal(st.hits + st.misses, 4 * 20000);
    node_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_only_at_the_same_stamp),
        cmocka_unit_test(test_batch_get_reports_each_node),
        cmocka_unit_test(test_budget_is_kept_by_evicting),
        cmocka_unit_test(test_held_text_outlives_its_entry),
        cmocka_unit_test(test_zero_budget_and_null_cache_keep_nothing),
        cmocka_unit_test(test_concurrent_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
