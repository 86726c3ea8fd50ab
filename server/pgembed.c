/* server/pgembed.c - starts and stops lineaged's private PostgreSQL 15 cluster (see pgembed.h).
 *
 * Start (PGEMBED_OWN): resolve binaries and user -> mkdir -p + realpath the data dir -> as root, if user
 * postgres cannot reach it, move to the fallback root (when allowed) -> flock the data dir (another
 * live lineaged holds it: refuse) -> a postmaster still running there is an orphan of a
 * lineaged that died without stopping it: stop it (pg_ctl stop -m fast) -> initdb if no PG_VERSION ->
 * rewrite lineaged.conf -> postgres as our child, dying with us (pgembed_proc.c) -> create database.
 * PGEMBED_SHARE (keys, migrate): when another lineaged holds the dir and its postmaster is ready, use
 * that one (attached: never stopped here); otherwise as PGEMBED_OWN.
 * Invariants:
 *  1. Server settings never go through the command line: they live in <dir>/lineaged.conf, rewritten
 *     before every start (so a moved directory still works) and included once from postgresql.conf
 *     right after initdb.
 *  2. initdb needs an empty directory, so its output goes to an anonymous memfd first (together with an
 *     older postgres.log left by a failed attempt) and is copied into <dir>/postgres.log afterwards.
 *  3. As root, the data dir, the log and lineaged.conf belong to "postgres", and children run as it.
 *  4. pgembed_start() either returns a running (or attached) cluster or leaves none running that it
 *     started, and holds the dir's lock exactly while it owns the cluster.
 *  5. The lock is an flock on the data directory itself (O_CLOEXEC, closed in every child): the kernel
 *     drops it when lineaged dies, however it dies, and a postmaster never inherits it.
 * Ownership: struct pgembed is heap-allocated by pgembed_start() and freed by pgembed_stop().
 * Threads: main thread only; children are reaped with waitpid (SIGCHLD must not be SIG_IGN). */
#include "pgembed_int.h"

#include "store.h"
#include "uuid.h"

#define LOG_MODULE "pgembed"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LINEAGED_PG_BINDIR_DEFAULT
#define LINEAGED_PG_BINDIR_DEFAULT "/usr/lib/postgresql/15/bin"
#endif

static const char PGEMBED_PORT[] = "5432";
static const char PGEMBED_SOCKET_NAME[] = "/.s.PGSQL.5432";
static const char PGEMBED_RUN_AS[] = "postgres";
/* pg_ctl pastes -D into a double-quoted sh string; libpq splits host at commas. */
static const char PGEMBED_BAD_CHARS[] = "\"$`\\,";
static const char PGEMBED_CTL_TIMEOUT_S[] = "60"; /* pg_ctl -t, as PGEMBED_TIMEOUT_S */
static const char PGEMBED_SETTINGS[] =
    "max_connections = 100\nshared_buffers = 128MB\nfsync = on\nsynchronous_commit = on\n"
    "log_min_messages = warning\nlisten_addresses = ''\nport = 5432\n";
static const char PGEMBED_INCLUDE[] = "\n# added by lineaged: settings rewritten on every start\n"
                                      "include 'lineaged.conf'\n";


static int fail_errno(struct err *e, const char *what, const char *path)
{
    return err_set_detail(e, ERR_INTERNAL, strerror(errno), "cannot %s \"%s\"", what, path);
}

static int pgembed_find_bin(struct pgembed *pg, struct err *e)
{
    const char *bin = getenv("LINEAGED_PG_BINDIR");
    char initdb[PATH_MAX];

    if (bin == NULL || bin[0] == '\0')
        bin = LINEAGED_PG_BINDIR_DEFAULT;
    snprintf(pg->bin, sizeof pg->bin, "%s", bin);
    snprintf(initdb, sizeof initdb, "%s/initdb", bin);
    if (access(initdb, X_OK) != 0)
        return err_set(e, ERR_INVALID, NULL, "no initdb in \"%.100s\": install postgresql-15 (make deps) %s",
                       bin, "or set LINEAGED_PG_BINDIR");
    return 0;
}

static int pgembed_find_user(struct pgembed *pg, struct err *e)
{
    struct passwd *pw;

    if (geteuid() != 0) {
        pg->drop = false;
        return 0;
    }
    pw = getpwnam(PGEMBED_RUN_AS);
    if (pw == NULL)
        return err_set(e, ERR_INVALID, NULL, "postgres refuses root and there is no \"%s\" user: %s",
                       PGEMBED_RUN_AS, "install postgresql-15 (make deps) or run lineaged as a normal user");
    pg->drop = true;
    pg->uid = pw->pw_uid;
    pg->gid = pw->pw_gid;
    return 0;
}

/* mkdir -p; intermediate directories get 0755, the last one 0700 (postgres requires it). */
static int mkdir_p(const char *path, struct err *e)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof buf)
        return err_set(e, ERR_INVALID, NULL, "bad data directory path \"%.200s\"", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return fail_errno(e, "create directory", buf);
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return fail_errno(e, "create directory", buf);
    return 0;
}

static int pgembed_set_dir(struct pgembed *pg, const char *data_dir, struct err *e)
{
    struct sockaddr_un sun;

    if (mkdir_p(data_dir, e) != 0)
        return -1;
    if (realpath(data_dir, pg->dir) == NULL)
        return fail_errno(e, "resolve", data_dir);
    for (const char *p = pg->dir; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || strchr(PGEMBED_BAD_CHARS, *p) != NULL)
            return err_set(e, ERR_INVALID, NULL,
                           "data directory path \"%.150s\" contains a control character or "
                           "one of the characters %s that pg_ctl and libpq cannot quote",
                           pg->dir, PGEMBED_BAD_CHARS);
    if (strlen(pg->dir) + strlen(PGEMBED_SOCKET_NAME) >= sizeof sun.sun_path)
        return err_set(e, ERR_INVALID, NULL,
                       "data directory path \"%.150s\" is too long for a unix socket "
                       "(max %zu bytes): set LINEAGED_DATA_DIR to a shorter path",
                       pg->dir, sizeof sun.sun_path - strlen(PGEMBED_SOCKET_NAME) - 1);
    snprintf(pg->log_path, sizeof pg->log_path, "%s/postgres.log", pg->dir);
    return 0;
}

/* True if <dir>/postmaster.pid names a live postgres process working in this directory (a postmaster
 * chdirs to its data dir). A stale file, or a pid reused by another program or cluster, is not. */
static bool pgembed_running(const struct pgembed *pg, long *pid_out)
{
    char path[64], comm[64] = "", cwd[PATH_MAX];
    bool ready;
    long pid = pgembed_pid_file(pg, &ready);
    FILE *f;

    *pid_out = pid;
    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
        return false;
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    if ((f = fopen(path, "r")) == NULL)
        return true; /* alive, cannot tell what it is: be safe */
    if (fgets(comm, sizeof comm, f) == NULL)
        comm[0] = '\0';
    fclose(f);
    if (strncmp(comm, "postgres", strlen("postgres")) != 0)
        return false; /* the pid was reused */
    snprintf(path, sizeof path, "/proc/%ld/cwd", pid);
    ssize_t n = readlink(path, cwd, sizeof cwd - 1);
    if (n < 0)
        return true; /* not ours to inspect: assume it is this cluster's */
    cwd[n] = '\0';
    return strcmp(cwd, pg->dir) == 0;
}

/* Takes the data dir's lock (invariant 5). 0; 1 if another process holds it; -1 with e set. */
static int pgembed_lock(struct pgembed *pg, struct err *e)
{
    pg->lock_fd = open(pg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pg->lock_fd < 0)
        return fail_errno(e, "open", pg->dir);
    if (flock(pg->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    int busy = errno == EWOULDBLOCK;
    if (!busy)
        fail_errno(e, "lock", pg->dir);
    close(pg->lock_fd);
    pg->lock_fd = -1;
    return busy ? 1 : -1;
}

/* Opens path for appending (O_CLOEXEC), owned by the postgres user when we are root. */
static int open_owned(const struct pgembed *pg, const char *path, int flags, struct err *e)
{
    int fd = open(path, flags | O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0)
        return fail_errno(e, "open", path);
    if (pg->drop && fchown(fd, pg->uid, pg->gid) != 0) {
        close(fd);
        return fail_errno(e, "change owner of", path);
    }
    return fd;
}

static int copy_fd(int from, int to)
{
    char buf[8192];
    ssize_t n;

    if (lseek(from, 0, SEEK_SET) < 0)
        return -1;
    while ((n = read(from, buf, sizeof buf)) > 0)
        if (write(to, buf, (size_t)n) != n)
            return -1;
    return n < 0 ? -1 : 0;
}

/* Moves an old postgres.log (from a failed initdb) into mem, so initdb finds the directory empty. */
static int pgembed_stash_log(const struct pgembed *pg, int mem, struct err *e)
{
    int fd = open(pg->log_path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return errno == ENOENT ? 0 : fail_errno(e, "read", pg->log_path);
    rc = copy_fd(fd, mem);
    close(fd);
    if (rc != 0 || unlink(pg->log_path) != 0)
        return fail_errno(e, "move aside", pg->log_path);
    return 0;
}

static int pgembed_initdb(const struct pgembed *pg, struct err *e)
{
    const char *argv[] = {"initdb", "-D",   pg->dir,      "-U", "lineaged", "--auth=trust",
                          "-E",     "UTF8", "--locale=C", "-N", NULL};
    char conf[PATH_MAX + 32];
    int mem, log = -1, rc = -1, code;

    log_info("initialising a new cluster dir=%s", pg->dir);
    if ((mem = memfd_create("lineaged-initdb", MFD_CLOEXEC)) < 0)
        return fail_errno(e, "create a buffer for initdb output of", pg->dir);
    if (pgembed_stash_log(pg, mem, e) != 0)
        goto out;
    code = pgembed_run(pg, argv, mem, e);
    if ((log = open_owned(pg, pg->log_path, O_APPEND, e)) < 0 || code < 0)
        goto out;
    if (copy_fd(mem, log) != 0) {
        fail_errno(e, "write", pg->log_path);
        goto out;
    }
    if (code != 0) {
        err_set(e, ERR_UNAVAILABLE, NULL, "initdb failed (exit %d), see \"%.150s\"", code, pg->log_path);
        goto out;
    }
    close(log);
    snprintf(conf, sizeof conf, "%s/postgresql.conf", pg->dir);
    if ((log = open(conf, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0 ||
        write(log, PGEMBED_INCLUDE, strlen(PGEMBED_INCLUDE)) != (ssize_t)strlen(PGEMBED_INCLUDE)) {
        fail_errno(e, "append to", conf);
        goto out;
    }
    rc = 0;
out:
    if (log >= 0)
        close(log);
    close(mem);
    return rc;
}

/* Writes lineaged.conf (atomically): fixed settings plus the socket directory, quoted twice:
 * as a list element ("...") inside a conf string ('...' with ''). */
static int pgembed_write_conf(const struct pgembed *pg, struct err *e)
{
    char text[PATH_MAX * 4 + sizeof PGEMBED_SETTINGS + 64], path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    size_t n = (size_t)snprintf(text, sizeof text, "%sunix_socket_directories = '\"", PGEMBED_SETTINGS);
    int fd;

    for (const char *p = pg->dir; *p != '\0'; p++) {
        if (*p == '\'')
            text[n++] = '\''; /* ' is escaped by doubling; pgembed_set_dir rejected " and \ */
        text[n++] = *p;
    }
    n += (size_t)snprintf(text + n, sizeof text - n, "\"'\n");
    snprintf(path, sizeof path, "%s/lineaged.conf", pg->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if ((fd = open_owned(pg, tmp, O_TRUNC, e)) < 0)
        return -1;
    if (write(fd, text, n) != (ssize_t)n || fsync(fd) != 0) {
        close(fd);
        return fail_errno(e, "write", tmp);
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return fail_errno(e, "rename", tmp);
    return 0;
}

/* pg_ctl <action>, output appended to the log (used to stop an orphaned postmaster). */
static int pgembed_ctl(const struct pgembed *pg, const char *action, struct err *e)
{
    const char *argv[] = {"pg_ctl",     action, "-w",   "-t", PGEMBED_CTL_TIMEOUT_S, "-D", pg->dir, "-l",
                          pg->log_path, "-m",   "fast", NULL};
    int fd = open_owned(pg, pg->log_path, O_APPEND, e), code;

    if (fd < 0)
        return -1;
    code = pgembed_run(pg, argv, fd, e);
    close(fd);
    if (code < 0)
        return -1;
    if (code != 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "pg_ctl %s failed (exit %d), see \"%.150s\"", action, code,
                       pg->log_path);
    return 0;
}

/* out = "host='<dir>' port=5432 dbname=<db> user=lineaged", with \ and ' of dir escaped per libpq's
 * conninfo rules. out has room for twice the longest path. */
static void pgembed_make_conninfo(const struct pgembed *pg, const char *db, char *out, size_t cap)
{
    size_t n = 0;

    n += (size_t)snprintf(out, cap, "host='");
    for (const char *p = pg->dir; *p != '\0'; p++) {
        if (*p == '\'' || *p == '\\')
            out[n++] = '\\';
        out[n++] = *p;
    }
    snprintf(out + n, cap - n, "' port=%s dbname=%s user=lineaged", PGEMBED_PORT, db);
}

/* <root>/<the data dir's path, '/' and other characters as '-', at most its last
 * PGEMBED_FALLBACK_NAME bytes>-<first 8 hex digits of the path's name-based UUID>: one directory per
 * checkout, recognisable, and stable across runs. */
enum { PGEMBED_FALLBACK_NAME = 40 };

static void pgembed_fallback_path(const char *root, const char *dir, char *out, size_t cap)
{
    char name[PGEMBED_FALLBACK_NAME + 1], id[UUID_STR_MAX];
    size_t len = strlen(dir);
    const char *tail = len > PGEMBED_FALLBACK_NAME ? dir + len - PGEMBED_FALLBACK_NAME : dir;
    struct uuid u;
    size_t n = 0;

    while (*tail == '/')
        tail++;
    for (; *tail != '\0'; tail++) {
        char c = *tail;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                     c == '_';
        name[n++] = plain ? c : '-';
    }
    name[n] = '\0';
    uuid_name_v3(dir, len, &u);
    uuid_to_string(&u, id);
    snprintf(out, cap, "%s/%s-%.8s", root, name, id);
}

/* As root, when user postgres cannot reach the data dir: with a fallback root, moves the cluster to
 * pgembed_fallback_path (logged, with the reason), else fails saying what to do. An empty data dir
 * made by pgembed_set_dir is removed again. Not root, or reachable: nothing changes. */
static int pgembed_choose_dir(struct pgembed *pg, const char *fallback_root, struct err *e)
{
    char wanted[PATH_MAX], moved[PATH_MAX];

    if (pgembed_check_reach(pg, e) == 0)
        return 0;
    if (fallback_root == NULL || fallback_root[0] == '\0')
        return -1;
    snprintf(wanted, sizeof wanted, "%s", pg->dir);
    pgembed_fallback_path(fallback_root, wanted, moved, sizeof moved);
    if (rmdir(wanted) != 0 && errno != ENOTEMPTY && errno != EEXIST)
        log_debug("left %s in place: %s", wanted, strerror(errno));
    if (pgembed_set_dir(pg, moved, e) != 0 || pgembed_check_reach(pg, e) != 0)
        return -1;
    log_warn("user %s cannot reach the default data directory \"%s\" (Postgres refuses to run as root): "
             "the private Postgres lives in \"%s\" instead; pass --data-dir to choose another place",
             PGEMBED_RUN_AS, wanted, pg->dir);
    return 0;
}

/* Stops a postmaster left running in our (now locked) dir by a lineaged that died without stopping it
 * (an older lineaged, or one stopped with SIGSTOP). Ours die with us, but may still be shutting down. */
static int pgembed_stop_orphan(struct pgembed *pg, struct err *e)
{
    long pid;

    if (!pgembed_running(pg, &pid))
        return 0;
    log_warn("a postgres (pid %ld) left by an earlier lineaged runs in %s: stopping it", pid, pg->dir);
    if (pgembed_ctl(pg, "stop", e) != 0 && pgembed_running(pg, &pid))
        return -1;
    log_info("stopped the earlier postgres (pid %ld)", pid);
    return 0;
}

/* initdb when needed, settings, our postmaster, database "lineaged". */
static int pgembed_boot(struct pgembed *pg, struct err *e)
{
    char version[PATH_MAX + 32], admin[sizeof pg->conninfo];
    int log_fd;

    snprintf(version, sizeof version, "%s/PG_VERSION", pg->dir);
    bool fresh = access(version, F_OK) != 0; /* pgembed_choose_dir checked that we can reach it */
    if (fresh && pg->drop && chown(pg->dir, pg->uid, pg->gid) != 0)
        return fail_errno(e, "change owner of", pg->dir);
    if ((fresh && pgembed_initdb(pg, e) != 0) || pgembed_write_conf(pg, e) != 0)
        return -1;
    if ((log_fd = open_owned(pg, pg->log_path, O_APPEND, e)) < 0)
        return -1;
    int rc = pgembed_spawn(pg, log_fd, e);
    close(log_fd);
    if (rc != 0)
        return -1;
    pgembed_make_conninfo(pg, "postgres", admin, sizeof admin);
    if (store_create_database(admin, "lineaged", e) != 0) {
        struct err ignored;
        log_error("cannot create database lineaged, see \"%s\"", pg->log_path);
        if (pgembed_halt(pg, &ignored) != 0)
            log_warn("cannot stop postgres after a failed start: %s", ignored.msg);
        return -1;
    }
    return 0;
}

/* Another lineaged owns the dir: use its postmaster if it is ready (mode PGEMBED_SHARE only). */
static int pgembed_attach(struct pgembed *pg, enum pgembed_mode mode, struct err *e)
{
    bool ready;
    long pid = pgembed_pid_file(pg, &ready);

    if (mode == PGEMBED_OWN)
        return err_set(e, ERR_CONFLICT, NULL,
                       "another lineaged process uses the data directory \"%.200s\": stop it first, or give this "
                       "one its database with --database-url",
                       pg->dir);
    if (pid <= 0 || !ready || !pgembed_running(pg, &pid))
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "another lineaged process is starting or stopping the postgres in \"%.200s\"; retry",
                       pg->dir);
    log_info("using the postgres (pid %ld) of the lineaged that runs in %s", pid, pg->dir);
    return 0;
}

struct pgembed *pgembed_start(const char *data_dir, const char *fallback_root, enum pgembed_mode mode,
                              struct err *e)
{
    struct pgembed *pg = calloc(1, sizeof *pg);
    int locked;

    if (pg == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    pg->lock_fd = -1;
    if (pgembed_find_bin(pg, e) != 0 || pgembed_find_user(pg, e) != 0 || pgembed_set_dir(pg, data_dir, e) != 0 ||
        pgembed_choose_dir(pg, fallback_root, e) != 0 || (locked = pgembed_lock(pg, e)) < 0)
        goto fail;
    if (locked == 1 && pgembed_attach(pg, mode, e) != 0)
        goto fail;
    if (locked == 0 && (pgembed_stop_orphan(pg, e) != 0 || pgembed_boot(pg, e) != 0))
        goto fail;
    pgembed_make_conninfo(pg, "lineaged", pg->conninfo, sizeof pg->conninfo);
    if (pg->postmaster > 0)
        log_info("postgres started pid=%ld dir=%s log=%s", (long)pg->postmaster, pg->dir, pg->log_path);
    return pg;
fail:
    if (pg->lock_fd >= 0)
        close(pg->lock_fd);
    free(pg);
    return NULL;
}

const char *pgembed_conninfo(const struct pgembed *pg)
{
    return pg->conninfo;
}

int pgembed_stop(struct pgembed *pg, struct err *e)
{
    int rc = 0;

    if (pg == NULL)
        return 0;
    if (pg->postmaster > 0) {
        rc = pgembed_halt(pg, e);
        if (rc == 0)
            log_info("postgres stopped dir=%s", pg->dir);
    }
    if (pg->lock_fd >= 0)
        close(pg->lock_fd);
    free(pg);
    return rc;
}
