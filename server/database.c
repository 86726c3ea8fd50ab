/* server/database.c - opening, migrating and closing the database of a command (see database.h). */
#include "database.h"

#include "store.h"

#define LOG_MODULE "main"
#include "log.h"

/* Where the private Postgres may move when run as root and user postgres cannot reach --data-dir:
 * only when --data-dir was left at its default (pgembed.h, invariant 3). */
static const char *private_root(const struct cfg *c)
{
    return cfg_given(c, "data-dir") ? NULL : c->private_data_root;
}

int database_open(const struct cfg *c, enum pgembed_mode mode, struct database *db)
{
    struct err e;

    db->pg = NULL;
    db->conninfo = NULL;
    if (c->database_url[0] != '\0') {
        db->conninfo = c->database_url;
        return 0;
    }
    log_info("no --database-url given: using a private Postgres in %s", c->data_dir);
    if ((db->pg = pgembed_start(c->data_dir, private_root(c), mode, &e)) == NULL) {
        log_error("cannot start the private Postgres: %s", e.msg);
        return -1;
    }
    db->conninfo = pgembed_conninfo(db->pg);
    return 0;
}

int database_migrate(const struct database *db)
{
    struct err e;
    struct store *s = store_connect(db->conninfo, &e);

    if (s == NULL) {
        log_error("%s: %s", e.msg, e.detail);
        return -1;
    }
    int applied = store_migrate(s, &e);
    store_free(s);
    if (applied < 0) {
        log_error("migration failed: %s (%s)", e.msg, e.detail);
        return -1;
    }
    log_info("database schema is up to date (%d migrations applied now)", applied);
    return 0;
}

void database_close(struct database *db)
{
    struct err e;

    if (db->pg != NULL && pgembed_stop(db->pg, &e) != 0)
        log_error("stopping the private Postgres failed: %s", e.msg);
    db->pg = NULL;
}
