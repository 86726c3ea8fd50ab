/* common/store_write.h - the per-family steps of store_write_events (common/store_event.c).
 * Each returns 0, or -1 with e set; each runs inside the caller's transaction. */
#ifndef LINEAGED_STORE_WRITE_H
#define LINEAGED_STORE_WRITE_H

#include "store_int.h"
#include "store_params.h"

/* datasets, their fields, symlinks, facets and versions (common/store_datasets.c). */
int store_write_datasets(struct store *s, const struct store_event_ctx *c, struct err *e);

/* the job (and its parent job) and its facets; *job_id_out gets the job's id as text (store_jobs.c). */
int store_write_job(struct store *s, const struct store_event_ctx *c, const char **job_id_out, struct err *e);

/* the run, its parent run, state history and facets (common/store_runs.c). */
int store_write_run(struct store *s, const struct store_event_ctx *c, const char *job_id, struct err *e);

/* the job version from the run's accumulated inputs and outputs, at a terminal event or for a
 * streaming job (common/store_runs.c); call after store_write_lineage. */
int store_write_job_version(struct store *s, const struct store_event_ctx *c, const char *job_id,
                            struct err *e);

/* run and job edges to datasets, input/output facets and column lineage (common/store_lineage.c). */
int store_write_lineage(struct store *s, const struct store_event_ctx *c, const char *job_id, struct err *e);

#endif
