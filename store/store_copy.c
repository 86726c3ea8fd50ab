/* store/store_copy.c - the binary COPY format's framing and integers (see store_copy.h). */
#include "store_copy.h"

#include <string.h>

static const char COPY_SIGNATURE[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};

enum {
    COPY_HEADER_FIXED = 19,           /* signature, flags, extension length */
    COPY_CRITICAL_FLAGS = 0xffff0000, /* bits 16-31: a reader must refuse what it does not know */
};

/* Epoch of timestamptz's binary form (2000-01-01) in microseconds since the Unix epoch. */
static const int64_t COPY_PG_EPOCH_USEC = 946684800LL * 1000000;

int16_t store_copy_int16(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (int16_t)(uint16_t)((unsigned)u[0] << 8 | u[1]);
}

int32_t store_copy_int32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (int32_t)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3]);
}

int64_t store_copy_int64(const char *p)
{
    return (int64_t)((uint64_t)(uint32_t)store_copy_int32(p) << 32 | (uint32_t)store_copy_int32(p + 4));
}

int64_t store_copy_epoch_usec(int64_t pg_usec)
{
    if (pg_usec > INT64_MAX - COPY_PG_EPOCH_USEC)
        return INT64_MAX;
    return pg_usec + COPY_PG_EPOCH_USEC;
}

/* Reads the header at msg[*pos ..): signature, flags, extension (skipped). 0, or -1 if malformed. */
static int read_header(const char *msg, size_t len, size_t *pos)
{
    size_t at = *pos;
    int32_t ext;

    if (len - at < COPY_HEADER_FIXED || memcmp(msg + at, COPY_SIGNATURE, sizeof COPY_SIGNATURE) != 0 ||
        ((uint32_t)store_copy_int32(msg + at + 11) & COPY_CRITICAL_FLAGS) != 0)
        return -1;
    ext = store_copy_int32(msg + at + 15);
    at += COPY_HEADER_FIXED;
    if (ext < 0 || (size_t)ext > len - at)
        return -1;
    *pos = at + (size_t)ext;
    return 0;
}

int store_copy_next(struct store_copy_reader *r, const char *msg, size_t len, size_t *pos, size_t max_fields,
                    struct store_copy_tuple *t)
{
    size_t at;
    int16_t n;

    if (*pos > len)
        return -1;
    if (!r->header_done && *pos < len) {
        if (read_header(msg, len, pos) != 0)
            return -1;
        r->header_done = true;
    }
    at = *pos;
    if (at == len)
        return 0;
    if (r->ended || len - at < 2)
        return -1;
    n = store_copy_int16(msg + at);
    at += 2;
    if (n == -1) {
        r->ended = true;
        *pos = at;
        return at == len ? 0 : -1;
    }
    if (n < 0 || (size_t)n > max_fields || max_fields > STORE_COPY_MAX_FIELDS)
        return -1;
    for (int16_t i = 0; i < n; i++) {
        int32_t flen;
        if (len - at < 4)
            return -1;
        flen = store_copy_int32(msg + at);
        at += 4;
        if (flen < -1 || (flen > 0 && (size_t)flen > len - at))
            return -1;
        t->len[i] = flen;
        t->val[i] = flen < 0 ? NULL : msg + at;
        if (flen > 0)
            at += (size_t)flen;
    }
    t->n = (size_t)n;
    *pos = at;
    return 1;
}
