/* server/publish_model.c - `lineaged publish-model FILE [--dry-run] [--url] [--api-key]`.
 *
 * Steps: read FILE (at most --max-file-bytes) -> ml_model_parse (nothing is sent if it fails) -> the
 * code location from CI variables -> ask the server (GET) whether this version's run exists, whether
 * it is the model's current version, and which source tables it knows -> ml_model_event -> print
 * it (--dry-run) or POST it to /api/v1/lineage.
 *
 * Why the event time is looked up and reused: the run id is derived from the file's normalised hash,
 * so the same file is always the same run; publishing it again must send the very same event (the
 * server then stores nothing new). An event time derived from the content would be an arbitrary
 * point in time, and the server orders facets and run states by event time: a changed file could
 * land "before" its predecessor and lose to its stale facets. So the first publication uses the
 * current time, and later ones reuse that run's endedAt from GET /api/v1/jobs/runs/{runId}
 * (microseconds, as sent) as long as this version is still the model's current one (its `version`
 * facet, GET .../datasets/{model}). A file reverted to an earlier published version gets the current
 * time instead: the same run again, with a later event, so its facets become the model's current
 * ones again (reusing the old time would leave the newer version current). Two first publications
 * racing each other send two events for one run with the same content; the later time wins.
 * Invariants:
 *  1. The API key is never printed (not in errors, not with --dry-run: it is not part of the event).
 *  2. Warnings (unknown source tables, an unreachable server with --dry-run) go to stderr and do not
 *     change the exit code; stdout carries only the event (--dry-run) or one summary line.
 * Ownership: one arena for the run, freed before returning. Threads: main thread only. */
#include "publish_model.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http_client.h"
#include "json.h"
#include "ml_model.h"
#include "timefmt.h"

enum { PUBLISH_SHOWN_BODY = 300, PUBLISH_JSON_DEPTH = 64 };

static const char PREFIX[] = "lineaged publish-model";

/* Reads the whole regular file into the arena, refusing more than max bytes. Returns NULL with e set. */
static char *read_file(struct arena *a, const char *path, long max, size_t *len_out, struct err *e)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;

    if (f == NULL) {
        err_set(e, ERR_BAD_INPUT, path, "cannot open \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        err_set(e, ERR_BAD_INPUT, path, "\"%s\" is not a regular file", path);
    } else if (st.st_size > max) {
        err_set(e, ERR_TOO_LARGE, path, "\"%s\" is larger than --max-file-bytes (%ld)", path, max);
    } else {
        size_t cap = (size_t)st.st_size + 1; /* one more: a file that grew since fstat is noticed */
        buf = arena_alloc(a, cap + 1);
        *len_out = fread(buf, 1, cap, f);
        if (ferror(f) || *len_out == cap) {
            err_set(e, ERR_BAD_INPUT, path, "cannot read \"%s\" (read error, or it changed while read)",
                    path);
            buf = NULL;
        } else {
            buf[*len_out] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static const char *env_get(const char *name)
{
    return getenv(name);
}

/* The reply body for a message: at most PUBLISH_SHOWN_BODY bytes, control characters as spaces. */
static const char *shown_body(struct arena *a, const struct http_client_reply *r)
{
    size_t n = r->len < PUBLISH_SHOWN_BODY ? r->len : PUBLISH_SHOWN_BODY;
    char *s = arena_strndup(a, r->body, n);

    for (char *p = s; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    return s;
}

/* What the server knows of this model version. */
struct published {
    bool run_ended; /* this version's run exists and has ended ... */
    int64_t ended;  /* ... at this time */
    bool current;   /* the model's current version facet is this version */
};

/* GET path: 0 with the parsed JSON in *v (NULL for 404, or a body too large to keep), or -1 with e
 * set when the server cannot be asked or answers anything else. */
static int get_json(struct http_client *hc, struct arena *a, const char *path, struct json_value **v,
                    struct err *e)
{
    struct http_client_reply r;
    struct err pe;

    *v = NULL;
    if (http_client_request(hc, a, path, NULL, 0, &r, e) != 0)
        return -1;
    if (r.status == 404)
        return 0;
    if (r.status != 200)
        return err_set(e, ERR_UNAVAILABLE, "", "GET %s answered %d: %s", path, r.status, shown_body(a, &r));
    if (!r.truncated)
        *v = json_parse(a, r.body, r.len, PUBLISH_JSON_DEPTH, &pe);
    return 0;
}

/* Asks the server for this version's run (GET /api/v1/jobs/runs/{id}) and the model's current
 * version (GET .../datasets/{model}). Returns 0, or -1 with e set. */
static int ask_server(struct http_client *hc, struct arena *a, const struct ml_model *m,
                      struct published *out, struct err *e)
{
    char run_id[37];
    struct json_value *run, *model;
    struct err pe;

    memset(out, 0, sizeof *out);
    ml_model_run_id(m, run_id);
    if (get_json(hc, a, arena_printf(a, "/api/v1/jobs/runs/%s", run_id), &run, e) != 0 ||
        get_json(hc, a,
                 arena_printf(a, "/api/v1/namespaces/%s/datasets/%s", http_client_escape(a, m->ns),
                              http_client_escape(a, m->name)),
                 &model, e) != 0)
        return -1;
    const char *ended = run != NULL ? json_get_string(run, "endedAt") : NULL;
    out->run_ended = ended != NULL && time_parse_iso8601(ended, &out->ended, &pe) == 0;
    const struct json_value *facets = model != NULL ? json_get(model, "facets") : NULL;
    const char *current = json_get_string(json_get(facets, "version"), "datasetVersion");
    out->current = current != NULL && strcmp(current, m->version) == 0;
    return 0;
}

/* The event time (see the top of the file): the run's own time again when this version was published
 * and is still the model's current one, so the event is the very same; now otherwise (a new version,
 * or an earlier one made current again). Returns 0, 1 when the server could not be asked and dry_run
 * allows going on (a warning is printed), or -1 with e set. */
static int event_time(struct http_client *hc, struct arena *a, const struct ml_model *m, bool dry_run,
                      char out[TIME_ISO_MAX], struct published *p, struct err *e)
{
    if (ask_server(hc, a, m, p, e) != 0) {
        if (!dry_run)
            return -1;
        fprintf(stderr, "%s: warning: %s; the event time is now and source tables are not checked\n", PREFIX,
                e->msg);
        memset(p, 0, sizeof *p);
        time_format_iso8601(time_now_usec(), out);
        return 1;
    }
    time_format_iso8601(p->run_ended && p->current ? p->ended : time_now_usec(), out);
    return 0;
}

/* Warns about each input table the server does not know (404 on GET .../datasets/{name}). */
static void check_tables(struct http_client *hc, struct arena *a, const struct ml_model *m)
{
    for (size_t i = 0; i < m->n_tables; i++) {
        const struct ml_table *t = &m->tables[i];
        const char *path = arena_printf(a, "/api/v1/namespaces/%s/datasets/%s", http_client_escape(a, t->ns),
                                        http_client_escape(a, t->name));
        struct http_client_reply r;
        struct err e;
        if (http_client_request(hc, a, path, NULL, 0, &r, &e) != 0)
            fprintf(stderr, "%s: warning: cannot check source table \"%s\": %s\n", PREFIX, t->fqn, e.msg);
        else if (r.status == 404)
            fprintf(
                stderr,
                "%s: warning: source table \"%s\" (line %d) is unknown to the server: no dataset \"%s\" in "
                "namespace \"%s\"; its lineage will start at this model\n",
                PREFIX, t->fqn, t->line, t->name, t->ns);
        else if (r.status != 200)
            fprintf(stderr, "%s: warning: cannot check source table \"%s\": the server answered %d\n", PREFIX,
                    t->fqn, r.status);
    }
}

static int post_event(struct http_client *hc, struct arena *a, const char *json, size_t len, struct err *e)
{
    struct http_client_reply r;

    if (http_client_request(hc, a, "/api/v1/lineage", json, len, &r, e) != 0)
        return -1;
    if (r.status != 200 && r.status != 201)
        return err_set(e, r.status == 401 ? ERR_UNAUTHORIZED : ERR_INVALID, "",
                       "the server refused the event (%d): %s", r.status, shown_body(a, &r));
    return 0;
}

/* Everything after the file parsed: look-ups, the event, and printing or sending it. */
static int publish(const struct cfg *c, struct arena *a, struct http_client *hc, const struct ml_model *m)
{
    struct ml_code_location loc;
    char when[TIME_ISO_MAX], run_id[37];
    struct published p;
    struct err e;
    size_t len;

    int looked = event_time(hc, a, m, c->dry_run, when, &p, &e);
    if (looked < 0) {
        fprintf(stderr, "%s: nothing sent: %s\n", PREFIX, e.msg);
        return 1;
    }
    if (looked == 0)
        check_tables(hc, a, m);
    ml_code_location_from_env(a, env_get, c->model_file, &loc);
    const char *json = ml_model_event(a, m, when, &loc, &len);
    if (c->dry_run) {
        fwrite(json, 1, len, stdout);
        fputc('\n', stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (post_event(hc, a, json, len, &e) != 0) {
        fprintf(stderr, "%s: %s\n", PREFIX, e.msg);
        return 1;
    }
    ml_model_run_id(m, run_id);
    printf("published model \"%s\" version %s (run %s%s) to %s\n", m->name, m->version, run_id,
           !p.run_ended ? ""
           : p.current  ? ", already published: unchanged"
                        : ", published before: current again",
           c->url);
    return 0;
}

int publish_model_run(const struct cfg *c)
{
    struct arena *a = arena_new();
    struct ml_model m;
    struct err e;
    size_t len = 0;
    int rc = 1;

    signal(SIGPIPE, SIG_IGN); /* a server closing the connection is an error reply, not a kill */
    const char *text = read_file(a, c->model_file, c->max_file_bytes, &len, &e);
    if (text == NULL) {
        fprintf(stderr, "%s: %s\n", PREFIX, e.msg);
    } else if (ml_model_parse(a, text, len, &m, &e) != 0) {
        fprintf(stderr, "%s: %s: %s\n", PREFIX, c->model_file, e.msg);
    } else {
        struct http_client *hc = http_client_new(c->url, c->timeout_s, c->api_key, &e);
        if (hc == NULL) {
            fprintf(stderr, "%s: --%s: %s\n", PREFIX, e.where, e.msg);
            rc = 2;
        } else {
            rc = publish(c, a, hc, &m);
            http_client_free(hc);
        }
    }
    arena_free(a);
    return rc;
}
