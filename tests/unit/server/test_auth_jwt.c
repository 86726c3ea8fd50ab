/* tests/unit/server/test_auth_jwt.c - JWKS reading and JWT verification (server/auth_jwks.c, auth_jwt.c).
 *
 * Keys are generated per run with OpenSSL and tokens signed with libjwt (the library the server
 * verifies with), so every case is a real signature; forged cases (HMAC with the public key, alg none,
 * a payload swapped under a valid signature) are built by hand from the same pieces.
 * Invariants:
 *  1. Every refusal asserts ERR_UNAUTHORIZED and the check named in the message.
 *  2. Time is passed in (NOW), so expiry cases do not depend on the clock.
 * Ownership: keys live in the group state and are freed in teardown. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "arena.h"
#include "auth_jwt.h"

static const int64_t NOW = 1900000000;

struct keys {
    EVP_PKEY *rsa, *rsa_other, *ec, *rsa_small;
    char *rsa_priv, *rsa_other_priv, *ec_priv, *rsa_pub;
    char jwks[8192];
};

/* PEM of pkey (private or public), malloc'd. */
static char *pem_of(EVP_PKEY *pkey, bool private)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;

    if (private)
        assert_int_equal(PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL), 1);
    else
        assert_int_equal(PEM_write_bio_PUBKEY(b, pkey), 1);
    long len = BIO_get_mem_data(b, &data);
    char *out = calloc(1, (size_t)len + 1);
    memcpy(out, data, (size_t)len);
    BIO_free(b);
    return out;
}

/* base64url without padding of bytes[0..n) into out. */
static void b64url(const unsigned char *bytes, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, bytes, (int)n);
    for (int i = 0; i < len; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
}

static void bn_b64url(EVP_PKEY *pkey, const char *param, char *out)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];

    assert_int_equal(EVP_PKEY_get_bn_param(pkey, param, &bn), 1);
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    b64url(buf, (size_t)n, out);
}

/* {"kty":"RSA",...} of pkey. */
static void rsa_jwk(EVP_PKEY *pkey, const char *kid, char *out, size_t cap)
{
    char n[1024], e[16];

    bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_N, n);
    bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_E, e);
    snprintf(out, cap, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}", kid, n,
             e);
}

/* {"kty":"EC",...} of pkey; flip_y corrupts the point (off the curve). */
static void ec_jwk(EVP_PKEY *pkey, const char *kid, bool flip_y, char *out, size_t cap)
{
    unsigned char point[65];
    size_t len = 0;
    char x[64], y[64];

    assert_int_equal(
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len), 1);
    assert_int_equal(len, 65);
    if (flip_y)
        point[64] ^= 1;
    b64url(point + 1, 32, x);
    b64url(point + 33, 32, y);
    snprintf(out, cap,
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\",\"alg\":\"ES256\"}",
             kid, x, y);
}

static int setup(void **state)
{
    struct keys *k = calloc(1, sizeof *k);
    char r[2048], ec[512], oct[] = "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}";

    k->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k->rsa_other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k->ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    k->rsa_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    if (!k->rsa || !k->rsa_other || !k->ec || !k->rsa_small)
        return -1;
    k->rsa_priv = pem_of(k->rsa, true);
    k->rsa_other_priv = pem_of(k->rsa_other, true);
    k->ec_priv = pem_of(k->ec, true);
    k->rsa_pub = pem_of(k->rsa, false);
    rsa_jwk(k->rsa, "r1", r, sizeof r);
    ec_jwk(k->ec, "e1", false, ec, sizeof ec);
    snprintf(k->jwks, sizeof k->jwks, "{\"keys\":[%s,%s,%s]}", r, ec, oct);
    *state = k;
    return 0;
}

static int teardown(void **state)
{
    struct keys *k = *state;

    EVP_PKEY_free(k->rsa);
    EVP_PKEY_free(k->rsa_other);
    EVP_PKEY_free(k->ec);
    EVP_PKEY_free(k->rsa_small);
    free(k->rsa_priv);
    free(k->rsa_other_priv);
    free(k->ec_priv);
    free(k->rsa_pub);
    free(k);
    return 0;
}

static const struct auth_jwt_settings SETTINGS = {"https://idp.example", "lineaged", "scope", "", 60};

static struct auth_jwt *verifier(const char *jwks, const struct auth_jwt_settings *s)
{
    struct err e;
    struct auth_jwt *j = auth_jwt_new(jwks, strlen(jwks), s ? s : &SETTINGS, &e);

    if (j == NULL)
        fail_msg("JWKS refused: %s", e.msg);
    return j;
}

/* A token signed by libjwt with alg and key (PEM); kid NULL: none. Caller frees. */
static char *sign(jwt_alg_t alg, const char *pem, const char *kid, const char *claims)
{
    jwt_t *jwt = NULL;

    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_set_alg(jwt, alg, (const unsigned char *)pem, (int)strlen(pem)), 0);
    if (kid != NULL)
        assert_int_equal(jwt_add_header(jwt, "kid", kid), 0);
    assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
    char *token = jwt_encode_str(jwt);
    jwt_free(jwt);
    assert_non_null(token);
    return token;
}

/* Standard claims with exp/nbf offsets from NOW and the given scope JSON value (NULL: none). */
static const char *claims(char *buf, size_t cap, long exp_off, const char *scope)
{
    snprintf(buf, cap,
             "{\"iss\":\"https://idp.example\",\"aud\":\"lineaged\",\"sub\":\"svc\",\"exp\":%lld%s%s}",
             (long long)(NOW + exp_off), scope ? ",\"scope\":" : "", scope ? scope : "");
    return buf;
}

static void expect_granted(const struct auth_jwt *j, const char *token, enum auth_scope want)
{
    enum auth_scope got = AUTH_PUBLIC;
    struct err e;

    if (auth_jwt_verify(j, token, NOW, &got, &e) != 0)
        fail_msg("refused: %s", e.msg);
    assert_int_equal(got, want);
}

static void expect_refused(const struct auth_jwt *j, const char *token, const char *in_msg)
{
    enum auth_scope got = AUTH_PUBLIC;
    struct err e;

    err_clear(&e);
    if (auth_jwt_verify(j, token, NOW, &got, &e) == 0)
        fail_msg("accepted a token that should fail with \"%s\"", in_msg);
    assert_int_equal(e.kind, ERR_UNAUTHORIZED);
    assert_string_equal(e.where, "Authorization");
    if (strstr(e.msg, in_msg) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, in_msg);
}

static void test_rs256_and_es256_tokens_verify_with_scope(void **state)
{
    struct keys *k = *state;
    struct auth_jwt *j = verifier(k->jwks, NULL);
    char c[512];

    assert_int_equal(auth_jwt_key_count(j), 2);
    assert_int_equal(auth_jwt_skipped_count(j), 1); /* the oct (HMAC) key */
    char *t = sign(JWT_ALG_RS256, k->rsa_priv, "r1", claims(c, sizeof c, 300, "\"openid write\""));
    assert_true(auth_jwt_shaped(t));
    expect_granted(j, t, AUTH_WRITE);
    free(t);
    t = sign(JWT_ALG_ES256, k->ec_priv, "e1", claims(c, sizeof c, 300, "\"read admin\""));
    expect_granted(j, t, AUTH_ADMIN);
    free(t);
    t = sign(JWT_ALG_ES256, k->ec_priv, "e1", claims(c, sizeof c, 300, NULL));
    expect_granted(j, t, AUTH_PUBLIC); /* valid, but grants nothing: the caller answers 403 */
    free(t);
    auth_jwt_free(j);
}

/* One token signed with the RSA key (kid r1): claims_fmt with exp = NOW + exp_off and nbf = NOW + nbf_off
 * for its two %lld; refused NULL: expect scope want, else a refusal with that text. */
struct claims_case {
    const char *claims_fmt;
    long exp_off, nbf_off;
    enum auth_scope want;
    const char *refused;
};

static void check_cases(const struct keys *k, const struct auth_jwt *j, const struct claims_case *cases,
                        size_t n)
{
    char c[512];

    for (size_t i = 0; i < n; i++) {
        snprintf(c, sizeof c, cases[i].claims_fmt, (long long)NOW + cases[i].exp_off,
                 (long long)NOW + cases[i].nbf_off);
        char *t = sign(JWT_ALG_RS256, k->rsa_priv, "r1", c);
        if (cases[i].refused == NULL)
            expect_granted(j, t, cases[i].want);
        else
            expect_refused(j, t, cases[i].refused);
        free(t);
    }
}

#define ISS_AUD "\"iss\":\"https://idp.example\",\"aud\":\"lineaged\","

static void test_expiry_and_not_before_with_clock_skew(void **state)
{
    static const struct claims_case cases[] = {
        {"{" ISS_AUD "\"scope\":\"read\",\"exp\":%lld}", -30, 0, AUTH_READ, NULL}, /* within the 60 s skew */
        {"{" ISS_AUD "\"scope\":\"read\",\"exp\":%lld}", -61, 0, AUTH_PUBLIC, "expired"},
        {"{" ISS_AUD "\"scope\":\"read\",\"exp\":%lld,\"nbf\":%lld}", 600, 120, AUTH_PUBLIC, "not valid yet"},
        {"{" ISS_AUD "\"scope\":\"read\",\"exp\":%lld,\"nbf\":%lld.5}", 600, 30, AUTH_READ, NULL},
        {"{" ISS_AUD "\"scope\":\"read\"}", 0, 0, AUTH_PUBLIC, "no expiry"},
        {"{" ISS_AUD "\"scope\":\"read\",\"exp\":\"soon\"}", 0, 0, AUTH_PUBLIC, "\"exp\" is not a number"},
    };
    struct keys *k = *state;
    struct auth_jwt *j = verifier(k->jwks, NULL);

    check_cases(k, j, cases, sizeof cases / sizeof cases[0]);
    auth_jwt_free(j);
}

static void test_issuer_and_audience(void **state)
{
    static const struct claims_case cases[] = {
        {"{\"iss\":\"https://evil.example\",\"aud\":\"lineaged\",\"exp\":%lld}", 300, 0, AUTH_PUBLIC,
         "issuer"},
        {"{\"aud\":\"lineaged\",\"exp\":%lld}", 300, 0, AUTH_PUBLIC, "issuer"},
        {"{\"iss\":\"https://idp.example\",\"aud\":\"marquez\",\"exp\":%lld}", 300, 0, AUTH_PUBLIC,
         "audience"},
        {"{\"iss\":\"https://"
         "idp.example\",\"aud\":[\"marquez\",\"lineaged\"],\"exp\":%lld,\"scope\":\"write\"}",
         300, 0, AUTH_WRITE, NULL},
        {"{\"iss\":\"https://idp.example\",\"aud\":[\"marquez\",[\"lineaged\"]],\"exp\":%lld}", 300, 0,
         AUTH_PUBLIC, "audience"},
    };
    struct keys *k = *state;
    struct auth_jwt *j = verifier(k->jwks, NULL);

    check_cases(k, j, cases, sizeof cases / sizeof cases[0]);
    auth_jwt_free(j);
}

static void test_wrong_key_kid_and_tampering_refused(void **state)
{
    struct keys *k = *state;
    struct auth_jwt *j = verifier(k->jwks, NULL);
    char c[512], *t, *good;

    t = sign(JWT_ALG_RS256, k->rsa_other_priv, "r1", claims(c, sizeof c, 300, "\"admin\""));
    expect_refused(j, t, "bad signature");
    free(t);
    t = sign(JWT_ALG_RS256, k->rsa_priv, "nope", claims(c, sizeof c, 300, "\"admin\""));
    expect_refused(j, t, "kid");
    free(t);
    t = sign(JWT_ALG_RS256, k->rsa_priv, "e1", claims(c, sizeof c, 300, "\"admin\"")); /* kid of the EC key */
    expect_refused(j, t, "kid");
    free(t);
    t = sign(JWT_ALG_RS256, k->rsa_priv, NULL, claims(c, sizeof c, 300, "\"admin\"")); /* the only RSA key */
    expect_granted(j, t, AUTH_ADMIN);
    free(t);
    /* a read token whose payload is swapped for an admin one under the same signature */
    good = sign(JWT_ALG_RS256, k->rsa_priv, "r1", claims(c, sizeof c, 300, "\"read\""));
    char *admin = sign(JWT_ALG_RS256, k->rsa_priv, "r1", claims(c, sizeof c, 300, "\"admin\""));
    char forged[4096];
    const char *good_sig = strrchr(good, '.');
    snprintf(forged, sizeof forged, "%.*s%s", (int)(strrchr(admin, '.') - admin), admin, good_sig);
    expect_refused(j, forged, "bad signature");
    free(good);
    free(admin);
    auth_jwt_free(j);
}

static void test_none_and_hmac_with_the_public_key_refused(void **state)
{
    struct keys *k = *state;
    struct auth_jwt *j = verifier(k->jwks, NULL);
    char c[512], header[128], payload[1024], token[2048];

    /* HS256 keyed with the RSA public key's PEM: a classic algorithm confusion */
    char *t = sign(JWT_ALG_HS256, k->rsa_pub, "r1", claims(c, sizeof c, 300, "\"admin\""));
    expect_refused(j, t, "RS256 or ES256");
    free(t);
    /* alg none, with and without a signature segment */
    static const char none[] = "{\"alg\":\"none\",\"kid\":\"r1\"}";
    static const char twice[] = "{\"alg\":\"RS256\",\"kid\":\"r1\",\"alg\":\"HS256\"}";
    b64url((const unsigned char *)none, sizeof none - 1, header);
    claims(c, sizeof c, 300, "\"admin\"");
    b64url((const unsigned char *)c, strlen(c), payload);
    snprintf(token, sizeof token, "%s.%s.", header, payload);
    expect_refused(j, token, "three base64url segments");
    snprintf(token, sizeof token, "%s.%s.AAAA", header, payload);
    expect_refused(j, token, "RS256 or ES256");
    /* an "alg" libjwt would read differently from us is refused too */
    b64url((const unsigned char *)twice, sizeof twice - 1, header);
    snprintf(token, sizeof token, "%s.%s.AAAA", header, payload);
    expect_refused(j, token, "");
    auth_jwt_free(j);
}

static void test_malformed_tokens_refused(void **state)
{
    struct keys *k = *state;
    struct auth_jwt *j = verifier(k->jwks, NULL);
    static const char *const bad[] = {"",     "abc",    "a.b",         "a.b.c.d",
                                      "a..c", "a.b.c!", "e30.e30.e30", "bm90IGpzb24.e30.AAAA"};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(j, bad[i], "invalid bearer token");
    char *huge = malloc(AUTH_JWT_MAX_TOKEN + 2);
    memset(huge, 'A', AUTH_JWT_MAX_TOKEN + 1);
    huge[10] = huge[20] = '.';
    huge[AUTH_JWT_MAX_TOKEN + 1] = '\0';
    expect_refused(j, huge, "longer than");
    free(huge);
    auth_jwt_free(j);
}

static void test_scope_claim_prefix_array_and_path(void **state)
{
    static const struct claims_case prefixed[] = {
        {"{" ISS_AUD "\"exp\":%lld,\"scp\":[\"lineaged:read\",\"other:admin\",\"admin\",\"lineaged:write\"]}",
         300, 0, AUTH_WRITE, NULL},
        {"{" ISS_AUD "\"exp\":%lld,\"scp\":\"openid lineaged:admin\"}", 300, 0, AUTH_ADMIN, NULL},
        {"{" ISS_AUD "\"exp\":%lld,\"scp\":[\"admin\"],\"scope\":\"lineaged:admin\"}", 300, 0, AUTH_PUBLIC,
         NULL},
    };
    static const struct claims_case nested[] = {
        {"{" ISS_AUD "\"exp\":%lld,\"realm_access\":{\"roles\":[\"admin\"]}}", 300, 0, AUTH_ADMIN, NULL},
        {"{" ISS_AUD "\"exp\":%lld,\"realm_access\":{\"roles\":\"read write\"}}", 300, 0, AUTH_WRITE, NULL},
        {"{" ISS_AUD "\"exp\":%lld,\"realm_access\":[\"admin\"]}", 300, 0, AUTH_PUBLIC, NULL},
    };
    struct keys *k = *state;
    struct auth_jwt_settings s = SETTINGS;

    s.scope_claim = "scp";
    s.scope_prefix = "lineaged:";
    struct auth_jwt *j = verifier(k->jwks, &s);
    check_cases(k, j, prefixed, sizeof prefixed / sizeof prefixed[0]);
    auth_jwt_free(j);
    s.scope_claim = "realm_access.roles";
    s.scope_prefix = "";
    j = verifier(k->jwks, &s);
    check_cases(k, j, nested, sizeof nested / sizeof nested[0]);
    auth_jwt_free(j);
}

static void test_jwks_refusals(void **state)
{
    struct keys *k = *state;
    char small[2100], bad_ec[2100], doc[2048];
    struct err e;
    struct {
        const char *jwks;
        const char *in_msg;
    } cases[] = {
        {"{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}", "no RS256"},
        {"{\"keys\":{}}", "\"keys\" array"},
        {"{\"keys\":[", "malformed"},
        {"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}]}", "base64url"},
        {small, "at least 2048"},
        {bad_ec, "on P-256"},
    };

    rsa_jwk(k->rsa_small, "s", doc, sizeof doc);
    snprintf(small, sizeof small, "{\"keys\":[%s]}", doc);
    ec_jwk(k->ec, "b", true, doc, sizeof doc);
    snprintf(bad_ec, sizeof bad_ec, "{\"keys\":[%s]}", doc);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err_clear(&e);
        assert_null(auth_jwt_new(cases[i].jwks, strlen(cases[i].jwks), &SETTINGS, &e));
        if (strstr(e.msg, cases[i].in_msg) == NULL)
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.msg, cases[i].in_msg);
    }
    struct auth_jwt_settings no_aud = SETTINGS;
    no_aud.audience = "";
    assert_null(auth_jwt_new(k->jwks, strlen(k->jwks), &no_aud, &e));
    assert_non_null(strstr(e.msg, "--jwt-audience"));
}

static void test_b64url_decode(void **state)
{
    struct arena *a = arena_new();
    size_t n;
    unsigned char *out;

    (void)state;
    assert_non_null(out = auth_b64url_decode(a, "", 0, &n));
    assert_int_equal(n, 0);
    assert_non_null(out = auth_b64url_decode(a, "Zg", 2, &n));
    assert_int_equal(n, 1);
    assert_memory_equal(out, "f", 1);
    assert_non_null(out = auth_b64url_decode(a, "Zm8", 3, &n));
    assert_int_equal(n, 2);
    assert_non_null(out = auth_b64url_decode(a, "Zm9v", 4, &n));
    assert_string_equal((char *)out, "foo");
    assert_non_null(out = auth_b64url_decode(a, "-_8", 3, &n));
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    assert_null(auth_b64url_decode(a, "Zm9v=", 5, &n));
    assert_null(auth_b64url_decode(a, "Z", 1, &n));
    assert_null(auth_b64url_decode(a, "Zm+v", 4, &n));
    assert_null(auth_b64url_decode(a, "Zm/v", 4, &n));
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rs256_and_es256_tokens_verify_with_scope),
        cmocka_unit_test(test_expiry_and_not_before_with_clock_skew),
        cmocka_unit_test(test_issuer_and_audience),
        cmocka_unit_test(test_wrong_key_kid_and_tampering_refused),
        cmocka_unit_test(test_none_and_hmac_with_the_public_key_refused),
        cmocka_unit_test(test_malformed_tokens_refused),
        cmocka_unit_test(test_scope_claim_prefix_array_and_path),
        cmocka_unit_test(test_jwks_refusals),
        cmocka_unit_test(test_b64url_decode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
