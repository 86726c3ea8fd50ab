/* bench/graph_gen.h - the lineage generator and the helpers bench_graph and bench_graph_db share.
 *
 * The generator's output is an edge list shaped like a lineage store's rows (datasets, jobs, job_io,
 * dataset fields, column lineage), so the same graph can be loaded from memory (bench_graph), written
 * as CSV, or COPYed into Postgres (bench_graph_db). Names are not stored: gen_*_name() formats them
 * from ids. Both tools ask the same comparison questions from the same starts (gen_pick,
 * gen_marquez_job) and write their timings in one format (gen_write_runs).
 *
 * Invariants: see graph_gen.c (deterministic, no duplicate rows; starts depend on the rows only).
 * Ownership: struct gen owns its arrays; gen_free releases them. Threads: single-threaded. */
#ifndef LINEAGED_BENCH_GRAPH_GEN_H
#define LINEAGED_BENCH_GRAPH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* ---- the questions both sides of the comparison answer (bench_graph --compare, bench_graph_db) ---- */

/* Start classes: the hubs, typical mid-level datasets, leaves of the last levels. */
enum gen_class { GEN_HUB, GEN_TYPICAL, GEN_LEAF, GEN_CLASSES };

/* upstream/downstream start at a dataset (direction=...); lineage is Marquez's undirected walk and
 * starts at the job Marquez resolves the dataset to (gen_marquez_job). */
enum gen_question { GEN_Q_UPSTREAM, GEN_Q_DOWNSTREAM, GEN_Q_LINEAGE, GEN_QUESTIONS };

enum {
    GEN_CMP_DEPTH = 20,   /* job hops, as the API's depth */
    GEN_CMP_CAP = 1000,   /* maxNodes of the capped answers */
    GEN_CMP_STARTS = 10,  /* start datasets per class in the comparison */
};

const char *gen_class_name(enum gen_class c);
const char *gen_question_name(enum gen_question q);

/* Up to max datasets of class c, spread evenly over the eligible ones in id order, into out; returns
 * how many. Hubs: generator ids 0 .. GEN_HUBS-1. Typical: levels GEN_LEVELS/4 .. 3*GEN_LEVELS/4 with
 * 1-10 readers. Leaf: levels 3*GEN_LEVELS/4 .. GEN_LEVELS with no reader. Deterministic. */
size_t gen_pick(const struct gen *gen, enum gen_class c, uint32_t *out, size_t max);

/* The job Marquez's lineage starts from for dataset d (section 3 of marquez-api.md): its latest
 * writer, else its latest reader, by last_seen (ties: the lowest job id). UINT32_MAX if none. */
uint32_t gen_marquez_job(const struct gen *gen, uint32_t d);

/* Writes the comparison's start nodes as Marquez nodeIds to path, one line per gen_pick start of each
 * class (GEN_CMP_STARTS at most): "class <TAB> dataset:<ns>:<name> <TAB> job:<ns>:<name>", the job being
 * gen_marquez_job's ("" if none). Exits through gen_die on a write error. */
void gen_write_starts(const struct gen *gen, const char *path);

/* Writes one line per run, tab-separated, as run_graph.py reads them:
 *   side question class cap start ns nodes
 * Run i started from start i % n_starts and took ns[i] nanoseconds (UINT64_MAX: timed out, written as
 * -1) for an answer of nodes[i] nodes; cap 0 = no cap. Exits through gen_die on a write error. */
void gen_write_runs(FILE *f, const char *side, enum gen_question q, enum gen_class c, size_t cap,
                    const uint64_t *ns, const size_t *nodes, size_t runs, size_t n_starts);

/* Prints "bench_graph: <message>" to stderr and exits with status 1. */
void gen_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t gen_now_ns(void);

/* Allocation that never returns NULL: out of memory exits through gen_die. Caller frees. */
void *gen_xrealloc(void *p, size_t n);
void *gen_xcalloc(size_t n, size_t size);

#endif
