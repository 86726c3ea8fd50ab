/* server/main.c - the lineaged binary: `serve`, `migrate`, `postgres`, `keys`, `publish-model`, `replay`,
 * `--help`.
 *
 * Start-up of `serve`: options -> database (LINEAGED_DATABASE_URL, or a private Postgres in
 * --data-dir) -> migrations -> auth (keys, JWKS; refuses a non-loopback address without auth unless
 * --insecure) -> metrics registry -> graph load (and namespace times for /metrics) -> event log upkeep
 * (maintain.c), event stream hub, follower (feeding the hub), key refresher, silent-jobs count -> HTTP
 * server until SIGINT/SIGTERM -> stop the private Postgres.
 * Invariants:
 *  1. A private Postgres started here is always stopped before exit, whatever failed.
 *  2. A key given as --api-keys on the command line is overwritten in argv at once (other users can
 *     read /proc/PID/cmdline), and a warning says so; the environment and --api-keys-file are not
 *     visible to them. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "auth_refresh.h"
#include "cfg.h"
#include "database.h"
#include "follower.h"
#include "graph.h"
#include "keys_cli.h"
#include "maintain.h"
#include "metrics.h"
#include "node_table.h"
#include "ops.h"
#include "pgembed.h"
#include "publish_model.h"
#include "replay.h"
#include "routes.h"
#include "server.h"
#include "stats.h"
#include "store.h"
#include "store_ops.h"
#include "stream.h"
#include "sync.h"
#include "tail.h"
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
    "  keys       create, list and revoke API keys (lineaged keys --help)\n"
    "  publish-model FILE   publish an ML model's metadata file to a running lineaged\n"
    "  replay     rebuild the model from the event log in a scratch schema and compare it with the live one\n"
    "             (exit 0: equal, 1: different, 2: could not run)\n"
    "  tail       follow the events a running lineaged stores, one line each (resumes after restarts)\n"
    "  stats      a terminal view of a running lineaged: events per minute, runs, silent jobs, latency\n"
    "\n"
    "Run 'lineaged <command> --help' for the options of a command. Every option also reads an\n"
    "environment variable (LINEAGED_...), shown in the command's help.\n";

struct command {
    const char *name;
    enum cfg_command cmd;
    int (*run)(const struct cfg *c);
    const char *summary;
};

static void seed_namespace(void *ctx, const char *ns, int64_t usec)
{
    metrics_namespace_event(ctx, ns, usec);
}

/* A registry with the route table's labels; NULL if memory runs out. */
static struct metrics *new_metrics(const struct cfg *c)
{
    size_t n = routes_count();
    struct metrics_route *labels = calloc(n, sizeof *labels);
    struct metrics *m = NULL;

    if (labels == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        labels[i] = (struct metrics_route){routes_method_name(routes_get(i)->method), routes_get(i)->pattern};
    m = metrics_new(labels, n, (size_t)c->metrics_producers, (size_t)c->metrics_namespaces);
    free(labels);
    return m;
}

/* The start-up load's rows, into the node table (sync_rows callbacks; ctx is the table). */
static void node_rows_sizes(void *ctx, const struct store_graph_sizes *sz)
{
    node_table_sizes(ctx, sz);
}

static int node_rows_dataset(void *ctx, uint32_t node, const struct store_graph_dataset *d, struct err *e)
{
    return node_table_add_dataset(ctx, node, d, e);
}

static int node_rows_job(void *ctx, uint32_t node, const struct store_graph_job *j, struct err *e)
{
    return node_table_add_job(ctx, node, j, e);
}

static int node_rows_field(void *ctx, uint32_t dataset_node, const struct store_graph_field *f, struct err *e)
{
    return node_table_add_field(ctx, dataset_node, f, e);
}

/* Builds the lineage graph from the database, and the node table *nt_out unless --lineage-node-table
 * is off (then *nt_out is NULL); *xmin_out is where the follower starts. The newest event time of each
 * namespace goes to m (best effort: /metrics shows the others as events come). */
static struct graph *load_graph(const struct cfg *c, const char *conninfo, struct metrics *m, uint64_t *xmin_out,
                                struct node_table **nt_out)
{
    struct err e;
    struct graph *g = graph_new();
    struct node_table *nt = c->lineage_node_table ? node_table_new() : NULL;
    struct store *s = NULL;
    const struct sync_rows rows = {nt, node_rows_sizes, node_rows_dataset, node_rows_job, node_rows_field};
    int64_t started = time_now_usec();

    *nt_out = NULL;
    if (g == NULL || (c->lineage_node_table && nt == NULL))
        err_set(&e, ERR_INTERNAL, NULL, "out of memory");
    else
        s = store_connect(conninfo, &e);
    if (s == NULL || sync_load(g, s, nt != NULL ? &rows : NULL, xmin_out, &e) != 0) {
        log_error("cannot load the lineage graph: %s (%s)", e.msg, e.detail);
        store_free(s);
        node_table_free(nt);
        graph_free(g);
        return NULL;
    }
    if (nt != NULL)
        node_table_finish(nt);
    if (store_ops_namespace_times(s, c->metrics_namespaces, seed_namespace, m, &e) != 0)
        log_warn("namespace event times for /metrics not read: %s (%s)", e.msg, e.detail);
    store_free(s);
    metrics_set_graph_loaded(m, true);
    log_info("lineage graph loaded: %zu nodes, %zu edges, %zu bytes, %lld ms", graph_node_count(g),
             graph_edge_count(g), graph_memory_bytes(g), (long long)((time_now_usec() - started) / 1000));
    if (nt != NULL)
        log_info("lineage node table: %zu datasets and jobs, %zu bytes", node_table_count(nt),
                 node_table_memory_bytes(nt));
    *nt_out = nt;
    return g;
}

/* The auth state with the database's keys loaded; refuses an open non-loopback listener. NULL if it
 * cannot (logged). */
static struct auth *open_auth(const struct cfg *c, const char *conninfo)
{
    struct err e;
    struct auth *a = auth_new(c, &e);
    struct store *s = a ? store_connect(conninfo, &e) : NULL;
    char line[256];

    if (s == NULL || auth_refresh_load(a, s, &e) != 0 || auth_check_listen(a, c->host, c->insecure, &e) != 0) {
        log_error("%s%s%s", e.msg, e.detail[0] ? ": " : "", e.detail);
        store_free(s);
        auth_free(a);
        return NULL;
    }
    store_free(s);
    auth_describe(a, line, sizeof line);
    log_info("%s", line);
    if (!auth_enabled(a) && c->insecure)
        log_warn("--insecure: every route is open to anyone who can reach %s", c->host);
    return a;
}

/* Loads the graph, starts the follower, key refresher and silent-jobs count, serves until a stop signal,
 * tears it all down. */
static int serve(const struct cfg *c, const char *conninfo)
{
    uint64_t xmin = 0;
    struct follower *f = NULL;
    struct auth_refresh *refresh = NULL;
    struct ops_silent_watch *w = NULL;
    struct maintain *upkeep = NULL;
    struct stream_hub *hub = NULL;
    struct metrics *m = new_metrics(c);
    const char *reads = c->read_database_url[0] != '\0' ? c->read_database_url : conninfo;
    struct auth *auth = m != NULL ? open_auth(c, conninfo) : NULL;
    struct node_table *nt = NULL;
    struct graph *g = auth != NULL ? load_graph(c, conninfo, m, &xmin, &nt) : NULL;
    struct err e;
    int rc = 1;

    if (g == NULL) {
        if (m == NULL)
            log_error("out of memory for the metrics registry");
        auth_free(auth);
        metrics_free(m);
        return 1;
    }
    if (c->read_database_url[0] != '\0')
        log_info("Marquez API reads go to --read-database-url; lineage walks and writes to --database-url");
    hub = stream_hub_new(c, m, conninfo, xmin, c->follow_interval_ms > 0);
    struct follower_observer feed = {hub, stream_feed_event, stream_feed_window, stream_feed_abort};
    if (hub == NULL)
        log_error("out of memory for the event stream");
    else if ((upkeep = maintain_start(c, conninfo, &e)) == NULL ||
        (refresh = auth_refresh_start(auth, conninfo, c->keys_refresh_ms, &e)) == NULL ||
        (c->follow_interval_ms > 0 &&
         (f = follower_start(g, conninfo, xmin, c->follow_interval_ms, c->max_json_depth, m, &feed, &e)) == NULL) ||
        (c->silent_jobs_interval_s > 0 &&
         (w = ops_silent_watch_start(reads, c->silent_jobs_interval_s, c->silent_jobs_window, m, &e)) == NULL))
        log_error("%s", e.msg);
    else if (server_run(c, conninfo, g, nt, auth, m, hub, &e) == 0)
        rc = 0;
    else
        log_error("%s", e.msg);
    ops_silent_watch_stop(w);
    follower_stop(f);
    stream_hub_free(hub);
    auth_refresh_stop(refresh);
    maintain_stop(upkeep);
    node_table_free(nt);
    graph_free(g);
    auth_free(auth);
    metrics_free(m);
    return rc;
}

static int run_serve(const struct cfg *c)
{
    struct database db;
    int rc = 1;

    if (database_open(c, PGEMBED_OWN, &db) != 0)
        return 1;
    if (database_migrate(&db) == 0)
        rc = serve(c, db.conninfo);
    database_close(&db);
    return rc;
}

static int run_migrate(const struct cfg *c)
{
    struct database db;

    if (database_open(c, PGEMBED_SHARE, &db) != 0)
        return 1;
    int rc = database_migrate(&db) == 0 ? 0 : 1;
    database_close(&db);
    return rc;
}

static int run_postgres(const struct cfg *c)
{
    struct database db;
    sigset_t set;
    int sig;

    if (database_open(c, PGEMBED_OWN, &db) != 0) /* c->database_url is "": not an option of `postgres` */
        return 1;
    /* Blocked before `ready` is printed: a stop signal sent as soon as the line is read must stop
     * Postgres too, not kill this process and leave Postgres running. (Not earlier: Postgres would
     * inherit the blocked mask.) */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("ready %s\n", db.conninfo);
    fflush(stdout);
    sigwait(&set, &sig);
    database_close(&db);
    return 0;
}

/* Exit codes: 0 equal, 1 different (the report says where), 2 could not run. */
static int run_replay(const struct cfg *c)
{
    struct database db;
    struct err e;

    if (database_open(c, PGEMBED_SHARE, &db) != 0)
        return 2;
    int rc = replay_run(db.conninfo, c->compare_with, c->replay_chunk, c->max_json_depth, stdout, &e);
    if (rc < 0)
        log_error("replay failed: %s (%s)", e.msg, e.detail);
    fflush(stdout);
    database_close(&db);
    return rc < 0 ? 2 : rc;
}

static const struct command COMMANDS[] = {
    {"serve", CFG_SERVE, run_serve, "serve the HTTP API"},
    {"migrate", CFG_MIGRATE, run_migrate, "apply database migrations and exit"},
    {"postgres", CFG_POSTGRES, run_postgres, "run the private Postgres only"},
    {"publish-model", CFG_PUBLISH_MODEL, publish_model_run,
     "publish an ML model's metadata (OpenMetadata MlModel YAML plus a services: map) as an OpenLineage event"},
    {"replay", CFG_REPLAY, run_replay, "rebuild the model from the event log and compare it with the live one"},
    {"tail", CFG_TAIL, tail_run, "follow the events stored by a running lineaged (GET /api/v1/events/stream)"},
    {"stats", CFG_STATS, stats_run, "show a running lineaged's activity, refreshed in place on a terminal"},
};

/* Overwrites the values of --api-keys in argv (invariant 2). */
static void hide_keys_in_argv(int argc, char **argv)
{
    static const char FLAG[] = "--api-keys";
    bool hidden = false;

    for (int i = 0; i < argc; i++) {
        char *value = NULL;
        if (strncmp(argv[i], FLAG, sizeof FLAG - 1) == 0 && argv[i][sizeof FLAG - 1] == '=')
            value = argv[i] + sizeof FLAG;
        else if (strcmp(argv[i], FLAG) == 0 && i + 1 < argc)
            value = argv[++i];
        if (value != NULL && *value != '\0') {
            memset(value, 'x', strlen(value));
            hidden = true;
        }
    }
    if (hidden)
        log_warn("--api-keys on the command line was readable by other users until now: use LINEAGED_API_KEYS or "
                 "--api-keys-file");
}

int main(int argc, char **argv)
{
    struct cfg c;
    struct err e;
    bool help;
    enum log_level level;
    enum log_format format;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "keys") == 0)
        return keys_cli_main(argc - 2, argv + 2);
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
        if (!log_parse_level(c.log_level, &level) || !log_parse_format(c.log_format, &format)) {
            fprintf(stderr, "lineaged: --log-level must be debug, info, warn or error and --log-format plain or "
                            "json (given \"%s\", \"%s\")\n", c.log_level, c.log_format);
            cfg_free(&c);
            return 2;
        }
        log_set_level(level);
        log_set_format(format);
        hide_keys_in_argv(argc, argv);
        int rc = cmd->run(&c);
        cfg_free(&c);
        return rc;
    }
    fprintf(stderr, "lineaged: unknown command \"%s\"\n\n%s", argv[1], USAGE);
    return 2;
}
