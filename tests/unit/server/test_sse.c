/* tests/unit/server/test_sse.c - the Server-Sent Events reader of `lineaged tail` (server/sse.c).
 * Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sse.h"

struct seen {
    char log[4096];
};

static void on_event(void *ctx, const char *id, const char *data, size_t len)
{
    struct seen *s = ctx;
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "[%s|%.*s]", id, (int)len, data);
}

static void on_comment(void *ctx, const char *text)
{
    struct seen *s = ctx;
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "(%s)", text);
}

/* Feeds text in pieces of `step` bytes. */
static int feed(struct sse_parser *p, struct seen *s, const char *text, size_t step)
{
    struct sse_sink sink = {s, on_event, on_comment};
    struct err e;
    size_t n = strlen(text);

    for (size_t i = 0; i < n; i += step)
        if (sse_feed(p, text + i, i + step < n ? step : n - i, &sink, &e) != 0)
            return -1;
    return 0;
}

static const char STREAM[] = "retry: 2000\n\n: hello\n\nid: 7\ndata: {\"a\":1}\n\n"
                             "id: 8\r\ndata: line1\r\ndata:line2\r\n\r\n"
                             "data: keeps id 8\r\revent: x\nid: 9\nunknown: z\ndata\n\n";

static void test_events_comments_and_ids_whatever_the_pieces(void **state)
{
    (void)state;
    for (size_t step = 1; step <= sizeof STREAM; step++) {
        struct sse_parser p;
        struct seen s = {""};
        sse_init(&p, 1024);
        assert_int_equal(feed(&p, &s, STREAM, step), 0);
        assert_string_equal(s.log, "(hello)[7|{\"a\":1}][8|line1\nline2][8|keeps id 8][9|]");
        assert_int_equal(p.retry_ms, 2000);
        assert_string_equal(p.id, "9");
        sse_free(&p);
    }
}

static void test_partial_event_is_not_dispatched_and_reset_forgets_it(void **state)
{
    struct sse_parser p;
    struct seen s = {""};
    (void)state;

    sse_init(&p, 1024);
    assert_int_equal(feed(&p, &s, "id: 3\ndata: cut in the mid", 100), 0);
    assert_string_equal(s.log, "");
    sse_reset(&p); /* a new connection */
    assert_int_equal(feed(&p, &s, "dle\n\ndata: whole\n\n", 100), 0);
    assert_string_equal(s.log, "[3|whole]");
    sse_free(&p);
}

static void test_too_long_is_an_error(void **state)
{
    struct sse_parser p;
    struct seen s = {""};
    char big[300];
    (void)state;

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sse_init(&p, 100);
    assert_int_equal(feed(&p, &s, big, 7), -1);
    sse_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_comments_and_ids_whatever_the_pieces),
        cmocka_unit_test(test_partial_event_is_not_dispatched_and_reset_forgets_it),
        cmocka_unit_test(test_too_long_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
