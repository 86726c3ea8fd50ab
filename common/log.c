/* common/log.c - the only log sink: formats one line and writes it to stderr with one write(2).
 *
 * Invariants: see log.h. The level is set once by main before threads start; rate limits
 * (struct log_limit) belong to their callers and are updated with atomics only. */
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"

static enum log_level log_level_current = LOG_INFO;
static enum log_format log_format_current = LOG_FORMAT_PLAIN;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

bool log_parse_level(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

void log_set_level(enum log_level level)
{
    log_level_current = level;
}

bool log_enabled(enum log_level level)
{
    return level >= log_level_current;
}

bool log_parse_format(const char *name, enum log_format *out)
{
    if (strcmp(name, "plain") == 0)
        *out = LOG_FORMAT_PLAIN;
    else if (strcmp(name, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return false;
    return true;
}

void log_set_format(enum log_format format)
{
    log_format_current = format;
}

/* A line under construction in a fixed buffer; `n` stops growing when it is full (room is left for
 * the line's end: "\"}\n" in JSON). */
struct line {
    char buf[LOG_LINE_MAX + 128];
    size_t n, cap;
    bool full; /* something did not fit */
};

static void put_raw(struct line *l, const char *s, size_t len)
{
    if (len > l->cap - l->n) {
        len = l->cap - l->n;
        l->full = true;
    }
    memcpy(l->buf + l->n, s, len);
    l->n += len;
}

static void put_str(struct line *l, const char *s)
{
    put_raw(l, s, strlen(s));
}

/* Plain text: control characters as \xNN. */
static void put_escaped(struct line *l, const char *src)
{
    char hex[8];

    for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
        if (l->n + 4 >= l->cap) {
            l->full = true;
            return;
        }
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(hex, sizeof hex, "\\x%02x", *p);
            put_str(l, hex);
        } else {
            l->buf[l->n++] = (char)*p;
        }
    }
}

/* The contents of a JSON string (without quotes): escapes, U+FFFD for bytes that are not UTF-8, and
 * never a character or escape cut in two when the line is full. */
static void put_json_chars(struct line *l, const char *src)
{
    size_t len = strlen(src), i = 0, bad;
    char esc[8];

    while (i < len) {
        enum utf8_problem p = utf8_check(src + i, len - i, &bad);
        size_t end = p == UTF8_OK ? len : i + bad; /* src[i..end) is valid UTF-8 */
        while (i < end) {
            unsigned char c = (unsigned char)src[i];
            size_t clen = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            if (c == '"' || c == '\\')
                snprintf(esc, sizeof esc, "\\%c", c);
            else if (c < 0x20 || c == 0x7f)
                snprintf(esc, sizeof esc, "\\u%04x", c);
            else
                memcpy(esc, src + i, clen), esc[clen] = '\0';
            if (l->n + strlen(esc) > l->cap) {
                l->full = true;
                return;
            }
            put_str(l, esc);
            i += clen;
        }
        if (i < len) { /* a byte that starts no valid character */
            if (l->n + 3 > l->cap) {
                l->full = true;
                return;
            }
            put_str(l, "\xEF\xBF\xBD");
            i++;
        }
    }
}

static void put_json_string(struct line *l, const char *s)
{
    put_raw(l, "\"", 1);
    put_json_chars(l, s);
    put_raw(l, "\"", 1);
}

/* Whether a plain field value needs quotes. */
static bool needs_quotes(const char *v)
{
    return v[0] == '\0' || strpbrk(v, " \"\\=") != NULL;
}

static void put_plain_value(struct line *l, const char *v)
{
    if (!needs_quotes(v)) {
        put_escaped(l, v);
        return;
    }
    put_raw(l, "\"", 1);
    for (const char *p = v; *p != '\0' && l->n + 4 < l->cap; p++) {
        char one[2] = {*p, '\0'};
        if (*p == '"' || *p == '\\')
            put_raw(l, "\\", 1);
        put_escaped(l, one);
    }
    put_raw(l, "\"", 1);
}

static void put_time(struct line *l)
{
    struct timeval tv;
    struct tm tm;
    char t[64];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(t + n, sizeof t - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
    put_str(l, t);
}

/* The line's start: time, level, module. */
static void put_start(struct line *l, enum log_level level, const char *module, bool json)
{
    put_str(l, json ? "{\"time\":\"" : "");
    put_time(l);
    put_str(l, json ? "\",\"level\":\"" : " ");
    put_str(l, level_names[level]);
    put_str(l, json ? "\",\"module\":" : " ");
    if (json)
        put_json_string(l, module);
    else
        put_escaped(l, module);
}

/* A JSON line that did not fit: the start and as much of msg as fits, marked truncated. */
static void put_json_cut(struct line *l, enum log_level level, const char *module, const char *msg)
{
    l->n = 0;
    l->cap = LOG_LINE_MAX;
    put_start(l, level, module, true);
    put_str(l, ",\"truncated\":true,\"msg\":\"");
    put_json_chars(l, msg != NULL ? msg : "");
    l->cap = sizeof l->buf;
    put_str(l, "\"");
}

/* Writes one line: time, level, module, msg (may be NULL), fields; plain or JSON (invariant 5). */
static void write_line_fields(enum log_level level, const char *module, const char *msg,
                              const struct log_field *f, size_t n_fields)
{
    struct line l = {.n = 0, .cap = LOG_LINE_MAX + 100};
    bool json = log_format_current == LOG_FORMAT_JSON;

    put_start(&l, level, module, json);
    if (msg != NULL) {
        put_str(&l, json ? ",\"msg\":" : " ");
        if (json)
            put_json_string(&l, msg);
        else
            put_escaped(&l, msg);
    }
    for (size_t i = 0; i < n_fields; i++) {
        put_str(&l, json ? ",\"" : " ");
        put_str(&l, f[i].key);
        put_str(&l, json ? "\":" : "=");
        if (json && f[i].number)
            put_str(&l, f[i].value);
        else if (json)
            put_json_string(&l, f[i].value);
        else
            put_plain_value(&l, f[i].value);
    }
    if (json && l.full)
        put_json_cut(&l, level, module, msg);
    l.cap = sizeof l.buf; /* the end always fits */
    put_str(&l, json ? "}\n" : "\n");
    /* A failed write to stderr has nowhere to be reported; dropping the line is the only option. */
    if (write(STDERR_FILENO, l.buf, l.n) < 0)
        return;
}

/* Writes one line: time, level, module, then msg with control characters escaped. */
static void write_line(enum log_level level, const char *module, const char *msg)
{
    write_line_fields(level, module, msg, NULL, 0);
}

void log_write_fields(enum log_level level, const char *module, const char *msg,
                      const struct log_field *fields, size_t n)
{
    if (log_enabled(level))
        write_line_fields(level, module, msg, fields, n);
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
    char msg[LOG_LINE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    write_line(level, module, msg);
}

void log_limit_init(struct log_limit *l, int burst, int interval_s)
{
    l->burst = burst > 0 ? burst : 1;
    l->interval_s = interval_s > 0 ? interval_s : 1;
    atomic_init(&l->window, 0);
    atomic_init(&l->passed, 0);
    atomic_init(&l->suppressed, 0);
}

/* Races between threads are benign: at worst a window restarts twice or lets a line more through. */
bool log_limit_pass(struct log_limit *l, long long now_s, unsigned long *suppressed)
{
    long long start = atomic_load(&l->window);

    if (now_s - start >= l->interval_s && atomic_compare_exchange_strong(&l->window, &start, now_s))
        atomic_store(&l->passed, 0);
    if (atomic_fetch_add(&l->passed, 1) >= l->burst) {
        atomic_fetch_add(&l->suppressed, 1);
        return false;
    }
    *suppressed = atomic_exchange(&l->suppressed, 0);
    return true;
}

void log_write_limited(struct log_limit *l, enum log_level level, const char *module, const char *fmt, ...)
{
    char msg[LOG_LINE_MAX];
    struct timespec now;
    unsigned long dropped = 0;
    va_list ap;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (l != NULL && !log_limit_pass(l, (long long)now.tv_sec, &dropped))
        return;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (dropped > 0 && n >= 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n, " (%lu similar lines suppressed)", dropped);
    write_line(level, module, msg);
}
