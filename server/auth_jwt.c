/* server/auth_jwt.c - verifies a bearer JWT: shape, pinned algorithm and key, signature (libjwt), then
 * the claims iss, aud, exp, nbf and the scopes (see auth_jwt.h).
 *
 * Order of checks (each failure is a 401 naming the check):
 *   shape -> header JSON -> alg in {RS256, ES256} -> key by kid and type -> jwt_decode (signature)
 *   -> alg libjwt saw == alg pinned -> payload JSON -> iss -> aud -> exp (required) -> nbf -> scopes
 * The payload is read from the token's own (now verified) second segment, so the claims are exactly
 * the bytes that were signed.
 * Threads: reentrant; the verifier is read-only. */
#include "auth_jwt_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "json.h"

enum { JWT_HEADER_MAX_DEPTH = 4, JWT_CLAIMS_MAX_DEPTH = 16 };

struct jwt_alg_def {
    const char *name;
    enum auth_jwk_type type;
    jwt_alg_t alg;
};

static const struct jwt_alg_def ALGS[] = {
    {"RS256", AUTH_JWK_RSA, JWT_ALG_RS256},
    {"ES256", AUTH_JWK_EC_P256, JWT_ALG_ES256},
};

static int unauthorized(struct err *e, const char *msg)
{
    return err_set(e, ERR_UNAUTHORIZED, "Authorization", "invalid bearer token: %s", msg);
}

bool auth_jwt_shaped(const char *token)
{
    size_t dots = 0, seg = 0;

    for (const char *p = token;; p++) {
        if (*p == '.' || *p == '\0') {
            if (seg == 0)
                return false;
            if (*p == '\0')
                return dots == 2;
            dots++;
            seg = 0;
        } else if (!auth_b64url_char(*p)) {
            return false;
        } else {
            seg++;
        }
    }
}

/* Segment `index` (0 header, 1 payload) decoded and parsed as a JSON object, or NULL. */
static const struct json_value *segment_json(struct arena *a, const char *token, int index, int depth)
{
    const char *start = token;
    struct err ignored;
    size_t n;

    for (int i = 0; i < index; i++)
        start = strchr(start, '.') + 1; /* auth_jwt_shaped: there are two dots */
    const char *end = strchr(start, '.');
    unsigned char *text = auth_b64url_decode(a, start, (size_t)(end - start), &n);
    const struct json_value *v = text ? json_parse(a, (const char *)text, n, depth, &ignored) : NULL;
    return v != NULL && v->type == JSON_OBJECT ? v : NULL;
}

/* The one key that may verify a token of type with this kid (NULL: the token names none). */
static const struct auth_jwk *pick_key(const struct auth_jwt *j, enum auth_jwk_type type, const char *kid,
                                       struct err *e)
{
    const struct auth_jwk *only = NULL;
    size_t n = 0;

    for (size_t i = 0; i < j->n_keys; i++) {
        const struct auth_jwk *k = &j->keys[i];
        if (k->type != type)
            continue;
        if (kid != NULL && strcmp(k->kid, kid) == 0)
            return k;
        only = k;
        n++;
    }
    if (kid != NULL)
        unauthorized(e, "no key of the JWKS has the token's kid and algorithm");
    else if (n != 1)
        unauthorized(e, n == 0 ? "no key of the JWKS fits the token's algorithm"
                               : "the token has no kid and several keys of the JWKS fit its algorithm");
    return kid == NULL && n == 1 ? only : NULL;
}

/* Checks the signature with libjwt, pinned to def's algorithm and key k. */
static int check_signature(const char *token, const struct jwt_alg_def *def, const struct auth_jwk *k,
                           struct err *e)
{
    jwt_t *jwt = NULL;

    if (jwt_decode(&jwt, token, (const unsigned char *)k->pem, (int)k->pem_len) != 0 || jwt == NULL)
        return unauthorized(e, "bad signature or malformed token");
    jwt_alg_t seen = jwt_get_alg(jwt);
    jwt_free(jwt);
    if (seen != def->alg) /* the header said one thing to us and another to libjwt */
        return unauthorized(e, "ambiguous algorithm in the token header");
    return 0;
}

/* A NumericDate claim: 1 and *out when present, 0 when absent, -1 with e set when not a number. */
static int time_claim(const struct json_value *claims, const char *name, double *out, struct err *e)
{
    const struct json_value *v = json_get(claims, name);
    char *end;

    if (v == NULL)
        return 0;
    if (v->type == JSON_NUMBER) {
        *out = strtod(v->u.str.text, &end);
        if (*end == '\0' && isfinite(*out))
            return 1;
    }
    return err_set(e, ERR_UNAUTHORIZED, "Authorization", "invalid bearer token: claim \"%s\" is not a number",
                   name);
}

static bool is_string(const struct json_value *v, const char *want)
{
    return v->type == JSON_STRING && v->u.str.len == strlen(want) && strcmp(v->u.str.text, want) == 0;
}

/* "aud" is the audience, or an array holding it (RFC 7519 section 4.1.3). */
static bool audience_matches(const struct json_value *aud, const char *want)
{
    if (aud == NULL)
        return false;
    if (aud->type != JSON_ARRAY)
        return is_string(aud, want);
    for (size_t i = 0; i < aud->u.array.n; i++)
        if (is_string(aud->u.array.items[i], want))
            return true;
    return false;
}

/* iss, aud, exp, nbf. */
static int check_claims(const struct auth_jwt *j, const struct json_value *claims, int64_t now, struct err *e)
{
    const struct json_value *iss = json_get(claims, "iss");
    double exp = 0, nbf = 0;
    int has_exp, has_nbf;

    if (iss == NULL || !is_string(iss, j->issuer))
        return unauthorized(e, "the issuer (iss) is not the one configured");
    if (!audience_matches(json_get(claims, "aud"), j->audience))
        return unauthorized(e, "the audience (aud) does not include this service");
    if ((has_exp = time_claim(claims, "exp", &exp, e)) < 0 ||
        (has_nbf = time_claim(claims, "nbf", &nbf, e)) < 0)
        return -1;
    if (!has_exp)
        return unauthorized(e, "no expiry (exp) claim");
    if ((double)now - j->clock_skew_s >= exp)
        return unauthorized(e, "expired (exp)");
    if (has_nbf && (double)now + j->clock_skew_s < nbf)
        return unauthorized(e, "not valid yet (nbf)");
    return 0;
}

/* The scope one claim value stands for (AUTH_PUBLIC: none of ours). */
static enum auth_scope scope_of_value(const struct auth_jwt *j, const char *v, size_t len)
{
    size_t plen = strlen(j->scope_prefix);
    char name[16];

    if (len < plen || strncmp(v, j->scope_prefix, plen) != 0 || len - plen >= sizeof name)
        return AUTH_PUBLIC;
    memcpy(name, v + plen, len - plen);
    name[len - plen] = '\0';
    enum auth_scope s;
    return auth_scope_parse(name, &s) ? s : AUTH_PUBLIC;
}

/* The claim named scope_claim; a dotted name is also tried as a path ("realm_access.roles"). */
static const struct json_value *scope_claim(struct arena *a, const struct auth_jwt *j,
                                            const struct json_value *claims)
{
    const struct json_value *v = json_get(claims, j->scope_claim);
    char *path = arena_strdup(a, j->scope_claim), *save = NULL;

    if (v != NULL || strchr(path, '.') == NULL)
        return v;
    v = claims;
    for (char *part = strtok_r(path, ".", &save); part != NULL && v != NULL;
         part = strtok_r(NULL, ".", &save))
        v = json_get(v, part);
    return v;
}

/* The highest scope granted: a space-separated string or an array of strings. */
static enum auth_scope granted_scope(struct arena *a, const struct auth_jwt *j,
                                     const struct json_value *claims)
{
    const struct json_value *v = scope_claim(a, j, claims);
    enum auth_scope best = AUTH_PUBLIC, s;

    if (v != NULL && v->type == JSON_STRING) {
        for (const char *p = v->u.str.text; *p != '\0';) {
            size_t len = strcspn(p, " ");
            if ((s = scope_of_value(j, p, len)) > best)
                best = s;
            p += len + (p[len] == ' ');
        }
    } else if (v != NULL && v->type == JSON_ARRAY) {
        for (size_t i = 0; i < v->u.array.n; i++) {
            const struct json_value *item = v->u.array.items[i];
            if (item->type == JSON_STRING &&
                (s = scope_of_value(j, item->u.str.text, item->u.str.len)) > best)
                best = s;
        }
    }
    return best;
}

/* Header checks: the algorithm (pinned) and the key. */
static int pick_alg_and_key(struct arena *a, const struct auth_jwt *j, const char *token,
                            const struct jwt_alg_def **def, const struct auth_jwk **key, struct err *e)
{
    const struct json_value *header = segment_json(a, token, 0, JWT_HEADER_MAX_DEPTH);
    const struct json_value *kid = header ? json_get(header, "kid") : NULL;
    const char *alg = header ? json_get_string(header, "alg") : NULL;

    if (header == NULL)
        return unauthorized(e, "the header is not base64url JSON");
    if (kid != NULL && kid->type != JSON_STRING)
        return unauthorized(e, "kid is not a string");
    *def = NULL;
    for (size_t i = 0; alg != NULL && i < sizeof ALGS / sizeof ALGS[0]; i++)
        if (strcmp(alg, ALGS[i].name) == 0)
            *def = &ALGS[i];
    if (*def == NULL)
        return unauthorized(e, "the algorithm (alg) must be RS256 or ES256");
    *key = pick_key(j, (*def)->type, kid ? kid->u.str.text : NULL, e);
    return *key ? 0 : -1;
}

int auth_jwt_verify(const struct auth_jwt *j, const char *token, int64_t now, enum auth_scope *granted,
                    struct err *e)
{
    struct arena *a = NULL;
    const struct jwt_alg_def *def = NULL;
    const struct auth_jwk *key = NULL;
    const struct json_value *claims;
    int rc = -1;

    if (strlen(token) > AUTH_JWT_MAX_TOKEN)
        return err_set(e, ERR_UNAUTHORIZED, "Authorization", "invalid bearer token: longer than %d bytes",
                       AUTH_JWT_MAX_TOKEN);
    if (!auth_jwt_shaped(token))
        return unauthorized(e, "not three base64url segments");
    a = arena_new();
    if (pick_alg_and_key(a, j, token, &def, &key, e) != 0 || check_signature(token, def, key, e) != 0)
        goto out;
    if ((claims = segment_json(a, token, 1, JWT_CLAIMS_MAX_DEPTH)) == NULL) {
        unauthorized(e, "the claims are not a JSON object");
        goto out;
    }
    if (check_claims(j, claims, now, e) != 0)
        goto out;
    *granted = granted_scope(a, j, claims);
    rc = 0;
out:
    arena_free(a);
    return rc;
}
