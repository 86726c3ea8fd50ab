/* common/cfg.c - the option table behind cfg_parse and cfg_print_help.
 *
 * Invariants:
 *  1. OPTIONS is the only list of settings: parsing, env lookup and --help all read it.
 *  2. Integer options are range-checked; an out-of-range value is an error, never clamped.
 *  3. A boolean option given as a bare flag (--insecure) is true and takes no value; with a value
 *     (--insecure=false, LINEAGED_INSECURE=1) only true/false/1/0 are accepted.
 *  4. A positional option (OPT_ARG) has no flag of its own and no env twin: it is filled by the
 *     command's bare arguments in table order, and parsing fails when one is missing. */
#include "cfg.h"

#include "json.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { OPT_STRING, OPT_INT, OPT_LONG, OPT_BOOL, OPT_ARG };

struct option_def {
    const char *flag; /* without the leading --; for OPT_ARG the name shown in usage ("FILE") */
    const char *env;  /* NULL for OPT_ARG */
    enum opt_type type;
    size_t offset;
    const char *def;
    long min, max;
    unsigned commands;
    const char *help;
};

#define ALL_DB (CFG_SERVE | CFG_MIGRATE | CFG_KEYS | CFG_REPLAY)

static const struct option_def OPTIONS[] = {
    {"host", "LINEAGED_HOST", OPT_STRING, offsetof(struct cfg, host), "127.0.0.1", 0, 0, CFG_SERVE,
     "address to listen on"},
    {"port", "LINEAGED_PORT", OPT_INT, offsetof(struct cfg, port), "5000", 0, 65535, CFG_SERVE,
     "TCP port to listen on (0: any free port, logged at start)"},
    {"database-url", "LINEAGED_DATABASE_URL", OPT_STRING, offsetof(struct cfg, database_url), "", 0, 0,
     ALL_DB, "libpq conninfo or postgresql:// URL; empty: start a private Postgres in --data-dir"},
    {"read-database-url", "LINEAGED_READ_DATABASE_URL", OPT_STRING, offsetof(struct cfg, read_database_url), "",
     0, 0, CFG_SERVE, "a streaming replica for Marquez API reads (not lineage walks); empty: --database-url"},
    {"data-dir", "LINEAGED_DATA_DIR", OPT_STRING, offsetof(struct cfg, data_dir), "./var", 0, 0,
     ALL_DB | CFG_POSTGRES, "directory of the private Postgres cluster"},
    {"private-data-root", "LINEAGED_PRIVATE_DATA_ROOT", OPT_STRING, offsetof(struct cfg, private_data_root),
     "/var/lib/lineaged", 0, 0, ALL_DB | CFG_POSTGRES,
     "as root, when --data-dir is not given and user postgres cannot reach it: the cluster goes here instead"},
    {"db-connections", "LINEAGED_DB_CONNECTIONS", OPT_INT, offsetof(struct cfg, db_connections), "4", 1,
     256, CFG_SERVE, "worker threads, each with one Postgres connection"},
    {"max-body-bytes", "LINEAGED_MAX_BODY_BYTES", OPT_LONG, offsetof(struct cfg, max_body_bytes),
     "16777216", 1024, 1L << 31, CFG_SERVE, "largest request body accepted as sent, compressed or not (413)"},
    {"max-decompressed-bytes", "LINEAGED_MAX_DECOMPRESSED_BYTES", OPT_LONG,
     offsetof(struct cfg, max_decompressed_bytes), "67108864", 1024, 1L << 31, CFG_SERVE,
     "largest request body after gzip decoding (413)"},
    {"max-gzip-ratio", "LINEAGED_MAX_GZIP_RATIO", OPT_INT, offsetof(struct cfg, max_gzip_ratio), "200", 2,
     100000, CFG_SERVE, "largest decompressed/compressed size ratio accepted (gzip bomb guard, 413)"},
    {"max-json-depth", "LINEAGED_MAX_JSON_DEPTH", OPT_INT, offsetof(struct cfg, max_json_depth), "64", 4,
     JSON_MAX_DEPTH, CFG_SERVE | CFG_REPLAY, "deepest JSON nesting accepted (413)"},
    {"max-name-bytes", "LINEAGED_MAX_NAME_BYTES", OPT_INT, offsetof(struct cfg, max_name_bytes), "1024", 1,
     CFG_NAME_BYTES_CEILING, CFG_SERVE,
     "longest namespace, dataset, job (parent.child in full), source or symlink name in an event, in UTF-8 "
     "bytes (422)"},
    {"max-key-bytes", "LINEAGED_MAX_KEY_BYTES", OPT_INT, offsetof(struct cfg, max_key_bytes), "1024", 1,
     CFG_NAME_BYTES_CEILING, CFG_SERVE,
     "longest facet name, schema field or column-lineage field name in an event, in UTF-8 bytes (422)"},
    {"max-request-mb", "LINEAGED_MAX_REQUEST_MB", OPT_INT, offsetof(struct cfg, max_request_mb), "160", 1,
     1048576, CFG_SERVE, "MiB one request may hold while read, decompressed and parsed, JSON tree included (413)"},
    {"max-inflight-mb", "LINEAGED_MAX_INFLIGHT_MB", OPT_INT, offsetof(struct cfg, max_inflight_mb), "256", 1,
     1048576, CFG_SERVE, "MiB all requests together may hold (503 with Retry-After above)"},
    {"max-queue", "LINEAGED_MAX_QUEUE", OPT_INT, offsetof(struct cfg, max_queue), "64", 1, 1000000, CFG_SERVE,
     "requests waiting for a worker, per lane (reads, writes); more get 503 with Retry-After"},
    {"max-connections", "LINEAGED_MAX_CONNECTIONS", OPT_INT, offsetof(struct cfg, max_connections), "512", 1,
     1000000, CFG_SERVE, "open client connections; at the cap new ones wait in the listen backlog"},
    {"max-header-bytes", "LINEAGED_MAX_HEADER_BYTES", OPT_INT, offsetof(struct cfg, max_header_bytes), "65536",
     1024, 16777216, CFG_SERVE, "request line and headers (431 above)"},
    {"header-timeout", "LINEAGED_HEADER_TIMEOUT", OPT_INT, offsetof(struct cfg, header_timeout_s), "10", 1, 3600,
     CFG_SERVE, "seconds a request's head may take from its first byte, or from connect (408)"},
    {"idle-timeout", "LINEAGED_IDLE_TIMEOUT", OPT_INT, offsetof(struct cfg, idle_timeout_s), "60", 1, 86400,
     CFG_SERVE, "seconds a keep-alive connection may wait for its next request"},
    {"body-timeout", "LINEAGED_BODY_TIMEOUT", OPT_INT, offsetof(struct cfg, body_timeout_s), "20", 1, 3600,
     CFG_SERVE, "window in seconds over which a request body must keep up --body-min-rate (408)"},
    {"body-min-rate", "LINEAGED_BODY_MIN_RATE", OPT_INT, offsetof(struct cfg, body_min_rate), "1024", 0,
     1073741824, CFG_SERVE, "bytes per second a request body must average over each --body-timeout window"},
    {"write-timeout", "LINEAGED_WRITE_TIMEOUT", OPT_INT, offsetof(struct cfg, write_timeout_s), "60", 1, 3600,
     CFG_SERVE, "seconds a reply may make no progress before the connection closes"},
    {"batch-chunk", "LINEAGED_BATCH_CHUNK", OPT_INT, offsetof(struct cfg, batch_chunk), "100", 1, 10000,
     CFG_SERVE, "events written per transaction when a request carries an array"},
    {"api-keys", "LINEAGED_API_KEYS", OPT_STRING, offsetof(struct cfg, api_keys), "", 0, 0, CFG_SERVE,
     "comma-separated bootstrap keys, scope admin (spaces trimmed); prefer the env or --api-keys-file"},
    {"api-keys-file", "LINEAGED_API_KEYS_FILE", OPT_STRING, offsetof(struct cfg, api_keys_file), "", 0, 0,
     CFG_SERVE, "file of bootstrap keys (scope admin), one per line or comma-separated"},
    {"open-reads", "LINEAGED_OPEN_READS", OPT_BOOL, offsetof(struct cfg, open_reads), "false", 0, 0, CFG_SERVE,
     "with auth on, let read (GET) routes through without credentials (Marquez web UI)"},
    {"insecure", "LINEAGED_INSECURE", OPT_BOOL, offsetof(struct cfg, insecure), "false", 0, 0, CFG_SERVE,
     "allow listening on a non-loopback address with no auth configured"},
    {"jwks-file", "LINEAGED_JWKS_FILE", OPT_STRING, offsetof(struct cfg, jwks_file), "", 0, 0, CFG_SERVE,
     "JWKS (JSON) of the RS256/ES256 keys that sign accepted bearer JWTs; empty: no JWTs"},
    {"jwt-issuer", "LINEAGED_JWT_ISSUER", OPT_STRING, offsetof(struct cfg, jwt_issuer), "", 0, 0, CFG_SERVE,
     "required 'iss' of JWTs (needed with --jwks-file)"},
    {"jwt-audience", "LINEAGED_JWT_AUDIENCE", OPT_STRING, offsetof(struct cfg, jwt_audience), "", 0, 0,
     CFG_SERVE, "required 'aud' (or one of them) of JWTs (needed with --jwks-file)"},
    {"jwt-scope-claim", "LINEAGED_JWT_SCOPE_CLAIM", OPT_STRING, offsetof(struct cfg, jwt_scope_claim), "scope",
     0, 0, CFG_SERVE, "claim holding the scopes: a space-separated string or an array of strings"},
    {"jwt-scope-prefix", "LINEAGED_JWT_SCOPE_PREFIX", OPT_STRING, offsetof(struct cfg, jwt_scope_prefix), "",
     0, 0, CFG_SERVE, "prefix of our scopes in that claim ('lineaged:' for lineaged:write); others ignored"},
    {"jwt-clock-skew", "LINEAGED_JWT_CLOCK_SKEW", OPT_INT, offsetof(struct cfg, jwt_clock_skew_s), "60", 0,
     3600, CFG_SERVE, "seconds of clock difference tolerated for JWT exp and nbf"},
    {"keys-refresh-ms", "LINEAGED_KEYS_REFRESH_MS", OPT_INT, offsetof(struct cfg, keys_refresh_ms), "1000", 100,
     3600000, CFG_SERVE, "how often API keys are re-read from the database (a revoked key stops working then)"},
    {"name", "LINEAGED_KEY_NAME", OPT_STRING, offsetof(struct cfg, key_name), "", 0, 0, CFG_KEYS,
     "keys create/revoke: the key's name (who uses it)"},
    {"scope", "LINEAGED_KEY_SCOPE", OPT_STRING, offsetof(struct cfg, key_scope), "", 0, 0, CFG_KEYS,
     "keys create: read, write (ingest, and read) or admin (everything)"},
    {"id", "LINEAGED_KEY_ID", OPT_LONG, offsetof(struct cfg, key_id), "0", 0, LONG_MAX, CFG_KEYS,
     "keys revoke: the key's id (from keys list) instead of --name"},
    {"follow-interval-ms", "LINEAGED_FOLLOW_INTERVAL_MS", OPT_INT, offsetof(struct cfg, follow_interval_ms), "1000",
     0, 3600000, CFG_SERVE,
     "how often to pick up events other collectors wrote to the same database (0: never)"},
    {"lineage-cache-mb", "LINEAGED_LINEAGE_CACHE_MB", OPT_INT, offsetof(struct cfg, lineage_cache_mb), "256", 0,
     1048576, CFG_SERVE, "MiB of lineage node data kept between requests (0: read it from Postgres every time)"},
    {"lineage-node-table", "LINEAGED_LINEAGE_NODE_TABLE", OPT_BOOL, offsetof(struct cfg, lineage_node_table), "true",
     0, 0, CFG_SERVE,
     "keep every dataset's and job's lineage node data from the start-up load in memory (about 8 bytes per edge)"},
    {"shutdown-timeout", "LINEAGED_SHUTDOWN_TIMEOUT", OPT_INT, offsetof(struct cfg, shutdown_timeout_s), "30", 0,
     3600, CFG_SERVE, "seconds queued requests may take to finish after SIGTERM/SIGINT (a second signal: at once)"},
    {"ready-max-lag", "LINEAGED_READY_MAX_LAG", OPT_INT, offsetof(struct cfg, ready_max_lag), "10000", 0,
     2000000000, CFG_SERVE, "/readyz answers 503 while the graph is more events behind the log than this"},
    {"metrics-producers", "LINEAGED_METRICS_PRODUCERS", OPT_INT, offsetof(struct cfg, metrics_producers), "50", 1,
     10000, CFG_SERVE, "/metrics: distinct producer labels kept; later producers count as \"other\""},
    {"metrics-namespaces", "LINEAGED_METRICS_NAMESPACES", OPT_INT, offsetof(struct cfg, metrics_namespaces), "200",
     1, 10000, CFG_SERVE, "/metrics: distinct namespace labels kept; later namespaces count as \"other\""},
    {"silent-jobs-window", "LINEAGED_SILENT_JOBS_WINDOW", OPT_INT, offsetof(struct cfg, silent_jobs_window), "20",
     2, 1000, CFG_SERVE, "silent jobs: newest runs per job whose gaps give the expected interval"},
    {"silent-jobs-interval", "LINEAGED_SILENT_JOBS_INTERVAL", OPT_INT, offsetof(struct cfg, silent_jobs_interval_s),
     "60", 0, 86400, CFG_SERVE, "seconds between the background counts of silent jobs for /metrics (0: never)"},
    {"retention-days", "LINEAGED_RETENTION_DAYS", OPT_INT, offsetof(struct cfg, retention_days), "0", 0, 36500,
     CFG_SERVE, "drop event log partitions whose events are all older than this many days (0: keep all)"},
    {"event-partition-days", "LINEAGED_EVENT_PARTITION_DAYS", OPT_INT, offsetof(struct cfg, event_partition_days),
     "7", 1, 366, CFG_SERVE, "days of ingestion time per new event log partition (retention's granularity)"},
    {"maintenance-interval", "LINEAGED_MAINTENANCE_INTERVAL", OPT_INT, offsetof(struct cfg, maintenance_interval_s),
     "3600", 1, 86400, CFG_SERVE, "seconds between event log upkeep passes (partitions ahead, retention)"},
    {"replay-chunk", "LINEAGED_REPLAY_CHUNK", OPT_INT, offsetof(struct cfg, replay_chunk), "0", 0, 10000, CFG_REPLAY,
     "events per transaction when replaying (0: as the log's transactions grouped them; 1: each event alone)"},
    {"compare-with", "LINEAGED_COMPARE_WITH", OPT_STRING, offsetof(struct cfg, compare_with), "", 0, 0, CFG_REPLAY,
     "instead of replaying, compare the model with that of this database (conninfo), seq columns left out"},
    {"log-level", "LINEAGED_LOG_LEVEL", OPT_STRING, offsetof(struct cfg, log_level), "info", 0, 0,
     ALL_DB | CFG_POSTGRES, "debug, info, warn or error"},
    {"log-format", "LINEAGED_LOG_FORMAT", OPT_STRING, offsetof(struct cfg, log_format), "plain", 0, 0,
     ALL_DB | CFG_POSTGRES, "plain (time level module message key=value) or json (one object per line)"},
    {"access-log", "LINEAGED_ACCESS_LOG", OPT_BOOL, offsetof(struct cfg, access_log), "true", 0, 0, CFG_SERVE,
     "one log line per request: id, method, route, status, latency, bytes, producer"},
    {"stream-buffer-kb", "LINEAGED_STREAM_BUFFER_KB", OPT_INT, offsetof(struct cfg, stream_buffer_kb), "256", 16,
     1048576, CFG_SERVE, "KiB an event stream reader may fall behind before it is dropped (and its socket buffer)"},
    {"stream-heartbeat", "LINEAGED_STREAM_HEARTBEAT", OPT_INT, offsetof(struct cfg, stream_heartbeat_s), "15", 1,
     3600, CFG_SERVE, "seconds without an event after which an event stream gets a comment line"},
    {"stream-window-mb", "LINEAGED_STREAM_WINDOW_MB", OPT_INT, offsetof(struct cfg, stream_window_mb), "16", 1,
     4096, CFG_SERVE, "MiB of live events handed to the streams at once; beyond, live streams read the log"},
    {"max-streams", "LINEAGED_MAX_STREAMS", OPT_INT, offsetof(struct cfg, max_streams), "64", 0, 100000,
     CFG_SERVE, "event streams open at once (503 beyond)"},
    /* publish-model: a client of a running lineaged */
    {"FILE", NULL, OPT_ARG, offsetof(struct cfg, model_file), "", 0, 0, CFG_PUBLISH_MODEL,
     "the model's metadata: OpenMetadata MlModel YAML plus a services: map"},
    {"url", "LINEAGED_URL", OPT_STRING, offsetof(struct cfg, url), "http://127.0.0.1:5000", 0, 0,
     CFG_PUBLISH_MODEL | CFG_TAIL | CFG_STATS, "base URL of the lineaged server (http only)"},
    {"api-key", "LINEAGED_API_KEY", OPT_STRING, offsetof(struct cfg, api_key), "", 0, 0,
     CFG_PUBLISH_MODEL | CFG_TAIL | CFG_STATS,
     "sent as 'Authorization: Bearer <key>' (prefer the variable: flags show in ps)"},
    {"dry-run", "LINEAGED_DRY_RUN", OPT_BOOL, offsetof(struct cfg, dry_run), "false", 0, 0, CFG_PUBLISH_MODEL,
     "print the event and send nothing"},
    {"timeout", "LINEAGED_TIMEOUT", OPT_INT, offsetof(struct cfg, timeout_s), "30", 1, 3600,
     CFG_PUBLISH_MODEL | CFG_TAIL | CFG_STATS,
     "seconds each HTTP request may take (tail: the longest silence, heartbeats included, before reconnecting)"},
    {"max-file-bytes", "LINEAGED_MAX_FILE_BYTES", OPT_LONG, offsetof(struct cfg, max_file_bytes), "1048576", 1024,
     1L << 30, CFG_PUBLISH_MODEL, "largest model file read"},
    /* tail and stats */
    {"namespace", "LINEAGED_TAIL_NAMESPACE", OPT_STRING, offsetof(struct cfg, tail_namespace), "", 0, 0, CFG_TAIL,
     "only events of this namespace (the job's, or a DatasetEvent's dataset's)"},
    {"job", "LINEAGED_TAIL_JOB", OPT_STRING, offsetof(struct cfg, tail_job), "", 0, 0, CFG_TAIL,
     "only events of this job name"},
    {"event-type", "LINEAGED_TAIL_EVENT_TYPE", OPT_STRING, offsetof(struct cfg, tail_event_type), "", 0, 0, CFG_TAIL,
     "only events of this eventType (START, RUNNING, COMPLETE, ABORT, FAIL, OTHER)"},
    {"producer", "LINEAGED_TAIL_PRODUCER", OPT_STRING, offsetof(struct cfg, tail_producer), "", 0, 0, CFG_TAIL,
     "only events of this producer"},
    {"json", "LINEAGED_TAIL_JSON", OPT_BOOL, offsetof(struct cfg, json), "false", 0, 0, CFG_TAIL,
     "print each event as its JSON, one per line"},
    {"interval", "LINEAGED_STATS_INTERVAL", OPT_INT, offsetof(struct cfg, interval_s), "2", 1, 3600, CFG_STATS,
     "seconds between refreshes"},
    {"count", "LINEAGED_STATS_COUNT", OPT_INT, offsetof(struct cfg, count), "0", 0, 1000000, CFG_STATS,
     "snapshots to show before exiting (0: until Ctrl-C)"},
};

enum { OPTION_COUNT = sizeof OPTIONS / sizeof OPTIONS[0] };
_Static_assert((int)OPTION_COUNT <= (int)CFG_MAX_OPTIONS, "struct cfg's given mask has one bit per option");

static void mark_given(struct cfg *c, size_t i)
{
    c->given[i / 64] |= 1ULL << (i % 64);
}

static int set_bool(bool *field, const struct option_def *o, const char *value, const char *source,
                    struct err *e)
{
    if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
        *field = true;
    else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
        *field = false;
    else
        return err_set(e, ERR_BAD_INPUT, o->flag, "%s \"%s\" must be true, false, 1 or 0", source, value);
    return 0;
}

static int set_value(struct cfg *c, const struct option_def *o, const char *value, const char *source,
                     struct err *e)
{
    char *field = (char *)c + o->offset;

    if (o->type == OPT_BOOL)
        return set_bool((bool *)field, o, value, source, e);
    if (o->type == OPT_STRING || o->type == OPT_ARG) {
        char *copy = strdup(value);
        if (copy == NULL)
            return err_set(e, ERR_INTERNAL, o->flag, "out of memory");
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < o->min || v > o->max)
        return err_set(e, ERR_BAD_INPUT, o->flag, "%s \"%s\" must be an integer from %ld to %ld", source,
                       value, o->min, o->max);
    if (o->type == OPT_INT)
        *(int *)field = (int)v;
    else
        *(long *)field = v;
    return 0;
}

static const struct option_def *find_option(const char *flag, size_t len, enum cfg_command cmd)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if ((OPTIONS[i].commands & cmd) && OPTIONS[i].type != OPT_ARG && strlen(OPTIONS[i].flag) == len &&
            strncmp(OPTIONS[i].flag, flag, len) == 0)
            return &OPTIONS[i];
    }
    return NULL;
}

/* Applies "--name=value" or "--name value" at argv[*i]; advances *i past what it used. */
static int parse_flag(struct cfg *c, enum cfg_command cmd, int argc, char **argv, int *i, struct err *e)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct option_def *o = find_option(arg, len, cmd);
    char source[160];

    if (o == NULL)
        return err_set(e, ERR_BAD_INPUT, argv[*i], "unknown option \"%s\"; see --help", argv[*i]);
    snprintf(source, sizeof source, "--%s", o->flag);
    mark_given(c, (size_t)(o - OPTIONS));
    if (eq != NULL)
        return set_value(c, o, eq + 1, source, e);
    if (o->type == OPT_BOOL)
        return set_value(c, o, "true", source, e); /* a bare boolean flag takes no value */
    if (*i + 1 >= argc)
        return err_set(e, ERR_BAD_INPUT, argv[*i], "option \"%s\" needs a value", argv[*i]);
    *i += 1;
    return set_value(c, o, argv[*i], source, e);
}

/* The index in OPTIONS of cmd's positional option after `after` (start with -1), or -1 if none. */
static int next_positional(enum cfg_command cmd, int after)
{
    for (int i = after + 1; i < (int)OPTION_COUNT; i++)
        if (OPTIONS[i].type == OPT_ARG && (OPTIONS[i].commands & cmd))
            return i;
    return -1;
}

/* Applies argv after the subcommand: flags, and bare arguments into the positional options in order. */
static int parse_args(struct cfg *c, enum cfg_command cmd, int argc, char **argv, struct err *e)
{
    int pos = next_positional(cmd, -1);

    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            if (parse_flag(c, cmd, argc, argv, &i, e) != 0)
                return -1;
            continue;
        }
        if (pos < 0)
            return err_set(e, ERR_BAD_INPUT, argv[i], "unexpected argument \"%s\"; see --help", argv[i]);
        if (set_value(c, &OPTIONS[pos], argv[i], OPTIONS[pos].flag, e) != 0)
            return -1;
        pos = next_positional(cmd, pos);
    }
    if (pos >= 0)
        return err_set(e, ERR_BAD_INPUT, OPTIONS[pos].flag, "missing argument %s; see --help", OPTIONS[pos].flag);
    return 0;
}

int cfg_parse(struct cfg *c, enum cfg_command cmd, int argc, char **argv, bool *help, struct err *e)
{
    memset(c, 0, sizeof *c);
    *help = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            *help = true; /* help is always available, even when other settings are wrong */
            return 0;
        }
    }
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option_def *o = &OPTIONS[i];
        const char *env = o->env != NULL ? getenv(o->env) : NULL;
        if (set_value(c, o, o->def, "default", e) != 0)
            return -1;
        if (env == NULL || !(o->commands & cmd))
            continue;
        if (set_value(c, o, env, o->env, e) != 0)
            return -1;
        mark_given(c, i);
    }
    return parse_args(c, cmd, argc, argv, e);
}

void cfg_print_help(FILE *out, enum cfg_command cmd)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option_def *o = &OPTIONS[i];
        if (!(o->commands & cmd))
            continue;
        if (o->type == OPT_ARG) {
            fprintf(out, "  %-26s %s (required)\n", o->flag, o->help);
            continue;
        }
        if (o->type == OPT_BOOL)
            fprintf(out, "  --%-24s %s\n  %-26s env %s=true|false, default %s\n", o->flag, o->help, "", o->env,
                    o->def);
        else
            fprintf(out, "  --%-24s %s\n  %-26s env %s, default \"%s\"\n", o->flag, o->help, "", o->env,
                    o->def);
    }
}

bool cfg_given(const struct cfg *c, const char *flag)
{
    const struct option_def *o = find_option(flag, strlen(flag), ALL_DB | CFG_POSTGRES);

    size_t i = o != NULL ? (size_t)(o - OPTIONS) : 0;

    return o != NULL && (c->given[i / 64] & (1ULL << (i % 64))) != 0;
}

void cfg_free(struct cfg *c)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (OPTIONS[i].type == OPT_STRING || OPTIONS[i].type == OPT_ARG) {
            char **field = (char **)((char *)c + OPTIONS[i].offset);
            free(*field);
            *field = NULL;
        }
    }
}
