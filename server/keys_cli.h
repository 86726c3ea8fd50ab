/* server/keys_cli.h - `lineaged keys create|list|revoke`: managing API keys from the command line.
 *
 * The commands work on the database directly (--database-url, or the private Postgres in --data-dir,
 * shared with a lineaged serve running there), after bringing its schema up to date.
 * Invariants:
 *  1. A new key is printed once, alone on stdout; only its SHA-256 is stored; it never reaches a log.
 *  2. Exit codes: 0 done, 1 failed (database, no such key, name taken), 2 bad usage.
 * Threads: main thread only. */
#ifndef LINEAGED_KEYS_CLI_H
#define LINEAGED_KEYS_CLI_H

/* argv[0] is the verb; the rest are its options. Returns the exit code. */
int keys_cli_main(int argc, char **argv);

#endif
