/* tests/unit/common/test_cfg.c - option table, env twins and flags (common/cfg.c).
 *
 * Invariants:
 *  1. Every test starts and ends with no LINEAGED_* variable set (setup/teardown unset them all),
 *     so the outcome never depends on the environment the tests run in.
 *  2. Every rejection asserts ERR_BAD_INPUT and the flag or variable it names.
 *  3. cfg_free runs after every cfg_parse, success or not, so ASan sees no leak.
 * Ownership: struct cfg strings are freed with cfg_free. Threads: single-threaded (setenv). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "err.h"

static const char *const ENV_VARS[] = {
    "LINEAGED_HOST",
    "LINEAGED_PORT",
    "LINEAGED_DATABASE_URL",
    "LINEAGED_DATA_DIR",
    "LINEAGED_DB_CONNECTIONS",
    "LINEAGED_MAX_BODY_BYTES",
    "LINEAGED_MAX_DECOMPRESSED_BYTES",
    "LINEAGED_MAX_GZIP_RATIO",
    "LINEAGED_MAX_JSON_DEPTH",
    "LINEAGED_BATCH_CHUNK",
    "LINEAGED_API_KEYS",
    "LINEAGED_API_KEYS_FILE",
    "LINEAGED_OPEN_READS",
    "LINEAGED_INSECURE",
    "LINEAGED_JWKS_FILE",
    "LINEAGED_JWT_ISSUER",
    "LINEAGED_JWT_AUDIENCE",
    "LINEAGED_JWT_SCOPE_CLAIM",
    "LINEAGED_JWT_SCOPE_PREFIX",
    "LINEAGED_JWT_CLOCK_SKEW",
    "LINEAGED_KEYS_REFRESH_MS",
    "LINEAGED_KEY_NAME",
    "LINEAGED_KEY_SCOPE",
    "LINEAGED_KEY_ID",
    "LINEAGED_LOG_LEVEL",
    "LINEAGED_READ_DATABASE_URL",
    "LINEAGED_PRIVATE_DATA_ROOT",
    "LINEAGED_READY_MAX_LAG",
    "LINEAGED_URL",
    "LINEAGED_API_KEY",
    "LINEAGED_DRY_RUN",
    "LINEAGED_TIMEOUT",
    "LINEAGED_MAX_FILE_BYTES",
    "LINEAGED_RETENTION_DAYS",
    "LINEAGED_EVENT_PARTITION_DAYS",
    "LINEAGED_MAINTENANCE_INTERVAL",
    "LINEAGED_REPLAY_CHUNK",
};

static int clean_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ENV_VARS / sizeof ENV_VARS[0]; i++)
        unsetenv(ENV_VARS[i]);
    return 0;
}

/* Parses argv (NULL-terminated list) for cmd; returns cfg_parse's result. */
static int parse(struct cfg *c, enum cfg_command cmd, bool *help, struct err *e, char **argv)
{
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    err_clear(e);
    return cfg_parse(c, cmd, argc, argv, help, e);
}

static void parse_ok(struct cfg *c, enum cfg_command cmd, char **argv)
{
    struct err e;
    bool help = true;

    if (parse(c, cmd, &help, &e, argv) != 0)
        fail_msg("rejected: %s (%s)", e.msg, e.where);
    assert_false(help);
}

/* Expects rejection naming `where`, with `in_msg` inside the message. */
static void assert_rejected(enum cfg_command cmd, char **argv, const char *where, const char *in_msg)
{
    struct cfg c;
    struct err e;
    bool help = false;

    if (parse(&c, cmd, &help, &e, argv) != -1) {
        cfg_free(&c);
        fail_msg("accepted %s", argv[0] ? argv[0] : "(no args)");
    }
    cfg_free(&c);
    assert_int_equal(e.kind, ERR_BAD_INPUT);
    assert_string_equal(e.where, where);
    if (strstr(e.msg, in_msg) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, in_msg);
}

static void test_defaults_without_flags_or_env(void **state)
{
    char *argv[] = {NULL};
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_SERVE, argv);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 5000);
    assert_string_equal(c.database_url, "");
    assert_string_equal(c.data_dir, "./var");
    assert_int_equal(c.db_connections, 4);
    assert_int_equal(c.max_body_bytes, 16777216);
    assert_int_equal(c.max_decompressed_bytes, 67108864);
    assert_int_equal(c.max_gzip_ratio, 200);
    assert_int_equal(c.max_json_depth, 64);
    assert_int_equal(c.max_name_bytes, 1024);
    assert_int_equal(c.max_key_bytes, 1024);
    assert_int_equal(c.batch_chunk, 100);
    assert_string_equal(c.api_keys, "");
    assert_string_equal(c.log_level, "info");
    cfg_free(&c);
}

static void test_event_log_options_default_to_keep_everything_weekly(void **state)
{
    char *argv[] = {NULL};
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_SERVE, argv);
    assert_int_equal(c.retention_days, 0);
    assert_int_equal(c.event_partition_days, 7);
    assert_int_equal(c.maintenance_interval_s, 3600);
    cfg_free(&c);
    parse_ok(&c, CFG_REPLAY, argv);
    assert_int_equal(c.replay_chunk, 0);
    assert_string_equal(c.database_url, "");
    assert_string_equal(c.compare_with, "");
    cfg_free(&c);
}

static void test_event_log_options_are_range_checked_and_per_command(void **state)
{
    char *zero_width[] = {"--event-partition-days", "0", NULL};
    char *zero_interval[] = {"--maintenance-interval=0", NULL};
    char *negative_retention[] = {"--retention-days", "-1", NULL};
    char *retention_in_replay[] = {"--retention-days", "3", NULL};
    char *chunk_in_serve[] = {"--replay-chunk", "1", NULL};
    char *chunk[] = {"--replay-chunk", "1", "--database-url", "host=/x", NULL};
    char *compare_in_serve[] = {"--compare-with", "host=/y", NULL};
    char *compare[] = {"--compare-with=host=/y dbname=other", NULL};
    struct cfg c;

    (void)state;
    assert_rejected(CFG_SERVE, zero_width, "event-partition-days", "from 1 to 366");
    assert_rejected(CFG_SERVE, zero_interval, "maintenance-interval", "from 1 to 86400");
    assert_rejected(CFG_SERVE, negative_retention, "retention-days", "from 0 to 36500");
    assert_rejected(CFG_REPLAY, retention_in_replay, "--retention-days", "unknown option");
    assert_rejected(CFG_SERVE, chunk_in_serve, "--replay-chunk", "unknown option");
    parse_ok(&c, CFG_REPLAY, chunk);
    assert_int_equal(c.replay_chunk, 1);
    assert_string_equal(c.database_url, "host=/x");
    cfg_free(&c);
    assert_rejected(CFG_SERVE, compare_in_serve, "--compare-with", "unknown option");
    parse_ok(&c, CFG_REPLAY, compare);
    assert_string_equal(c.compare_with, "host=/y dbname=other");
    cfg_free(&c);
}

static void test_operations_defaults(void **state)
{
    char *argv[] = {NULL};
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_SERVE, argv);
    assert_string_equal(c.read_database_url, "");
    assert_string_equal(c.private_data_root, "/var/lib/lineaged");
    assert_int_equal(c.ready_max_lag, 10000);
    assert_int_equal(c.metrics_producers, 50);
    assert_int_equal(c.metrics_namespaces, 200);
    assert_int_equal(c.silent_jobs_window, 20);
    assert_int_equal(c.silent_jobs_interval_s, 60);
    cfg_free(&c);
}

/* cfg_given tells an option set by flag or environment from one left at its default, even when the
 * value given equals the default (the private data dir moves only when --data-dir was left alone). */
static void test_given_tracks_flags_and_env_not_values(void **state)
{
    char *argv[] = {"--data-dir", "./var", NULL};
    char *none[] = {NULL};
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_POSTGRES, none);
    assert_false(cfg_given(&c, "data-dir"));
    assert_false(cfg_given(&c, "no-such-option"));
    cfg_free(&c);
    parse_ok(&c, CFG_POSTGRES, argv);
    assert_true(cfg_given(&c, "data-dir"));
    assert_false(cfg_given(&c, "private-data-root"));
    cfg_free(&c);
    setenv("LINEAGED_PRIVATE_DATA_ROOT", "/srv/pg", 1);
    setenv("LINEAGED_READY_MAX_LAG", "5", 1); /* serve only: ignored for postgres, so not given */
    parse_ok(&c, CFG_POSTGRES, none);
    assert_true(cfg_given(&c, "private-data-root"));
    assert_string_equal(c.private_data_root, "/srv/pg");
    assert_false(cfg_given(&c, "ready-max-lag"));
    assert_false(cfg_given(&c, "data-dir"));
    cfg_free(&c);
}

static void test_env_twin_overrides_default(void **state)
{
    char *argv[] = {NULL};
    struct cfg c;

    (void)state;
    setenv("LINEAGED_PORT", "6000", 1);
    setenv("LINEAGED_HOST", "0.0.0.0", 1);
    setenv("LINEAGED_MAX_BODY_BYTES", "2048", 1);
    parse_ok(&c, CFG_SERVE, argv);
    assert_int_equal(c.port, 6000);
    assert_string_equal(c.host, "0.0.0.0");
    assert_int_equal(c.max_body_bytes, 2048);
    cfg_free(&c);
}

static void test_flag_overrides_env_twin(void **state)
{
    char *argv[] = {"--port", "7000", "--host=::1", NULL};
    struct cfg c;

    (void)state;
    setenv("LINEAGED_PORT", "6000", 1);
    setenv("LINEAGED_HOST", "0.0.0.0", 1);
    parse_ok(&c, CFG_SERVE, argv);
    assert_int_equal(c.port, 7000);
    assert_string_equal(c.host, "::1");
    cfg_free(&c);
}

static void test_flag_with_equals_and_with_separate_value(void **state)
{
    char *argv[] = {
        "--max-json-depth=10", "--batch-chunk",           "5", "--api-keys=a,b", "--log-level", "debug",
        "--database-url",      "postgresql://u@h/db?x=1", NULL};
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_SERVE, argv);
    assert_int_equal(c.max_json_depth, 10);
    assert_int_equal(c.batch_chunk, 5);
    assert_string_equal(c.api_keys, "a,b");
    assert_string_equal(c.log_level, "debug");
    assert_string_equal(c.database_url, "postgresql://u@h/db?x=1");
    cfg_free(&c);
}

static void test_flag_value_may_contain_equals_and_be_empty(void **state)
{
    char *argv[] = {"--database-url=host=x port=5", "--api-keys=", NULL};
    struct cfg c;

    (void)state;
    setenv("LINEAGED_API_KEYS", "from-env", 1);
    parse_ok(&c, CFG_SERVE, argv);
    assert_string_equal(c.database_url, "host=x port=5");
    assert_string_equal(c.api_keys, "");
    cfg_free(&c);
}

static void test_repeated_flag_last_wins(void **state)
{
    char *argv[] = {"--port=1", "--port", "2", "--host=a", "--host=b", NULL};
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_SERVE, argv);
    assert_int_equal(c.port, 2);
    assert_string_equal(c.host, "b");
    cfg_free(&c);
}

static void test_integer_range_ends_accepted(void **state)
{
    char *argv[] = {
        "--port=0",           "--db-connections=256",  "--max-body-bytes=2147483648", "--max-gzip-ratio=2",
        "--max-json-depth=4", "--max-name-bytes=1300", "--max-key-bytes=1",           NULL};
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_SERVE, argv);
    assert_int_equal(c.port, 0);
    assert_int_equal(c.db_connections, 256);
    assert_int_equal(c.max_body_bytes, 2147483648L);
    assert_int_equal(c.max_gzip_ratio, 2);
    assert_int_equal(c.max_json_depth, 4);
    assert_int_equal(c.max_name_bytes, CFG_NAME_BYTES_CEILING);
    assert_int_equal(c.max_key_bytes, 1);
    cfg_free(&c);
}

static void test_out_of_range_integers_rejected_naming_flag(void **state)
{
    (void)state;
    assert_rejected(CFG_SERVE, (char *[]){"--port=65536", NULL}, "port",
                    "--port \"65536\" must be an integer from 0 to 65535");
    assert_rejected(CFG_SERVE, (char *[]){"--port", "-1", NULL}, "port", "--port");
    assert_rejected(CFG_SERVE, (char *[]){"--db-connections=0", NULL}, "db-connections", "from 1 to 256");
    assert_rejected(CFG_SERVE, (char *[]){"--max-body-bytes=1023", NULL}, "max-body-bytes",
                    "--max-body-bytes");
    assert_rejected(CFG_SERVE, (char *[]){"--max-json-depth=10001", NULL}, "max-json-depth", "10001");
    /* Above the ceiling two names no longer fit one Postgres index entry (cfg.h). */
    assert_rejected(CFG_SERVE, (char *[]){"--max-name-bytes=1301", NULL}, "max-name-bytes",
                    "--max-name-bytes \"1301\" must be an integer from 1 to 1300");
    assert_rejected(CFG_SERVE, (char *[]){"--max-key-bytes=0", NULL}, "max-key-bytes", "from 1 to 1300");
    assert_rejected(CFG_SERVE, (char *[]){"--port=99999999999999999999999", NULL}, "port", "--port");
    /* Would wrap when stored in an int if the range were checked after the cast. */
    assert_rejected(CFG_SERVE, (char *[]){"--port=4294972296", NULL}, "port", "--port");
}

static void test_garbage_integers_rejected_naming_flag(void **state)
{
    (void)state;
    assert_rejected(CFG_SERVE, (char *[]){"--port=abc", NULL}, "port", "--port \"abc\"");
    assert_rejected(CFG_SERVE, (char *[]){"--port=80x", NULL}, "port", "\"80x\"");
    assert_rejected(CFG_SERVE, (char *[]){"--port=", NULL}, "port", "--port");
    assert_rejected(CFG_SERVE, (char *[]){"--port=8.5", NULL}, "port", "--port");
    assert_rejected(CFG_SERVE, (char *[]){"--batch-chunk", "1e3", NULL}, "batch-chunk", "--batch-chunk");
}

static void test_bad_env_integer_rejected_naming_variable(void **state)
{
    (void)state;
    setenv("LINEAGED_MAX_GZIP_RATIO", "lots", 1);
    assert_rejected(CFG_SERVE, (char *[]){NULL}, "max-gzip-ratio", "LINEAGED_MAX_GZIP_RATIO \"lots\"");
}

static void test_env_of_other_command_is_ignored(void **state)
{
    char *argv[] = {NULL};
    struct cfg c;

    (void)state;
    /* --port is a serve option: a bad LINEAGED_PORT must not break `lineaged migrate`. */
    setenv("LINEAGED_PORT", "not-a-port", 1);
    parse_ok(&c, CFG_MIGRATE, argv);
    assert_int_equal(c.port, 5000);
    cfg_free(&c);
}

static void test_unknown_option_rejected(void **state)
{
    (void)state;
    assert_rejected(CFG_SERVE, (char *[]){"--bogus=1", NULL}, "--bogus=1", "unknown option \"--bogus=1\"");
    assert_rejected(CFG_SERVE, (char *[]){"--por=1", NULL}, "--por=1", "unknown option");
    assert_rejected(CFG_SERVE, (char *[]){"--portx", "1", NULL}, "--portx", "unknown option");
    assert_rejected(CFG_SERVE, (char *[]){"--", NULL}, "--", "unknown option");
}

static void test_option_of_other_command_is_unknown(void **state)
{
    (void)state;
    assert_rejected(CFG_MIGRATE, (char *[]){"--port=1", NULL}, "--port=1", "unknown option");
    assert_rejected(CFG_POSTGRES, (char *[]){"--database-url=x", NULL}, "--database-url=x", "unknown option");
}

static void test_positional_argument_rejected(void **state)
{
    (void)state;
    assert_rejected(CFG_SERVE, (char *[]){"serve", NULL}, "serve", "unexpected argument \"serve\"");
    assert_rejected(CFG_SERVE, (char *[]){"-p", "1", NULL}, "-p", "unexpected argument");
}

static void test_flag_missing_value_rejected(void **state)
{
    (void)state;
    assert_rejected(CFG_SERVE, (char *[]){"--port", NULL}, "--port", "needs a value");
    assert_rejected(CFG_SERVE, (char *[]){"--host=a", "--host", NULL}, "--host", "needs a value");
}

static void test_help_sets_help_and_skips_validation(void **state)
{
    struct cfg c;
    struct err e;
    bool help = false;

    (void)state;
    assert_int_equal(parse(&c, CFG_SERVE, &help, &e, (char *[]){"--help", NULL}), 0);
    assert_true(help);
    cfg_free(&c);
    help = false;
    assert_int_equal(parse(&c, CFG_SERVE, &help, &e, (char *[]){"-h", NULL}), 0);
    assert_true(help);
    cfg_free(&c);
    help = false;
    assert_int_equal(parse(&c, CFG_SERVE, &help, &e, (char *[]){"--help", "--port=junk", NULL}), 0);
    assert_true(help);
    cfg_free(&c);
}

/* cfg.h: "Sets *help when --help was given (nothing else is validated then)". */
static void test_help_wins_over_earlier_bad_flag(void **state)
{
    struct cfg c;
    struct err e;
    bool help = false;

    (void)state;
    int rc = parse(&c, CFG_SERVE, &help, &e, (char *[]){"--port=junk", "--help", NULL});
    cfg_free(&c);
    if (rc != 0 || !help)
        fail_msg("--port=junk --help: rc %d, help %d, error \"%s\"", rc, help, e.msg);
}

static void test_help_wins_over_bad_env_value(void **state)
{
    struct cfg c;
    struct err e;
    bool help = false;

    (void)state;
    setenv("LINEAGED_PORT", "junk", 1);
    int rc = parse(&c, CFG_SERVE, &help, &e, (char *[]){"--help", NULL});
    cfg_free(&c);
    if (rc != 0 || !help)
        fail_msg("LINEAGED_PORT=junk --help: rc %d, help %d, error \"%s\"", rc, help, e.msg);
}

static void test_help_lists_options_of_command_with_env_and_default(void **state)
{
    char buf[8192];
    FILE *f = fmemopen(buf, sizeof buf, "w");

    (void)state;
    assert_non_null(f);
    cfg_print_help(f, CFG_SERVE);
    fclose(f);
    assert_non_null(strstr(buf, "--port"));
    assert_non_null(strstr(buf, "LINEAGED_PORT"));
    assert_non_null(strstr(buf, "\"5000\""));
    assert_non_null(strstr(buf, "--max-gzip-ratio"));
    f = fmemopen(buf, sizeof buf, "w");
    cfg_print_help(f, CFG_MIGRATE);
    fclose(f);
    assert_null(strstr(buf, "--port"));
    assert_non_null(strstr(buf, "--database-url"));
}

static void test_bare_boolean_flag_is_true_and_takes_no_value(void **state)
{
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_SERVE, (char *[]){NULL});
    assert_false(c.insecure);
    assert_false(c.open_reads);
    cfg_free(&c);
    /* --insecure must not swallow the flag after it */
    parse_ok(&c, CFG_SERVE, (char *[]){"--insecure", "--port", "7", "--open-reads", NULL});
    assert_true(c.insecure);
    assert_true(c.open_reads);
    assert_int_equal(c.port, 7);
    cfg_free(&c);
}

static void test_boolean_values_from_flag_and_env(void **state)
{
    struct cfg c;

    (void)state;
    setenv("LINEAGED_INSECURE", "1", 1);
    setenv("LINEAGED_OPEN_READS", "true", 1);
    parse_ok(&c, CFG_SERVE, (char *[]){NULL});
    assert_true(c.insecure);
    assert_true(c.open_reads);
    cfg_free(&c);
    parse_ok(&c, CFG_SERVE, (char *[]){"--insecure=false", "--open-reads=0", NULL});
    assert_false(c.insecure);
    assert_false(c.open_reads);
    cfg_free(&c);
}

static void test_bad_boolean_rejected_naming_flag_or_variable(void **state)
{
    (void)state;
    assert_rejected(CFG_SERVE, (char *[]){"--insecure=yes", NULL}, "insecure", "must be true, false, 1 or 0");
    setenv("LINEAGED_OPEN_READS", "on", 1);
    assert_rejected(CFG_SERVE, (char *[]){NULL}, "open-reads", "LINEAGED_OPEN_READS");
}

static void test_keys_options_belong_to_keys_command_only(void **state)
{
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_KEYS, (char *[]){"--name", "mlflow", "--scope=write", "--id", "12", "--data-dir", "/x", NULL});
    assert_string_equal(c.key_name, "mlflow");
    assert_string_equal(c.key_scope, "write");
    assert_int_equal(c.key_id, 12);
    assert_string_equal(c.data_dir, "/x");
    cfg_free(&c);
    assert_rejected(CFG_SERVE, (char *[]){"--scope=write", NULL}, "--scope=write", "unknown option");
    assert_rejected(CFG_KEYS, (char *[]){"--port=1", NULL}, "--port=1", "unknown option");
}

static void test_publish_model_takes_a_file_and_its_options(void **state)
{
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_PUBLISH_MODEL, (char *[]){"--dry-run", "models/m.yaml", "--url", "http://h:1", NULL});
    assert_string_equal(c.model_file, "models/m.yaml");
    assert_true(c.dry_run);
    assert_string_equal(c.url, "http://h:1");
    assert_string_equal(c.api_key, "");
    assert_int_equal(c.timeout_s, 30);
    assert_int_equal(c.max_file_bytes, 1048576);
    cfg_free(&c);
    setenv("LINEAGED_API_KEY", "k-from-env", 1);
    setenv("LINEAGED_DRY_RUN", "true", 1);
    parse_ok(&c, CFG_PUBLISH_MODEL, (char *[]){"m.yaml", NULL});
    assert_string_equal(c.api_key, "k-from-env");
    assert_true(c.dry_run);
    cfg_free(&c);
    parse_ok(&c, CFG_PUBLISH_MODEL, (char *[]){"m.yaml", "--dry-run=false", NULL});
    assert_false(c.dry_run);
    cfg_free(&c);
}

static void test_positional_and_yes_no_mistakes_rejected(void **state)
{
    (void)state;
    assert_rejected(CFG_PUBLISH_MODEL, (char *[]){"--dry-run", NULL}, "FILE", "missing argument FILE");
    assert_rejected(CFG_PUBLISH_MODEL, (char *[]){"a.yaml", "b.yaml", NULL}, "b.yaml", "unexpected argument \"b.yaml\"");
    assert_rejected(CFG_PUBLISH_MODEL, (char *[]){"a.yaml", "--dry-run=maybe", NULL}, "dry-run",
                    "--dry-run \"maybe\" must be true, false, 1 or 0");
    assert_rejected(CFG_PUBLISH_MODEL, (char *[]){"--FILE=a.yaml", NULL}, "--FILE=a.yaml", "unknown option");
    assert_rejected(CFG_SERVE, (char *[]){"--dry-run", NULL}, "--dry-run", "unknown option");
    setenv("LINEAGED_DRY_RUN", "sometimes", 1);
    assert_rejected(CFG_PUBLISH_MODEL, (char *[]){"a.yaml", NULL}, "dry-run", "LINEAGED_DRY_RUN \"sometimes\"");
}

static void test_free_twice_and_on_zeroed_struct_is_safe(void **state)
{
    struct cfg c;

    (void)state;
    memset(&c, 0, sizeof c);
    cfg_free(&c);
    parse_ok(&c, CFG_SERVE, (char *[]){NULL});
    cfg_free(&c);
    assert_null(c.host);
    cfg_free(&c);
}

/* The HTTP layer's limits and timeouts (README "Limits and security" lists the same defaults). */
static void test_http_limit_defaults_and_ranges(void **state)
{
    char *argv[] = {NULL};
    char *zero_queue[] = {"--max-queue", "0", NULL};
    char *rate_off[] = {"--body-min-rate", "0", "--header-timeout", "3600", NULL};
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_SERVE, argv);
    assert_int_equal(c.max_request_mb, 160);
    assert_int_equal(c.max_inflight_mb, 256);
    assert_int_equal(c.max_queue, 64);
    assert_int_equal(c.max_connections, 512);
    assert_int_equal(c.max_header_bytes, 65536);
    assert_int_equal(c.header_timeout_s, 10);
    assert_int_equal(c.idle_timeout_s, 60);
    assert_int_equal(c.body_timeout_s, 20);
    assert_int_equal(c.body_min_rate, 1024);
    assert_int_equal(c.write_timeout_s, 60);
    cfg_free(&c);
    assert_rejected(CFG_SERVE, zero_queue, "max-queue", "from 1");
    parse_ok(&c, CFG_SERVE, rate_off);
    assert_int_equal(c.body_min_rate, 0);
    assert_int_equal(c.header_timeout_s, 3600);
    cfg_free(&c);
}

/* The event stream, access log and tail/stats options (README "Live tail", "Access log"); the options
 * past the 64th are tracked by cfg_given like the others. */
static void test_stream_log_and_client_options(void **state)
{
    char *none[] = {NULL};
    char *serve[] = {"--max-streams", "3", "--stream-heartbeat", "2", "--access-log=false", "--log-format", "json",
                     NULL};
    char *tail[] = {"--namespace", "etl", "--json", "--url", "http://h:1", NULL};
    char *small[] = {"--stream-buffer-kb", "15", NULL};
    char *serve_flag_on_tail[] = {"--max-streams", "3", NULL};
    struct cfg c;

    (void)state;
    parse_ok(&c, CFG_SERVE, none);
    assert_int_equal(c.stream_buffer_kb, 256);
    assert_int_equal(c.stream_heartbeat_s, 15);
    assert_int_equal(c.stream_window_mb, 16);
    assert_int_equal(c.max_streams, 64);
    assert_true(c.access_log);
    assert_string_equal(c.log_format, "plain");
    cfg_free(&c);
    parse_ok(&c, CFG_SERVE, serve);
    assert_int_equal(c.max_streams, 3);
    assert_int_equal(c.stream_heartbeat_s, 2);
    assert_false(c.access_log);
    assert_string_equal(c.log_format, "json");
    assert_true(cfg_given(&c, "max-streams"));
    assert_true(cfg_given(&c, "log-format"));
    assert_false(cfg_given(&c, "stream-buffer-kb"));
    cfg_free(&c);
    parse_ok(&c, CFG_TAIL, tail);
    assert_string_equal(c.tail_namespace, "etl");
    assert_string_equal(c.tail_job, "");
    assert_true(c.json);
    assert_string_equal(c.url, "http://h:1");
    cfg_free(&c);
    parse_ok(&c, CFG_STATS, none);
    assert_int_equal(c.interval_s, 2);
    assert_int_equal(c.count, 0);
    cfg_free(&c);
    assert_rejected(CFG_SERVE, small, "stream-buffer-kb", "from 16");
    assert_rejected(CFG_TAIL, serve_flag_on_tail, "--max-streams", "unknown option");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stream_log_and_client_options, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_defaults_without_flags_or_env, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_publish_model_takes_a_file_and_its_options, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_positional_and_yes_no_mistakes_rejected, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_event_log_options_default_to_keep_everything_weekly, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(test_event_log_options_are_range_checked_and_per_command, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(test_env_twin_overrides_default, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_flag_overrides_env_twin, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_flag_with_equals_and_with_separate_value, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_flag_value_may_contain_equals_and_be_empty, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(test_repeated_flag_last_wins, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_integer_range_ends_accepted, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_out_of_range_integers_rejected_naming_flag, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(test_garbage_integers_rejected_naming_flag, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_bad_env_integer_rejected_naming_variable, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_env_of_other_command_is_ignored, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_unknown_option_rejected, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_option_of_other_command_is_unknown, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_positional_argument_rejected, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_flag_missing_value_rejected, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_help_sets_help_and_skips_validation, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_help_wins_over_earlier_bad_flag, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_help_wins_over_bad_env_value, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_help_lists_options_of_command_with_env_and_default, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(test_bare_boolean_flag_is_true_and_takes_no_value, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_boolean_values_from_flag_and_env, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_bad_boolean_rejected_naming_flag_or_variable, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_keys_options_belong_to_keys_command_only, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_publish_model_takes_a_file_and_its_options, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_positional_and_yes_no_mistakes_rejected, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_free_twice_and_on_zeroed_struct_is_safe, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_operations_defaults, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_given_tracks_flags_and_env_not_values, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_http_limit_defaults_and_ranges, clean_env, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
