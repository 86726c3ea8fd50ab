/* common/periodic.c - the periodic thread (see periodic.h): waits on a condition variable with a
 * CLOCK_MONOTONIC deadline, so a stop wakes it at once and a wall-clock jump changes nothing.
 * Ownership: struct periodic is malloc'd by periodic_start and freed by periodic_stop.
 * Threads: `stop` is guarded by lock. */
#include "periodic.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

enum { PERIODIC_NS_PER_S = 1000000000, PERIODIC_NS_PER_MS = 1000000 };

struct periodic {
    int interval_ms;
    periodic_fn *tick;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop; /* guarded by lock */
};

/* Waits one interval or until stop; returns true if asked to stop. Called with p->lock held. */
static bool wait_interval(struct periodic *p)
{
    struct timespec until;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += p->interval_ms / 1000;
    until.tv_nsec += (long)(p->interval_ms % 1000) * PERIODIC_NS_PER_MS;
    if (until.tv_nsec >= PERIODIC_NS_PER_S) {
        until.tv_sec++;
        until.tv_nsec -= PERIODIC_NS_PER_S;
    }
    while (!p->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&p->cond, &p->lock, &until);
    return p->stop;
}

static void *periodic_main(void *arg)
{
    struct periodic *p = arg;

    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        pthread_mutex_unlock(&p->lock);
        p->tick(p->arg);
        pthread_mutex_lock(&p->lock);
        if (wait_interval(p))
            break;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void destroy(struct periodic *p)
{
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

struct periodic *periodic_start(int interval_ms, periodic_fn *tick, void *arg, struct err *e)
{
    struct periodic *p = calloc(1, sizeof *p);
    pthread_condattr_t attr;

    if (p == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    p->interval_ms = interval_ms;
    p->tick = tick;
    p->arg = arg;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&p->thread, NULL, periodic_main, p) != 0) {
        destroy(p);
        err_set(e, ERR_INTERNAL, NULL, "cannot start a thread");
        return NULL;
    }
    return p;
}

void periodic_stop(struct periodic *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    destroy(p);
}
