/* store/store_write.h - the per-family steps of store_write_events; their order is the list STEPS in
 * store/store_event.c. Each writes the rows of the chunk's new events c[0..n) and returns 0, or -1
 * with e set; each runs inside the caller's transaction. */
#ifndef LINEAGED_STORE_WRITE_H
#define LINEAGED_STORE_WRITE_H

#include "store_int.h"
#include "store_params.h"

/* Whether a facet row's incoming value (alias EXCLUDED) replaces its value (alias f): the later event time,
 * then a deletion (NULL), then the greater value, then the least seq (so the kept value names the same
 * event whatever order transactions committed in). For run_facets, job_facets, dataset_facets and
 * run_io_facets (which has no deletions); in a chunk, the same order: time DESC, value IS NULL DESC,
 * value DESC, seq. */
#define FACET_LATER                                                                                        \
    "(f.event_time, f.facet IS NULL, coalesce(f.facet, 'null'), -f.seq)"                                  \
    " < (EXCLUDED.event_time, EXCLUDED.facet IS NULL, coalesce(EXCLUDED.facet, 'null'), -EXCLUDED.seq)"

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

/* Chunk-level settling, after the lineage: what depends on rows beyond the chunk's own. */

/* when each version touched became readable, the version each unnamed input read, and each dataset's
 * current version (store/store_datasets.c: dataset_versions_settle). */
int store_settle_versions(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n, struct err *e);

/* each run's job version from all of its inputs and outputs, and each job's current version
 * (store/store_runs.c: job_versions_settle). */
int store_settle_job_versions(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                              struct err *e);

/* Last, once: the latest run state of the chunk's jobs and the counts of its new events, for the read
 * routes (store/store_read_upkeep.c). */
int store_write_read_upkeep(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                            struct err *e);

#endif
