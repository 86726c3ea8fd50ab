/* tests/unit/server/test_stream_feed.c - SSE messages of the event stream (server/stream_feed.c):
 * the text of one event and the shared message list's ownership.
 * Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "stream_int.h"

static void test_one_data_line_per_body_line(void **state)
{
    char out[128];
    (void)state;

    assert_int_equal(stream_msg_format(out, sizeof out, 42, "{\"a\":1}", 7),
                     strlen("id: 42\ndata: {\"a\":1}\n\n"));
    assert_string_equal(out, "id: 42\ndata: {\"a\":1}\n\n");
    stream_msg_format(out, sizeof out, 7, "{\n\"a\":\r\n1\r}", 11);
    assert_string_equal(out, "id: 7\ndata: {\ndata: \"a\":\ndata: 1\ndata: }\n\n");
    /* too small: the length it needs, nothing half-written past cap */
    assert_int_equal(stream_msg_format(out, 5, 42, "{}", 2), strlen("id: 42\ndata: {}\n\n"));
}

static void test_message_keeps_filter_fields(void **state)
{
    struct store_log_event ev = {.pos = {100, 5},
                                 .kind = "RUN_EVENT",
                                 .event_type = "START",
                                 .producer = "p",
                                 .namespace = "ns",
                                 .job_name = NULL,
                                 .body = "{}",
                                 .len = 2};
    (void)state;

    struct stream_msg *m = stream_msg_new(&ev);
    assert_non_null(m);
    assert_int_equal(m->len, strlen("id: 5\ndata: {}\n\n"));
    assert_memory_equal(m->text, "id: 5\ndata: {}\n\n", m->len);
    assert_string_equal(m->ev.namespace, "ns");
    assert_null(m->ev.job_name);
    assert_true(m->ev.pos.xid == 100 && m->ev.pos.seq == 5);
    struct store_stream_filter f = {.namespace = "ns", .event_type = "START"};
    assert_true(store_stream_match(&f, &m->ev));
    f.job = "j";
    assert_false(store_stream_match(&f, &m->ev));
    stream_msg_unref(m);
}

static void test_unref_frees_down_the_list(void **state)
{
    struct store_log_event ev = {.pos = {1, 1}, .body = "{}", .len = 2};
    (void)state;

    /* a -> b -> c: each link owns its reference; holding b keeps b and c after a goes (ASan checks) */
    struct stream_msg *a = stream_msg_new(&ev), *b = stream_msg_new(&ev), *c = stream_msg_marker(9);
    a->next = b;
    b->next = c;
    b->refs++;
    stream_msg_unref(a);
    assert_int_equal(b->refs, 1);
    assert_true(b->next->marker);
    stream_msg_unref(b);
}

static void test_positions_order_by_xid_then_seq(void **state)
{
    (void)state;
    assert_true(store_stream_before((struct store_stream_pos){5, 900}, (struct store_stream_pos){6, 1}));
    assert_true(store_stream_before((struct store_stream_pos){6, 1}, (struct store_stream_pos){6, 2}));
    assert_false(store_stream_before((struct store_stream_pos){6, 2}, (struct store_stream_pos){6, 2}));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_data_line_per_body_line),
        cmocka_unit_test(test_message_keeps_filter_fields),
        cmocka_unit_test(test_unref_frees_down_the_list),
        cmocka_unit_test(test_positions_order_by_xid_then_seq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
