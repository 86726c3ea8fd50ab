/* server/maintain.c - a thread that keeps the event log's partitions ahead of time and applies
 * --retention-days (store_log_maintain), at start-up and every --maintenance-interval seconds.
 *
 * Invariants:
 *  1. A failed pass is logged and retried at the next interval; it never stops serving: the
 *     default partition takes rows no partition covers, and the next pass moves them out.
 *  2. Rows found in events_default are a warning: partitions lag behind (passes keep failing).
 * Threads: one thread of its own with its own connection; maintain_start/stop on the main thread. */
#include "maintain.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "store_log.h"

#define LOG_MODULE "maintain"
#include "log.h"

/* New partitions cover at least this many days past today, so a week of failed passes loses nothing
 * (and even then events_default takes the rows). */
enum { MAINTAIN_AHEAD_DAYS = 7 };

struct maintain {
    const struct cfg *cfg;
    char *conninfo;
    struct store *store;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

static void maintain_pass(struct maintain *m)
{
    struct store_log_pass pass;
    struct err e;

    if (m->store == NULL && (m->store = store_connect(m->conninfo, &e)) == NULL) {
        log_warn("event log upkeep cannot reach the database: %s", e.detail);
        return;
    }
    if (store_log_maintain(m->store, m->cfg->event_partition_days, MAINTAIN_AHEAD_DAYS,
                           m->cfg->retention_days, &pass, &e) != 0) {
        log_warn("event log upkeep failed, retried in %d s: %s (%s)", m->cfg->maintenance_interval_s, e.msg,
                 e.detail);
        store_free(m->store);
        m->store = NULL;
        return;
    }
    if (pass.default_rows > 0)
        log_warn("event log: %lld rows in events_default (no partition covered their time when they arrived)",
                 pass.default_rows);
    log_debug("event log upkeep: %d partitions created, %d dropped", pass.created, pass.dropped);
}

/* Waits one interval or until stop; returns true if asked to stop. */
static bool maintain_wait(struct maintain *m)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += m->cfg->maintenance_interval_s;
    pthread_mutex_lock(&m->lock);
    while (!m->stop && pthread_cond_timedwait(&m->cond, &m->lock, &until) != ETIMEDOUT)
        ;
    bool stop = m->stop;
    pthread_mutex_unlock(&m->lock);
    return stop;
}

static void *maintain_main(void *arg)
{
    struct maintain *m = arg;

    while (!maintain_wait(m))
        maintain_pass(m);
    return NULL;
}

struct maintain *maintain_start(const struct cfg *c, const char *conninfo, struct err *e)
{
    struct maintain *m = calloc(1, sizeof *m);

    if (m == NULL || (m->conninfo = strdup(conninfo)) == NULL) {
        free(m);
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    m->cfg = c;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    maintain_pass(m);
    if (pthread_create(&m->thread, NULL, maintain_main, m) != 0) {
        err_set(e, ERR_INTERNAL, NULL, "cannot start the event log upkeep thread");
        maintain_stop(m);
        return NULL;
    }
    m->started = true;
    return m;
}

void maintain_stop(struct maintain *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
    if (m->started)
        pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    store_free(m->store);
    free(m->conninfo);
    free(m);
}
