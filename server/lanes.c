/* server/lanes.c - the read and write lanes of the request queue (see lanes.h).
 *
 * Invariants: see lanes.h. Lanes are singly linked FIFO lists; urgent requests form a FIFO run at the
 * front (urgent_tail marks its end), ahead of the others.
 * Threads: callers hold the server's lock. */
#include "lanes.h"

void lanes_classify(const struct route *route, enum lane *lane, bool *urgent)
{
    bool read = route->method == HTTP_GET || route->method == HTTP_HEAD;

    *lane = read ? LANE_READ : LANE_WRITE;
    *urgent = read && route->scope == AUTH_PUBLIC; /* /healthcheck, /healthz, /readyz: what probes poll */
}

bool lanes_admit(struct lanes *l, enum lane lane, bool urgent)
{
    if (!urgent && l->admitted[lane] >= l->max)
        return false;
    l->admitted[lane]++;
    return true;
}

void lanes_release(struct lanes *l, enum lane lane)
{
    l->admitted[lane]--;
}

void lanes_push(struct lanes *l, struct queued *q)
{
    enum lane lane = q->lane;

    if (q->urgent) {
        struct queued **at = l->urgent_tail[lane] ? &l->urgent_tail[lane]->next : &l->head[lane];
        q->next = *at;
        *at = q;
        l->urgent_tail[lane] = q;
        if (q->next == NULL)
            l->tail[lane] = q;
        return;
    }
    q->next = NULL;
    if (l->tail[lane] != NULL)
        l->tail[lane]->next = q;
    else
        l->head[lane] = q;
    l->tail[lane] = q;
}

bool lanes_ready(const struct lanes *l, bool reads_only)
{
    return l->head[LANE_READ] != NULL || (!reads_only && l->head[LANE_WRITE] != NULL);
}

size_t lanes_pop(struct lanes *l, bool reads_only, struct queued **group)
{
    enum lane lane = l->head[LANE_READ] != NULL ? LANE_READ : LANE_WRITE;
    struct queued *q = l->head[lane];
    size_t n = 0;

    if (q == NULL || (reads_only && lane != LANE_READ))
        return 0;
    bool batchable = q->route->group != NULL;
    do {
        group[n++] = q;
        if (q == l->urgent_tail[lane])
            l->urgent_tail[lane] = NULL;
        l->head[lane] = q->next;
        q = q->next;
    } while (batchable && q != NULL && q->route == group[0]->route && n < LANES_MAX_GROUP);
    if (l->head[lane] == NULL)
        l->tail[lane] = NULL;
    l->admitted[lane] -= n;
    return n;
}
