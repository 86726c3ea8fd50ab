/* common/err.c - filling struct err and mapping error kinds to HTTP statuses.
 *
 * Invariants: see err.h; nothing here allocates. Text too long for its buffer is cut at a UTF-8
 * character boundary (utf8_cut), so a valid name quoted in a message stays valid in the reply. */
#include "err.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src == NULL ? 0 : strnlen(src, cap - 1);

    if (n == cap - 1 && src[n] != '\0')
        n = utf8_cut(src, n);
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The one writer of a struct err: every setter goes through here. */
static int set(struct err *e, enum err_kind kind, const char *where, const char *detail, bool retryable,
               const char *fmt, va_list ap)
{
    e->kind = kind;
    copy_text(e->where, sizeof e->where, where);
    if (vsnprintf(e->msg, sizeof e->msg, fmt, ap) >= (int)sizeof e->msg)
        e->msg[utf8_cut(e->msg, strlen(e->msg))] = '\0';
    copy_text(e->detail, sizeof e->detail, detail);
    e->sqlstate[0] = '\0';
    e->retryable = retryable;
    return -1;
}

int err_set(struct err *e, enum err_kind kind, const char *where, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set(e, kind, where, NULL, false, fmt, ap);
    va_end(ap);
    return -1;
}

int err_set_retry(struct err *e, const char *where, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set(e, ERR_UNAVAILABLE, where, NULL, true, fmt, ap);
    va_end(ap);
    return -1;
}

int err_set_detail(struct err *e, enum err_kind kind, const char *detail, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set(e, kind, NULL, detail, false, fmt, ap);
    va_end(ap);
    return -1;
}

void err_clear(struct err *e)
{
    e->kind = ERR_NONE;
    e->where[0] = '\0';
    e->msg[0] = '\0';
    e->detail[0] = '\0';
    e->sqlstate[0] = '\0';
    e->retryable = false;
}

int err_http_status(enum err_kind kind)
{
    static const int status[] = {
        [ERR_NONE] = 200,         [ERR_BAD_INPUT] = 400,    [ERR_BAD_PARAM] = 400,    [ERR_INVALID] = 422,
        [ERR_NOT_FOUND] = 404,    [ERR_METHOD] = 405,       [ERR_CONFLICT] = 409,
        [ERR_TOO_LARGE] = 413,    [ERR_UNSUPPORTED] = 415,  [ERR_UNAUTHORIZED] = 401, [ERR_FORBIDDEN] = 403,
        [ERR_GONE] = 410,         [ERR_UNAVAILABLE] = 503,  [ERR_INTERNAL] = 500,
        [ERR_TIMEOUT] = 408,      [ERR_HEADERS_TOO_LARGE] = 431,
    };
    if ((size_t)kind >= sizeof status / sizeof status[0])
        return 500;
    return status[kind];
}
