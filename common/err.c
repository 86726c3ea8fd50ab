/* common/err.c - filling struct err and mapping error kinds to HTTP statuses.
 *
 * Invariants: see err.h; nothing here allocates. */
#include "err.h"

#include <stdio.h>
#include <string.h>

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src == NULL ? 0 : strnlen(src, cap - 1);

    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

int err_set(struct err *e, enum err_kind kind, const char *where, const char *fmt, ...)
{
    va_list ap;

    e->kind = kind;
    copy_text(e->where, sizeof e->where, where);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->detail[0] = '\0';
    return -1;
}

int err_set_detail(struct err *e, enum err_kind kind, const char *detail, const char *fmt, ...)
{
    va_list ap;

    e->kind = kind;
    e->where[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    copy_text(e->detail, sizeof e->detail, detail);
    return -1;
}

void err_clear(struct err *e)
{
    e->kind = ERR_NONE;
    e->where[0] = '\0';
    e->msg[0] = '\0';
    e->detail[0] = '\0';
}

void err_prefix_where(struct err *e, const char *prefix)
{
    char joined[ERR_WHERE_MAX * 2 + 2];
    const char *sep = (e->where[0] == '\0' || e->where[0] == '[') ? "" : ".";
    size_t n = strlen(prefix);

    /* Built by hand: the result is cut at ERR_WHERE_MAX bytes, which snprintf would warn about. */
    if (n > ERR_WHERE_MAX)
        n = ERR_WHERE_MAX;
    memcpy(joined, prefix, n);
    joined[n] = '\0';
    strcat(joined, sep);
    strcat(joined, e->where);
    copy_text(e->where, sizeof e->where, joined);
}

int err_http_status(enum err_kind kind)
{
    static const int status[] = {
        [ERR_NONE] = 200,         [ERR_BAD_INPUT] = 400,    [ERR_BAD_PARAM] = 400,    [ERR_INVALID] = 422,
        [ERR_NOT_FOUND] = 404,    [ERR_METHOD] = 405,       [ERR_CONFLICT] = 409,
        [ERR_TOO_LARGE] = 413,    [ERR_UNSUPPORTED] = 415,  [ERR_UNAUTHORIZED] = 401,
        [ERR_UNAVAILABLE] = 503,  [ERR_INTERNAL] = 500,
    };
    if ((size_t)kind >= sizeof status / sizeof status[0])
        return 500;
    return status[kind];
}
