/* store/store_log.c - store_log_maintain: the event log's partitions, through the SQL functions of
 * migrations/0007 (event_partitions_create, event_partitions_drop), which hold the locking rules.
 *
 * Invariants:
 *  1. Creation and retention are separate statements, hence separate transactions: a drop waiting
 *     for its lock never holds the locks taken by creation, and one failing leaves the other done.
 *  2. Every PGresult made here is cleared here.
 * Threads: one thread per struct store. */
#include "store_log.h"

#include <stdio.h>
#include <stdlib.h>

#include "store_int.h"

#define LOG_MODULE "store"
#include "log.h"

static const struct store_stmt CREATE = {
    "log_partitions_create", "SELECT created, moved_rows FROM event_partitions_create($1::int, $2::int)", 2};
static const struct store_stmt DROP = {"log_partitions_drop",
                                       "SELECT dropped FROM event_partitions_drop($1::int)", 1};
static const struct store_stmt DEFAULT_ROWS = {"log_default_rows", "SELECT count(*) FROM events_default", 0};

static int create_partitions(struct store *s, int width_days, int ahead_days, struct store_log_pass *out,
                             struct err *e)
{
    char width[16], ahead[16];

    snprintf(width, sizeof width, "%d", width_days);
    snprintf(ahead, sizeof ahead, "%d", ahead_days);
    const char *params[] = {width, ahead};
    PGresult *res = store_exec(s, &CREATE, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        long long moved = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        log_info("event log: created partition %s (%lld rows moved into it from events_default)",
                 PQgetvalue(res, i, 0), moved);
        out->created++;
        out->moved_rows += moved;
    }
    PQclear(res);
    return 0;
}

static int drop_partitions(struct store *s, int keep_days, struct store_log_pass *out, struct err *e)
{
    char keep[16];

    snprintf(keep, sizeof keep, "%d", keep_days);
    const char *params[] = {keep};
    PGresult *res = store_exec(s, &DROP, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        log_info("event log: dropped partition %s (retention %d days)", PQgetvalue(res, i, 0), keep_days);
        out->dropped++;
    }
    PQclear(res);
    return 0;
}

int store_log_maintain(struct store *s, int width_days, int ahead_days, int keep_days,
                       struct store_log_pass *out, struct err *e)
{
    *out = (struct store_log_pass){0};
    if (create_partitions(s, width_days, ahead_days, out, e) != 0)
        return -1;
    if (keep_days > 0 && drop_partitions(s, keep_days, out, e) != 0)
        return -1;
    PGresult *res = store_exec(s, &DEFAULT_ROWS, NULL, e);
    if (res == NULL)
        return -1;
    out->default_rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}
