/* server/ml_model_int.h - the YAML document layer shared by ml_model_yaml.c (loading, checks, the
 * normalised hash) and ml_model_parse.c (fields to struct ml_model). Not for use outside these two.
 *
 * Invariants:
 *  1. After yml_load succeeds the document is a tree of at most YML_MAX_DEPTH levels whose root is a
 *     mapping; no node is reached twice (no aliases); every key is a scalar and unique in its mapping.
 *  2. Every failure is reported through yml_fail, so every message starts with "line N: ".
 * Ownership: struct yml owns its libyaml document (yml_free); strings handed out are arena copies. */
#ifndef LINEAGED_ML_MODEL_INT_H
#define LINEAGED_ML_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "arena.h"
#include "err.h"

/* Deeper than any model file needs (the model's own structure is 4 levels deep). */
enum { YML_MAX_DEPTH = 32 };

struct yml {
    yaml_document_t doc;
    bool loaded;
    struct arena *a;
    struct err *e;
};

/* Parses text[0..len) into y->doc (one document), checks invariant 1 and writes the hex SHA-256 of
 * the normalised document into version. Returns 0, or -1 with y->e set. Call yml_free either way. */
int yml_load(struct yml *y, const char *text, size_t len, char version[65]);

void yml_free(struct yml *y);

yaml_node_t *yml_root(struct yml *y);

/* The 1-based line where n starts. */
int yml_line(const yaml_node_t *n);

/* True for a plain scalar spelled as YAML's null ("", "~", "null", "Null", "NULL"). */
bool yml_is_null(const yaml_node_t *n);

/* The value of `key` in mapping map, or NULL if absent or null. */
yaml_node_t *yml_get(struct yml *y, yaml_node_t *map, const char *key);

/* Fails on the first key of map that is not in allowed (NULL-terminated), naming path. */
int yml_check_keys(struct yml *y, yaml_node_t *map, const char *path, const char *const *allowed);

/* The i-th item of a sequence, or the i-th key (value_of false) or value of a mapping. */
yaml_node_t *yml_item(struct yml *y, yaml_node_t *seq, size_t i);
yaml_node_t *yml_pair(struct yml *y, yaml_node_t *map, size_t i, bool value_of);
size_t yml_len(const yaml_node_t *n);

/* A mapping's entry; key is a scalar (invariant 1). */
struct yml_pair {
    yaml_node_t *key;
    yaml_node_t *value;
};

/* The pairs of map sorted by key bytes, in y's arena. O(n log n). */
struct yml_pair *yml_sorted(struct yml *y, yaml_node_t *map);

/* The value of key in pairs[0..n) from yml_sorted, or NULL if absent or null. O(log n). */
yaml_node_t *yml_find(const struct yml_pair *pairs, size_t n, const char *key);

/* Sets y->e to ERR_INVALID "line N: path: <message>" (n's line) and returns -1. */
int yml_fail(struct yml *y, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The string at `key` of map: an arena copy, NULL when absent or null (and then a failure if
 * required). Non-scalars and empty strings are failures. */
int yml_string(struct yml *y, yaml_node_t *map, const char *path, const char *key, bool required,
               const char **out);

/* The sequence at `key` of map (NULL when absent or null). A non-sequence is a failure. */
int yml_seq(struct yml *y, yaml_node_t *map, const char *path, const char *key, yaml_node_t **out);

/* The mapping n, or a failure naming path when n is not one. */
int yml_need_map(struct yml *y, yaml_node_t *n, const char *path);

struct ml_model;

/* ml_model_check.c: fails on a feature name used twice, a column listed twice in one feature or
 * with two dataTypes; then fills m->tables (each table once, sorted, with its columns). */
int ml_model_check(struct arena *a, struct ml_model *m, struct err *e);

#endif
