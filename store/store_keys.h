/* store/store_keys.h - the api_keys table: scoped API keys kept only as SHA-256 hashes.
 *
 * The store never sees a key, only its hash (computed by the caller); scopes travel as their names
 * ("read", "write", "admin"), which the table's CHECK constraint holds to.
 * Invariants:
 *  1. At most one active (not revoked) key per name (a partial unique index).
 *  2. Revoking keeps the row (revoked_at set): the table never shrinks by itself, so "some key exists"
 *     never turns false behind the operator's back.
 * Threads: one thread per struct store. */
#ifndef LINEAGED_STORE_KEYS_H
#define LINEAGED_STORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "store.h"

enum { STORE_KEY_HASH_LEN = 32 };

struct store_key {
    int64_t id;
    const char *name;  /* arena */
    const char *scope; /* "read", "write" or "admin" */
    unsigned char hash[STORE_KEY_HASH_LEN];
    const char *created_at; /* ISO-8601 UTC */
    const char *revoked_at; /* NULL while active */
};

/* Inserts an active key. Returns 0 with *id_out set, or -1 with e set: ERR_CONFLICT when an active key
 * has that name (or, never in practice, that hash), ERR_INVALID for a scope or name the table refuses. */
int store_keys_create(struct store *s, const char *name, const char *scope,
                      const unsigned char hash[STORE_KEY_HASH_LEN], int64_t *id_out, struct err *e);

/* Every key (active_only: the active ones), ordered by id, in arena a. *any_out (may be NULL) is set to
 * whether the table has any row at all, revoked ones included. Returns 0, or -1 with e set. */
int store_keys_list(struct store *s, struct arena *a, bool active_only, struct store_key **keys_out,
                    size_t *n_out, bool *any_out, struct err *e);

/* Revokes the active key with that id (id > 0) or else that name. Returns 0 with *id_out set to the
 * revoked key, or -1 with e set (ERR_NOT_FOUND when no active key matches). */
int store_keys_revoke(struct store *s, int64_t id, const char *name, int64_t *id_out, struct err *e);

#endif
