/* store/store_replay.h - the SQL side of `lineaged replay`: a scratch schema with the same migrations,
 * the event log read in log order from one snapshot, and a table-by-table comparison of the live model
 * with the one rebuilt in the scratch schema, or (--compare-with) with another database's model
 * copied into it (store/store_replay_other.c).
 *
 * The comparison (store_replay_compare) projects every model table onto what the events derive:
 *  - surrogate ids (datasets.id, jobs.id) are replaced by the natural keys they stand for, in every
 *    table and column that refers to them (datasets.alias_of too); they depend on insertion order
 *    across all collectors;
 *  - seq columns (the last event that touched the row) become that event's hash: the live and
 *    scratch logs number the same events differently;
 *  - state set by API edits, which are not in the log, is left out: is_hidden (DELETE, hidden
 *    until an event mentions the object again), a namespace's owner, description and updated_at
 *    (PUT /namespaces), namespaces no job or dataset uses (PUT creates them), and the tag tables;
 *  - the 'default' namespace's created_at is the time its migration ran (ingestion time);
 *  - an alias row (datasets.alias_of set) keeps only its name and group: reads resolve it to its group's
 *    row, and its own attributes are working state merged into that row, which depends on which rows
 *    the group had when.
 *  - with another database's model (--compare-with), the seq columns themselves are left out too: they
 *    record arrival (the last event, in log order, that touched the row), which two databases fed
 *    the same events in different orders do not share by definition; nothing served depends on them.
 * Every other column of every model table is compared, as a multiset of rows (EXCEPT ALL). A table in
 * the live schema that is neither compared nor listed as not derived from events (store_replay.c)
 * makes the comparison unequal: a new table must be added to one list or the other.
 * Threads: one thread per struct store. */
#ifndef LINEAGED_STORE_REPLAY_H
#define LINEAGED_STORE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "store.h"

enum { STORE_REPLAY_SAMPLES = 3, STORE_REPLAY_SAMPLE_CHARS = 600 };

/* One event of the log, as stored. */
struct store_logged_event {
    int64_t seq;
    int64_t transaction; /* the first seq its writing transaction (xid) stored: equal for one chunk */
    unsigned char hash[32];
    const char *body; /* jsonb text */
    size_t body_len;
};

/* What the snapshot found besides the events. */
struct store_replay_log_info {
    long long events;           /* rows in the log */
    long long dropped_parts;    /* partitions retention dropped (event_log_dropped) */
    const char *dropped_until;  /* newest upper bound of those, or NULL */
    const char *unknown_tables; /* comma-separated live tables neither compared nor excluded, or NULL */
};

/* One model table compared. Strings are in the arena passed to store_replay_compare. */
struct store_replay_table {
    const char *name;
    long long live_rows, replay_rows;
    long long only_live, only_replay;               /* rows (with multiplicity) on one side only */
    const char *samples_live[STORE_REPLAY_SAMPLES]; /* JSON of rows only live has, NULL-padded */
    const char *samples_replay[STORE_REPLAY_SAMPLES];
};

/* Connects to conninfo with `schema` (a plain identifier the caller made, such as
 * lineaged_replay_1234) as the session's only search_path, also after a reconnect, and
 * synchronous_commit off (the scratch copy is thrown away), and creates that schema. The caller then
 * runs store_migrate on it. NULL with e set when the connection or the schema cannot be made. */
struct store *store_replay_scratch_connect(const char *conninfo, const char *schema, struct err *e);

/* Drops the scratch schema and everything in it. 0 or -1 with e set. */
int store_replay_scratch_drop(struct store *s, const char *schema, struct err *e);

/* Fills *info for the database of s (the log's size, retention drops, unknown tables); strings in a.
 * 0 or -1 with e set. */
int store_replay_log_info(struct store *s, struct arena *a, struct store_replay_log_info *info,
                          struct err *e);

/* On live: starts a REPEATABLE READ transaction, copies the live model's projections into
 * schema.live_<table> (so the comparison later sees this very snapshot), fills *info, and with_log
 * opens a cursor over the log: the events of each writing transaction together, in seq order,
 * transactions in the order of their first seq (without it, the transaction ends here). Strings of
 * *info are in a. 0 or -1 with e set (then the transaction is rolled back). */
int store_replay_snapshot(struct store *live, struct arena *a, const char *schema, bool with_log,
                          struct store_replay_log_info *info, struct err *e);

/* The next at most max events of the cursor into out[] (bodies in a); *n = 0 at the end. 0 or -1. */
int store_replay_fetch(struct store *live, struct arena *a, struct store_logged_event *out, size_t max,
                       size_t *n, struct err *e);

/* Closes the cursor and ends the snapshot's transaction. 0 or -1 with e set. */
int store_replay_snapshot_end(struct store *live, struct err *e);

/* Rolls the snapshot's transaction back after a failure (a failed ROLLBACK only means the connection is
 * gone, which ends it too). Cannot fail. */
void store_replay_snapshot_abort(struct store *live);

/* On the scratch connection: projects the rebuilt model into replay_<table>. 0 or -1 with e set. */
int store_replay_project(struct store *scratch, struct arena *a, struct err *e);

/* Instead of store_replay_project: copies the projections of the model of the database `other` is
 * connected to into scratch's replay_<table>, all read in one snapshot of other (the scratch schema
 * must have been migrated, so that the projections' column types can be taken from it). 0 or -1 with
 * e set; scratch stays usable (to drop the schema), other does not. */
int store_replay_copy_other(struct store *scratch, struct store *other, struct arena *a, struct err *e);

/* On the scratch connection: compares each replay_<table> with live_<table>, without_arrival leaving
 * the seq columns (`event`) out of both. *tables gets one entry per compared table (in a), *n their
 * count. 0 or -1 with e set. */
int store_replay_compare(struct store *scratch, struct arena *a, bool without_arrival,
                         struct store_replay_table **tables, size_t *n, struct err *e);

#endif
