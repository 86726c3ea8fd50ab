/* graph/graph.c - nodes, interned names, symlinked names, locking and accessors of the in-memory
 * lineage graph.
 *
 * The storage layout is described in graph_int.h; edge lists are kept by edges.c, merges by merge.c.
 * Names are interned in open-addressing tables of 32-bit slots: strtab holds the one copy of each
 * namespace and field name, nodetab maps (type, namespace offset or dataset id, name) to a node id or
 * an alias. A symlink to a name that is new only adds an alias entry; one to a name that already
 * stands for another node merges the two groups (graph_alias), and a name that declares a symlink
 * while it is an alias entry becomes a (merged) node of its own, so that it can carry the primary
 * flag and, when it is the group's smallest primary name, trade names with the live node.
 *
 * Invariants: graph.h 1 and 4, graph_int.h 4-6; graph_check() verifies all of them.
 * Ownership: the graph owns every array; strings passed in are copied. Out of memory aborts
 * (arena_alloc's contract; graph/ prints nothing).
 * Threads: nothing here locks except graph_lock_*, which callers use as graph.h says. */
#include "graph.h"
#include "graph_int.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum {
    GRAPH_TABLE_MIN = 1024,      /* initial slots of strtab and nodetab */
    GRAPH_BIG_ARRAY = 1 << 20,   /* bytes from which arrays grow by 1/8 instead of 1/2 */
    GRAPH_HUGE_PAGE = 2 << 20,   /* a transparent huge page on x86-64 and arm64 (4 KiB base pages) */
    GRAPH_HUGE_ARRAY = 8 << 20,  /* bytes from which arrays ask for huge pages */
};

static const uint32_t GRAPH_MAX_STR = UINT32_MAX; /* string offsets are 32-bit */

/* ---- allocation and hashing ---- */

/* Asks the kernel to back the whole huge pages inside [p, p + n) with transparent huge pages.
 * Loads and walks jump around hundreds of megabytes of arrays: with 4 KiB pages nearly every step
 * also misses the TLB (a 10 M node load took 23 s of CPU with them, 16 s with huge pages). Only a
 * hint: where THP is off or unsupported nothing changes. */
static void hint_huge_pages(void *p, size_t n)
{
    uintptr_t lo = ((uintptr_t)p + GRAPH_HUGE_PAGE - 1) & ~(uintptr_t)(GRAPH_HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(GRAPH_HUGE_PAGE - 1);

    if (hi > lo && madvise((void *)lo, hi - lo, MADV_HUGEPAGE) != 0)
        return; /* EINVAL without THP support: the array works the same on small pages */
}

void *graph_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        abort(); /* out of memory: see the header comment */
    if (n >= GRAPH_HUGE_ARRAY)
        hint_huge_pages(q, n);
    return q;
}

/* How far an array of cap elements of `size` bytes grows: by half while small, by an eighth once
 * large (glibc moves large blocks with mremap, so small steps do not copy; slack stays <= 12.5%). */
static size_t grown(size_t cap, size_t size)
{
    return cap * size < GRAPH_BIG_ARRAY ? cap + cap / 2 : cap + cap / 8;
}

/* p resized so that it holds `need` elements of `size` bytes. */
void *graph_reserve(void *p, size_t *cap, size_t need, size_t size)
{
    size_t n = grown(*cap, size);

    if (need <= *cap)
        return p;
    if (n < need)
        n = need;
    if (n < 16)
        n = 16;
    *cap = n;
    return graph_xrealloc(p, n * size);
}

uint64_t graph_mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

uint32_t *graph_table_slots(uint32_t n)
{
    uint32_t *s = graph_xrealloc(NULL, (size_t)n * sizeof *s);

    memset(s, 0xff, (size_t)n * sizeof *s); /* GRAPH_EMPTY */
    return s;
}

/* Doubles t when it is more than 3/4 full, re-placing every string offset by its string's hash. */
static void strtab_maybe_grow(const struct graph *g, struct graph_table *t)
{
    uint32_t n = (t->mask + 1) * 2;
    uint32_t *s;

    if ((uint64_t)t->count * 4 <= (uint64_t)(t->mask + 1) * 3)
        return;
    s = graph_table_slots(n);
    for (uint32_t i = 0; i <= t->mask; i++) {
        uint32_t v = t->slots[i], j;
        if (v == GRAPH_EMPTY)
            continue;
        for (j = (uint32_t)graph_mix64(hash_str(g->str + v)) & (n - 1); s[j] != GRAPH_EMPTY; j = (j + 1) & (n - 1))
            ;
        s[j] = v;
    }
    free(t->slots);
    t->slots = s;
    t->mask = n - 1;
}

static struct graph_keyslot *keytab_slots(uint32_t n)
{
    struct graph_keyslot *s = graph_xrealloc(NULL, (size_t)n * sizeof *s);

    for (uint32_t i = 0; i < n; i++)
        s[i] = (struct graph_keyslot){GRAPH_EMPTY, 0};
    return s;
}

/* Moves nodetab into n slots (a power of two that keeps it at most 3/4 full), by the stored hashes. */
static void keytab_resize(struct graph_keytab *t, uint32_t n)
{
    struct graph_keyslot *s = keytab_slots(n);

    for (uint32_t i = 0; i <= t->mask; i++) {
        uint32_t j;
        if (t->slots[i].v == GRAPH_EMPTY)
            continue;
        for (j = t->slots[i].hash & (n - 1); s[j].v != GRAPH_EMPTY; j = (j + 1) & (n - 1))
            ;
        s[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = s;
    t->mask = n - 1;
}

/* ---- strings ---- */

/* Appends s to the pool; its offset in *off. -1 with e set past 4 GiB of strings. */
int graph_str_add(struct graph *g, const char *s, uint32_t *off, struct err *e)
{
    size_t n = strlen(s) + 1;

    if (g->str_len + n > GRAPH_MAX_STR)
        return err_set(e, ERR_TOO_LARGE, NULL, "the graph holds too many names");
    g->str = graph_reserve(g->str, &g->str_cap, g->str_len + n, 1);
    memcpy(g->str + g->str_len, s, n);
    *off = (uint32_t)g->str_len;
    g->str_len += n;
    return 0;
}

static uint32_t strtab_probe(const struct graph *g, const char *s)
{
    const struct graph_table *t = &g->strtab;
    uint32_t i = (uint32_t)graph_mix64(hash_str(s)) & t->mask;

    while (t->slots[i] != GRAPH_EMPTY && strcmp(g->str + t->slots[i], s) != 0)
        i = (i + 1) & t->mask;
    return i;
}

/* The offset of the one stored copy of s (a namespace or field name), added if missing. */
int graph_strtab_intern(struct graph *g, const char *s, uint32_t *off, struct err *e)
{
    uint32_t i = strtab_probe(g, s);

    if (g->strtab.slots[i] != GRAPH_EMPTY) {
        *off = g->strtab.slots[i];
        return 0;
    }
    if (graph_str_add(g, s, off, e) < 0)
        return -1;
    g->strtab.slots[i] = *off;
    g->strtab.count++;
    strtab_maybe_grow(g, &g->strtab);
    return 0;
}

static bool strtab_find(const struct graph *g, const char *s, uint32_t *off)
{
    uint32_t i = strtab_probe(g, s);

    *off = g->strtab.slots[i];
    return *off != GRAPH_EMPTY;
}

/* ---- node keys ---- */

uint32_t graph_key_hash(unsigned type, uint32_t a, const char *name)
{
    return (uint32_t)graph_mix64(hash_str(name) ^ ((uint64_t)type << 60) ^ ((uint64_t)a * 0x9e3779b97f4a7c15ULL));
}

static bool slot_matches(const struct graph *g, uint32_t v, unsigned type, uint32_t a, const char *name)
{
    if (v & GRAPH_ALIAS_BIT) {
        const struct graph_alias_entry *al = &g->aliases[v & ~GRAPH_ALIAS_BIT];
        return type == GRAPH_DATASET && al->ns_off == a && strcmp(g->str + al->name_off, name) == 0;
    }
    return g->names[v].a == a && graph_ntype(g, v) == type && strcmp(g->str + g->names[v].b, name) == 0;
}

uint32_t graph_key_slot(const struct graph *g, unsigned type, uint32_t a, const char *name, uint32_t *hash)
{
    const struct graph_keytab *t = &g->nodetab;
    uint32_t h = graph_key_hash(type, a, name), i = h & t->mask;

    while (t->slots[i].v != GRAPH_EMPTY && (t->slots[i].hash != h || !slot_matches(g, t->slots[i].v, type, a, name)))
        i = (i + 1) & t->mask;
    if (hash != NULL)
        *hash = h;
    return i;
}

/* The live node a nodetab slot value stands for. */
uint32_t graph_slot_node(const struct graph *g, uint32_t v)
{
    return graph_live(g, (v & GRAPH_ALIAS_BIT) ? g->aliases[v & ~GRAPH_ALIAS_BIT].node : v);
}

/* Resizes the per-node arrays to hold cap nodes (cap >= node_count). */
static void nodes_resize(struct graph *g, size_t cap)
{
    g->types = graph_xrealloc(g->types, cap * sizeof *g->types);
    g->stamps = graph_xrealloc(g->stamps, cap * sizeof *g->stamps);
    g->names = graph_xrealloc(g->names, cap * sizeof *g->names);
    g->adj[GRAPH_OUT] = graph_xrealloc(g->adj[GRAPH_OUT], cap * sizeof *g->adj[GRAPH_OUT]);
    g->adj[GRAPH_IN] = graph_xrealloc(g->adj[GRAPH_IN], cap * sizeof *g->adj[GRAPH_IN]);
    g->node_cap = cap;
}

uint32_t graph_node_add(struct graph *g, unsigned type, uint32_t a, uint32_t b)
{
    uint32_t id = (uint32_t)g->node_count;

    if (g->node_count == g->node_cap)
        nodes_resize(g, g->node_cap < 16 ? 16 : grown(g->node_cap, sizeof(struct graph_names)));
    g->types[id] = (uint8_t)type;
    g->stamps[id] = 0;
    g->names[id] = (struct graph_names){a, b};
    g->adj[GRAPH_OUT][id] = (struct graph_adj){0, 0};
    g->adj[GRAPH_IN][id] = (struct graph_adj){0, 0};
    g->node_count++;
    return id;
}

/* The node for key (type, a, name), created if missing. A new node's b is field_off if that is not
 * GRAPH_EMPTY, else a fresh copy of name. */
uint32_t graph_intern_key(struct graph *g, unsigned type, uint32_t a, const char *name, uint32_t field_off,
                           struct err *e)
{
    uint32_t h, i = graph_key_slot(g, type, a, name, &h), b = field_off, id;

    if (g->nodetab.slots[i].v != GRAPH_EMPTY)
        return graph_slot_node(g, g->nodetab.slots[i].v);
    if (g->node_count >= GRAPH_MAX_NODES) {
        err_set(e, ERR_TOO_LARGE, NULL, "the graph is full (%u nodes)", (unsigned)GRAPH_MAX_NODES);
        return GRAPH_NO_NODE;
    }
    if (b == GRAPH_EMPTY && graph_str_add(g, name, &b, e) < 0)
        return GRAPH_NO_NODE;
    id = graph_node_add(g, type, a, b);
    g->nodetab.slots[i] = (struct graph_keyslot){id, h};
    g->nodetab.count++;
    graph_nodetab_grow(g);
    return id;
}

void graph_nodetab_grow(struct graph *g)
{
    struct graph_keytab *t = &g->nodetab;

    if ((uint64_t)t->count * 4 > (uint64_t)(t->mask + 1) * 3)
        keytab_resize(t, (t->mask + 1) * 2);
}

void graph_presize(struct graph *g, size_t nodes, size_t edges, size_t name_bytes)
{
    size_t slots = g->nodetab.mask + 1;

    if (nodes > GRAPH_MAX_NODES)
        nodes = GRAPH_MAX_NODES;
    if (nodes > g->node_cap)
        nodes_resize(g, nodes);
    while ((uint64_t)nodes * 4 > (uint64_t)slots * 3)
        slots *= 2;
    if (slots > (size_t)g->nodetab.mask + 1)
        keytab_resize(&g->nodetab, (uint32_t)slots);
    if (name_bytes > g->str_cap && name_bytes <= GRAPH_MAX_STR) {
        g->str = graph_xrealloc(g->str, name_bytes);
        g->str_cap = name_bytes;
    }
    /* a list owns its size class's capacity: about 1/8 more than its edges on average */
    graph_pools_reserve(g, edges + edges / 8);
}

void graph_trim(struct graph *g)
{
    if (g->node_cap > g->node_count && g->node_count >= 16)
        nodes_resize(g, g->node_count);
    if (g->str_cap > g->str_len) {
        g->str = graph_xrealloc(g->str, g->str_len);
        g->str_cap = g->str_len;
    }
    graph_pools_trim(g);
}

/* ---- life cycle and locking ---- */

struct graph *graph_new(void)
{
    struct graph *g = calloc(1, sizeof *g);
    pthread_rwlockattr_t attr;
    uint32_t off;
    struct err e;

    if (g == NULL)
        return NULL;
    if (pthread_rwlockattr_init(&attr) != 0) {
        free(g);
        return NULL;
    }
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (pthread_rwlock_init(&g->lock, &attr) != 0) {
        pthread_rwlockattr_destroy(&attr);
        free(g);
        return NULL;
    }
    pthread_rwlockattr_destroy(&attr);
    for (int d = 0; d < 2; d++) {
        memset(g->pool[d].free_head, 0xff, sizeof g->pool[d].free_head);
        g->big[d].t = graph_xrealloc(NULL, sizeof *g->big[d].t);
        g->big[d].t[0] = (struct graph_index){GRAPH_EMPTY, 0, NULL};
        g->big[d].mask = 0;
    }
    g->strtab = (struct graph_table){graph_table_slots(GRAPH_TABLE_MIN), GRAPH_TABLE_MIN - 1, 0};
    g->nodetab = (struct graph_keytab){keytab_slots(GRAPH_TABLE_MIN), GRAPH_TABLE_MIN - 1, 0};
    if (graph_str_add(g, "", &off, &e) < 0) /* offset 0: the empty string; cannot fail on an empty pool */
        abort();
    graph_field_cache_clear(g);
    return g;
}

void graph_free(struct graph *g)
{
    if (g == NULL)
        return;
    for (int d = 0; d < 2; d++) {
        for (uint32_t i = 0; i <= g->big[d].mask; i++)
            free(g->big[d].t[i].slots);
        free(g->big[d].t);
        free(g->pool[d].e);
        free(g->adj[d]);
    }
    free(g->aliases);
    free(g->nodetab.slots);
    free(g->strtab.slots);
    free(g->str);
    free(g->names);
    free(g->types);
    free(g->stamps);
    pthread_rwlock_destroy(&g->lock);
    free(g);
}

void graph_lock_read(struct graph *g)
{
    if (pthread_rwlock_rdlock(&g->lock) != 0)
        abort(); /* only on deadlock or too many readers: a bug, not an input */
}

void graph_lock_write(struct graph *g)
{
    if (pthread_rwlock_wrlock(&g->lock) != 0)
        abort();
}

void graph_unlock(struct graph *g)
{
    if (pthread_rwlock_unlock(&g->lock) != 0)
        abort();
}

/* ---- names ---- */

static bool named_type(enum graph_node_type type)
{
    return type == GRAPH_DATASET || type == GRAPH_JOB || type == GRAPH_RUN;
}

uint32_t graph_intern(struct graph *g, enum graph_node_type type, const char *ns, const char *name,
                      struct err *e)
{
    uint32_t ns_off;

    if (!named_type(type)) {
        err_set(e, ERR_INVALID, "type", "node type %d is not interned by name", (int)type);
        return GRAPH_NO_NODE;
    }
    if (ns == NULL || name == NULL) {
        err_set(e, ERR_BAD_INPUT, ns == NULL ? "namespace" : "name", "missing name");
        return GRAPH_NO_NODE;
    }
    if (graph_strtab_intern(g, ns, &ns_off, e) < 0)
        return GRAPH_NO_NODE;
    return graph_intern_key(g, type, ns_off, name, GRAPH_EMPTY, e);
}

static bool is_dataset(const struct graph *g, uint32_t id)
{
    return id < g->node_count && graph_ntype(g, id) == GRAPH_DATASET;
}

void graph_field_cache_clear(struct graph *g)
{
    memset(g->field_cache, 0xff, sizeof g->field_cache); /* dataset GRAPH_EMPTY */
}

struct graph_field_hit *graph_field_cache_entry(struct graph *g, uint32_t dataset, uint32_t field_off)
{
    uint32_t h = (dataset * 0x9e3779b1u) ^ (field_off * 0x85ebca6bu);

    return &g->field_cache[(h ^ (h >> 16)) & (GRAPH_FIELD_CACHE - 1)];
}

uint32_t graph_field_at(struct graph *g, uint32_t dataset, const char *field, uint32_t off, struct err *e)
{
    size_t before = g->node_count;
    struct graph_field_hit *hit = graph_field_cache_entry(g, dataset, off);
    uint32_t id;

    if (hit->dataset == dataset && hit->field == off)
        return hit->node;
    if (!graph_pool_has_room(g, GRAPH_IN, dataset) || g->pool[GRAPH_OUT].used + 1 > UINT32_MAX) {
        err_set(e, ERR_TOO_LARGE, NULL, "the graph holds too many edges");
        return GRAPH_NO_NODE; /* checked first, so a new field always gets its FIELD_OF edge */
    }
    id = graph_intern_key(g, GRAPH_FIELD, dataset, field, off, e);
    if (id != GRAPH_NO_NODE && g->node_count > before &&
        graph_add_edge(g, id, dataset, GRAPH_EDGE_FIELD_OF, 0, 0, GRAPH_NO_NODE, e) < 0)
        abort(); /* cannot happen: both ids are valid and there is room (checked above) */
    if (id != GRAPH_NO_NODE)
        *hit = (struct graph_field_hit){dataset, off, id};
    return id;
}

uint32_t graph_field(struct graph *g, uint32_t dataset, const char *field, struct err *e)
{
    uint32_t off;

    if (!is_dataset(g, dataset)) {
        err_set(e, ERR_INVALID, "dataset", "node %" PRIu32 " is not a dataset", dataset);
        return GRAPH_NO_NODE;
    }
    if (field == NULL) {
        err_set(e, ERR_BAD_INPUT, "field", "missing field name");
        return GRAPH_NO_NODE;
    }
    if (graph_strtab_intern(g, field, &off, e) < 0)
        return GRAPH_NO_NODE;
    return graph_field_at(g, graph_live(g, dataset), field, off, e);
}

bool graph_find(const struct graph *g, enum graph_node_type type, const char *ns, const char *name, uint32_t *id)
{
    uint32_t ns_off, i;

    if (!named_type(type) || ns == NULL || name == NULL || !strtab_find(g, ns, &ns_off))
        return false;
    i = graph_key_slot(g, type, ns_off, name, NULL);
    if (g->nodetab.slots[i].v == GRAPH_EMPTY)
        return false;
    *id = graph_slot_node(g, g->nodetab.slots[i].v);
    return true;
}

bool graph_find_field(const struct graph *g, uint32_t dataset, const char *field, uint32_t *id)
{
    uint32_t off, i;

    if (!is_dataset(g, dataset) || field == NULL || !strtab_find(g, field, &off))
        return false;
    i = graph_key_slot(g, GRAPH_FIELD, graph_live(g, dataset), field, NULL);
    if (g->nodetab.slots[i].v == GRAPH_EMPTY)
        return false;
    *id = graph_slot_node(g, g->nodetab.slots[i].v);
    return true;
}

/* ---- accessors ---- */

size_t graph_node_count(const struct graph *g)
{
    return g->node_count;
}

size_t graph_edge_count(const struct graph *g)
{
    return g->edge_count;
}

size_t graph_memory_bytes(const struct graph *g)
{
    size_t n = sizeof *g + g->str_cap + g->alias_cap * sizeof *g->aliases;

    n += g->node_cap * (sizeof *g->types + sizeof *g->stamps + sizeof *g->names + 2 * sizeof(struct graph_adj));
    n += ((size_t)g->strtab.mask + 1) * sizeof(uint32_t);
    n += ((size_t)g->nodetab.mask + 1) * sizeof(struct graph_keyslot);
    for (int d = 0; d < 2; d++) {
        n += g->pool[d].cap * sizeof(struct graph_edge);
        n += ((size_t)g->big[d].mask + 1) * sizeof(struct graph_index);
        for (uint32_t i = 0; i <= g->big[d].mask; i++) {
            if (g->big[d].t[i].node != GRAPH_EMPTY)
                n += ((size_t)g->big[d].t[i].mask + 1) * sizeof(uint32_t);
        }
    }
    return n;
}

void graph_touch(struct graph *g, uint32_t id)
{
    assert(id < g->node_count);
    g->stamps[graph_live(g, id)]++;
}

uint32_t graph_resolve(const struct graph *g, uint32_t id)
{
    assert(id < g->node_count);
    return graph_live(g, id);
}

uint32_t graph_node_stamp(const struct graph *g, uint32_t id)
{
    assert(id < g->node_count);
    return g->stamps[id];
}

enum graph_node_type graph_type(const struct graph *g, uint32_t id)
{
    assert(id < g->node_count);
    return (enum graph_node_type)graph_ntype(g, id);
}

const char *graph_node_namespace(const struct graph *g, uint32_t id)
{
    assert(id < g->node_count);
    if (graph_ntype(g, id) == GRAPH_FIELD)
        id = g->names[id].a;
    return g->str + g->names[id].a;
}

const char *graph_node_name(const struct graph *g, uint32_t id)
{
    assert(id < g->node_count);
    if (graph_ntype(g, id) == GRAPH_FIELD)
        id = g->names[id].a;
    return g->str + g->names[id].b;
}

const char *graph_node_field(const struct graph *g, uint32_t id)
{
    assert(id < g->node_count);
    return graph_ntype(g, id) == GRAPH_FIELD ? g->str + g->names[id].b : g->str;
}

uint32_t graph_node_dataset(const struct graph *g, uint32_t id)
{
    assert(id < g->node_count);
    return graph_ntype(g, id) == GRAPH_FIELD ? g->names[id].a : id;
}
