/* common/ticker.c - a thread calling fn every interval (see ticker.h). */
#include "ticker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct ticker {
    int interval_ms;
    void (*fn)(void *ctx);
    void *ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop; /* guarded by lock */
};

/* Waits interval_ms or until stopped; true if stopped. */
static bool ticker_wait(struct ticker *t)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += t->interval_ms / 1000;
    until.tv_nsec += (long)(t->interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->lock);
    while (!t->stop && pthread_cond_timedwait(&t->cond, &t->lock, &until) != ETIMEDOUT)
        ;
    bool stop = t->stop;
    pthread_mutex_unlock(&t->lock);
    return stop;
}

static void *ticker_main(void *arg)
{
    struct ticker *t = arg;

    do
        t->fn(t->ctx);
    while (!ticker_wait(t));
    return NULL;
}

struct ticker *ticker_start(int interval_ms, void (*fn)(void *ctx), void *ctx, struct err *e)
{
    struct ticker *t = calloc(1, sizeof *t);

    if (t == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    t->interval_ms = interval_ms;
    t->fn = fn;
    t->ctx = ctx;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->lock);
        free(t);
        err_set(e, ERR_INTERNAL, NULL, "cannot start a background thread");
        return NULL;
    }
    return t;
}

void ticker_stop(struct ticker *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
