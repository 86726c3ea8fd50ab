/* store/store_keys.c - every statement on api_keys (see store_keys.h).
 *
 * Invariants:
 *  1. Hashes cross the libpq boundary as lower-case hex text (decode/encode in SQL), never as a key.
 *  2. Each function is one statement, so each change is atomic without an explicit transaction.
 * Threads: one thread per struct store. */
#include "store_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static const struct store_stmt KEYS_CREATE = {
    "keys_create",
    "INSERT INTO api_keys (name, scope, key_hash) VALUES ($1, $2, decode($3, 'hex')) RETURNING id", 3};

static const struct store_stmt KEYS_LIST = {
    "keys_list",
    "SELECT id, name, scope, encode(key_hash, 'hex'),"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    " FROM api_keys WHERE NOT $1::boolean OR revoked_at IS NULL ORDER BY id",
    1};

static const struct store_stmt KEYS_ANY = {"keys_any", "SELECT EXISTS (SELECT 1 FROM api_keys)", 0};

static const struct store_stmt KEYS_REVOKE = {
    "keys_revoke",
    "UPDATE api_keys SET revoked_at = now() WHERE revoked_at IS NULL"
    " AND CASE WHEN $1::bigint > 0 THEN id = $1::bigint ELSE name = $2 END RETURNING id",
    2};

/* SQLSTATE of a CHECK constraint violation. */
static const char SQLSTATE_CHECK[] = "23514";

static void hash_to_hex(const unsigned char *hash, char *hex)
{
    static const char DIGITS[] = "0123456789abcdef";

    for (size_t i = 0; i < STORE_KEY_HASH_LEN; i++) {
        hex[2 * i] = DIGITS[hash[i] >> 4];
        hex[2 * i + 1] = DIGITS[hash[i] & 0xf];
    }
    hex[2 * STORE_KEY_HASH_LEN] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Parses encode(..., 'hex') output; false if it is not exactly one hash. */
static bool hash_from_hex(const char *hex, unsigned char *hash)
{
    if (strlen(hex) != 2 * STORE_KEY_HASH_LEN)
        return false;
    for (size_t i = 0; i < STORE_KEY_HASH_LEN; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        hash[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

int store_keys_create(struct store *s, const char *name, const char *scope,
                      const unsigned char hash[STORE_KEY_HASH_LEN], int64_t *id_out, struct err *e)
{
    char hex[2 * STORE_KEY_HASH_LEN + 1];

    hash_to_hex(hash, hex);
    const char *params[] = {name, scope, hex};
    PGresult *res = store_exec(s, &KEYS_CREATE, params, e);
    if (res == NULL) {
        if (e->kind == ERR_CONFLICT)
            return err_set(e, ERR_CONFLICT, "name",
                           "an active key named \"%s\" exists; revoke it or pick another name", name);
        if (strcmp(e->sqlstate, SQLSTATE_CHECK) == 0)
            return err_set(e, ERR_INVALID, "name",
                           "the name must be 1 to 200 characters and the scope one of "
                           "read, write, admin");
        return -1;
    }
    *id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* Copies row i of a KEYS_LIST result into k. Returns false if the row is malformed. */
static bool read_key(struct arena *a, const PGresult *res, int i, struct store_key *k)
{
    k->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    k->name = arena_strdup(a, PQgetvalue(res, i, 1));
    k->scope = arena_strdup(a, PQgetvalue(res, i, 2));
    k->created_at = arena_strdup(a, PQgetvalue(res, i, 4));
    k->revoked_at = PQgetisnull(res, i, 5) ? NULL : arena_strdup(a, PQgetvalue(res, i, 5));
    return hash_from_hex(PQgetvalue(res, i, 3), k->hash);
}

int store_keys_list(struct store *s, struct arena *a, bool active_only, struct store_key **keys_out,
                    size_t *n_out, bool *any_out, struct err *e)
{
    const char *params[] = {active_only ? "true" : "false"};
    PGresult *res;

    if (any_out != NULL) {
        if ((res = store_exec(s, &KEYS_ANY, NULL, e)) == NULL)
            return -1;
        *any_out = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
    }
    if ((res = store_exec(s, &KEYS_LIST, params, e)) == NULL)
        return -1;
    size_t n = (size_t)PQntuples(res);
    struct store_key *keys = arena_zalloc(a, n * sizeof *keys + 1);
    for (size_t i = 0; i < n; i++) {
        if (!read_key(a, res, (int)i, &keys[i])) {
            PQclear(res);
            return err_set(e, ERR_INTERNAL, NULL, "api_keys row %lld has a malformed hash",
                           (long long)keys[i].id);
        }
    }
    PQclear(res);
    *keys_out = keys;
    *n_out = n;
    return 0;
}

int store_keys_revoke(struct store *s, int64_t id, const char *name, int64_t *id_out, struct err *e)
{
    char id_text[24];

    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    const char *params[] = {id_text, name};
    PGresult *res = store_exec(s, &KEYS_REVOKE, params, e);
    if (res == NULL)
        return -1;
    int rows = PQntuples(res);
    if (rows == 1)
        *id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (rows == 0) {
        if (id > 0)
            return err_set(e, ERR_NOT_FOUND, "id", "no active key with id %lld", (long long)id);
        return err_set(e, ERR_NOT_FOUND, "name", "no active key named \"%s\"", name);
    }
    return 0;
}
