/* server/lanes.h - the request queue between the event loop and the workers: a lane for reads and a
 * lane for writes, each bounded, so health and reads never wait behind queued ingest.
 *
 * Invariant (the one this exists for): a read, and /healthcheck in particular, never waits for a
 * queued write. Reads are taken before writes by every worker, health requests go to the front of the
 * read lane, and when there are two or more workers, worker 0 takes reads only, so even with every
 * other worker busy on a long ingest transaction a read waits at most for the reads ahead of it (and
 * a health check for the read in progress on worker 0). With one worker, a read waits at most for the
 * one write in progress.
 * Other invariants:
 *  1. A lane holds at most `max` requests admitted but not started: lanes_admit counts a request when
 *     its head arrives (before its body is read), lanes_pop or lanes_release uncounts it. A full lane
 *     refuses (503 + Retry-After); health requests are never refused (the connection cap bounds them).
 *  2. A worker takes one request, or for a group route (route->group) the run of queued requests of
 *     the same route at the head of the write lane, at most LANES_MAX_GROUP (group commit).
 * Threads: every function must be called with the server's lock held. */
#ifndef LINEAGED_LANES_H
#define LINEAGED_LANES_H

#include <stdbool.h>
#include <stddef.h>

#include "routes.h"

enum lane { LANE_READ, LANE_WRITE, LANE_COUNT };

enum { LANES_MAX_GROUP = 64 };

/* A queued request; the server embeds it in its job. */
struct queued {
    struct queued *next;
    const struct route *route;
    enum lane lane;
    bool urgent; /* health: front of the read lane, never refused */
};

struct lanes {
    struct queued *head[LANE_COUNT], *tail[LANE_COUNT];
    struct queued *urgent_tail[LANE_COUNT]; /* last of the urgent requests at the head, or NULL */
    size_t admitted[LANE_COUNT]; /* invariant 1 */
    size_t max;
};

/* Which lane a route's requests take, and whether they are urgent (health). */
void lanes_classify(const struct route *route, enum lane *lane, bool *urgent);

/* Counts a request whose head arrived; false (not counted) when its lane is full. */
bool lanes_admit(struct lanes *l, enum lane lane, bool urgent);

/* Uncounts an admitted request that will not be queued (its body failed). */
void lanes_release(struct lanes *l, enum lane lane);

/* Queues an admitted request: urgent ones ahead of every other but behind earlier urgent ones. */
void lanes_push(struct lanes *l, struct queued *q);

/* Whether a worker (reads_only or not) has something to take. */
bool lanes_ready(const struct lanes *l, bool reads_only);

/* Takes the next request (or group) for a worker into group[]; returns how many (0: none). */
size_t lanes_pop(struct lanes *l, bool reads_only, struct queued **group);

#endif
