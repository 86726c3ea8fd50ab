/* bench/http_read.c - read-route latency: GETs of one path over keep-alive connections, closed loop.
 *
 * usage: bench_http_read --url http://127.0.0.1:PORT --path PATH [--requests N (5000)] [--connections C (8)]
 * Prints one line: "<path> <requests> req <connections> conn  p50 X ms  p99 Y ms  Z req/s". Run by
 * bench/run_http.py against the old and the new HTTP layer in the same run.
 * Invariants: any answer other than 200 is an error (exit 1, the first one printed); requests are only
 * sent and timed here (loadgen.c), nothing is generated while the clock runs.
 * Threads: single-threaded. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "util.h"

enum { READ_DEFAULT_REQUESTS = 5000, READ_DEFAULT_CONNECTIONS = 8, READ_MAX_CONNECTIONS = 1024, READ_OK = 200 };

static int parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
        return -1;
    *out = (size_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},         {"path", required_argument, NULL, 'p'},
        {"requests", required_argument, NULL, 'n'},    {"connections", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *path = NULL;
    size_t requests = READ_DEFAULT_REQUESTS, conns = READ_DEFAULT_CONNECTIONS;
    int c, bad = 0;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'u')
            url = optarg;
        else if (c == 'p')
            path = optarg;
        else if (c == 'n')
            bad |= parse_size(optarg, 1, 100000000, &requests);
        else if (c == 'c')
            bad |= parse_size(optarg, 1, READ_MAX_CONNECTIONS, &conns);
        else
            bad = 1;
    }
    if (bad || url == NULL || path == NULL || optind != argc) {
        fprintf(stderr, "usage: bench_http_read --url http://127.0.0.1:PORT --path PATH [--requests N (%d)] "
                        "[--connections C (%d)]\n", READ_DEFAULT_REQUESTS, READ_DEFAULT_CONNECTIONS);
        return 2;
    }
    struct loadgen *lg = loadgen_new(url, conns);
    if (lg == NULL)
        return 1;
    struct loadgen_phase ph = {.path = path, .bodies = NULL, .count = requests, .expect_status = READ_OK};
    double secs = 0;
    int rc = loadgen_run(lg, &ph, &secs);
    if (rc == 0) {
        util_sort_u64(ph.latency_ns, ph.count);
        printf("%s %zu req %zu conn  p50 %.3f ms  p99 %.3f ms  %.0f req/s\n", path, requests, conns,
               util_percentile_ms(ph.latency_ns, ph.count, 50), util_percentile_ms(ph.latency_ns, ph.count, 99),
               (double)requests / secs);
        if (ph.errors > 0) {
            printf("FAILED: %zu of %zu answers were not 200; first: %s\n", ph.errors, requests, ph.first_error);
            rc = 1;
        }
    }
    loadgen_phase_free(&ph);
    loadgen_free(lg);
    return rc == 0 ? 0 : 1;
}
