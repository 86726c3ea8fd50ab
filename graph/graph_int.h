/* graph/graph_int.h - the graph's storage, shared by the files of graph/ only, never included outside.
 *
 * Layout (arrays indexed by node id; arrays grow by 1/2, by 1/8 once over 1 MiB):
 *   types[id]          enum graph_node_type in the low four bits, plus GRAPH_NODE_PRIMARY (a dataset
 *                      name that declared a symlink), GRAPH_NODE_MERGED (merged into another node)
 *                      and GRAPH_NODE_JOINED (another node was merged into this one)
 *   stamps[id]         how many times graph_touch marked the node changed (wraps)
 *   names[id]          {a, b}: datasets/jobs/runs: a = namespace offset, b = name offset into `str`;
 *                      fields: a = dataset node id, b = field-name offset
 *   adj[dir][id]       {off, len}: the node's edges are pool[dir].e[off .. off+len); dir 0 = out, 1 = in.
 *                      A merged node has no edges, and adj[GRAPH_OUT][id].off holds the node it was
 *                      merged into (graph_live follows these forwards to the live node)
 *   pool[dir].e        one contiguous edge array per direction; a list's capacity is not stored but
 *                      is graph_list_cap(len), a size class (1, 2, 3, 4, 6, 8, 12, 16, 24, ...)
 *
 * Invariants:
 *  1. A list of length len > 0 owns exactly graph_list_cap(len) slots; lists and free blocks never
 *     overlap. A full list grows by moving to the next class; its old block goes on the free list of
 *     its class (the block's first edge's first_seen holds the next free offset).
 *  2. pool.free_slots is the sum of the capacities on the free lists; when it exceeds an eighth of
 *     pool.used the pool is compacted (lists copied in node order, free lists emptied).
 *  3. A list longer than GRAPH_INDEX_MIN has an entry in big[dir]: an open-addressing table of list
 *     positions keyed by (other, kind), at most half full. Shorter lists have none.
 *  4. `str` starts with "" at offset 0. Namespaces and field names are stored once (strtab); node and
 *     alias names are appended as they come.
 *  5. nodetab maps each key to a node id, or to GRAPH_ALIAS_BIT | alias index; at most 3/4 full.
 *     Each filled slot also holds its key's hash (graph_key_hash), so a probe compares names only
 *     when the hashes agree and growing the table reads no names.
 *     Merged nodes keep their key (it resolves to them, and graph_live forwards), so a name never
 *     leaves the table; an alias entry may name a merged node.
 *  6. A merged node has the type of its target, empty lists and no list index; forwards end at a live
 *     node after fewer than node_count steps. No edge touches a merged node.
 *  7. Every used field_cache entry maps a live dataset and a field-name offset to the live field node
 *     of that key.
 * Threads: see graph.h; nothing here locks. */
#ifndef LINEAGED_GRAPH_INT_H
#define LINEAGED_GRAPH_INT_H

#include <pthread.h>

#include "graph.h"

enum {
    GRAPH_OUT = 0,
    GRAPH_IN = 1,
    GRAPH_FIELD_CACHE = 4096,     /* entries of the recent-fields cache (a power of two) */
    GRAPH_CLASSES = 64,           /* size classes of edge lists; class 63 holds more than 2^31 */
    GRAPH_INDEX_MIN = 32,         /* lists longer than this get a hash index */
};

enum {
    GRAPH_TYPE_MASK = 0x0f,    /* types[id] & GRAPH_TYPE_MASK: enum graph_node_type */
    GRAPH_NODE_PRIMARY = 0x10, /* this dataset name declared a symlink to another name */
    GRAPH_NODE_MERGED = 0x20,  /* merged: adj[GRAPH_OUT][id].off is where to */
    GRAPH_NODE_JOINED = 0x40,  /* some node was merged into this one (graph_add_new_edge) */
};

static const uint32_t GRAPH_EMPTY = UINT32_MAX;   /* empty hash slot, end of a free list */
static const uint32_t GRAPH_ALIAS_BIT = 1u << 31; /* nodetab slot refers to aliases[] */

struct graph_adj {
    uint32_t off;
    uint32_t len;
};

struct graph_names {
    uint32_t a;
    uint32_t b;
};

struct graph_pool {
    struct graph_edge *e;
    size_t used; /* slots handed out (in lists or on free lists) */
    size_t cap;  /* slots allocated */
    size_t free_slots;
    uint32_t free_head[GRAPH_CLASSES];
};

/* Index over one long list: slots hold positions in the list, GRAPH_EMPTY when unused. */
struct graph_index {
    uint32_t node; /* GRAPH_EMPTY: this map entry is unused */
    uint32_t mask;
    uint32_t *slots;
};

struct graph_index_map {
    struct graph_index *t;
    uint32_t mask;
    uint32_t count;
};

struct graph_table {
    uint32_t *slots;
    uint32_t mask;
    uint32_t count;
};

/* A nodetab slot: v is GRAPH_EMPTY, a node id or GRAPH_ALIAS_BIT | alias index; hash is the key's. */
struct graph_keyslot {
    uint32_t v;
    uint32_t hash;
};

struct graph_keytab {
    struct graph_keyslot *slots;
    uint32_t mask;
    uint32_t count;
};

/* A field node graph_field found or made lately: (live dataset, field-name offset) -> node. */
struct graph_field_hit {
    uint32_t dataset; /* GRAPH_EMPTY: unused */
    uint32_t field;
    uint32_t node;
};

struct graph_alias_entry {
    uint32_t ns_off;
    uint32_t name_off;
    uint32_t node;
};

struct graph {
    pthread_rwlock_t lock;
    size_t node_count, node_cap, edge_count;
    uint8_t *types;
    uint32_t *stamps;
    struct graph_names *names;
    struct graph_adj *adj[2];
    struct graph_pool pool[2];
    struct graph_index_map big[2];
    char *str;
    size_t str_len, str_cap;
    struct graph_table strtab;  /* shared strings: namespaces, field names */
    struct graph_keytab nodetab; /* node keys and aliases */
    struct graph_alias_entry *aliases;
    size_t alias_count, alias_cap;
    /* Rows name the fields of one event's datasets together, so graph_field meets the same few fields
     * again and again: a direct-mapped cache of them spares most lookups in nodetab. Emptied by every
     * merge (graph_set_merged), so it never returns a merged node. */
    struct graph_field_hit field_cache[GRAPH_FIELD_CACHE];
};

/* The edges of node id in direction dir (GRAPH_OUT or GRAPH_IN). */
static inline const struct graph_edge *graph_list(const struct graph *g, int dir, uint32_t id, uint32_t *len)
{
    const struct graph_adj *a = &g->adj[dir][id];
    *len = a->len;
    return g->pool[dir].e + a->off;
}

static inline unsigned graph_ntype(const struct graph *g, uint32_t id)
{
    return g->types[id] & GRAPH_TYPE_MASK;
}

/* The live node id stands for: id itself, or where its merges forwarded it (invariant 6). */
static inline uint32_t graph_live(const struct graph *g, uint32_t id)
{
    while (g->types[id] & GRAPH_NODE_MERGED)
        id = g->adj[GRAPH_OUT][id].off;
    return id;
}

/* Shared inside graph/: allocation, hashing and names (graph.c), edge lists (edges.c), merges
 * (merge.c). */

/* realloc that aborts when memory runs out (graph/ prints nothing). */
void *graph_xrealloc(void *p, size_t n);

/* p resized to hold `need` elements of `size` bytes; *cap grows by 1/2, by 1/8 once over 1 MiB. */
void *graph_reserve(void *p, size_t *cap, size_t need, size_t size);

uint64_t graph_mix64(uint64_t h);

/* n hash slots (a power of two), all GRAPH_EMPTY. */
uint32_t *graph_table_slots(uint32_t n);

/* Whether one more edge fits node's list of direction dir (offsets are 32-bit). */
bool graph_pool_has_room(const struct graph *g, int dir, uint32_t node);

/* The hash of key (type, a, name): the nodetab slot it starts probing at is hash & mask. */
uint32_t graph_key_hash(unsigned type, uint32_t a, const char *name);

/* The nodetab slot holding key (type, a, name), or the empty slot where it would go (graph.c).
 * *hash (may be NULL) gets graph_key_hash of the key, for filling that slot. */
uint32_t graph_key_slot(const struct graph *g, unsigned type, uint32_t a, const char *name, uint32_t *hash);

/* Names (graph.c). graph_str_add appends s to the string pool (*off: its offset); graph_strtab_intern
 * returns the one stored copy of a namespace or field name. Both -1 with e set past 4 GiB of names. */
int graph_str_add(struct graph *g, const char *s, uint32_t *off, struct err *e);
int graph_strtab_intern(struct graph *g, const char *s, uint32_t *off, struct err *e);

/* The live node a nodetab slot value (node id or GRAPH_ALIAS_BIT | alias index) stands for. */
uint32_t graph_slot_node(const struct graph *g, uint32_t v);

/* A new node (no edges, stamp 0) with names {a, b}; the caller puts its key in nodetab. */
uint32_t graph_node_add(struct graph *g, unsigned type, uint32_t a, uint32_t b);

/* The live node for key (type, a, name), created if missing (b = field_off, or a copy of name when
 * field_off is GRAPH_EMPTY). GRAPH_NO_NODE with e set when the graph is full. */
uint32_t graph_intern_key(struct graph *g, unsigned type, uint32_t a, const char *name, uint32_t field_off,
                          struct err *e);

/* Grows nodetab once it is more than 3/4 full (after a slot was filled). */
void graph_nodetab_grow(struct graph *g);

/* Makes each direction's edge pool hold at least `slots` edges without growing (edges.c). */
void graph_pools_reserve(struct graph *g, size_t slots);

/* Frees each edge pool's capacity beyond what is used (its free blocks stay on their free lists:
 * compacting would copy the pool, and need room for both copies meanwhile). */
void graph_pools_trim(struct graph *g);

/* Capacity of size class k: 1, 2, 3, 4, 6, 8, 12, 16, 24, ... */
size_t graph_class_cap(unsigned k);

/* Slots owned by a list of length len: its size class's capacity (0 for an empty list). */
size_t graph_list_cap(size_t len);

/* The index of node's list in direction dir, or NULL if the list has none. */
struct graph_index *graph_index_get(const struct graph *g, int dir, uint32_t node);

/* Position of (other, kind) in node's list of direction dir, or GRAPH_EMPTY. */
uint32_t graph_list_find(const struct graph *g, int dir, uint32_t node, uint32_t other, unsigned kind);

/* Removes the edge at position pos of node's list in direction dir (the last edge takes its place),
 * only that copy: the caller removes the mirror and fixes edge_count. The list's capacity shrinks
 * to its new size class (the freed tail goes on a free list) and its index follows (invariants 1, 3). */
void graph_list_remove(struct graph *g, int dir, uint32_t node, uint32_t pos);

/* Empties node's list in direction dir, releasing its block and index (copies only, as above). */
void graph_list_clear(struct graph *g, int dir, uint32_t node);

/* Empties the recent-fields cache (graph.c; merges call it, invariant 7). */
void graph_field_cache_clear(struct graph *g);

/* The recent-fields cache entry key (dataset, field_off) belongs in. */
struct graph_field_hit *graph_field_cache_entry(struct graph *g, uint32_t dataset, uint32_t field_off);

/* graph_field for a live dataset node and a field name already interned at off (graph.c). */
uint32_t graph_field_at(struct graph *g, uint32_t dataset, const char *field, uint32_t off, struct err *e);

/* Marks `from` merged into `to` (both of one type; from's lists must be empty). */
void graph_set_merged(struct graph *g, uint32_t from, uint32_t to);

/* Moves every field and edge of dataset node `loser` to dataset node `survivor` (both live, distinct)
 * and marks loser and its fields merged (merge.c). Edges that would join survivor to itself are
 * dropped; duplicates widen into one. -1 with e set when the graph is full (then the merge is partial
 * but every invariant holds). */
int graph_merge_into(struct graph *g, uint32_t loser, uint32_t survivor, struct err *e);

#endif
