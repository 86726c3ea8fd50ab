/* tests/fuzz/fuzz_nodeid.c - libFuzzer target for Marquez node-id parsing (api/nodeid.c).
 *
 * Input: the node id as a query parameter delivers it (decoded, so never holding a NUL byte).
 * Invariants checked (a violation aborts, which libFuzzer reports as a crash):
 *  1. A parsed id has its parts: a non-empty namespace and name (and field for datasetField ids).
 *  2. Printing a parsed id without a version gives the input back (parse and print agree).
 *  3. A refusal is a 400 naming "nodeId", and for UTF-8 input its message is UTF-8 (it quotes the id).
 * Ownership: one arena per input, freed before returning. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "err.h"
#include "nodeid.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_nodeid: invariant broken: %s\n", what);
        abort();
    }
}

static int nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct node_id id;
    struct err e;

    if (memchr(data, '\0', size) != NULL)
        return 0; /* http_parse_query refuses %00: a node id never holds NUL */
    struct arena *a = arena_new();
    char *s = arena_strndup(a, (const char *)data, size);
    err_clear(&e);
    if (nodeid_parse(a, s, &id, &e) == 0) {
        require(nonempty(id.name), "a parsed id has a name");
        if (id.kind != NODE_RUN) {
            require(nonempty(id.namespace), "a dataset, job or field id has a namespace");
            require(id.kind != NODE_FIELD || nonempty(id.field), "a field id has a field");
            const char *back = nodeid_format(a, id.kind, id.namespace, id.name, id.field);
            require(id.version != NULL || strcmp(back, s) == 0, "printing a parsed id gives it back");
        }
    } else {
        require(e.kind == ERR_BAD_INPUT, "a bad node id is a 400");
        require(strcmp(e.where, "nodeId") == 0, "the error names nodeId");
        require(!utf8_valid(s, size) || utf8_valid(e.msg, strlen(e.msg)),
                "the message of UTF-8 input is UTF-8");
    }
    arena_free(a);
    return 0;
}
