/* server/auth_jwt_int.h - what auth_jwks.c (reading keys) and auth_jwt.c (verifying tokens) share.
 * Included only by those two files and their unit tests. */
#ifndef LINEAGED_AUTH_JWT_INT_H
#define LINEAGED_AUTH_JWT_INT_H

#include "auth_jwt.h"

enum { AUTH_KID_MAX = 256 };

enum auth_jwk_type { AUTH_JWK_RSA, AUTH_JWK_EC_P256 };

struct auth_jwk {
    char kid[AUTH_KID_MAX]; /* "" when the JWK has none */
    enum auth_jwk_type type;
    char *pem; /* SubjectPublicKeyInfo PEM, as libjwt takes it; malloc'd */
    size_t pem_len;
};

struct auth_jwt {
    struct auth_jwk *keys;
    size_t n_keys, n_skipped;
    char *issuer, *audience, *scope_claim, *scope_prefix; /* malloc'd copies */
    int clock_skew_s;
};

/* True for the 64 characters of the base64url alphabet. */
bool auth_b64url_char(char c);

#endif
