/* api/events.c - the raw event list and the stats series the Marquez web UI's dashboard reads.
 *
 *   GET /api/v1/events/lineage?before=..&after=..&sortDirection=desc|asc&limit=100&offset=0
 *       {"events":[RunEvent],"totalCount":N}; after <= eventTime < before, defaults 1970 and 2030
 *   GET /api/v1/stats/{lineage-events,jobs,datasets,sources}?period=DAY|WEEK&timezone=..
 *       lineage-events: [{startInterval,endInterval,fail,start,complete,abort}]
 *       others:         [{startInterval,endInterval,count}] (cumulative)
 * Invariants: a missing period answers Marquez's plain-text 400 "Invalid period"; lineage-events
 * with WEEK and no timezone the plain-text 400 "Timezone must be specified for period 'WEEK'";
 * the other three answer [] then, as Marquez does (its SQL gets a NULL zone). */
#include "api_int.h"

#include <string.h>

#include "timefmt.h"
#include "utf8.h"

static const char DEFAULT_BEFORE[] = "2030-01-01T00:00:00+00:00";
static const char DEFAULT_AFTER[] = "1970-01-01T00:00:00+00:00";

static const char *const DIRECTIONS[] = {"DESC", "ASC"};
enum { DIR_DESC, DIR_ASC };
static const char *const PERIODS[] = {"DAY", "WEEK"};
enum { PERIOD_NONE = -1, PERIOD_DAY, PERIOD_WEEK };

/* An ISO-8601 date-time parameter (with its default) as UTC text for SQL. */
static int time_param(const struct req *r, const char *name, const char *def, const char **out, struct err *e)
{
    const char *v = http_param(r, name);
    char text[TIME_ISO_MAX];
    int64_t usec;

    if (v == NULL || *v == '\0')
        v = def;
    if (time_parse_iso8601(v, &usec, e) != 0)
        return err_set(e, ERR_BAD_INPUT, name, "query param %s must be an ISO-8601 date-time, not \"%.*s\"",
                       name, utf8_prefix(v, 64), v);
    time_format_iso8601(usec, text);
    *out = arena_strdup(r->arena, text);
    return 0;
}

int api_get_events(struct req *r, struct reply *out, struct err *e)
{
    const char *before = NULL, *after = NULL, *json;
    long limit, offset;
    int dir;

    if (time_param(r, "before", DEFAULT_BEFORE, &before, e) != 0 ||
        time_param(r, "after", DEFAULT_AFTER, &after, e) != 0 ||
        api_param_enum(r, "sortDirection", DIRECTIONS, 2, DIR_DESC, &dir, e) != 0 ||
        api_page(r, API_DEFAULT_LIMIT, &limit, &offset, e) != 0 ||
        store_read_events(r->store, r->arena, before, after, dir == DIR_ASC, limit, offset, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}

static int reply_text(struct reply *out, int status, const char *text)
{
    out->status = status;
    out->body = text;
    out->body_len = strlen(text);
    out->content_type = "text/plain; charset=utf-8";
    return 0;
}

int api_get_stats(struct req *r, struct reply *out, struct err *e)
{
    static const char *const KINDS[] = {"lineage-events", "jobs", "datasets", "sources"};
    static const enum store_stats_kind STORE_KINDS[] = {STORE_STATS_EVENTS, STORE_STATS_JOBS,
                                                        STORE_STATS_DATASETS, STORE_STATS_SOURCES};
    const char *tz = http_param(r, "timezone");
    const char *json;
    size_t kind = 0;
    int period;

    while (kind < 3 && strcmp(api_seg(r, 3), KINDS[kind]) != 0)
        kind++;
    if (api_param_enum(r, "period", PERIODS, 2, PERIOD_NONE, &period, e) != 0)
        return -1;
    if (period == PERIOD_NONE)
        return reply_text(out, 400, "Invalid period");
    if (tz != NULL && *tz == '\0')
        tz = NULL;
    if (period == PERIOD_WEEK && tz == NULL) {
        if (STORE_KINDS[kind] == STORE_STATS_EVENTS)
            return reply_text(out, 400, "Timezone must be specified for period 'WEEK'");
        return api_reply(out, "[]");
    }
    if (store_read_stats(r->store, r->arena, STORE_KINDS[kind], period == PERIOD_WEEK, tz, &json, e) != 0)
        return -1;
    return api_reply(out, json);
}
