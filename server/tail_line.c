/* server/tail_line.c - the event line of `lineaged tail` (tail_line.h).
 *
 * Invariants: see tail_line.h.
 * Threads: no state. */
#include "tail_line.h"

#include <string.h>

#include "json.h"
#include "json_text.h"
#include "timefmt.h"

static const char SGR_DIM[] = "\033[2m", SGR_BOLD[] = "\033[1m", SGR_RESET[] = "\033[0m";

const char *tail_clean(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out = arena_alloc(a, n + 1), *o = out;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            *o++ = '?';
        else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f)
            *o++ = '?', i++; /* U+0080..U+009F, the C1 controls (CSI is U+009B) */
        else
            *o++ = (char)c;
    }
    *o = '\0';
    return out;
}

/* The SGR colour of a run state. */
static const char *state_colour(const char *state)
{
    if (strcmp(state, "COMPLETE") == 0)
        return "\033[32m";
    if (strcmp(state, "FAIL") == 0)
        return "\033[31m";
    if (strcmp(state, "ABORT") == 0)
        return "\033[33m";
    if (strcmp(state, "START") == 0 || strcmp(state, "RUNNING") == 0)
        return "\033[36m";
    return "";
}

static void put(struct json_text *t, const char *s)
{
    json_text_lit(t, s);
}

/* "name1, name2, name3 +2 more", or "-" for none. */
static void put_names(struct json_text *t, struct arena *a, const struct json_value *list)
{
    size_t n = list != NULL && list->type == JSON_ARRAY ? list->u.array.n : 0, shown = 0;

    for (size_t i = 0; i < n && shown < TAIL_MAX_NAMES; i++) {
        const char *name = json_get_string(list->u.array.items[i], "name");
        if (name == NULL)
            continue;
        put(t, shown++ > 0 ? ", " : "");
        put(t, tail_clean(a, name));
    }
    if (n > shown && shown > 0)
        put(t, arena_printf(a, " +%zu more", n - shown));
    if (shown == 0)
        put(t, "-");
}

/* eventTime as "YYYY-MM-DD HH:MM:SS" in UTC, or as given when it does not parse. */
static const char *event_time(struct arena *a, const char *t)
{
    struct err e;
    int64_t usec;
    char iso[TIME_ISO_MAX];

    if (t == NULL)
        return "-";
    if (time_parse_iso8601(t, &usec, &e) != 0)
        return tail_clean(a, t);
    time_format_iso8601(usec, iso);
    iso[10] = ' ';
    iso[19] = '\0';
    return arena_strdup(a, iso);
}

/* "namespace:name" of the object `key` of root (job, or dataset). */
static const char *node_name(struct arena *a, const struct json_value *root, const char *key)
{
    const struct json_value *o = json_get(root, key);
    const char *ns = json_get_string(o, "namespace"), *name = json_get_string(o, "name");

    return arena_printf(a, "%s:%s", tail_clean(a, ns != NULL ? ns : "?"),
                        tail_clean(a, name != NULL ? name : "?"));
}

const char *tail_line(struct arena *a, const char *json, size_t len, bool colour)
{
    struct err e;
    struct json_text t;
    struct json_value *root = json_parse(a, json, len, JSON_MAX_DEPTH, &e);

    if (root == NULL || root->type != JSON_OBJECT)
        return tail_clean(a, arena_strndup(a, json, len));
    bool run = json_get(root, "run") != NULL, job = run || json_get(root, "job") != NULL;
    const char *state = json_get_string(root, "eventType");
    json_text_init(&t, a, 256);
    put(&t, colour ? SGR_DIM : "");
    put(&t, event_time(a, json_get_string(root, "eventTime")));
    put(&t, colour ? SGR_RESET : "");
    put(&t, run ? "  RUN      " : job ? "  JOB      " : "  DATASET  ");
    put(&t, colour ? SGR_BOLD : "");
    put(&t, node_name(a, root, job ? "job" : "dataset"));
    put(&t, colour ? SGR_RESET : "");
    if (job) {
        put(&t, "  ");
        put_names(&t, a, json_get(root, "inputs"));
        put(&t, " -> ");
        put_names(&t, a, json_get(root, "outputs"));
    }
    put(&t, "  ");
    state = state != NULL ? tail_clean(a, state) : "-";
    put(&t, colour ? state_colour(state) : "");
    put(&t, state);
    put(&t, colour ? SGR_RESET : "");
    return t.p;
}
