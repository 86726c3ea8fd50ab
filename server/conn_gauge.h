/* server/conn_gauge.h - the open-connections gauge of /metrics for the evhttp server: a connection is
 * counted at its first request and uncounted when libevent frees it.
 *
 * Invariants:
 *  1. Each connection is counted at most once: the table is indexed by socket descriptor, and a
 *     descriptor is reused only after its connection closed (and was uncounted).
 *  2. A connection closed before its first request reached us is never counted (evhttp offers no
 *     hook between accept and the first request in libevent 2.1), so the gauge never drifts upward.
 * Threads: the event loop thread only. */
#ifndef LINEAGED_CONN_GAUGE_H
#define LINEAGED_CONN_GAUGE_H

#include <stddef.h>

#include <event2/http.h>

#include "metrics.h"

struct conn_gauge {
    struct metrics *metrics;
    unsigned char *counted; /* [fd] 1 while that connection is in the gauge */
    size_t n;
};

/* Counts the request's connection unless counted already. Cannot fail: when memory runs out the
 * connection is left uncounted. */
void conn_gauge_request(struct conn_gauge *g, struct evhttp_request *evreq);

/* Frees the table (the gauge's connections are gone by then). */
void conn_gauge_free(struct conn_gauge *g);

#endif
