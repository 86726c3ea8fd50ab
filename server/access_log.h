/* server/access_log.h - one line per answered request: request id, method, route, status, latency,
 * body bytes and, for ingest, the producer; written through common/log.h, so --log-format decides
 * whether it is key=value text or a JSON object.
 * Threads: any (one write(2) per line). */
#ifndef LINEAGED_ACCESS_LOG_H
#define LINEAGED_ACCESS_LOG_H

#include <stdint.h>

struct access_entry {
    const char *request_id;
    const char *method; /* "GET", ... */
    const char *route;  /* the route's pattern ("/api/v1/namespaces/{}"), or "unmatched" */
    int status;
    int64_t usec;         /* from the request's head to its reply queued (a stream: to its end) */
    uint64_t bytes;       /* body bytes sent */
    const char *producer; /* ingest: the events' producer; NULL: none */
};

/* Writes a's line at level info, module "access". Cannot fail (a line that cannot be written is lost). */
void access_log_write(const struct access_entry *a);

#endif
