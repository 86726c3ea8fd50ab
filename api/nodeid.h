/* api/nodeid.h - Marquez node ids: "dataset:<ns>:<name>", "job:<ns>:<name>",
 * "datasetField:<ns>:<dataset>:<field>", "run:<id>", each optionally followed by "#<version>".
 *
 * Namespaces and names hold colons ("postgres://host:5432", "my_struct<a:bigint>", "7day_orders" after
 * a ':'), so a node id can be split in several ways. nodeid_parse gives Marquez's split (NodeId.parts):
 * when the id has exactly as many ':' as separators, those; else the first ':' not followed by "//"
 * or a digit ends the namespace (and, for a field, the next such ':' ends the dataset). nodeid_splits
 * lists every other way too, so a caller can keep the one that names something that exists
 * (lineage_find_node). Text after the last '#' is the version. */
#ifndef LINEAGED_API_NODEID_H
#define LINEAGED_API_NODEID_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

enum node_kind { NODE_DATASET, NODE_JOB, NODE_FIELD, NODE_RUN };

enum { NODEID_MAX_SPLITS = 64 };

struct node_id {
    enum node_kind kind;
    const char *namespace; /* NULL for runs */
    const char *name;      /* dataset or job name; the run id for runs */
    const char *field;     /* fields only */
    const char *version;   /* after '#', or NULL */
    const char *body;      /* what follows "<type>:", without "#<version>" */
};

/* Parses s into out (strings in arena a), split Marquez's way, or else at the first ':' (and, for a
 * field, the last). Returns 0, or -1 with e set (ERR_BAD_INPUT, where "nodeId") when s has no known
 * type or too few parts. */
int nodeid_parse(struct arena *a, const char *s, struct node_id *out, struct err *e);

/* Every way to split id's body into namespace and name (and field), out[0] being id's own split and
 * the others in order of the namespace's end, left to right (for fields, the field's start right to
 * left). At most max (and NODEID_MAX_SPLITS); returns how many. Runs have one. Strings in arena a. */
size_t nodeid_splits(struct arena *a, const struct node_id *id, struct node_id *out, size_t max);

/* "dataset:<ns>:<name>" and friends, in arena a (no version). */
const char *nodeid_format(struct arena *a, enum node_kind kind, const char *ns, const char *name,
                          const char *field);

#endif
