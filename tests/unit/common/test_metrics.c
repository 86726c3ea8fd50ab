/* tests/unit/common/test_metrics.c - the metrics registry and its Prometheus text (common/metrics.c).
 *
 * Invariants:
 *  1. Every check reads the rendered text, as a scraper would: exact lines, or sums over lines.
 *  2. The concurrency test counts from several threads at once and demands exact totals and one
 *     label per producer, which a lost update or a doubly claimed slot would break.
 * Ownership: each test makes and frees its own registry and arena. Threads: the concurrency test
 * starts and joins its own threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json_text.h"
#include "metrics.h"

static const struct metrics_route ROUTES[] = {{"POST", "/api/v1/lineage"}, {"GET", "/api/v1/namespaces/{}"}};

static const struct metrics_scrape NO_SCRAPE = {-1, -1, -1, -1, -1, -1};

/* The rendered text, in a (freed with a). */
static const char *render(struct metrics *m, const struct metrics_scrape *s, struct arena *a)
{
    struct json_text t;

    json_text_init(&t, a, 256);
    metrics_render(m, s, &t);
    return t.p;
}

static void assert_line(const char *text, const char *line)
{
    char *want = malloc(strlen(line) + 3);
    snprintf(want, strlen(line) + 3, "\n%s\n", line);
    if (strstr(text, want) == NULL && strncmp(text, want + 1, strlen(want + 1)) != 0)
        fail_msg("missing line:\n%s\nin:\n%s", line, text);
    free(want);
}

/* Sum of the values of the lines starting with prefix. */
static unsigned long long sum_lines(const char *text, const char *prefix)
{
    unsigned long long sum = 0;

    for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)) != 0)
            continue;
        const char *sp = strchr(p, ' ');
        sum += strtoull(sp + 1, NULL, 10);
    }
    return sum;
}

static size_t count_lines(const char *text, const char *prefix)
{
    size_t n = 0;

    for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    return n;
}

static void test_ingest_events_counted_by_label_with_other_beyond_the_limit(void **state)
{
    struct metrics *m = metrics_new(ROUTES, 2, 2, 2);
    struct arena *a = arena_new();
    (void)state;

    for (int i = 0; i < 3; i++)
        metrics_ingest_event(m, "p1", "RUN_EVENT", "START", METRICS_STORED);
    metrics_ingest_event(m, "p2", "JOB_EVENT", NULL, METRICS_DUPLICATE);
    metrics_ingest_event(m, "p3", "DATASET_EVENT", "start", METRICS_INVALID);
    metrics_ingest_event(m, "p4", "bogus", "COMPLETE", METRICS_FAILED);
    metrics_ingest_event(m, "p1", "RUN_EVENT", "COMPLETE", METRICS_REJECTED);
    const char *text = render(m, &NO_SCRAPE, a);
    assert_line(text, "lineaged_ingest_events_total{producer=\"p1\",kind=\"RUN_EVENT\",type=\"START\","
                      "outcome=\"stored\"} 3");
    assert_line(text, "lineaged_ingest_events_total{producer=\"p2\",kind=\"JOB_EVENT\",type=\"none\","
                      "outcome=\"duplicate\"} 1");
    assert_line(text,
                "lineaged_ingest_events_total{producer=\"other\",kind=\"DATASET_EVENT\",type=\"unknown\","
                "outcome=\"invalid\"} 1");
    assert_line(text, "lineaged_ingest_events_total{producer=\"other\",kind=\"unknown\",type=\"COMPLETE\","
                      "outcome=\"failed\"} 1");
    assert_line(text, "lineaged_ingest_events_total{producer=\"p1\",kind=\"RUN_EVENT\",type=\"COMPLETE\","
                      "outcome=\"rejected\"} 1");
    assert_int_equal(count_lines(text, "lineaged_ingest_events_total{"), 5);
    assert_int_equal(sum_lines(text, "lineaged_ingest_events_total{"), 7);
    arena_free(a);
    metrics_free(m);
}

static void test_labels_escaped_and_cut_on_a_character_boundary(void **state)
{
    struct metrics *m = metrics_new(ROUTES, 2, 4, 2);
    struct arena *a = arena_new();
    char longname[400] = "x";
    (void)state;

    for (size_t i = 1; i + 2 < sizeof longname; i += 2)
        strcat(longname, "\xc3\xa9"); /* é: METRICS_LABEL_MAX (even) falls inside one */
    metrics_ingest_event(m, "a\"b\\c\nd", "RUN_EVENT", "START", METRICS_STORED);
    metrics_ingest_event(m, longname, "RUN_EVENT", "START", METRICS_STORED);
    const char *text = render(m, &NO_SCRAPE, a);
    assert_line(text, "lineaged_ingest_events_total{producer=\"a\\\"b\\\\c\\nd\",kind=\"RUN_EVENT\","
                      "type=\"START\",outcome=\"stored\"} 1");
    const char *p = strstr(text, "producer=\"x\xc3\xa9");
    assert_non_null(p);
    const char *end = strchr(p + 10, '"');
    size_t len = (size_t)(end - (p + 10));
    assert_true(len <= METRICS_LABEL_MAX);
    assert_int_equal(len, METRICS_LABEL_MAX - 1); /* 'x' + 79 whole characters */
    assert_int_equal((unsigned char)end[-1], 0xa9);
    arena_free(a);
    metrics_free(m);
}

static void test_request_histogram_is_cumulative_with_sum_and_count(void **state)
{
    struct metrics *m = metrics_new(ROUTES, 2, 1, 1);
    struct arena *a = arena_new();
    (void)state;

    metrics_request_done(m, 1, 200, 400, 100);
    metrics_request_done(m, 1, 200, 3000, 2000);
    metrics_request_done(m, 1, 200, 20000000, -1);
    metrics_request_done(m, metrics_no_route(m), 299, 10, -1);
    const char *text = render(m, &NO_SCRAPE, a);
    const char *l = "method=\"GET\",route=\"/api/v1/namespaces/{}\"";
    char line[256];
    snprintf(line, sizeof line,
             "lineaged_http_request_duration_seconds_bucket{%s,status=\"200\",le=\"0.0005\"} 1", l);
    assert_line(text, line);
    snprintf(line, sizeof line,
             "lineaged_http_request_duration_seconds_bucket{%s,status=\"200\",le=\"0.0025\"} 1", l);
    assert_line(text, line);
    snprintf(line, sizeof line,
             "lineaged_http_request_duration_seconds_bucket{%s,status=\"200\",le=\"0.005\"} 2", l);
    assert_line(text, line);
    snprintf(line, sizeof line,
             "lineaged_http_request_duration_seconds_bucket{%s,status=\"200\",le=\"10\"} 2", l);
    assert_line(text, line);
    snprintf(line, sizeof line,
             "lineaged_http_request_duration_seconds_bucket{%s,status=\"200\",le=\"+Inf\"} 3", l);
    assert_line(text, line);
    snprintf(line, sizeof line, "lineaged_http_request_duration_seconds_sum{%s,status=\"200\"} 20.003400", l);
    assert_line(text, line);
    snprintf(line, sizeof line, "lineaged_http_request_duration_seconds_count{%s,status=\"200\"} 3", l);
    assert_line(text, line);
    snprintf(line, sizeof line, "lineaged_http_request_db_seconds_count{%s} 2", l); /* -1: no database */
    assert_line(text, line);
    snprintf(line, sizeof line, "lineaged_http_request_db_seconds_sum{%s} 0.002100", l);
    assert_line(text, line);
    assert_line(text, "lineaged_http_request_duration_seconds_count{method=\"any\",route=\"unmatched\","
                      "status=\"other\"} 1");
    assert_int_equal(count_lines(text, "lineaged_http_request_duration_seconds_count{"), 2);
    assert_null(strstr(text, "route=\"/api/v1/lineage\"")); /* never used: no series */
    arena_free(a);
    metrics_free(m);
}

static void test_namespace_time_only_moves_forward(void **state)
{
    struct metrics *m = metrics_new(ROUTES, 2, 1, 1);
    struct arena *a = arena_new();
    (void)state;

    metrics_namespace_event(m, "ns", 2000000000000000LL);
    metrics_namespace_event(m, "ns", 1000000000000000LL);
    metrics_namespace_event(m, "late", 1500000000000000LL); /* the table holds 1: "other" */
    const char *text = render(m, &NO_SCRAPE, a);
    assert_line(text, "lineaged_namespace_last_event_timestamp_seconds{namespace=\"ns\"} 2000000000.000");
    assert_line(text, "lineaged_namespace_last_event_timestamp_seconds{namespace=\"other\"} 1500000000.000");
    arena_free(a);
    metrics_free(m);
}

static void test_gauges_follower_lag_and_unknown_values(void **state)
{
    struct metrics *m = metrics_new(ROUTES, 2, 1, 1);
    struct arena *a = arena_new();
    struct metrics_scrape s = NO_SCRAPE;
    (void)state;

    metrics_connections(m, 1);
    metrics_connections(m, 1);
    metrics_connections(m, -1);
    metrics_queue_depth(m, 3);
    metrics_queue_depth(m, -2);
    metrics_stream_subscribers(m, 2);
    assert_int_equal(metrics_follower_lag(m), -1);
    const char *text = render(m, &s, a);
    assert_line(text, "lineaged_http_connections_open 1");
    assert_line(text, "lineaged_http_queue_depth 1");
    assert_line(text, "lineaged_stream_subscribers 2");
    assert_line(text, "lineaged_graph_loaded 0");
    assert_null(strstr(text, "lineaged_follower_lag_events"));
    assert_null(strstr(text, "lineaged_silent_jobs"));
    assert_null(strstr(text, "lineaged_graph_nodes"));
    metrics_follower(m, 120, 100);
    metrics_set_graph_loaded(m, true);
    metrics_set_silent_jobs(m, 4);
    s.graph_nodes = 10;
    text = render(m, &s, a);
    assert_int_equal(metrics_follower_lag(m), 20);
    assert_line(text, "lineaged_follower_lag_events 20");
    assert_line(text, "lineaged_graph_loaded 1");
    assert_line(text, "lineaged_silent_jobs 4");
    assert_line(text, "lineaged_graph_nodes 10");
    arena_free(a);
    metrics_free(m);
}

enum { THREADS = 4, PER_THREAD = 40000, PRODUCERS = 8, SLOTS = 4 };

static void *count_many(void *arg)
{
    struct metrics *m = arg;
    char name[16];

    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(name, sizeof name, "prod-%d", i % PRODUCERS);
        metrics_ingest_event(m, name, "RUN_EVENT", "START", METRICS_STORED);
        metrics_request_done(m, 0, 201, i % 5000, 1);
    }
    return NULL;
}

static void test_concurrent_counting_loses_nothing_and_claims_each_label_once(void **state)
{
    struct metrics *m = metrics_new(ROUTES, 2, SLOTS, 1);
    struct arena *a = arena_new();
    pthread_t t[THREADS];
    (void)state;

    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, count_many, m), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    const char *text = render(m, &NO_SCRAPE, a);
    assert_int_equal(sum_lines(text, "lineaged_ingest_events_total{"), THREADS * PER_THREAD);
    assert_int_equal(count_lines(text, "lineaged_ingest_events_total{"), SLOTS + 1); /* + other */
    assert_int_equal(count_lines(text, "lineaged_ingest_events_total{producer=\"other\""), 1);
    assert_line(text,
                "lineaged_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/lineage\","
                "status=\"201\"} 160000");
    arena_free(a);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_events_counted_by_label_with_other_beyond_the_limit),
        cmocka_unit_test(test_labels_escaped_and_cut_on_a_character_boundary),
        cmocka_unit_test(test_request_histogram_is_cumulative_with_sum_and_count),
        cmocka_unit_test(test_namespace_time_only_moves_forward),
        cmocka_unit_test(test_gauges_follower_lag_and_unknown_values),
        cmocka_unit_test(test_concurrent_counting_loses_nothing_and_claims_each_label_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
