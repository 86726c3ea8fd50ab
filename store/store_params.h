/* store/store_params.h - building statement parameters (JSON arrays of records, times, ids).
 *
 * Multi-row statements take one jsonb parameter, unpacked in SQL with jsonb_to_recordset: values
 * travel as data, never pasted into SQL text. Included only by store/store*.c. */
#ifndef LINEAGED_STORE_PARAMS_H
#define LINEAGED_STORE_PARAMS_H

#include <stdint.h>

#include "arena.h"
#include "event.h"
#include "json.h"

/* What every statement of one event needs: its log sequence number and time, as text, and the id of
 * its job once store_upsert_jobs has run. */
struct store_event_ctx {
    struct arena *a;
    const struct ol_event *ev;
    const char *seq;    /* events.seq of this event */
    const char *time;   /* eventTime, ISO-8601 UTC */
    const char *job_id; /* jobs.id, or NULL for DatasetEvents */
};

/* Writes the members "facet": name and "value": <facet JSON, or null when deleted> into an open map. */
void store_gen_facet_value(yajl_gen g, const struct ol_facet *f);

/* Writes the members "time", "seq", "run_uuid" and "job_id" of c's event into an open map: every
 * chunk-level row carries them, so one statement can write rows of several events. */
void store_gen_event_keys(yajl_gen g, const struct store_event_ctx *c);

/* Microseconds since the epoch -> ISO-8601 text in the arena. */
const char *store_time_text(struct arena *a, int64_t usec);

#endif
