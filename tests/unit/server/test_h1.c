/* tests/unit/server/test_h1.c - HTTP/1.1 request framing (server/h1.c): head scan, head checks, bodies.
 *
 * Invariants:
 *  1. Every refusal is checked for its kind and for a word of its message, so a test fails when a
 *     request is refused for the wrong reason (a smuggling probe refused only by accident).
 *  2. Heads are scanned in pieces of every size from 1 byte up, as a slow client sends them.
 *  3. Tests use only server/h1.h (no sockets).
 * Ownership: each test owns one arena and one parser (setup/teardown). Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "h1.h"

enum { MAX_HEAD = 4096 };

struct fixture {
    struct arena *a;
    struct h1_parser *p;
};

static int setup(void **state)
{
    static struct fixture f;

    h1_init(MAX_HEAD);
    f.a = arena_new();
    f.p = h1_parser_new();
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    arena_free(f->a);
    h1_parser_free(f->p);
    return 0;
}

/* Scans raw in pieces of `piece` bytes; returns the head length, 0 or -1. */
static long scan_in_pieces(const char *raw, size_t len, size_t piece, struct err *e)
{
    struct h1_scan s = {0};
    long n = 0;

    for (size_t off = 0; off < len && n == 0; off += piece) {
        size_t k = len - off < piece ? len - off : piece;
        n = h1_scan_head(&s, raw + off, k, MAX_HEAD, e);
    }
    return n;
}

/* Scans and parses raw's head (whole); returns h1_parse_head's result, -2 if the scan refused it. */
static int parse(struct fixture *f, const char *raw, struct h1_head *h, struct err *e)
{
    long n = scan_in_pieces(raw, strlen(raw), strlen(raw), e);

    if (n <= 0)
        return -2;
    return h1_parse_head(f->p, f->a, raw, (size_t)n, h, e);
}

/* raw must be refused (by the scan or the parse) with kind and a message containing word. */
static void assert_refused(struct fixture *f, const char *raw, enum err_kind kind, const char *word)
{
    struct h1_head h;
    struct err e;

    err_clear(&e);
    if (parse(f, raw, &h, &e) == 0)
        fail_msg("accepted: %s", raw);
    if (e.kind != kind || strstr(e.msg, word) == NULL)
        fail_msg("refused with kind %d \"%s\", expected kind %d mentioning \"%s\"; request: %s", (int)e.kind, e.msg,
                 (int)kind, word, raw);
}

static void test_scan_finds_head_end_in_any_pieces(void **state)
{
    static const char raw[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n";
    size_t head = strlen("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    struct err e;
    (void)state;

    for (size_t piece = 1; piece <= sizeof raw; piece++)
        assert_int_equal(scan_in_pieces(raw, sizeof raw - 1, piece, &e), (long)head);
}

static void test_scan_waits_for_incomplete_head(void **state)
{
    struct err e;
    (void)state;

    assert_int_equal(scan_in_pieces("GET / HTTP/1.1\r\nHost: x\r\n", 25, 3, &e), 0);
    assert_int_equal(scan_in_pieces("GET / HTTP/1.1\r\nHost: x\r\n\r", 26, 1, &e), 0);
}

static void test_scan_skips_empty_lines_before_request_line(void **state)
{
    static const char raw[] = "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    struct err e;
    (void)state;

    assert_int_equal(scan_in_pieces(raw, sizeof raw - 1, 2, &e), (long)(sizeof raw - 1));
}

static void test_scan_refuses_bare_lf_bare_cr_nul_and_folding(void **state)
{
    struct fixture *f = *state;

    assert_refused(f, "GET / HTTP/1.1\nHost: x\n\n", ERR_BAD_INPUT, "bare LF");
    assert_refused(f, "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", ERR_BAD_INPUT, "bare CR");
    assert_refused(f, "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", ERR_BAD_INPUT, "folding");
    assert_refused(f, "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n", ERR_BAD_INPUT, "folding");
    assert_refused(f, " GET / HTTP/1.1\r\nHost: x\r\n\r\n", ERR_BAD_INPUT, "whitespace");
    struct err e;
    static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
    assert_int_equal(scan_in_pieces(nul, sizeof nul - 1, 4, &e), -1);
    assert_non_null(strstr(e.msg, "NUL"));
}

static void test_scan_refuses_head_over_limit(void **state)
{
    char raw[MAX_HEAD + 64];
    struct err e;
    (void)state;

    snprintf(raw, sizeof raw, "GET / HTTP/1.1\r\nHost: x\r\nX: ");
    size_t n = strlen(raw);
    memset(raw + n, 'a', sizeof raw - n - 1);
    raw[sizeof raw - 1] = '\0';
    assert_int_equal(scan_in_pieces(raw, sizeof raw - 1, 100, &e), -1);
    assert_int_equal(e.kind, ERR_HEADERS_TOO_LARGE);
}

/* The three probes issue 11 names, and the other ways to give a body two lengths. */
static void test_smuggling_probes_are_refused(void **state)
{
    struct fixture *f = *state;

    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n", ERR_BAD_INPUT,
                   "Content-Length");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", ERR_BAD_INPUT,
                   "Content-Length");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n", ERR_BAD_INPUT, "content-length");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 2\r\n\r\n", ERR_BAD_INPUT, "whitespace");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
                   ERR_BAD_INPUT, "Transfer-Encoding");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
                   ERR_BAD_INPUT, "Transfer-Encoding");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ERR_BAD_INPUT,
                   "Transfer-Encoding");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                   ERR_BAD_INPUT, "Transfer-Encoding");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", ERR_BAD_INPUT,
                   "Transfer-Encoding");
    assert_refused(f, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ERR_BAD_INPUT, "HTTP/1.0");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1,1\r\n\r\n", ERR_BAD_INPUT, "content-length");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", ERR_BAD_INPUT, "content-length");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", ERR_BAD_INPUT,
                   "ontent");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n", ERR_BAD_INPUT, "whitespace");
}

static void test_field_names_must_be_tokens(void **state)
{
    struct fixture *f = *state;

    assert_refused(f, "GET / HTTP/1.1\r\nHost: x\r\nX(y): 1\r\n\r\n", ERR_BAD_INPUT, "header");
    assert_refused(f, "GET / HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n", ERR_BAD_INPUT, "header");
    assert_refused(f, "GET / HTTP/1.1\r\nHost: x\r\nX\t: 1\r\n\r\n", ERR_BAD_INPUT, "header");
    assert_refused(f, "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01z\r\n\r\n", ERR_BAD_INPUT, "header");
    assert_refused(f, "GET / HTTP/1.1\r\nHost: x\r\nX: a\x7fz\r\n\r\n", ERR_BAD_INPUT, "header");
}

static void test_host_rules_and_ambiguous_repeats(void **state)
{
    struct fixture *f = *state;

    assert_refused(f, "GET / HTTP/1.1\r\n\r\n", ERR_BAD_INPUT, "Host");
    assert_refused(f, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", ERR_BAD_INPUT, "Host");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", ERR_BAD_INPUT,
                   "Content-Type");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Encoding: identity\r\n\r\n",
                   ERR_BAD_INPUT, "Content-Encoding");
    assert_refused(f, "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n",
                   ERR_BAD_INPUT, "Authorization");
}

static void test_versions_methods_and_targets(void **state)
{
    struct fixture *f = *state;

    assert_refused(f, "GET / HTTP/2.0\r\nHost: x\r\n\r\n", ERR_BAD_INPUT, "HTTP/2.0");
    assert_refused(f, "GET / HTTP/1.2\r\nHost: x\r\n\r\n", ERR_BAD_INPUT, "HTTP/1.2");
    assert_refused(f, "GET /\r\n\r\n", ERR_BAD_INPUT, "HTTP/0.9");
    assert_refused(f, "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", ERR_BAD_INPUT, "CONNECT");
    assert_refused(f, "GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", ERR_BAD_INPUT, "fragment");
    assert_refused(f, "GET * HTTP/1.1\r\nHost: x\r\n\r\n", ERR_BAD_INPUT, "target");
    assert_refused(f, "FOO / HTTP/1.1\r\nHost: x\r\n\r\n", ERR_BAD_INPUT, "method");
}

static void test_head_fields_and_target_are_kept(void **state)
{
    struct fixture *f = *state;
    struct h1_head h;
    struct err e;

    assert_int_equal(parse(f, "GET http://h:5/api/v1/x%2Fy?q=1&r HTTP/1.1\r\nHost: h\r\nX-A:  v w \t\r\n\r\n", &h, &e),
                     0);
    assert_string_equal(h.method, "GET");
    assert_string_equal(h.path, "/api/v1/x%2Fy");
    assert_string_equal(h.query, "q=1&r");
    assert_int_equal(h.n_fields, 2);
    assert_string_equal(h1_field(&h, "x-a"), "v w");
    assert_int_equal(h.framing, H1_BODY_NONE);
    assert_true(h.keep_alive);
    assert_int_equal(parse(f, "GET /p HTTP/1.0\r\n\r\n", &h, &e), 0);
    assert_string_equal(h.path, "/p");
    assert_null(h.query);
    assert_false(h.keep_alive);
    assert_int_equal(parse(f, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", &h, &e), 0);
    assert_false(h.keep_alive);
    assert_int_equal(parse(f, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\nExpect: 100-Continue\r\n\r\n", &h, &e),
                     0);
    assert_int_equal(h.framing, H1_BODY_LENGTH);
    assert_int_equal(h.content_length, 7);
    assert_true(h.expect_continue);
}

/* Body sink: appends into a fixed buffer; fails past `limit` bytes. */
struct sink {
    char buf[256];
    size_t len, limit;
};

static int sink_fn(void *ctx, const char *data, size_t n, struct err *e)
{
    struct sink *s = ctx;

    if (s->len + n > s->limit)
        return err_set(e, ERR_TOO_LARGE, NULL, "over the test limit");
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return 0;
}

/* Parses raw's head, then feeds the rest `piece` bytes at a time; returns bytes of raw consumed in all
 * (head + body), or -1 with e set. */
static long read_request(struct fixture *f, const char *raw, size_t piece, struct sink *s, struct err *e)
{
    struct h1_head h;
    size_t len = strlen(raw);
    long head = scan_in_pieces(raw, len, len, e);
    bool done = false;

    if (head <= 0 || h1_parse_head(f->p, f->a, raw, (size_t)head, &h, e) != 0)
        return -1;
    size_t off = (size_t)head;
    while (!done && h.framing != H1_BODY_NONE && off < len) {
        size_t k = len - off < piece ? len - off : piece;
        long used = h1_parse_body(f->p, raw + off, k, sink_fn, s, &done, e);
        if (used < 0)
            return -1;
        off += (size_t)used;
        if ((size_t)used < k)
            break;
    }
    return (long)off;
}

static void test_bodies_stop_at_their_end(void **state)
{
    struct fixture *f = *state;
    static const char cl[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n";
    static const char chunked[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nTrailer-X: t\r\n\r\nGET / HTTP/1.1\r\n";
    struct err e;

    for (size_t piece = 1; piece < 40; piece++) {
        struct sink s = {.limit = sizeof s.buf};
        assert_int_equal(read_request(f, cl, piece, &s, &e), (long)(strstr(cl, "GET") - cl));
        assert_int_equal(s.len, 5);
        assert_memory_equal(s.buf, "hello", 5);
        struct sink t = {.limit = sizeof t.buf};
        assert_int_equal(read_request(f, chunked, piece, &t, &e), (long)(strstr(chunked, "GET") - chunked));
        assert_int_equal(t.len, 5);
        assert_memory_equal(t.buf, "hello", 5);
    }
}

static void test_body_errors(void **state)
{
    struct fixture *f = *state;
    struct sink s = {.limit = 3};
    struct err e;

    assert_int_equal(read_request(f, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", 64, &s, &e), -1);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    struct sink t = {.limit = sizeof t.buf};
    assert_int_equal(read_request(f, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n",
                                  64, &t, &e), -1);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_non_null(strstr(e.msg, "body"));
    struct sink u = {.limit = sizeof u.buf};
    assert_int_equal(read_request(f, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nab\r\n",
                                  64, &u, &e), -1);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
}

static void test_parser_is_reused_for_the_next_request(void **state)
{
    struct fixture *f = *state;
    struct h1_head h;
    struct err e;
    struct sink s = {.limit = 2};

    /* A request that failed mid-body must not leak its state into the next one. */
    assert_int_equal(read_request(f, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", 64, &s, &e), -1);
    assert_int_equal(parse(f, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n", &h, &e), 0);
    assert_string_equal(h.path, "/next");
    assert_int_equal(h.framing, H1_BODY_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan_finds_head_end_in_any_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_waits_for_incomplete_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_skips_empty_lines_before_request_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_refuses_bare_lf_bare_cr_nul_and_folding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_refuses_head_over_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_smuggling_probes_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_names_must_be_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_rules_and_ambiguous_repeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_methods_and_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_fields_and_target_are_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bodies_stop_at_their_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parser_is_reused_for_the_next_request, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
