/* bench/graph_floor.c - bench_graph_floor: the floor under the start-up graph load. It reads every row
 * `lineaged serve` loads (store_graph_load: the same COPY statements, the same decoding, the dataset
 * fields included) into a sink that keeps nothing, so its time is what Postgres and the row stream cost
 * before the graph and the node table are built. bench/run_graph.py prints the load as a ratio of it.
 *
 *   bench_graph_floor --db CONNINFO
 *
 * Invariants: reads only (one REPEATABLE READ READ ONLY transaction, as the load).
 * Ownership: the store connection is freed before exit. Threads: single-threaded.
 * Output: "read floor <seconds> s (<rows> rows)" on stdout. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "store_graph.h"
#include "timefmt.h"

/* The sink's callbacks count rows and ignore their values (the (void) casts below say so). */

static int count_dataset(void *ctx, const struct store_graph_dataset *d, struct err *e)
{
    (void)d, (void)e;
    ++*(size_t *)ctx;
    return 0;
}

static int count_symlink(void *ctx, const char *owner_ns, const char *owner_name, const char *ns, const char *name,
                         struct err *e)
{
    (void)owner_ns, (void)owner_name, (void)ns, (void)name, (void)e;
    ++*(size_t *)ctx;
    return 0;
}

static int count_job(void *ctx, const struct store_graph_job *j, struct err *e)
{
    (void)j, (void)e;
    ++*(size_t *)ctx;
    return 0;
}

static int count_job_io(void *ctx, int64_t job, int64_t dataset, char io, uint32_t first, uint32_t last,
                        const char *run, struct err *e)
{
    (void)job, (void)dataset, (void)io, (void)first, (void)last, (void)run, (void)e;
    ++*(size_t *)ctx;
    return 0;
}

static int count_run(void *ctx, const char *uuid, int64_t job, const char *parent, uint32_t created, struct err *e)
{
    (void)uuid, (void)job, (void)parent, (void)created, (void)e;
    ++*(size_t *)ctx;
    return 0;
}

static int count_run_io(void *ctx, const char *run, int64_t dataset, char io, uint32_t first, uint32_t last,
                        struct err *e)
{
    (void)run, (void)dataset, (void)io, (void)first, (void)last, (void)e;
    ++*(size_t *)ctx;
    return 0;
}

static int count_columns(void *ctx, const struct store_graph_column *rows, size_t n, struct err *e)
{
    (void)rows, (void)e;
    *(size_t *)ctx += n;
    return 0;
}

static int count_field(void *ctx, const struct store_graph_field *f, struct err *e)
{
    (void)f, (void)e;
    ++*(size_t *)ctx;
    return 0;
}

int main(int argc, char **argv)
{
    size_t rows = 0;
    uint64_t xmin;
    struct err e;
    const struct store_graph_sink sink = {&rows,        NULL,      count_dataset, count_symlink, count_job,
                                          count_job_io, count_run, count_run_io,  count_columns, count_field};

    if (argc != 3 || strcmp(argv[1], "--db") != 0) {
        fprintf(stderr, "usage: bench_graph_floor --db CONNINFO\n");
        return 2;
    }
    struct store *s = store_connect(argv[2], &e);
    if (s == NULL) {
        fprintf(stderr, "bench_graph_floor: %s (%s)\n", e.msg, e.detail);
        return 1;
    }
    int64_t t0 = time_now_usec();
    int rc = store_graph_load(s, &sink, &xmin, &e);
    double secs = (double)(time_now_usec() - t0) / 1e6;
    store_free(s);
    if (rc != 0) {
        fprintf(stderr, "bench_graph_floor: %s (%s)\n", e.msg, e.detail);
        return 1;
    }
    printf("read floor %.3f s (%zu rows)\n", secs, rows);
    return 0;
}
