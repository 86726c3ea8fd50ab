/* bench/scaleout.c - closed-loop load spread over several lineaged collectors, as a load balancer
 * would spread it: the connections are split evenly over the URLs and every URL's share runs at once.
 *
 * usage: bench_scaleout --url http://HOST:PORT [--url ...] [--connections C (32)]
 *                       (--fixtures DIR --events N | --get PATH --requests N)
 *  ingest  N single-event POST /api/v1/lineage bodies made from the fixtures (fresh runIds), after an
 *          untimed probe that drops the fixtures the server rejects;
 *  get     N GET PATH requests (a Marquez read).
 * Prints one JSON line on stdout: {"requests":N,"seconds":S,"rate":R,"p50_ms":..,"p99_ms":..,"errors":E}.
 * Invariants:
 *  1. Every body is made before the clock starts; each URL's share runs in its own thread with its own
 *     event loop and connections, and all shares start at one barrier.
 *  2. The wall time is the slowest share's; the rate is all requests over that time.
 * Exit status: 0 all answered as expected, 1 some request failed or a phase could not run, 2 bad usage.
 * Ownership: main owns the bodies and the loadgens; each thread only runs its own loadgen.
 * Threads: one per URL during the run, joined before the report. */
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "loadgen.h"
#include "util.h"

enum { SCALEOUT_MAX_URLS = 16, SCALEOUT_CONNECTIONS = 32, SCALEOUT_EXIT_USAGE = 2, SCALEOUT_STATUS_OK = 200 };

static const char SCALEOUT_PATH_INGEST[] = "/api/v1/lineage";

struct share {
    const char *url;
    struct loadgen *lg;
    struct loadgen_phase ph;
    pthread_barrier_t *start;
    double secs;
    int rc;
};

struct scaleout_opts {
    const char *urls[SCALEOUT_MAX_URLS];
    size_t n_urls;
    size_t connections;
    const char *fixtures; /* ingest mode */
    const char *get;      /* get mode */
    size_t count;
};

static int usage(void)
{
    util_msg("usage: bench_scaleout --url URL [--url URL ...] [--connections C] "
             "(--fixtures DIR --events N | --get PATH --requests N)");
    return -1;
}

static int opts_parse(int argc, char **argv, struct scaleout_opts *o)
{
    static const struct option longopts[] = {{"url", required_argument, NULL, 'u'},
                                             {"connections", required_argument, NULL, 'c'},
                                             {"fixtures", required_argument, NULL, 'f'},
                                             {"events", required_argument, NULL, 'n'},
                                             {"get", required_argument, NULL, 'g'},
                                             {"requests", required_argument, NULL, 'n'},
                                             {NULL, 0, NULL, 0}};
    int c;

    memset(o, 0, sizeof *o);
    o->connections = SCALEOUT_CONNECTIONS;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'u' && o->n_urls < SCALEOUT_MAX_URLS)
            o->urls[o->n_urls++] = optarg;
        else if (c == 'c')
            o->connections = strtoul(optarg, NULL, 10);
        else if (c == 'f')
            o->fixtures = optarg;
        else if (c == 'g')
            o->get = optarg;
        else if (c == 'n')
            o->count = strtoul(optarg, NULL, 10);
        else
            return usage();
    }
    if (o->n_urls == 0 || o->count == 0 || o->connections < o->n_urls ||
        (o->fixtures == NULL) == (o->get == NULL))
        return usage();
    return 0;
}

static void *share_run(void *arg)
{
    struct share *s = arg;

    pthread_barrier_wait(s->start);
    s->rc = loadgen_run(s->lg, &s->ph, &s->secs);
    return NULL;
}

/* Runs every share at once; fills the report. Returns 0, or -1 if a share could not run. */
static int run_shares(struct share *sh, size_t n, size_t total)
{
    pthread_t threads[SCALEOUT_MAX_URLS];
    pthread_barrier_t start;
    size_t errors = 0, k = 0;
    double secs = 0;
    int rc = 0;

    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        sh[i].start = &start;
        if (pthread_create(&threads[i], NULL, share_run, &sh[i]) != 0)
            abort(); /* the barrier would never open */
    }
    uint64_t *lat = util_xcalloc(total, sizeof *lat);
    for (size_t i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        rc |= sh[i].rc;
        errors += sh[i].ph.errors;
        secs = sh[i].secs > secs ? sh[i].secs : secs;
        for (size_t j = 0; sh[i].ph.latency_ns != NULL && j < sh[i].ph.count; j++)
            lat[k++] = sh[i].ph.latency_ns[j];
        if (sh[i].ph.errors > 0)
            util_msg("%s: %zu errors, first: %s", sh[i].url, sh[i].ph.errors, sh[i].ph.first_error);
    }
    pthread_barrier_destroy(&start);
    if (rc == 0 && k > 0) {
        util_sort_u64(lat, k);
        printf("{\"requests\":%zu,\"seconds\":%.3f,\"rate\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"errors\":%"
               "zu}\n",
               total, secs, (double)total / secs, util_percentile_ms(lat, k, 50),
               util_percentile_ms(lat, k, 99), errors);
    }
    free(lat);
    return rc != 0 ? -1 : errors > 0 ? 1 : 0;
}

/* The bodies of the ingest mode (probed fixtures, fresh runIds), or NULL after printing why. */
static struct fixture_body *ingest_bodies(const struct scaleout_opts *o, struct loadgen *probe_lg)
{
    struct fixture *fx = NULL;
    size_t nfx = 0, rejected = 0;
    struct fixture_body *b = NULL;

    if (fixture_load_dir(o->fixtures, &fx, &nfx) == 0 &&
        loadgen_probe_fixtures(probe_lg, SCALEOUT_PATH_INGEST, fx, &nfx, &rejected) == 0)
        b = fixture_bodies_single(fx, nfx, o->count);
    fixture_free_all(fx, nfx);
    return b;
}

int main(int argc, char **argv)
{
    struct scaleout_opts o;
    struct share sh[SCALEOUT_MAX_URLS] = {0};
    struct fixture_body *bodies = NULL;
    int rc = 1;

    if (opts_parse(argc, argv, &o) != 0)
        return SCALEOUT_EXIT_USAGE;
    for (size_t i = 0; i < o.n_urls; i++) {
        size_t conns = o.connections / o.n_urls + (i < o.connections % o.n_urls);
        if ((sh[i].lg = loadgen_new(o.urls[i], conns)) == NULL)
            goto out;
        sh[i].url = o.urls[i];
    }
    if (o.fixtures != NULL && (bodies = ingest_bodies(&o, sh[0].lg)) == NULL)
        goto out;
    for (size_t i = 0, first = 0; i < o.n_urls; i++) {
        size_t n = o.count / o.n_urls + (i < o.count % o.n_urls);
        sh[i].ph = (struct loadgen_phase){.path = o.get != NULL ? o.get : SCALEOUT_PATH_INGEST,
                                          .bodies = bodies != NULL ? bodies + first : NULL,
                                          .count = n,
                                          .expect_status =
                                              o.get != NULL ? SCALEOUT_STATUS_OK : LOADGEN_STATUS_CREATED};
        first += n;
    }
    rc = run_shares(sh, o.n_urls, o.count) == 0 ? 0 : 1;
out:
    for (size_t i = 0; i < o.n_urls; i++) {
        loadgen_phase_free(&sh[i].ph);
        loadgen_free(sh[i].lg);
    }
    fixture_bodies_free(bodies, bodies != NULL ? o.count : 0);
    return rc;
}
