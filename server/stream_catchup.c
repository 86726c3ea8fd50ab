/* server/stream_catchup.c - the thread that reads the event log for resuming streams, one page at a
 * time, on its own database connection.
 *
 * The loop thread asks for a page (stream_catchup_ask) only when the subscriber's output has room, so
 * a slow reader is read for at its own pace; pages of every subscriber wait in one queue and are read
 * in turn (each at most STREAM_PAGE_EVENTS events, so one resume from the start of a long log cannot
 * hold the others up for long).
 * Invariants:
 *  1. A page handed in comes back exactly once, answered (failed or not), through the done list and
 *     done_ev, or from stream_catchup_stop.
 *  2. A failed read drops the connection; the next page connects again.
 * Ownership: pages belong to the thread between ask and take; their messages to the page.
 * Threads: ask/take/stop on the loop thread; the read loop on its own thread. */
#include "stream_int.h"

#include <stdlib.h>
#include <string.h>

struct stream_catchup {
    char *conninfo;
    struct event *done_ev;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct stream_page *todo, *todo_tail; /* guarded by lock */
    struct stream_page *done, *done_tail; /* guarded by lock */
    bool stop;                            /* guarded by lock */
    struct store *store;                  /* the thread's */
};

static void push(struct stream_page **head, struct stream_page **tail, struct stream_page *p)
{
    p->next = NULL;
    if (*tail != NULL)
        (*tail)->next = p;
    else
        *head = p;
    *tail = p;
}

static int page_add(void *ctx, const struct store_log_event *ev, struct err *e)
{
    struct stream_page *p = ctx;
    struct stream_msg *m = stream_msg_new(ev);

    if (m == NULL)
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory reading the event log");
    if (p->tail != NULL)
        p->tail->next = m;
    else
        p->msgs = m;
    p->tail = m;
    p->n++;
    return 0;
}

/* Reads one page into p (thread). */
static void read_page(struct stream_catchup *c, struct stream_page *p)
{
    if (c->store == NULL && (c->store = store_connect(c->conninfo, &p->err)) == NULL) {
        p->failed = true;
        return;
    }
    if (store_stream_page(c->store, p->after, p->horizon, p->min_seq, p->filter, STREAM_PAGE_EVENTS, page_add,
                          p, &p->err) < 0) {
        p->failed = true;
        store_free(c->store);
        c->store = NULL;
    }
}

static void *catchup_main(void *arg)
{
    struct stream_catchup *c = arg;

    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (c->todo == NULL && !c->stop)
            pthread_cond_wait(&c->cond, &c->lock);
        if (c->stop)
            break;
        struct stream_page *p = c->todo;
        c->todo = p->next;
        if (c->todo == NULL)
            c->todo_tail = NULL;
        pthread_mutex_unlock(&c->lock);
        read_page(c, p);
        pthread_mutex_lock(&c->lock);
        push(&c->done, &c->done_tail, p);
        event_active(c->done_ev, EV_READ, 0);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

struct stream_catchup *stream_catchup_start(const char *conninfo, struct event *done_ev, struct err *e)
{
    struct stream_catchup *c = calloc(1, sizeof *c);

    if (c == NULL || (c->conninfo = strdup(conninfo)) == NULL) {
        free(c);
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    c->done_ev = done_ev;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thread, NULL, catchup_main, c) != 0) {
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
        free(c->conninfo);
        free(c);
        err_set(e, ERR_INTERNAL, NULL, "cannot start the event stream's catch-up thread");
        return NULL;
    }
    return c;
}

void stream_catchup_ask(struct stream_catchup *c, struct stream_page *p)
{
    pthread_mutex_lock(&c->lock);
    push(&c->todo, &c->todo_tail, p);
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

struct stream_page *stream_catchup_take(struct stream_catchup *c)
{
    pthread_mutex_lock(&c->lock);
    struct stream_page *list = c->done;
    c->done = c->done_tail = NULL;
    pthread_mutex_unlock(&c->lock);
    return list;
}

struct stream_page *stream_catchup_stop(struct stream_catchup *c)
{
    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    struct stream_page *left = c->done;
    if (c->done_tail != NULL)
        c->done_tail->next = c->todo;
    else
        left = c->todo;
    store_free(c->store);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c->conninfo);
    free(c);
    return left;
}

void stream_page_free(struct stream_page *p)
{
    if (p != NULL) {
        stream_msg_unref(p->msgs);
        free(p);
    }
}
