/* bench/read_gen.h - the read benchmark's store: graph_gen's lineage (datasets, jobs, job_io, fields,
 * column lineage) plus what a year of operation adds to it: more datasets (catalog tables no job
 * touches), runs of every job on a schedule, their inputs and outputs, dataset versions and events.
 *
 * Model (all of it a function of (seed, ids), see read_gen.c):
 *  - A job is hourly (0.3% of jobs), daily (20%) or rare (the rest); the run target is shared 26% /
 *    73% / the remainder, so at 100,000 jobs and 10 M runs hourly jobs have ~8,760 runs, daily ones
 *    ~365 and rare ones 0 or 1. Runs are spread over the year before `now`, on the job's schedule.
 *  - A run is COMPLETED, FAILED (3%) or ABORTED (0.5%); one still going at `now` is RUNNING. It has a
 *    START event and, unless RUNNING, a terminal one; seq numbers follow event time.
 *  - A run reads and writes its job's job_io datasets. Each output is a new dataset version; an input
 *    reads the version its writer's latest run before the read wrote (else the dataset's first
 *    version). Every dataset has a first version at its creation; its current version is its
 *    writer's latest COMPLETED run's, else the first.
 * Ownership: struct rgen owns every array (rgen_free). Threads: single-threaded. */
#ifndef LINEAGED_BENCH_READ_GEN_H
#define LINEAGED_BENCH_READ_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph_gen.h"

enum rgen_state { RGEN_COMPLETED, RGEN_FAILED, RGEN_ABORTED, RGEN_RUNNING };
enum rgen_class { RGEN_HOURLY, RGEN_DAILY, RGEN_RARE };

enum {
    RGEN_SPAN = 365 * 86400, /* the year of runs before `now` */
    RGEN_NONE = UINT32_MAX,
};

struct rgen_run {
    uint32_t job, k;        /* generator job id, run number within the job */
    uint32_t start, end;    /* epoch seconds; end 0 while RUNNING */
    uint32_t seq_start, seq_end; /* the run's events (seq_end 0: none) */
    uint8_t state;          /* enum rgen_state */
};

struct rgen_event {
    uint32_t time;
    uint32_t ref; /* run index << 1, | 1 for the terminal event */
};

struct rgen {
    struct gen g;
    uint64_t seed;
    uint32_t now, t0;   /* runs lie in [t0, now) */
    uint32_t n_ds;      /* g.n_ds lineage datasets, then the catalog datasets */
    uint32_t *job_runs; /* runs of each job */
    uint32_t *io_first; /* job j's rows of g.io are [io_first[j], io_first[j + 1]) */
    uint32_t *writer;   /* per lineage dataset: a job writing it, or RGEN_NONE */
    struct rgen_run *runs; /* by start time */
    size_t n_runs;
    struct rgen_event *events; /* by time; seq = index + 1 */
    size_t n_events;
};

/* Builds the store for `jobs` jobs (graph_gen's minimum 1000), at least `datasets` datasets (more when
 * the lineage alone has more) and about `runs` runs, ending at `now`. Aborts when out of memory. */
void rgen_build(struct rgen *r, uint32_t jobs, uint32_t datasets, uint64_t runs, uint64_t seed, uint32_t now);
void rgen_free(struct rgen *r);

/* Datasets: namespace, name (into buf), field count, creation time. */
const char *rgen_dataset_ns(const struct rgen *r, uint32_t d);
void rgen_dataset_name(const struct rgen *r, uint32_t d, char *buf, size_t cap);
unsigned rgen_dataset_fields(const struct rgen *r, uint32_t d);
uint32_t rgen_dataset_created(const struct rgen *r, uint32_t d);

/* A job's class and its run k (k < job_runs[j]): times and state. */
enum rgen_class rgen_job_class(const struct rgen *r, uint32_t j);
void rgen_run_times(const struct rgen *r, uint32_t j, uint32_t k, uint32_t *start, uint32_t *end,
                    enum rgen_state *state);

/* UUIDs (16 bytes into out): run k of job j; the version run k of job j wrote of dataset d; the first
 * version of d; the version of d a read at time t saw; d's current version (*created: its time); job
 * j's version. */
void rgen_run_uuid(const struct rgen *r, uint32_t j, uint32_t k, uint8_t out[16]);
void rgen_output_version(const struct rgen *r, uint32_t j, uint32_t k, uint32_t d, uint8_t out[16]);
void rgen_first_version(const struct rgen *r, uint32_t d, uint8_t out[16]);
void rgen_read_version(const struct rgen *r, uint32_t d, uint32_t t, uint8_t out[16]);
void rgen_current_version(const struct rgen *r, uint32_t d, uint8_t out[16], uint32_t *created);
void rgen_job_version(const struct rgen *r, uint32_t j, uint8_t out[16]);

/* The last run of job j that ended (COMPLETED, FAILED or ABORTED), or RGEN_NONE. */
uint32_t rgen_last_ended(const struct rgen *r, uint32_t j);

/* 64 pseudo-random bits for (tag, a, b): for choices the loader makes (facets, hidden rows). */
uint64_t rgen_hash(const struct rgen *r, uint64_t tag, uint64_t a, uint64_t b);

#endif
