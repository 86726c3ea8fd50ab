/* server/pgembed.h - a private PostgreSQL 15 cluster that lineaged runs itself (local use and tests).
 *
 * The cluster lives in one data directory: initdb'd on first use, reused afterwards, so data survives
 * restarts. It listens on a Unix socket inside that directory only (no TCP), port 5432, and trusts the
 * superuser "lineaged", so it must never hold data that other local users may not read.
 * Invariants:
 *  1. At most one postmaster per data directory: pgembed_start() refuses a directory whose postmaster
 *     is alive instead of adopting it.
 *  2. Every child (initdb, pg_ctl, postgres) writes its output to <data_dir>/postgres.log, and every
 *     error message about a failed child names that file.
 *  3. When lineaged runs as root, the children run as the unprivileged "postgres" user, and the data
 *     directory must be reachable by it: if it is not and a fallback root is given (the data dir was
 *     left at its default), the cluster lives in <fallback root>/<path as name>-<hash of path> instead,
 *     the same directory for the same data dir path on every run, and the log says so.
 * Server binaries come from $LINEAGED_PG_BINDIR, else LINEAGED_PG_BINDIR_DEFAULT (set by meson from
 * `pg_config --bindir`).
 * Threads: call from the main thread at start-up and shutdown; start and stop fork and wait. */
#ifndef LINEAGED_PGEMBED_H
#define LINEAGED_PGEMBED_H

#include "err.h"

struct pgembed;

/* Makes sure a cluster exists in data_dir (mkdir -p, then initdb if it holds no PG_VERSION), starts it,
 * waits until it accepts connections and creates database "lineaged" if missing. fallback_root (NULL:
 * none) is where the cluster moves when run as root and user postgres cannot reach data_dir
 * (invariant 3). Fails (ERR_CONFLICT) if a postmaster is already running in the directory used.
 * Returns NULL with e set on failure (nothing is left running); the caller stops it with pgembed_stop(). */
struct pgembed *pgembed_start(const char *data_dir, const char *fallback_root, struct err *e);

/* libpq conninfo for the running cluster:
 * "host='<abs data dir>' port=5432 dbname=lineaged user=lineaged" (the host value quoted per libpq rules).
 * Borrowed: valid until pgembed_stop(pg). */
const char *pgembed_conninfo(const struct pgembed *pg);

/* Stops the cluster (pg_ctl stop -m fast, waits) and frees pg, also on failure.
 * pgembed_stop(NULL) is a no-op returning 0. Returns 0, or -1 with e set. */
int pgembed_stop(struct pgembed *pg, struct err *e);

#endif
