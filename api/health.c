/* api/health.c - /healthcheck, /healthz and /readyz (see health.h).
 *
 * Invariants:
 *  1. /healthz and /readyz never return -1: whatever fails becomes part of their answer.
 *  2. /readyz runs at most two cheap statements (SELECT 1, a count of schema_migrations) and reads
 *     the rest from the metrics registry, so probes cost nothing worth measuring.
 *  3. Reasons name the check and say what is wrong; database details (libpq text) stay out of the
 *     body, as they stay out of error bodies.
 * Threads: no shared state besides r->metrics (atomics). */
#include "health.h"

#include <string.h>

#include "cfg.h"
#include "json.h"
#include "metrics.h"
#include "store.h"
#include "store_ops.h"

int health_get(struct req *r, struct reply *out, struct err *e)
{
    static const char body[] = "{\"healthy\":true,\"database\":\"ok\"}";

    if (store_ping(r->store, e) != 0)
        return -1;
    http_reply_json(out, 200, body, strlen(body));
    return 0;
}

int health_live(struct req *r, struct reply *out, struct err *e)
{
    static const char body[] = "{\"alive\":true}";

    (void)r;
    (void)e;
    http_reply_json(out, 200, body, strlen(body));
    return 0;
}

enum { HEALTH_MAX_REASONS = 4 };

struct readiness {
    bool db_ok;
    char db_error[ERR_MSG_MAX];
    bool migrations_known;
    int applied, expected;
    bool graph_ok;
    long long lag; /* -1: unknown */
    long long max_lag;
    const char *reasons[HEALTH_MAX_REASONS];
    size_t n_reasons;
};

static void check_database(struct req *r, struct readiness *st)
{
    struct err e;

    err_clear(&e);
    if (r->store == NULL)
        snprintf(st->db_error, sizeof st->db_error, "cannot connect to the database");
    else if (store_ping(r->store, &e) != 0)
        snprintf(st->db_error, sizeof st->db_error, "%s", e.msg);
    else if (store_ops_migrations(r->store, &st->applied, &st->expected, &e) != 0)
        snprintf(st->db_error, sizeof st->db_error, "%s", e.msg);
    else
        st->db_ok = st->migrations_known = true;
    if (!st->db_ok)
        st->reasons[st->n_reasons++] = arena_printf(r->arena, "database: %s", st->db_error);
    else if (st->applied < st->expected)
        st->reasons[st->n_reasons++] =
            arena_printf(r->arena, "migrations: %d of %d applied", st->applied, st->expected);
}

static void check_graph(struct req *r, struct readiness *st)
{
    st->graph_ok = r->graph != NULL && r->metrics != NULL && metrics_graph_loaded(r->metrics);
    if (!st->graph_ok)
        st->reasons[st->n_reasons++] = "graph: the lineage graph is not loaded yet";
    st->lag = r->metrics != NULL ? metrics_follower_lag(r->metrics) : -1;
    st->max_lag = r->cfg != NULL ? r->cfg->ready_max_lag : 0;
    if (st->lag > st->max_lag)
        st->reasons[st->n_reasons++] = arena_printf(
            r->arena, "followerLag: %lld events behind the log (max %lld)", st->lag, st->max_lag);
}

static void gen_check(yajl_gen g, const char *name, bool ok)
{
    json_gen_key(g, name);
    yajl_gen_map_open(g);
    json_gen_key(g, "ok");
    yajl_gen_bool(g, ok);
}

static void gen_checks(yajl_gen g, const struct readiness *st)
{
    json_gen_key(g, "checks");
    yajl_gen_map_open(g);
    gen_check(g, "database", st->db_ok);
    if (!st->db_ok) {
        json_gen_key(g, "error");
        json_gen_str(g, st->db_error);
    }
    yajl_gen_map_close(g);
    gen_check(g, "migrations", st->migrations_known && st->applied >= st->expected);
    json_gen_key(g, "applied");
    if (st->migrations_known)
        json_gen_int(g, st->applied);
    else
        yajl_gen_null(g);
    json_gen_key(g, "expected");
    json_gen_int(g, st->expected);
    yajl_gen_map_close(g);
    gen_check(g, "graph", st->graph_ok);
    yajl_gen_map_close(g);
    gen_check(g, "followerLag", st->lag <= st->max_lag);
    json_gen_key(g, "lag");
    if (st->lag >= 0)
        json_gen_int(g, st->lag);
    else
        yajl_gen_null(g);
    json_gen_key(g, "max");
    json_gen_int(g, st->max_lag);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
}

int health_ready(struct req *r, struct reply *out, struct err *e)
{
    struct readiness st = {.lag = -1};
    yajl_gen g = json_gen_new();
    size_t len;

    (void)e;
    check_database(r, &st);
    check_graph(r, &st);
    yajl_gen_map_open(g);
    json_gen_key(g, "ready");
    yajl_gen_bool(g, st.n_reasons == 0);
    gen_checks(g, &st);
    json_gen_key(g, "reasons");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < st.n_reasons; i++)
        json_gen_str(g, st.reasons[i]);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    const char *body = json_gen_finish(g, r->arena, &len);
    http_reply_json(out, st.n_reasons == 0 ? 200 : 503, body, len);
    return 0;
}
