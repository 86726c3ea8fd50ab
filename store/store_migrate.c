/* store/store_migrate.c - applies migrations/NNNN_*.sql in order, each once, recorded in schema_migrations.
 *
 * Invariants:
 *  1. Each migration runs in its own transaction together with its schema_migrations row, so a
 *     failure leaves the database at the previous version.
 *  2. A session advisory lock serialises concurrent collectors; re-running is a no-op. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "store_migrations.h"

#define LOG_MODULE "migrate"
#include "log.h"

/* Arbitrary constant identifying lineaged's migration lock ("lineaged" in ASCII, truncated). */
static const char LOCK_SQL[] = "SELECT pg_advisory_lock(7308604759629898852)";
static const char UNLOCK_SQL[] = "SELECT pg_advisory_unlock(7308604759629898852)";

static const struct store_stmt CREATE_TABLE = {
    "migrate_create",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
    "applied_at timestamptz NOT NULL DEFAULT now())",
    0};
static const struct store_stmt IS_APPLIED = {"migrate_is_applied",
                                              "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1};
static const struct store_stmt RECORD = {"migrate_record",
                                          "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2};

static int applied(struct store *s, int version, bool *out, struct err *e)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[] = {v};
    PGresult *res = store_exec(s, &IS_APPLIED, params, e);
    if (res == NULL)
        return -1;
    *out = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

/* Runs a migration's whole file (PQexec runs every statement; it is our own SQL, never user input). A
 * failure is reported under the migration's name, so the log shows Postgres's message (a RAISE in the
 * migration saying what an operator must do) rather than the start of the file. */
static int run_file(struct store *s, const struct store_migration *m, struct err *e)
{
    PGresult *res = PQexec(s->conn, m->sql);
    int rc = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = store_fail(s, res, m->name, e);
    PQclear(res);
    return rc;
}

static int apply_one(struct store *s, const struct store_migration *m, struct err *e)
{
    char v[16];
    snprintf(v, sizeof v, "%d", m->version);
    const char *params[] = {v, m->name};

    if (store_command(s, "BEGIN", e) != 0)
        return -1;
    if (run_file(s, m, e) != 0)
        goto fail;
    PGresult *res = store_exec(s, &RECORD, params, e);
    if (res == NULL)
        goto fail;
    PQclear(res);
    if (store_command(s, "COMMIT", e) != 0)
        goto fail;
    log_info("applied migration %s", m->name);
    return 0;
fail:
    {
        struct err ignored;
        store_command(s, "ROLLBACK", &ignored);
    }
    return -1;
}

int store_migrate(struct store *s, struct err *e)
{
    size_t n;
    const struct store_migration *list = store_migrations_list(&n);
    int count = 0;
    struct err ignored;

    if (store_command(s, LOCK_SQL, e) != 0)
        return -1;
    PGresult *res = store_exec(s, &CREATE_TABLE, NULL, e);
    if (res == NULL)
        goto fail;
    PQclear(res);
    for (size_t i = 0; i < n; i++) {
        bool done;
        if (applied(s, list[i].version, &done, e) != 0)
            goto fail;
        if (done)
            continue;
        if (apply_one(s, &list[i], e) != 0)
            goto fail;
        count++;
    }
    store_command(s, UNLOCK_SQL, &ignored);
    return count;
fail:
    store_command(s, UNLOCK_SQL, &ignored);
    return -1;
}
