/* collector/body.c - Content-Type and Content-Encoding checks, streaming gunzip under limits.
 *
 * Invariants: see body.h. zlib state is created and freed inside inflate_all(). */
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

/* The media type's parameters after ';' allow it as JSON text: none, or charset=utf-8 (any case,
 * quoted or not). JSON is UTF-8 (RFC 8259); any other charset is refused. */
static bool json_parameters_ok(const char *p)
{
    while (p != NULL && *p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *next = strchr(p, ';');
        size_t n = next ? (size_t)(next - p) : strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n >= 8 && strncasecmp(p, "charset=", 8) == 0) {
            const char *v = p + 8;
            size_t vn = n - 8;
            if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
                v++;
                vn -= 2;
            }
            if (!((vn == 5 && strncasecmp(v, "utf-8", 5) == 0) || (vn == 4 && strncasecmp(v, "utf8", 4) == 0)))
                return false;
        }
        p = next;
    }
    return true;
}

/* application/json or a structured-syntax JSON type (application/<anything>+json, RFC 6839), with an
 * optional UTF-8 charset. Nothing else: text/plain, forms and a missing Content-Type are what a web page
 * can POST cross-site without a CORS preflight, so accepting them would let any page write events. */
static bool json_content_type(const char *ct)
{
    static const char prefix[] = "application/";
    size_t plen = sizeof prefix - 1;

    if (ct == NULL)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, prefix, plen) != 0)
        return false;
    const char *sub = ct + plen;
    size_t n = strcspn(sub, "; \t");
    const char *rest = sub + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*rest != '\0' && *rest != ';')
        return false;
    bool json = (n == 4 && strncasecmp(sub, "json", 4) == 0) ||
                (n > 5 && strncasecmp(sub + n - 5, "+json", 5) == 0 && strcspn(sub, "/") >= n);
    return json && json_parameters_ok(*rest == ';' ? rest : NULL);
}

/* The gzip magic bytes that start every member of a (multi-member) gzip stream. */
static bool gzip_member_follows(const z_stream *z)
{
    return z->avail_in >= 2 && z->next_in[0] == 0x1f && z->next_in[1] == 0x8b;
}

/* Inflates every gzip member of the body into a malloc'd buffer grown by doubling up to `limit`
 * (+1 byte to detect overflow). The buffer is reserved in the arena's budgets before each growth, so
 * requests inflating at the same time see each other's buffers, and is handed to the arena at the end
 * (arena_adopt): the decompressed text is held once and counted as the request's memory. Returns the
 * text (NUL-terminated, in the arena's care) or NULL with e set. */
static char *inflate_all(struct req *r, const struct cfg *c, size_t limit, size_t *out_len, struct err *e)
{
    z_stream z;
    size_t cap = GUNZIP_CHUNK < limit + 1 ? GUNZIP_CHUNK : limit + 1, n = 0;
    char *out = NULL;
    int rc = Z_OK;
    bool failed = false;

    memset(&z, 0, sizeof z);
    if (arena_reserve(r->arena, cap + 1, e) != 0)
        return NULL;
    out = malloc(cap + 1); /* + 1: room for the NUL the parser's callers expect */
    if (out == NULL || inflateInit2(&z, ZLIB_GZIP_WINDOW) != Z_OK) {
        free(out);
        arena_unreserve(r->arena, cap + 1);
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
            if (arena_reserve(r->arena, bigger - cap, e) != 0) {
                failed = true;
                break;
            }
            char *grown = realloc(out, bigger + 1);
            if (grown == NULL) {
                arena_unreserve(r->arena, bigger - cap);
                failed = true;
                err_set_retry(e, NULL, "not enough memory to decompress the gzip body of %zu bytes; retry later",
                              r->body_len);
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
    arena_unreserve(r->arena, cap + 1);
    if (!failed && (n > limit || (rc == Z_OK && n == cap)))
        failed = err_set(e, ERR_TOO_LARGE, NULL,
                         "gzip body expands beyond %zu bytes (limits: --max-decompressed-bytes %ld, --max-gzip-ratio %d)",
                         limit, c->max_decompressed_bytes, c->max_gzip_ratio) != 0;
    if (!failed && (rc != Z_STREAM_END || trailing > 0))
        failed = err_set(e, ERR_BAD_INPUT, NULL, "gzip body is corrupt or truncated (zlib: %s)",
                         zmsg ? zmsg : trailing > 0 ? "data after the end of the stream" : "unexpected end of data") != 0;
    if (failed) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    arena_adopt(r->arena, out, cap + 1);
    *out_len = n;
    return out;
}

static const char *gunzip(struct req *r, const struct cfg *c, size_t *len, struct err *e)
{
    size_t ratio_cap = (size_t)c->max_gzip_ratio * (r->body_len ? r->body_len : 1);
    size_t limit = (size_t)c->max_decompressed_bytes < ratio_cap ? (size_t)c->max_decompressed_bytes : ratio_cap;
    return inflate_all(r, c, limit, len, e);
}

const char *body_decode(struct req *r, const struct cfg *c, size_t *len, struct err *e)
{
    const char *enc = r->content_encoding;

    if (!json_content_type(r->content_type)) {
        if (r->content_type == NULL)
            err_set(e, ERR_UNSUPPORTED, "Content-Type", "Content-Type is missing; send application/json");
        else
            err_set(e, ERR_UNSUPPORTED, "Content-Type",
                    "Content-Type \"%.64s\" is not supported; send application/json", r->content_type);
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
