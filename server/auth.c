/* server/auth.c - the authorization decision (see auth.h for the model), bootstrap keys, key hashing.
 *
 * auth_check, in order:
 *   route public or auth off -> allow;  read route and --open-reads -> allow;
 *   no "Bearer <credential>" -> 401;  JWT-shaped and a JWKS configured -> auth_jwt_verify, else
 *   API key -> its SHA-256 against every known hash -> 401 when none matches;
 *   granted scope < route scope -> 403;  else allow.
 * Invariants: see auth.h (hashes only, constant-time compare over all of them, no secret logged).
 * Ownership: struct auth owns its key arrays and the JWT verifier.
 * Threads: db_keys/n_db/db_any are guarded by lock; the rest is read-only after auth_new. */
#include "auth.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth_jwt.h"

#define LOG_MODULE "auth"
#include "log.h"

enum { AUTH_SHORT_KEY = 16, AUTH_RANDOM_BYTES = 32 };

struct auth {
    struct auth_key *boot; /* bootstrap keys, scope admin */
    size_t n_boot;
    struct auth_jwt *jwt; /* NULL: JWTs are not accepted */
    bool open_reads;
    pthread_mutex_t lock;
    struct auth_key *db; /* guarded by lock */
    size_t n_db;
    bool db_any;
};

static const char *const SCOPE_NAMES[] = {"none", "read", "write", "admin"};

const char *auth_scope_name(enum auth_scope s)
{
    return (size_t)s < sizeof SCOPE_NAMES / sizeof SCOPE_NAMES[0] ? SCOPE_NAMES[s] : "none";
}

bool auth_scope_parse(const char *name, enum auth_scope *out)
{
    for (enum auth_scope s = AUTH_READ; s <= AUTH_ADMIN; s++) {
        if (strcmp(name, SCOPE_NAMES[s]) == 0) {
            *out = s;
            return true;
        }
    }
    return false;
}

void auth_key_hash(const char *key, size_t len, unsigned char out[AUTH_HASH_LEN])
{
    unsigned int n = 0;

    if (EVP_Digest(key, len, out, &n, EVP_sha256(), NULL) != 1 || n != AUTH_HASH_LEN) {
        log_error("SHA-256 failed in libcrypto");
        abort();
    }
}

int auth_key_generate(char *out, size_t cap, struct err *e)
{
    static const char DIGITS[] = "0123456789abcdef";
    unsigned char bytes[AUTH_RANDOM_BYTES];

    if (cap < AUTH_NEW_KEY_SIZE)
        return err_set(e, ERR_INTERNAL, NULL, "key buffer too small");
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return err_set(e, ERR_UNAVAILABLE, NULL, "the OpenSSL random generator has no entropy");
    memcpy(out, "lk_", 3);
    for (size_t i = 0; i < sizeof bytes; i++) {
        out[3 + 2 * i] = DIGITS[bytes[i] >> 4];
        out[3 + 2 * i + 1] = DIGITS[bytes[i] & 0xf];
    }
    out[AUTH_NEW_KEY_SIZE - 1] = '\0';
    OPENSSL_cleanse(bytes, sizeof bytes);
    return 0;
}

/* Appends the hashes of the keys in text (separated by commas or line breaks, blanks trimmed). */
static int add_boot_keys(struct auth *a, const char *text, const char *source, struct err *e)
{
    const char *p = text;

    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, ",\r\n");
        const char *start = p, *end = p + len;
        while (start < end && (*start == ' ' || *start == '\t'))
            start++;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end > start) {
            struct auth_key *bigger = realloc(a->boot, (a->n_boot + 1) * sizeof *bigger);
            if (bigger == NULL)
                return err_set(e, ERR_INTERNAL, NULL, "out of memory");
            a->boot = bigger;
            auth_key_hash(start, (size_t)(end - start), a->boot[a->n_boot].hash);
            a->boot[a->n_boot++].scope = AUTH_ADMIN;
            if (end - start < AUTH_SHORT_KEY)
                log_warn("a bootstrap key from %s is shorter than %d characters: easy to guess", source,
                         AUTH_SHORT_KEY);
        }
        p = p[len] == '\0' ? NULL : p + len + 1;
    }
    return 0;
}

/* Reads a whole (small) file into malloc'd memory; *len_out its size. NULL with e set on failure. */
static char *read_file(const char *path, size_t max, size_t *len_out, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(max + 1) : NULL;
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;

    if (f == NULL || buf == NULL || ferror(f) || n > max) {
        if (f == NULL)
            err_set(e, ERR_INVALID, path, "cannot read \"%.200s\"", path);
        else
            err_set(e, ERR_INVALID, path, "cannot read \"%.200s\" (or larger than %zu bytes)", path, max);
        free(buf);
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len_out = n;
    return buf;
}

static int load_keys_file(struct auth *a, const char *path, struct err *e)
{
    size_t len;
    char *text = read_file(path, AUTH_JWKS_MAX_BYTES, &len, e);

    if (text == NULL)
        return -1;
    int rc = strlen(text) == len ? add_boot_keys(a, text, "--api-keys-file", e)
                                 : err_set(e, ERR_INVALID, path, "\"%.200s\" contains a NUL byte", path);
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}

static int load_jwks(struct auth *a, const struct cfg *c, struct err *e)
{
    struct auth_jwt_settings s = {c->jwt_issuer, c->jwt_audience, c->jwt_scope_claim, c->jwt_scope_prefix,
                                  c->jwt_clock_skew_s};
    size_t len;
    char *text = read_file(c->jwks_file, AUTH_JWKS_MAX_BYTES, &len, e);

    if (text == NULL)
        return -1;
    a->jwt = auth_jwt_new(text, len, &s, e);
    free(text);
    if (a->jwt == NULL)
        return -1;
    if (auth_jwt_skipped_count(a->jwt) > 0)
        log_info("%s: skipped %zu keys that are not RS256/ES256 signing keys", c->jwks_file,
                 auth_jwt_skipped_count(a->jwt));
    return 0;
}

struct auth *auth_new(const struct cfg *c, struct err *e)
{
    struct auth *a = calloc(1, sizeof *a);

    if (a == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    a->open_reads = c->open_reads;
    if (add_boot_keys(a, c->api_keys, "--api-keys", e) != 0 ||
        (c->api_keys_file[0] != '\0' && load_keys_file(a, c->api_keys_file, e) != 0) ||
        (c->jwks_file[0] != '\0' && load_jwks(a, c, e) != 0)) {
        auth_free(a);
        return NULL;
    }
    return a;
}

void auth_free(struct auth *a)
{
    if (a == NULL)
        return;
    auth_jwt_free(a->jwt);
    free(a->boot);
    free(a->db);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

void auth_set_db_keys(struct auth *a, const struct auth_key *keys, size_t n, bool table_has_rows)
{
    struct auth_key *copy = malloc((n + 1) * sizeof *copy), *old;

    if (copy == NULL) {
        log_warn("out of memory refreshing API keys; keeping the previous set");
        return;
    }
    if (n > 0)
        memcpy(copy, keys, n * sizeof *copy);
    pthread_mutex_lock(&a->lock);
    old = a->db;
    a->db = copy;
    a->n_db = n;
    a->db_any = table_has_rows;
    pthread_mutex_unlock(&a->lock);
    free(old);
}

bool auth_enabled(struct auth *a)
{
    pthread_mutex_lock(&a->lock);
    bool any = a->db_any;
    pthread_mutex_unlock(&a->lock);
    return any || a->n_boot > 0 || a->jwt != NULL;
}

/* The highest scope among the keys whose hash is h, or AUTH_PUBLIC. Compares every hash in full. */
static enum auth_scope scope_of_hash(const struct auth_key *keys, size_t n, const unsigned char *h)
{
    enum auth_scope best = AUTH_PUBLIC;

    for (size_t i = 0; i < n; i++) {
        bool same = CRYPTO_memcmp(keys[i].hash, h, AUTH_HASH_LEN) == 0;
        if (same && keys[i].scope > best)
            best = keys[i].scope;
    }
    return best;
}

static enum auth_scope key_scope(struct auth *a, const char *key)
{
    unsigned char h[AUTH_HASH_LEN];

    auth_key_hash(key, strlen(key), h);
    enum auth_scope best = scope_of_hash(a->boot, a->n_boot, h);
    pthread_mutex_lock(&a->lock);
    enum auth_scope db = scope_of_hash(a->db, a->n_db, h);
    pthread_mutex_unlock(&a->lock);
    return db > best ? db : best;
}

/* The credential of "Bearer <credential>" (scheme case-insensitive, blanks around trimmed), or NULL.
 * The credential is copied to buf (cap bytes); a longer one is NULL too. */
static const char *bearer(const char *header, char *buf, size_t cap)
{
    static const char SCHEME[] = "Bearer";
    size_t n = sizeof SCHEME - 1;

    if (header == NULL || strncasecmp(header, SCHEME, n) != 0 || (header[n] != ' ' && header[n] != '\t'))
        return NULL;
    const char *p = header + n;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t len = strcspn(p, " \t");
    for (const char *q = p + len; *q != '\0'; q++)
        if (*q != ' ' && *q != '\t')
            return NULL; /* two words */
    if (len == 0 || len >= cap)
        return NULL;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}

int auth_check(struct auth *a, enum auth_scope need, const char *authorization, struct err *e)
{
    char buf[AUTH_JWT_MAX_TOKEN + 2];
    enum auth_scope granted = AUTH_PUBLIC;
    bool jwt;

    if (need == AUTH_PUBLIC || !auth_enabled(a) || (need == AUTH_READ && a->open_reads))
        return 0;
    const char *cred = bearer(authorization, buf, sizeof buf);
    if (cred == NULL)
        return err_set(
            e, ERR_UNAUTHORIZED, "Authorization",
            "missing or malformed credentials; send the header 'Authorization: Bearer <API key%s>'",
            a->jwt ? " or token" : "");
    jwt = a->jwt != NULL && auth_jwt_shaped(cred);
    if (jwt && auth_jwt_verify(a->jwt, cred, (int64_t)time(NULL), &granted, e) != 0)
        return -1;
    if (!jwt && (granted = key_scope(a, cred)) == AUTH_PUBLIC)
        return err_set(e, ERR_UNAUTHORIZED, "Authorization", "invalid API key");
    if (granted < need)
        return err_set(e, ERR_FORBIDDEN, "Authorization",
                       "the %s grants scope \"%s\"; this route needs \"%s\"", jwt ? "token" : "API key",
                       auth_scope_name(granted), auth_scope_name(need));
    return 0;
}

void auth_describe(struct auth *a, char *buf, size_t cap)
{
    pthread_mutex_lock(&a->lock);
    size_t n_db = a->n_db;
    pthread_mutex_unlock(&a->lock);
    if (!auth_enabled(a)) {
        snprintf(buf, cap, "auth off: no API keys, no JWKS (every route is open)");
        return;
    }
    int n =
        snprintf(buf, cap, "auth on: %zu bootstrap keys, %zu active keys in the database", a->n_boot, n_db);
    if (a->jwt != NULL && n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, ", JWTs signed by %zu JWKS keys", auth_jwt_key_count(a->jwt));
    if (a->open_reads && n >= 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, "; reads open (--open-reads)");
}

/* True if every address host resolves to is a loopback one (127.0.0.0/8, ::1, ::ffff:127.x.y.z). */
static bool host_is_loopback(const char *host)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    bool loopback = true;

    if (host == NULL || host[0] == '\0' || getaddrinfo(host, NULL, &hints, &list) != 0)
        return false;
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)ai->ai_addr;
            loopback &= (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        } else if (ai->ai_family == AF_INET6) {
            const struct in6_addr *in6 = &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
            loopback &= IN6_IS_ADDR_LOOPBACK(in6) || (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
        } else {
            loopback = false;
        }
    }
    freeaddrinfo(list);
    return loopback;
}

int auth_check_listen(struct auth *a, const char *host, bool insecure, struct err *e)
{
    if (insecure || auth_enabled(a) || host_is_loopback(host))
        return 0;
    return err_set(
        e, ERR_INVALID, "host",
        "refusing to listen on \"%.100s\" (not a loopback address) with no authentication: create a "
        "key (lineaged keys create), set --api-keys-file or --jwks-file, or pass --insecure",
        host);
}
