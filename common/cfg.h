/* common/cfg.h - lineaged's settings: one table of options, each a --flag with an env twin.
 *
 * Precedence: flag > environment variable > default. Every option has a --help line.
 * Invariants:
 *  1. After cfg_parse succeeds every field holds a validated value (ranges checked).
 *  2. Strings are owned by struct cfg and freed by cfg_free.
 * Threads: filled once by main before any thread starts; read-only afterwards. */
#ifndef LINEAGED_CFG_H
#define LINEAGED_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* Which subcommands an option applies to (bit mask). */
enum cfg_command { CFG_SERVE = 1, CFG_MIGRATE = 2, CFG_POSTGRES = 4, CFG_REPLAY = 8 };

struct cfg {
    char *host;
    int port;
    char *database_url;        /* empty: run a private Postgres in data_dir */
    char *data_dir;
    int db_connections;        /* worker threads, one Postgres connection each */
    long max_body_bytes;       /* request body as received (compressed) */
    long max_decompressed_bytes;
    int max_gzip_ratio;        /* decompressed/compressed bytes above this: a gzip bomb */
    int max_json_depth;
    int batch_chunk;           /* events per transaction for arrays */
    char *api_keys;            /* comma-separated Bearer keys; empty: no auth */
    int follow_interval_ms;    /* how often to apply other collectors' events to the graph; 0: never */
    int lineage_cache_mb;      /* memory for lineage node data kept between requests; 0: none */
    int shutdown_timeout_s;    /* on SIGTERM, how long requests in flight may take before we drop them */
    int retention_days;        /* event log partitions older than this are dropped; 0: keep everything */
    int event_partition_days;  /* width of each new event log partition */
    int maintenance_interval_s; /* how often partitions are created ahead and retention applied */
    int replay_chunk;          /* replay: events per transaction; 0: as the log's transactions were */
    char *log_level;
};

/* Fills c with defaults, then the environment, then argv (flags after the subcommand).
 * Returns 0, or -1 with e set (ERR_BAD_INPUT) naming the bad flag or variable.
 * Sets *help when --help was given (nothing else is validated then). */
int cfg_parse(struct cfg *c, enum cfg_command cmd, int argc, char **argv, bool *help, struct err *e);

/* Writes the options of one subcommand, one line each, with env twin and default. */
void cfg_print_help(FILE *out, enum cfg_command cmd);

/* True if key is one of the comma-separated api_keys (constant-time per key). */
bool cfg_api_key_valid(const struct cfg *c, const char *key);

/* Frees the strings. cfg_free on a zeroed struct is a no-op. */
void cfg_free(struct cfg *c);

#endif
