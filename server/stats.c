/* server/stats.c - `lineaged stats`: what a running lineaged is doing, every --interval seconds.
 *
 * Each snapshot reads GET /metrics (this collector's counters: ingest by producer and type, request
 * latency and status, graph size, stream subscribers, follower lag) and the /api/v1 routes (silent
 * jobs; each job's latest run by state; the jobs whose latest run failed). Rates are the difference
 * between two snapshots; the first shows totals only. No server-side aggregation was added.
 * Invariants:
 *  1. On a terminal each snapshot redraws the screen (cursor home, clear), with colour unless NO_COLOR
 *     is set; otherwise snapshots are plain text one after the other, without a single escape.
 *  2. Text from the server (producers, job names) is printed cleaned of control characters
 *     (tail_clean), so a producer cannot drive the terminal.
 *  3. Exit: 0 after --count snapshots or SIGINT/SIGTERM; 1 when the server refuses (401, 403) or the
 *     last snapshot could not be taken.
 * Ownership: one arena per snapshot; the previous one is kept for the rates. Threads: one. */
#include "stats.h"

#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "json.h"
#include "json_text.h"
#include "stats_prom.h"
#include "tail_line.h"
#include "timefmt.h"

enum { STATS_MAX_ROWS = 10, STATS_MAX_LIST = 5, STATS_FAILED_PAGE = 20 };

static const char *const RUN_STATES[] = {"NEW", "RUNNING", "COMPLETED", "FAILED", "ABORTED", "OTHER"};
enum { N_STATES = sizeof RUN_STATES / sizeof RUN_STATES[0] };

static volatile sig_atomic_t stats_stop;

/* One snapshot: /metrics and the API answers, in its own arena. */
struct snap {
    struct arena *a;
    double at; /* monotonic seconds */
    struct prom_sample *s;
    size_t n;
    const char *error;         /* why the snapshot is incomplete, or NULL */
    long runs[N_STATES];       /* jobs whose latest run is in each state; -1: unknown */
    struct json_value *failed; /* jobs whose latest run failed (array), or NULL */
    struct json_value *silent; /* the silent-jobs answer, or NULL */
    int refused;               /* 401/403 from the server, else 0 */
};

struct view {
    struct json_text t;
    struct arena *a;
    bool colour;
};

/* ---- reading ----------------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GET path as JSON into *out (NULL when it failed; sn->error / refused say why). */
static struct json_value *get_json(struct http_client *c, struct snap *sn, const char *path)
{
    struct http_client_reply r;
    struct err e;

    if (http_client_request(c, sn->a, path, NULL, 0, &r, &e) != 0) {
        sn->error = arena_strdup(sn->a, e.msg);
        return NULL;
    }
    if (r.status == 401 || r.status == 403)
        sn->refused = r.status;
    if (r.status != 200) {
        sn->error = arena_printf(sn->a, "%s answered HTTP %d", path, r.status);
        return NULL;
    }
    struct json_value *v = json_parse(sn->a, r.body, r.len, JSON_MAX_DEPTH, &e);
    if (v == NULL)
        sn->error = arena_printf(sn->a, "%s: %s", path, e.msg);
    return v;
}

static long total_count(const struct json_value *v)
{
    const struct json_value *n = json_get(v, "totalCount");

    return n != NULL && n->type == JSON_NUMBER ? strtol(n->u.str.text, NULL, 10) : -1;
}

/* Jobs by their latest run's state. The jobs route counts, for lastRunStates=S, the jobs whose latest
 * run is in S plus the jobs that never ran (Marquez's rule); with every state asked one at a time and
 * the total, the never-run jobs come out as (sum - total) / (states - 1). */
static void read_runs(struct http_client *c, struct snap *sn)
{
    long with[N_STATES], sum = 0;
    struct json_value *all = get_json(c, sn, "/api/v1/jobs?limit=1");

    for (size_t i = 0; i < N_STATES; i++) {
        const char *path = arena_printf(sn->a, "/api/v1/jobs?limit=%d&lastRunStates=%s",
                                        i == 3 ? STATS_FAILED_PAGE : 1, RUN_STATES[i]);
        struct json_value *v = get_json(c, sn, path);
        with[i] = total_count(v);
        sum += with[i];
        if (i == 3 && v != NULL)
            sn->failed = (struct json_value *)json_get(v, "jobs");
    }
    long total = total_count(all), never = (sum - total) / (N_STATES - 1);
    for (size_t i = 0; i < N_STATES; i++)
        sn->runs[i] = total < 0 || with[i] < 0 ? -1 : with[i] - never;
}

/* Takes one snapshot; sn->error is set when part of it is missing. */
static void snapshot(struct http_client *c, struct snap *sn)
{
    struct http_client_reply r;
    struct err e;

    sn->at = now_s();
    for (size_t i = 0; i < N_STATES; i++)
        sn->runs[i] = -1;
    if (http_client_request(c, sn->a, "/metrics", NULL, 0, &r, &e) != 0) {
        sn->error = arena_strdup(sn->a, e.msg);
        return;
    }
    if (r.status != 200) {
        sn->refused = r.status == 401 || r.status == 403 ? r.status : 0;
        sn->error = arena_printf(sn->a, "/metrics answered HTTP %d", r.status);
        return;
    }
    if (prom_parse(sn->a, (char *)r.body, &sn->s, &sn->n, &e) != 0) {
        sn->error = arena_strdup(sn->a, e.msg);
        return;
    }
    sn->silent = get_json(c, sn, "/api/v1/alerts/silent-jobs?limit=5");
    read_runs(c, sn);
}

/* ---- metrics arithmetic ------------------------------------------------------------------------ */

typedef bool sample_pred(struct arena *a, const struct prom_sample *s, const void *arg);

/* The sum of the samples called name that pass pred (NULL: all). */
static double sum(const struct snap *sn, const char *name, sample_pred *pred, const void *arg)
{
    double v = 0;

    for (size_t i = 0; sn != NULL && i < sn->n; i++)
        if (strcmp(sn->s[i].name, name) == 0 && (pred == NULL || pred(sn->a, &sn->s[i], arg)))
            v += sn->s[i].value;
    return v;
}

static bool label_is(struct arena *a, const struct prom_sample *s, const char *key, const char *want)
{
    const char *v = prom_label(a, s->labels, key);
    return v != NULL && strcmp(v, want) == 0;
}

/* ingest routes, POST */
static bool is_ingest(struct arena *a, const struct prom_sample *s, const void *le)
{
    const char *route = prom_label(a, s->labels, "route");

    return label_is(a, s, "method", "POST") && route != NULL &&
           (strcmp(route, "/api/v1/lineage") == 0 || strcmp(route, "/api/v1/lineage/batch") == 0) &&
           (le == NULL || label_is(a, s, "le", le));
}

static bool status_class(struct arena *a, const struct prom_sample *s, const void *first_digit)
{
    const char *st = prom_label(a, s->labels, "status");
    return st != NULL && st[0] == *(const char *)first_digit;
}

static bool outcome_is(struct arena *a, const struct prom_sample *s, const void *outcome)
{
    return label_is(a, s, "outcome", outcome);
}

/* now - before of one total, per minute; NAN without a previous snapshot. */
static double per_min(double now, double before, const struct snap *cur, const struct snap *prev)
{
    if (prev == NULL || prev->s == NULL || cur->at <= prev->at)
        return NAN;
    return (now - before) * 60.0 / (cur->at - prev->at);
}

static double gauge(const struct snap *sn, const char *name)
{
    for (size_t i = 0; i < sn->n; i++)
        if (strcmp(sn->s[i].name, name) == 0)
            return sn->s[i].value;
    return NAN;
}

/* Quantile q of ingest latency (seconds) from the histogram's buckets, since the previous snapshot
 * (or since start): linear inside the bucket that holds rank q; NAN without requests. */
static double ingest_quantile(const struct snap *cur, const struct snap *prev, double q)
{
    /* the le labels GET /metrics writes (common/metrics.c BUCKETS_USEC, printed with %g) */
    static const char *const BOUNDS[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                         "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"};
    const char *name = "lineaged_http_request_duration_seconds_bucket";
    double all = sum(cur, name, is_ingest, "+Inf") - sum(prev, name, is_ingest, "+Inf"), below = 0, lo = 0;

    if (all <= 0)
        return NAN;
    for (size_t i = 0; i < sizeof BOUNDS / sizeof BOUNDS[0]; i++) {
        double cum = sum(cur, name, is_ingest, BOUNDS[i]) - sum(prev, name, is_ingest, BOUNDS[i]);
        double hi = strcmp(BOUNDS[i], "+Inf") == 0 ? INFINITY : strtod(BOUNDS[i], NULL);
        if (cum >= q * all) {
            if (isinf(hi))
                return lo;
            return cum > below ? lo + (hi - lo) * (q * all - below) / (cum - below) : hi;
        }
        below = cum;
        lo = hi;
    }
    return NAN;
}

/* ---- the view ---------------------------------------------------------------------------------- */

static void out(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out(struct view *v, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    json_text_lit(&v->t, line);
}

static void heading(struct view *v, const char *title)
{
    out(v, "\n%s%s%s\n", v->colour ? "\033[1m" : "", title, v->colour ? "\033[0m" : "");
}

/* A number, or "-" when unknown (NAN), in a field of `width`. */
static const char *num(struct view *v, double x, int width, int decimals)
{
    return isnan(x) ? arena_printf(v->a, "%*s", width, "-") : arena_printf(v->a, "%*.*f", width, decimals, x);
}

/* Events per minute by producer and type, busiest first (this collector's ingest: stored or duplicate). */
/* s in at most width bytes: a longer one keeps its end after "..." (a producer URI ends in what tells
 * producers apart: the tool and its version), cut at a UTF-8 character boundary. */
static const char *fit_keep_end(struct arena *a, const char *s, size_t width)
{
    size_t n = strlen(s);
    const char *p;

    if (n <= width)
        return s;
    p = s + n - (width - 3);
    while ((*p & 0xC0) == 0x80)
        p++;
    return arena_printf(a, "...%s", p);
}

static void view_ingest(struct view *v, const struct snap *cur, const struct snap *prev)
{
    struct row {
        const char *producer, *type;
        double total, before;
    } rows[64];
    size_t n = 0;

    for (size_t i = 0; i < cur->n; i++) {
        const struct prom_sample *s = &cur->s[i];
        if (strcmp(s->name, "lineaged_ingest_events_total") != 0 ||
            (!outcome_is(v->a, s, "stored") && !outcome_is(v->a, s, "duplicate")))
            continue;
        const char *p = prom_label(v->a, s->labels, "producer"), *t = prom_label(v->a, s->labels, "type");
        size_t k = 0;
        while (k < n && (strcmp(rows[k].producer, p) != 0 || strcmp(rows[k].type, t) != 0))
            k++;
        if (k == n && n == sizeof rows / sizeof rows[0])
            continue;
        if (k == n)
            rows[n++] = (struct row){p, t, 0, 0};
        rows[k].total += s->value;
    }
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; prev != NULL && i < prev->n; i++) {
            const struct prom_sample *s = &prev->s[i];
            if (strcmp(s->name, "lineaged_ingest_events_total") == 0 &&
                (outcome_is(v->a, s, "stored") || outcome_is(v->a, s, "duplicate")) &&
                label_is(v->a, s, "producer", rows[k].producer) && label_is(v->a, s, "type", rows[k].type))
                rows[k].before += s->value;
        }
    }
    for (size_t i = 1; i < n; i++) /* busiest first: by rate, else by total */
        for (size_t k = i; k > 0 && rows[k].total - rows[k].before > rows[k - 1].total - rows[k - 1].before;
             k--) {
            struct row tmp = rows[k];
            rows[k] = rows[k - 1];
            rows[k - 1] = tmp;
        }
    heading(v, "Events per minute (ingested here)");
    out(v, "  %-56s %-9s %9s %9s\n", "PRODUCER", "TYPE", "/MIN", "TOTAL");
    for (size_t k = 0; k < n && k < STATS_MAX_ROWS; k++)
        out(v, "  %-56s %-9s %s %9.0f\n", fit_keep_end(v->a, tail_clean(v->a, rows[k].producer), 56), rows[k].type,
            num(v, per_min(rows[k].total, rows[k].before, cur, prev), 9, 1), rows[k].total);
    if (n == 0)
        out(v, "  (no events yet)\n");
}

static void view_latency_errors(struct view *v, const struct snap *cur, const struct snap *prev)
{
    const char *count = "lineaged_http_request_duration_seconds_count", *ev = "lineaged_ingest_events_total";
    double p50 = ingest_quantile(cur, prev, 0.5), p99 = ingest_quantile(cur, prev, 0.99);
    bool since_start = isnan(p50) && prev != NULL; /* no ingest since the last snapshot: show the whole run */

    if (since_start) {
        p50 = ingest_quantile(cur, NULL, 0.5);
        p99 = ingest_quantile(cur, NULL, 0.99);
    }
    double e5 = per_min(sum(cur, count, status_class, "5"), sum(prev, count, status_class, "5"), cur, prev);
    double e4 = per_min(sum(cur, count, status_class, "4"), sum(prev, count, status_class, "4"), cur, prev);
    double inv =
        per_min(sum(cur, ev, outcome_is, "invalid"), sum(prev, ev, outcome_is, "invalid"), cur, prev);
    double fail = per_min(sum(cur, ev, outcome_is, "failed"), sum(prev, ev, outcome_is, "failed"), cur, prev);

    heading(v, "Ingest latency (POST /api/v1/lineage and /batch)");
    out(v, "  p50 %s ms   p99 %s ms%s\n", num(v, p50 * 1000, 1, 1), num(v, p99 * 1000, 1, 1),
        since_start || prev == NULL ? "   (since the server started)" : "");
    heading(v, "Errors per minute");
    out(v, "  %sHTTP 5xx %s%s   HTTP 4xx %s   invalid events %s   failed events %s%s%s\n",
        v->colour && (e5 > 0 || fail > 0) ? "\033[31m" : "", num(v, e5, 1, 1), v->colour ? "\033[0m" : "",
        num(v, e4, 1, 1), num(v, inv, 1, 1), v->colour && fail > 0 ? "\033[31m" : "", num(v, fail, 1, 1),
        v->colour ? "\033[0m" : "");
}

/* "namespace:name" of a job object, cleaned. */
static const char *job_name(struct view *v, const struct json_value *j)
{
    const char *ns = json_get_string(j, "namespace"), *name = json_get_string(j, "name");
    return tail_clean(v->a, arena_printf(v->a, "%s:%s", ns ? ns : "?", name ? name : "?"));
}

static void view_runs(struct view *v, const struct snap *cur)
{
    heading(v, "Runs by state (each job's latest run)");
    json_text_lit(&v->t, " ");
    for (size_t i = 0; i < N_STATES; i++)
        out(v, " %s %s", RUN_STATES[i], cur->runs[i] < 0 ? "-" : arena_printf(v->a, "%ld", cur->runs[i]));
    out(v, "\n");
    heading(v, arena_printf(v->a, "Failed runs: %s",
                            cur->runs[3] < 0 ? "-" : arena_printf(v->a, "%ld", cur->runs[3])));
    size_t shown = 0;
    for (size_t i = 0; cur->failed != NULL && cur->failed->type == JSON_ARRAY && i < cur->failed->u.array.n &&
                       shown < STATS_MAX_LIST;
         i++) {
        const struct json_value *j = cur->failed->u.array.items[i], *run = json_get(j, "latestRun");
        const char *state = json_get_string(run, "state"), *ended = json_get_string(run, "endedAt");
        if (state == NULL || strcmp(state, "FAILED") != 0)
            continue;
        out(v, "  %s%s%s  failed at %s\n", v->colour ? "\033[31m" : "", job_name(v, j),
            v->colour ? "\033[0m" : "", ended != NULL ? tail_clean(v->a, ended) : "-");
        shown++;
    }
}

static void view_silent(struct view *v, const struct snap *cur)
{
    const struct json_value *list = json_get(cur->silent, "silentJobs");
    long total = total_count(cur->silent);

    heading(v, arena_printf(v->a, "Silent jobs: %s", total < 0 ? "-" : arena_printf(v->a, "%ld", total)));
    for (size_t i = 0; list != NULL && list->type == JSON_ARRAY && i < list->u.array.n; i++) {
        const struct json_value *late = json_get(list->u.array.items[i], "lateSeconds");
        double s = late != NULL && late->type == JSON_NUMBER ? strtod(late->u.str.text, NULL) : NAN;
        out(v, "  %s  late %s h\n", job_name(v, list->u.array.items[i]), num(v, s / 3600.0, 1, 1));
    }
}

static void view_graph(struct view *v, const struct snap *cur)
{
    heading(v, "Graph and server");
    out(v, "  nodes %s   edges %s   stream subscribers %s   follower lag %s events   connections %s\n",
        num(v, gauge(cur, "lineaged_graph_nodes"), 1, 0), num(v, gauge(cur, "lineaged_graph_edges"), 1, 0),
        num(v, gauge(cur, "lineaged_stream_subscribers"), 1, 0),
        num(v, gauge(cur, "lineaged_follower_lag_events"), 1, 0),
        num(v, gauge(cur, "lineaged_http_connections_open"), 1, 0));
}

/* The whole screen (or snapshot) for cur, with rates against prev (may be NULL). */
static const char *render(struct arena *a, const struct cfg *c, const struct snap *cur,
                          const struct snap *prev, bool tty, bool colour)
{
    struct view v = {.a = a, .colour = colour};
    char when[TIME_ISO_MAX];

    json_text_init(&v.t, a, 4096);
    if (tty)
        json_text_lit(&v.t, "\033[H\033[2J");
    time_format_iso8601(time_now_usec(), when);
    when[19] = '\0';
    when[10] = ' ';
    out(&v, "%slineaged stats%s  %s  %s UTC  (every %d s)\n", colour ? "\033[1m" : "",
        colour ? "\033[0m" : "", tail_clean(a, c->url), when, c->interval_s);
    if (cur->s == NULL) {
        out(&v, "\n  cannot read the server: %s\n", cur->error != NULL ? tail_clean(a, cur->error) : "?");
        return v.t.p;
    }
    view_ingest(&v, cur, prev);
    view_latency_errors(&v, cur, prev);
    view_runs(&v, cur);
    view_silent(&v, cur);
    view_graph(&v, cur);
    if (cur->error != NULL)
        out(&v, "\n  (incomplete: %s)\n", tail_clean(a, cur->error));
    return v.t.p;
}

/* ---- the loop ---------------------------------------------------------------------------------- */

static void on_stop(int sig)
{
    (void)sig;
    stats_stop = 1;
}

/* Sleeps `seconds` unless a stop signal comes first. */
static void pause_for(int seconds)
{
    struct timespec ts = {.tv_sec = seconds};

    while (!stats_stop && nanosleep(&ts, &ts) != 0)
        ;
}

int stats_run(const struct cfg *c)
{
    struct err e;
    struct http_client *http = http_client_new(c->url, c->timeout_s, c->api_key, &e);
    struct sigaction sa = {.sa_handler = on_stop};
    const char *no_colour = getenv("NO_COLOR");
    bool tty = isatty(STDOUT_FILENO), colour = tty && (no_colour == NULL || no_colour[0] == '\0');
    struct snap snaps[2] = {{0}}, *prev = NULL;
    int rc = 0;

    if (http == NULL) {
        fprintf(stderr, "lineaged stats: %s\n", e.msg);
        return 1;
    }
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (int i = 0; !stats_stop && (c->count == 0 || i < c->count); i++) {
        struct snap *cur = &snaps[i % 2];
        arena_free(cur->a);
        *cur = (struct snap){.a = arena_new()};
        snapshot(http, cur);
        fputs(render(cur->a, c, cur, prev, tty, colour), stdout);
        fputs(tty ? "" : "\n", stdout);
        fflush(stdout);
        rc = cur->s == NULL ? 1 : 0;
        if (cur->refused) {
            fprintf(stderr, "lineaged stats: the server refused the request (HTTP %d); give --api-key\n",
                    cur->refused);
            rc = 1;
            break;
        }
        prev = cur->s != NULL ? cur : NULL;
        if (c->count == 0 || i + 1 < c->count)
            pause_for(c->interval_s);
    }
    arena_free(snaps[0].a);
    arena_free(snaps[1].a);
    http_client_free(http);
    return rc;
}
