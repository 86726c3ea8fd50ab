/* server/auth_refresh.c - the API-key refresher thread (see auth_refresh.h).
 *
 * Ownership: struct auth_refresh is malloc'd by auth_refresh_start and freed by auth_refresh_stop; the
 * struct auth it updates is borrowed and must outlive it.
 * Threads: refresh_tick runs on a periodic thread (common/periodic.h) and alone uses store and failing. */
#include "auth_refresh.h"

#include <stdlib.h>
#include <string.h>

#include "periodic.h"
#include "store_keys.h"

#define LOG_MODULE "auth"
#include "log.h"

struct auth_refresh {
    struct auth *auth;
    char *conninfo;
    struct store *store;
    bool failing; /* the last load failed (logged once) */
    struct periodic *thread;
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
static void refresh_tick(void *arg)
{
    struct auth_refresh *r = arg;
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

struct auth_refresh *auth_refresh_start(struct auth *a, const char *conninfo, int interval_ms, struct err *e)
{
    struct auth_refresh *r = calloc(1, sizeof *r);

    if (r == NULL || (r->conninfo = strdup(conninfo)) == NULL) {
        free(r);
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    r->auth = a;
    if ((r->thread = periodic_start(interval_ms, refresh_tick, r, e)) == NULL) {
        auth_refresh_stop(r);
        return NULL;
    }
    return r;
}

void auth_refresh_stop(struct auth_refresh *r)
{
    if (r == NULL)
        return;
    periodic_stop(r->thread);
    store_free(r->store);
    free(r->conninfo);
    free(r);
}
