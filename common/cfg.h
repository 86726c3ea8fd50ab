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
enum cfg_command { CFG_SERVE = 1, CFG_MIGRATE = 2, CFG_POSTGRES = 4, CFG_PUBLISH_MODEL = 8 };

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
    char *log_level;
    /* publish-model (a client of a running lineaged) */
    char *model_file;          /* the positional FILE; empty: not given */
    char *url;                 /* base URL of the lineaged server */
    char *api_key;             /* Bearer key for writes; never printed */
    bool dry_run;              /* print the event, send nothing */
    int timeout_s;             /* per HTTP request */
    long max_file_bytes;       /* largest model file read */
};

/* Fills c with defaults, then the environment, then argv (flags after the subcommand). A flag of a
 * yes/no option takes no value (`--dry-run`; `--dry-run=false` also works). An argument that is not a
 * flag fills the command's next positional option (`publish-model FILE`); a command's positional
 * options are all required.
 * Returns 0, or -1 with e set (ERR_BAD_INPUT) naming the bad flag, variable or missing argument.
 * Sets *help when --help was given (nothing else is validated then). */
int cfg_parse(struct cfg *c, enum cfg_command cmd, int argc, char **argv, bool *help, struct err *e);

/* Writes the options of one subcommand, one line each, with env twin and default. */
void cfg_print_help(FILE *out, enum cfg_command cmd);

/* True if key is one of the comma-separated api_keys (constant-time per key). */
bool cfg_api_key_valid(const struct cfg *c, const char *key);

/* Frees the strings. cfg_free on a zeroed struct is a no-op. */
void cfg_free(struct cfg *c);

#endif
