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

/* The highest --max-name-bytes and --max-key-bytes accepted. A Postgres btree entry holds at most
 * 2704 bytes (8 KiB pages), and some indexes hold two of these values plus ids and headers
 * (datasets (namespace, name), column_lineage (output_field, input_field)): 2 x 1300 + 64 fits, so no
 * accepted event can fail on an index row limit. */
enum { CFG_NAME_BYTES_CEILING = 1300 };

/* Which subcommands an option applies to (bit mask). */
enum cfg_command {
    CFG_SERVE = 1, CFG_MIGRATE = 2, CFG_POSTGRES = 4, CFG_KEYS = 8, CFG_PUBLISH_MODEL = 16, CFG_REPLAY = 32,
    CFG_TAIL = 64, CFG_STATS = 128
};

/* Options a struct cfg can hold (the bits of `given`). */
enum { CFG_MAX_OPTIONS = 128 };

struct cfg {
    char *host;
    int port;
    char *database_url;        /* empty: run a private Postgres in data_dir */
    char *read_database_url;   /* empty: API reads go to database_url too */
    char *data_dir;
    char *private_data_root;   /* as root: where data_dir moves when user postgres cannot reach it */
    int db_connections;        /* worker threads, one Postgres connection each */
    long max_body_bytes;       /* request body as received (compressed) */
    long max_decompressed_bytes;
    int max_gzip_ratio;        /* decompressed/compressed bytes above this: a gzip bomb */
    int max_json_depth;
    int max_name_bytes;        /* namespaces, dataset/job/source/symlink names in events (422 above) */
    int max_key_bytes;         /* facet names, schema and column-lineage field names in events (422 above) */
    int max_request_mb;        /* memory one request may hold (body, decoded body, JSON tree) */
    int max_inflight_mb;       /* memory all requests together may hold; past it 503 */
    int max_queue;             /* requests waiting for a worker, per lane (reads, writes); past it 503 */
    int max_connections;       /* open client connections; accepting pauses at the cap */
    int max_header_bytes;      /* request line + headers */
    int header_timeout_s;      /* a request's head must arrive within this */
    int idle_timeout_s;        /* a keep-alive connection without a request closes after this */
    int body_timeout_s;        /* body-progress window */
    int body_min_rate;         /* bytes/s a body must average over each window */
    int write_timeout_s;       /* a reply that makes no progress for this long: the connection closes */
    int batch_chunk;           /* events per transaction for arrays */
    char *api_keys;            /* comma-separated bootstrap keys (scope admin); empty: none */
    char *api_keys_file;       /* file of more bootstrap keys; empty: none */
    bool open_reads;           /* with auth on, read routes need no credentials */
    bool insecure;             /* allow a non-loopback listener without auth */
    char *jwks_file;           /* keys of accepted JWTs; empty: JWTs are not accepted */
    char *jwt_issuer;
    char *jwt_audience;
    char *jwt_scope_claim;
    char *jwt_scope_prefix;
    int jwt_clock_skew_s;
    int keys_refresh_ms;       /* how often the server re-reads API keys from the database */
    char *key_name;            /* keys create/revoke */
    char *key_scope;           /* keys create */
    long key_id;               /* keys revoke; 0: by name */
    int follow_interval_ms;    /* how often to apply other collectors' events to the graph; 0: never */
    int lineage_cache_mb;      /* memory for lineage node data kept between requests; 0: none */
    bool lineage_node_table;   /* keep the load's node data in memory (api/node_table.h) */
    int shutdown_timeout_s;    /* on SIGTERM, how long requests in flight may take before we drop them */
    int ready_max_lag;         /* /readyz: most events the follower may be behind */
    int metrics_producers;     /* /metrics: producer label values kept before "other" */
    int metrics_namespaces;    /* /metrics: namespace label values kept before "other" */
    int silent_jobs_window;    /* silent jobs: newest runs per job considered */
    int silent_jobs_interval_s; /* how often /metrics' silent-job count is refreshed; 0: never */
    int retention_days;        /* event log partitions older than this are dropped; 0: keep everything */
    int event_partition_days;  /* width of each new event log partition */
    int maintenance_interval_s; /* how often partitions are created ahead and retention applied */
    int replay_chunk;          /* replay: events per transaction; 0: as the log's transactions were */
    char *compare_with;        /* replay: another database whose model to compare with; empty: replay */
    char *log_level;
    char *log_format;          /* plain or json: every log line, the access log's too */
    bool access_log;           /* one line per request */
    int stream_buffer_kb;      /* event stream: output a reader may have unread before it is dropped */
    int stream_heartbeat_s;    /* event stream: a comment after this long without an event */
    int stream_window_mb;      /* event stream: live events waiting for the loop thread */
    int max_streams;           /* event streams open at once */
    unsigned long long given[CFG_MAX_OPTIONS / 64]; /* bit i: OPTIONS[i] was set by flag or variable */
    /* publish-model (a client of a running lineaged) */
    char *model_file;          /* the positional FILE; empty: not given */
    char *url;                 /* base URL of the lineaged server */
    char *api_key;             /* Bearer key for writes; never printed */
    bool dry_run;              /* print the event, send nothing */
    int timeout_s;             /* per HTTP request */
    long max_file_bytes;       /* largest model file read */
    /* tail and stats (clients of a running lineaged; url, api_key, timeout_s too) */
    char *tail_namespace, *tail_job, *tail_event_type, *tail_producer; /* stream filters; empty: any */
    bool json;                 /* tail: each event as its JSON */
    int interval_s;            /* stats: seconds between refreshes */
    int count;                 /* stats: snapshots before exiting; 0: until interrupted */
};

/* Fills c with defaults, then the environment, then argv (flags after the subcommand). A flag of a
 * yes/no option takes no value (`--dry-run`; `--dry-run=false` also works). An argument that is not a
 * flag fills the command's next positional option (`publish-model FILE`); a command's positional
 * options are all required.
 * Returns 0, or -1 with e set (ERR_BAD_INPUT) naming the bad flag, variable or missing argument.
 * Sets *help when --help was given (nothing else is validated then). */
int cfg_parse(struct cfg *c, enum cfg_command cmd, int argc, char **argv, bool *help, struct err *e);

/* True if the option named flag (without "--") was set by its flag or environment variable rather
 * than left at its default. */
bool cfg_given(const struct cfg *c, const char *flag);

/* Writes the options of one subcommand, one line each, with env twin and default. */
void cfg_print_help(FILE *out, enum cfg_command cmd);

/* Frees the strings. cfg_free on a zeroed struct is a no-op. */
void cfg_free(struct cfg *c);

#endif
