/* collector/body.c - Content-Type and Content-Encoding checks, streaming gunzip under limits.
 *
 * Invariants: see body.h. zlib state is created and freed inside gunzip(). */
#include "body.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

enum { GUNZIP_CHUNK = 64 * 1024, ZLIB_GZIP_WINDOW = 15 + 16 };

/* Case-insensitive match of the media type before any ';' parameters, ignoring spaces. */
static bool media_type_is(const char *value, const char *want)
{
    size_t n = strlen(want);

    while (isspace((unsigned char)*value))
        value++;
    if (strncasecmp(value, want, n) != 0)
        return false;
    value += n;
    while (isspace((unsigned char)*value))
        value++;
    return *value == '\0' || *value == ';';
}

static bool json_content_type(const char *ct)
{
    /* Clients that send no Content-Type, or text/plain from curl -d, still mean JSON here. */
    return ct == NULL || media_type_is(ct, "application/json") || media_type_is(ct, "text/plain") ||
           media_type_is(ct, "application/x-www-form-urlencoded") || media_type_is(ct, "*/*");
}

/* The gzip magic bytes that start every member of a (multi-member) gzip stream. */
static bool gzip_member_follows(const z_stream *z)
{
    return z->avail_in >= 2 && z->next_in[0] == 0x1f && z->next_in[1] == 0x8b;
}

/* Inflates every gzip member of the body into a malloc'd buffer grown by doubling up to `limit`
 * (+1 byte to detect overflow), then copies it once into the arena: peak memory is about twice the
 * decompressed size and never more than twice the limit. Returns the malloc'd buffer or NULL. */
static char *inflate_all(struct req *r, size_t limit, size_t *out_len, struct err *e)
{
    z_stream z;
    size_t cap = GUNZIP_CHUNK < limit + 1 ? GUNZIP_CHUNK : limit + 1, n = 0;
    char *out = malloc(cap);
    int rc = Z_OK;

    bool no_memory = false;

    memset(&z, 0, sizeof z);
    if (out == NULL || inflateInit2(&z, ZLIB_GZIP_WINDOW) != Z_OK) {
        free(out);
        err_set_retry(e, NULL, "not enough memory to decompress the gzip body; retry later");
        return NULL;
    }
    z.next_in = (unsigned char *)r->body;
    z.avail_in = (unsigned)r->body_len;
    for (;;) {
        if (n == cap) {
            size_t bigger = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
            if (bigger == cap)
                break; /* at limit + 1: too large */
            char *grown = realloc(out, bigger);
            if (grown == NULL) {
                no_memory = true;
                break;
            }
            out = grown;
            cap = bigger;
        }
        z.next_out = (unsigned char *)out + n;
        z.avail_out = (unsigned)(cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (rc == Z_STREAM_END && gzip_member_follows(&z) && inflateReset(&z) == Z_OK)
            continue;
        if (rc != Z_OK)
            break;
    }
    size_t trailing = z.avail_in;
    const char *zmsg = z.msg;
    inflateEnd(&z);
    if (no_memory) {
        free(out);
        err_set_retry(e, NULL, "not enough memory to decompress the gzip body of %zu bytes; retry later", r->body_len);
        return NULL;
    }
    if (n > limit || (rc == Z_OK && n == cap)) {
        free(out);
        err_set(e, ERR_TOO_LARGE, NULL, "gzip body expands beyond the limit of %zu bytes", limit);
        return NULL;
    }
    if (rc != Z_STREAM_END || trailing > 0) {
        free(out);
        err_set(e, ERR_BAD_INPUT, NULL, "gzip body is corrupt or truncated (zlib: %s)",
                zmsg ? zmsg : trailing > 0 ? "data after the end of the stream" : "unexpected end of data");
        return NULL;
    }
    *out_len = n;
    return out;
}

static const char *gunzip(struct req *r, const struct cfg *c, size_t *len, struct err *e)
{
    size_t ratio_cap = (size_t)c->max_gzip_ratio * (r->body_len ? r->body_len : 1);
    size_t limit = (size_t)c->max_decompressed_bytes < ratio_cap ? (size_t)c->max_decompressed_bytes : ratio_cap;
    size_t n = 0;
    char *raw = inflate_all(r, limit, &n, e);

    if (raw == NULL) {
        if (e->kind == ERR_TOO_LARGE)
            err_set(e, ERR_TOO_LARGE, NULL,
                    "gzip body expands beyond %zu bytes (limits: --max-decompressed-bytes %ld, --max-gzip-ratio %d)",
                    limit, c->max_decompressed_bytes, c->max_gzip_ratio);
        return NULL;
    }
    char *out = arena_alloc(r->arena, n + 1); /* memcpy: a NUL inside must reach the JSON parser */
    memcpy(out, raw, n);
    out[n] = '\0';
    free(raw);
    *len = n;
    return out;
}

const char *body_decode(struct req *r, const struct cfg *c, size_t *len, struct err *e)
{
    const char *enc = r->content_encoding;

    if (!json_content_type(r->content_type)) {
        err_set(e, ERR_UNSUPPORTED, "Content-Type", "Content-Type \"%.64s\" is not supported; send application/json",
                r->content_type);
        return NULL;
    }
    if (enc == NULL || *enc == '\0' || media_type_is(enc, "identity")) {
        if (r->body_len > (size_t)c->max_decompressed_bytes) {
            err_set(e, ERR_TOO_LARGE, NULL, "request body of %zu bytes exceeds --max-decompressed-bytes %ld",
                    r->body_len, c->max_decompressed_bytes);
            return NULL;
        }
        *len = r->body_len;
        return r->body;
    }
    if (media_type_is(enc, "gzip") || media_type_is(enc, "x-gzip"))
        return gunzip(r, c, len, e);
    err_set(e, ERR_UNSUPPORTED, "Content-Encoding",
            "Content-Encoding \"%.64s\" is not supported; use gzip, x-gzip or identity", enc);
    return NULL;
}
