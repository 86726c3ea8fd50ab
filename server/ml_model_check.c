/* server/ml_model_check.c - checks across features (unique names, one dataType per column) and the
 * model's input tables derived from the feature sources.
 *
 * Invariants:
 *  1. Work is O(n log n) in the number of features and sources (sorts, then neighbours), so a large
 *     file costs no more than its parse.
 *  2. m->tables is sorted by (namespace, name) and each table's columns by name: the event does not
 *     depend on the order the file lists features in beyond the features themselves.
 * Ownership: arena. Threads: no shared state. */
#include <stdlib.h>
#include <string.h>

#include "ml_model.h"
#include "ml_model_int.h"

struct source_ref {
    const struct ml_source *s;
    size_t feature; /* index in m->features */
    size_t index;   /* index in the feature's sources */
};

struct name_ref {
    const char *name;
    size_t index;
};

static int compare_names(const void *pa, const void *pb)
{
    const struct name_ref *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c != 0 ? c : (a->index > b->index) - (a->index < b->index);
}

/* (namespace, table, column), then file order. */
static int compare_sources(const void *pa, const void *pb)
{
    const struct source_ref *a = pa, *b = pb;
    int c = strcmp(a->s->ns, b->s->ns);
    if (c == 0)
        c = strcmp(a->s->table, b->s->table);
    if (c == 0)
        c = strcmp(a->s->column, b->s->column);
    if (c == 0)
        c = (a->feature > b->feature) - (a->feature < b->feature);
    if (c == 0)
        c = (a->index > b->index) - (a->index < b->index);
    return c;
}

static bool same_table(const struct ml_source *a, const struct ml_source *b)
{
    return strcmp(a->ns, b->ns) == 0 && strcmp(a->table, b->table) == 0;
}

static int check_feature_names(struct arena *a, const struct ml_model *m, struct err *e)
{
    struct name_ref *refs = arena_alloc(a, (m->n_features + 1) * sizeof *refs);

    for (size_t i = 0; i < m->n_features; i++)
        refs[i] = (struct name_ref){m->features[i].name, i};
    qsort(refs, m->n_features, sizeof *refs, compare_names);
    for (size_t i = 1; i < m->n_features; i++) {
        if (strcmp(refs[i - 1].name, refs[i].name) != 0)
            continue;
        const struct ml_feature *f = &m->features[refs[i].index];
        return err_set(e, ERR_INVALID, "mlFeatures",
                       "line %d: mlFeatures[%zu].name: feature \"%.64s\" is already defined on line %d",
                       f->line, refs[i].index, f->name, m->features[refs[i - 1].index].line);
    }
    return 0;
}

/* cur names the same column as prev (its neighbour after sorting) and typed (the first of them with
 * a dataType, or NULL): fine unless prev is in the same feature or typed has another dataType. */
static int check_column(const struct source_ref *prev, const struct source_ref *typed,
                        const struct source_ref *cur, struct err *e)
{
    if (prev->feature == cur->feature)
        return err_set(
            e, ERR_INVALID, "featureSources",
            "line %d: mlFeatures[%zu].featureSources[%zu]: column \"%.64s\" of \"%.100s\" is listed twice "
            "in this feature (also on line %d)",
            cur->s->line, cur->feature, cur->index, cur->s->column, cur->s->fqn, prev->s->line);
    if (typed != NULL && cur->s->data_type != NULL && strcmp(typed->s->data_type, cur->s->data_type) != 0)
        return err_set(
            e, ERR_INVALID, "featureSources",
            "line %d: mlFeatures[%zu].featureSources[%zu].dataType: column \"%.64s\" of \"%.100s\" is "
            "\"%s\" here but \"%s\" on line %d",
            cur->s->line, cur->feature, cur->index, cur->s->column, cur->s->fqn, cur->s->data_type,
            typed->s->data_type, typed->s->line);
    return 0;
}

static bool same_column(const struct source_ref *a, const struct source_ref *b)
{
    return same_table(a->s, b->s) && strcmp(a->s->column, b->s->column) == 0;
}

static int check_columns(const struct source_ref *refs, size_t n, struct err *e)
{
    const struct source_ref *typed = NULL;

    for (size_t i = 0; i < n; i++) {
        if (i == 0 || !same_column(&refs[i - 1], &refs[i]))
            typed = NULL;
        else if (check_column(&refs[i - 1], typed, &refs[i], e) != 0)
            return -1;
        if (typed == NULL && refs[i].s->data_type != NULL)
            typed = &refs[i];
    }
    return 0;
}

/* Builds m->tables from the sorted sources (check_columns has passed). */
static void build_tables(struct arena *a, struct ml_model *m, const struct source_ref *refs, size_t n)
{
    m->tables = arena_zalloc(a, (n + 1) * sizeof *m->tables);
    m->n_tables = 0;
    for (size_t i = 0; i < n;) {
        struct ml_table *t = &m->tables[m->n_tables++];
        size_t end = i;
        while (end < n && same_table(refs[i].s, refs[end].s))
            end++;
        *t = (struct ml_table){
            .ns = refs[i].s->ns, .name = refs[i].s->table, .fqn = refs[i].s->fqn, .line = refs[i].s->line};
        t->columns = arena_zalloc(a, (end - i) * sizeof *t->columns);
        for (size_t j = i; j < end; j++) {
            if (refs[j].s->line < t->line) {
                t->line = refs[j].s->line;
                t->fqn = refs[j].s->fqn;
            }
            struct ml_column *last = t->n_columns ? &t->columns[t->n_columns - 1] : NULL;
            if (last == NULL || strcmp(last->name, refs[j].s->column) != 0)
                t->columns[t->n_columns++] = (struct ml_column){refs[j].s->column, refs[j].s->data_type};
            else if (last->data_type == NULL)
                last->data_type = refs[j].s->data_type;
        }
        i = end;
    }
}

int ml_model_check(struct arena *a, struct ml_model *m, struct err *e)
{
    size_t n = 0;

    if (check_feature_names(a, m, e) != 0)
        return -1;
    for (size_t i = 0; i < m->n_features; i++)
        n += m->features[i].n_sources;
    struct source_ref *refs = arena_alloc(a, (n + 1) * sizeof *refs);
    n = 0;
    for (size_t i = 0; i < m->n_features; i++)
        for (size_t j = 0; j < m->features[i].n_sources; j++)
            refs[n++] = (struct source_ref){&m->features[i].sources[j], i, j};
    qsort(refs, n, sizeof *refs, compare_sources);
    if (check_columns(refs, n, e) != 0)
        return -1;
    build_tables(a, m, refs, n);
    return 0;
}
