/* server/database.h - the database a command works on: --database-url, or the private Postgres in
 * --data-dir (server/pgembed.h), and bringing its schema up to date.
 * Invariant: a private Postgres started by database_open is stopped by database_close, whatever failed
 * in between. Failures are logged here, with what to do.
 * Threads: main thread only. */
#ifndef LINEAGED_DATABASE_H
#define LINEAGED_DATABASE_H

#include "cfg.h"
#include "pgembed.h"

struct database {
    struct pgembed *pg;   /* NULL with --database-url */
    const char *conninfo; /* borrowed from cfg or pg */
};

/* Resolves the database of c (mode: see pgembed_start). Returns 0, or -1 (logged). */
int database_open(const struct cfg *c, enum pgembed_mode mode, struct database *db);

/* Applies the migrations not yet applied (store_migrate). Returns 0, or -1 (logged). */
int database_migrate(const struct database *db);

/* Stops what database_open started. */
void database_close(struct database *db);

#endif
