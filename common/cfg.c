/* common/cfg.c - the option table behind cfg_parse and cfg_print_help.
 *
 * Invariants:
 *  1. OPTIONS is the only list of settings: parsing, env lookup and --help all read it.
 *  2. Integer options are range-checked; an out-of-range value is an error, never clamped. */
#include "cfg.h"

#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { OPT_STRING, OPT_INT, OPT_LONG };

struct option_def {
    const char *flag; /* without the leading -- */
    const char *env;
    enum opt_type type;
    size_t offset;
    const char *def;
    long min, max;
    unsigned commands;
    const char *help;
};

#define ALL_DB (CFG_SERVE | CFG_MIGRATE | CFG_REPLAY)

static const struct option_def OPTIONS[] = {
    {"host", "LINEAGED_HOST", OPT_STRING, offsetof(struct cfg, host), "127.0.0.1", 0, 0, CFG_SERVE,
     "address to listen on"},
    {"port", "LINEAGED_PORT", OPT_INT, offsetof(struct cfg, port), "5000", 0, 65535, CFG_SERVE,
     "TCP port to listen on (0: any free port, logged at start)"},
    {"database-url", "LINEAGED_DATABASE_URL", OPT_STRING, offsetof(struct cfg, database_url), "", 0, 0,
     ALL_DB, "libpq conninfo or postgresql:// URL; empty: start a private Postgres in --data-dir"},
    {"data-dir", "LINEAGED_DATA_DIR", OPT_STRING, offsetof(struct cfg, data_dir), "./var", 0, 0,
     ALL_DB | CFG_POSTGRES, "directory of the private Postgres cluster"},
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
    {"batch-chunk", "LINEAGED_BATCH_CHUNK", OPT_INT, offsetof(struct cfg, batch_chunk), "100", 1, 10000,
     CFG_SERVE, "events written per transaction when a request carries an array"},
    {"api-keys", "LINEAGED_API_KEYS", OPT_STRING, offsetof(struct cfg, api_keys), "", 0, 0, CFG_SERVE,
     "comma-separated keys; if set, writes need 'Authorization: Bearer <key>'"},
    {"follow-interval-ms", "LINEAGED_FOLLOW_INTERVAL_MS", OPT_INT, offsetof(struct cfg, follow_interval_ms), "1000",
     0, 3600000, CFG_SERVE,
     "how often to pick up events other collectors wrote to the same database (0: never)"},
    {"lineage-cache-mb", "LINEAGED_LINEAGE_CACHE_MB", OPT_INT, offsetof(struct cfg, lineage_cache_mb), "256", 0,
     1048576, CFG_SERVE, "MiB of lineage node data kept between requests (0: read it from Postgres every time)"},
    {"shutdown-timeout", "LINEAGED_SHUTDOWN_TIMEOUT", OPT_INT, offsetof(struct cfg, shutdown_timeout_s), "30", 0,
     3600, CFG_SERVE, "seconds queued requests may take to finish after SIGTERM/SIGINT (a second signal: at once)"},
    {"retention-days", "LINEAGED_RETENTION_DAYS", OPT_INT, offsetof(struct cfg, retention_days), "0", 0, 36500,
     CFG_SERVE, "drop event log partitions whose events are all older than this many days (0: keep all)"},
    {"event-partition-days", "LINEAGED_EVENT_PARTITION_DAYS", OPT_INT, offsetof(struct cfg, event_partition_days),
     "7", 1, 366, CFG_SERVE, "days of ingestion time per new event log partition (retention's granularity)"},
    {"maintenance-interval", "LINEAGED_MAINTENANCE_INTERVAL", OPT_INT, offsetof(struct cfg, maintenance_interval_s),
     "3600", 1, 86400, CFG_SERVE, "seconds between event log upkeep passes (partitions ahead, retention)"},
    {"replay-chunk", "LINEAGED_REPLAY_CHUNK", OPT_INT, offsetof(struct cfg, replay_chunk), "0", 0, 10000, CFG_REPLAY,
     "events per transaction when replaying (0: as the log's transactions grouped them; 1: each event alone)"},
    {"log-level", "LINEAGED_LOG_LEVEL", OPT_STRING, offsetof(struct cfg, log_level), "info", 0, 0,
     ALL_DB | CFG_POSTGRES, "debug, info, warn or error"},
};

enum { OPTION_COUNT = sizeof OPTIONS / sizeof OPTIONS[0] };

static int set_value(struct cfg *c, const struct option_def *o, const char *value, const char *source,
                     struct err *e)
{
    char *field = (char *)c + o->offset;

    if (o->type == OPT_STRING) {
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
        if ((OPTIONS[i].commands & cmd) && strlen(OPTIONS[i].flag) == len &&
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
    if (eq != NULL)
        return set_value(c, o, eq + 1, source, e);
    if (*i + 1 >= argc)
        return err_set(e, ERR_BAD_INPUT, argv[*i], "option \"%s\" needs a value", argv[*i]);
    *i += 1;
    return set_value(c, o, argv[*i], source, e);
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
        const char *env = getenv(o->env);
        if (set_value(c, o, o->def, "default", e) != 0)
            return -1;
        if (env != NULL && (o->commands & cmd) && set_value(c, o, env, o->env, e) != 0)
            return -1;
    }
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            return err_set(e, ERR_BAD_INPUT, argv[i], "unexpected argument \"%s\"; see --help", argv[i]);
        if (parse_flag(c, cmd, argc, argv, &i, e) != 0)
            return -1;
    }
    return 0;
}

void cfg_print_help(FILE *out, enum cfg_command cmd)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option_def *o = &OPTIONS[i];
        if (!(o->commands & cmd))
            continue;
        fprintf(out, "  --%-24s %s\n  %-26s env %s, default \"%s\"\n", o->flag, o->help, "", o->env, o->def);
    }
}

bool cfg_api_key_valid(const struct cfg *c, const char *key)
{
    const char *p = c->api_keys;
    size_t klen = strlen(key);
    bool ok = false;

    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == klen && n > 0) {
            unsigned char diff = 0;
            for (size_t i = 0; i < n; i++)
                diff |= (unsigned char)(p[i] ^ key[i]);
            ok |= diff == 0;
        }
        p = comma ? comma + 1 : NULL;
    }
    return ok;
}

void cfg_free(struct cfg *c)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (OPTIONS[i].type == OPT_STRING) {
            char **field = (char **)((char *)c + OPTIONS[i].offset);
            free(*field);
            *field = NULL;
        }
    }
}
