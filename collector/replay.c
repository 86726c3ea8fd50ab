/* collector/replay.c - replay_run: the event log through the write path again, into a scratch schema,
 * and the comparison with the live model (collector/replay.h).
 *
 * Invariants:
 *  1. Events are written in the transactions the log records (xid: the events of one transaction
 *     together, in seq order, transactions by first seq), or chunk by chunk in seq order when asked;
 *     each with the hash it has in the log (its identity was computed from the text first received,
 *     which the jsonb body no longer is byte for byte).
 *  2. The scratch schema is dropped whatever happened after it was made.
 *  3. "result: equal" only when every compared table matches both ways and no live table is unknown
 *     to the comparison (of either database, with --compare-with).
 *  4. With --compare-with nothing is replayed: the other database's model is copied into the scratch
 *     schema and compared without the seq columns (store/store_replay_other.c).
 * Ownership: one arena for the run (report strings), one per group of events (reset after each
 * write), one per fetch of the log. */
#include "replay.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "json.h"
#include "store.h"
#include "store_replay.h"
#include "timefmt.h"

#define LOG_MODULE "replay"
#include "log.h"

struct replay_counts {
    long long written, duplicates, undecodable;
    int64_t min_seq, max_seq; /* of the events read (0: none) */
};

/* Decodes one logged event into ev. Returns 0, or 1 when this version cannot read it (logged). */
static int decode_logged(struct arena *a, const struct store_logged_event *l, int max_json_depth,
                         struct ol_event *ev)
{
    struct decode_violations v = {0};
    struct err perr;
    struct json_value *root = json_parse(a, l->body, l->body_len, max_json_depth, &perr);

    if (root == NULL || decode_event(a, root, NULL, NULL, ev, &v) != 0) { /* no limits: it was stored once */
        log_warn("event seq=%lld in the log does not decode (%s); not replayed", (long long)l->seq,
                 root == NULL ? perr.msg : (v.n > 0 ? v.msgs[0] : "no reason given"));
        return 1;
    }
    memcpy(ev->hash, l->hash, sizeof ev->hash);
    return 0;
}

/* The events to be written in one transaction: one transaction of the log, or chunk events. */
struct group {
    struct arena *a; /* the events' memory, reset after each write */
    struct ol_event *events;
    enum store_outcome *outcomes;
    size_t n, cap;
    int64_t transaction;
};

static int group_write(struct store *scratch, struct group *g, struct replay_counts *counts, struct err *e)
{
    if (g->n == 0)
        return 0;
    if (store_write_events(scratch, g->a, g->events, g->n, g->outcomes, e) != 0)
        return -1;
    for (size_t i = 0; i < g->n; i++)
        *(g->outcomes[i] == STORE_WRITTEN ? &counts->written : &counts->duplicates) += 1;
    g->n = 0;
    arena_reset(g->a);
    return 0;
}

/* Room for one more event. */
static int group_reserve(struct group *g, struct err *e)
{
    if (g->n < g->cap)
        return 0;
    size_t cap = g->cap ? 2 * g->cap : 64;
    struct ol_event *events = realloc(g->events, cap * sizeof *events);
    if (events != NULL)
        g->events = events;
    enum store_outcome *outcomes = realloc(g->outcomes, cap * sizeof *outcomes);
    if (outcomes != NULL)
        g->outcomes = outcomes;
    if (events == NULL || outcomes == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    g->cap = cap;
    return 0;
}

/* Adds one logged event to the group, writing the group first when the event starts a new one. */
static int replay_one(struct store *scratch, struct group *g, const struct store_logged_event *l, int chunk,
                      int max_json_depth, struct replay_counts *counts, struct err *e)
{
    bool starts_new = chunk > 0 ? g->n == (size_t)chunk : l->transaction != g->transaction;

    if (starts_new && group_write(scratch, g, counts, e) != 0)
        return -1;
    g->transaction = l->transaction;
    if (counts->min_seq == 0 || l->seq < counts->min_seq)
        counts->min_seq = l->seq;
    if (l->seq > counts->max_seq)
        counts->max_seq = l->seq;
    if (group_reserve(g, e) != 0)
        return -1;
    if (decode_logged(g->a, l, max_json_depth, &g->events[g->n]) != 0)
        counts->undecodable++;
    else
        g->n++;
    return 0;
}

enum { REPLAY_FETCH = 500 };

/* Reads the log and writes it to the scratch schema, group by group (replay_one). */
static int replay_log(struct store *live, struct store *scratch, int chunk, int max_json_depth,
                      struct replay_counts *counts, struct err *e)
{
    struct arena *fetched = arena_new();
    struct store_logged_event logged[REPLAY_FETCH];
    struct group g = {.a = arena_new()};
    size_t n;
    int rc = -1;

    do {
        arena_reset(fetched);
        if (store_replay_fetch(live, fetched, logged, REPLAY_FETCH, &n, e) != 0)
            goto out;
        for (size_t i = 0; i < n; i++)
            if (replay_one(scratch, &g, &logged[i], chunk, max_json_depth, counts, e) != 0)
                goto out;
    } while (n > 0);
    rc = group_write(scratch, &g, counts, e);
out:
    free(g.outcomes);
    free(g.events);
    arena_free(g.a);
    arena_free(fetched);
    return rc;
}

/* How the two sides are named in the report: the live model and its replay, or this database's model
 * and the other's. */
struct sides {
    const char *left, *right;
};

static const struct sides REPLAY_SIDES = {"live", "replay"}, OTHER_SIDES = {"this", "other"};

static void print_samples(FILE *out, const char *side, const char *const *samples)
{
    for (int i = 0; i < STORE_REPLAY_SAMPLES && samples[i] != NULL; i++)
        fprintf(out, "    only %s: %s\n", side, samples[i]);
}

/* The comparison table; returns how many tables differ. */
static size_t print_tables(FILE *out, const struct sides *sd, const struct store_replay_table *t, size_t n)
{
    size_t differ = 0;

    char only_left[32], only_right[32];

    snprintf(only_left, sizeof only_left, "only %s", sd->left);
    snprintf(only_right, sizeof only_right, "only %s", sd->right);
    fprintf(out, "%-18s %10s %10s %10s %12s\n", "table", sd->left, sd->right, only_left, only_right);
    for (size_t i = 0; i < n; i++) {
        bool same = t[i].only_live == 0 && t[i].only_replay == 0;
        fprintf(out, "%-18s %10lld %10lld %10lld %12lld%s\n", t[i].name, t[i].live_rows, t[i].replay_rows,
                t[i].only_live, t[i].only_replay, same ? "" : "   DIFFERENT");
        print_samples(out, sd->left, t[i].samples_live);
        print_samples(out, sd->right, t[i].samples_replay);
        differ += !same;
    }
    return differ;
}

static int report(FILE *out, const struct sides *sd, const struct store_replay_log_info *info,
                  const struct replay_counts *c, const struct store_replay_table *t, size_t n)
{
    size_t differ = print_tables(out, sd, t, n);

    if (c->undecodable > 0)
        fprintf(out, "note: %lld events of the log do not decode with this version and were not replayed\n",
                c->undecodable);
    if (info->dropped_parts > 0)
        fprintf(out,
                "note: retention dropped %lld partitions of the log (events received before %s); the live "
                "model keeps what they derived, so rows from them are only live\n",
                info->dropped_parts, info->dropped_until ? info->dropped_until : "?");
    if (info->unknown_tables != NULL)
        fprintf(out,
                "not compared: %s (tables unknown to replay: list each in store/store_replay_tables.c as "
                "compared or not derived from events)\n",
                info->unknown_tables);
    if (differ == 0 && info->unknown_tables == NULL) {
        if (sd == &REPLAY_SIDES)
            fprintf(out, "result: equal: the live model is what the log derives (%zu tables compared)\n", n);
        else
            fprintf(out, "result: equal: the two models are the same (%zu tables compared)\n", n);
        return REPLAY_EQUAL;
    }
    fprintf(out, "result: different: %zu of %zu tables differ%s\n", differ, n,
            info->unknown_tables != NULL ? ", and some tables were not compared" : "");
    return REPLAY_DIFFERENT;
}

/* Everything between making the scratch schema and dropping it, for a replay of the log. */
static int replay_in(struct store *live, struct store *scratch, const char *schema, int chunk,
                     int max_json_depth, FILE *out, struct err *e)
{
    struct arena *a = arena_new();
    struct store_replay_log_info info = {0};
    struct replay_counts counts = {0};
    struct store_replay_table *tables = NULL;
    size_t n = 0;
    int64_t started = time_now_usec();
    int rc = -1;

    if (store_migrate(scratch, e) < 0 || store_replay_snapshot(live, a, schema, true, &info, e) != 0)
        goto out;
    if (replay_log(live, scratch, chunk, max_json_depth, &counts, e) != 0) {
        store_replay_snapshot_abort(live);
        goto out;
    }
    if (store_replay_snapshot_end(live, e) != 0 || store_replay_project(scratch, a, e) != 0 ||
        store_replay_compare(scratch, a, false, &tables, &n, e) != 0)
        goto out;
    fprintf(out,
            "replay: %lld events of the log (seq %lld to %lld) written again into schema %s in %.1f s "
            "(%lld found duplicate)\n",
            counts.written + counts.duplicates, (long long)counts.min_seq, (long long)counts.max_seq, schema,
            (double)(time_now_usec() - started) / 1e6, counts.duplicates);
    rc = report(out, &REPLAY_SIDES, &info, &counts, tables, n);
out:
    arena_free(a);
    return rc;
}

/* The unknown tables of both databases, in one list ("other: " before the other's). */
static const char *unknown_of_both(struct arena *a, const char *mine, const char *theirs)
{
    if (theirs == NULL)
        return mine;
    return arena_printf(a, "%s%sother: %s", mine ? mine : "", mine ? ", " : "", theirs);
}

/* Everything between making the scratch schema and dropping it, for --compare-with. */
static int compare_in(struct store *live, struct store *scratch, const char *schema,
                      const char *other_conninfo, FILE *out, struct err *e)
{
    struct arena *a = arena_new();
    struct store_replay_log_info info = {0}, theirs = {0};
    struct replay_counts counts = {0};
    struct store_replay_table *tables = NULL;
    struct store *other = NULL;
    size_t n = 0;
    int rc = -1;

    if (store_migrate(scratch, e) < 0 || store_replay_snapshot(live, a, schema, false, &info, e) != 0 ||
        (other = store_connect(other_conninfo, e)) == NULL ||
        store_replay_log_info(other, a, &theirs, e) != 0 ||
        store_replay_copy_other(scratch, other, a, e) != 0 ||
        store_replay_compare(scratch, a, true, &tables, &n, e) != 0)
        goto out;
    fprintf(out,
            "compare: this model (%lld events in its log) with the other database's (%lld events), "
            "seq columns left out\n",
            info.events, theirs.events);
    info.unknown_tables = unknown_of_both(a, info.unknown_tables, theirs.unknown_tables);
    info.dropped_parts = 0; /* nothing is replayed: what retention dropped from either log does not matter */
    rc = report(out, &OTHER_SIDES, &info, &counts, tables, n);
out:
    store_free(other);
    arena_free(a);
    return rc;
}

int replay_run(const char *conninfo, const char *compare_with, int chunk, int max_json_depth, FILE *out,
               struct err *e)
{
    char schema[64];
    struct err ignored;

    snprintf(schema, sizeof schema, "lineaged_replay_%d_%lld", (int)getpid(),
             (long long)(time_now_usec() / 1000000));
    struct store *live = store_connect(conninfo, e);
    if (live == NULL)
        return -1;
    struct store *scratch = store_replay_scratch_connect(conninfo, schema, e);
    if (scratch == NULL) {
        store_free(live);
        return -1;
    }
    int rc;
    if (compare_with != NULL && compare_with[0] != '\0') {
        log_info("comparing the model with another database's in scratch schema %s", schema);
        rc = compare_in(live, scratch, schema, compare_with, out, e);
    } else {
        log_info("replaying the event log into scratch schema %s", schema);
        rc = replay_in(live, scratch, schema, chunk, max_json_depth, out, e);
    }
    if (store_replay_scratch_drop(scratch, schema, rc < 0 ? &ignored : e) != 0 && rc >= 0) {
        rc = -1;
    }
    store_free(scratch);
    store_free(live);
    return rc;
}
