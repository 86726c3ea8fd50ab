/* server/stats_prom.h - reading Prometheus text exposition (version 0.0.4), as GET /metrics writes it,
 * for `lineaged stats`. No Debian package parses it in C (prometheus-cpp is a C++ client); the lines
 * are `name{label="value",...} number`, comments start with '#'.
 * Invariants:
 *  1. A line that is not a comment, blank, or a well-formed sample is an error naming its line number.
 *  2. Label values are unescaped (\\\\, \\", \\n) when asked for.
 * Ownership: samples point into the text passed in (changed in place) and the arena. */
#ifndef LINEAGED_STATS_PROM_H
#define LINEAGED_STATS_PROM_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

struct prom_sample {
    const char *name;
    const char *labels; /* the text between the braces, "" when none */
    double value;
};

/* Parses text (NUL-terminated, changed in place) into *out (arena a), *n samples. 0, or -1 with e set. */
int prom_parse(struct arena *a, char *text, struct prom_sample **out, size_t *n, struct err *e);

/* The value of label `key` in raw labels, unescaped into arena a, or NULL when it is not there. */
const char *prom_label(struct arena *a, const char *labels, const char *key);

#endif
