/* store/store_read_upkeep.c - the read routes' part of the write transaction (the last step of
 * store/store_event.c): refreshes the latest run state of the jobs the chunk's events touched and
 * counts the chunk's new events (read_routes_upkeep, migrations/0010_read_routes.sql).
 *
 * Invariants:
 *  1. One statement per transaction, after every other step, so it sees the chunk's final runs and
 *     jobs rows (a run's state changes only through its own events, whose job is in the chunk).
 *  2. Only the chunk's new events are passed (duplicates never reach the steps), each once.
 * Threads: one thread per struct store. */
#include <string.h>

#include "store_write.h"

static const struct store_stmt UPKEEP = {"read_routes_upkeep",
                                         "SELECT read_routes_upkeep($1::bigint[], $2::bigint[])", 2};

/* "{a,b,...}": the non-empty values of one ctx field (decimal ids), as a Postgres array literal. */
static const char *id_array(struct arena *a, const struct store_event_ctx *c, size_t n, bool jobs)
{
    size_t cap = 3, len = 0;

    for (size_t k = 0; k < n; k++) {
        const char *v = jobs ? c[k].job_id : c[k].seq;
        cap += v != NULL ? strlen(v) + 1 : 0;
    }
    char *out = arena_alloc(a, cap);
    out[len++] = '{';
    for (size_t k = 0; k < n; k++) {
        const char *v = jobs ? c[k].job_id : c[k].seq;
        if (v == NULL || v[0] == '\0')
            continue;
        if (len > 1)
            out[len++] = ',';
        memcpy(out + len, v, strlen(v));
        len += strlen(v);
    }
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

int store_write_read_upkeep(struct store *s, struct arena *a, struct store_event_ctx *c, size_t n,
                            struct err *e)
{
    const char *params[] = {id_array(a, c, n, false), id_array(a, c, n, true)};
    return store_exec_command(s, &UPKEEP, params, e);
}
