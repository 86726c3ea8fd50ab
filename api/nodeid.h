/* api/nodeid.h - Marquez node ids: "dataset:<ns>:<name>", "job:<ns>:<name>",
 * "datasetField:<ns>:<dataset>:<field>", "run:<uuid>", each optionally followed by "#<version>".
 *
 * Namespaces hold colons ("postgres://host:5432"), so the namespace ends at the first ':' that is
 * followed neither by "//" nor by a digit, as Marquez parses it; a field is what follows the last ':'. */
#ifndef LINEAGED_API_NODEID_H
#define LINEAGED_API_NODEID_H

#include "arena.h"
#include "err.h"

enum node_kind { NODE_DATASET, NODE_JOB, NODE_FIELD, NODE_RUN };

struct node_id {
    enum node_kind kind;
    const char *namespace; /* NULL for runs */
    const char *name;      /* dataset or job name; the run UUID for runs */
    const char *field;     /* fields only */
    const char *version;   /* after '#', or NULL */
};

/* Parses s into out (strings in arena a). Returns 0, or -1 with e set (ERR_BAD_INPUT, where "nodeId"). */
int nodeid_parse(struct arena *a, const char *s, struct node_id *out, struct err *e);

/* "dataset:<ns>:<name>" and friends, in arena a (no version). */
const char *nodeid_format(struct arena *a, enum node_kind kind, const char *ns, const char *name,
                          const char *field);

#endif
