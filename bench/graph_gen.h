/* bench/graph_gen.h - bench_graph's lineage generator and the helpers bench_graph shares.
 *
 * The generator's output is an edge list shaped like a lineage store's rows (datasets, jobs, job_io,
 * dataset fields, column lineage), so the same graph can be loaded from memory, written as CSV for
 * COPY, or (later) loaded from Postgres. Names are not stored: gen_*_name() formats them from ids.
 *
 * Invariants: see graph_gen.c (deterministic, no duplicate rows).
 * Ownership: struct gen owns its arrays; gen_free releases them. Threads: single-threaded. */
#ifndef LINEAGED_BENCH_GRAPH_GEN_H
#define LINEAGED_BENCH_GRAPH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    GEN_LEVELS = 40,          /* job levels: the longest chain is 40 job hops, 80 edges */
    GEN_HUBS = 6,             /* raw datasets read by thousands of jobs: generator ids 0 .. GEN_HUBS-1 */
    GEN_DEFAULT_JOBS = 87000, /* about 1.06 M nodes and 3.0 M edges */
};

struct gen_io {
    uint32_t job, dataset;
    uint8_t output; /* 0 INPUT, 1 OUTPUT */
    uint32_t first, last;
};

struct gen_col {
    uint32_t in_ds, out_ds;
    uint8_t in_field, out_field;
    uint32_t first, last;
};

/* The edge list. Dataset ids 0 .. n_ds-1 (hubs first), job ids 0 .. n_jobs-1; a dataset's fields are
 * numbered 0 .. ds_fields[d]-1 and named by gen_field_name. */
struct gen {
    uint32_t n_ds, n_jobs;
    uint8_t *ds_level, *ds_fields;
    uint32_t *ds_readers; /* jobs reading each dataset (leaf: 0) */
    uint32_t level_first[GEN_LEVELS + 2]; /* datasets of level l: [level_first[l], level_first[l+1]) */
    struct gen_io *io;
    size_t n_io, cap_io;
    struct gen_col *col;
    size_t n_col, cap_col;
};

/* Builds the edge list for `jobs` jobs (at least 1000) from `seed`. Aborts when out of memory. */
void gen_build(struct gen *gen, uint32_t jobs, uint64_t seed);
void gen_free(struct gen *gen);

/* Writes datasets.csv, jobs.csv, job_io.csv, dataset_fields.csv and column_lineage.csv into dir
 * (created if missing), each with a header row; times are ISO-8601 UTC. Exits on a write error. */
void gen_write_csv(const struct gen *gen, const char *dir);

/* Names of generated ids, formatted into buf (at most cap bytes) or returned as constants. */
void gen_dataset_name(const struct gen *gen, uint32_t d, char *buf, size_t cap);
const char *gen_dataset_ns(const struct gen *gen, uint32_t d);
void gen_job_name(uint32_t j, char *buf, size_t cap);
const char *gen_job_ns(uint32_t j);
void gen_field_name(unsigned f, char *buf, size_t cap);

/* Prints "bench_graph: <message>" to stderr and exits with status 1. */
void gen_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Allocation that never returns NULL: out of memory exits through gen_die. Caller frees. */
void *gen_xrealloc(void *p, size_t n);
void *gen_xcalloc(size_t n, size_t size);

#endif
