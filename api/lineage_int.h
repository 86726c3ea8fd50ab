/* api/lineage_int.h - what the graph-backed handlers (lineage.c, impact.c, runlineage.c) share:
 * resolving a node id to a graph node and reading the walk options every route accepts.
 * Included only by api/ files. */
#ifndef LINEAGED_API_LINEAGE_INT_H
#define LINEAGED_API_LINEAGE_INT_H

#include "graph.h"
#include "http.h"
#include "kinds.h"
#include "node_cache.h"
#include "nodeid.h"

enum {
    LINEAGE_DEFAULT_DEPTH = 20,
    LINEAGE_MAX_DEPTH = 1000,
    LINEAGE_DEFAULT_MAX_NODES = 10000,
    LINEAGE_MAX_MAX_NODES = 1000000,
    LINEAGE_WALK_USEC = 250000 /* a walk stops (truncated) after this long, so ingest never waits more */
};

/* Options common to the lineage routes: depth, direction, asOf, types, maxNodes, runId. */
struct lineage_opts {
    long depth;
    enum graph_direction direction;
    bool directed;  /* direction= was given: a directed walk instead of Marquez's undirected one */
    uint32_t as_of; /* 0: cumulative */
    unsigned node_types;      /* bits (1u << enum graph_node_type) of DATASET and JOB to report */
    struct kind_filter kinds; /* types= other than DATASET/JOB: MODEL, MODEL:REGISTERED, FEATURE_VIEW */
    long max_nodes;
    const char *run_id; /* runId=: answer as of that run */
};

/* Parses the options from the query string (defaults: Marquez's). -1 with e set (400) if invalid. */
int lineage_parse_opts(const struct req *r, struct lineage_opts *o, struct err *e);

/* Applies pinning: runId= or a "#<version>" node id moves as_of to that run's or version's time
 * (the earlier of it and an explicit asOf). -1 with e set: 400 bad id, 404 unknown run/version. */
int lineage_pin(struct req *r, const struct node_id *start, struct lineage_opts *o, struct err *e);

/* Sets hide[i] for each dataset (ns[i], names[i]) whose kind types= does not list (all false when it
 * lists no kind). Returns 0, or -1 with e set (database errors). */
int lineage_hide_kinds(struct req *r, const struct lineage_opts *o, const char *const *ns,
                       const char *const *names, size_t n, bool *hide, struct err *e);

/* The start of a lineage answer, from nodeId= or from name= (a dataset or job name without its
 * namespace), into *start (nodeid.h). Returns 0; or 1 when it replied itself: 409 with the candidates
 * when the name is ambiguous (the handler returns 0 then); or -1 with e set: 400 for neither or both
 * parameters or a bad id, 404 for a name nothing has. */
int lineage_start(struct req *r, struct reply *out, struct node_id *start, struct err *e);

/* The dataset or job (jobs only: the job) named `name` without its namespace, given in parameter
 * `param`, into *id. Returns 0; 1 when it replied 409 with the candidates (several have the name); -1
 * with e set: 404 when none has it, 400 when it is longer than --max-name-bytes. */
int lineage_resolve_name(struct req *r, struct reply *out, const char *param, const char *name,
                         bool jobs_only, struct node_id *id, struct err *e);

/* The graph node named by *id; call with the read lock held. Each split of the id (nodeid_splits) is
 * tried in turn and the first that names a node wins: *id becomes that split. A run id is looked up
 * the way ingest stores it (uuid_for_run_id: a non-UUID id is its name-based UUID). Returns 0, or -1
 * with e set (404) when no split names a node; then, for a field whose dataset exists without that
 * field node (fields are nodes only once they have column lineage), *dataset (may be NULL) gets the
 * dataset's node and *id its split, else GRAPH_NO_NODE. */
int lineage_find_node(const struct graph *g, struct arena *a, struct node_id *id, uint32_t *node, uint32_t *dataset,
                      struct err *e);

/* lineage_find_node under the graph's read lock, to settle *id's split before the database is asked
 * about it (versions, runs). 0, or -1 with e set (404). */
int lineage_resolve(struct req *r, struct node_id *id, struct err *e);

/* Runs q, except that a directed walk both ways (o->directed, GRAPH_BOTH) is the union of an upstream
 * and a downstream walk, not an undirected walk (which would also reach siblings: other readers of
 * an input, other writers of an output). Call with the read lock held. */
int lineage_walk(const struct graph *g, struct arena *a, const struct lineage_opts *o,
                 const struct graph_query *q, struct graph_result *out, struct err *e);

/* A job or dataset of a lineage answer, as lineage_node_data reads and fills it. */
struct lineage_node {
    uint32_t node;  /* graph node id */
    uint32_t stamp; /* graph_node_stamp, read under the same lock as the walk */
    enum graph_node_type type;
    const char *ns, *name;
    const char *data; /* filled: the data object as JSON text (not NUL-terminated), NULL if the
                         database has no row */
    size_t data_len;
    struct node_cache_text *held; /* filled: the cache's text data points into, or NULL */
};

/* Fills data/data_len of nodes[0 .. n) (jobs and datasets; see lineage_data.c). Takes the graph's
 * read lock itself, so call it without. Returns 0, and then the caller must call
 * lineage_node_data_release once it has written the answer; or -1 with e set (database errors),
 * with nothing left to release. */
int lineage_node_data(struct req *r, struct lineage_node *nodes, size_t n, struct err *e);
void lineage_node_data_release(struct req *r, struct lineage_node *nodes, size_t n);

/* "dataset:ns:name" etc. for a graph node; call with the read lock held. */
const char *lineage_node_id(struct arena *a, const struct graph *g, uint32_t node);

#endif
