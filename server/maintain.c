/* server/maintain.c - a thread that keeps the event log's partitions ahead of time and applies
 * --retention-days (store_log_maintain), at start-up and every --maintenance-interval seconds.
 *
 * Invariants:
 *  1. A failed pass is logged and retried at the next interval; it never stops serving: the
 *     default partition takes rows no partition covers, and the next pass moves them out.
 *  2. Rows found in events_default are a warning: partitions lag behind (passes keep failing).
 * Threads: the start-up pass on the caller's thread, the later ones on a periodic thread
 * (common/periodic.h), each with this struct's own connection; maintain_start/stop on the main thread. */
#include "maintain.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "periodic.h"
#include "store.h"
#include "store_log.h"

#define LOG_MODULE "maintain"
#include "log.h"

/* New partitions cover at least this many days past today, so a week of failed passes loses nothing
 * (and even then events_default takes the rows). */
enum { MAINTAIN_AHEAD_DAYS = 7, MAINTAIN_MS_PER_S = 1000 };

struct maintain {
    const struct cfg *cfg;
    char *conninfo;
    struct store *store;
    bool first_tick_done; /* the start-up pass ran already: the periodic thread's first tick skips */
    struct periodic *thread;
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

/* The periodic thread's task: every pass after the start-up one. */
static void maintain_tick(void *arg)
{
    struct maintain *m = arg;

    if (m->first_tick_done)
        maintain_pass(m);
    m->first_tick_done = true;
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
    maintain_pass(m);
    if ((m->thread = periodic_start(c->maintenance_interval_s * MAINTAIN_MS_PER_S, maintain_tick, m, e)) ==
        NULL) {
        maintain_stop(m);
        return NULL;
    }
    return m;
}

void maintain_stop(struct maintain *m)
{
    if (m == NULL)
        return;
    periodic_stop(m->thread);
    store_free(m->store);
    free(m->conninfo);
    free(m);
}
