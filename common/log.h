/* common/log.h - one-line structured logs to stderr.
 *
 * Each .c file that logs defines LOG_MODULE ("ingest", "store", ...) before including this header.
 * A line reads: `2026-11-23T10:00:00.123Z info ingest message key=value`.
 * Invariants:
 *  1. The level is checked before any formatting (log_enabled), so debug lines cost nothing when off.
 *  2. Control characters in the formatted message are escaped; lines are cut at LOG_LINE_MAX bytes.
 *  3. The level is the only mutable global: set once at start-up by log_set_level().
 * Threads: safe from any thread (one write(2) per line). */
#ifndef LINEAGED_LOG_H
#define LINEAGED_LOG_H

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

#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, LOG_MODULE, __VA_ARGS__); } while (0)
#define log_info(...) do { if (log_enabled(LOG_INFO)) log_write(LOG_INFO, LOG_MODULE, __VA_ARGS__); } while (0)
#define log_warn(...) do { if (log_enabled(LOG_WARN)) log_write(LOG_WARN, LOG_MODULE, __VA_ARGS__); } while (0)
#define log_error(...) do { if (log_enabled(LOG_ERROR)) log_write(LOG_ERROR, LOG_MODULE, __VA_ARGS__); } while (0)

#endif
