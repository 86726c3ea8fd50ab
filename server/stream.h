/* server/stream.h - GET /api/v1/events/stream: the event log as Server-Sent Events, one per stored
 * OpenLineage event, `id:` its seq.
 *
 * One feed: the graph follower's look at the log (collector/follower.h), window by window below the
 * oldest running transaction, which sees this collector's events and every other collector's on the
 * same database alike. The follower's thread builds each event's SSE message once; the loop thread
 * hands the same bytes (by reference) to every subscriber whose filters it passes. No subscriber
 * costs a database query per event: only a resume (Last-Event-ID) reads the log, page by page on one
 * catch-up thread (stream_catchup.c), until it reaches the live edge.
 *
 * Order and resume (store/store_stream.h): events go out in (xid, seq) order, so a client that saw
 * event S has seen everything positioned before it; a resume looks up S's xid and continues after
 * (xid(S), S), skipping nothing (a lower seq that committed late sorts by its xid, after S if it
 * was not delivered before S) and repeating nothing.
 *
 * Subscriber states (stream.c names the function behind each transition):
 *   CATCHUP --page shorter than asked and its horizon the live one (on_page)--> LIVE
 *   LIVE --a window the follower could not hand over whole (on_window)--> CATCHUP
 *   CATCHUP, LIVE --reader fell behind, read error, shutdown (sub_end)--> ENDING --closed--> freed
 * Invariants:
 *  1. Live events form one chain of shared messages (stream_int.h); a LIVE subscriber holds its place
 *     in it and copies messages into its output while that holds less than half --stream-buffer-kb.
 *     When a window arrives, a subscriber still short of the window before it by more than
 *     --stream-buffer-kb (its output included) is dropped, with a final comment saying why, and lets
 *     go of the chain at once. So the chain is pinned for at most that plus two windows, and each
 *     output holds at most half the buffer plus one event (plus the final comment); catch-up pages
 *     are asked for only once the output drained to half. The socket's send buffer is the same
 *     size. Ingest never waits for a subscriber: the follower hands a window over under a mutex.
 *  2. The windows waiting for the loop hold at most --stream-window-mb of messages; a window that
 *     does not fit (or that the follower built while nobody listened) is handed over without its
 *     events, and every live subscriber reads it from the log instead (CATCHUP): never a gap.
 *  3. Each subscriber is counted in the lineaged_stream_subscribers gauge from open to close.
 * Threads: the feed functions run on the follower's thread; everything else on the loop thread. */
#ifndef LINEAGED_STREAM_H
#define LINEAGED_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "cfg.h"
#include "err.h"
#include "h1_conn.h"
#include "http.h"
#include "metrics.h"
#include "store_stream.h"

/* What GET /api/v1/events/stream asks for (filled by stream_get on a worker, in the request arena). */
struct stream_request {
    struct store_stream_filter filter;
    bool resume;                   /* Last-Event-ID given: catch up from `after` first */
    struct store_stream_pos after; /* resume: the position of the last event the client has */
    int64_t min_seq;               /* resume: only events with seq >= this while catching up */
    bool id_missing;               /* resume: the event is no longer in the log (retention) */
    int64_t last_id;
};

struct stream_hub;

/* A hub fed from `horizon` on (the follower's starting xmin), with c's limits (borrowed, outlive the
 * hub), m for the subscribers gauge; catch-up reads connect to conninfo (copied). enabled false: the
 * follower does not run, the route answers 503. NULL when memory runs out. */
struct stream_hub *stream_hub_new(const struct cfg *c, struct metrics *m, const char *conninfo,
                                  uint64_t horizon, bool enabled);
void stream_hub_free(struct stream_hub *h);

/* The follower observer's functions (follower.h); ctx is the hub. Follower thread. */
void stream_feed_event(void *hub, const struct store_log_event *ev);
void stream_feed_window(void *hub, uint64_t horizon);
void stream_feed_abort(void *hub);

/* Loop thread: start taking windows on base (and the catch-up thread); -1 with e set. */
int stream_hub_start(struct stream_hub *h, struct event_base *base, struct err *e);
/* Loop thread: x's handler asked for a stream (x->reply.stream): opens it, or answers an error (503
 * when shutting down, at --max-streams, or without a follower). */
void stream_hub_attach(struct stream_hub *h, struct h1_exchange *x);
/* Loop thread, at SIGTERM: every stream ends with a comment saying so; new ones are refused. */
void stream_hub_shutdown(struct stream_hub *h);
/* After the loop ended and every connection closed: joins the catch-up thread, frees what is left;
 * the feed only tracks the horizon afterwards. NULL is a no-op. */
void stream_hub_stop(struct stream_hub *h);

/* GET /api/v1/events/stream?namespace=&job=&eventType=&producer=&lastEventId= (a worker thread):
 * checks the parameters and Last-Event-ID (header, else lastEventId=), finds the resume position, and
 * answers a streaming reply. 400 for a bad id or filter. */
int stream_get(struct req *r, struct reply *out, struct err *e);

#endif
