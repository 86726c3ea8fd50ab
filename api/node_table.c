/* api/node_table.c - lineage node data of every dataset and job from the start-up load, kept
 * compactly and rendered on demand (see node_table.h).
 *
 * Layout: entries[node] (56 bytes) holds a node's times and string references; a dataset's fields
 * are fields[first .. first + count) (12 bytes each: name, type, description). A string reference is
 * an offset into one pool of NUL-terminated strings, each stored once (a hash table of offsets finds
 * them); REF_NULL is SQL NULL and REF_SAME the node's own name (physical names and simple names
 * usually are), so those cost no pool bytes. While filling, a dataset whose fields arrive in several
 * runs (dataset_fields is read in heap order) has its earlier ones moved to the end of the array;
 * node_table_finish compacts the array when such holes pass an eighth of it.
 * Invariants: node_table.h's; entries[i].type == REF_NULL marks "no entry".
 * Ownership: the table owns every array; row strings are copied. Out of memory while filling is an
 * error the load reports. Threads: see node_table.h. */
#include "node_table.h"

#include <stdlib.h>
#include <string.h>

#include "json_text.h"
#include "timefmt.h"

enum {
    REF_NULL = 0,
    REF_SAME = 1,      /* the node's own name */
    REF_FIRST = 2,     /* first offset of a stored string */
    TABLE_MIN = 1024,  /* initial slots of the string table */
};

enum entry_kind { KIND_NONE = 0, KIND_DATASET = 1, KIND_JOB = 2 };

struct entry {
    int64_t created_usec, updated_usec;
    uint32_t type;  /* string; REF_NULL: no entry */
    uint32_t s[4];  /* dataset: physical name, source, description, lifecycle state;
                       job: simple name, description, location, (unused) */
    uint32_t kind_of[2]; /* dataset: dataset type, sub type (its kind) */
    uint32_t first; /* dataset: its first field */
    uint32_t count; /* dataset: its fields */
    uint8_t kind;   /* enum entry_kind */
};

struct field {
    uint32_t name, type, description;
};

struct node_table {
    char *str;
    size_t str_len, str_cap;
    uint32_t *slots; /* string offsets, 0 when empty */
    uint32_t mask, count;
    struct entry *entries;
    size_t n_entries, cap_entries, held;
    struct field *fields;
    int32_t *ordinals; /* while filling: each field's ordinal */
    size_t n_fields, cap_fields, cap_ordinals, holes;
};

/* ---- growable arrays ---- */

/* *p resized to hold need elements of size bytes (doubling). -1 when memory runs out. */
static int reserve(void **p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 64;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static int oom(struct err *e)
{
    return err_set(e, ERR_INTERNAL, NULL, "out of memory for lineage node data");
}

/* ---- strings ---- */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static uint32_t probe(const struct node_table *t, const char *s)
{
    uint32_t i = hash_str(s) & t->mask;

    while (t->slots[i] != 0 && strcmp(t->str + t->slots[i], s) != 0)
        i = (i + 1) & t->mask;
    return i;
}

static int table_grow(struct node_table *t)
{
    uint32_t n = (t->mask + 1) * 2, *old = t->slots, old_mask = t->mask;

    if ((uint64_t)t->count * 4 <= (uint64_t)(t->mask + 1) * 3)
        return 0;
    if ((t->slots = calloc(n, sizeof *t->slots)) == NULL) {
        t->slots = old;
        return -1;
    }
    t->mask = n - 1;
    for (uint32_t i = 0; i <= old_mask; i++)
        if (old[i] != 0)
            t->slots[probe(t, t->str + old[i])] = old[i];
    free(old);
    return 0;
}

/* The reference of s: REF_NULL for NULL, else its one stored copy (added if new). */
static int intern(struct node_table *t, const char *s, uint32_t *ref, struct err *e)
{
    size_t n;
    uint32_t i;

    if (s == NULL) {
        *ref = REF_NULL;
        return 0;
    }
    i = probe(t, s);
    if (t->slots[i] != 0) {
        *ref = t->slots[i];
        return 0;
    }
    n = strlen(s) + 1;
    if (t->str_len + n > UINT32_MAX)
        return err_set(e, ERR_TOO_LARGE, NULL, "lineage node data holds too many strings");
    if (reserve((void **)&t->str, &t->str_cap, t->str_len + n, 1) != 0)
        return oom(e);
    memcpy(t->str + t->str_len, s, n);
    *ref = t->slots[i] = (uint32_t)t->str_len;
    t->str_len += n;
    t->count++;
    return table_grow(t) == 0 ? 0 : oom(e);
}

/* ---- filling ---- */

struct node_table *node_table_new(void)
{
    struct node_table *t = calloc(1, sizeof *t);

    if (t == NULL || (t->slots = calloc(TABLE_MIN, sizeof *t->slots)) == NULL ||
        (t->str = malloc(TABLE_MIN)) == NULL) {
        node_table_free(t);
        return NULL;
    }
    t->mask = TABLE_MIN - 1;
    t->str_cap = TABLE_MIN;
    memset(t->str, 0, REF_FIRST); /* offsets 0 and 1 are REF_NULL and REF_SAME, never strings */
    t->str_len = REF_FIRST;
    return t;
}

void node_table_free(struct node_table *t)
{
    if (t == NULL)
        return;
    free(t->str);
    free(t->slots);
    free(t->entries);
    free(t->fields);
    free(t->ordinals);
    free(t);
}

void node_table_sizes(struct node_table *t, const struct store_graph_sizes *sz)
{
    /* hints: failing to reserve now only means growing later */
    if (reserve((void **)&t->entries, &t->cap_entries, sz->datasets + sz->jobs, sizeof *t->entries) == 0 &&
        reserve((void **)&t->fields, &t->cap_fields, sz->fields, sizeof *t->fields) == 0)
        reserve((void **)&t->ordinals, &t->cap_ordinals, sz->fields, sizeof *t->ordinals);
}

/* The entry of node, made (empty) if the array does not reach it yet. NULL when memory runs out. */
static struct entry *entry_at(struct node_table *t, uint32_t node)
{
    if (node >= t->n_entries) {
        size_t cap = t->cap_entries;
        if (reserve((void **)&t->entries, &cap, (size_t)node + 1, sizeof *t->entries) != 0)
            return NULL;
        t->cap_entries = cap;
        memset(t->entries + t->n_entries, 0, ((size_t)node + 1 - t->n_entries) * sizeof *t->entries);
        t->n_entries = (size_t)node + 1;
    }
    return &t->entries[node];
}

/* REF_SAME when s is the row's own name, else s interned. */
static int intern_or_same(struct node_table *t, const char *s, const char *name, uint32_t *ref, struct err *e)
{
    if (s != NULL && strcmp(s, name) == 0) {
        *ref = REF_SAME;
        return 0;
    }
    return intern(t, s, ref, e);
}

int node_table_add_dataset(struct node_table *t, uint32_t node, const struct store_graph_dataset *d,
                           struct err *e)
{
    struct entry *x = entry_at(t, node), v = {.created_usec = d->created_usec, .updated_usec = d->updated_usec,
                                              .kind = KIND_DATASET};

    if (x == NULL)
        return oom(e);
    if (intern(t, d->type, &v.type, e) != 0 || intern_or_same(t, d->physical_name, d->name, &v.s[0], e) != 0 ||
        intern(t, d->source_name, &v.s[1], e) != 0 || intern(t, d->description, &v.s[2], e) != 0 ||
        intern(t, d->lifecycle_state, &v.s[3], e) != 0 || intern(t, d->dataset_type, &v.kind_of[0], e) != 0 ||
        intern(t, d->sub_type, &v.kind_of[1], e) != 0)
        return -1;
    if (v.type == REF_NULL)
        return 0; /* type is NOT NULL; a row without one is left to the database */
    t->held += x->kind == KIND_NONE;
    *x = v;
    return 0;
}

int node_table_add_job(struct node_table *t, uint32_t node, const struct store_graph_job *j, struct err *e)
{
    struct entry *x, v = {.created_usec = j->created_usec, .updated_usec = j->updated_usec, .kind = KIND_JOB};

    if (j->latest_run != NULL || j->parent_id != 0)
        return 0; /* its latestRun, or its parent's name, comes from the database */
    if ((x = entry_at(t, node)) == NULL)
        return oom(e);
    if (intern(t, j->type, &v.type, e) != 0 || intern_or_same(t, j->simple_name, j->name, &v.s[0], e) != 0 ||
        intern(t, j->description, &v.s[1], e) != 0 || intern(t, j->location, &v.s[2], e) != 0)
        return -1;
    if (v.type == REF_NULL)
        return 0;
    t->held += x->kind == KIND_NONE;
    *x = v;
    return 0;
}

/* Room for one more field; 0, or -1 when memory runs out or the array is full. */
static int field_room(struct node_table *t, struct err *e)
{
    if (t->n_fields >= UINT32_MAX)
        return err_set(e, ERR_TOO_LARGE, NULL, "lineage node data holds too many fields");
    if (reserve((void **)&t->fields, &t->cap_fields, t->n_fields + 1, sizeof *t->fields) != 0 ||
        reserve((void **)&t->ordinals, &t->cap_ordinals, t->n_fields + 1, sizeof *t->ordinals) != 0)
        return oom(e);
    return 0;
}

int node_table_add_field(struct node_table *t, uint32_t dataset_node, const struct store_graph_field *f,
                         struct err *e)
{
    struct entry *x = dataset_node < t->n_entries ? &t->entries[dataset_node] : NULL;
    struct field v;

    if (x == NULL || x->kind != KIND_DATASET)
        return 0;
    if (intern(t, f->name, &v.name, e) != 0 || intern(t, f->type, &v.type, e) != 0 ||
        intern(t, f->description, &v.description, e) != 0)
        return -1;
    if (x->count > 0 && x->first + x->count != t->n_fields) {
        /* an earlier run of this dataset's fields is elsewhere: move it to the end, leaving a hole */
        if (t->n_fields + x->count + 1 > UINT32_MAX)
            return err_set(e, ERR_TOO_LARGE, NULL, "lineage node data holds too many fields");
        for (uint32_t k = 0; k < x->count; k++) {
            if (field_room(t, e) != 0)
                return -1;
            t->fields[t->n_fields] = t->fields[x->first + k];
            t->ordinals[t->n_fields++] = t->ordinals[x->first + k];
        }
        t->holes += x->count;
        x->first = (uint32_t)(t->n_fields - x->count);
    } else if (x->count == 0) {
        x->first = (uint32_t)t->n_fields;
    }
    if (field_room(t, e) != 0)
        return -1;
    t->fields[t->n_fields] = v;
    t->ordinals[t->n_fields++] = f->ordinal;
    x->count++;
    return 0;
}

/* ---- finishing ---- */

struct field_ord {
    int32_t ordinal;
    struct field f;
};

/* (ordinal, name) in byte order, as store/store_nodes.c's ORDER BY f.ordinal, f.name COLLATE "C". */
static int cmp_field(const void *a, const void *b, void *pool)
{
    const struct field_ord *x = a, *y = b;

    if (x->ordinal != y->ordinal)
        return x->ordinal < y->ordinal ? -1 : 1;
    return strcmp((const char *)pool + x->f.name, (const char *)pool + y->f.name);
}

enum { SORT_SMALL = 32 }; /* fields sorted in place by insertion (they mostly arrive in order) */

/* Sorts the fields of x (ordinals still known). When memory for a long list runs out, the entry is
 * dropped instead (the database answers for that dataset). */
static void sort_fields(struct node_table *t, struct entry *x)
{
    struct field_ord small[SORT_SMALL], *tmp;

    if (x->count < 2)
        return;
    tmp = x->count <= SORT_SMALL ? small : malloc(x->count * sizeof *tmp);
    if (tmp == NULL) {
        x->kind = KIND_NONE;
        x->type = REF_NULL;
        t->held--;
        return;
    }
    for (uint32_t k = 0; k < x->count; k++)
        tmp[k] = (struct field_ord){t->ordinals[x->first + k], t->fields[x->first + k]};
    if (x->count > SORT_SMALL) {
        qsort_r(tmp, x->count, sizeof *tmp, cmp_field, t->str);
    } else {
        for (uint32_t k = 1; k < x->count; k++) {
            struct field_ord v = tmp[k];
            uint32_t j = k;
            for (; j > 0 && cmp_field(&tmp[j - 1], &v, t->str) > 0; j--)
                tmp[j] = tmp[j - 1];
            tmp[j] = v;
        }
    }
    for (uint32_t k = 0; k < x->count; k++)
        t->fields[x->first + k] = tmp[k].f;
    if (tmp != small)
        free(tmp);
}

/* Copies every dataset's fields into a new array without the holes moves left, in entry order. */
static void compact_fields(struct node_table *t)
{
    size_t live = t->n_fields - t->holes, at = 0;
    struct field *f = malloc((live ? live : 1) * sizeof *f);
    int32_t *o = malloc((live ? live : 1) * sizeof *o);

    if (f == NULL || o == NULL) {
        free(f); /* the holes stay: only memory is lost */
        free(o);
        return;
    }
    for (size_t i = 0; i < t->n_entries; i++) {
        struct entry *x = &t->entries[i];
        if (x->kind != KIND_DATASET || x->count == 0)
            continue;
        memcpy(f + at, t->fields + x->first, x->count * sizeof *f);
        memcpy(o + at, t->ordinals + x->first, x->count * sizeof *o);
        x->first = (uint32_t)at;
        at += x->count;
    }
    free(t->fields);
    free(t->ordinals);
    t->fields = f;
    t->ordinals = o;
    t->n_fields = t->cap_fields = t->cap_ordinals = live;
    t->holes = 0;
}

/* Shrinks *p to n elements of size bytes (a failed shrink keeps the larger block). */
static void shrink(void **p, size_t *cap, size_t n, size_t size)
{
    void *q;

    if (n == 0 || n >= *cap || (q = realloc(*p, n * size)) == NULL)
        return;
    *p = q;
    *cap = n;
}

void node_table_finish(struct node_table *t)
{
    if (t->holes > t->n_fields / 8)
        compact_fields(t);
    for (size_t i = 0; i < t->n_entries; i++)
        if (t->entries[i].kind == KIND_DATASET)
            sort_fields(t, &t->entries[i]);
    free(t->ordinals);
    t->ordinals = NULL;
    t->cap_ordinals = 0;
    shrink((void **)&t->fields, &t->cap_fields, t->n_fields, sizeof *t->fields);
    shrink((void **)&t->entries, &t->cap_entries, t->n_entries, sizeof *t->entries);
    shrink((void **)&t->str, &t->str_cap, t->str_len, 1);
}

size_t node_table_count(const struct node_table *t)
{
    return t->held;
}

size_t node_table_memory_bytes(const struct node_table *t)
{
    return sizeof *t + t->str_cap + ((size_t)t->mask + 1) * sizeof *t->slots +
           t->cap_entries * sizeof *t->entries + t->cap_fields * sizeof *t->fields;
}

/* ---- rendering ---- */

/* A string reference as JSON: null, the node's name (same), or the stored string. */
static void put_ref(struct json_text *o, const struct node_table *t, uint32_t ref, const char *same)
{
    if (ref == REF_NULL)
        json_text_lit(o, "null");
    else
        json_text_str(o, ref == REF_SAME ? same : t->str + ref);
}

/* A time as the statements' to_char(... 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') writes it. */
static void put_time(struct json_text *o, int64_t usec)
{
    char buf[TIME_ISO_MAX];

    time_format_iso8601(usec, buf);
    json_text_str(o, buf);
}

/* "id":{"namespace":..,"name":..},"type":..,"name":.. */
static void put_id(struct json_text *o, const struct node_table *t, const struct entry *x, const char *ns,
                   const char *name)
{
    json_text_lit(o, "{\"id\":{\"namespace\":");
    json_text_str(o, ns);
    json_text_lit(o, ",\"name\":");
    json_text_str(o, name);
    json_text_lit(o, "},\"type\":");
    put_ref(o, t, x->type, name);
    json_text_lit(o, ",\"name\":");
    json_text_str(o, name);
}

static void put_fields(struct json_text *o, const struct node_table *t, const struct entry *x)
{
    json_text_lit(o, ",\"fields\":[");
    for (uint32_t k = 0; k < x->count; k++) {
        const struct field *f = &t->fields[x->first + k];
        json_text_lit(o, k ? ",{\"name\":" : "{\"name\":");
        put_ref(o, t, f->name, "");
        json_text_lit(o, ",\"type\":");
        put_ref(o, t, f->type, "");
        json_text_lit(o, ",\"tags\":[],\"description\":");
        put_ref(o, t, f->description, "");
        json_text_lit(o, "}");
    }
    json_text_lit(o, "]");
}

/* DatasetData, as store/store_nodes.c's DATASET_DATA builds it. */
static const char *dataset_text(const struct node_table *t, struct arena *a, const struct entry *x, const char *ns,
                                const char *name)
{
    struct json_text o;

    json_text_init(&o, a, 512 + 96 * (size_t)x->count);
    put_id(&o, t, x, ns, name);
    json_text_lit(&o, ",\"physicalName\":");
    put_ref(&o, t, x->s[0], name);
    json_text_lit(&o, ",\"createdAt\":");
    put_time(&o, x->created_usec);
    json_text_lit(&o, ",\"updatedAt\":");
    put_time(&o, x->updated_usec);
    json_text_lit(&o, ",\"namespace\":");
    json_text_str(&o, ns);
    json_text_lit(&o, ",\"sourceName\":");
    put_ref(&o, t, x->s[1], name);
    put_fields(&o, t, x);
    json_text_lit(&o, ",\"tags\":[],\"lastModifiedAt\":null,\"description\":");
    put_ref(&o, t, x->s[2], name);
    json_text_lit(&o, ",\"lastLifecycleState\":");
    put_ref(&o, t, x->s[3], name);
    json_text_lit(&o, ",\"datasetType\":");
    put_ref(&o, t, x->kind_of[0], name);
    json_text_lit(&o, ",\"subType\":");
    put_ref(&o, t, x->kind_of[1], name);
    json_text_lit(&o, "}");
    return o.p;
}

/* JobData's head and tail, as store/store_nodes.c's JOB_DATA builds them for a job without a parent
 * or a latest run. */
static void job_texts(const struct node_table *t, struct arena *a, const struct entry *x, const char *ns,
                      const char *name, const char **head, const char **tail)
{
    struct json_text o;

    json_text_init(&o, a, 512);
    put_id(&o, t, x, ns, name);
    json_text_lit(&o, ",\"simpleName\":");
    put_ref(&o, t, x->s[0], name);
    json_text_lit(&o, ",\"parentJobName\":null,\"parentJobUuid\":null,\"currentRunUuid\":null,\"createdAt\":");
    put_time(&o, x->created_usec);
    json_text_lit(&o, ",\"updatedAt\":");
    put_time(&o, x->updated_usec);
    json_text_lit(&o, ",\"namespace\":");
    json_text_str(&o, ns);
    json_text_lit(&o, "}");
    *head = o.p;
    json_text_init(&o, a, 256);
    json_text_lit(&o, "{\"location\":");
    put_ref(&o, t, x->s[2], name);
    json_text_lit(&o, ",\"description\":");
    put_ref(&o, t, x->s[1], name);
    json_text_lit(&o, ",\"latestRun\":null}");
    *tail = o.p;
}

bool node_table_data(const struct node_table *t, const struct graph *g, struct arena *a, uint32_t node,
                     const char **head, const char **tail)
{
    const struct entry *x = t != NULL && node < t->n_entries ? &t->entries[node] : NULL;
    const char *ns, *name;

    *head = *tail = NULL;
    if (x == NULL || x->kind == KIND_NONE)
        return false;
    ns = graph_node_namespace(g, node);
    name = graph_node_name(g, node);
    if (x->kind == KIND_DATASET)
        *head = dataset_text(t, a, x, ns, name);
    else
        job_texts(t, a, x, ns, name, head, tail);
    return true;
}
