/* common/uuid.h - 128-bit UUID values: parsing, printing, name-based (v3) and time-ordered (v7) ids.
 *
 * Invariants:
 *  1. struct uuid is a plain value: 16 bytes in network (big-endian) order, copyable with `=`.
 *  2. uuid_to_string(uuid_from_string(s)) is s in lower case; only the canonical 36-char form parses.
 *  3. uuid_name_v3 matches Java's UUID.nameUUIDFromBytes and uuid_for_run_id matches Marquez, so ids
 *     computed here equal the ones other OpenLineage tools compute for the same runId.
 * Names avoid libuuid's (uuid_parse, uuid_unparse*, uuid_generate*): this module never includes
 * <uuid/uuid.h>. Digests come from OpenSSL's EVP API; link with -lcrypto.
 * Threads: every function is safe from any thread. */
#ifndef LINEAGED_UUID_H
#define LINEAGED_UUID_H

#include <stdbool.h>
#include <stddef.h>

enum { UUID_STR_LEN = 36, UUID_STR_MAX = 37 };

struct uuid {
    unsigned char b[16];
};

/* Parses the canonical 8-4-4-4-12 hex form (either case, exactly 36 chars, nothing around it).
 * Returns true and fills *out, or false and leaves *out untouched. s may be NULL (false). */
bool uuid_from_string(const char *s, struct uuid *out);

/* Writes the lower-case canonical form and a NUL. Cannot fail. */
void uuid_to_string(const struct uuid *u, char out[UUID_STR_MAX]);

/* Java's UUID.nameUUIDFromBytes(data): MD5 of the bytes, version 3, IETF variant.
 * Aborts the process only if OpenSSL cannot compute MD5 (e.g. a FIPS-only provider). */
void uuid_name_v3(const void *data, size_t len, struct uuid *out);

/* RFC 4122 version 3: MD5(ns bytes || name), version 3, IETF variant. Aborts as uuid_name_v3. */
void uuid_name_v3_ns(const struct uuid *ns, const void *name, size_t len, struct uuid *out);

/* The RFC 4122 URL namespace, 6ba7b811-9dad-11d1-80b4-00c04fd430c8. */
void uuid_namespace_url(struct uuid *out);

/* The run uuid Marquez stores for a runId: the runId itself if it is a canonical UUID, else
 * uuid_name_v3(run_id, strlen(run_id)). run_id must not be NULL. */
void uuid_for_run_id(const char *run_id, struct uuid *out);


#endif
