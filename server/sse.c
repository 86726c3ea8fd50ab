/* server/sse.c - the Server-Sent Events reader (sse.h).
 *
 * Invariants: see sse.h. Bytes are taken one line at a time; a line is processed when its end
 * arrives (CR, LF, or CRLF counted once).
 * Threads: one parser per thread. */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

void sse_init(struct sse_parser *p, size_t max_bytes)
{
    memset(p, 0, sizeof *p);
    p->max_bytes = max_bytes;
    p->retry_ms = -1;
}

void sse_free(struct sse_parser *p)
{
    free(p->line);
    free(p->data);
    p->line = p->data = NULL;
    p->line_len = p->line_cap = p->data_len = p->data_cap = 0;
}

void sse_reset(struct sse_parser *p)
{
    p->line_len = p->data_len = 0;
    p->has_data = false;
    p->after_cr = false;
}

/* Makes room for `more` bytes (+ a NUL) in *buf. -1 with e set past max. */
static int grow(char **buf, size_t *cap, size_t len, size_t more, size_t max, struct err *e)
{
    if (len + more > max)
        return err_set(e, ERR_TOO_LARGE, NULL, "an event stream line or event is longer than %zu bytes", max);
    if (len + more + 1 <= *cap)
        return 0;
    size_t n = *cap ? *cap : 256;
    while (n < len + more + 1)
        n *= 2;
    char *bigger = realloc(*buf, n);
    if (bigger == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory reading the event stream");
    *buf = bigger;
    *cap = n;
    return 0;
}

static int take_data(struct sse_parser *p, const char *v, size_t n, struct err *e)
{
    if (grow(&p->data, &p->data_cap, p->data_len, n + 1, p->max_bytes, e) != 0)
        return -1;
    memcpy(p->data + p->data_len, v, n);
    p->data_len += n;
    p->data[p->data_len++] = '\n';
    p->has_data = true;
    return 0;
}

static void take_retry(struct sse_parser *p, const char *v, size_t n)
{
    long ms = 0;

    if (n == 0 || n > 9)
        return;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return;
        ms = ms * 10 + (v[i] - '0');
    }
    p->retry_ms = ms;
}

/* An empty line: the event goes out if it has data (the data's last LF removed). */
static void dispatch(struct sse_parser *p, const struct sse_sink *sink)
{
    if (p->has_data) {
        p->data[--p->data_len] = '\0';
        sink->event(sink->ctx, p->id, p->data, p->data_len);
    }
    p->data_len = 0;
    p->has_data = false;
}

static int take_line(struct sse_parser *p, const struct sse_sink *sink, struct err *e)
{
    char *l = p->line != NULL ? p->line : "";
    size_t n = p->line_len;

    if (p->line != NULL)
        p->line[n] = '\0';
    if (n == 0) {
        dispatch(p, sink);
        return 0;
    }
    if (l[0] == ':') {
        if (sink->comment != NULL)
            sink->comment(sink->ctx, l[1] == ' ' ? l + 2 : l + 1);
        return 0;
    }
    char *colon = memchr(l, ':', n);
    size_t name_len = colon != NULL ? (size_t)(colon - l) : n;
    const char *v = colon != NULL ? colon + 1 : l + n;
    if (colon != NULL && *v == ' ')
        v++;
    size_t vn = (size_t)(l + n - v);
    if (name_len == 4 && memcmp(l, "data", 4) == 0)
        return take_data(p, v, vn, e);
    if (name_len == 2 && memcmp(l, "id", 2) == 0 && memchr(v, '\0', vn) == NULL && vn < sizeof p->id) {
        memcpy(p->id, v, vn);
        p->id[vn] = '\0';
    } else if (name_len == 5 && memcmp(l, "retry", 5) == 0) {
        take_retry(p, v, vn);
    }
    return 0;
}

int sse_feed(struct sse_parser *p, const char *buf, size_t n, const struct sse_sink *sink, struct err *e)
{
    size_t i = 0;

    while (i < n) {
        if (p->after_cr && buf[i] == '\n') {
            p->after_cr = false;
            i++;
            continue;
        }
        p->after_cr = false;
        const char *end = buf + i;
        while (end < buf + n && *end != '\n' && *end != '\r')
            end++;
        size_t piece = (size_t)(end - (buf + i));
        if (piece > 0) {
            if (grow(&p->line, &p->line_cap, p->line_len, piece, p->max_bytes, e) != 0)
                return -1;
            memcpy(p->line + p->line_len, buf + i, piece);
            p->line_len += piece;
        }
        i += piece;
        if (i == n)
            break;
        p->after_cr = buf[i] == '\r';
        i++;
        int rc = take_line(p, sink, e);
        p->line_len = 0;
        if (rc != 0)
            return -1;
    }
    return 0;
}
