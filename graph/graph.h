/* graph/graph.h - the in-memory lineage graph: nodes with integer ids, edges in contiguous arrays.
 *
 * Nodes are datasets, jobs, runs and dataset fields, interned by name: (type, namespace, name) for
 * datasets and jobs, the run UUID for runs, (dataset node, field name) for fields. A dataset symlink
 * (facets.symlinks.identifiers) makes a second name resolve to the same node, whenever it arrives:
 * names joined by symlinks form one group, served by one live node (graph_alias merges nodes).
 * A group's node is shown under the smallest (namespace, name), in byte order, among the group's
 * names that declared a symlink ("primary" names), so the result does not depend on arrival order;
 * the store picks the same name for its row (store/store_aliases.c).
 * Edges point the way data flows (dataset -> job for an input, job -> dataset for an output,
 * input field -> output field, dataset -> run -> dataset for a run's IO) or up a hierarchy
 * (child job -> parent job, child run -> parent run, run -> its job, field -> its dataset).
 * Each edge keeps the first and last time (event time, seconds) it was asserted and the last run
 * that asserted it, so walks can be cumulative (every edge ever seen) or as of a time.
 *
 * Invariants:
 *  1. Node ids are dense: 0 .. graph_node_count()-1, never reused; a node is never removed. A node
 *     merged into another keeps its id and name, has no edges, and stands for the live node it was
 *     merged into (graph_resolve); lookups and graph_add_edge resolve ids, walks never meet it.
 *  4. The live node of a group of symlinked names carries the smallest primary name of the group
 *     (when it has one); a field of a merged dataset is merged into the survivor's field of the
 *     same name.
 *  2. Every edge is stored twice, in its source's out-list and its target's in-list, with the same
 *     kind and times; (source, target, kind) is unique: adding it again widens first/last seen.
 *  3. Memory per edge (both directions, amortised, with adjacency slack) stays under 64 bytes.
 * Threads: the graph does no locking of its own except graph_lock_*; callers take the read lock for
 * walks and lookups and the write lock for changes. Nothing here does I/O or logs. */
#ifndef LINEAGED_GRAPH_H
#define LINEAGED_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

enum graph_node_type { GRAPH_DATASET = 0, GRAPH_JOB = 1, GRAPH_RUN = 2, GRAPH_FIELD = 3 };

enum graph_edge_kind {
    GRAPH_EDGE_IO = 0,       /* dataset -> job (job reads it), job -> dataset (job writes it) */
    GRAPH_EDGE_COLUMN = 1,   /* input field -> output field */
    GRAPH_EDGE_RUN_IO = 2,   /* dataset -> run, run -> dataset */
    GRAPH_EDGE_PARENT = 3,   /* child job -> parent job, child run -> parent run */
    GRAPH_EDGE_RUN_OF = 4,   /* run -> its job */
    GRAPH_EDGE_FIELD_OF = 5, /* field -> its dataset */
};

enum { GRAPH_NO_NODE = UINT32_MAX, GRAPH_MAX_NODES = (1u << 28) - 1 };

struct graph;

/* An edge as seen from one node: the node at the other end, and when it was asserted. This is also
 * the stored form (graph_out_edges returns a pointer into storage), so it is packed into 16 bytes:
 * the node id (< 2^28, see GRAPH_MAX_NODES) and the kind share one 32-bit word. Read the fields by
 * name; bit-fields cannot have their address taken. */
struct graph_edge {
    unsigned other : 28; /* node id at the other end */
    unsigned kind : 4;   /* enum graph_edge_kind */
    uint32_t first_seen; /* event time, seconds since the epoch */
    uint32_t last_seen;
    uint32_t run;        /* last run node that asserted it, or GRAPH_NO_NODE */
};
_Static_assert(sizeof(struct graph_edge) == 16, "an edge is 16 bytes per direction (invariant 3)");

/* A new empty graph. NULL only if memory runs out. Free with graph_free. */
struct graph *graph_new(void);
void graph_free(struct graph *g);

/* Reader/writer lock around the whole graph (writers preferred, so ingest is never starved). */
void graph_lock_read(struct graph *g);
void graph_lock_write(struct graph *g);
void graph_unlock(struct graph *g);

/* The node for (type, ns, name), created if missing. Runs use ns = "" and name = the UUID text;
 * fields use graph_field. Returns GRAPH_NO_NODE with e set when GRAPH_MAX_NODES (or 4 GiB of names)
 * is reached, or for a bad argument (GRAPH_FIELD, NULL strings). The strings are copied.
 * Out of memory aborts, as arena_alloc does. */
uint32_t graph_intern(struct graph *g, enum graph_node_type type, const char *ns, const char *name,
                      struct err *e);

/* The field node `field` of dataset node `dataset`, created (with its FIELD_OF edge, first/last seen
 * 0, so it is visible as of any time) if missing. GRAPH_NO_NODE with e set if `dataset` is not a
 * dataset node or a limit is reached. */
uint32_t graph_field(struct graph *g, uint32_t dataset, const char *field, struct err *e);

/* Looks a node up without creating it (symlink aliases and merged nodes resolve to the live node). */
bool graph_find(const struct graph *g, enum graph_node_type type, const char *ns, const char *name,
                uint32_t *id);
bool graph_find_field(const struct graph *g, uint32_t dataset, const char *field, uint32_t *id);

/* Records that dataset (owner_ns, owner_name) declared the symlink (ns, name): from now on both names
 * stand for one live node. The owner name is interned if new. When (ns, name) already belongs to
 * another node (its own name, or an alias), the two nodes are merged: every edge and field moves to
 * one of them (the one with more edges), and the survivor takes the group's smallest primary name
 * (invariant 4), whichever arrived first. A symlink to the owner's own name changes nothing.
 * *into (may be NULL) gets the live node of the owner's group afterwards. Returns 1 when nodes were
 * merged or the live node's name changed (the caller touches it and its neighbours: their data
 * shows the old names), 0 when not, -1 with e set for a bad argument or a full graph. */
int graph_alias(struct graph *g, const char *owner_ns, const char *owner_name, const char *ns, const char *name,
                uint32_t *into, struct err *e);

/* The live node that id stands for: id itself unless it was merged (invariant 1). */
uint32_t graph_resolve(const struct graph *g, uint32_t id);

/* Adds the edge from -> to of `kind`, or widens its first/last seen if present (run is updated when
 * last_seen grows). Returns 0, or -1 with e set for an unknown node id (from, to, or run unless
 * GRAPH_NO_NODE), an unknown kind, or first_seen > last_seen. Not quadratic for hubs: lists longer
 * than 32 edges carry a hash index. */
int graph_add_edge(struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind, uint32_t first_seen,
                   uint32_t last_seen, uint32_t run, struct err *e);

/* Like graph_add_edge, for loads that build a graph from rows: the caller promises that this
 * (from, to, kind) was not added before, because each call comes from a distinct row of a table
 * keyed by it, into a graph that held none of that table's edges. Then no search for the edge is
 * needed. Rows of two names joined by a merge (graph_alias) can make the same edge, so when an end
 * (or a field's dataset) absorbed a merged node this is graph_add_edge. Same errors as
 * graph_add_edge; a broken promise is a duplicate edge, which graph_check reports. */
int graph_add_new_edge(struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind, uint32_t first_seen,
                       uint32_t last_seen, uint32_t run, struct err *e);

/* One column-lineage row of a load: the field in_field of dataset node in_dataset feeds the field
 * out_field of out_dataset (out_field NULL: the whole output dataset), first and last seen at these
 * times, last by run (GRAPH_NO_NODE: none). */
struct graph_column_row {
    uint32_t in_dataset, out_dataset;
    const char *in_field, *out_field;
    uint32_t first_seen, last_seen, run;
};

/* For each row, the field nodes it names (as graph_field makes them) and the COLUMN edge between
 * them, added under graph_add_new_edge's promise. Gives the same graph as those calls one row at a
 * time, faster: rows go through in batches whose memory is fetched ahead (bulk.c). Returns 0, or -1
 * with e set at the first row that fails, as graph_field or graph_add_new_edge would; rows before it
 * may then have their field nodes without their edges (every invariant still holds). */
int graph_add_column_rows(struct graph *g, const struct graph_column_row *rows, size_t n, struct err *e);

/* Makes room for about `nodes` nodes, `edges` edges and `name_bytes` bytes of names, so that a load
 * of that size neither grows arrays nor grows the name tables on the way. A hint: the graph may end
 * up larger or smaller. Only ever grows; out of memory aborts. */
void graph_presize(struct graph *g, size_t nodes, size_t edges, size_t name_bytes);

/* Gives back the room graph_presize (or growth) set aside beyond what the graph holds. */
void graph_trim(struct graph *g);

/* Marks node `id` as changed: its stamp goes up by one (write lock). A reader that copied something
 * derived from the node (the API's rendered node data) keeps the stamp it read with it: the copy is
 * current while graph_node_stamp still returns that value. Callers touch a node after the change is
 * committed to the database, so a copy read before the commit never outlives the touch. Stamps start
 * at 0 and wrap; a copy would be mistaken for current only after exactly 2^32 touches. */
void graph_touch(struct graph *g, uint32_t id);
uint32_t graph_node_stamp(const struct graph *g, uint32_t id);

/* Node data (borrowed pointers, valid while the graph lives). For fields, namespace is the dataset's
 * namespace and name is "<dataset name>" with the field in graph_node_field(). */
size_t graph_node_count(const struct graph *g);
size_t graph_edge_count(const struct graph *g); /* distinct edges (each counted once) */
size_t graph_memory_bytes(const struct graph *g);
enum graph_node_type graph_type(const struct graph *g, uint32_t id);
const char *graph_node_namespace(const struct graph *g, uint32_t id);
const char *graph_node_name(const struct graph *g, uint32_t id);
const char *graph_node_field(const struct graph *g, uint32_t id); /* "" unless a field */
uint32_t graph_node_dataset(const struct graph *g, uint32_t id);  /* a field's dataset, else itself */

/* Out-edges (from id) and in-edges (to id); *n gets the count. Borrowed until the next change. */
const struct graph_edge *graph_out_edges(const struct graph *g, uint32_t id, size_t *n);
const struct graph_edge *graph_in_edges(const struct graph *g, uint32_t id, size_t *n);

/* The edge from -> to of `kind` as seen from `from` or from `to` (other is the far end; the times and
 * run are the same either way), or NULL. O(1) for lists longer than 32 edges, which are indexed, so
 * checking whether a hub touches a given node does not scan the hub's list. */
const struct graph_edge *graph_find_edge(const struct graph *g, uint32_t from, uint32_t to, enum graph_edge_kind kind);

enum graph_direction { GRAPH_UPSTREAM = 1, GRAPH_DOWNSTREAM = 2, GRAPH_BOTH = 3 };

struct graph_query {
    uint32_t start;
    enum graph_direction direction;
    unsigned edge_kinds;  /* bit mask of (1u << enum graph_edge_kind) to follow */
    unsigned node_types;  /* bit mask of (1u << enum graph_node_type) to report; all are traversed */
    int max_depth;        /* edges from start; 0 = only start */
    size_t max_nodes;     /* stop after this many reported nodes, start included (truncated = true);
                             0 = no limit */
    uint32_t as_of;       /* 0: every edge; else only edges with first_seen <= as_of */
    uint32_t max_usec;    /* stop after about this long (truncated = true); 0 = no limit. Bounds how
                             long a walk holds the read lock, and so how long ingest may wait. */
};

/* One node reached by a walk, at its BFS depth, with the node it was first reached from (one
 * shortest path: follow `via` back to the start). The start node is hits[0] with depth 0 and via
 * GRAPH_NO_NODE, whatever node_types says. When node_types hides some types, `via` is the nearest
 * reported node on that path (so following `via` stays inside the result) and depth still counts
 * every edge. With GRAPH_BOTH a node's in-edges are followed before its out-edges. */
struct graph_hit {
    uint32_t node;
    uint32_t depth;
    uint32_t via;
};

struct graph_result {
    struct graph_hit *hits; /* in BFS order: by depth, then in order of discovery */
    size_t n;
    bool truncated;         /* max_nodes cut the walk short */
};

/* Breadth-first walk from q->start. Each node is visited once. Results are allocated in arena a.
 * Returns 0, or -1 with e set (unknown start node: ERR_NOT_FOUND; bad direction or negative
 * max_depth: ERR_INVALID). Deterministic: equal graphs and queries give equal results.
 * Allocates a visited set (a table of about 16 bytes per node of max_nodes for a capped walk, else
 * node_count/8 bytes) plus 12 bytes per traversed node. */
int graph_walk(const struct graph *g, struct arena *a, const struct graph_query *q, struct graph_result *out,
               struct err *e);

/* Checks every invariant (edges mirrored, no duplicate edges, aliases and merged nodes resolve to live
 * nodes, the primary-name rule, counts); for tests.
 * Returns 0, or -1 with e describing the first violation. */
int graph_check(const struct graph *g, struct err *e);

#endif
