/* api/nodeid.c - parsing and printing Marquez node ids (see nodeid.h for the grammar and the splits).
 *
 * Invariants: nodeid_parse never fails for an id Marquez can parse, and splits it as Marquez does;
 * nodeid_splits lists each split once, the parsed one first. Strings live in the caller's arena. */
#include "nodeid.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "utf8.h"

enum { NODEID_SHOWN_MAX = 128 }; /* bytes of a bad node id quoted in its error */

static const struct {
    const char *prefix;
    enum node_kind kind;
} KINDS[] = {
    {"dataset:", NODE_DATASET}, {"job:", NODE_JOB}, {"datasetField:", NODE_FIELD}, {"run:", NODE_RUN}};

/* Whether Marquez splits at the ':' at body[i]: one not followed by "//" or a digit (NodeId.parts). */
static bool marquez_sep(const char *body, size_t i)
{
    return strncmp(body + i + 1, "//", 2) != 0 && !isdigit((unsigned char)body[i + 1]);
}

/* Marquez's split of body: the separators ending the namespace (*i) and, for a field, the dataset
 * (*j). All the ':' when there are exactly as many as separators, else the first Marquez ones.
 * false when there are not enough. */
static bool marquez_split(const char *body, bool field, size_t *i, size_t *j)
{
    size_t want = field ? 2 : 1, colons = 0, found = 0, pos[2] = {0, 0};

    for (size_t p = 0; body[p] != '\0'; p++)
        colons += body[p] == ':';
    for (size_t p = 0; body[p] != '\0' && found < want; p++)
        if (body[p] == ':' && (colons == want || marquez_sep(body, p)))
            pos[found++] = p;
    *i = pos[0];
    *j = pos[1];
    return found == want;
}

/* id with its body split at i (and j, for a field) into out; false when a part would be empty. */
static bool split_at(struct arena *a, const struct node_id *id, size_t i, size_t j, struct node_id *out)
{
    const char *b = id->body;
    size_t len = strlen(b);
    bool field = id->kind == NODE_FIELD;

    if (i == 0 || i + 1 >= len || (field && (j <= i + 1 || j + 1 >= len)))
        return false;
    *out = *id;
    out->namespace = arena_strndup(a, b, i);
    out->name = arena_strndup(a, b + i + 1, (field ? j : len) - i - 1);
    out->field = field ? arena_strdup(a, b + j + 1) : NULL;
    return true;
}

int nodeid_parse(struct arena *a, const char *s, struct node_id *out, struct err *e)
{
    const char *rest = NULL, *first, *last;
    size_t i, j;

    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0] && rest == NULL; k++) {
        size_t n = strlen(KINDS[k].prefix);
        if (strncmp(s, KINDS[k].prefix, n) == 0) {
            out->kind = KINDS[k].kind;
            rest = s + n;
        }
    }
    if (rest == NULL)
        return err_set(e, ERR_BAD_INPUT, "nodeId",
                       "nodeId \"%.*s\" must start with dataset:, job:, datasetField: or run:",
                       utf8_prefix(s, NODEID_SHOWN_MAX), s);
    char *body = arena_strdup(a, rest), *hash = strrchr(body, '#');
    if (hash != NULL) {
        *hash = '\0';
        out->version = hash + 1;
    }
    out->body = body;
    if (out->kind == NODE_RUN) {
        out->name = body;
        return *body ? 0
                     : err_set(e, ERR_BAD_INPUT, "nodeId", "nodeId \"%.*s\" has no run id",
                               utf8_prefix(s, NODEID_SHOWN_MAX), s);
    }
    if (marquez_split(body, out->kind == NODE_FIELD, &i, &j) && split_at(a, out, i, j, out))
        return 0;
    first = strchr(body, ':'); /* no Marquez split: the first ':' and, for a field, the last */
    last = strrchr(body, ':');
    if (out->kind == NODE_FIELD && (first == NULL || first == last))
        return err_set(e, ERR_BAD_INPUT, "nodeId", "nodeId \"%.*s\" has no field name",
                           utf8_prefix(s, NODEID_SHOWN_MAX), s);
    if (first == NULL || !split_at(a, out, (size_t)(first - body), (size_t)(last - body), out))
        return err_set(e, ERR_BAD_INPUT, "nodeId", "nodeId \"%.*s\" must be <type>:<namespace>:<name>",
                       utf8_prefix(s, NODEID_SHOWN_MAX), s);
    return 0;
}

static bool same_split(const struct node_id *x, const struct node_id *y)
{
    return strcmp(x->namespace, y->namespace) == 0 && strcmp(x->name, y->name) == 0 &&
           (x->field == NULL || strcmp(x->field, y->field) == 0);
}

size_t nodeid_splits(struct arena *a, const struct node_id *id, struct node_id *out, size_t max)
{
    const char *b = id->body;
    size_t n = 0;

    if (max > NODEID_MAX_SPLITS)
        max = NODEID_MAX_SPLITS;
    if (max == 0)
        return 0;
    out[n++] = *id;
    if (id->kind == NODE_RUN)
        return n;
    for (size_t i = 0; b[i] != '\0' && n < max; i++) {
        if (b[i] != ':')
            continue;
        if (id->kind != NODE_FIELD) {
            if (split_at(a, id, i, 0, &out[n]) && !same_split(&out[n], id))
                n++;
            continue;
        }
        for (size_t j = strlen(b) - 1; j > i && n < max; j--)
            if (b[j] == ':' && split_at(a, id, i, j, &out[n]) && !same_split(&out[n], id))
                n++;
    }
    return n;
}

/* The concatenation of the n strings parts[0 .. n), in the arena (lineage answers make thousands of
 * ids; this is several times cheaper than arena_printf). */
static const char *join(struct arena *a, const char *const *parts, size_t n)
{
    size_t lens[6], total = 0; /* n <= 6 */

    for (size_t i = 0; i < n; i++)
        total += lens[i] = strlen(parts[i]);
    char *out = arena_alloc(a, total + 1), *p = out;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, parts[i], lens[i]);
        p += lens[i];
    }
    *p = '\0';
    return out;
}

const char *nodeid_format(struct arena *a, enum node_kind kind, const char *ns, const char *name,
                          const char *field)
{
    switch (kind) {
    case NODE_DATASET:
        return join(a, (const char *const[]){"dataset:", ns, ":", name}, 4);
    case NODE_JOB:
        return join(a, (const char *const[]){"job:", ns, ":", name}, 4);
    case NODE_FIELD:
        return join(a, (const char *const[]){"datasetField:", ns, ":", name, ":", field}, 6);
    case NODE_RUN:
        return join(a, (const char *const[]){"run:", name}, 2);
    }
    return "";
}
