/* server/main.c - the lineaged binary: `serve`, `migrate`, `postgres`, `replay`, `--help`.
 *
 * Start-up of `serve`: options -> database (LINEAGED_DATABASE_URL, or a private Postgres in
 * --data-dir) -> migrations -> graph load -> event log upkeep (maintain.c) and follower -> HTTP server
 * until SIGINT/SIGTERM -> stop the private Postgres.
 * Invariant: a private Postgres started here is always stopped before exit, whatever failed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "follower.h"
#include "graph.h"
#include "maintain.h"
#include "pgembed.h"
#include "replay.h"
#include "server.h"
#include "store.h"
#include "sync.h"
#include "timefmt.h"

#define LOG_MODULE "main"
#include "log.h"

static const char USAGE[] =
    "lineaged - OpenLineage collector and lineage graph server\n"
    "\n"
    "usage: lineaged <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve      apply migrations and serve the HTTP API (default port 5000)\n"
    "  migrate    apply database migrations and exit\n"
    "  postgres   run only the private Postgres in --data-dir, print its conninfo, stop on Ctrl-C\n"
    "  replay     rebuild the model from the event log in a scratch schema and compare it with the live one\n"
    "             (exit 0: equal, 1: different, 2: could not run)\n"
    "\n"
    "Run 'lineaged <command> --help' for the options of a command. Every option also reads an\n"
    "environment variable (LINEAGED_...), shown in the command's help.\n";

struct command {
    const char *name;
    enum cfg_command cmd;
    int (*run)(const struct cfg *c);
    const char *summary;
};

/* Resolves the database: the configured URL, or a private Postgres started in c->data_dir. */
static int open_database(const struct cfg *c, struct pgembed **pg, const char **conninfo)
{
    struct err e;

    *pg = NULL;
    if (c->database_url[0] != '\0') {
        *conninfo = c->database_url;
        return 0;
    }
    log_info("no --database-url given: starting a private Postgres in %s", c->data_dir);
    if ((*pg = pgembed_start(c->data_dir, &e)) == NULL) {
        log_error("cannot start the private Postgres: %s", e.msg);
        return -1;
    }
    *conninfo = pgembed_conninfo(*pg);
    return 0;
}

static int migrate_database(const char *conninfo)
{
    struct err e;
    struct store *s = store_connect(conninfo, &e);

    if (s == NULL) {
        log_error("%s: %s", e.msg, e.detail);
        return -1;
    }
    int applied = store_migrate(s, &e);
    store_free(s);
    if (applied < 0) {
        log_error("migration failed: %s (%s)", e.msg, e.detail);
        return -1;
    }
    log_info("database schema is up to date (%d migrations applied now)", applied);
    return 0;
}

static void stop_database(struct pgembed *pg)
{
    struct err e;

    if (pg != NULL && pgembed_stop(pg, &e) != 0)
        log_error("stopping the private Postgres failed: %s", e.msg);
}

/* Builds the lineage graph from the database; *xmin_out is where the follower starts. */
static struct graph *load_graph(const char *conninfo, uint64_t *xmin_out)
{
    struct err e;
    struct graph *g = graph_new();
    struct store *s = store_connect(conninfo, &e);
    int64_t started = time_now_usec();

    if (g == NULL || s == NULL || sync_load(g, s, xmin_out, &e) != 0) {
        log_error("cannot load the lineage graph: %s (%s)", e.msg, e.detail);
        store_free(s);
        graph_free(g);
        return NULL;
    }
    store_free(s);
    log_info("lineage graph loaded: %zu nodes, %zu edges, %zu bytes, %lld ms", graph_node_count(g),
             graph_edge_count(g), graph_memory_bytes(g), (long long)((time_now_usec() - started) / 1000));
    return g;
}

/* Loads the graph, starts the follower, serves until a stop signal, then tears it all down. */
static int serve(const struct cfg *c, const char *conninfo)
{
    uint64_t xmin = 0;
    struct follower *f = NULL;
    struct maintain *m = NULL;
    struct graph *g = load_graph(conninfo, &xmin);
    struct err e;
    int rc = 1;

    if (g == NULL)
        return 1;
    if ((m = maintain_start(c, conninfo, &e)) == NULL)
        log_error("%s", e.msg);
    else if (c->follow_interval_ms > 0 &&
        (f = follower_start(g, conninfo, xmin, c->follow_interval_ms, c->max_json_depth, &e)) == NULL)
        log_error("%s", e.msg);
    else if (server_run(c, conninfo, g, &e) == 0)
        rc = 0;
    else
        log_error("%s", e.msg);
    follower_stop(f);
    maintain_stop(m);
    graph_free(g);
    return rc;
}

static int run_serve(const struct cfg *c)
{
    struct pgembed *pg;
    const char *conninfo;
    int rc = 1;

    if (open_database(c, &pg, &conninfo) != 0)
        return 1;
    if (migrate_database(conninfo) == 0)
        rc = serve(c, conninfo);
    stop_database(pg);
    return rc;
}

static int run_migrate(const struct cfg *c)
{
    struct pgembed *pg;
    const char *conninfo;

    if (open_database(c, &pg, &conninfo) != 0)
        return 1;
    int rc = migrate_database(conninfo) == 0 ? 0 : 1;
    stop_database(pg);
    return rc;
}

/* Blocks until SIGINT or SIGTERM. */
static void wait_for_stop_signal(void)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigwait(&set, &sig);
}

static int run_postgres(const struct cfg *c)
{
    struct err e;
    struct pgembed *pg = pgembed_start(c->data_dir, &e);

    if (pg == NULL) {
        log_error("cannot start the private Postgres: %s", e.msg);
        return 1;
    }
    printf("ready %s\n", pgembed_conninfo(pg));
    fflush(stdout);
    wait_for_stop_signal();
    stop_database(pg);
    return 0;
}

/* Exit codes: 0 equal, 1 different (the report says where), 2 could not run. */
static int run_replay(const struct cfg *c)
{
    struct pgembed *pg;
    const char *conninfo;
    struct err e;

    if (open_database(c, &pg, &conninfo) != 0)
        return 2;
    int rc = replay_run(conninfo, c->replay_chunk, c->max_json_depth, stdout, &e);
    if (rc < 0)
        log_error("replay failed: %s (%s)", e.msg, e.detail);
    fflush(stdout);
    stop_database(pg);
    return rc < 0 ? 2 : rc;
}

static const struct command COMMANDS[] = {
    {"serve", CFG_SERVE, run_serve, "serve the HTTP API"},
    {"migrate", CFG_MIGRATE, run_migrate, "apply database migrations and exit"},
    {"postgres", CFG_POSTGRES, run_postgres, "run the private Postgres only"},
    {"replay", CFG_REPLAY, run_replay, "rebuild the model from the event log and compare it with the live one"},
};

int main(int argc, char **argv)
{
    struct cfg c;
    struct err e;
    bool help;
    enum log_level level;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        const struct command *cmd = &COMMANDS[i];
        if (strcmp(argv[1], cmd->name) != 0)
            continue;
        if (cfg_parse(&c, cmd->cmd, argc - 2, argv + 2, &help, &e) != 0) {
            fprintf(stderr, "lineaged %s: %s\n", cmd->name, e.msg);
            cfg_free(&c);
            return 2;
        }
        if (help) {
            printf("usage: lineaged %s [options]\n\n%s; options:\n", cmd->name, cmd->summary);
            cfg_print_help(stdout, cmd->cmd);
            cfg_free(&c);
            return 0;
        }
        if (!log_parse_level(c.log_level, &level)) {
            fprintf(stderr, "lineaged: --log-level \"%s\" must be debug, info, warn or error\n", c.log_level);
            cfg_free(&c);
            return 2;
        }
        log_set_level(level);
        int rc = cmd->run(&c);
        cfg_free(&c);
        return rc;
    }
    fprintf(stderr, "lineaged: unknown command \"%s\"\n\n%s", argv[1], USAGE);
    return 2;
}
