/* server/stream_feed.c - the follower's side of the event stream: SSE messages and windows.
 *
 * The follower calls stream_feed_event for each event of a window and stream_feed_window at its end
 * (collector/follower.h). A window is built on the follower's thread with no lock, then queued for
 * the loop under the hub's mutex, so handing it over costs the follower a lock and a wake-up only.
 * Invariants (see stream.h 2):
 *  1. A window is built only while someone listens (n_subs > 0 at its first event) and while its
 *     messages fit in --stream-window-mb together with the windows still queued; otherwise it is
 *     "lost": not handed over, and the hub's `lost` flag tells the loop that live subscribers must
 *     read the log up to fed_horizon. Until the loop has taken that flag every later window is lost
 *     too, so the loop always sees the queued windows, then the lost span, in log order.
 *  2. Windows reach the loop in the order the follower read them; their horizons only grow.
 *  3. Losing a window needs no allocation (a flag), so running out of memory can delay a subscriber
 *     (it reads the log) but never leave a gap.
 * Threads: stream_feed_* on the follower's thread; stream_msg_* wherever the message is owned. */
#include "stream_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t stream_msg_format(char *out, size_t cap, int64_t seq, const char *body, size_t len)
{
    size_t n = 0;
    char head[40];
    int hn = snprintf(head, sizeof head, "id: %" PRId64 "\n", seq);

    if (hn > 0 && (size_t)hn < cap)
        memcpy(out, head, (size_t)hn);
    n = hn > 0 ? (size_t)hn : 0;
    /* Each line of the body is one data: field (SSE joins them with newlines again); JSON text from
     * Postgres is one line, but a CR or LF inside would otherwise end the field early. */
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && body[i] != '\n' && body[i] != '\r')
            continue;
        size_t piece = i - start;
        if (n + 7 + piece < cap) {
            memcpy(out + n, "data: ", 6);
            memcpy(out + n + 6, body + start, piece);
            out[n + 6 + piece] = '\n';
        }
        n += 7 + piece;
        if (i + 1 < len && body[i] == '\r' && body[i + 1] == '\n')
            i++;
        start = i + 1;
    }
    if (n + 1 < cap) {
        out[n] = '\n';
        out[n + 1] = '\0';
    }
    return n + 1;
}

/* Copies s (may be NULL) to *at, advancing it; returns the copy. */
static const char *put_str(char **at, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = memcpy(*at, s, n);
    *at += n;
    return copy;
}

static size_t str_size(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

struct stream_msg *stream_msg_new(const struct store_log_event *ev)
{
    size_t text = stream_msg_format(NULL, 0, ev->pos.seq, ev->body, ev->len);
    size_t strs = str_size(ev->kind) + str_size(ev->event_type) + str_size(ev->producer) +
                  str_size(ev->namespace) + str_size(ev->job_name);
    struct stream_msg *m = malloc(sizeof *m + text + 1 + strs);

    if (m == NULL)
        return NULL;
    m->next = NULL;
    m->refs = 1;
    m->marker = false;
    m->offset = 0;
    m->text = (char *)(m + 1);
    m->len = text;
    stream_msg_format(m->text, text + 1, ev->pos.seq, ev->body, ev->len);
    char *at = m->text + text + 1;
    m->ev = (struct store_log_event){.pos = ev->pos, .len = 0};
    m->ev.kind = put_str(&at, ev->kind);
    m->ev.event_type = put_str(&at, ev->event_type);
    m->ev.producer = put_str(&at, ev->producer);
    m->ev.namespace = put_str(&at, ev->namespace);
    m->ev.job_name = put_str(&at, ev->job_name);
    return m;
}

struct stream_msg *stream_msg_marker(uint64_t horizon)
{
    struct stream_msg *m = calloc(1, sizeof *m);

    if (m != NULL) {
        m->refs = 1;
        m->marker = true;
        m->ev.pos = (struct store_stream_pos){horizon, 0};
        m->text = "";
    }
    return m;
}

void stream_msg_unref(struct stream_msg *m)
{
    while (m != NULL && --m->refs == 0) {
        struct stream_msg *next = m->next;
        free(m);
        m = next;
    }
}

/* Drops a window's messages. */
static void window_free(struct stream_window *w)
{
    if (w != NULL) {
        stream_msg_unref(w->head);
        free(w);
    }
}

void stream_feed_event(void *hub, const struct store_log_event *ev)
{
    struct stream_hub *h = hub;
    struct stream_window *w = h->building;

    if (h->build_lost)
        return;
    if (w == NULL) {
        if ((w = h->building = calloc(1, sizeof *w)) == NULL) {
            h->build_lost = true;
            return;
        }
        w->captured = atomic_load(&h->n_subs) > 0;
    }
    if (!w->captured)
        return;
    struct stream_msg *m = stream_msg_new(ev);
    if (m == NULL || w->bytes + m->len > h->window_max) {
        stream_msg_unref(m);
        h->build_lost = true;
        return;
    }
    if (w->tail != NULL)
        w->tail->next = m;
    else
        w->head = m;
    w->tail = m;
    w->bytes += m->len;
}

void stream_feed_abort(void *hub)
{
    struct stream_hub *h = hub;

    window_free(h->building);
    h->building = NULL;
    h->build_lost = false;
}

void stream_feed_window(void *hub, uint64_t horizon)
{
    struct stream_hub *h = hub;
    struct stream_window *w = h->building;
    bool lost = h->build_lost || (w != NULL && !w->captured);

    h->building = NULL;
    h->build_lost = false;
    pthread_mutex_lock(&h->lock);
    if (h->running && !lost && w != NULL && !h->lost && h->queued_bytes + w->bytes <= h->window_max) {
        w->horizon = horizon;
        h->queued_bytes += w->bytes;
        if (h->queue_tail != NULL)
            h->queue_tail->next = w;
        else
            h->queue = w;
        h->queue_tail = w;
        w = NULL;
        event_active(h->wake, EV_READ, 0);
    } else if (h->running && (lost || w != NULL)) {
        /* Its events are not handed over: the live subscribers will read them from the log, and so
         * every later window until the loop has seen this (or order would break). */
        h->lost = true;
        event_active(h->wake, EV_READ, 0);
    }
    /* An empty window needs no hand-over: nothing to deliver, and the loop takes the horizon with the
     * next window. */
    h->fed_horizon = horizon > h->fed_horizon ? horizon : h->fed_horizon;
    pthread_mutex_unlock(&h->lock);
    window_free(w);
}
