/* collector/ingest.h - the write routes: POST /api/v1/lineage and POST /api/v1/lineage/batch.
 *
 * Path of an event: body_decode (encoding, limits) -> json_parse (depth limit) -> decode_event
 * (validation) -> store_write_events (one transaction per chunk, COMMIT) -> reply. Nothing is
 * acknowledged before its transaction commits. */
#ifndef LINEAGED_INGEST_H
#define LINEAGED_INGEST_H

#include "http.h"

/* One event object or a JSON array of events; 201 with an empty body when all are stored. An array
 * is validated whole first: any invalid element gives 422 listing every problem, and nothing is stored. */
int ingest_post_lineage(struct req *r, struct reply *out, struct err *e);

/* Several POST /api/v1/lineage requests that were queued together: their events are written in
 * shared transactions (group commit), and each request is answered as if alone. If a shared write
 * fails, each request is retried on its own, so one request cannot fail another. */
void ingest_post_lineage_many(struct req **reqs, struct reply **outs, struct err **errs, int *rcs, size_t n);

/* A JSON array; 200 with a per-event outcome, storing the valid events even if others fail. */
int ingest_post_batch(struct req *r, struct reply *out, struct err *e);

#endif
