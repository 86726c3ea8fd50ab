/* server/conn_gauge.c - counting open connections for /metrics (see conn_gauge.h). */
#include "conn_gauge.h"

#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>

static evutil_socket_t connection_fd(struct evhttp_connection *evcon)
{
    return evcon != NULL ? bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)) : -1;
}

static void connection_closed(struct evhttp_connection *evcon, void *arg)
{
    struct conn_gauge *g = arg;
    evutil_socket_t fd = connection_fd(evcon);

    if (fd >= 0 && (size_t)fd < g->n && g->counted[fd]) {
        g->counted[fd] = 0;
        metrics_connections(g->metrics, -1);
    }
}

void conn_gauge_request(struct conn_gauge *g, struct evhttp_request *evreq)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
    evutil_socket_t fd = connection_fd(evcon);

    if (fd < 0)
        return;
    if ((size_t)fd >= g->n) {
        size_t n = (size_t)fd * 2 + 64;
        unsigned char *bigger = realloc(g->counted, n);
        if (bigger == NULL)
            return;
        memset(bigger + g->n, 0, n - g->n);
        g->counted = bigger;
        g->n = n;
    }
    if (g->counted[fd])
        return;
    g->counted[fd] = 1;
    metrics_connections(g->metrics, 1);
    evhttp_connection_set_closecb(evcon, connection_closed, g);
}

void conn_gauge_free(struct conn_gauge *g)
{
    free(g->counted);
    g->counted = NULL;
    g->n = 0;
}
