/* common/http.c - request parsing helpers (path segments, query, params) and the one error-body builder.
 *
 * Invariants: see http.h. Nothing here knows about sockets or libevent.
 *  1. Path segments and parameters are strict UTF-8 once decoded, or the request is a 400 that shows
 *     the raw text with non-ASCII bytes as %XX.
 *  2. Error bodies are valid UTF-8 whatever the message holds: utf8_repair replaces stray bytes
 *     (a quoted header value, say) with U+FFFD before yajl_gen, which does not check. */
#include "http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "utf8.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Why a piece of a URL could not be decoded. */
enum decode_problem { DECODE_OK, DECODE_MALFORMED, DECODE_NUL, DECODE_UTF8 };

/* Decodes %XX escapes of s[0..len) into *out (arena); on a problem returns it, *out unset, and for
 * DECODE_UTF8 the UTF-8 problem in *up. */
static enum decode_problem decode_part(struct arena *a, const char *s, size_t len, bool plus_is_space,
                                       char **out, enum utf8_problem *up)
{
    char *d = arena_alloc(a, len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return DECODE_MALFORMED;
            if (hi == 0 && lo == 0)
                return DECODE_NUL;
            d[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            d[n++] = ' ';
        } else {
            d[n++] = s[i];
        }
    }
    d[n] = '\0';
    if ((*up = utf8_check(d, n, NULL)) != UTF8_OK)
        return DECODE_UTF8;
    *out = d;
    return DECODE_OK;
}

char *http_percent_decode(struct arena *a, const char *s, size_t len, bool plus_is_space)
{
    char *out = NULL;
    enum utf8_problem up;

    return decode_part(a, s, len, plus_is_space, &out, &up) == DECODE_OK ? out : NULL;
}

/* Raw URL text s[0..len) for an error message: printable ASCII as is, every other byte as %XX, at most
 * HTTP_SHOWN_MAX bytes of input then "...". Always ASCII, so always valid in a JSON reply. */
enum { HTTP_SHOWN_MAX = 64 };

static const char *shown(struct arena *a, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t m = len > HTTP_SHOWN_MAX ? HTTP_SHOWN_MAX : len;
    char *out = arena_alloc(a, m * 3 + 4), *p = out;

    for (size_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F) {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    memcpy(p, m < len ? "..." : "", m < len ? 4 : 1);
    return out;
}

/* The 400 for a piece of the URL that did not decode; what names it ("path segment", ...). */
static int decode_error(struct err *e, struct arena *a, const char *where, const char *what, const char *raw,
                        size_t len, enum decode_problem p, enum utf8_problem up)
{
    const char *s = shown(a, raw, len);

    if (p == DECODE_NUL)
        return err_set(e, ERR_BAD_INPUT, where, "%s \"%s\" contains a NUL byte (%%00), which is not allowed",
                       what, s);
    if (p == DECODE_UTF8)
        return err_set(e, ERR_BAD_INPUT, where, "%s \"%s\" is not valid UTF-8 once percent-decoded: %s", what,
                       s, utf8_problem_text(up));
    return err_set(e, ERR_BAD_INPUT, where, "malformed percent-encoding in %s \"%s\"", what, s);
}

int http_split_path(struct arena *a, const char *raw_path, const char ***segments, size_t *n, struct err *e)
{
    size_t count = 0, cap = 8;
    const char **segs = arena_alloc(a, cap * sizeof *segs);
    const char *p = raw_path;
    enum utf8_problem up = UTF8_OK;

    while (*p == '/')
        p++;
    while (*p != '\0') {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        char *seg = NULL;
        enum decode_problem dp = decode_part(a, p, len, false, &seg, &up);
        if (dp != DECODE_OK)
            return decode_error(e, a, "path", "path segment", p, len, dp, up);
        if (count == cap) {
            const char **bigger = arena_alloc(a, cap * 2 * sizeof *bigger);
            memcpy(bigger, segs, cap * sizeof *segs);
            segs = bigger;
            cap *= 2;
        }
        segs[count++] = seg;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    *segments = segs;
    *n = count;
    return 0;
}

/* Decodes one "name=value" pair of a query string into *out; -1 with e set. */
static int decode_pair(struct arena *a, const char *p, size_t len, struct http_param *out, struct err *e)
{
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    char *name = NULL, *value = "";
    enum utf8_problem up = UTF8_OK;
    enum decode_problem dp = decode_part(a, p, klen, true, &name, &up);

    if (dp != DECODE_OK)
        return decode_error(e, a, "query", "query parameter name", p, klen, dp, up);
    if (eq != NULL && (dp = decode_part(a, eq + 1, len - klen - 1, true, &value, &up)) != DECODE_OK)
        return decode_error(e, a, "query",
                            arena_printf(a, "query parameter %s: value", shown(a, name, strlen(name))),
                            eq + 1, len - klen - 1, dp, up);
    out->name = name;
    out->value = value;
    return 0;
}

int http_parse_query(struct arena *a, const char *query, struct http_param **params, size_t *n,
                     struct err *e)
{
    size_t count = 0;
    struct http_param *ps;

    *params = NULL;
    *n = 0;
    if (query == NULL || *query == '\0')
        return 0;
    for (const char *p = query; *p != '\0'; p++)
        count += *p == '&';
    ps = arena_zalloc(a, (count + 1) * sizeof *ps);
    count = 0;
    for (const char *p = query; *p != '\0';) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 0 && decode_pair(a, p, len, &ps[count++], e) != 0)
            return -1;
        p += len + (amp ? 1 : 0);
    }
    *params = ps;
    *n = count;
    return 0;
}

const char *http_param(const struct req *r, const char *name)
{
    for (size_t i = r->n_params; i > 0; i--)
        if (strcmp(r->params[i - 1].name, name) == 0)
            return r->params[i - 1].value;
    return NULL;
}

const char *http_header(const struct req *r, const char *name)
{
    for (size_t i = r->n_headers; i > 0; i--)
        if (strcasecmp(r->headers[i - 1].name, name) == 0)
            return r->headers[i - 1].value;
    return NULL;
}

int http_param_int(const struct req *r, const char *name, long def, long min, long max, long *out,
                   struct err *e)
{
    const char *v = http_param(r, name);
    char *end = NULL;

    if (v == NULL || *v == '\0') {
        *out = def;
        return 0;
    }
    errno = 0;
    long x = strtol(v, &end, 10);
    /* Marquez's (Jersey's) wording, which its clients and UI show as they are. */
    if (errno != 0 || *end != '\0' || end == v)
        return err_set(e, ERR_BAD_PARAM, name, "is not a number.");
    if (x < min)
        return err_set(e, ERR_BAD_PARAM, name, "must be greater than or equal to %ld", min);
    if (x > max)
        return err_set(e, ERR_BAD_PARAM, name, "must be less than or equal to %ld", max);
    *out = x;
    return 0;
}

int http_param_bool(const struct req *r, const char *name, bool def, bool *out, struct err *e)
{
    const char *v = http_param(r, name);

    if (v == NULL || *v == '\0')
        *out = def;
    else if (strcasecmp(v, "true") == 0)
        *out = true;
    else if (strcasecmp(v, "false") == 0)
        *out = false;
    else
        return err_set(e, ERR_BAD_PARAM, name, "must be true or false");
    return 0;
}

void http_reply_json(struct reply *out, int status, const char *body, size_t len)
{
    out->status = status;
    out->body = body;
    out->body_len = len;
    out->content_type = "application/json";
}

/* {"errors":[msgs...]} with status (422, and 400 for parameters as Marquez). */
static void reply_errors(struct reply *out, struct arena *a, int status, const char *const *msgs, size_t n)
{
    yajl_gen g = json_gen_new();
    size_t len;

    yajl_gen_map_open(g);
    json_gen_key(g, "errors");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++)
        json_gen_str(g, utf8_repair(a, msgs[i], strlen(msgs[i]), NULL));
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    char *body = json_gen_finish(g, a, &len);
    http_reply_json(out, status, body, len);
}

void http_reply_validation(struct reply *out, struct arena *a, const char *const *msgs, size_t n)
{
    reply_errors(out, a, 422, msgs, n);
}

void http_reply_error(struct reply *out, struct arena *a, const struct err *e, const char *request_id)
{
    int status = err_http_status(e->kind);
    const char *msg = e->msg;
    yajl_gen g;
    size_t len;

    out->retry_after_s = e->retryable ? HTTP_RETRY_AFTER_S : 0;
    if (e->kind == ERR_INVALID || e->kind == ERR_BAD_PARAM) {
        const char *kind = e->kind == ERR_BAD_PARAM ? "query param " : "";
        const char *one = e->where[0] ? arena_printf(a, "%s%s %s", kind, e->where, e->msg) : e->msg;
        reply_errors(out, a, status, &one, 1);
        return;
    }
    if (e->kind == ERR_INTERNAL || e->kind == ERR_NONE) {
        status = 500;
        msg = arena_printf(a, "internal error, logged as request %s", request_id);
    }
    g = json_gen_new();
    yajl_gen_map_open(g);
    json_gen_key(g, "code");
    json_gen_int(g, status);
    json_gen_key(g, "message");
    json_gen_str(g, utf8_repair(a, msg, strlen(msg), NULL));
    yajl_gen_map_close(g);
    char *body = json_gen_finish(g, a, &len);
    http_reply_json(out, status, body, len);
}

void http_reply_error_with(struct reply *out, struct arena *a, const struct err *e, const char *request_id,
                           const char *key, const char *json)
{
    http_reply_error(out, a, e, request_id);
    if (e->kind == ERR_INVALID || e->kind == ERR_BAD_PARAM || e->kind == ERR_INTERNAL ||
        e->kind == ERR_NONE || out->body == NULL || out->body_len < 2 || json == NULL)
        return;
    /* {"code":N,"message":"..."} -> {"code":N,"message":"...","<key>":<json>} */
    yajl_gen g = json_gen_new();
    json_gen_str(g, key);
    size_t key_len;
    const char *quoted = json_gen_finish(g, a, &key_len);
    char *body = arena_printf(a, "%.*s,%s:%s}", (int)(out->body_len - 1), out->body, quoted, json);
    http_reply_json(out, out->status, body, strlen(body));
}
