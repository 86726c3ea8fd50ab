/* tests/unit/collector/test_body.c - Content-Type, Content-Encoding and gunzip limits (collector/body.c).
 *
 * Invariants:
 *  1. gzip input is produced here with zlib (deflateInit2, windowBits 15+16), never read from disk.
 *  2. Bombs are compressed from a small zero buffer in a loop: the test itself never holds the
 *     expanded data, so arena_charged() measures only what body_decode allocated (the decompressed
 *     text is adopted by the arena, so it counts there too).
 *  3. Tests use only the public headers; struct req and struct cfg are filled by hand.
 * Ownership: each test owns one arena (setup/teardown); gzip output is copied into it. The bomb is
 * malloc'd once for the group and freed by the group teardown.
 * Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "arena.h"
#include "body.h"
#include "cfg.h"
#include "err.h"
#include "http.h"

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

static struct cfg limits(long max_decompressed, int ratio)
{
    struct cfg c;

    memset(&c, 0, sizeof c);
    c.max_body_bytes = 16L * 1024 * 1024;
    c.max_decompressed_bytes = max_decompressed;
    c.max_gzip_ratio = ratio;
    c.max_json_depth = 64;
    return c;
}

static const char JSON[] = "application/json";

static struct req request(struct arena *a, const void *body, size_t len, const char *encoding,
                          const char *type)
{
    struct req r;

    memset(&r, 0, sizeof r);
    r.arena = a;
    r.method = HTTP_POST;
    r.path = "/api/v1/lineage";
    r.body = body;
    r.body_len = len;
    r.content_encoding = encoding;
    r.content_type = type;
    return r;
}

struct gz {
    unsigned char *data;
    size_t len;
};

/* gzip of `repeat` copies of src[0..len) (so large inputs need no large buffer). */
static struct gz gzip_repeat(const void *src, size_t len, size_t repeat)
{
    z_stream z;
    struct gz out = {NULL, 0};
    size_t cap = 1024 + len / 2 + repeat / 16;

    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    out.data = malloc(cap);
    assert_non_null(out.data);
    for (size_t i = 0; i <= repeat; i++) {
        int flush = i == repeat ? Z_FINISH : Z_NO_FLUSH;
        z.next_in = (unsigned char *)(i == repeat ? "" : src);
        z.avail_in = i == repeat ? 0 : (unsigned)len;
        int rc;
        do {
            if (out.len == cap) {
                cap *= 2;
                out.data = realloc(out.data, cap);
                assert_non_null(out.data);
            }
            z.next_out = out.data + out.len;
            z.avail_out = (unsigned)(cap - out.len);
            rc = deflate(&z, flush);
            assert_true(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
            out.len = cap - z.avail_out;
        } while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    }
    deflateEnd(&z);
    return out;
}

/* gzip of s, copied into the arena (so a failing test leaks nothing). */
static struct gz gzip_of(struct arena *a, const char *s)
{
    struct gz m = gzip_repeat(s, strlen(s), 1);
    struct gz out = {arena_alloc(a, m.len), m.len};

    memcpy(out.data, m.data, m.len);
    free(m.data);
    return out;
}

static const char *decode_ok(struct req *r, const struct cfg *c, size_t *len)
{
    struct err e;

    err_clear(&e);
    const char *out = body_decode(r, c, len, &e);
    if (out == NULL)
        fail_msg("rejected: %s", e.msg);
    return out;
}

static struct err decode_fail(struct req *r, const struct cfg *c)
{
    struct err e;
    size_t len = 12345;

    err_clear(&e);
    if (body_decode(r, c, &len, &e) != NULL)
        fail_msg("accepted a body it should reject (%zu bytes)", len);
    return e;
}

static const char *const DOC = "{\"eventType\":\"START\",\"producer\":\"p\"}";

static void test_identity_passes_body_through(void **state)
{
    static const char *const encodings[] = {NULL, "", "identity", "IDENTITY", " identity "};
    struct cfg c = limits(1024 * 1024, 200);

    for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
        struct req r = request(*state, DOC, strlen(DOC), encodings[i], "application/json");
        size_t len = 0;
        const char *out = decode_ok(&r, &c, &len);
        assert_int_equal(len, strlen(DOC));
        assert_memory_equal(out, DOC, len);
    }
}

static void test_identity_over_decompressed_limit_is_too_large(void **state)
{
    struct cfg c = limits(10, 200);
    struct req r = request(*state, DOC, strlen(DOC), NULL, JSON);
    struct err e = decode_fail(&r, &c);

    assert_int_equal(e.kind, ERR_TOO_LARGE);
    c = limits((long)strlen(DOC), 200);
    size_t len;
    assert_non_null(decode_ok(&r, &c, &len));
}

static void test_gzip_and_x_gzip_are_decoded(void **state)
{
    static const char *const encodings[] = {"gzip", "x-gzip", "GZip", "gzip ", "X-GZIP"};
    struct cfg c = limits(1024 * 1024, 200);
    struct gz gz = gzip_of(*state, DOC);

    for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
        struct req r = request(*state, gz.data, gz.len, encodings[i], "application/json");
        size_t len = 0;
        const char *out = decode_ok(&r, &c, &len);
        assert_int_equal(len, strlen(DOC));
        assert_string_equal(out, DOC); /* NUL-terminated */
    }
}

static void test_gzip_of_large_document_is_decoded_whole(void **state)
{
    struct arena *a = *state;
    const size_t n = 300 * 1000;
    char *doc = arena_alloc(a, n + 1);
    struct cfg c = limits(1024 * 1024, 200);

    uint32_t x = 12345;

    /* Pseudo-random letters (fixed seed): compress far below the ratio limit, and the document is
     * larger than one inflate chunk. */
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        doc[i] = (char)('a' + (x >> 16) % 26);
    }
    doc[n] = '\0';
    struct gz gz = gzip_of(a, doc);
    struct req r = request(a, gz.data, gz.len, "gzip", JSON);
    size_t len = 0;
    const char *out = decode_ok(&r, &c, &len);
    assert_int_equal(len, n);
    assert_memory_equal(out, doc, n);
    assert_int_equal(out[n], '\0');
}

static void test_gzip_of_empty_document_is_empty(void **state)
{
    struct cfg c = limits(1024, 200);
    struct gz gz = gzip_of(*state, "");
    struct req r = request(*state, gz.data, gz.len, "gzip", JSON);
    size_t len = 99;
    const char *out = decode_ok(&r, &c, &len);

    assert_int_equal(len, 0);
    assert_string_equal(out, "");
}

static void test_unknown_encoding_is_unsupported(void **state)
{
    static const char *const encodings[] = {"br",       "deflate", "compress", "zstd",
                                            "gzip, br", "gzipx",   "chunked"};
    struct cfg c = limits(1024 * 1024, 200);

    for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
        struct req r = request(*state, DOC, strlen(DOC), encodings[i], "application/json");
        struct err e = decode_fail(&r, &c);
        assert_int_equal(e.kind, ERR_UNSUPPORTED);
        assert_string_equal(e.where, "Content-Encoding");
        assert_non_null(strstr(e.msg, encodings[i]));
    }
}

static void test_corrupt_gzip_is_bad_input(void **state)
{
    struct cfg c = limits(1024 * 1024, 200);
    struct req r = request(*state, DOC, strlen(DOC), "gzip", JSON);
    struct err e = decode_fail(&r, &c);

    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_non_null(strstr(e.msg, "gzip"));
}

static void test_truncated_gzip_is_bad_input(void **state)
{
    struct cfg c = limits(1024 * 1024, 200);
    struct gz gz = gzip_of(*state, DOC);

    for (size_t cut = 1; cut < gz.len; cut += 3) {
        struct req r = request(*state, gz.data, gz.len - cut, "gzip", JSON);
        struct err e = decode_fail(&r, &c);
        assert_int_equal(e.kind, ERR_BAD_INPUT);
    }
}

static void test_gzip_with_bad_crc_is_bad_input(void **state)
{
    struct cfg c = limits(1024 * 1024, 200);
    struct gz gz = gzip_of(*state, DOC);

    gz.data[gz.len - 8] ^= 0x01; /* first byte of the CRC-32 trailer */
    struct req r = request(*state, gz.data, gz.len, "gzip", JSON);
    assert_int_equal(decode_fail(&r, &c).kind, ERR_BAD_INPUT);
}

static void test_empty_gzip_body_is_bad_input(void **state)
{
    struct cfg c = limits(1024 * 1024, 200);
    struct req r = request(*state, "", 0, "gzip", JSON);

    assert_int_equal(decode_fail(&r, &c).kind, ERR_BAD_INPUT);
}

/* Two gzip members back to back are one valid gzip stream (RFC 1952 2.2): the result must be the
 * whole document or an error, never the first member alone. */
static void test_multi_member_gzip_is_never_cut_short(void **state)
{
    struct cfg c = limits(1024 * 1024, 200);
    struct gz one = gzip_of(*state, "[{\"a\":1}"), two = gzip_of(*state, ",{\"b\":2}]");
    unsigned char *both = arena_alloc(*state, one.len + two.len);
    struct err e;
    size_t len = 0;

    memcpy(both, one.data, one.len);
    memcpy(both + one.len, two.data, two.len);
    struct req r = request(*state, both, one.len + two.len, "gzip", JSON);
    err_clear(&e);
    const char *out = body_decode(&r, &c, &len, &e);
    if (out != NULL && strcmp(out, "[{\"a\":1},{\"b\":2}]") != 0)
        fail_msg("two-member gzip decoded to \"%s\" (%zu bytes)", out, len);
}

/* Decoded size exactly at the limit passes; one byte over is 413. */
static void test_decompressed_limit_is_inclusive(void **state)
{
    struct arena *a = *state;
    char *doc = arena_alloc(a, 4097);
    struct cfg c = limits(4096, 100000);

    memset(doc, ' ', 4096);
    doc[0] = '1';
    doc[4096] = '\0';
    struct gz gz = gzip_of(a, doc);
    struct req r = request(a, gz.data, gz.len, "gzip", JSON);
    size_t len = 0;
    decode_ok(&r, &c, &len);
    assert_int_equal(len, 4096);
    c = limits(4095, 100000);
    struct err e = decode_fail(&r, &c);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
}

static void test_ratio_limit_rejects_highly_compressible_body(void **state)
{
    struct arena *a = *state;
    const size_t n = 100 * 1000;
    char *doc = arena_alloc(a, n + 1);
    struct cfg c = limits(64L * 1024 * 1024, 10);

    memset(doc, ' ', n);
    doc[0] = '0';
    doc[n] = '\0';
    struct gz gz = gzip_of(a, doc); /* ratio far above 10, size far below 64 MiB */
    assert_true(n / gz.len > 10);
    struct req r = request(a, gz.data, gz.len, "gzip", JSON);
    struct err e = decode_fail(&r, &c);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    assert_non_null(strstr(e.msg, "gzip"));
    /* The same body under a generous ratio is fine. */
    c = limits(64L * 1024 * 1024, 100000);
    size_t len = 0;
    decode_ok(&r, &c, &len);
    assert_int_equal(len, n);
}

static void test_ratio_limit_allows_ordinary_json(void **state)
{
    struct cfg c = limits(64L * 1024 * 1024, 2);
    /* Short, varied text: compresses to about its own size, far below a ratio of 2. */
    struct gz gz = gzip_of(*state, "{\"q\":\"x7Kp2mZ\",\"v\":[3,1,4,1,5,9,2,6]}");
    struct req r = request(*state, gz.data, gz.len, "gzip", "application/json");
    size_t len = 0;

    assert_string_equal(decode_ok(&r, &c, &len), "{\"q\":\"x7Kp2mZ\",\"v\":[3,1,4,1,5,9,2,6]}");
}

/* 50 MB of zeros compresses to about 50 KB. Whichever limit applies, decoding must stop at it:
 * 413, and the arena must never hold more than twice that limit. */
static struct gz bomb; /* made once (group setup): compressing 50 MB is the slow part */

static int make_bomb(void **state)
{
    static unsigned char zeros[64 * 1024];

    (void)state;
    bomb = gzip_repeat(zeros, sizeof zeros, 50 * 1000 * 1000 / sizeof zeros);
    return 0;
}

static int free_bomb(void **state)
{
    (void)state;
    free(bomb.data);
    return 0;
}

static void assert_bomb_contained(struct arena *a, long max_decompressed, int ratio)
{
    const struct gz gz = bomb;
    struct cfg c = limits(max_decompressed, ratio);
    size_t ratio_cap = (size_t)ratio * gz.len;
    size_t limit = (size_t)max_decompressed < ratio_cap ? (size_t)max_decompressed : ratio_cap;

    arena_reset(a);
    struct req r = request(a, gz.data, gz.len, "gzip", "application/json");
    struct err e = decode_fail(&r, &c);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    assert_true(gz.len < 100 * 1000);
    if (arena_charged(a) >= 2 * limit + 64 * 1024)
        fail_msg("bomb of %zu bytes (--max-decompressed-bytes %ld, --max-gzip-ratio %d, limit %zu): "
                 "arena holds %zu bytes, %.2fx the limit",
                 gz.len, max_decompressed, ratio, limit, arena_charged(a),
                 (double)arena_charged(a) / (double)limit);
}

static void test_gzip_bomb_stops_at_decompressed_limit(void **state)
{
    assert_bomb_contained(*state, 1024 * 1024, 100000);
}

static void test_gzip_bomb_stops_at_ratio_limit_with_default_settings(void **state)
{
    /* The defaults: --max-decompressed-bytes 67108864, --max-gzip-ratio 200. */
    assert_bomb_contained(*state, 67108864, 200);
}

static void test_gzip_bomb_memory_bounded_for_any_limit(void **state)
{
    static const long maxes[] = {1024, 65536, 1000000, 3 * 1000 * 1000, 8 * 1024 * 1024};

    for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++)
        assert_bomb_contained(*state, maxes[i], 100000);
}

static void test_non_json_content_type_is_unsupported(void **state)
{
    static const char *const types[] = {"text/html", "application/xml", "application/jsonp",
                                        "multipart/form-data; boundary=x", "application/json-seq"};
    struct cfg c = limits(1024 * 1024, 200);

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct req r = request(*state, DOC, strlen(DOC), NULL, types[i]);
        struct err e = decode_fail(&r, &c);
        assert_int_equal(e.kind, ERR_UNSUPPORTED);
        assert_string_equal(e.where, "Content-Type");
    }
}

static void test_json_content_types_are_accepted(void **state)
{
    static const char *const types[] = {"application/json",
                                        "application/json; charset=UTF-8",
                                        "application/json;charset=utf-8",
                                        "application/json; charset=\"utf-8\"",
                                        "Application/JSON",
                                        "  application/json  ",
                                        "application/vnd.openlineage+json",
                                        "application/json; foo=bar"};
    struct cfg c = limits(1024 * 1024, 200);

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct req r = request(*state, DOC, strlen(DOC), NULL, types[i]);
        size_t len = 0;
        assert_string_equal(decode_ok(&r, &c, &len), DOC);
    }
}

/* What a web page can POST cross-site without a CORS preflight (no type, text/plain, forms), and JSON
 * in another charset, is refused: 415 naming Content-Type (issue 11, item 5). */
static void test_cross_site_and_non_utf8_types_are_unsupported(void **state)
{
    static const char *const types[] = {NULL,
                                        "",
                                        "text/plain",
                                        "text/plain; charset=utf-8",
                                        "application/x-www-form-urlencoded",
                                        "multipart/form-data; boundary=x",
                                        "*/*",
                                        "application/*",
                                        "application/json; charset=iso-8859-1",
                                        "application/json; charset=utf-16",
                                        "application/+json",
                                        "application/json garbage",
                                        "text/json+x"};
    struct cfg c = limits(1024 * 1024, 200);

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct req r = request(*state, DOC, strlen(DOC), NULL, types[i]);
        struct err e = decode_fail(&r, &c);
        if (e.kind != ERR_UNSUPPORTED)
            fail_msg("Content-Type \"%s\": kind %d, not 415", types[i] ? types[i] : "(none)", (int)e.kind);
        assert_string_equal(e.where, "Content-Type");
    }
}

static void test_content_type_checked_before_decoding(void **state)
{
    struct cfg c = limits(1024 * 1024, 200);
    struct req r = request(*state, "garbage", 7, "gzip", "text/html");

    assert_int_equal(decode_fail(&r, &c).kind, ERR_UNSUPPORTED);
}

/* The decompressed text counts in the request's memory: a request arena with a small budget stops the
 * inflation at it (413 for its own limit, 503 for the shared one), below the gzip limits. */
static void test_gzip_output_counts_in_the_request_budget(void **state)
{
    struct cfg c = limits(64L * 1024 * 1024, 100000);
    struct arena_budget shared = {.max = 1 << 30};
    struct arena *a = arena_new();
    (void)state;

    atomic_init(&shared.used, 0);
    arena_set_budget(a, &shared, 2 << 20);
    struct req r = request(a, bomb.data, bomb.len, "gzip", JSON);
    struct err e = decode_fail(&r, &c);
    assert_int_equal(e.kind, ERR_TOO_LARGE);
    assert_non_null(strstr(e.msg, "--max-request-mb"));
    assert_true(arena_charged(a) < (3 << 20));
    arena_free(a);
    shared.max = 1 << 20; /* now the shared budget is the short one */
    a = arena_new();
    arena_set_budget(a, &shared, SIZE_MAX);
    r = request(a, bomb.data, bomb.len, "gzip", JSON);
    e = decode_fail(&r, &c);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_true(e.retryable);
    arena_free(a);
    assert_int_equal(atomic_load(&shared.used), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity_passes_body_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_over_decompressed_limit_is_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_and_x_gzip_are_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_of_large_document_is_decoded_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_of_empty_document_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_encoding_is_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_gzip_is_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_gzip_is_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_with_bad_crc_is_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_gzip_body_is_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_member_gzip_is_never_cut_short, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decompressed_limit_is_inclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratio_limit_rejects_highly_compressible_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratio_limit_allows_ordinary_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_bomb_stops_at_decompressed_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_bomb_stops_at_ratio_limit_with_default_settings, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gzip_bomb_memory_bounded_for_any_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_json_content_type_is_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_content_types_are_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_site_and_non_utf8_types_are_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_type_checked_before_decoding, setup, teardown),
        cmocka_unit_test(test_gzip_output_counts_in_the_request_budget),
    };
    return cmocka_run_group_tests(tests, make_bomb, free_bomb);
}
