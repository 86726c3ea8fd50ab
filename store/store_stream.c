/* store/store_stream.c - the event log read by position (xid, seq): the follower's windows and the
 * event stream's resumes (see store_stream.h for why this order never skips a late commit).
 *
 * Invariants: see store_stream.h. Every PGresult made here is cleared here; rows go to the callback
 * one at a time with their strings borrowed from the result.
 * Threads: one thread per struct store. */
#include "store_stream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* One column list for every read (invariant 1); the namespace of a DatasetEvent is its dataset's. The
 * xid goes out as text under another name: ORDER BY "xid" would otherwise sort the text ("1000" before
 * "912"), not the xid8. */
#define LOG_COLUMNS                                                                                          \
    "xid::text AS xid_text, seq, kind, event_type, producer, coalesce(job_namespace, body #>> "              \
    "'{dataset,namespace}'),"                                                                                \
    " job_name, body::text"

static const struct store_stmt FOLLOW = {
    "stream_follow",
    "SELECT " LOG_COLUMNS
    " FROM events WHERE xid >= $1::xid8 AND xid < $2::xid8 ORDER BY events.xid, events.seq",
    2};

static const struct store_stmt POSITION = {"stream_position",
                                           "SELECT xid::text FROM events WHERE seq = $1::bigint LIMIT 1", 1};

static const struct store_stmt PAGE = {
    "stream_page",
    "SELECT " LOG_COLUMNS " FROM events"
    " WHERE xid >= $1::xid8 AND (xid, seq) > ($1::xid8, $2::bigint) AND xid < $3::xid8 AND seq >= $4::bigint"
    "  AND ($5::text IS NULL OR coalesce(job_namespace, body #>> '{dataset,namespace}') = $5)"
    "  AND ($6::text IS NULL OR job_name = $6) AND ($7::text IS NULL OR event_type = $7)"
    "  AND ($8::text IS NULL OR producer = $8)"
    " ORDER BY events.xid, events.seq LIMIT $9::int",
    9};

static const char *col(const PGresult *res, int row, int c)
{
    return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

/* Passes every row of res (LOG_COLUMNS) to fn. Returns the row count or -1 with e set. */
static int emit_rows(const PGresult *res, store_log_fn *fn, void *ctx, struct err *e)
{
    int n = PQntuples(res);

    for (int i = 0; i < n; i++) {
        struct store_log_event ev = {
            .pos = {strtoull(PQgetvalue(res, i, 0), NULL, 10), strtoll(PQgetvalue(res, i, 1), NULL, 10)},
            .kind = col(res, i, 2),
            .event_type = col(res, i, 3),
            .producer = col(res, i, 4),
            .namespace = col(res, i, 5),
            .job_name = col(res, i, 6),
            .body = PQgetvalue(res, i, 7),
            .len = (size_t)PQgetlength(res, i, 7),
        };
        if (fn(ctx, &ev, e) != 0)
            return -1;
    }
    return n;
}

static bool same(const char *want, const char *have)
{
    return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

bool store_stream_match(const struct store_stream_filter *f, const struct store_log_event *ev)
{
    return same(f->namespace, ev->namespace) && same(f->job, ev->job_name) &&
           same(f->event_type, ev->event_type) && same(f->producer, ev->producer);
}

bool store_stream_before(struct store_stream_pos a, struct store_stream_pos b)
{
    return a.xid < b.xid || (a.xid == b.xid && a.seq < b.seq);
}

int store_log_follow(struct store *s, uint64_t *xmin, store_log_fn *fn, void *ctx, struct err *e)
{
    uint64_t now;
    char lo[32], hi[32];

    if (store_read_xmin(s, &now, e) != 0)
        return -1;
    if (now <= *xmin)
        return 0;
    snprintf(lo, sizeof lo, "%" PRIu64, *xmin);
    snprintf(hi, sizeof hi, "%" PRIu64, now);
    const char *params[] = {lo, hi};
    PGresult *res = store_exec(s, &FOLLOW, params, e);
    if (res == NULL)
        return -1;
    int n = emit_rows(res, fn, ctx, e);
    PQclear(res);
    if (n >= 0)
        *xmin = now;
    return n;
}

int store_stream_position(struct store *s, int64_t seq, struct store_stream_pos *pos, struct err *e)
{
    char seq_text[32];
    const char *params[] = {seq_text};

    snprintf(seq_text, sizeof seq_text, "%" PRId64, seq);
    PGresult *res = store_exec(s, &POSITION, params, e);
    if (res == NULL)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        *pos = (struct store_stream_pos){strtoull(PQgetvalue(res, 0, 0), NULL, 10), seq};
    PQclear(res);
    return found;
}

int store_stream_page(struct store *s, struct store_stream_pos after, uint64_t horizon, int64_t min_seq,
                      const struct store_stream_filter *f, int limit, store_log_fn *fn, void *ctx,
                      struct err *e)
{
    char xid[32], seq[32], hi[32], lo_seq[32], lim[16];
    const char *params[] = {xid, seq, hi, lo_seq, f->namespace, f->job, f->event_type, f->producer, lim};

    snprintf(xid, sizeof xid, "%" PRIu64, after.xid);
    snprintf(seq, sizeof seq, "%" PRId64, after.seq);
    snprintf(hi, sizeof hi, "%" PRIu64, horizon);
    snprintf(lo_seq, sizeof lo_seq, "%" PRId64, min_seq);
    snprintf(lim, sizeof lim, "%d", limit);
    PGresult *res = store_exec(s, &PAGE, params, e);
    if (res == NULL)
        return -1;
    int n = emit_rows(res, fn, ctx, e);
    PQclear(res);
    return n;
}
