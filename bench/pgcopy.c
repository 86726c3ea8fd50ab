/* bench/pgcopy.c - COPY FROM STDIN in text format and one-statement helpers for the bench loaders.
 *
 * Invariants: see pgcopy.h (escaping, fixed SQL). Each function that gets a PGresult clears it.
 * Ownership: the buffer grows with gen_xrealloc (aborts when memory runs out) and is freed by
 * pgcopy_free. Threads: one thread per struct pgcopy. */
#include "pgcopy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph_gen.h"

enum { PGCOPY_FLUSH_BYTES = 1 << 18 }; /* PQputCopyData chunk */

int pgcopy_exec(PGconn *c, const char *sql, int n, const char *const *params, struct err *e)
{
    PGresult *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = err_set_detail(e, ERR_UNAVAILABLE, PQresultErrorMessage(res), "statement failed: %.120s", sql);
    PQclear(res);
    return rc;
}

int pgcopy_count(PGconn *c, const char *sql, long long *out, struct err *e)
{
    PGresult *res = PQexec(c, sql);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        rc = err_set_detail(e, ERR_UNAVAILABLE, PQresultErrorMessage(res), "query failed: %.120s", sql);
    else
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

static void reserve(struct pgcopy *b, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->buf = gen_xrealloc(b->buf, b->cap);
    }
}

void pgcopy_str(struct pgcopy *b, const char *s)
{
    reserve(b, 2 * strlen(s) + 1);
    for (; *s != '\0'; s++) {
        char c = *s == '\t' ? 't' : *s == '\n' ? 'n' : *s == '\r' ? 'r' : *s;
        if (c != *s || c == '\\')
            b->buf[b->len++] = '\\';
        b->buf[b->len++] = c;
    }
    b->buf[b->len++] = '\t';
}

void pgcopy_null(struct pgcopy *b)
{
    reserve(b, 3);
    memcpy(b->buf + b->len, "\\N\t", 3);
    b->len += 3;
}

void pgcopy_u64(struct pgcopy *b, uint64_t v)
{
    reserve(b, 24);
    b->len += (size_t)snprintf(b->buf + b->len, 24, "%" PRIu64 "\t", v);
}

void pgcopy_time(struct pgcopy *b, uint32_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    reserve(b, 32);
    b->len += strftime(b->buf + b->len, 32, "%Y-%m-%d %H:%M:%S+00\t", &tm);
}

void pgcopy_uuid_text(const uint8_t u[16], char out[37])
{
    static const char HEX[] = "0123456789abcdef";
    size_t n = 0;

    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = HEX[u[i] >> 4];
        out[n++] = HEX[u[i] & 15];
    }
    out[n] = '\0';
}

void pgcopy_uuid(struct pgcopy *b, const uint8_t u[16])
{
    reserve(b, 38);
    pgcopy_uuid_text(u, b->buf + b->len);
    b->len += 36;
    b->buf[b->len++] = '\t';
}

void pgcopy_bytea(struct pgcopy *b, const uint8_t *p, size_t n)
{
    static const char HEX[] = "0123456789abcdef";

    reserve(b, 2 * n + 4);
    b->buf[b->len++] = '\\'; /* "\\x..." in COPY text is the bytea input "\x..." */
    b->buf[b->len++] = '\\';
    b->buf[b->len++] = 'x';
    for (size_t i = 0; i < n; i++) {
        b->buf[b->len++] = HEX[p[i] >> 4];
        b->buf[b->len++] = HEX[p[i] & 15];
    }
    b->buf[b->len++] = '\t';
}

int pgcopy_row(struct pgcopy *b, struct err *e)
{
    b->buf[b->len - 1] = '\n';
    if (b->len >= PGCOPY_FLUSH_BYTES) {
        if (PQputCopyData(b->conn, b->buf, (int)b->len) != 1)
            return err_set_detail(e, ERR_UNAVAILABLE, PQerrorMessage(b->conn), "COPY data was not sent");
        b->len = 0;
    }
    return 0;
}

int pgcopy_begin(struct pgcopy *b, const char *sql, struct err *e)
{
    PGresult *res = PQexec(b->conn, sql);
    int rc = PQresultStatus(res) == PGRES_COPY_IN
                 ? 0
                 : err_set_detail(e, ERR_UNAVAILABLE, PQresultErrorMessage(res), "cannot start %.80s", sql);

    PQclear(res);
    b->len = 0;
    return rc;
}

int pgcopy_end(struct pgcopy *b, struct err *e)
{
    PGresult *res;
    int rc = 0;

    if ((b->len > 0 && PQputCopyData(b->conn, b->buf, (int)b->len) != 1) || PQputCopyEnd(b->conn, NULL) != 1)
        return err_set_detail(e, ERR_UNAVAILABLE, PQerrorMessage(b->conn), "COPY data was not sent");
    while ((res = PQgetResult(b->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
            rc = err_set_detail(e, ERR_UNAVAILABLE, PQresultErrorMessage(res), "COPY failed");
        PQclear(res);
    }
    return rc;
}

void pgcopy_free(struct pgcopy *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}
