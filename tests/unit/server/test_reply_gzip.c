/* tests/unit/collector/test_reply_gzip.c - Accept-Encoding parsing and reply compression
 * (server/reply_gzip.c).
 *
 * Invariants: compressed bodies are checked by inflating them with zlib here (an independent reader),
 * not by comparing with the code's own output. Each test owns its arena. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "arena.h"
#include "reply_gzip.h"

static void test_accept_encoding_values(void **state)
{
    (void)state;
    assert_true(reply_gzip_accepted("gzip"));
    assert_true(reply_gzip_accepted("GZIP"));
    assert_true(reply_gzip_accepted("x-gzip"));
    assert_true(reply_gzip_accepted("*"));
    assert_true(reply_gzip_accepted("gzip, deflate, br"));     /* what browsers send */
    assert_true(reply_gzip_accepted("br;q=1.0, gzip;q=0.8, *;q=0.1"));
    assert_true(reply_gzip_accepted("deflate , gzip ; q=0.5"));
    assert_false(reply_gzip_accepted(NULL));
    assert_false(reply_gzip_accepted(""));
    assert_false(reply_gzip_accepted("identity"));
    assert_false(reply_gzip_accepted("deflate, br"));
    assert_false(reply_gzip_accepted("gzip;q=0"));
    assert_false(reply_gzip_accepted("gzip; q=0.000"));
    assert_false(reply_gzip_accepted("gzipx"));
    assert_false(reply_gzip_accepted("notgzip"));
}

static char *inflate_gzip(const char *in, size_t len, size_t cap, size_t *out_len)
{
    z_stream z = {0};
    char *out = malloc(cap);

    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    inflateEnd(&z);
    return out;
}

static void test_large_body_is_gzipped(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    enum { N = 100000 };
    char *body = arena_alloc(a, N);
    for (size_t i = 0; i < N; i++)
        body[i] = "{\"name\":\"orders\"},"[i % 18];
    struct reply r = {.status = 200, .body = body, .body_len = N};

    reply_gzip(a, &r);
    assert_non_null(r.content_encoding);
    assert_string_equal(r.content_encoding, "gzip");
    assert_true(r.body_len < N / 10);
    size_t len;
    char *back = inflate_gzip(r.body, r.body_len, N + 1, &len);
    assert_int_equal(len, N);
    assert_memory_equal(back, body, N);
    free(back);
    arena_free(a);
}

static void test_small_or_incompressible_body_stays(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct reply small = {.status = 200, .body = "{\"ok\":true}", .body_len = 11};
    reply_gzip(a, &small);
    assert_null(small.content_encoding);
    assert_string_equal(small.body, "{\"ok\":true}");

    enum { N = 64 * 1024 };
    unsigned char *noise = arena_alloc(a, N);
    uint32_t x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        noise[i] = (unsigned char)(x >> 24);
    }
    struct reply random = {.status = 200, .body = (const char *)noise, .body_len = N};
    reply_gzip(a, &random);
    assert_null(random.content_encoding); /* gzip would not be smaller */
    assert_ptr_equal(random.body, noise);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_encoding_values),
        cmocka_unit_test(test_large_body_is_gzipped),
        cmocka_unit_test(test_small_or_incompressible_body_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
