/* tests/unit/common/test_http.c - path splitting, query parsing, parameters and error bodies
 * (common/http.c).
 *
 * Invariants:
 *  1. Error bodies are compared byte for byte with Marquez's shapes, then re-parsed as JSON.
 *  2. Tests use only the public headers; requests are built by hand.
 * Ownership: each test owns one arena (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "err.h"
#include "http.h"
#include "json.h"

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

/* Splits path, failing the test if it is rejected; returns the segment count. */
static size_t split_ok(struct arena *a, const char *path, const char ***segs)
{
    struct err e;
    size_t n = 99;

    err_clear(&e);
    if (http_split_path(a, path, segs, &n, &e) != 0)
        fail_msg("rejected path %s: %s", path, e.msg);
    return n;
}

static void assert_split_rejected_with(struct arena *a, const char *path, const char *msg)
{
    const char **segs = NULL;
    size_t n = 0;
    struct err e;

    err_clear(&e);
    if (http_split_path(a, path, &segs, &n, &e) != -1)
        fail_msg("accepted path %s", path);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_string_equal(e.where, "path");
    if (strstr(e.msg, msg) == NULL)
        fail_msg("path %s: message \"%s\" lacks \"%s\"", path, e.msg, msg);
}

static void assert_split_rejected(struct arena *a, const char *path)
{
    assert_split_rejected_with(a, path, "malformed percent-encoding");
}

/* A request whose params come from query string q. */
static struct req req_with_query(struct arena *a, const char *q)
{
    struct req r;
    struct err e;

    memset(&r, 0, sizeof r);
    r.arena = a;
    err_clear(&e);
    if (http_parse_query(a, q, &r.params, &r.n_params, &e) != 0)
        fail_msg("rejected query %s: %s", q ? q : "(null)", e.msg);
    return r;
}

static void test_split_path_keeps_encoded_slash_in_one_segment(void **state)
{
    const char **s;
    size_t n = split_ok(*state, "/api/v1/namespaces/oracle%3A%2F%2Fhost/datasets", &s);

    assert_int_equal(n, 5);
    assert_string_equal(s[0], "api");
    assert_string_equal(s[1], "v1");
    assert_string_equal(s[2], "namespaces");
    assert_string_equal(s[3], "oracle://host");
    assert_string_equal(s[4], "datasets");
}

static void test_split_path_decodes_each_segment(void **state)
{
    const char **s;
    size_t n = split_ok(*state, "/a%20b/c+d/%C3%A9/%2e%2E", &s);

    assert_int_equal(n, 4);
    assert_string_equal(s[0], "a b");
    assert_string_equal(s[1], "c+d"); /* '+' is only a space in query strings */
    assert_string_equal(s[2], "\xc3\xa9");
    assert_string_equal(s[3], "..");
}

static void test_split_path_root_and_empty_have_no_segments(void **state)
{
    const char **s;

    assert_int_equal(split_ok(*state, "/", &s), 0);
    assert_int_equal(split_ok(*state, "", &s), 0);
    assert_int_equal(split_ok(*state, "///", &s), 0);
}

static void test_split_path_ignores_one_trailing_slash(void **state)
{
    const char **s;
    size_t n = split_ok(*state, "/api/v1/lineage/", &s);

    assert_int_equal(n, 3);
    assert_string_equal(s[2], "lineage");
    assert_int_equal(split_ok(*state, "api/v1/lineage", &s), 3);
}

static void test_split_path_ignores_leading_repeated_slashes(void **state)
{
    const char **s;
    size_t n = split_ok(*state, "//api/v1", &s);

    assert_int_equal(n, 2);
    assert_string_equal(s[0], "api");
    assert_string_equal(s[1], "v1");
}

static void test_split_path_keeps_inner_empty_segment(void **state)
{
    const char **s;
    size_t n = split_ok(*state, "/api//v1", &s);

    /* Not collapsed: "/api//v1" is a different path from "/api/v1" and matches no route. */
    assert_int_equal(n, 3);
    assert_string_equal(s[0], "api");
    assert_string_equal(s[1], "");
    assert_string_equal(s[2], "v1");
}

static void test_split_path_handles_many_segments(void **state)
{
    const char **s;
    size_t n = split_ok(*state, "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20", &s);

    assert_int_equal(n, 20);
    assert_string_equal(s[0], "1");
    assert_string_equal(s[8], "9");
    assert_string_equal(s[19], "20");
}

static void test_split_path_rejects_malformed_escapes(void **state)
{
    assert_split_rejected(*state, "/api/%");
    assert_split_rejected(*state, "/api/%2");
    assert_split_rejected(*state, "/api/%2/x");
    assert_split_rejected(*state, "/api/%zz");
    assert_split_rejected(*state, "/api/%G1");
    assert_split_rejected(*state, "/api/%1g/x");
}

static void test_split_path_rejects_encoded_nul(void **state)
{
    assert_split_rejected_with(*state, "/api/%00", "path segment \"%00\" contains a NUL byte (%00)");
    assert_split_rejected_with(*state, "/api/a%00b/c", "path segment \"a%00b\" contains a NUL byte");
}

/* Each row: a raw path and the message it must get (the raw text with non-ASCII bytes as %XX). */
static void test_split_path_rejects_segments_that_are_not_utf8(void **state)
{
    static const char *const rows[][2] = {
        {"/api/v1/namespaces/%ff",
         "path segment \"%ff\" is not valid UTF-8 once percent-decoded: a byte that "
         "never occurs in UTF-8"},
        {"/api/v1/namespaces/%C0%AF/jobs",
         "path segment \"%C0%AF\" is not valid UTF-8 once percent-decoded: an "
         "overlong encoding"},
        {"/x/%ed%a0%80",
         "path segment \"%ed%a0%80\" is not valid UTF-8 once percent-decoded: an encoded UTF-16 "
         "surrogate (U+D800..U+DFFF)"},
        {"/x/%f4%90%80%80", "not valid UTF-8 once percent-decoded: a code point above U+10FFFF"},
        {"/x/ab%e2%82", "path segment \"ab%e2%82\" is not valid UTF-8 once percent-decoded: an incomplete"},
        {"/x/\xff\xfe", "path segment \"%FF%FE\" is not valid UTF-8"},
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_split_rejected_with(*state, rows[i][0], rows[i][1]);
    /* Valid multi-byte text passes, raw or encoded. */
    const char **segs;
    assert_int_equal(split_ok(*state, "/a/caf%C3%A9/\xe2\x82\xac", &segs), 3);
    assert_string_equal(segs[1], "caf\xc3\xa9");
    assert_string_equal(segs[2], "\xe2\x82\xac");
}

static void test_percent_decode_plus_only_in_query_mode(void **state)
{
    assert_string_equal(http_percent_decode(*state, "a+b%2B", 6, false), "a+b+");
    assert_string_equal(http_percent_decode(*state, "a+b%2B", 6, true), "a b+");
    assert_string_equal(http_percent_decode(*state, "%41%62", 3, false), "A");
    assert_null(http_percent_decode(*state, "%41%62", 5, false)); /* stops inside the 2nd escape */
    assert_string_equal(http_percent_decode(*state, "", 0, true), "");
    assert_null(http_percent_decode(*state, "%4", 2, false));
    assert_null(http_percent_decode(*state, "%00", 3, false));
}

static void test_parse_query_decodes_plus_and_escapes_in_order(void **state)
{
    struct req r = req_with_query(*state, "q=hello+world%21&b=2&a=1&name=oracle%3A%2F%2Fh");

    assert_int_equal(r.n_params, 4);
    assert_string_equal(r.params[0].name, "q");
    assert_string_equal(r.params[0].value, "hello world!");
    assert_string_equal(r.params[1].name, "b");
    assert_string_equal(r.params[2].name, "a");
    assert_string_equal(r.params[3].value, "oracle://h");
}

static void test_parse_query_decodes_names_too(void **state)
{
    struct req r = req_with_query(*state, "my+key%3D=x%3Dy");

    assert_int_equal(r.n_params, 1);
    assert_string_equal(r.params[0].name, "my key=");
    assert_string_equal(r.params[0].value, "x=y");
}

static void test_parse_query_accepts_bare_and_empty_values(void **state)
{
    struct req r = req_with_query(*state, "a&b=&c=3");

    assert_int_equal(r.n_params, 3);
    assert_string_equal(r.params[0].name, "a");
    assert_string_equal(r.params[0].value, "");
    assert_string_equal(r.params[1].name, "b");
    assert_string_equal(r.params[1].value, "");
    assert_string_equal(r.params[2].value, "3");
}

static void test_parse_query_value_keeps_later_equals(void **state)
{
    struct req r = req_with_query(*state, "expr=a=b");

    assert_int_equal(r.n_params, 1);
    assert_string_equal(r.params[0].value, "a=b");
}

static void test_parse_query_skips_empty_pairs(void **state)
{
    struct req r = req_with_query(*state, "&a=1&&b=2&");

    assert_int_equal(r.n_params, 2);
    assert_string_equal(r.params[0].name, "a");
    assert_string_equal(r.params[1].name, "b");
}

static void test_parse_query_empty_or_null_has_no_params(void **state)
{
    struct req r = req_with_query(*state, "");

    assert_int_equal(r.n_params, 0);
    r = req_with_query(*state, NULL);
    assert_int_equal(r.n_params, 0);
    assert_null(http_param(&r, "a"));
}

static void test_parse_query_rejects_bad_escapes(void **state)
{
    static const char *const bad[] = {"a=%zz", "a=%", "a=1&b=%2", "%zz=1", "a=%00", "a%00=1"};
    struct http_param *ps;
    size_t n;
    struct err e;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&e);
        if (http_parse_query(*state, bad[i], &ps, &n, &e) != -1)
            fail_msg("accepted query %s", bad[i]);
        assert_int_equal(e.kind, ERR_BAD_INPUT);
        assert_string_equal(e.where, "query");
    }
}

static void test_parse_query_rejects_text_that_is_not_utf8(void **state)
{
    static const char *const rows[][2] = {
        {"nodeId=job%3A%ff%3Ax", "query parameter nodeId: value \"job%3A%ff%3Ax\" is not valid UTF-8 once "
                                 "percent-decoded: a byte that never occurs in UTF-8"},
        {"limit=1&q=%c0%80",
         "query parameter q: value \"%c0%80\" is not valid UTF-8 once percent-decoded: an "
         "overlong encoding"},
        {"q=a\xed\xa0\x80", "query parameter q: value \"a%ED%A0%80\" is not valid UTF-8"},
        {"%ff=1", "query parameter name \"%ff\" is not valid UTF-8 once percent-decoded"},
        {"timezone=%00", "query parameter timezone: value \"%00\" contains a NUL byte (%00)"},
    };
    struct http_param *ps;
    size_t n;
    struct err e;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        err_clear(&e);
        if (http_parse_query(*state, rows[i][0], &ps, &n, &e) != -1)
            fail_msg("accepted query %s", rows[i][0]);
        assert_int_equal(e.kind, ERR_BAD_INPUT);
        assert_string_equal(e.where, "query");
        if (strstr(e.msg, rows[i][1]) == NULL)
            fail_msg("query %s: message \"%s\" lacks \"%s\"", rows[i][0], e.msg, rows[i][1]);
    }
}

static void test_param_returns_last_value(void **state)
{
    struct req r = req_with_query(*state, "limit=1&x=y&limit=2");

    assert_string_equal(http_param(&r, "limit"), "2");
    assert_string_equal(http_param(&r, "x"), "y");
    assert_null(http_param(&r, "lim"));
    assert_null(http_param(&r, "limitx"));
}

static void test_param_int_uses_default_when_absent_or_empty(void **state)
{
    struct req r = req_with_query(*state, "offset=");
    struct err e;
    long v = 0;

    err_clear(&e);
    assert_int_equal(http_param_int(&r, "limit", 100, 1, 1000, &v, &e), 0);
    assert_int_equal(v, 100);
    v = 0;
    assert_int_equal(http_param_int(&r, "offset", 7, 0, 10, &v, &e), 0);
    assert_int_equal(v, 7);
}

static void test_param_int_accepts_range_ends(void **state)
{
    struct req r = req_with_query(*state, "lo=-5&hi=1000&mid=42");
    struct err e;
    long v = 0;

    err_clear(&e);
    assert_int_equal(http_param_int(&r, "lo", 0, -5, 1000, &v, &e), 0);
    assert_int_equal(v, -5);
    assert_int_equal(http_param_int(&r, "hi", 0, -5, 1000, &v, &e), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(http_param_int(&r, "mid", 0, -5, 1000, &v, &e), 0);
    assert_int_equal(v, 42);
}

static void assert_param_int_rejected(struct arena *a, const char *query, const char *msg)
{
    struct req r = req_with_query(a, query);
    struct err e;
    long v = 12345;

    err_clear(&e);
    if (http_param_int(&r, "limit", 10, 1, 100, &v, &e) != -1)
        fail_msg("accepted %s", query);
    assert_int_equal(e.kind, ERR_BAD_PARAM);
    assert_string_equal(e.where, "limit");
    assert_string_equal(e.msg, msg);
    assert_int_equal(v, 12345);
}

static void test_param_int_rejects_out_of_range(void **state)
{
    assert_param_int_rejected(*state, "limit=0", "must be greater than or equal to 1");
    assert_param_int_rejected(*state, "limit=101", "must be less than or equal to 100");
    assert_param_int_rejected(*state, "limit=-1", "must be greater than or equal to 1");
    assert_param_int_rejected(*state, "limit=99999999999999999999999", "is not a number.");
}

static void test_param_int_rejects_garbage(void **state)
{
    assert_param_int_rejected(*state, "limit=abc", "is not a number.");
    assert_param_int_rejected(*state, "limit=5x", "is not a number.");
    assert_param_int_rejected(*state, "limit=1.5", "is not a number.");
    assert_param_int_rejected(*state, "limit=0x10", "is not a number.");
    assert_param_int_rejected(*state, "limit=5+", "is not a number.");
    assert_param_int_rejected(*state, "limit=-", "is not a number.");
}

static void test_param_int_uses_last_value(void **state)
{
    struct req r = req_with_query(*state, "limit=abc&limit=5");
    struct err e;
    long v = 0;

    err_clear(&e);
    assert_int_equal(http_param_int(&r, "limit", 10, 1, 100, &v, &e), 0);
    assert_int_equal(v, 5);
}

/* Checks reply status, content type and exact body, and that the body parses as JSON. */
static void assert_reply(struct arena *a, const struct reply *out, int status, const char *body)
{
    struct err e;

    assert_int_equal(out->status, status);
    assert_non_null(out->body);
    assert_string_equal(out->content_type, "application/json");
    assert_string_equal(out->body, body);
    assert_int_equal(out->body_len, strlen(body));
    err_clear(&e);
    assert_non_null(json_parse(a, out->body, out->body_len, 8, &e));
}

static void test_reply_error_invalid_is_422_errors_list_with_where(void **state)
{
    struct reply out = {0};
    struct err e;

    err_set(&e, ERR_INVALID, "run.runId", "must not be null");
    http_reply_error(&out, *state, &e, "req-1");
    assert_reply(*state, &out, 422, "{\"errors\":[\"run.runId must not be null\"]}");
}

static void test_reply_error_invalid_without_where_is_msg_alone(void **state)
{
    struct reply out = {0};
    struct err e;

    err_set(&e, ERR_INVALID, NULL, "event needs \"run\"");
    http_reply_error(&out, *state, &e, "req-1");
    assert_reply(*state, &out, 422, "{\"errors\":[\"event needs \\\"run\\\"\"]}");
}

static void test_reply_error_not_found_is_code_and_message(void **state)
{
    struct reply out = {0};
    struct err e;

    err_set(&e, ERR_NOT_FOUND, "namespace", "Namespace 'x' not found");
    http_reply_error(&out, *state, &e, "req-1");
    assert_reply(*state, &out, 404, "{\"code\":404,\"message\":\"Namespace 'x' not found\"}");
}

static void test_reply_error_with_adds_one_member_after_the_message(void **state)
{
    struct reply out = {0};
    struct err e;

    err_set(&e, ERR_CONFLICT, "name", "name \"x\" is ambiguous");
    http_reply_error_with(&out, *state, &e, "req-1", "candidates", "[{\"nodeId\":\"job:a:x\"}]");
    assert_reply(*state, &out, 409,
                 "{\"code\":409,\"message\":\"name \\\"x\\\" is "
                 "ambiguous\",\"candidates\":[{\"nodeId\":\"job:a:x\"}]}");
    /* the {"errors":[...]} shapes and a 500 take nothing more */
    err_set(&e, ERR_BAD_PARAM, "limit", "is not a number.");
    http_reply_error_with(&out, *state, &e, "req-1", "candidates", "[]");
    assert_reply(*state, &out, 400, "{\"errors\":[\"query param limit is not a number.\"]}");
    err_set(&e, ERR_INTERNAL, NULL, "boom");
    http_reply_error_with(&out, *state, &e, "req-2", "candidates", "[]");
    assert_reply(*state, &out, 500, "{\"code\":500,\"message\":\"internal error, logged as request req-2\"}");
}

static void test_reply_error_maps_each_kind_to_its_status(void **state)
{
    static const struct {
        enum err_kind kind;
        int status;
    } cases[] = {{ERR_BAD_INPUT, 400},   {ERR_METHOD, 405},       {ERR_CONFLICT, 409},  {ERR_TOO_LARGE, 413},
                 {ERR_UNSUPPORTED, 415}, {ERR_UNAUTHORIZED, 401}, {ERR_FORBIDDEN, 403}, {ERR_UNAVAILABLE, 503}};
    char want[128];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct reply out = {0};
        struct err e;
        err_set(&e, cases[i].kind, "x", "m%zu", i);
        http_reply_error(&out, *state, &e, "req-1");
        snprintf(want, sizeof want, "{\"code\":%d,\"message\":\"m%zu\"}", cases[i].status, i);
        assert_reply(*state, &out, cases[i].status, want);
    }
}

static void test_reply_error_internal_names_request_id_never_detail(void **state)
{
    struct reply out = {0};
    struct err e;

    err_set_detail(&e, ERR_INTERNAL, "FATAL: password authentication failed for user \"lineaged\"",
                   "could not write the event: secret-token");
    http_reply_error(&out, *state, &e, "0123456789abcdef");
    assert_int_equal(out.status, 500);
    assert_null(strstr(out.body, "password"));
    assert_null(strstr(out.body, "secret-token"));
    assert_non_null(strstr(out.body, "0123456789abcdef"));
    assert_reply(*state, &out, 500,
                 "{\"code\":500,\"message\":\"internal error, logged as request 0123456789abcdef\"}");
}

static void test_reply_error_unset_kind_is_internal(void **state)
{
    struct reply out = {0};
    struct err e;

    err_clear(&e);
    http_reply_error(&out, *state, &e, "r9");
    assert_int_equal(out.status, 500);
    assert_non_null(strstr(out.body, "r9"));
}

static void test_reply_validation_lists_messages_in_order(void **state)
{
    static const char *const msgs[] = {"[0].run.runId must not be null", "[1].producer must not be null"};
    struct reply out = {0};

    http_reply_validation(&out, *state, msgs, 2);
    assert_reply(*state, &out, 422,
                 "{\"errors\":[\"[0].run.runId must not be null\",\"[1].producer must not be null\"]}");
    http_reply_validation(&out, *state, NULL, 0);
    assert_reply(*state, &out, 422, "{\"errors\":[]}");
}

/* A message holding stray bytes (a quoted header value, a name cut mid-character) still makes a
 * UTF-8 body: the bad bytes become U+FFFD. */
static void test_reply_error_bodies_are_utf8_whatever_the_message(void **state)
{
    struct reply out = {0};
    struct err e;

    err_set(&e, ERR_UNSUPPORTED, NULL, "Content-Type \"%s\" is not supported", "text/\xff\xc0\xaf");
    http_reply_error(&out, *state, &e, "r1");
    assert_reply(
        *state, &out, 415,
        "{\"code\":415,\"message\":\"Content-Type \\\"text/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\\\" is "
        "not supported\"}");
    err_set(&e, ERR_INVALID, "job.name", "is \"\xe2\x82\"");
    http_reply_error(&out, *state, &e, "r2");
    assert_reply(*state, &out, 422, "{\"errors\":[\"job.name is \\\"\xef\xbf\xbd\xef\xbf\xbd\\\"\"]}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_split_path_keeps_encoded_slash_in_one_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_path_rejects_segments_that_are_not_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_query_rejects_text_that_is_not_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_error_bodies_are_utf8_whatever_the_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_split_path_decodes_each_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_path_root_and_empty_have_no_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_path_ignores_one_trailing_slash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_path_ignores_leading_repeated_slashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_path_keeps_inner_empty_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_path_handles_many_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_path_rejects_malformed_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_path_rejects_encoded_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_percent_decode_plus_only_in_query_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_query_decodes_plus_and_escapes_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_query_decodes_names_too, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_query_accepts_bare_and_empty_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_query_value_keeps_later_equals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_query_skips_empty_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_query_empty_or_null_has_no_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_query_rejects_bad_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_returns_last_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_int_uses_default_when_absent_or_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_int_accepts_range_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_int_rejects_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_int_rejects_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_param_int_uses_last_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_error_invalid_is_422_errors_list_with_where, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reply_error_invalid_without_where_is_msg_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_error_not_found_is_code_and_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_error_with_adds_one_member_after_the_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reply_error_maps_each_kind_to_its_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_error_internal_names_request_id_never_detail, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reply_error_unset_kind_is_internal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_validation_lists_messages_in_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
