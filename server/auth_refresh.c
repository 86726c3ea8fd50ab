/* server/auth_refresh.c - the API-key refresher thread (see auth_refresh.h).
 *
 * Ownership: struct auth_refresh is malloc'd by auth_refresh_start and freed by auth_refresh_stop; the
 * struct auth it updates is borrowed and must outlive it.
 * Threads: `stop` is guarded by lock; the thread sleeps on cond so that stop wakes it at once. */
#include "auth_refresh.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_keys.h"

#define LOG_MODULE "auth"
#include "log.h"

struct auth_refresh {
    struct auth *auth;
    char *conninfo;
    int interval_ms;
    struct store *store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;    /* guarded by lock */
    bool failing; /* thread only: the last load failed (logged once) */
};

int auth_refresh_load(struct auth *a, struct store *s, struct err *e)
{
    struct arena *ar = arena_new();
    struct store_key *rows;
    size_t n, kept = 0;
    bool any;

    if (store_keys_list(s, ar, true, &rows, &n, &any, e) != 0) {
        arena_free(ar);
        return -1;
    }
    struct auth_key *keys = arena_zalloc(ar, (n + 1) * sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        if (!auth_scope_parse(rows[i].scope, &keys[kept].scope)) {
            log_warn("API key id=%lld has an unknown scope; ignored", (long long)rows[i].id);
            continue;
        }
        memcpy(keys[kept++].hash, rows[i].hash, AUTH_HASH_LEN);
    }
    auth_set_db_keys(a, keys, kept, any);
    arena_free(ar);
    return 0;
}

/* One refresh on the thread's own connection, logging a failure once per outage. */
static void refresh_once(struct auth_refresh *r)
{
    struct err e;

    if (r->store == NULL)
        r->store = store_connect(r->conninfo, &e);
    if (r->store != NULL && auth_refresh_load(r->auth, r->store, &e) == 0) {
        if (r->failing)
            log_info("API keys are read from the database again");
        r->failing = false;
        return;
    }
    if (!r->failing)
        log_warn("cannot refresh API keys (keeping the previous ones): %s: %s", e.msg, e.detail);
    r->failing = true;
}

static void *refresh_main(void *arg)
{
    struct auth_refresh *r = arg;
    struct timespec until;

    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += r->interval_ms / 1000;
        until.tv_nsec += (long)(r->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!r->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&r->cond, &r->lock, &until);
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->lock);
        refresh_once(r);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

struct auth_refresh *auth_refresh_start(struct auth *a, const char *conninfo, int interval_ms, struct err *e)
{
    struct auth_refresh *r = calloc(1, sizeof *r);
    pthread_condattr_t attr;

    if (r == NULL || (r->conninfo = strdup(conninfo)) == NULL) {
        free(r);
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    r->auth = a;
    r->interval_ms = interval_ms;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&r->thread, NULL, refresh_main, r) != 0) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        free(r->conninfo);
        free(r);
        err_set(e, ERR_INTERNAL, NULL, "cannot start the API key refresher thread");
        return NULL;
    }
    return r;
}

void auth_refresh_stop(struct auth_refresh *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    store_free(r->store);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r->conninfo);
    free(r);
}
