"""scripts/pg_replica.py - a Postgres primary and a streaming replica for tests and benchmarks, made with
Debian's Postgres 15 server binaries (pg_config --bindir: initdb, pg_basebackup, pg_ctl).

    sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
    import pg_replica

    with pg_replica.PrimaryAndReplica() as pair:
        pair.create_database("app")            # on the primary; replicated
        primary, replica = pair.conninfo("app"), pair.replica_conninfo("app")
        ...
        pair.wait_replayed()                   # the replica has replayed everything the primary wrote

Both servers listen on a Unix socket in their own data directory (no TCP listener) on free port
numbers; the replica was made with `pg_basebackup -R` and streams from the primary.

Invariants:
 1. When run as root, every Postgres program runs as user postgres (Postgres refuses root) and the
    tempdir and data directories belong to it; otherwise they run as the current user.
 2. stop() (or leaving the `with`) stops the replica, then the primary (pg_ctl stop -m fast, waits), then
    removes the tempdir; a server that does not stop leaves the tempdir in place, and say() is told where.
 3. fast=True turns fsync and synchronous_commit off (tests); benchmarks keep Postgres' defaults.
Python 3 standard library only.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from private_pg import StepError, find_psql, free_port

PG_CTL_TIMEOUT_S = "60"
REPLAY_TIMEOUT_S = 60.0


def bindir():
    """Postgres server binaries: $LINEAGED_PG_BINDIR, else pg_config --bindir, else Debian's path."""
    d = os.environ.get("LINEAGED_PG_BINDIR")
    if d:
        return d
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and os.path.isfile(os.path.join(out.stdout.strip(), "pg_basebackup")):
            return out.stdout.strip()
    return "/usr/lib/postgresql/15/bin"


def available():
    """(True, "") when a primary and a replica can be made here, else (False, why)."""
    for prog in ("initdb", "pg_ctl", "pg_basebackup"):
        if not os.access(os.path.join(bindir(), prog), os.X_OK):
            return False, "no %s in %s" % (prog, bindir())
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False, "running as root and there is no postgres user"
    return True, ""


class PrimaryAndReplica:
    def __init__(self, fast=False, say=None):
        self.fast = fast
        self.say = say
        self.user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self.tmp = tempfile.mkdtemp(prefix="lineaged-replica-")
        os.chmod(self.tmp, 0o755)
        if self.user is not None:
            os.chown(self.tmp, self.user.pw_uid, self.user.pw_gid)
        self.primary_dir = os.path.join(self.tmp, "primary")
        self.replica_dir = os.path.join(self.tmp, "replica")
        self.primary_port = self.replica_port = None
        self.running = []  # data dirs of started servers, in start order

    # --- running programs ------------------------------------------------------------------------
    def run(self, prog, *args):
        """bin/prog args, as user postgres when root; raises StepError with its output on failure."""
        kw = {}
        if self.user is not None:
            kw = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        done = subprocess.run([os.path.join(bindir(), prog)] + list(args), cwd=self.tmp, capture_output=True,
                              text=True, check=False, **kw)
        if done.returncode != 0:
            raise StepError("%s %s failed (exit %d): %s" % (prog, " ".join(args), done.returncode,
                                                            (done.stderr or done.stdout).strip()[-2000:]))
        return done.stdout

    def append_conf(self, data_dir, text):
        with open(os.path.join(data_dir, "postgresql.conf"), "a") as f:
            f.write("\n# added by scripts/pg_replica.py\n" + text)

    def pg_ctl(self, data_dir, action):
        self.run("pg_ctl", action, "-w", "-t", PG_CTL_TIMEOUT_S, "-D", data_dir, "-l",
                 os.path.join(data_dir, "server.log"), "-m", "fast")

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self):
        self.primary_port, self.replica_port = free_port(), free_port()
        self.run("initdb", "-D", self.primary_dir, "-U", "lineaged", "--auth=trust", "-E", "UTF8", "--locale=C",
                 "-N")
        durability = "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n" if self.fast else ""
        self.append_conf(self.primary_dir, "listen_addresses = ''\nunix_socket_directories = '%s'\nport = %d\n"
                         "wal_level = replica\nmax_wal_senders = 4\nmax_connections = 100\n%s"
                         % (self.primary_dir, self.primary_port, durability))
        self.pg_ctl(self.primary_dir, "start")
        self.running.append(self.primary_dir)
        self.run("pg_basebackup", "-D", self.replica_dir, "-R", "-X", "stream", "-c", "fast", "-h",
                 self.primary_dir, "-p", str(self.primary_port), "-U", "lineaged")
        self.append_conf(self.replica_dir, "unix_socket_directories = '%s'\nport = %d\nhot_standby = on\n"
                         % (self.replica_dir, self.replica_port))
        self.pg_ctl(self.replica_dir, "start")
        self.running.append(self.replica_dir)
        return self

    def stop(self):
        clean = True
        for data_dir in reversed(self.running):
            try:
                self.pg_ctl(data_dir, "stop")
            except StepError as e:
                clean = False
                if self.say:
                    self.say("could not stop the server in %s: %s" % (data_dir, e))
        self.running = []
        if clean:
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.say:
            self.say("left %s in place" % self.tmp)
        return clean

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_exc):
        self.stop()
        return False

    # --- using it --------------------------------------------------------------------------------
    def conninfo(self, dbname="postgres"):
        return "host=%s port=%d dbname=%s user=lineaged" % (self.primary_dir, self.primary_port, dbname)

    def replica_conninfo(self, dbname="postgres"):
        return "host=%s port=%d dbname=%s user=lineaged" % (self.replica_dir, self.replica_port, dbname)

    def psql(self, conninfo, sql):
        done = subprocess.run([find_psql(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                               "-c", sql], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StepError("psql %r failed: %s" % (sql, done.stderr.strip()))
        return done.stdout.strip()

    def create_database(self, dbname):
        self.psql(self.conninfo(), "CREATE DATABASE %s" % dbname)
        return self.conninfo(dbname)

    def wait_replayed(self, timeout=REPLAY_TIMEOUT_S):
        """Waits until the replica has replayed the primary's WAL as of now; returns the seconds waited.
        The target is the insert position: with synchronous_commit off (fast=True) a commit's record can
        still sit in the WAL buffers, past the write position, until the WAL writer writes it."""
        target = self.psql(self.conninfo(), "SELECT pg_current_wal_insert_lsn()")
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            done = self.psql(self.replica_conninfo(), "SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn" % target)
            if done == "t":
                return time.monotonic() - started
            time.sleep(0.01)
        raise StepError("the replica did not replay up to %s within %.0f s" % (target, timeout))

    def pause_replay(self, paused):
        """Pauses (True) or resumes (False) WAL replay on the replica; waits until a pause took effect."""
        self.psql(self.replica_conninfo(), "SELECT pg_wal_replay_%s()" % ("pause" if paused else "resume"))
        deadline = time.monotonic() + REPLAY_TIMEOUT_S
        while paused and time.monotonic() < deadline:
            if self.psql(self.replica_conninfo(), "SELECT pg_get_wal_replay_pause_state()") == "paused":
                return
            time.sleep(0.01)
        if paused:
            raise StepError("replay on the replica did not pause")
