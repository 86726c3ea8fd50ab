/* api/kinds.h - the `types=` parameter of the lineage routes and of GET /api/v1/datasets: dataset
 * kinds as the store derives them (migrations/0008_ml_lineage.sql: datasetType facet, else Feast's
 * facets), given as TYPE or TYPE:SUBTYPE (MODEL, MODEL:REGISTERED, FEATURE_VIEW), and for the lineage
 * routes also the node types DATASET and JOB.
 *
 * Invariants:
 *  1. Tokens are trimmed and upper-cased (ASCII letters), as the store upper-cases kinds; an empty
 *     token, an empty TYPE or SUBTYPE, a control character or a token over KIND_MAX_BYTES is a 400
 *     naming the parameter; so is a list of more than KIND_MAX kinds.
 *  2. With no kind listed every dataset passes; else a dataset passes when its type equals a listed
 *     TYPE token, or its type and subtype equal a TYPE:SUBTYPE token.
 * Ownership: strings in the caller's arena. Threads: no shared state. */
#ifndef LINEAGED_API_KINDS_H
#define LINEAGED_API_KINDS_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "err.h"

enum { KIND_MAX = 16, KIND_MAX_BYTES = 200 };

/* Node-type bits, as graph.h numbers them (GRAPH_DATASET 0, GRAPH_JOB 1). */
enum { KIND_NODE_DATASET = 1u << 0, KIND_NODE_JOB = 1u << 1 };

struct kind_filter {
    const char *type[KIND_MAX]; /* upper case */
    const char *sub[KIND_MAX];  /* upper case, or NULL: any subtype */
    size_t n;
    unsigned node_types; /* KIND_NODE_* named, or implied by a kind (datasets); all when v is empty */
};

/* Parses the value v of parameter `param` (may be NULL or empty: no filter). node_types: DATASET and
 * JOB are node types (the lineage routes); else they are kinds like any other. Returns 0, or -1 with e
 * set (ERR_BAD_PARAM, where = param). */
int kind_parse(struct arena *a, const char *param, const char *v, bool node_types, struct kind_filter *out,
               struct err *e);

/* Invariant 2. type and sub may be NULL (a dataset of no known kind passes only an empty filter). */
bool kind_wanted(const struct kind_filter *f, const char *type, const char *sub);

/* The kinds as JSON arrays for SQL: types_out ["MODEL","TABLE"] (each TYPE once), any_sub_out the TYPE
 * tokens without a subtype, pairs_out the TYPE:SUBTYPE tokens as "TYPE:SUBTYPE"; all NULL when f has
 * no kind. */
void kind_sql_params(struct arena *a, const struct kind_filter *f, const char **types_out,
                     const char **any_sub_out, const char **pairs_out);

#endif
