/* api/ops.h - the operators' read routes: GET /metrics (Prometheus text) and
 * GET /api/v1/alerts/silent-jobs. Health checks are in api/health.h.
 * Threads: called on worker threads; r->store may be NULL for /metrics (database unreachable). */
#ifndef LINEAGED_OPS_H
#define LINEAGED_OPS_H

#include "err.h"
#include "http.h"
#include "metrics.h"

/* Silent-job defaults, also used for the count in /metrics. */
#define OPS_SILENT_FACTOR_DEFAULT 2.0
enum { OPS_SILENT_MIN_RUNS_DEFAULT = 3 };

/* Every series of r->metrics, plus what is read at scrape time: graph size, node cache, resident
 * memory. Never reads the database, never fails. */
int api_get_metrics(struct req *r, struct reply *out, struct err *e);

/* ?factor=&minRuns=&limit=&offset=: the jobs whose next run is overdue (store/store_ops.h), most
 * overdue first. 400 for a bad parameter. */
int api_get_silent_jobs(struct req *r, struct reply *out, struct err *e);

/* A background thread (common/ticker.h) that counts silent jobs with the defaults at once and then
 * every interval_s seconds on its own connection to conninfo, into m (metrics_set_silent_jobs; unknown
 * while the database cannot be reached). The count reads every job's newest runs (about 40 us per job),
 * too slow for a scrape on large installations. NULL with e set if the thread cannot start. */
struct ops_silent_watch *ops_silent_watch_start(const char *conninfo, int interval_s, long window,
                                                struct metrics *m, struct err *e);

/* Stops and joins the thread, closes its connection. NULL is a no-op. */
void ops_silent_watch_stop(struct ops_silent_watch *w);

#endif
