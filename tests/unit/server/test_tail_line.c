/* tests/unit/server/test_tail_line.c - the line `lineaged tail` prints per event (server/tail_line.c).
 * Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tail_line.h"

static const char RUN[] =
    "{\"eventType\":\"FAIL\",\"eventTime\":\"2026-11-23T11:00:00.5+01:00\","
    "\"run\":{\"runId\":\"x\"},\"job\":{\"namespace\":\"etl\",\"name\":\"load\"},"
    "\"inputs\":[{\"namespace\":\"n\",\"name\":\"a\"},{\"namespace\":\"n\",\"name\":\"b\"},"
    "{\"namespace\":\"n\",\"name\":\"c\"},{\"namespace\":\"n\",\"name\":\"d\"}],"
    "\"outputs\":[]}";

static void test_run_event_plain(void **state)
{
    struct arena *a = arena_new();
    (void)state;

    assert_string_equal(tail_line(a, RUN, strlen(RUN), false),
                        "2026-11-23 10:00:00  RUN      etl:load  a, b, c +1 more -> -  FAIL");
    arena_free(a);
}

static void test_run_event_colour(void **state)
{
    struct arena *a = arena_new();
    (void)state;

    assert_string_equal(
        tail_line(a, RUN, strlen(RUN), true),
        "\033[2m2026-11-23 10:00:00\033[0m  RUN      \033[1metl:load\033[0m  a, b, c +1 more -> -  "
        "\033[31mFAIL\033[0m");
    arena_free(a);
}

static void test_dataset_event_and_escapes_removed(void **state)
{
    static const char DS[] = "{\"eventTime\":\"bad time\\u001b[2J\",\"dataset\":{\"namespace\":\"s3\","
                             "\"name\":\"x\\u001b]0;t\\u0007\\u009bq\"}}";
    struct arena *a = arena_new();
    (void)state;

    assert_string_equal(tail_line(a, DS, strlen(DS), false), "bad time?[2J  DATASET  s3:x?]0;t??q  -");
    assert_string_equal(tail_line(a, "not json\x1b", 9, false), "not json?");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_event_plain),
        cmocka_unit_test(test_run_event_colour),
        cmocka_unit_test(test_dataset_event_and_escapes_removed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
