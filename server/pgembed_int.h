/* server/pgembed_int.h - what pgembed.c (the cluster's life cycle) and pgembed_proc.c (child processes)
 * share. Included only by those two files. */
#ifndef LINEAGED_PGEMBED_INT_H
#define LINEAGED_PGEMBED_INT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "pgembed.h"

enum { PGEMBED_CHILD_FAIL = 127, PGEMBED_TIMEOUT_S = 60 };

struct pgembed {
    char dir[PATH_MAX]; /* absolute, realpath'd data directory (also the socket directory) */
    char log_path[PATH_MAX + 32];
    char bin[PATH_MAX]; /* server bin dir */
    char conninfo[PATH_MAX * 2 + 64];
    bool drop; /* run children as PGEMBED_RUN_AS (we are root) */
    uid_t uid;
    gid_t gid;
    int lock_fd;      /* the data dir, flock'd while we own it; -1 when attached to another's */
    pid_t postmaster; /* our child postmaster; 0 when not started by us */
};

/* Runs bin/argv[0] with argv, output to out_fd, and waits. Returns its exit code, or -1 with e set. */
int pgembed_run(const struct pgembed *pg, const char *const *argv, int out_fd, struct err *e);

/* As root: can the postgres user enter the data dir's parent? 0, or -1 with e set. */
int pgembed_check_reach(const struct pgembed *pg, struct err *e);

/* Starts `postgres -D dir` as our child (pg->postmaster), output appended to log_fd, with the parent
 * death signal set, and waits until its postmaster.pid says "ready". 0, or -1 with e set (nothing left
 * running). */
int pgembed_spawn(struct pgembed *pg, int log_fd, struct err *e);

/* Stops our child postmaster: fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL, each
 * after a wait; reaps it. 0 if it stopped on SIGINT, -1 with e set otherwise. */
int pgembed_halt(struct pgembed *pg, struct err *e);

/* What <dir>/postmaster.pid says: the pid (0 if no file or unreadable) and whether its status line is
 * "ready". */
long pgembed_pid_file(const struct pgembed *pg, bool *ready);

#endif
