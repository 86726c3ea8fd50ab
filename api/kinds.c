/* api/kinds.c - parsing and matching of `types=` (see kinds.h). */
#include "kinds.h"

#include <string.h>
#include <strings.h>

#include "json.h"

/* p[0..n) without leading and trailing blanks, upper-cased, in the arena. */
static char *trimmed_upper(struct arena *a, const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    char *t = arena_strndup(a, p, n);
    for (char *q = t; *q; q++)
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 'a' + 'A');
    return t;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static int bad(struct err *e, const char *param)
{
    return err_set(e, ERR_BAD_PARAM, param,
                   "must list dataset kinds, TYPE or TYPE:SUBTYPE (MODEL, MODEL:REGISTERED, FEATURE_VIEW), "
                   "comma-separated, at most %d, each at most %d bytes",
                   KIND_MAX, KIND_MAX_BYTES);
}

/* One token p[0..n) into f. */
static int add_token(struct arena *a, const char *param, const char *p, size_t n, bool node_types,
                     struct kind_filter *f, struct err *e)
{
    char *t = trimmed_upper(a, p, n);
    char *colon = strchr(t, ':');

    if (node_types && strcmp(t, "DATASET") == 0) {
        f->node_types |= KIND_NODE_DATASET;
        return 0;
    }
    if (node_types && strcmp(t, "JOB") == 0) {
        f->node_types |= KIND_NODE_JOB;
        return 0;
    }
    if (*t == '\0' || strlen(t) > KIND_MAX_BYTES || has_control(t) || f->n == KIND_MAX)
        return bad(e, param);
    if (colon != NULL) {
        *colon = '\0';
        char *sub = trimmed_upper(a, colon + 1, strlen(colon + 1));
        char *type = trimmed_upper(a, t, strlen(t));
        if (*type == '\0' || *sub == '\0')
            return bad(e, param);
        f->type[f->n] = type;
        f->sub[f->n++] = sub;
    } else {
        f->type[f->n] = t;
        f->sub[f->n++] = NULL;
    }
    f->node_types |= KIND_NODE_DATASET;
    return 0;
}

int kind_parse(struct arena *a, const char *param, const char *v, bool node_types, struct kind_filter *out,
               struct err *e)
{
    memset(out, 0, sizeof *out);
    if (v == NULL || *v == '\0') {
        out->node_types = KIND_NODE_DATASET | KIND_NODE_JOB;
        return 0;
    }
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (add_token(a, param, p, n, node_types, out, e) != 0)
            return -1;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

bool kind_wanted(const struct kind_filter *f, const char *type, const char *sub)
{
    if (f->n == 0)
        return true;
    for (size_t i = 0; type != NULL && i < f->n; i++) {
        if (strcasecmp(f->type[i], type) != 0)
            continue;
        if (f->sub[i] == NULL || (sub != NULL && strcasecmp(f->sub[i], sub) == 0))
            return true;
    }
    return false;
}

void kind_sql_params(struct arena *a, const struct kind_filter *f, const char **types_out,
                     const char **any_sub_out, const char **pairs_out)
{
    *types_out = *any_sub_out = *pairs_out = NULL;
    if (f->n == 0)
        return;
    yajl_gen types = json_gen_new(), any = json_gen_new(), pairs = json_gen_new();
    yajl_gen_array_open(types);
    yajl_gen_array_open(any);
    yajl_gen_array_open(pairs);
    for (size_t i = 0; i < f->n; i++) {
        json_gen_str(types, f->type[i]);
        if (f->sub[i] == NULL)
            json_gen_str(any, f->type[i]);
        else
            json_gen_str(pairs, arena_printf(a, "%s:%s", f->type[i], f->sub[i]));
    }
    yajl_gen_array_close(types);
    yajl_gen_array_close(any);
    yajl_gen_array_close(pairs);
    *types_out = json_gen_finish(types, a, NULL);
    *any_sub_out = json_gen_finish(any, a, NULL);
    *pairs_out = json_gen_finish(pairs, a, NULL);
}
