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
 *  2. A text is immutable once cached and reference-counted: one reference for its slot, one per
 *     caller that node_cache_get handed it to. Eviction or replacement drops the slot's reference; the
 *     text is freed when the last reference goes, so a caller may read it without the lock until it
 *     calls node_cache_release (answers are written straight from it, no copy). Pinned texts still
 *     count towards bytes only while they are in a slot.
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

/* A cached text handed to a caller (see invariant 2). */
struct node_cache_text;

/* For each i < n: held[i] = the text of nodes[i] if it is cached with stamps[i], else NULL. Every
 * non-NULL held[i] must be given back with node_cache_release. A NULL cache misses everything.
 * Returns the number of hits. */
size_t node_cache_get(struct node_cache *c, const uint32_t *nodes, const uint32_t *stamps, size_t n,
                      struct node_cache_text **held);

/* The bytes of a held text (not NUL-terminated) and their count. */
const char *node_cache_text(const struct node_cache_text *t, size_t *len);

/* Gives back held[0 .. n) (NULL entries are skipped) and sets them to NULL. */
void node_cache_release(struct node_cache *c, struct node_cache_text **held, size_t n);

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
