/* common/uuid.c - UUID parsing, printing and name-based UUIDs on top of OpenSSL's EVP digests.
 *
 * Invariants:
 *  1. Every generated UUID has its version nibble (byte 6, high half) and IETF variant bits
 *     (byte 8, top two bits = 10) set by set_version(), and nowhere else.
 *  2. OpenSSL objects (EVP_MD_CTX) are created and freed within one function.
 *  3. OpenSSL failures cannot be reported through the void API, so they abort with a message;
 *     they indicate a broken crypto setup, never bad input.
 * Ownership: nothing here allocates except the short-lived EVP_MD_CTX. Threads: stateless. */
#include "uuid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

enum { UUID_VERSION_NAME_MD5 = 3, UUID_MD5_LEN = 16 };

static const struct uuid UUID_NAMESPACE_URL = {
    {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}};

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "lineaged: fatal: %s failed\n", what);
    abort();
}

static void set_version(struct uuid *u, int version)
{
    u->b[6] = (unsigned char)((u->b[6] & 0x0f) | (version << 4));
    u->b[8] = (unsigned char)((u->b[8] & 0x3f) | 0x80);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_dash_pos(int i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

bool uuid_from_string(const char *s, struct uuid *out)
{
    struct uuid u;
    int nib = 0;

    if (s == NULL)
        return false;
    for (int i = 0; i < UUID_STR_LEN; i++) {
        if (is_dash_pos(i)) {
            if (s[i] != '-')
                return false;
            continue;
        }
        int v = hex_value(s[i]); /* also stops at NUL: hex_value('\0') == -1 */
        if (v < 0)
            return false;
        if (nib % 2 == 0)
            u.b[nib / 2] = (unsigned char)(v << 4);
        else
            u.b[nib / 2] |= (unsigned char)v;
        nib++;
    }
    if (s[UUID_STR_LEN] != '\0')
        return false;
    *out = u;
    return true;
}

void uuid_to_string(const struct uuid *u, char out[UUID_STR_MAX])
{
    static const char hex[] = "0123456789abcdef";
    int nib = 0;

    for (int i = 0; i < UUID_STR_LEN; i++) {
        if (is_dash_pos(i)) {
            out[i] = '-';
            continue;
        }
        unsigned char byte = u->b[nib / 2];
        out[i] = hex[nib % 2 == 0 ? byte >> 4 : byte & 0x0f];
        nib++;
    }
    out[UUID_STR_LEN] = '\0';
}

/* MD5 over up to two byte ranges (either may be empty) into u, then stamps version 3. */
static void md5_name(const void *a, size_t alen, const void *b, size_t blen, struct uuid *u)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (ctx == NULL)
        die("EVP_MD_CTX_new");
    if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 || EVP_DigestUpdate(ctx, a, alen) != 1 ||
        EVP_DigestUpdate(ctx, b, blen) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
        mdlen != UUID_MD5_LEN) {
        EVP_MD_CTX_free(ctx);
        die("MD5 digest");
    }
    EVP_MD_CTX_free(ctx);
    memcpy(u->b, md, sizeof u->b);
    set_version(u, UUID_VERSION_NAME_MD5);
}

void uuid_name_v3(const void *data, size_t len, struct uuid *out)
{
    md5_name(data, len, "", 0, out);
}

void uuid_name_v3_ns(const struct uuid *ns, const void *name, size_t len, struct uuid *out)
{
    struct uuid copy = *ns; /* out may alias ns */

    md5_name(copy.b, sizeof copy.b, name, len, out);
}

void uuid_namespace_url(struct uuid *out)
{
    *out = UUID_NAMESPACE_URL;
}

void uuid_for_run_id(const char *run_id, struct uuid *out)
{
    if (!uuid_from_string(run_id, out))
        uuid_name_v3(run_id, strlen(run_id), out);
}
