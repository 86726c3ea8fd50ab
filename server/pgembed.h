/* server/pgembed.h - a private PostgreSQL 15 cluster that lineaged runs itself (local use and tests).
 *
 * The cluster lives in one data directory: initdb'd on first use, reused afterwards, so data survives
 * restarts. It listens on a Unix socket inside that directory only (no TCP), port 5432, and trusts the
 * superuser "lineaged", so it must never hold data that other local users may not read.
 * Invariants:
 *  1. At most one lineaged owns a data directory (an flock on it, dropped by the kernel when lineaged
 *     dies). The owner's postmaster is its child and gets a fast shutdown when lineaged dies, even by
 *     kill -9; a postmaster found running in an unowned directory is an orphan and is stopped first,
 *     so a supervisor that restarts lineaged needs no manual step.
 *  2. Every child (initdb, pg_ctl, postgres) writes its output to <data_dir>/postgres.log, and every
 *     error message about a failed child names that file.
 *  3. When lineaged runs as root, the children run as the unprivileged "postgres" user, and the data
 *     directory must be reachable by it: if it is not and a fallback root is given (the data dir was
 *     left at its default), the cluster lives in <fallback root>/<path as name>-<hash of path> instead,
 *     the same directory for the same data dir path on every run, and the log says so.
 * Server binaries come from $LINEAGED_PG_BINDIR, else LINEAGED_PG_BINDIR_DEFAULT (set by meson from
 * `pg_config --bindir`).
 * Threads: call from the main thread at start-up and shutdown; start and stop fork and wait; the main
 * thread must live as long as the cluster (the parent death signal follows the forking thread). */
#ifndef LINEAGED_PGEMBED_H
#define LINEAGED_PGEMBED_H

#include "err.h"

struct pgembed;

/* PGEMBED_OWN: serve and postgres, which run the cluster. PGEMBED_SHARE: short commands (migrate,
 * keys) that may use the cluster of a lineaged already running in the directory. */
enum pgembed_mode { PGEMBED_OWN, PGEMBED_SHARE };

/* Makes sure a cluster exists in data_dir (mkdir -p, then initdb if it holds no PG_VERSION), takes the
 * directory's lock, stops an orphaned postmaster, starts ours, waits until it accepts connections and
 * creates database "lineaged" if missing. fallback_root (NULL: none) is where the cluster moves when
 * run as root and user postgres cannot reach data_dir (invariant 3). When another live lineaged holds
 * the lock: PGEMBED_OWN fails (ERR_CONFLICT); PGEMBED_SHARE attaches to its postmaster if that is ready
 * (ERR_UNAVAILABLE if not). Returns NULL with e set on failure (nothing is left running); the caller
 * stops it with pgembed_stop(). */
struct pgembed *pgembed_start(const char *data_dir, const char *fallback_root, enum pgembed_mode mode,
                              struct err *e);

/* libpq conninfo for the running cluster:
 * "host='<abs data dir>' port=5432 dbname=lineaged user=lineaged" (the host value quoted per libpq rules).
 * Borrowed: valid until pgembed_stop(pg). */
const char *pgembed_conninfo(const struct pgembed *pg);

/* Stops the cluster if we started it (fast shutdown, waits; an attached one keeps running), releases
 * the lock and frees pg, also on failure. pgembed_stop(NULL) is a no-op returning 0. Returns 0, or -1
 * with e set. */
int pgembed_stop(struct pgembed *pg, struct err *e);

#endif
