/* server/h1_stream.c - streaming replies (Server-Sent Events) on a connection: head, pieces, end.
 *
 * A streaming reply is a connection in STREAM state (h1_int.h). Its owner (server/stream.c) adds
 * pieces when it has them; conn_on_write (h1_conn.c) calls h1_stream_on_write whenever the output
 * drained to the low-water mark, which is where the owner is told it may add more.
 * Invariants:
 *  1. on_close is called exactly once per stream, from conn_release, never from inside a call the
 *     owner made (h1_stream_end closes on a later loop turn), so the owner never sees its own state
 *     freed under it.
 *  2. After h1_stream_end nothing is added; the connection closes when the output is empty or when
 *     the grace timer fires, whichever comes first.
 *  3. The kernel's send buffer is set to the owner's size, so the bytes a stalled reader holds are
 *     bounded by what the owner allows in the output plus that buffer.
 * Threads: loop thread only. */
#include "h1_int.h"

#include <sys/socket.h>

#define LOG_MODULE "http"
#include "log.h"

struct h1_conn *h1_exchange_stream(struct h1_exchange *x, const char *content_type, size_t sndbuf,
                                   size_t low_water, const struct h1_stream_handler *h, void *ctx)
{
    struct h1_conn *c = x->conn;
    struct arena *a = x->req.arena;
    struct evbuffer *out = bufferevent_get_output(c->bev);

    evtimer_del(c->timer);
    if (c->broken || c->srv->stopping) {
        h1_release_arena(a);
        h1_conn_close(c);
        return NULL;
    }
    x->reply.status = 200;
    c->srv->handler.on_reply(c->srv->handler.ctx, x);
    int size = sndbuf > 0 && sndbuf < (size_t)1 << 30 ? (int)sndbuf : 0;
    if (size > 0 && setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_SNDBUF, &size, sizeof size) != 0)
        log_debug("req=%s cannot set the stream's send buffer", x->req.request_id);
    int rc = h1_reply_stream_head(out, x, content_type);
    h1_release_arena(a);
    c->x = NULL;
    if (rc != 0) {
        h1_conn_close(c);
        return NULL;
    }
    c->state = CONN_STREAM;
    c->close_after = true;
    c->stream = h;
    c->stream_ctx = ctx;
    c->stream_ending = false;
    c->stream_added = 0;
    bufferevent_setwatermark(c->bev, EV_WRITE, low_water, 0);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE); /* reading: to see the client leave (EOF) */
    return c;
}

size_t h1_stream_pending(const struct h1_conn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

int h1_stream_add(struct h1_conn *c, const void *data, size_t len)
{
    if (c->stream_ending || bufferevent_write(c->bev, data, len) != 0)
        return -1;
    c->stream_added += len;
    return 0;
}

int h1_stream_add_ref(struct h1_conn *c, const void *data, size_t len,
                      void (*release)(const void *data, size_t len, void *arg), void *arg)
{
    if (c->stream_ending ||
        evbuffer_add_reference(bufferevent_get_output(c->bev), data, len, release, arg) != 0) {
        release(data, len, arg);
        return -1;
    }
    c->stream_added += len;
    return 0;
}

void h1_stream_end(struct h1_conn *c, int grace_s)
{
    if (c->stream_ending)
        return;
    c->stream_ending = true;
    /* An empty output gets no write callback: close on the next loop turn instead (invariant 1). */
    h1_conn_arm(c, h1_stream_pending(c) == 0 ? 0 : grace_s);
}

void h1_stream_stop(struct h1_conn *c)
{
    if (!c->stream_ending)
        h1_stream_end(c, H1_LINGER_S);
    else if (h1_stream_pending(c) > 0)
        h1_conn_arm(c, H1_LINGER_S); /* a dropped reader's final comment may wait this long, no more */
}

void h1_stream_on_write(struct h1_conn *c)
{
    if (c->stream_ending) {
        if (h1_stream_pending(c) == 0)
            h1_conn_arm(c, 0);
        return;
    }
    c->stream->on_drain(c->stream_ctx);
}

void h1_stream_on_close(struct h1_conn *c)
{
    const struct h1_stream_handler *h = c->stream;
    uint64_t pending = h1_stream_pending(c);

    c->stream = NULL;
    if (h != NULL)
        h->on_close(c->stream_ctx, c->stream_added > pending ? c->stream_added - pending : 0);
}
