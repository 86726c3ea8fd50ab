/* server/stream_route.c - GET /api/v1/events/stream on a worker: parameters, Last-Event-ID, and the
 * resume position; the stream itself is opened by the hub on the loop thread (stream.c).
 *
 * Invariants:
 *  1. Every filter is checked here (eventType against the OpenLineage names) and an id that is not a
 *     number from 0 up is a 400, before anything is streamed.
 *  2. A resume position is read from the primary's event log: the id's own (xid, seq) when the event
 *     is there; otherwise the whole log from seq id+1 on, in delivery order (stream.h).
 * Threads: a worker thread (r->store is its connection). */
#include "stream.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const EVENT_TYPES[] = {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"};

/* A filter parameter: NULL when absent or empty. */
static const char *filter_param(const struct req *r, const char *name)
{
    const char *v = http_param(r, name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static int check_event_type(const char *v, struct err *e)
{
    for (size_t i = 0; v != NULL && i < sizeof EVENT_TYPES / sizeof EVENT_TYPES[0]; i++)
        if (strcmp(v, EVENT_TYPES[i]) == 0)
            return 0;
    if (v == NULL)
        return 0;
    return err_set(e, ERR_BAD_PARAM, "eventType",
                   "must be one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER");
}

/* The id to resume after: the Last-Event-ID header, else lastEventId=. 0 with *given false when
 * neither is there (or empty: the SSE rule for "no id"); -1 with e set when it is not a seq. */
static int last_event_id(const struct req *r, bool *given, int64_t *id, struct err *e)
{
    const char *h = http_header(r, "Last-Event-ID");
    const char *where = h != NULL && h[0] != '\0' ? "Last-Event-ID" : "lastEventId";
    const char *v = h != NULL && h[0] != '\0' ? h : http_param(r, "lastEventId");
    char *end = NULL;

    *given = v != NULL && v[0] != '\0';
    if (!*given)
        return 0;
    errno = 0;
    long long n = v[0] >= '0' && v[0] <= '9' ? strtoll(v, &end, 10) : -1;
    if (n < 0 || errno != 0 || *end != '\0')
        return err_set(e, ERR_BAD_PARAM, where,
                       "must be the id (seq) of an event from this stream, 0 or more");
    *id = n;
    return 0;
}

int stream_get(struct req *r, struct reply *out, struct err *e)
{
    struct stream_request *rq = arena_zalloc(r->arena, sizeof *rq);
    int64_t id = 0;

    rq->filter = (struct store_stream_filter){filter_param(r, "namespace"), filter_param(r, "job"),
                                              filter_param(r, "eventType"), filter_param(r, "producer")};
    if (check_event_type(rq->filter.event_type, e) != 0 || last_event_id(r, &rq->resume, &id, e) != 0)
        return -1;
    if (rq->resume) {
        int found = id > 0 ? store_stream_position(r->store, id, &rq->after, e) : 0;
        if (found < 0)
            return -1;
        rq->last_id = id;
        rq->id_missing = found == 0 && id > 0;
        if (found == 0) {
            rq->after = (struct store_stream_pos){0, 0};
            rq->min_seq = id < INT64_MAX ? id + 1 : id;
        }
    }
    out->status = 200;
    out->stream = rq;
    return 0;
}
