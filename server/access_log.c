/* server/access_log.c - the access log line (access_log.h).
 *
 * Invariants:
 *  1. Field names and order are fixed: req, method, route, status, ms, bytes, then producer when
 *     there is one; status, ms and bytes are numbers (bare in JSON).
 *  2. The producer is cut at ACCESS_PRODUCER_MAX bytes on a character boundary: a client chooses it,
 *     and one line per request must stay short.
 * Threads: any. */
#include "access_log.h"

#include <inttypes.h>
#include <stdio.h>

#include "log.h"
#include "utf8.h"

enum { ACCESS_PRODUCER_MAX = 256 };

void access_log_write(const struct access_entry *a)
{
    char status[16], ms[32], bytes[32], producer[ACCESS_PRODUCER_MAX + 1];
    struct log_field f[7] = {
        {"req", a->request_id, false},
        {"method", a->method, false},
        {"route", a->route, false},
        {"status", status, true},
        {"ms", ms, true},
        {"bytes", bytes, true},
    };
    size_t n = 6;

    if (!log_enabled(LOG_INFO))
        return;
    snprintf(status, sizeof status, "%d", a->status);
    snprintf(ms, sizeof ms, "%.3f", (double)(a->usec > 0 ? a->usec : 0) / 1000.0);
    snprintf(bytes, sizeof bytes, "%" PRIu64, a->bytes);
    if (a->producer != NULL) {
        snprintf(producer, sizeof producer, "%.*s", utf8_prefix(a->producer, ACCESS_PRODUCER_MAX),
                 a->producer);
        f[n++] = (struct log_field){"producer", producer, false};
    }
    log_write_fields(LOG_INFO, "access", NULL, f, n);
}
