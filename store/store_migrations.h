/* store/store_migrations.h - the schema migrations compiled into the binary.
 *
 * The list is generated at build time from migrations/NNNN_name.sql by scripts/embed_migrations.py;
 * versions run 1, 2, 3... without gaps. */
#ifndef LINEAGED_STORE_MIGRATIONS_H
#define LINEAGED_STORE_MIGRATIONS_H

#include <stddef.h>

struct store_migration {
    int version;
    const char *name;
    const char *sql;
};

/* All migrations in version order; *n gets their count. Static data: never fails, never freed. */
const struct store_migration *store_migrations_list(size_t *n);

#endif
