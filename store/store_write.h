/* store/store_write.h - the per-family steps of store_write_events; their order is the list STEPS in
 * store/store_event.c. Each writes the rows of the chunk's new events c[0..n) and returns 0, or -1
 * with e set; each runs inside the caller's transaction. */
#ifndef LINEAGED_STORE_WRITE_H
#define LINEAGED_STORE_WRITE_H

#include "store_int.h"
#include "store_params.h"

/* Chunk-level steps, run first for all new events of a transaction, each as one statement sorted by
 * key: the row locks of a transaction are then taken in one global order (datasets, then jobs, by
 * name), so concurrent transactions cannot deadlock on them, and every later per-event statement
 * only touches rows guarded by those locks. */

/* every dataset of the chunk's events, then their symlinks, then the groups of names those join
 * (store/store_datasets.c, migrations/0004_dataset_aliases.sql). */
int store_upsert_datasets(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e);

/* every job and parent job of the chunk's events; each ctx's job_id is set when the pipeline is next
 * flushed (store/store_jobs.c). Needs pipeline mode. */
int store_upsert_jobs(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e);

/* Chunk-level rows of the new events (each statement writes the rows of every event; rows carry
 * their event's time and seq, and repeated keys are merged in SQL). */

/* dataset fields, facets and versions (store/store_datasets.c). */
int store_write_dataset_details(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                                struct err *e);

/* job facets (store/store_jobs.c). */
int store_write_job_facets(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                           struct err *e);

/* run state history and run facets (store/store_runs.c); after every store_write_run. */
int store_write_run_details(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                            struct err *e);

/* run and job edges to datasets, input/output facets and column lineage (store/store_lineage.c);
 * after the runs and the dataset versions. */
int store_write_lineage(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                        struct err *e);

/* Per-event statements, run for each RunEvent in event order. */

/* each run and its parent run (store/store_runs.c). */
int store_write_runs(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e);

/* each job version from the run's accumulated inputs and outputs, and at COMPLETE the run's outputs
 * made current; at a terminal event or for a streaming job (store/store_runs.c). After the lineage. */
int store_write_job_versions(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e);

/* Last, once: the latest run state of the chunk's jobs and the counts of its new events, for the read
 * routes (store/store_read_upkeep.c). */
int store_write_read_upkeep(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                            struct err *e);

#endif
