/* server/auth_jwt.h - OAuth2/OIDC bearer JWTs: a JWKS file's keys, and verifying a token against them.
 *
 * Signatures are checked by libjwt (Debian's libjwt 1.10), with each JWK turned into a PEM public key
 * by OpenSSL; nothing here does crypto by hand. libjwt 1.10 checks the signature and typ only, so the
 * rest is here: the algorithm is pinned before libjwt sees the token (RS256 with an RSA key of at
 * least 2048 bits, ES256 with a P-256 key; never "none" or HMAC, which would let a public key be used
 * as an HMAC secret), and the claims are checked after: iss, aud, exp (required), nbf, each with
 * clock_skew_s of tolerance; the scopes come from the configured claim.
 * Invariants:
 *  1. A token is verified with exactly one key, chosen by kid (or the only key of its type), and the
 *     algorithm libjwt reports must be the one pinned, or the token is refused.
 *  2. Error messages say which check failed and never include the token.
 * Threads: a verifier is read-only after auth_jwt_new; verify may run on any thread. */
#ifndef LINEAGED_AUTH_JWT_H
#define LINEAGED_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "auth.h"
#include "err.h"

enum { AUTH_JWT_MAX_TOKEN = 16384, AUTH_JWKS_MAX_BYTES = 1 << 20, AUTH_RSA_MIN_BITS = 2048 };

struct auth_jwt_settings {
    const char *issuer;       /* required, compared with "iss" byte for byte */
    const char *audience;     /* required, "aud" is it or an array holding it */
    const char *scope_claim;  /* "scope": space-separated string or array of strings */
    const char *scope_prefix; /* "" or e.g. "lineaged:"; values without it are ignored */
    int clock_skew_s;
};

struct auth_jwt;

/* Parses a JWKS document ({"keys":[...]}): RSA keys and EC P-256 keys whose "use" (if any) is "sig" and
 * whose "alg" (if any) is RS256 or ES256; other keys are skipped and counted. Copies the settings.
 * Returns NULL with e set (ERR_INVALID) if the JSON is malformed, a usable-looking key is invalid
 * (bad base64url, RSA under 2048 bits, point not on the curve) or no key is usable. */
struct auth_jwt *auth_jwt_new(const char *jwks, size_t len, const struct auth_jwt_settings *s, struct err *e);

/* auth_jwt_free(NULL) is a no-op. */
void auth_jwt_free(struct auth_jwt *j);

/* Usable keys, and skipped ones. */
size_t auth_jwt_key_count(const struct auth_jwt *j);
size_t auth_jwt_skipped_count(const struct auth_jwt *j);

/* True if token has the compact JWS shape: three non-empty base64url segments joined by dots. */
bool auth_jwt_shaped(const char *token);

/* Verifies token at time now (Unix seconds). Returns 0 with *granted set to the highest scope in the
 * scope claim (AUTH_PUBLIC if none), or -1 with e set (ERR_UNAUTHORIZED, where "Authorization"). */
int auth_jwt_verify(const struct auth_jwt *j, const char *token, int64_t now, enum auth_scope *granted,
                    struct err *e);

/* base64url (RFC 4648 section 5, no padding) of text[0..len) into arena memory; NULL if a character is
 * outside the alphabet or the length is impossible. *out_len gets the decoded length; the result is
 * NUL-terminated too. Shared by the JWKS reader and the token header. */
unsigned char *auth_b64url_decode(struct arena *a, const char *text, size_t len, size_t *out_len);

#endif
