/* server/stats_prom.c - the Prometheus text reader (stats_prom.h).
 *
 * Invariants: see stats_prom.h.
 * Threads: no state. */
#include "stats_prom.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* Past a quoted label value starting after its opening quote; NULL if it never closes. */
static const char *skip_value(const char *p)
{
    for (; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Checks the label list between braces; returns the closing brace or NULL. */
static char *scan_labels(char *p)
{
    while (*p != '}') {
        const char *start = p;
        while (name_char(*p, p == start))
            p++;
        if (p == start || p[0] != '=' || p[1] != '"')
            return NULL;
        const char *end = skip_value(p + 2);
        if (end == NULL)
            return NULL;
        p = (char *)end;
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
    return p;
}

static double parse_value(const char *s, bool *ok)
{
    char *end = NULL;

    if (strcmp(s, "+Inf") == 0)
        return INFINITY;
    if (strcmp(s, "-Inf") == 0)
        return -INFINITY;
    errno = 0;
    double v = strtod(s, &end);
    *ok = end != s && *end == '\0' && errno == 0;
    return v;
}

/* One sample line into *s (the line is changed in place). false if malformed. */
static bool parse_line(char *line, struct prom_sample *s)
{
    char *p = line;
    bool ok = true;

    while (name_char(*p, p == line))
        p++;
    if (p == line)
        return false;
    s->name = line;
    s->labels = "";
    if (*p == '{') {
        *p++ = '\0';
        char *close = scan_labels(p);
        if (close == NULL)
            return false;
        *close = '\0';
        s->labels = p;
        p = close + 1;
    }
    if (*p != ' ')
        return false;
    *p++ = '\0';
    char *space = strchr(p, ' '); /* an optional timestamp follows */
    if (space != NULL)
        *space = '\0';
    s->value = parse_value(p, &ok);
    return ok;
}

int prom_parse(struct arena *a, char *text, struct prom_sample **out, size_t *n, struct err *e)
{
    size_t lines = 1, count = 0, no = 0;

    for (const char *p = text; *p != '\0'; p++)
        lines += *p == '\n';
    struct prom_sample *samples = arena_alloc(a, lines * sizeof *samples);
    for (char *line = text, *next; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        no++;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (!parse_line(line, &samples[count]))
            return err_set(e, ERR_BAD_INPUT, NULL, "/metrics line %zu is not a Prometheus sample", no);
        count++;
    }
    *out = samples;
    *n = count;
    return 0;
}

const char *prom_label(struct arena *a, const char *labels, const char *key)
{
    size_t klen = strlen(key);
    const char *p = labels;

    while (*p != '\0') {
        const char *eq = strchr(p, '=');
        const char *end = eq != NULL ? skip_value(eq + 2) : NULL;
        if (end == NULL)
            return NULL;
        if ((size_t)(eq - p) == klen && strncmp(p, key, klen) == 0) {
            char *v = arena_alloc(a, (size_t)(end - eq)), *o = v;
            for (const char *q = eq + 2; q < end - 1; q++) {
                if (*q == '\\' && q + 1 < end - 1) {
                    q++;
                    *o++ = *q == 'n' ? '\n' : *q;
                } else {
                    *o++ = *q;
                }
            }
            *o = '\0';
            return v;
        }
        p = *end == ',' ? end + 1 : end;
    }
    return NULL;
}
