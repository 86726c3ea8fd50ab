/* collector/body.c - Content-Type and Content-Encoding checks, streaming gunzip under limits.
 *
 * Invariants: see body.h. zlib state is created and freed inside gunzip(). */
#include "body.h"

#include <ctype.h>
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

static const char *gunzip(struct req *r, const struct cfg *c, size_t *len, struct err *e)
{
    z_stream z;
    size_t cap = r->body_len * 4 + GUNZIP_CHUNK, out_len = 0;
    size_t ratio_cap = (size_t)c->max_gzip_ratio * (r->body_len ? r->body_len : 1);
    size_t limit = (size_t)c->max_decompressed_bytes < ratio_cap ? (size_t)c->max_decompressed_bytes : ratio_cap;
    char *out;
    int rc;

    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, ZLIB_GZIP_WINDOW) != Z_OK) {
        err_set(e, ERR_INTERNAL, NULL, "cannot initialise gzip decoding");
        return NULL;
    }
    if (cap > limit + 1)
        cap = limit + 1;
    out = arena_alloc(r->arena, cap + 1);
    z.next_in = (unsigned char *)r->body;
    z.avail_in = (unsigned)r->body_len;
    do {
        if (out_len == cap) {
            if (cap > limit) {
                inflateEnd(&z);
                err_set(e, ERR_TOO_LARGE, NULL,
                        "gzip body expands beyond %zu bytes (limits: --max-decompressed-bytes %ld, "
                        "--max-gzip-ratio %d)",
                        limit, c->max_decompressed_bytes, c->max_gzip_ratio);
                return NULL;
            }
            size_t bigger = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
            char *grown = arena_alloc(r->arena, bigger + 1);
            memcpy(grown, out, out_len);
            out = grown;
            cap = bigger;
        }
        z.next_out = (unsigned char *)out + out_len;
        z.avail_out = (unsigned)(cap - out_len);
        rc = inflate(&z, Z_NO_FLUSH);
        out_len = cap - z.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        err_set(e, ERR_BAD_INPUT, NULL, "gzip body is corrupt or truncated (zlib: %s)",
                z.msg ? z.msg : "unexpected end of data");
        return NULL;
    }
    if (out_len > limit) {
        err_set(e, ERR_TOO_LARGE, NULL, "gzip body expands beyond %zu bytes", limit);
        return NULL;
    }
    out[out_len] = '\0';
    *len = out_len;
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
