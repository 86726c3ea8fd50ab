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

/* A JSON array; 200 with a per-event outcome, storing the valid events even if others fail. */
int ingest_post_batch(struct req *r, struct reply *out, struct err *e);

#endif
