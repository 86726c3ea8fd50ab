/* server/ml_model_yaml.c - loads a model file with libyaml, checks that it is a plain tree, and hashes
 * its normalised form (the model version).
 *
 * Invariants: see ml_model_int.h. In addition:
 *  1. The normalised form is canonical JSON: mappings with keys sorted by bytes and null members
 *     dropped, sequences in order, every other scalar a JSON string of its value (so `0.5`, '0.5' and
 *     "0.5" are equal, and comments, quoting, flow or block style and indentation never matter).
 *  2. Nothing recurses deeper than YML_MAX_DEPTH + 1, and libyaml never sees deeper nesting than that:
 *     a first pass over the parser's events (check_depth) stops there, before the document is loaded.
 * Ownership: the libyaml parser lives and dies in yml_load; the document in struct yml (yml_free).
 * Threads: no shared state. */
#include "ml_model_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "json.h"

int yml_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

int yml_fail(struct yml *y, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path != NULL && path[0] != '\0')
        return err_set(y->e, ERR_INVALID, path, "line %d: %s: %s", n ? yml_line(n) : 1, path, msg);
    return err_set(y->e, ERR_INVALID, path, "line %d: %s", n ? yml_line(n) : 1, msg);
}

bool yml_is_null(const yaml_node_t *n)
{
    static const char *const NULLS[] = {"", "~", "null", "Null", "NULL"};

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < sizeof NULLS / sizeof NULLS[0]; i++)
        if (n->data.scalar.length == strlen(NULLS[i]) &&
            memcmp(n->data.scalar.value, NULLS[i], n->data.scalar.length) == 0)
            return true;
    return false;
}

size_t yml_len(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (n->type == YAML_MAPPING_NODE)
        return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    return 0;
}

yaml_node_t *yml_item(struct yml *y, yaml_node_t *seq, size_t i)
{
    return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

yaml_node_t *yml_pair(struct yml *y, yaml_node_t *map, size_t i, bool value_of)
{
    yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
    return yaml_document_get_node(&y->doc, value_of ? p->value : p->key);
}

yaml_node_t *yml_root(struct yml *y)
{
    return yaml_document_get_root_node(&y->doc);
}

static bool key_is(const yaml_node_t *k, const char *key)
{
    return k->data.scalar.length == strlen(key) &&
           memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0;
}

yaml_node_t *yml_get(struct yml *y, yaml_node_t *map, const char *key)
{
    for (size_t i = 0; i < yml_len(map); i++) {
        if (!key_is(yml_pair(y, map, i, false), key))
            continue;
        yaml_node_t *v = yml_pair(y, map, i, true);
        return yml_is_null(v) ? NULL : v;
    }
    return NULL;
}

int yml_check_keys(struct yml *y, yaml_node_t *map, const char *path, const char *const *allowed)
{
    for (size_t i = 0; i < yml_len(map); i++) {
        yaml_node_t *k = yml_pair(y, map, i, false);
        size_t j = 0;
        while (allowed[j] != NULL && !key_is(k, allowed[j]))
            j++;
        if (allowed[j] == NULL)
            return yml_fail(y, k, path, "unknown key \"%.*s\"",
                            (int)(k->data.scalar.length > 64 ? 64 : k->data.scalar.length),
                            (const char *)k->data.scalar.value);
    }
    return 0;
}

int yml_need_map(struct yml *y, yaml_node_t *n, const char *path)
{
    if (n->type != YAML_MAPPING_NODE)
        return yml_fail(y, n, path, "must be a mapping (key: value lines)");
    return 0;
}

int yml_string(struct yml *y, yaml_node_t *map, const char *path, const char *key, bool required,
               const char **out)
{
    yaml_node_t *v = yml_get(y, map, key);
    const char *where = path[0] != '\0' ? arena_printf(y->a, "%s.%s", path, key) : key;

    *out = NULL;
    if (v == NULL)
        return required ? yml_fail(y, map, path, "missing %s", key) : 0;
    if (v->type != YAML_SCALAR_NODE)
        return yml_fail(y, v, where, "must be a single value, not a list or mapping");
    if (v->data.scalar.length == 0)
        return yml_fail(y, v, where, "must not be empty");
    if (memchr(v->data.scalar.value, '\0', v->data.scalar.length) != NULL)
        return yml_fail(y, v, where, "must not contain a NUL character");
    *out = arena_strndup(y->a, (const char *)v->data.scalar.value, v->data.scalar.length);
    return 0;
}

int yml_seq(struct yml *y, yaml_node_t *map, const char *path, const char *key, yaml_node_t **out)
{
    yaml_node_t *v = yml_get(y, map, key);

    *out = NULL;
    if (v == NULL)
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return yml_fail(y, v, path[0] != '\0' ? arena_printf(y->a, "%s.%s", path, key) : key,
                        "must be a list (lines starting with \"- \")");
    *out = v;
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------------ */

/* The line of byte offset off in text (reader errors carry an offset, not a line). */
static int line_of_offset(const char *text, size_t len, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        line += text[i] == '\n';
    return line;
}

static int parser_error(struct yml *y, const yaml_parser_t *p, const char *text, size_t len)
{
    int line = p->error == YAML_READER_ERROR ? line_of_offset(text, len, p->problem_offset)
                                             : (int)p->problem_mark.line + 1;
    const char *problem = p->problem != NULL ? p->problem : "not valid YAML";

    if (p->context != NULL)
        return err_set(y->e, ERR_INVALID, "", "line %d: %s (%s at line %d)", line, problem, p->context,
                       (int)p->context_mark.line + 1);
    return err_set(y->e, ERR_INVALID, "", "line %d: %s", line, problem);
}

/* Checks that every node has at most one parent and the root none: no anchors reused by aliases,
 * which also rules out cycles and exponential expansion. */
static int check_single_parents(struct yml *y)
{
    size_t n = (size_t)(y->doc.nodes.top - y->doc.nodes.start);
    unsigned char *refs = arena_zalloc(y->a, n + 1);

    refs[1] = 1; /* the root (node 1): its one parent is the document, so an alias of it fails too */
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *node = &y->doc.nodes.start[i];
        for (size_t j = 0; j < yml_len(node); j++) {
            int ids[2];
            int k = 0;
            if (node->type == YAML_SEQUENCE_NODE)
                ids[k++] = node->data.sequence.items.start[j];
            else {
                ids[k++] = node->data.mapping.pairs.start[j].key;
                ids[k++] = node->data.mapping.pairs.start[j].value;
            }
            for (int m = 0; m < k; m++)
                if (++refs[ids[m]] > 1)
                    return yml_fail(y, yaml_document_get_node(&y->doc, ids[m]), "",
                                    "anchors and aliases (&name, *name) are not supported (anchor here)");
        }
    }
    return 0;
}

static int compare_keys(const yaml_node_t *a, const yaml_node_t *b)
{
    size_t n = a->data.scalar.length < b->data.scalar.length ? a->data.scalar.length : b->data.scalar.length;
    int c = memcmp(a->data.scalar.value, b->data.scalar.value, n);
    if (c != 0)
        return c;
    return (a->data.scalar.length > b->data.scalar.length) - (a->data.scalar.length < b->data.scalar.length);
}

static int compare_pairs(const void *pa, const void *pb)
{
    const struct yml_pair *a = pa, *b = pb;
    int c = compare_keys(a->key, b->key);
    /* equal keys (duplicates, refused by check_tree) in file order, so the report names the later */
    return c != 0 ? c
                  : (a->key->start_mark.index > b->key->start_mark.index) -
                        (a->key->start_mark.index < b->key->start_mark.index);
}

struct yml_pair *yml_sorted(struct yml *y, yaml_node_t *map)
{
    size_t n = yml_len(map);
    struct yml_pair *p = arena_alloc(y->a, (n ? n : 1) * sizeof *p);

    for (size_t i = 0; i < n; i++)
        p[i] = (struct yml_pair){yml_pair(y, map, i, false), yml_pair(y, map, i, true)};
    qsort(p, n, sizeof *p, compare_pairs);
    return p;
}

yaml_node_t *yml_find(const struct yml_pair *pairs, size_t n, const char *key)
{
    size_t lo = 0, hi = n, klen = strlen(key);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const yaml_node_t *k = pairs[mid].key;
        size_t m = k->data.scalar.length < klen ? k->data.scalar.length : klen;
        int c = memcmp(k->data.scalar.value, key, m);
        if (c == 0)
            c = (k->data.scalar.length > klen) - (k->data.scalar.length < klen);
        if (c == 0)
            return yml_is_null(pairs[mid].value) ? NULL : pairs[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Checks depth, scalar keys and unique keys of the subtree at n. */
static int check_tree(struct yml *y, yaml_node_t *n, int depth)
{
    if (depth > YML_MAX_DEPTH)
        return yml_fail(y, n, "", "nested deeper than %d levels", YML_MAX_DEPTH);
    for (size_t i = 0; i < yml_len(n); i++) {
        if (n->type == YAML_SEQUENCE_NODE) {
            if (check_tree(y, yml_item(y, n, i), depth + 1) != 0)
                return -1;
            continue;
        }
        yaml_node_t *k = yml_pair(y, n, i, false);
        if (k->type != YAML_SCALAR_NODE)
            return yml_fail(y, k, "", "a key must be a single value, not a list or mapping");
        if (check_tree(y, yml_pair(y, n, i, true), depth + 1) != 0)
            return -1;
    }
    if (n->type != YAML_MAPPING_NODE)
        return 0;
    struct yml_pair *p = yml_sorted(y, n);
    for (size_t i = 1; i < yml_len(n); i++) {
        yaml_node_t *b = p[i].key;
        if (compare_keys(p[i - 1].key, b) == 0) {
            return yml_fail(y, b, "", "duplicate key \"%.*s\"",
                            (int)(b->data.scalar.length > 64 ? 64 : b->data.scalar.length),
                            (const char *)b->data.scalar.value);
        }
    }
    return 0;
}

/* Writes the normalised form of n (invariant 1). Returns 0, or -1 if yajl_gen refused. */
static int write_normalised(struct yml *y, yajl_gen g, yaml_node_t *n)
{
    if (n->type == YAML_SCALAR_NODE) {
        if (yml_is_null(n))
            return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
        return yajl_gen_string(g, n->data.scalar.value, n->data.scalar.length) == yajl_gen_status_ok ? 0 : -1;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        int rc = yajl_gen_array_open(g) == yajl_gen_status_ok ? 0 : -1;
        for (size_t i = 0; i < yml_len(n) && rc == 0; i++)
            rc = write_normalised(y, g, yml_item(y, n, i));
        return rc == 0 && yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -1;
    }
    struct yml_pair *p = yml_sorted(y, n);
    int rc = yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -1;
    for (size_t i = 0; i < yml_len(n) && rc == 0; i++) {
        yaml_node_t *k = p[i].key;
        yaml_node_t *v = p[i].value;
        if (yml_is_null(v))
            continue;
        rc = yajl_gen_string(g, k->data.scalar.value, k->data.scalar.length) == yajl_gen_status_ok ? 0 : -1;
        if (rc == 0)
            rc = write_normalised(y, g, v);
    }
    return rc == 0 && yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
}

static int hash_document(struct yml *y, char version[65])
{
    yajl_gen g = json_gen_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t len;

    if (write_normalised(y, g, yml_root(y)) != 0) {
        yajl_gen_free(g);
        return err_set(y->e, ERR_INTERNAL, "", "cannot normalise the document");
    }
    char *text = json_gen_finish(g, y->a, &len);
    if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return err_set(y->e, ERR_INTERNAL, "", "SHA-256 is not available");
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(version + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* A first pass over the parser's events that stops at the first collection nested deeper than
 * YML_MAX_DEPTH. libyaml's scanner does work proportional to the flow nesting depth for every token,
 * so a deeply nested file (a megabyte of "[") would take minutes in yaml_parser_load; here it ends
 * after YML_MAX_DEPTH levels. Syntax errors are reported as the load would report them. */
static int check_depth(struct yml *y, const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    int depth = 0, rc = 0;

    if (!yaml_parser_initialize(&p))
        return err_set(y->e, ERR_INTERNAL, "", "cannot start the YAML parser");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parser_error(y, &p, text, len);
            break;
        }
        yaml_event_type_t type = ev.type;
        int line = (int)ev.start_mark.line + 1;
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
        if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT)
            depth--;
        if ((type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) &&
            ++depth > YML_MAX_DEPTH) {
            rc = err_set(y->e, ERR_INVALID, "", "line %d: nested deeper than %d levels", line, YML_MAX_DEPTH);
            break;
        }
    }
    yaml_parser_delete(&p);
    return rc;
}

/* Loads the one document of text; a second document is an error. */
static int load_document(struct yml *y, const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_document_t extra;
    int rc = 0;

    if (!yaml_parser_initialize(&p))
        return err_set(y->e, ERR_INTERNAL, "", "cannot start the YAML parser");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &y->doc)) {
        rc = parser_error(y, &p, text, len);
    } else {
        y->loaded = true;
        if (!yaml_parser_load(&p, &extra)) {
            rc = parser_error(y, &p, text, len);
        } else {
            yaml_node_t *second = yaml_document_get_root_node(&extra);
            if (second != NULL)
                rc = yml_fail(y, second, "", "a second YAML document (after ---); a model file holds one");
            yaml_document_delete(&extra);
        }
    }
    yaml_parser_delete(&p);
    return rc;
}

int yml_load(struct yml *y, const char *text, size_t len, char version[65])
{
    if (check_depth(y, text, len) != 0 || load_document(y, text, len) != 0)
        return -1;
    yaml_node_t *root = yml_root(y);
    if (root == NULL)
        return err_set(y->e, ERR_INVALID, "", "line 1: the file holds no YAML document");
    if (check_single_parents(y) != 0 || yml_need_map(y, root, "the document") != 0 ||
        check_tree(y, root, 0) != 0)
        return -1;
    return hash_document(y, version);
}

void yml_free(struct yml *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
    y->loaded = false;
}
