/* tests/fuzz/fuzz_event.c - libFuzzer target for JSON parsing and the JSON-to-event decoder and
 * validator (common/json_parse.c, common/json.c, collector/decode.c, collector/decode_dataset.c).
 *
 * Input: a request body after Content-Encoding, as ingest hands it to json_parse. A document that
 * parses is decoded as ingest does: each element of an array, or the object itself; once with the
 * default limits and once with none (as the follower decodes).
 * Invariants checked (a violation aborts, which libFuzzer reports as a crash):
 *  1. Every string and key of a parsed tree is strict UTF-8 without NUL (json.h invariant 3).
 *  2. Canonical JSON parses again to the same canonical text (event identity is stable).
 *  3. Every error text a client can read (parse error, where, violations) is valid UTF-8.
 *  4. An accepted event has what event.h promises: producer, job names, dataset names, a body, a hash.
 * Ownership: one arena per input, freed before returning (LeakSanitizer sees any leak). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "decode.h"
#include "err.h"
#include "event.h"
#include "json.h"
#include "utf8.h"

enum { FUZZ_DEPTH = 64, FUZZ_LIMIT = 1024 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_event: invariant broken: %s\n", what);
        abort();
    }
}

static int text_ok(const char *s, size_t len)
{
    return utf8_valid(s, len) && memchr(s, '\0', len) == NULL;
}

/* Invariant 1 over the whole tree (recursion bounded by FUZZ_DEPTH). */
static void check_tree(const struct json_value *v)
{
    if (v->type == JSON_STRING)
        require(text_ok(v->u.str.text, v->u.str.len) && v->u.str.text[v->u.str.len] == '\0',
                "strings are UTF-8");
    if (v->type == JSON_ARRAY)
        for (size_t i = 0; i < v->u.array.n; i++)
            check_tree(v->u.array.items[i]);
    if (v->type == JSON_OBJECT)
        for (size_t i = 0; i < v->u.object.n; i++) {
            require(text_ok(v->u.object.keys[i], v->u.object.key_lens[i]), "keys are UTF-8");
            check_tree(v->u.object.values[i]);
        }
}

static int nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Invariant 4. */
static void check_event(const struct ol_event *ev)
{
    require(nonempty(ev->producer), "an event has a producer");
    require(ev->body != NULL && ev->body_len > 0, "an event has a canonical body");
    if (ev->kind != OL_DATASET_EVENT)
        require(nonempty(ev->job_namespace) && nonempty(ev->job_name), "a run or job event has a job");
    for (size_t i = 0; i < ev->n_datasets; i++)
        require(nonempty(ev->datasets[i].namespace) && nonempty(ev->datasets[i].name), "datasets have names");
}

static void decode_one(struct arena *a, const struct json_value *v, const struct decode_limits *lim)
{
    struct decode_violations viol = {0};
    struct ol_event ev;
    struct err e;

    if (decode_event(a, v, "[0]", lim, &ev, &viol) == 0) {
        require(viol.n == 0, "no violations when accepted");
        err_clear(&e);
        require(ol_event_hash(&ev, &e) == 0, "an accepted event can be hashed");
        check_event(&ev);
        return;
    }
    require(viol.n > 0, "a refusal lists its violations");
    for (size_t i = 0; i < viol.n; i++)
        require(utf8_valid(viol.msgs[i], strlen(viol.msgs[i])), "violations are UTF-8");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct decode_limits limits = {FUZZ_LIMIT, FUZZ_LIMIT};
    struct arena *a = arena_new();
    struct err e;

    err_clear(&e);
    struct json_value *root = json_parse(a, (const char *)data, size, FUZZ_DEPTH, &e);
    if (root == NULL) {
        require(e.kind == ERR_BAD_INPUT || e.kind == ERR_INVALID || e.kind == ERR_TOO_LARGE,
                "parse error kind");
        require(utf8_valid(e.msg, strlen(e.msg)) && utf8_valid(e.where, strlen(e.where)),
                "parse errors are UTF-8");
        arena_free(a);
        return 0;
    }
    check_tree(root);
    size_t n1 = 0, n2 = 0;
    const char *c1 = json_canonical(a, root, &n1);
    struct json_value *again = json_parse(a, c1, n1, FUZZ_DEPTH, &e);
    require(again != NULL, "canonical JSON parses again");
    const char *c2 = json_canonical(a, again, &n2);
    require(n1 == n2 && memcmp(c1, c2, n1) == 0, "canonical JSON is a fixed point");
    size_t n = root->type == JSON_ARRAY ? root->u.array.n : 1;
    for (size_t i = 0; i < n; i++) {
        const struct json_value *v = root->type == JSON_ARRAY ? root->u.array.items[i] : root;
        decode_one(a, v, &limits);
        decode_one(a, v, NULL);
    }
    arena_free(a);
    return 0;
}
