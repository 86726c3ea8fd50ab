/* server/h1.c - HTTP/1.1 request framing on http_parser: head scan, head parse and checks, body decoding.
 *
 * Invariants: see h1.h. http_parser runs in Debian's non-strict build (it lets a space into a field
 * name, for one), so every rule of h1.h is checked here on what it reports, not taken on trust.
 * The head scanner is a small state machine over the bytes (SCAN_*), carried across reads:
 *   START -CR-> START_CR -LF-> START        (empty lines before the request line are ignored)
 *   START/LINESTART -other-> LINE -CR-> CR -LF-> LINESTART -CR-> END_CR -LF-> head complete
 *   a bare LF or CR, a NUL, or SP/HT at LINESTART (obs-fold) ends the scan with an error. */
#include "h1.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

enum { SCAN_START, SCAN_START_CR, SCAN_LINE, SCAN_CR, SCAN_LINESTART, SCAN_END_CR };
enum { LAST_NONE, LAST_FIELD, LAST_VALUE };
enum { H1_FIELDS_INITIAL = 16, H1_MAX_LENGTH_DIGITS = 18, H1_HTTP_PARSER_MIN_HEAD = 80 * 1024 };

struct h1_parser {
    http_parser hp;
    struct arena *a;
    struct h1_head *head;
    struct err *e;       /* where a callback's refusal is written */
    bool failed;         /* a callback refused: e is set */
    bool headers_done;   /* later field callbacks are trailers */
    bool message_done;
    int last;            /* LAST_*: field and value callbacks may come in pieces */
    size_t fields_cap;
    char *url;
    size_t url_len;
    h1_body_fn *sink;
    void *sink_ctx;
};

void h1_init(size_t max_head)
{
    http_parser_set_max_header_size((uint32_t)(max_head > H1_HTTP_PARSER_MIN_HEAD ? max_head
                                                                                  : H1_HTTP_PARSER_MIN_HEAD));
}

struct h1_parser *h1_parser_new(void)
{
    return calloc(1, sizeof(struct h1_parser));
}

void h1_parser_free(struct h1_parser *p)
{
    free(p);
}

/* ---- head scan -------------------------------------------------------------------------------- */

/* The next scanner state after byte c, or -1 with e set. */
static int scan_step(int state, unsigned char c, struct err *e)
{
    if (c == '\0')
        return err_set(e, ERR_BAD_INPUT, NULL, "request head contains a NUL byte");
    switch (state) {
    case SCAN_START:
    case SCAN_LINESTART:
        if (c == '\r')
            return state == SCAN_START ? SCAN_START_CR : SCAN_END_CR;
        if (c == ' ' || c == '\t')
            return err_set(e, ERR_BAD_INPUT, NULL,
                           state == SCAN_START ? "request line starts with whitespace"
                                               : "obsolete line folding (a header line starting with whitespace)");
        break;
    case SCAN_START_CR:
    case SCAN_CR:
    case SCAN_END_CR:
        if (c != '\n')
            return err_set(e, ERR_BAD_INPUT, NULL, "bare CR in request head; lines end with CRLF");
        return state == SCAN_START_CR ? SCAN_START : state == SCAN_CR ? SCAN_LINESTART : SCAN_END_CR;
    default:
        if (c == '\r')
            return SCAN_CR;
        break;
    }
    if (c == '\n')
        return err_set(e, ERR_BAD_INPUT, NULL, "bare LF in request head; lines end with CRLF");
    return SCAN_LINE;
}

long h1_scan_head(struct h1_scan *s, const char *data, size_t len, size_t max_head, struct err *e)
{
    for (size_t i = 0; i < len; i++) {
        int was = s->state;
        int next = scan_step(was, (unsigned char)data[i], e);
        if (next < 0)
            return -1;
        s->pos++;
        if (was == SCAN_END_CR)
            return (long)s->pos;
        s->state = next;
        if (s->pos >= max_head)
            return err_set(e, ERR_HEADERS_TOO_LARGE, NULL,
                           "request line and headers exceed %zu bytes (--max-header-bytes)", max_head);
    }
    return 0;
}

/* ---- head parse: callbacks ------------------------------------------------------------------- */

/* dst (len *n) followed by src[0..add), NUL-terminated, in the arena. */
static char *append(struct arena *a, const char *dst, size_t *n, const char *src, size_t add)
{
    char *out = arena_alloc(a, *n + add + 1);

    if (*n > 0)
        memcpy(out, dst, *n);
    memcpy(out + *n, src, add);
    *n += add;
    out[*n] = '\0';
    return out;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
    struct h1_parser *p = hp->data;
    p->url = append(p->a, p->url, &p->url_len, at, len);
    return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    struct h1_parser *p = hp->data;
    struct h1_head *h = p->head;

    if (p->headers_done)
        return 0; /* a trailer: ignored */
    if (p->last != LAST_FIELD) {
        if (h->n_fields == p->fields_cap) {
            size_t cap = p->fields_cap ? p->fields_cap * 2 : H1_FIELDS_INITIAL;
            struct h1_field *bigger = arena_alloc(p->a, cap * sizeof *bigger);
            if (h->n_fields > 0)
                memcpy(bigger, h->fields, h->n_fields * sizeof *bigger);
            h->fields = bigger;
            p->fields_cap = cap;
        }
        h->fields[h->n_fields++] = (struct h1_field){"", ""};
    }
    struct h1_field *f = &h->fields[h->n_fields - 1];
    size_t n = strlen(f->name);
    f->name = append(p->a, f->name, &n, at, len);
    p->last = LAST_FIELD;
    return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    struct h1_parser *p = hp->data;

    if (p->headers_done)
        return 0;
    struct h1_field *f = &p->head->fields[p->head->n_fields - 1];
    size_t n = strlen(f->value);
    f->value = append(p->a, f->value, &n, at, len);
    p->last = LAST_VALUE;
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    struct h1_parser *p = hp->data;

    if (p->sink != NULL && p->sink(p->sink_ctx, at, len, p->e) != 0) {
        p->failed = true;
        return -1;
    }
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    struct h1_parser *p = hp->data;

    p->message_done = true;
    http_parser_pause(hp, 1); /* bytes after this message belong to the next request */
    return 0;
}

/* ---- head parse: checks ---------------------------------------------------------------------- */

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Checks every field name and trims every value (copies in a); -1 with e set. */
static int check_fields(struct arena *a, struct h1_head *h, struct err *e)
{
    for (size_t i = 0; i < h->n_fields; i++) {
        struct h1_field *f = &h->fields[i];
        if (f->name[0] == '\0')
            return err_set(e, ERR_BAD_INPUT, NULL, "empty header name");
        for (const char *c = f->name; *c != '\0'; c++)
            if (!is_tchar((unsigned char)*c))
                return err_set(e, ERR_BAD_INPUT, NULL, "header name \"%.64s\" contains %s", f->name,
                               *c == ' ' || *c == '\t' ? "whitespace" : "a character that is not allowed");
        const char *v = f->value;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        for (size_t k = 0; k < n; k++)
            if (((unsigned char)v[k] < 0x20 && v[k] != '\t') || v[k] == 0x7f)
                return err_set(e, ERR_BAD_INPUT, NULL, "header \"%.64s\" contains a control character", f->name);
        f->value = arena_strndup(a, v, n);
    }
    return 0;
}

/* How often each framing-relevant field appears. */
struct field_counts {
    size_t content_length, transfer_encoding, host, content_type, content_encoding, authorization, expect;
};

static void count_fields(const struct h1_head *h, struct field_counts *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < h->n_fields; i++) {
        const char *n = h->fields[i].name;
        c->content_length += strcasecmp(n, "Content-Length") == 0;
        c->transfer_encoding += strcasecmp(n, "Transfer-Encoding") == 0;
        c->host += strcasecmp(n, "Host") == 0;
        c->content_type += strcasecmp(n, "Content-Type") == 0;
        c->content_encoding += strcasecmp(n, "Content-Encoding") == 0;
        c->authorization += strcasecmp(n, "Authorization") == 0;
        c->expect += strcasecmp(n, "Expect") == 0;
    }
}

/* Invariants 3 and 4 of h1.h on the fields; -1 with e set. */
static int check_framing(const struct h1_head *h, struct err *e)
{
    struct field_counts c;
    const char *cl = h1_field(h, "Content-Length"), *te = h1_field(h, "Transfer-Encoding");
    static const char *const once[] = {"Content-Type", "Content-Encoding", "Authorization", "Expect"};

    count_fields(h, &c);
    if (c.content_length > 1)
        return err_set(e, ERR_BAD_INPUT, NULL, "Content-Length appears %zu times; send it once", c.content_length);
    if (cl != NULL && (cl[0] == '\0' || strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > H1_MAX_LENGTH_DIGITS))
        return err_set(e, ERR_BAD_INPUT, NULL, "Content-Length \"%.32s\" is not a number of bytes", cl);
    if (c.transfer_encoding > 1)
        return err_set(e, ERR_BAD_INPUT, NULL, "Transfer-Encoding appears %zu times; send it once",
                       c.transfer_encoding);
    if (te != NULL && strcasecmp(te, "chunked") != 0)
        return err_set(e, ERR_BAD_INPUT, NULL, "Transfer-Encoding \"%.32s\" is not supported; send chunked", te);
    if (te != NULL && cl != NULL)
        return err_set(e, ERR_BAD_INPUT, NULL, "both Content-Length and Transfer-Encoding; send one of them");
    if (te != NULL && h->minor == 0)
        return err_set(e, ERR_BAD_INPUT, NULL, "Transfer-Encoding is not allowed in HTTP/1.0");
    if (c.host > 1 || (c.host == 0 && h->minor == 1))
        return err_set(e, ERR_BAD_INPUT, NULL, "an HTTP/1.1 request needs exactly one Host header (%zu sent)",
                       c.host);
    size_t counts[] = {c.content_type, c.content_encoding, c.authorization, c.expect};
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++)
        if (counts[i] > 1)
            return err_set(e, ERR_BAD_INPUT, once[i], "%s appears %zu times; send it once", once[i], counts[i]);
    return 0;
}

/* Splits the request target into raw path and query; -1 with e set for a target we do not serve. */
static int split_target(struct arena *a, const char *url, size_t len, struct h1_head *h, struct err *e)
{
    struct http_parser_url u;

    if (len == 0)
        return err_set(e, ERR_BAD_INPUT, NULL, "empty request target");
    if (memchr(url, '#', len) != NULL)
        return err_set(e, ERR_BAD_INPUT, NULL, "request target contains a fragment ('#')");
    if (url[0] == '/') { /* origin-form */
        const char *q = memchr(url, '?', len);
        h->path = arena_strndup(a, url, q ? (size_t)(q - url) : len);
        h->query = q ? arena_strndup(a, q + 1, len - (size_t)(q - url) - 1) : NULL;
        return 0;
    }
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, len, 0, &u) != 0 || !(u.field_set & (1 << UF_SCHEMA)) ||
        !(u.field_set & (1 << UF_HOST)))
        return err_set(e, ERR_BAD_INPUT, NULL, "request target \"%.64s\" is neither a path nor an absolute URL", url);
    h->path = u.field_set & (1 << UF_PATH)
                  ? arena_strndup(a, url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len)
                  : "/";
    h->query = u.field_set & (1 << UF_QUERY)
                   ? arena_strndup(a, url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len)
                   : NULL;
    return 0;
}

/* Runs once the head is read: every check of h1.h, then what the body looks like. */
static int on_headers_complete(http_parser *hp)
{
    struct h1_parser *p = hp->data;
    struct h1_head *h = p->head;

    p->headers_done = true;
    h->method = http_method_str((enum http_method)hp->method);
    h->major = hp->http_major;
    h->minor = hp->http_minor;
    if (h->major != 1 || h->minor > 1)
        p->failed = err_set(p->e, ERR_BAD_INPUT, NULL, "HTTP/%d.%d is not supported; use HTTP/1.1", h->major,
                            h->minor) != 0;
    else if (hp->method == HTTP_CONNECT)
        p->failed = err_set(p->e, ERR_BAD_INPUT, NULL, "CONNECT is not supported") != 0;
    else if (check_fields(p->a, h, p->e) != 0 || check_framing(h, p->e) != 0 ||
             split_target(p->a, p->url ? p->url : "", p->url_len, h, p->e) != 0)
        p->failed = true;
    if (p->failed)
        return -1;
    if (hp->flags & F_CHUNKED)
        h->framing = H1_BODY_CHUNKED;
    else if ((hp->flags & F_CONTENTLENGTH) && hp->content_length > 0)
        h->framing = H1_BODY_LENGTH;
    h->content_length = h->framing == H1_BODY_LENGTH ? hp->content_length : 0;
    h->keep_alive = http_should_keep_alive(hp) != 0;
    const char *expect = h1_field(h, "Expect");
    h->expect_continue = expect != NULL && strcasecmp(expect, "100-continue") == 0;
    return 0;
}

static const http_parser_settings SETTINGS = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* The message for a parser error no check of ours caught first. */
static int parser_error(const http_parser *hp, const char *what, struct err *e)
{
    enum http_errno n = HTTP_PARSER_ERRNO(hp);

    if (n == HPE_UNEXPECTED_CONTENT_LENGTH)
        return err_set(e, ERR_BAD_INPUT, NULL, "%s: Content-Length repeated or sent with Transfer-Encoding", what);
    if (n == HPE_HEADER_OVERFLOW)
        return err_set(e, ERR_HEADERS_TOO_LARGE, NULL, "%s: a header section or chunk line is too long", what);
    return err_set(e, ERR_BAD_INPUT, NULL, "%s: %s", what, http_errno_description(n));
}

int h1_parse_head(struct h1_parser *p, struct arena *a, const char *head, size_t len, struct h1_head *out,
                  struct err *e)
{
    memset(out, 0, sizeof *out);
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    p->a = a;
    p->head = out;
    p->e = e;
    p->failed = p->headers_done = p->message_done = false;
    p->last = LAST_NONE;
    p->fields_cap = 0;
    p->url = NULL;
    p->url_len = 0;
    p->sink = NULL;
    size_t used = http_parser_execute(&p->hp, &SETTINGS, head, len);
    enum http_errno n = HTTP_PARSER_ERRNO(&p->hp);
    if (p->failed)
        return -1;
    if (n != HPE_OK && n != HPE_PAUSED)
        return parser_error(&p->hp, "malformed request head", e);
    if (used != len || !p->headers_done) /* cannot happen for a head h1_scan_head measured */
        return err_set(e, ERR_BAD_INPUT, NULL, "malformed request head");
    return 0;
}

long h1_parse_body(struct h1_parser *p, const char *buf, size_t len, h1_body_fn *sink, void *ctx, bool *done,
                   struct err *e)
{
    *done = p->message_done;
    if (p->message_done || len == 0)
        return 0;
    p->sink = sink;
    p->sink_ctx = ctx;
    p->e = e;
    size_t used = http_parser_execute(&p->hp, &SETTINGS, buf, len);
    enum http_errno n = HTTP_PARSER_ERRNO(&p->hp);
    p->sink = NULL;
    if (p->failed)
        return -1;
    if (n != HPE_OK && n != HPE_PAUSED)
        return parser_error(&p->hp, "malformed request body", e);
    *done = p->message_done;
    return (long)used;
}

const char *h1_field(const struct h1_head *head, const char *name)
{
    for (size_t i = head->n_fields; i > 0; i--)
        if (strcasecmp(head->fields[i - 1].name, name) == 0)
            return head->fields[i - 1].value;
    return NULL;
}
