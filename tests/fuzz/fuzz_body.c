/* tests/fuzz/fuzz_body.c - libFuzzer target for the request body decoder (collector/body.c).
 *
 * Input: byte 0 picks the Content-Encoding, byte 1 the Content-Type (from the tables below, which hold
 * what clients send and what they should not), the rest is the body as received. Gzip bodies from
 * the seeds (tests/fuzz/run.py gzips the shared fixtures) let it reach deep into inflate_all.
 * Invariants checked (a violation aborts, which libFuzzer reports as a crash):
 *  1. A decoded body never exceeds the decompressed limit nor max_gzip_ratio x the input.
 *  2. An identity body comes back unchanged.
 *  3. A failure is one of the kinds body.h documents (400, 413, 415, or 503 for memory), with a message.
 * Ownership: one arena per input, freed before returning (LeakSanitizer sees any leak). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "body.h"
#include "cfg.h"
#include "err.h"
#include "http.h"
#include "json.h"

enum { FUZZ_MAX_DECOMPRESSED = 1 << 20, FUZZ_GZIP_RATIO = 200, FUZZ_DEPTH = 64 };

static const char *const ENCODINGS[] = {NULL,   "",       "identity", "gzip",       "x-gzip",
                                        "GZIP", " gzip ", "br",       "gzip, gzip", "deflate"};
static const char *const TYPES[] = {NULL,         "application/json", "application/json; charset=utf-8",
                                    "text/plain", "image/png",        "*/*"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_body: invariant broken: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg c;
    struct req r;
    struct err e;
    size_t len = 0;

    if (size < 2)
        return 0;
    memset(&c, 0, sizeof c);
    c.max_decompressed_bytes = FUZZ_MAX_DECOMPRESSED;
    c.max_gzip_ratio = FUZZ_GZIP_RATIO;
    c.max_json_depth = FUZZ_DEPTH;
    memset(&r, 0, sizeof r);
    r.arena = arena_new();
    r.content_encoding = ENCODINGS[data[0] % (sizeof ENCODINGS / sizeof ENCODINGS[0])];
    r.content_type = TYPES[data[1] % (sizeof TYPES / sizeof TYPES[0])];
    char *body = arena_alloc(r.arena, size - 2 + 1);
    memcpy(body, data + 2, size - 2);
    body[size - 2] = '\0';
    r.body = body;
    r.body_len = size - 2;
    err_clear(&e);
    const char *out = body_decode(&r, &c, &len, &e);
    if (out != NULL) {
        require(len <= FUZZ_MAX_DECOMPRESSED, "decoded body within --max-decompressed-bytes");
        require(len <= (size_t)FUZZ_GZIP_RATIO * (r.body_len ? r.body_len : 1) || out == r.body,
                "gzip body within --max-gzip-ratio");
        require(out != r.body || len == r.body_len, "identity body unchanged");
        require(out[len] == '\0', "decoded body NUL-terminated");
        struct err pe;
        err_clear(&pe);
        (void)json_parse(r.arena, out, len, FUZZ_DEPTH,
                         &pe); /* any outcome; the decoder's output must be safe */
    } else {
        require(e.kind == ERR_BAD_INPUT || e.kind == ERR_TOO_LARGE || e.kind == ERR_UNSUPPORTED ||
                    e.kind == ERR_UNAVAILABLE,
                "failure kind is 400, 413, 415 or 503");
        require(e.msg[0] != '\0', "failure has a message");
    }
    arena_free(r.arena);
    return 0;
}
