/* common/log.c - the only log sink: formats one line and writes it to stderr with one write(2).
 *
 * Invariants: see log.h. The level is set once by main before threads start; rate limits
 * (struct log_limit) belong to their callers and are updated with atomics only. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_level_current = LOG_INFO;

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

/* Copies src into dst escaping control characters as \xNN; returns bytes written. */
static size_t escape_into(char *dst, size_t cap, const char *src)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)src; *p != '\0' && n + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f)
            n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", *p);
        else
            dst[n++] = (char)*p;
    }
    dst[n] = '\0';
    return n;
}

/* Writes one line: time, level, module, then msg with control characters escaped. */
static void write_line(enum log_level level, const char *module, const char *msg)
{
    char line[LOG_LINE_MAX + 128];
    struct timeval tv;
    struct tm tm;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %s %s ", (long)(tv.tv_usec / 1000),
                          level_names[level], module);
    n += escape_into(line + n, sizeof line - n - 1, msg);
    line[n++] = '\n';
    /* A failed write to stderr has nowhere to be reported; dropping the line is the only option. */
    if (write(STDERR_FILENO, line, n) < 0)
        return;
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
