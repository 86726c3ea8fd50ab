/* tests/unit/common/test_log.c - rate-limited log lines (common/log.c: log_limit_pass) and the line
 * formats (plain key=value, --log-format json), read back from stderr redirected to a file.
 *
 * Invariants: time is passed in explicitly (log_limit_pass takes the second), so no test sleeps or
 * depends on the clock. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"

/* The line(s) written by fn while stderr goes to a temporary file. */
static char *captured(void (*fn)(void))
{
    static char buf[8192];
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);

    assert_non_null(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

static void write_awkward(void)
{
    struct log_field f[] = {{"route", "/api/v1/x", false}, {"status", "201", true},
                            {"producer", "a \"b\"\\c\x01\xff", false}};
    log_write_fields(LOG_INFO, "access", "tab\tquote\" bad\xc3(", f, 3);
}

static void test_json_line_is_valid_json_with_typed_fields(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_JSON);
    char *line = captured(write_awkward);
    log_set_format(LOG_FORMAT_PLAIN);
    struct arena *a = arena_new();
    struct err e;
    size_t len = strlen(line);
    assert_true(len > 0 && line[len - 1] == '\n');
    struct json_value *v = json_parse(a, line, len - 1, 8, &e);
    assert_non_null(v);
    assert_string_equal(json_get_string(v, "level"), "info");
    assert_string_equal(json_get_string(v, "module"), "access");
    assert_string_equal(json_get_string(v, "msg"), "tab\tquote\" bad\xef\xbf\xbd(");
    assert_string_equal(json_get_string(v, "route"), "/api/v1/x");
    assert_int_equal(json_get(v, "status")->type, JSON_NUMBER);
    assert_string_equal(json_get_string(v, "producer"), "a \"b\"\\c\x01\xef\xbf\xbd");
    arena_free(a);
}

static void write_long(void)
{
    static char msg[LOG_LINE_MAX];
    memset(msg, 1, sizeof msg - 1); /* each becomes \u0001 in JSON: 6 times longer than the cap */
    msg[100] = '"';
    log_write(LOG_WARN, "test", "%s", msg);
}

static void test_json_line_cut_stays_valid(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_JSON);
    char *line = captured(write_long);
    log_set_format(LOG_FORMAT_PLAIN);
    struct arena *a = arena_new();
    struct err e;
    size_t len = strlen(line);
    assert_true(len < LOG_LINE_MAX + 128);
    struct json_value *v = json_parse(a, line, len - 1, 8, &e);
    assert_non_null(v);
    assert_true(json_is_true(json_get(v, "truncated")));
    const char *m = json_get_string(v, "msg");
    assert_true(strlen(m) > 200);
    assert_int_equal(m[0], 1);
    assert_int_equal(m[100], '"');
    arena_free(a);
}

static void test_plain_fields_quoted_when_needed(void **state)
{
    (void)state;
    char *line = captured(write_awkward);
    char *fields = strstr(line, " access ");
    assert_non_null(fields);
    assert_non_null(strstr(fields, "route=/api/v1/x status=201 producer=\"a \\\"b\\\"\\\\c\\x01"));
    assert_non_null(strstr(line, "tab\\x09quote\" bad"));
}

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
        cmocka_unit_test(test_json_line_is_valid_json_with_typed_fields),
        cmocka_unit_test(test_json_line_cut_stays_valid),
        cmocka_unit_test(test_plain_fields_quoted_when_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
