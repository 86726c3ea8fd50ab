/* store/store_copy.h - decoding the data of COPY ... TO STDOUT (FORMAT binary), which the start-up
 * graph load reads (store_graph.c).
 *
 * The format is PostgreSQL's (docs "COPY", File Formats, Binary Format): an 11-byte signature
 * "PGCOPY\n\377\r\n\0", a 32-bit flags word (bits 16-31 flag critical format changes, such as bit 16,
 * OIDs included, which we never ask for: all must be 0; bits 0-15 are ignored), a 32-bit header
 * extension length and that many bytes, then one tuple per row: a 16-bit field count, and per field a
 * 32-bit length (-1 for NULL) followed by that many bytes in the type's binary send format; a field
 * count of -1 is the trailer. All integers are in network byte order. The server sends the header with the first row and the trailer as its
 * own message; this reader does not rely on that: any message may hold the header, tuples and the
 * trailer, as long as no tuple is split between messages (libpq hands COPY data over one server
 * message at a time, and the server ends a message only at the end of a row).
 *
 * Invariants:
 *  1. Every length is checked against the message before anything is read: a malformed message is
 *     an error, never a read past its end.
 *  2. Decoding does not copy: values point into the message.
 * Threads: no shared state. */
#ifndef LINEAGED_STORE_COPY_H
#define LINEAGED_STORE_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { STORE_COPY_MAX_FIELDS = 16 };

/* Where a reader is in one COPY's data. Start with {0}. */
struct store_copy_reader {
    bool header_done; /* the signature, flags and extension were read */
    bool ended;       /* the trailer was read: nothing may follow */
};

/* One tuple: field i is val[i][0 .. len[i]), or NULL when len[i] is -1. */
struct store_copy_tuple {
    size_t n;
    const char *val[STORE_COPY_MAX_FIELDS];
    int32_t len[STORE_COPY_MAX_FIELDS];
};

/* Reads the next tuple of the message msg[*pos .. len) into *t and advances *pos past it (the header
 * first, if this is the first message). Returns 1 for a tuple, 0 when the message holds no more
 * tuples (it ended, or held the trailer: r->ended), or -1 for malformed data: a bad signature or
 * flags, a tuple or header cut short, a negative length other than -1, more than max_fields (at most
 * STORE_COPY_MAX_FIELDS) fields, or anything after the trailer. */
int store_copy_next(struct store_copy_reader *r, const char *msg, size_t len, size_t *pos, size_t max_fields,
                    struct store_copy_tuple *t);

/* Network-order integers as the binary send functions write them (int2, int4, int8). */
int16_t store_copy_int16(const char *p);
int32_t store_copy_int32(const char *p);
int64_t store_copy_int64(const char *p);

/* A timestamptz value (microseconds since 2000-01-01 00:00:00 UTC; infinity is INT64_MAX and
 * -infinity INT64_MIN) as microseconds since the Unix epoch, saturating at the int64 range. */
int64_t store_copy_epoch_usec(int64_t pg_usec);

#endif
