/* api/node_table.h - the lineage node data (Marquez's DatasetData and JobData) of every dataset and
 * job, as the start-up load read it, kept compactly in memory: a lineage answer needs no database
 * read for the nodes nothing has changed since the load, the first answers after a start included.
 *
 * Filled once during sync_load (server/main.c hands the load's dataset, job and field rows here),
 * then read-only. An entry describes its node as of the load's snapshot, so it counts only while the
 * node's graph stamp is still 0: collector/sync.c touches every job and dataset an event names, and
 * the load touches a node whose name a symlink changed. Nodes made after the load have no entry, nor
 * have jobs with a latest run (a run's JSON holds its facets, which are not compact) or a parent job
 * (only run events name parents, so such jobs have runs): those are read from Postgres as before
 * (api/lineage_data.c).
 * The texts are what store/store_nodes.c's statements return, after json_minify, byte for byte.
 *
 * Invariants:
 *  1. Entries are indexed by graph node id minus the first id given; every string is stored once in
 *     one pool (interned), so names, types and sources repeated over millions of rows cost 4 bytes.
 *  2. After node_table_finish a dataset's fields are contiguous, in (ordinal, name) byte order, as
 *     the statement orders them.
 * Threads: filled by one thread (the load, before the server starts); after node_table_finish any
 * thread may read it without a lock. */
#ifndef LINEAGED_NODE_TABLE_H
#define LINEAGED_NODE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "graph.h"
#include "store_graph.h"

struct node_table;

/* An empty table. NULL only when memory runs out. Free with node_table_free (NULL is a no-op). */
struct node_table *node_table_new(void);
void node_table_free(struct node_table *t);

/* Sizes the table for the load's estimated rows (a hint). */
void node_table_sizes(struct node_table *t, const struct store_graph_sizes *sz);

/* Keeps a row's data under node (the node its name interned to; a job with a latest run or a parent
 * is skipped). Each returns 0, or -1 with e set when the table is full (4 GiB of strings, 2^32 fields). */
int node_table_add_dataset(struct node_table *t, uint32_t node, const struct store_graph_dataset *d,
                           struct err *e);
int node_table_add_job(struct node_table *t, uint32_t node, const struct store_graph_job *j, struct err *e);
int node_table_add_field(struct node_table *t, uint32_t dataset_node, const struct store_graph_field *f,
                         struct err *e);

/* Ends the filling: puts each dataset's fields in order, frees what only the filling needed. Cannot
 * fail. */
void node_table_finish(struct node_table *t);

/* Entries held and the bytes they take (strings, entries, fields). */
size_t node_table_count(const struct node_table *t);
size_t node_table_memory_bytes(const struct node_table *t);

/* The data of `node`, in arena a, as store_dataset_data gives it (*head; *tail is NULL) or
 * store_job_data gives it (*head and *tail); false when the table has no entry for the node. The
 * node's names come from g (call with its read lock held). The caller checks that the node's stamp
 * is 0. t may be NULL (no entries). */
bool node_table_data(const struct node_table *t, const struct graph *g, struct arena *a, uint32_t node,
                     const char **head, const char **tail);

#endif
