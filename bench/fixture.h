/* bench/fixture.h - OpenLineage fixture files turned into distinct event bodies for the benchmark.
 *
 * A usable fixture is a file whose whole content is one JSON object with a string run.runId; arrays,
 * fragments and events without a runId are skipped. A generated body is the fixture's exact bytes with
 * the run.runId value replaced by a fresh random UUID.
 * Invariants:
 *  1. Every generated event carries its own random runId, so no two generated bodies are equal (the
 *     server deduplicates identical events).
 *  2. [id_start, id_end) of a loaded fixture is exactly the quoted string value of its run.runId.
 * Ownership: fixtures and bodies are malloc'd here and freed by the matching *_free function.
 * Threads: no shared state. */
#ifndef LINEAGED_BENCH_FIXTURE_H
#define LINEAGED_BENCH_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

struct fixture {
    char *name; /* file name, without the directory */
    char *text;
    size_t len;
    size_t id_start;
    size_t id_end;
};

struct fixture_body {
    char *data; /* not NUL-terminated */
    size_t len;
};

/* Loads every usable *.json fixture in dir, sorted by name, and says on stderr how many it skipped.
 * Returns 0 with *out (free with fixture_free_all) and *count set, or -1 after printing why (the
 * directory is unreadable, a file cannot be read, or no file is usable); nothing is left allocated. */
int fixture_load_dir(const char *dir, struct fixture **out, size_t *count);

/* Keeps the fixtures whose keep[i] is true, in order, freeing the others; *count becomes the number
 * kept. Cannot fail. */
void fixture_keep(struct fixture *fx, size_t *count, const bool *keep);

/* Frees count fixtures and the array. fixture_free_all(NULL, 0) is a no-op. */
void fixture_free_all(struct fixture *fx, size_t count);

/* n single-event bodies, body i made from fixture i % nfx. Caller frees with fixture_bodies_free(b, n).
 * Aborts when out of memory; cannot fail otherwise. */
struct fixture_body *fixture_bodies_single(const struct fixture *fx, size_t nfx, size_t n);

/* ceil(n / per) JSON arrays holding n events in total (event i from fixture i % nfx), each array at
 * most per events. *nbatches is set; caller frees with fixture_bodies_free(b, *nbatches). */
struct fixture_body *fixture_bodies_batches(const struct fixture *fx, size_t nfx, size_t n, size_t per,
                                            size_t *nbatches);

/* Frees n bodies and the array. fixture_bodies_free(NULL, 0) is a no-op. */
void fixture_bodies_free(struct fixture_body *b, size_t n);

#endif
