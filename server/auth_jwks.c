/* server/auth_jwks.c - reads a JWKS document into PEM public keys (OpenSSL builds and checks them).
 *
 * Invariants:
 *  1. Only RSA (>= AUTH_RSA_MIN_BITS) and EC P-256 signing keys are kept; each passes OpenSSL's public
 *     key check (an EC point must lie on the curve) before it is used.
 *  2. A key that claims to be usable but is malformed fails the whole file: a typo in a JWKS must not
 *     silently drop the key that production tokens are signed with.
 * Ownership: struct auth_jwt and its keys are malloc'd here and freed by auth_jwt_free.
 * Threads: start-up only. */
#include "auth_jwt_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "json.h"

enum { JWKS_MAX_DEPTH = 8, P256_COORD_LEN = 32, P256_POINT_LEN = 1 + 2 * P256_COORD_LEN };

static const char B64URL_ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool auth_b64url_char(char c)
{
    return c != '\0' && strchr(B64URL_ALPHABET, c) != NULL;
}

unsigned char *auth_b64url_decode(struct arena *a, const char *text, size_t len, size_t *out_len)
{
    size_t pad = (4 - len % 4) % 4;

    if (len % 4 == 1 || len > (size_t)AUTH_JWKS_MAX_BYTES)
        return NULL;
    char *std = arena_alloc(a, len + pad + 1);
    unsigned char *out = arena_alloc(a, (len + pad) / 4 * 3 + 1);
    for (size_t i = 0; i < len; i++) {
        if (!auth_b64url_char(text[i]))
            return NULL;
        std[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
    }
    memset(std + len, '=', pad);
    std[len + pad] = '\0';
    int n = len == 0 ? 0 : EVP_DecodeBlock(out, (const unsigned char *)std, (int)(len + pad));
    if (n < 0 || (size_t)n < pad)
        return NULL;
    *out_len = (size_t)n - pad; /* EVP_DecodeBlock counts the bytes the padding stands for */
    out[*out_len] = '\0';
    return out;
}

/* A base64url member of a JWK as a BIGNUM (caller frees), or NULL with e set. */
static BIGNUM *jwk_bignum(struct arena *a, const struct json_value *jwk, const char *member, struct err *e)
{
    const char *text = json_get_string(jwk, member);
    size_t n;
    unsigned char *bytes = text ? auth_b64url_decode(a, text, strlen(text), &n) : NULL;
    BIGNUM *bn = bytes && n > 0 ? BN_bin2bn(bytes, (int)n, NULL) : NULL;

    if (bn == NULL)
        err_set(e, ERR_INVALID, member, "JWK member \"%s\" is missing or not base64url", member);
    return bn;
}

/* An EVP_PKEY of type ("RSA", "EC") from params, checked by OpenSSL; NULL if refused. */
static EVP_PKEY *pkey_from_params(const char *type, const OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    if (pkey == NULL)
        return NULL;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL || EVP_PKEY_public_check(ctx) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *rsa_key(struct arena *a, const struct json_value *jwk, struct err *e)
{
    BIGNUM *n = jwk_bignum(a, jwk, "n", e), *ex = n ? jwk_bignum(a, jwk, "e", e) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pkey = NULL;

    if (n != NULL && ex != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ex) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL) {
        pkey = pkey_from_params("RSA", params);
        if (pkey == NULL)
            err_set(e, ERR_INVALID, "n", "OpenSSL refused the RSA key");
        else if (EVP_PKEY_get_bits(pkey) < AUTH_RSA_MIN_BITS) {
            err_set(e, ERR_INVALID, "n", "RSA key of %d bits; at least %d are needed",
                    EVP_PKEY_get_bits(pkey), AUTH_RSA_MIN_BITS);
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    } else if (n != NULL && ex != NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory building an RSA key");
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(ex);
    return pkey;
}

/* One coordinate of a P-256 point into out (exactly 32 bytes, as RFC 7518 section 6.2.1.2 says). */
static int p256_coord(struct arena *a, const struct json_value *jwk, const char *member, unsigned char *out,
                      struct err *e)
{
    const char *text = json_get_string(jwk, member);
    size_t n = 0;
    unsigned char *bytes = text ? auth_b64url_decode(a, text, strlen(text), &n) : NULL;

    if (bytes == NULL || n != P256_COORD_LEN)
        return err_set(e, ERR_INVALID, member, "JWK member \"%s\" must be 32 bytes of base64url", member);
    memcpy(out, bytes, P256_COORD_LEN);
    return 0;
}

static EVP_PKEY *ec_key(struct arena *a, const struct json_value *jwk, struct err *e)
{
    unsigned char point[P256_POINT_LEN] = {0x04}; /* uncompressed: 04 || x || y */
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pkey = NULL;

    if (p256_coord(a, jwk, "x", point + 1, e) != 0 ||
        p256_coord(a, jwk, "y", point + 1 + P256_COORD_LEN, e) != 0)
        return NULL;
    if ((bld = OSSL_PARAM_BLD_new()) != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL) {
        if ((pkey = pkey_from_params("EC", params)) == NULL)
            err_set(e, ERR_INVALID, "x", "OpenSSL refused the EC key (is the point on P-256?)");
    } else {
        err_set(e, ERR_INTERNAL, NULL, "out of memory building an EC key");
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* The PEM text of pkey into k (malloc'd). */
static int key_to_pem(EVP_PKEY *pkey, struct auth_jwk *k, struct err *e)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;

    if (bio == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1 || (len = BIO_get_mem_data(bio, &data)) <= 0 ||
        (k->pem = malloc((size_t)len + 1)) == NULL) {
        BIO_free(bio);
        return err_set(e, ERR_INTERNAL, NULL, "cannot write a public key as PEM");
    }
    memcpy(k->pem, data, (size_t)len);
    k->pem[len] = '\0';
    k->pem_len = (size_t)len;
    BIO_free(bio);
    return 0;
}

/* True if the JWK is one we use: kty RSA, or EC on P-256; use (if any) "sig"; alg (if any) matching. */
static bool jwk_usable(const struct json_value *jwk, enum auth_jwk_type *type)
{
    const char *kty = json_get_string(jwk, "kty"), *use = json_get_string(jwk, "use");
    const char *alg = json_get_string(jwk, "alg"), *crv = json_get_string(jwk, "crv");

    if (kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
        return false;
    if (strcmp(kty, "RSA") == 0 && (alg == NULL || strcmp(alg, "RS256") == 0)) {
        *type = AUTH_JWK_RSA;
        return true;
    }
    if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0 &&
        (alg == NULL || strcmp(alg, "ES256") == 0)) {
        *type = AUTH_JWK_EC_P256;
        return true;
    }
    return false;
}

/* Adds JWK number i to j (or counts it as skipped). */
static int add_jwk(struct auth_jwt *j, struct arena *a, const struct json_value *jwk, size_t i, struct err *e)
{
    struct auth_jwk *k = &j->keys[j->n_keys];
    const struct json_value *kid = json_get(jwk, "kid");
    EVP_PKEY *pkey;

    if (jwk == NULL || jwk->type != JSON_OBJECT || !jwk_usable(jwk, &k->type)) {
        j->n_skipped++;
        return 0;
    }
    if (kid != NULL && (kid->type != JSON_STRING || kid->u.str.len >= sizeof k->kid ||
                        strlen(kid->u.str.text) != kid->u.str.len))
        return err_set(e, ERR_INVALID, "kid", "JWK %zu: kid must be a string of under %zu bytes", i,
                       sizeof k->kid);
    snprintf(k->kid, sizeof k->kid, "%s", kid ? kid->u.str.text : "");
    pkey = k->type == AUTH_JWK_RSA ? rsa_key(a, jwk, e) : ec_key(a, jwk, e);
    if (pkey == NULL) {
        char msg[ERR_MSG_MAX], where[ERR_WHERE_MAX];
        snprintf(msg, sizeof msg, "%s", e->msg);
        snprintf(where, sizeof where, "%s", e->where);
        return err_set(e, ERR_INVALID, where, "JWK %zu (kid \"%.64s\"): %s", i, k->kid, msg);
    }
    int rc = key_to_pem(pkey, k, e);
    EVP_PKEY_free(pkey);
    if (rc == 0)
        j->n_keys++;
    return rc;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

/* Copies the settings; -1 when out of memory. */
static int copy_settings(struct auth_jwt *j, const struct auth_jwt_settings *s, struct err *e)
{
    j->issuer = dup_or_empty(s->issuer);
    j->audience = dup_or_empty(s->audience);
    j->scope_claim = dup_or_empty(s->scope_claim);
    j->scope_prefix = dup_or_empty(s->scope_prefix);
    j->clock_skew_s = s->clock_skew_s;
    if (j->issuer == NULL || j->audience == NULL || j->scope_claim == NULL || j->scope_prefix == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    if (j->issuer[0] == '\0' || j->audience[0] == '\0' || j->scope_claim[0] == '\0')
        return err_set(
            e, ERR_INVALID, "jwt-issuer",
            "JWTs need --jwt-issuer, --jwt-audience and a --jwt-scope-claim: without them any token "
            "that a key of the JWKS signed, for any service, would be accepted");
    return 0;
}

static int parse_keys(struct auth_jwt *j, struct arena *a, const char *jwks, size_t len, struct err *e)
{
    const struct json_value *root = json_parse(a, jwks, len, JWKS_MAX_DEPTH, e);
    const struct json_value *keys = root ? json_get(root, "keys") : NULL;

    if (root == NULL)
        return -1;
    if (keys == NULL || keys->type != JSON_ARRAY)
        return err_set(e, ERR_INVALID, "keys", "a JWKS is an object with a \"keys\" array");
    j->keys = calloc(keys->u.array.n + 1, sizeof *j->keys);
    if (j->keys == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    for (size_t i = 0; i < keys->u.array.n; i++)
        if (add_jwk(j, a, keys->u.array.items[i], i, e) != 0)
            return -1;
    if (j->n_keys == 0)
        return err_set(e, ERR_INVALID, "keys",
                       "the JWKS has no RS256 (RSA) or ES256 (EC P-256) signing key "
                       "(%zu skipped)",
                       j->n_skipped);
    return 0;
}

struct auth_jwt *auth_jwt_new(const char *jwks, size_t len, const struct auth_jwt_settings *s, struct err *e)
{
    struct auth_jwt *j = calloc(1, sizeof *j);
    struct arena *a = arena_new();

    if (j == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
    } else if (copy_settings(j, s, e) == 0 && parse_keys(j, a, jwks, len, e) == 0) {
        arena_free(a);
        return j;
    }
    arena_free(a);
    auth_jwt_free(j);
    return NULL;
}

void auth_jwt_free(struct auth_jwt *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->n_keys; i++)
        free(j->keys[i].pem);
    free(j->keys);
    free(j->issuer);
    free(j->audience);
    free(j->scope_claim);
    free(j->scope_prefix);
    free(j);
}

size_t auth_jwt_key_count(const struct auth_jwt *j)
{
    return j->n_keys;
}

size_t auth_jwt_skipped_count(const struct auth_jwt *j)
{
    return j->n_skipped;
}
