/* api/ml.h - the ML lineage routes: one call per question MLMD made familiar (README "ML lineage").
 *
 *   GET /api/v1/datasets?types=&namespace=&owner=&tag=&q=&limit=&offset=    datasets of every namespace
 *   GET /api/v1/runs?state=&job=&reads=&writes=&since=&until=&limit=&offset= runs by what they did
 *   GET /api/v1/namespaces/{ns}/datasets/{name}/versions/{version}/provenance?depth=&maxRuns=
 *   GET /api/v1/jobs/runs/{id}/children?depth=&maxRuns=                     a run's DAG
 * Every parameter is validated before a query runs (400 in Marquez's shapes); every answer is bounded
 * (limit at most ML_MAX_LIMIT, depth at most ML_MAX_DEPTH, at most maxRuns runs, then "truncated").
 * Threads: called on worker threads with r->store. */
#ifndef LINEAGED_API_ML_H
#define LINEAGED_API_ML_H

#include "http.h"

enum {
    ML_MAX_LIMIT = 1000,   /* limit= of the lists */
    ML_DEFAULT_DEPTH = 20, /* depth= of provenance and children: runs from the start */
    ML_MAX_DEPTH = 100,
    ML_DEFAULT_MAX_RUNS = 200, /* maxRuns= of provenance and children */
    ML_MAX_MAX_RUNS = 5000,
};

/* api/catalog.c */
int api_get_all_datasets(struct req *r, struct reply *out, struct err *e);

/* api/run_query.c */
int api_get_runs(struct req *r, struct reply *out, struct err *e);

/* api/provenance.c */
int api_get_dataset_provenance(struct req *r, struct reply *out, struct err *e);
int api_get_run_children(struct req *r, struct reply *out, struct err *e);

#endif
