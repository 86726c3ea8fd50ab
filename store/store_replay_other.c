/* store/store_replay_other.c - `lineaged replay --compare-with`: the model of another database,
 * projected the same way, copied into the scratch schema, so that store_replay_compare compares it
 * with this database's (store/store_replay.h).
 *
 * Invariants:
 *  1. Every projection of the other database is read in one REPEATABLE READ transaction (one
 *     snapshot), and streamed row by row (COPY TO STDOUT on one connection, COPY FROM STDIN on the
 *     other): nothing of it is held in memory.
 *  2. The scratch table replay_<t> is made from the projection run in the scratch schema (WITH NO
 *     DATA), so both sides have the same column types; the projections are the same text on both.
 *  3. After a failure the scratch connection is left outside any COPY, so the scratch schema can
 *     still be dropped; the other connection is not used again.
 * Ownership: each row buffer comes from PQgetCopyData and is freed right after it is passed on. */
#include "store_replay_int.h"

#include <string.h>

/* Ends the COPY FROM STDIN on scratch; msg non-NULL makes the server abort it. 0 or -1 with e set
 * (an abort always reports, unless e already says why). */
static int copy_in_end(struct store *scratch, const char *msg, struct err *e)
{
    int rc = PQputCopyEnd(scratch->conn, msg) == 1 ? 0 : store_fail(scratch, NULL, "ending a copy", e);
    PGresult *res;

    while ((res = PQgetResult(scratch->conn)) != NULL) {
        if (rc == 0 && msg == NULL && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = store_fail(scratch, res, "copying rows into the scratch schema", e);
        PQclear(res);
    }
    return msg != NULL ? -1 : rc;
}

/* Streams the rows of the COPY OUT running on other into the COPY IN running on scratch. */
static int pump_rows(struct store *scratch, struct store *other, struct err *e)
{
    char *buf = NULL;
    int len;

    while ((len = PQgetCopyData(other->conn, &buf, 0)) > 0) {
        int put = PQputCopyData(scratch->conn, buf, len);
        PQfreemem(buf);
        if (put != 1) {
            store_fail(scratch, NULL, "copying rows into the scratch schema", e);
            return copy_in_end(scratch, "a row could not be sent", e);
        }
    }
    if (len == -2) {
        store_fail(other, NULL, "reading the other database's model", e);
        return copy_in_end(scratch, "the other database stopped sending rows", e);
    }
    PGresult *res = PQgetResult(other->conn);
    int rc =
        PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : store_fail(other, res, "reading the other model", e);
    PQclear(res);
    while ((res = PQgetResult(other->conn)) != NULL)
        PQclear(res);
    if (rc != 0)
        return copy_in_end(scratch, "the other database failed", e);
    return copy_in_end(scratch, NULL, e);
}

/* Starts `sql` on s and checks that it entered the copy state `want`. */
static int copy_start(struct store *s, const char *sql, ExecStatusType want, const char *what, struct err *e)
{
    PGresult *res = PQexec(s->conn, sql);
    int rc = PQresultStatus(res) == want ? 0 : store_fail(s, res, what, e);

    PQclear(res);
    return rc;
}

static int copy_table(struct store *scratch, struct store *other, struct arena *a,
                      const struct store_replay_projection *p, struct err *e)
{
    if (store_command(scratch, arena_printf(a, "CREATE TABLE replay_%s AS %s WITH NO DATA", p->table, p->sql),
                      e) != 0 ||
        copy_start(other, arena_printf(a, "COPY (%s) TO STDOUT", p->sql), PGRES_COPY_OUT,
                   "reading the other database's model", e) != 0)
        return -1;
    if (copy_start(scratch, arena_printf(a, "COPY replay_%s FROM STDIN", p->table), PGRES_COPY_IN,
                   "copying into the scratch schema", e) != 0)
        return -1;
    return pump_rows(scratch, other, e);
}

int store_replay_copy_other(struct store *scratch, struct store *other, struct arena *a, struct err *e)
{
    size_t n;
    const struct store_replay_projection *t = store_replay_tables(&n);
    struct err ignored;

    if (store_command(other, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (copy_table(scratch, other, a, &t[i], e) != 0) {
            store_command(other, "ROLLBACK", &ignored);
            return -1;
        }
    }
    return store_command(other, "COMMIT", e);
}
