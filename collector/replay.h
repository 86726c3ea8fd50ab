/* collector/replay.h - `lineaged replay`: is the model a pure function of the event log?
 *
 * Every stored event is run again, in log order, through the normal write path (decode_event,
 * store_write_events) into a fresh scratch schema made by the same migrations: the events of each
 * transaction of the log together (as ingest grouped them), or a fixed number per transaction (1: the
 * model as if every event had arrived alone, in seq order); then every model
 * table of the rebuilt model is compared with the live one (store/store_replay.h says which columns
 * and why). The scratch schema is dropped at the end. `--compare-with` compares two databases' models
 * the same way, for tests that feed one set of events in several orders. */
#ifndef LINEAGED_REPLAY_H
#define LINEAGED_REPLAY_H

#include <stdio.h>

#include "err.h"

/* The outcome of a replay that ran to the end. */
enum replay_result { REPLAY_EQUAL = 0, REPLAY_DIFFERENT = 1 };

/* Replays the log of the database at conninfo, writing chunk events per transaction (0: as the log's
 * transactions grouped them) and parsing with max_json_depth, and prints a report to out (a table per model
 * table, samples of differing rows, and a last line starting "result: "). With compare_with (a conninfo;
 * NULL or "": none), nothing is replayed: the model of that database is compared with this one's instead,
 * without the seq columns (two databases fed the same events in different orders, groupings or by
 * different collectors must agree on everything else). Returns REPLAY_EQUAL or REPLAY_DIFFERENT, or -1
 * with e set when the replay could not run (nothing is left behind: the scratch schema is dropped). */
int replay_run(const char *conninfo, const char *compare_with, int chunk, int max_json_depth, FILE *out,
               struct err *e);

#endif
