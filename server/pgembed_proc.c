/* server/pgembed_proc.c - the private Postgres's child processes: initdb and pg_ctl runs, and the
 * postmaster itself, started as lineaged's own child so that it dies with lineaged.
 *
 * Invariants:
 *  1. Children are started with fork+exec only (no shell, no pasted command lines), stdin from
 *     /dev/null, stdout/stderr to the log, every other descriptor closed, in a session of their own
 *     (a Ctrl-C in lineaged's terminal reaches lineaged, which then stops Postgres in order).
 *  2. Children get lineaged's environment without the LINEAGED_* variables (API keys and database
 *     URLs stay out of processes that another user, postgres, owns).
 *  3. As root, the child drops to the postgres user (setgroups, setgid, setuid) before exec; the only
 *     code between fork and exec is async-signal-safe (the environment is built before the fork).
 *  4. The postmaster gets PR_SET_PDEATHSIG = SIGINT after the user switch (a credential change clears
 *     it): when lineaged dies, even by kill -9, the kernel asks Postgres for a fast shutdown. If
 *     lineaged died before the prctl, the child sees another parent and exits without starting.
 * Threads: fork only from the main thread, which lives as long as the postmaster should (the parent
 * death signal follows the thread that forked). */
#include "pgembed_int.h"

#define LOG_MODULE "pgembed"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char PGEMBED_RUN_AS[] = "postgres";
static const char PGEMBED_SECRET_ENV[] = "LINEAGED_";

enum { PGEMBED_POLL_MS = 50, PGEMBED_QUIT_WAIT_S = 10 };

static int fail_errno(struct err *e, const char *what, const char *path)
{
    return err_set_detail(e, ERR_INTERNAL, strerror(errno), "cannot %s \"%s\"", what, path);
}

/* environ without LINEAGED_* (malloc'd array of borrowed strings; caller frees the array). */
static char **child_env(void)
{
    size_t n = 0, k = 0;

    while (environ[n] != NULL)
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (env == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], PGEMBED_SECRET_ENV, sizeof PGEMBED_SECRET_ENV - 1) != 0)
            env[k++] = environ[i];
    return env;
}

/* In a forked child: drop to the postgres user if needed. Async-signal-safe. */
static int child_become(const struct pgembed *pg)
{
    if (!pg->drop)
        return 0;
    if (setgroups(1, &pg->gid) != 0 || setgid(pg->gid) != 0 || setuid(pg->uid) != 0)
        return -1;
    return 0;
}

/* In a forked child: a last line to the log, then exit. Best effort: a failed write changes nothing. */
static void child_die(const char *what, const char *name)
{
    if (write(2, what, strlen(what)) >= 0 && write(2, name, strlen(name)) >= 0 && write(2, "\n", 1) >= 0)
        _exit(PGEMBED_CHILD_FAIL);
    _exit(PGEMBED_CHILD_FAIL);
}

/* In a forked child: stdio, descriptors, session and user as invariants 1 and 3 say. */
static void child_setup(const struct pgembed *pg, int out_fd, const char *name)
{
    int in = open("/dev/null", O_RDONLY);

    if (setsid() < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(PGEMBED_CHILD_FAIL);
    if (close_range(3, ~0U, 0) != 0) /* ENOSYS before Linux 5.9: our CLOEXEC fds still close */
        child_die("lineaged: cannot close inherited descriptors for ", name);
    if (child_become(pg) != 0 || chdir("/") != 0)
        child_die("lineaged: cannot switch to user postgres for ", name);
}

/* Forks bin/argv[0]; death_signal (0: none) is armed in the child. Returns the pid, or -1 with e set. */
static pid_t spawn(const struct pgembed *pg, const char *const *argv, int out_fd, int death_signal,
                   struct err *e)
{
    char path[PATH_MAX + 64];
    char **env = child_env();
    pid_t parent = getpid(), pid;

    if (env == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    snprintf(path, sizeof path, "%s/%s", pg->bin, argv[0]);
    pid = fork();
    if (pid == 0) {
        child_setup(pg, out_fd, argv[0]);
        if (death_signal != 0 && (prctl(PR_SET_PDEATHSIG, death_signal) != 0 || getppid() != parent))
            child_die("lineaged: exited before postgres started: ", argv[0]);
        execve(path, (char *const *)argv,
               env); /* execve does not modify argv; its prototype predates const */
        child_die("lineaged: cannot execute ", path);
    }
    free(env);
    if (pid < 0)
        return fail_errno(e, "fork for", argv[0]);
    return pid;
}

static int wait_exit(pid_t pid, const char *name, struct err *e)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return fail_errno(e, "wait for", name);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int pgembed_run(const struct pgembed *pg, const char *const *argv, int out_fd, struct err *e)
{
    pid_t pid = spawn(pg, argv, out_fd, 0, e);

    return pid < 0 ? -1 : wait_exit(pid, argv[0], e);
}

int pgembed_check_reach(const struct pgembed *pg, struct err *e)
{
    char parent[PATH_MAX];
    pid_t pid;

    if (!pg->drop)
        return 0;
    snprintf(parent, sizeof parent, "%s", pg->dir);
    *(strrchr(parent, '/') == parent ? parent + 1 : strrchr(parent, '/')) = '\0'; /* realpath: has a / */
    pid = fork();
    if (pid < 0)
        return fail_errno(e, "fork to check", pg->dir);
    if (pid == 0)
        _exit(child_become(pg) == 0 && access(parent, X_OK) == 0 ? 0 : 1);
    int code = wait_exit(pid, "check", e);
    if (code == 0)
        return 0;
    if (code > 0)
        err_set(e, ERR_INVALID, NULL, "user %s cannot reach \"%.120s\": %s", PGEMBED_RUN_AS, pg->dir,
                "set LINEAGED_DATA_DIR to a directory it can reach (e.g. under /tmp or /var/lib)");
    return -1;
}

long pgembed_pid_file(const struct pgembed *pg, bool *ready)
{
    char path[PATH_MAX + 32], line[PATH_MAX + 32];
    long pid = 0;
    FILE *f;

    *ready = false;
    snprintf(path, sizeof path, "%s/postmaster.pid", pg->dir);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    /* Lines (PostgreSQL's pidfile.h): 1 pid, 2 data dir, 3 start time, 4 port, 5 socket dir,
     * 6 listen address, 7 shared memory key, 8 status ("ready   " once it accepts connections). */
    for (int n = 1; fgets(line, sizeof line, f) != NULL; n++) {
        if (n == 1)
            pid = strtol(line, NULL, 10);
        if (n == 8)
            *ready = strncmp(line, "ready", 5) == 0;
    }
    fclose(f);
    return pid;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

/* Waits up to seconds for our child to exit; true (and reaped) if it did. */
static bool wait_gone(pid_t pid, int seconds)
{
    for (int waited = 0; waited <= seconds * 1000; waited += PGEMBED_POLL_MS) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        sleep_ms(PGEMBED_POLL_MS);
    }
    return false;
}

/* Polls postmaster.pid until our child says "ready"; fails if it exits or the timeout passes. */
static int wait_ready(struct pgembed *pg, struct err *e)
{
    int status;
    bool ready;

    for (int waited = 0; waited <= PGEMBED_TIMEOUT_S * 1000; waited += PGEMBED_POLL_MS) {
        if (pgembed_pid_file(pg, &ready) == (long)pg->postmaster && ready)
            return 0;
        if (waitpid(pg->postmaster, &status, WNOHANG) == pg->postmaster) {
            pg->postmaster = 0;
            return err_set(e, ERR_UNAVAILABLE, NULL, "postgres exited at start (%s %d), see \"%.150s\"",
                           WIFEXITED(status) ? "exit" : "signal",
                           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), pg->log_path);
        }
        sleep_ms(PGEMBED_POLL_MS);
    }
    struct err ignored;
    pgembed_halt(pg, &ignored);
    return err_set(e, ERR_UNAVAILABLE, NULL, "postgres did not become ready within %d s, see \"%.150s\"",
                   PGEMBED_TIMEOUT_S, pg->log_path);
}

int pgembed_spawn(struct pgembed *pg, int log_fd, struct err *e)
{
    const char *argv[] = {"postgres", "-D", pg->dir, NULL};
    pid_t pid = spawn(pg, argv, log_fd, SIGINT, e);

    if (pid < 0)
        return -1;
    pg->postmaster = pid;
    return wait_ready(pg, e);
}

int pgembed_halt(struct pgembed *pg, struct err *e)
{
    pid_t pid = pg->postmaster;

    if (pid <= 0)
        return 0;
    pg->postmaster = 0;
    if (kill(pid, SIGINT) == 0 && wait_gone(pid, PGEMBED_TIMEOUT_S))
        return 0;
    log_warn("postgres (pid %ld) did not stop within %d s of a fast shutdown; sending SIGQUIT", (long)pid,
             PGEMBED_TIMEOUT_S);
    if (kill(pid, SIGQUIT) != 0 || !wait_gone(pid, PGEMBED_QUIT_WAIT_S)) {
        kill(pid, SIGKILL);
        wait_gone(pid, PGEMBED_QUIT_WAIT_S);
    }
    return err_set(e, ERR_UNAVAILABLE, NULL, "postgres did not stop cleanly, see \"%.150s\"", pg->log_path);
}
