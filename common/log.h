/* common/log.h - one-line structured logs to stderr.
 *
 * Each .c file that logs defines LOG_MODULE ("ingest", "store", ...) before including this header.
 * A line reads: `2026-11-23T10:00:00.123Z info ingest message key=value`.
 * Invariants:
 *  1. The level is checked before any formatting (log_enabled), so debug lines cost nothing when off.
 *  2. Control characters in the formatted message are escaped; lines are cut at LOG_LINE_MAX bytes.
 *  3. The level is the only mutable global: set once at start-up by log_set_level().
 *  4. A line that can repeat once per request or per event (a database outage, accept() failing)
 *     goes through a struct log_limit owned by the caller: at most `burst` such lines per
 *     `interval_s` seconds, and the next line written says how many were left out.
 * Threads: safe from any thread (one write(2) per line; a log_limit uses atomics only). */
#ifndef LINEAGED_LOG_H
#define LINEAGED_LOG_H

#include <stdatomic.h>
#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

enum { LOG_LINE_MAX = 2048 };

/* Parses "debug|info|warn|error"; returns false if the name is unknown. */
bool log_parse_level(const char *name, enum log_level *out);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/* Formats and writes one line. Use the macros below instead. */
void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A rate limit for one kind of repeated line. Owned by whoever logs the line (struct server, say);
 * set up with log_limit_init before any thread uses it. */
struct log_limit {
    int burst;                     /* lines allowed per window */
    int interval_s;                /* window length in seconds */
    _Atomic long long window;      /* monotonic second the current window began */
    atomic_int passed;             /* lines written in the current window */
    atomic_ulong suppressed;       /* lines left out since the last one written */
};

/* At most burst lines per interval_s seconds (both >= 1). Cannot fail. */
void log_limit_init(struct log_limit *l, int burst, int interval_s);

/* Whether a line may be written at monotonic second now_s; when it may, *suppressed receives how many
 * lines were left out before it (and the count restarts). Exposed for tests; use log_warn_limited. */
bool log_limit_pass(struct log_limit *l, long long now_s, unsigned long *suppressed);

/* log_write through a limit: the line is dropped when l says so, and a line written after dropped
 * ones ends with "(N similar lines suppressed)". l NULL: no limit. */
void log_write_limited(struct log_limit *l, enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, LOG_MODULE, __VA_ARGS__); } while (0)
#define log_info(...) do { if (log_enabled(LOG_INFO)) log_write(LOG_INFO, LOG_MODULE, __VA_ARGS__); } while (0)
#define log_warn(...) do { if (log_enabled(LOG_WARN)) log_write(LOG_WARN, LOG_MODULE, __VA_ARGS__); } while (0)
#define log_error(...) do { if (log_enabled(LOG_ERROR)) log_write(LOG_ERROR, LOG_MODULE, __VA_ARGS__); } while (0)
#define log_error_limited(l, ...) do { if (log_enabled(LOG_ERROR)) log_write_limited(l, LOG_ERROR, LOG_MODULE, __VA_ARGS__); } while (0)
#define log_warn_limited(l, ...) do { if (log_enabled(LOG_WARN)) log_write_limited(l, LOG_WARN, LOG_MODULE, __VA_ARGS__); } while (0)

#endif
