/* collector/ingest.h - the write routes: POST /api/v1/lineage and POST /api/v1/lineage/batch.
 *
 * The steps every request goes through are listed at the top of ingest.c. Nothing is acknowledged
 * before its transaction commits. */
#ifndef LINEAGED_INGEST_H
#define LINEAGED_INGEST_H

#include "http.h"

/* POST /api/v1/lineage for n >= 1 queued requests (group commit): each is one event object or a JSON
 * array of events. Their events are written in shared transactions, and each request is answered as if
 * alone: 201 with an empty body when all its events are stored; an array is validated whole first, and
 * any invalid element gives 422 listing every problem with nothing stored. If a shared write fails,
 * each request is written on its own, so one request cannot fail another. */
void ingest_post_lineage(struct route_call *calls, size_t n);

/* A JSON array; 200 with a per-event outcome, storing the valid events even if others fail. */
int ingest_post_batch(struct req *r, struct reply *out, struct err *e);

#endif
