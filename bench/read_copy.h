/* bench/read_copy.h - COPYs the read benchmark's generated store (read_gen.h) into the real schema,
 * one table per function; bench_read_db calls them in dependency order inside its load.
 *
 * Invariants:
 *  1. Database ids are generator ids + 1 (datasets and jobs), as bench_graph_db's.
 *  2. Rows hold what lineaged's write path would have stored for the generated events, for the
 *     columns the read routes show; seq columns carry the seq of the event that last touched the row
 *     (0 for rows of the graph part, as bench_graph_db writes them).
 * Ownership: nothing kept; every function ends its COPY (pgcopy_end) before it returns.
 * Threads: single-threaded. */
#ifndef LINEAGED_BENCH_READ_COPY_H
#define LINEAGED_BENCH_READ_COPY_H

#include "pgcopy.h"
#include "read_gen.h"

typedef int read_copy_fn(struct pgcopy *b, const struct rgen *r, struct err *e);

/* Each COPYs one table (or, for read_copy_parents, INSERTs namespaces and sources). 0, or -1 with e
 * set (the COPY is then left for the caller's ROLLBACK). */
int read_copy_parents(struct pgcopy *b, const struct rgen *r, struct err *e);
read_copy_fn read_copy_datasets, read_copy_fields, read_copy_dataset_facets, read_copy_versions,
    read_copy_jobs, read_copy_job_facets, read_copy_job_versions, read_copy_job_io, read_copy_columns,
    read_copy_runs, read_copy_run_io, read_copy_run_facets, read_copy_events;

/* A JSON text being built (read_copy_json); JSON values here are at most READ_COPY_JSON_MAX bytes. */
enum { READ_COPY_JSON_MAX = 1 << 20 };
struct read_json {
    char text[READ_COPY_JSON_MAX];
    size_t len;
};

/* Appends to j (exits through gen_die when j would overflow). */
void read_copy_json(struct read_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Seconds since the epoch as ISO-8601 UTC ("2025-01-02T03:04:05Z"). */
void read_copy_iso(uint32_t t, char out[32]);

/* The producer and schema URLs of generated facets and events. */
extern const char READ_COPY_PRODUCER[], READ_COPY_FACET_SCHEMA_URL[];

/* Whether the generator hides (soft-deletes) dataset d / job j (tag: which): one in a thousand of each. */
enum { READ_COPY_TAG_HIDDEN_DATASET = 100, READ_COPY_TAG_HIDDEN_JOB };
bool read_copy_hidden(const struct rgen *r, uint64_t tag, uint32_t id);

#endif
