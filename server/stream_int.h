/* server/stream_int.h - what stream.c, stream_feed.c and stream_catchup.c share; not for
 * other files.
 * Ownership: a message is malloc'd once with its text and filter fields. Messages form lists through
 * `next`, and a list link owns a reference to the message it points to (the list's head is owned by
 * whoever holds the list: a window, a page, the hub's chain). So holding a message keeps everything
 * after it alive, and dropping the last reference to a message frees it and lets go of its successor
 * (stream_msg_unref walks on without recursion). Once published to the loop thread, refs is touched
 * on the loop thread only. Subscribers get copies of the bytes (never references into the chain),
 * so a dropped subscriber lets go of the chain at once. */
#ifndef LINEAGED_STREAM_INT_H
#define LINEAGED_STREAM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "stream.h"

#define LOG_MODULE "stream"
#include "log.h"

enum {
    STREAM_PAGE_EVENTS = 100, /* events per catch-up read */
    STREAM_RETRY_MS = 2000,   /* `retry:` sent to clients: how soon to reconnect */
    STREAM_END_GRACE_S = 2,   /* at shutdown: time for a stream's last bytes */
    STREAM_PUMP_DIVISOR = 2,  /* a subscriber's output is filled to --stream-buffer-kb / this */
    STREAM_LOG_BURST = 5,
    STREAM_LOG_INTERVAL_S = 10,
};

/* One event as SSE bytes ("id: <seq>\ndata: <json>\n\n") with what filters look at; or, in the
 * hub's chain, a window's end marker (len 0, ev.pos = (horizon, 0)). */
struct stream_msg {
    struct stream_msg *next; /* owns a reference */
    int refs;
    bool marker;
    uint64_t offset;           /* in the hub's chain: text bytes appended before this message */
    struct store_log_event ev; /* strings point into this allocation; body is not kept (NULL) */
    size_t len;
    char *text;
};

/* stream_msg.c: a message for ev (one ref), or NULL when memory runs out. */
struct stream_msg *stream_msg_new(const struct store_log_event *ev);
/* A window's end marker at horizon (one ref), or NULL. */
struct stream_msg *stream_msg_marker(uint64_t horizon);
/* Drops one reference; at zero frees m and drops the reference its link held on m->next, and so on
 * down the list. NULL is a no-op. */
void stream_msg_unref(struct stream_msg *m);
/* Writes the SSE text of (seq, body) to out (cap bytes), NUL-terminated: each line of body as a data:
 * line. Returns the text's length; it is written whole only when that is below cap. */
size_t stream_msg_format(char *out, size_t cap, int64_t seq, const char *body, size_t len);

/* A window of the log handed from the follower to the loop. */
struct stream_window {
    struct stream_window *next;
    uint64_t horizon;
    bool captured; /* false: built while nobody listened (then it is lost: stream_feed.c) */
    struct stream_msg *head, *tail;
    size_t bytes;
};

struct stream_sub;

/* A catch-up read: asked by the loop thread, done by the catch-up thread, returned to the loop. */
struct stream_page {
    struct stream_page *next;
    struct stream_sub *sub;
    struct store_stream_pos after;
    uint64_t horizon;
    int64_t min_seq;
    const struct store_stream_filter *filter; /* the subscriber's: alive while the page is out */
    struct stream_msg *msgs, *tail;           /* result */
    int n;
    bool failed;
    struct err err;
};

struct stream_catchup;

/* stream_catchup.c: a thread reading pages on its own connection to conninfo; done_ev is made active
 * (event_active) when a page is back. NULL with e set. */
struct stream_catchup *stream_catchup_start(const char *conninfo, struct event *done_ev, struct err *e);
/* Hands p to the thread (loop thread). */
void stream_catchup_ask(struct stream_catchup *c, struct stream_page *p);
/* The pages done so far, oldest first, or NULL (loop thread). */
struct stream_page *stream_catchup_take(struct stream_catchup *c);
/* Stops and joins the thread; returns the pages it had not answered and the answered ones not taken
 * (the caller frees them). NULL is a no-op returning NULL. */
struct stream_page *stream_catchup_stop(struct stream_catchup *c);
/* Frees a page and its messages. */
void stream_page_free(struct stream_page *p);

struct stream_hub {
    const struct cfg *cfg;
    struct metrics *metrics;
    char *conninfo;
    bool enabled;
    size_t buffer_bytes, window_max;
    pthread_mutex_t lock;
    /* guarded by lock: */
    struct stream_window *queue, *queue_tail;
    size_t queued_bytes;
    uint64_t fed_horizon; /* the newest window's end the follower finished */
    bool lost;            /* windows up to fed_horizon were not handed over (stream_feed.c) */
    bool running;         /* a loop takes the windows */
    struct event *wake;   /* made active when a window is queued (while running) */
    /* the follower's thread only: */
    struct stream_window *building;
    bool build_lost; /* the window being built cannot be handed over whole */
    /* read by the follower, written by the loop: */
    atomic_int n_subs;
    /* the loop thread only: */
    struct event_base *base;
    struct event *heartbeat;
    uint64_t horizon;        /* every event with xid below this has gone to the live subscribers */
    struct stream_msg *tail; /* the chain's newest message (a marker; one reference) */
    uint64_t chain_bytes;    /* text bytes appended to the chain so far */
    uint64_t prev_window_at; /* chain_bytes when the newest window but one began */
    uint64_t last_window_at; /* chain_bytes when the newest window began */
    struct stream_sub *subs;
    bool stopping;
    struct stream_catchup *catchup;
    struct log_limit drop_log;
};

#endif
