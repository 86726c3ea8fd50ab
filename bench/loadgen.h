/* bench/loadgen.h - closed-loop HTTP load: POSTs a set of bodies over persistent keep-alive connections.
 *
 * Each connection has at most one request in flight and sends its next request as soon as the previous
 * one is answered (a closed loop), so the offered load is exactly the connection count.
 * Invariants:
 *  1. A phase ends when every request has an answer or a transport error; no request is retried.
 *  2. A request counts as an error unless its status is expect_status and, when expect_zero is set,
 *     its body holds the member "<expect_zero>": 0.
 *  3. The connections persist across phases: phase 2 reuses the sockets phase 1 opened.
 * Ownership: bodies are sent by reference and must outlive loadgen_run(); per-request results belong
 * to the phase and are freed by loadgen_phase_free().
 * Threads: one event loop, run on the calling thread only during loadgen_run(). */
#ifndef LINEAGED_BENCH_LOADGEN_H
#define LINEAGED_BENCH_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fixture.h"

enum { LOADGEN_ERR_TEXT = 512, LOADGEN_STATUS_CREATED = 201 };

struct loadgen;

struct loadgen_phase {
    /* inputs, set by the caller */
    const char *path;
    const struct fixture_body *bodies; /* NULL: count GET requests of path instead of POSTs */
    size_t count;
    int expect_status;
    const char *expect_zero;   /* member that must be 0 in the answer ("failed"), or NULL */
    const char *const *labels; /* optional name per request; each error is then printed */
    /* results, set by loadgen_run() */
    size_t errors;
    int *status;          /* per request; 0 = no HTTP answer (connect error, timeout, EOF) */
    uint64_t *latency_ns; /* per request, send to answer */
    char first_error[LOADGEN_ERR_TEXT];
    /* loadgen_run()'s own bookkeeping */
    size_t next;
    size_t done;
    bool fatal;
    struct loadgen *lg;
};

/* Opens nconns connections to url ("http://HOST:PORT", no path). The sockets connect lazily, on the
 * first request. Returns NULL after printing why; free with loadgen_free(). */
struct loadgen *loadgen_new(const char *url, size_t nconns);

/* Closes the connections and frees lg. loadgen_free(NULL) is a no-op. */
void loadgen_free(struct loadgen *lg);

/* Sends every body of ph as POST ph->path with Content-Type application/json and waits for all
 * answers; *secs is the wall time from the first send to the last answer. Returns 0 (HTTP errors are
 * counted in ph->errors), or -1 after printing why if the phase could not run. Free the results with
 * loadgen_phase_free() in either case. */
int loadgen_run(struct loadgen *lg, struct loadgen_phase *ph, double *secs);

/* Frees the per-request results of ph (not ph itself). Cannot fail. */
void loadgen_phase_free(struct loadgen_phase *ph);

/* POSTs each fixture once to path, untimed, and keeps those answered 201; 4xx rejects are named on
 * stderr and dropped (fixture_keep). Returns 0 with *rejected set, or -1 if the server failed otherwise
 * (5xx, no answer) or rejected all. */
int loadgen_probe_fixtures(struct loadgen *lg, const char *path, struct fixture *fx, size_t *nfx,
                           size_t *rejected);

#endif
