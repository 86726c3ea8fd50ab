/* server/reply_gzip.c - gzip for large replies (see reply_gzip.h). */
#include "reply_gzip.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

enum { ZLIB_GZIP_WINDOW = 15 + 16, ZLIB_MEM_LEVEL = 8 };

/* Whether one Accept-Encoding element ("gzip", "x-gzip;q=0.5", "*") accepts gzip. */
static bool element_accepts(const char *s, size_t n)
{
    char buf[128];
    char *save = NULL;

    if (n >= sizeof buf)
        return false; /* no real coding name or weight is that long */
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *name = strtok_r(buf, "; \t", &save);
    if (name == NULL ||
        (strcasecmp(name, "gzip") != 0 && strcasecmp(name, "x-gzip") != 0 && strcmp(name, "*") != 0))
        return false;
    for (char *param = strtok_r(NULL, "; \t", &save); param != NULL; param = strtok_r(NULL, "; \t", &save))
        if ((param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
            return strtod(param + 2, NULL) > 0; /* q=0 means "not acceptable" */
    return true;
}

bool reply_gzip_accepted(const char *accept_encoding)
{
    const char *p = accept_encoding;

    if (p == NULL)
        return false;
    while (*p != '\0') {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && isspace((unsigned char)p[n - 1]))
            n--;
        if (n > 0 && element_accepts(p, n))
            return true;
        p += end ? (size_t)(end - p) : strlen(p);
    }
    return false;
}

void reply_gzip(struct arena *a, struct reply *out)
{
    z_stream z = {0};

    if (out->body == NULL || out->body_len < REPLY_GZIP_MIN_BYTES || out->body_len > UINT_MAX / 2 ||
        out->content_encoding != NULL)
        return;
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, ZLIB_GZIP_WINDOW, ZLIB_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
        return;
    size_t cap = deflateBound(&z, (uLong)out->body_len);
    unsigned char *buf = arena_alloc(a, cap);
    z.next_in = (Bytef *)out->body;
    z.avail_in = (uInt)out->body_len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || len >= out->body_len)
        return;
    out->body = (const char *)buf;
    out->body_len = len;
    out->content_encoding = "gzip";
}
