/* api/ops.h - the operators' read routes: GET /metrics (Prometheus text) and
 * GET /api/v1/alerts/silent-jobs. Health checks are in api/health.h.
 * Threads: called on worker threads; r->store may be NULL for /metrics (database unreachable). */
#ifndef LINEAGED_OPS_H
#define LINEAGED_OPS_H

#include "http.h"

/* Silent-job defaults, also used for the count in /metrics. */
#define OPS_SILENT_FACTOR_DEFAULT 2.0
enum { OPS_SILENT_MIN_RUNS_DEFAULT = 3 };

/* Every series of r->metrics, plus what is read at scrape time: graph size, node cache, resident
 * memory, the silent-job count (left out when the database cannot be reached). Never fails. */
int api_get_metrics(struct req *r, struct reply *out, struct err *e);

/* ?factor=&minRuns=&limit=&offset=: the jobs whose next run is overdue (store/store_ops.h), most
 * overdue first. 400 for a bad parameter. */
int api_get_silent_jobs(struct req *r, struct reply *out, struct err *e);

#endif
