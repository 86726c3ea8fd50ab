/* api/api.h - the Marquez-compatible HTTP routes (everything under /api/v1 and /api/v2beta except the
 * lineage graph routes, which are in api/lineage.h). server/routes.c maps paths to these.
 *
 * Every handler is a route_fn (common/http.h): it reads r->segments and r->params, queries through
 * store/store_read.h, and fills *out with Marquez's JSON, or returns -1 with e set (404 messages
 * are Marquez's: "Namespace 'x' not found."). Path segment indexes below count from "api" = 0.
 * Handlers never write, except the Marquez edit routes (namespace PUT/DELETE, dataset and job
 * DELETE, tags), which go through store_edit_* and are registered as ROUTE_WRITE.
 * Threads: called on worker threads with r->store. */
#ifndef LINEAGED_API_H
#define LINEAGED_API_H

#include "http.h"

/* api/namespaces.c: /api/v1/namespaces[/{ns}], /api/v1/sources[/{source}], /api/v1/tags[/{tag}] */
int api_get_namespaces(struct req *r, struct reply *out, struct err *e);
int api_get_namespace(struct req *r, struct reply *out, struct err *e);
int api_put_namespace(struct req *r, struct reply *out, struct err *e);
int api_delete_namespace(struct req *r, struct reply *out, struct err *e);
int api_get_sources(struct req *r, struct reply *out, struct err *e);
int api_get_source(struct req *r, struct reply *out, struct err *e);
int api_get_tags(struct req *r, struct reply *out, struct err *e);
int api_put_tag(struct req *r, struct reply *out, struct err *e);

/* api/datasets.c: /api/v1/namespaces/{ns}/datasets[/{dataset}[/versions[/{version}]|/tags/{tag}|
 * /fields/{field}/tags/{tag}]] */
int api_get_datasets(struct req *r, struct reply *out, struct err *e);
int api_get_dataset(struct req *r, struct reply *out, struct err *e);
int api_delete_dataset(struct req *r, struct reply *out, struct err *e);
int api_get_dataset_versions(struct req *r, struct reply *out, struct err *e);
int api_get_dataset_version(struct req *r, struct reply *out, struct err *e);
int api_post_dataset_tag(struct req *r, struct reply *out, struct err *e);
int api_delete_dataset_tag(struct req *r, struct reply *out, struct err *e);
int api_post_field_tag(struct req *r, struct reply *out, struct err *e);
int api_delete_field_tag(struct req *r, struct reply *out, struct err *e);

/* api/jobs.c: /api/v1/jobs, /api/v1/namespaces/{ns}/jobs[/{job}[/versions[/{version}]|/runs|/tags/{tag}]] */
int api_get_jobs(struct req *r, struct reply *out, struct err *e);
int api_get_namespace_jobs(struct req *r, struct reply *out, struct err *e);
int api_get_job(struct req *r, struct reply *out, struct err *e);
int api_delete_job(struct req *r, struct reply *out, struct err *e);
int api_get_job_versions(struct req *r, struct reply *out, struct err *e);
int api_get_job_version(struct req *r, struct reply *out, struct err *e);
int api_get_job_runs(struct req *r, struct reply *out, struct err *e);
int api_post_job_tag(struct req *r, struct reply *out, struct err *e);
int api_delete_job_tag(struct req *r, struct reply *out, struct err *e);

/* api/runs.c: /api/v1/jobs/runs/{id}[/facets] */
int api_get_run(struct req *r, struct reply *out, struct err *e);
int api_get_run_facets(struct req *r, struct reply *out, struct err *e);

/* api/search.c: /api/v1/search, /api/v2beta/search/{jobs,datasets} */
int api_get_search(struct req *r, struct reply *out, struct err *e);
int api_get_search_v2beta(struct req *r, struct reply *out, struct err *e);

/* api/events.c: /api/v1/events/lineage, /api/v1/stats/{lineage-events,jobs,datasets,sources} */
int api_get_events(struct req *r, struct reply *out, struct err *e);
int api_get_stats(struct req *r, struct reply *out, struct err *e);

/* api/deprecated.c: Marquez's pre-OpenLineage write routes, answered 410 Gone with a pointer to
 * POST /api/v1/lineage (PUT source/dataset/job, POST runs, POST runs/{id}/{start,complete,fail,abort}). */
int api_gone(struct req *r, struct reply *out, struct err *e);

#endif
