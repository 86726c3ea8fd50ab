/* server/auth.h - who may call which route: scoped API keys, bootstrap keys and OAuth2/OIDC JWTs.
 *
 * The dispatcher asks one question per request, auth_check(auth, route scope, Authorization header),
 * and gets 0 (go on) or an error to reply (401 no or bad credentials, 403 a scope too small). Nothing
 * here knows about sockets or libevent, so the decision is tested without a server.
 * The model:
 *  - Scopes are ordered: read < write (ingest, and read) < admin (edits, deletes, everything).
 *  - Auth is on when any credential source exists: a bootstrap key (--api-keys, LINEAGED_API_KEYS,
 *    --api-keys-file; scope admin), a JWKS (--jwks-file), or any row in the api_keys table, revoked
 *    ones included (so revoking the last key never opens the server). Then every route but the public
 *    ones (health) needs a credential with a scope at least the route's; --open-reads lets read routes
 *    through without one (the Marquez web UI sends no Authorization header).
 *  - A credential is "Authorization: Bearer <x>": a JWT when x has the JWT shape and a JWKS is
 *    configured, else an API key, looked up by its SHA-256 among the bootstrap and database keys.
 * Invariants:
 *  1. Keys are kept only as SHA-256 hashes; hashes are compared with CRYPTO_memcmp, and every known
 *     hash is compared (no early exit), so timing says nothing about which bytes matched.
 *  2. No key, token or Authorization header is ever logged or put in an error message.
 *  3. The database keys are replaced whole (auth_set_db_keys) under a mutex; readers never see half.
 * Threads: auth_check on the loop thread, auth_set_db_keys from the refresher; everything else at
 * start-up and shutdown. */
#ifndef LINEAGED_AUTH_H
#define LINEAGED_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"
#include "err.h"

/* What a route needs, and what a credential grants (AUTH_PUBLIC: nothing). Ordered. */
enum auth_scope { AUTH_PUBLIC, AUTH_READ, AUTH_WRITE, AUTH_ADMIN };

enum { AUTH_HASH_LEN = 32 };

/* An API key as the server knows it: the SHA-256 of the key text, and its scope. */
struct auth_key {
    unsigned char hash[AUTH_HASH_LEN];
    enum auth_scope scope;
};

struct auth;

/* Builds the auth state from the settings: bootstrap keys (trimmed, empty ones dropped) from
 * c->api_keys and c->api_keys_file, the JWKS from c->jwks_file (then c->jwt_issuer and c->jwt_audience
 * are required). Returns NULL with e set (ERR_INVALID) if a file cannot be read or is invalid.
 * Caller frees with auth_free. */
struct auth *auth_new(const struct cfg *c, struct err *e);

/* auth_free(NULL) is a no-op. */
void auth_free(struct auth *a);

/* Replaces the keys read from the database (copied) and whether its table has any row. */
void auth_set_db_keys(struct auth *a, const struct auth_key *keys, size_t n, bool table_has_rows);

/* True when requests need credentials (see the model above). */
bool auth_enabled(struct auth *a);

/* The decision for one request: 0 if a route needing `need` may run with this Authorization header
 * (NULL when absent); else -1 with e set: ERR_UNAUTHORIZED (no, malformed, unknown, expired or badly
 * signed credentials) or ERR_FORBIDDEN (valid, but its scope is below need). where = "Authorization". */
int auth_check(struct auth *a, enum auth_scope need, const char *authorization, struct err *e);

/* Refuses (-1, ERR_INVALID) to listen on host when it is not a loopback address, auth is off and
 * insecure is false. A host that does not resolve counts as non-loopback. */
int auth_check_listen(struct auth *a, const char *host, bool insecure, struct err *e);

/* One line for the start-up log: which credential sources are on, with counts, never a secret. */
void auth_describe(struct auth *a, char *buf, size_t cap);

/* "read", "write", "admin" ("none" for AUTH_PUBLIC), and back; parse returns false for anything else
 * and never yields AUTH_PUBLIC. */
const char *auth_scope_name(enum auth_scope s);
bool auth_scope_parse(const char *name, enum auth_scope *out);

/* SHA-256 of key[0..len). Cannot fail (aborts if libcrypto cannot hash, which it always can). */
void auth_key_hash(const char *key, size_t len, unsigned char out[AUTH_HASH_LEN]);

/* A new API key: "lk_" and 64 hex digits of 32 random bytes from the OpenSSL CSPRNG, in out (cap >=
 * AUTH_NEW_KEY_SIZE). Returns 0, or -1 with e set when no randomness is available. */
enum { AUTH_NEW_KEY_SIZE = 3 + 64 + 1 };
int auth_key_generate(char *out, size_t cap, struct err *e);

#endif
