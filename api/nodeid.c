/* api/nodeid.c - parsing and printing Marquez node ids (see nodeid.h for the grammar). */
#include "nodeid.h"

#include <ctype.h>
#include <string.h>

#include "utf8.h"

enum { NODEID_SHOWN_MAX = 128 }; /* bytes of a bad node id quoted in its error */

static const struct {
    const char *prefix;
    enum node_kind kind;
} KINDS[] = {
    {"dataset:", NODE_DATASET}, {"job:", NODE_JOB}, {"datasetField:", NODE_FIELD}, {"run:", NODE_RUN}};

/* The ':' ending the namespace in s: the first not followed by "//" or a digit. NULL if none. */
static const char *namespace_end(const char *s)
{
    for (const char *p = strchr(s, ':'); p != NULL; p = strchr(p + 1, ':')) {
        if (strncmp(p + 1, "//", 2) != 0 && !isdigit((unsigned char)p[1]))
            return p;
    }
    return NULL;
}

int nodeid_parse(struct arena *a, const char *s, struct node_id *out, struct err *e)
{
    const char *rest = NULL;

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0] && rest == NULL; i++) {
        size_t n = strlen(KINDS[i].prefix);
        if (strncmp(s, KINDS[i].prefix, n) == 0) {
            out->kind = KINDS[i].kind;
            rest = s + n;
        }
    }
    if (rest == NULL)
        return err_set(e, ERR_BAD_INPUT, "nodeId",
                       "nodeId \"%.*s\" must start with dataset:, job:, datasetField: or run:",
                       utf8_prefix(s, NODEID_SHOWN_MAX), s);
    char *body = arena_strdup(a, rest);
    char *hash = strrchr(body, '#');
    if (hash != NULL) {
        *hash = '\0';
        out->version = hash + 1;
    }
    if (out->kind == NODE_RUN) {
        out->name = body;
        return *body ? 0
                     : err_set(e, ERR_BAD_INPUT, "nodeId", "nodeId \"%.*s\" has no run id",
                               utf8_prefix(s, NODEID_SHOWN_MAX), s);
    }
    if (out->kind == NODE_FIELD) {
        char *last = strrchr(body, ':');
        if (last == NULL || last[1] == '\0')
            return err_set(e, ERR_BAD_INPUT, "nodeId", "nodeId \"%.*s\" has no field name",
                           utf8_prefix(s, NODEID_SHOWN_MAX), s);
        *last = '\0';
        out->field = last + 1;
    }
    char *sep = (char *)namespace_end(body);
    if (sep == NULL || sep == body || sep[1] == '\0')
        return err_set(e, ERR_BAD_INPUT, "nodeId", "nodeId \"%.*s\" must be <type>:<namespace>:<name>",
                       utf8_prefix(s, NODEID_SHOWN_MAX), s);
    *sep = '\0';
    out->namespace = body;
    out->name = sep + 1;
    return 0;
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
