/* tests/fuzz/fuzz_h1.c - libFuzzer target for the HTTP/1.1 request framing (server/h1.c, h1_req.c).
 *
 * The input is what one client sends on one connection, read the way h1_conn.c reads it: byte 0 picks
 * the size of the reads (1 to 256 bytes), the rest is the byte stream. Requests are taken one after the
 * other (pipelining) until the stream ends or one is refused. Besides crashes and sanitizer reports,
 * the target aborts when a framing invariant of h1.h breaks:
 *  1. an accepted head has one source of body length: LENGTH <=> exactly one Content-Length (> 0) and
 *     no Transfer-Encoding; CHUNKED <=> exactly one Transfer-Encoding, "chunked", no Content-Length;
 *  2. every accepted field name is a token (no whitespace);
 *  3. body decoding consumes every byte it is given until the body ends, never past its end, and a
 *     Content-Length body ends after exactly that many bytes.
 * Seeds: tests/fuzz/run.py makes requests from the ../shared fixtures (http_requests). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h1.h"
#include "h1_int.h"

enum { FUZZ_MAX_HEAD = 8192, FUZZ_MAX_BODY = 1 << 20, FUZZ_REQUEST_MEMORY = 4 << 20 };

struct sink {
    struct arena *a;
    char *buf;
    size_t len, cap;
};

static int sink_fn(void *ctx, const char *data, size_t n, struct err *e)
{
    struct sink *s = ctx;

    if (s->len + n > FUZZ_MAX_BODY)
        return err_set(e, ERR_TOO_LARGE, NULL, "over the fuzz body limit");
    if (s->len + n > s->cap) {
        size_t cap = (s->len + n) * 2;
        char *bigger = arena_alloc(s->a, cap);
        if (s->len > 0)
            memcpy(bigger, s->buf, s->len);
        s->buf = bigger;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return 0;
}

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_h1: invariant broken: %s\n", what);
        abort();
    }
}

static size_t count_field(const struct h1_head *h, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < h->n_fields; i++)
        n += strcasecmp(h->fields[i].name, name) == 0;
    return n;
}

/* Invariants 1 and 2 on an accepted head. */
static void check_head(const struct h1_head *h)
{
    size_t cl = count_field(h, "Content-Length"), te = count_field(h, "Transfer-Encoding");

    for (size_t i = 0; i < h->n_fields; i++)
        check(h->fields[i].name[0] != '\0' && strpbrk(h->fields[i].name, " \t\r\n:") == NULL, "field name is a token");
    check(h->path != NULL, "a path");
    if (h->framing == H1_BODY_LENGTH)
        check(cl == 1 && te == 0 && h->content_length > 0, "Content-Length framing has one source");
    else if (h->framing == H1_BODY_CHUNKED)
        check(te == 1 && cl == 0 && strcasecmp(h1_field(h, "Transfer-Encoding"), "chunked") == 0,
              "chunked framing has one source");
    else
        check(te == 0 && (cl == 0 || strcmp(h1_field(h, "Content-Length"), "0") == 0 ||
                          strspn(h1_field(h, "Content-Length"), "0") == strlen(h1_field(h, "Content-Length"))),
              "no body means no length");
}

/* Reads one request's body from data[*off..size); false when the stream ended or it was refused. */
static bool read_body(struct h1_parser *p, const struct h1_head *h, struct arena *a, const uint8_t *data,
                      size_t size, size_t piece, size_t *off)
{
    struct sink s = {.a = a};
    struct err e;
    bool done = false;

    while (!done && *off < size) {
        size_t k = size - *off < piece ? size - *off : piece;
        long used = h1_parse_body(p, (const char *)data + *off, k, sink_fn, &s, &done, &e);
        if (used < 0)
            return false;
        check((size_t)used <= k, "never past what was given");
        check((size_t)used == k || done, "every byte consumed until the body ends");
        *off += (size_t)used;
    }
    if (done && h->framing == H1_BODY_LENGTH)
        check(s.len == h->content_length, "a Content-Length body has exactly that length");
    return done;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct h1_parser *p;
    struct err e;

    if (p == NULL) {
        h1_init(FUZZ_MAX_HEAD);
        p = h1_parser_new();
    }
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] + 1, off = 0;
    data++;
    size--;
    while (off < size) {
        struct h1_scan scan = {0};
        long n = 0;
        for (size_t pos = off; n == 0 && pos < size; pos += piece)
            n = h1_scan_head(&scan, (const char *)data + pos, size - pos < piece ? size - pos : piece,
                             FUZZ_MAX_HEAD, &e);
        if (n <= 0)
            return 0;
        check((size_t)n <= size - off, "a head inside the input");
        struct arena *a = arena_new();
        arena_set_budget(a, NULL, FUZZ_REQUEST_MEMORY);
        struct h1_head h;
        struct req r = {.arena = a};
        bool go_on = h1_parse_head(p, a, (const char *)data + off, (size_t)n, &h, &e) == 0 &&
                     h1_req_from_head(&r, &h, &e) == 0;
        off += (size_t)n;
        if (go_on) {
            check_head(&h);
            go_on = h.framing == H1_BODY_NONE || read_body(p, &h, a, data, size, piece, &off);
        }
        arena_free(a);
        if (!go_on)
            return 0;
    }
    return 0;
}
