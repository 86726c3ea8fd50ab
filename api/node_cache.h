/* api/node_cache.h - rendered lineage node data (Marquez's JobData and DatasetData JSON) kept between
 * requests, so a repeated lineage answer needs no database reads.
 *
 * Entries are indexed by graph node id and carry the node's graph stamp from before their data was
 * read (graph_node_stamp). An entry is returned only while the node's stamp is still that value:
 * collector/sync.c touches every job and dataset an event names after the event is committed, so
 * an entry never outlives a change of its node (see graph_touch).
 * Invariants:
 *  1. bytes is the sum of the entries' text lengths and stays at most max_bytes; a text longer than
 *     an eighth of max_bytes is not kept. Eviction is a clock sweep over node ids (oldest slot first,
 *     no recency bit: answers come in bursts over the same nodes, and a miss costs one SQL row).
 *  2. Texts are malloc'd copies owned by the cache; node_cache_get copies into the caller's arena
 *     while holding the lock, so nothing is read after it was freed.
 * Threads: every function takes the cache's mutex; any thread may call any function. */
#ifndef LINEAGED_NODE_CACHE_H
#define LINEAGED_NODE_CACHE_H
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

struct node_cache;

/* A cache holding at most max_bytes of text; max_bytes 0 gives a cache that keeps nothing. NULL
 * only when memory runs out. Free with node_cache_free (NULL is a no-op). */
struct node_cache *node_cache_new(size_t max_bytes);
void node_cache_free(struct node_cache *c);

/* For each i < n: texts[i] = an arena copy of the data of nodes[i] if it is cached with stamps[i]
 * (lens[i] its length), else NULL. A NULL cache misses everything. Returns the number of hits. */
size_t node_cache_get(struct node_cache *c, struct arena *a, const uint32_t *nodes, const uint32_t *stamps,
                      size_t n, const char **texts, size_t *lens);

/* Keeps texts[i] (copied) as the data of nodes[i] read at stamps[i], for each i < n with a non-NULL
 * text, replacing what was there; evicts other entries to stay within max_bytes. */
void node_cache_put(struct node_cache *c, const uint32_t *nodes, const uint32_t *stamps, const char *const *texts,
                    const size_t *lens, size_t n);

struct node_cache_stats {
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, evictions;
};
void node_cache_stats(struct node_cache *c, struct node_cache_stats *out);
#endif
