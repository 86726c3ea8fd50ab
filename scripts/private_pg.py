"""scripts/private_pg.py - the private Postgres and the process helpers that tests/run.py, bench/run_ingest.py
and bench/run_graph.py share.

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
    import private_pg

    with private_pg.PrivatePostgres(lineaged, "lineaged-bench-", say=say) as pg:
        conninfo = pg.create_database("bench")      # CREATE DATABASE bench; its conninfo
        ...                                         # start more processes in nested try/finally blocks

PrivatePostgres makes a tempdir, runs `lineaged postgres --data-dir <tempdir>` (or <tempdir>/<subdir>) and
waits for the `ready <conninfo>` line it prints on stdout; stop() (or leaving the `with`) stops it and then
removes the tempdir. The rest: stop() for any child, wait_line() for a child's "I am ready" line, wait_healthy()
for a `lineaged serve` to answer GET /healthcheck, free_port(), with_dbname(), find_psql(), create_database(),
build_baseline() for a benchmark's baseline lineaged, and run_main() for a script's main().

Invariants:
 1. A process is stopped by its own pid only: SIGTERM, wait; SIGKILL to the same pid only when it did not
    exit in time. Nothing is stopped by name or by process group.
 2. The tempdir goes only after Postgres stopped on SIGTERM, and not at all with keep=True. If it had to be
    killed, its own children may still run in it: the tempdir stays and say() is told where.
 3. Once the line waited for has come, the rest of that child's pipe is read to its end by a daemon thread
    (echoed to our stderr, and for Postgres also kept in PrivatePostgres.extra_stdout), so it never fills.
 4. Failures raise StepError with one line saying what failed; nothing here calls sys.exit. run_main()
    turns SIGTERM into SystemExit, so the callers' finally and with blocks stop their processes in reverse
    start order also when a step fails or the run is interrupted.
Python 3 standard library only.
"""
import http.client
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

READY_TIMEOUT_S = 180      # initdb on a slow disk
STOP_TIMEOUT_S = 60
DRAIN_JOIN_S = 5           # after the child exited; longer only if a grandchild still holds the pipe
READY_RE = re.compile(r"^ready (.*)$")


class StepError(Exception):
    """A step failed; the message says which and why."""


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_dbname(conninfo, dbname):
    """conninfo with its dbname keyword set to dbname (values may be single-quoted, libpq style)."""
    pattern = re.compile(r"\bdbname\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")
    if pattern.search(conninfo):
        return pattern.sub(lambda _m: f"dbname={dbname}", conninfo, count=1)
    return f"{conninfo} dbname={dbname}"


def find_psql():
    """psql from pg_config --bindir, else from PATH."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidate = os.path.join(out.stdout.strip(), "psql")
        if out.returncode == 0 and os.access(candidate, os.X_OK):
            return candidate
    psql = shutil.which("psql")
    if psql is None:
        raise StepError("psql not found (install postgresql-client-15)")
    return psql


def create_database(conninfo, dbname):
    """CREATE DATABASE dbname through psql on conninfo; returns the conninfo of the new database."""
    done = subprocess.run([find_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                           "-c", f"CREATE DATABASE {dbname}"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise StepError(f"CREATE DATABASE {dbname} failed: {done.stderr.strip()}")
    return with_dbname(conninfo, dbname)


def drain(stream, lines=None):
    """Copies what a child still writes onto our stderr (and into lines), so its pipe never fills."""
    for line in stream:
        sys.stderr.write(line)
        if lines is not None:
            lines.append(line)


def start_drain(stream, lines=None):
    """drain() in a daemon thread; returns the thread."""
    thread = threading.Thread(target=drain, args=(stream, lines), daemon=True)
    thread.start()
    return thread


def wait_line(proc, stream, pattern, timeout, what, wanted=None, strict=False, keep_draining=True):
    """Reads a child's text stream until a line matches pattern and returns the match; then (keep_draining)
    keeps the stream drained. Lines before it are echoed to stderr, or with strict=True are an error.
    wanted names the line in messages (default: the pattern)."""
    wanted = wanted or repr(pattern.pattern)
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=deadline - time.monotonic()):
                break
            line = stream.readline()
            if line == "":
                raise StepError(f"{what} exited ({proc.wait()}) before printing {wanted}")
            m = pattern.search(line)
            if m:
                if keep_draining:
                    start_drain(stream)
                return m
            if strict:
                text = line.rstrip("\n")
                raise StepError(f"{what} printed {text!r} instead of {wanted}")
            sys.stderr.write(line)
        raise StepError(f"{what} did not print {wanted} within {timeout} s")
    finally:
        sel.close()


def wait_healthy(proc, port, timeout, poll=0.1):
    """Waits until the `lineaged serve` child proc answers GET /healthcheck 200 on 127.0.0.1:port; StepError if
    it exits first or timeout seconds pass (migrations on a fresh database, graph loads take a while)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StepError(f"lineaged serve exited ({proc.returncode}) before it was healthy")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthcheck")
            status = conn.getresponse().status
            if status == 200:
                return
            last = f"HTTP {status}"
        except (OSError, http.client.HTTPException) as e:
            last = str(e)
        finally:
            conn.close()
        time.sleep(poll)
    raise StepError(f"GET /healthcheck did not answer 200 within {timeout} s ({last})")


def build_baseline(repo, rev, say):
    """lineaged at rev, built once into <repo>/build-baseline-<rev>/build from `git archive` of rev in src/
    (no worktree is added); the path of its binary."""
    top = os.path.join(repo, f"build-baseline-{rev}")
    src, build = os.path.join(top, "src"), os.path.join(top, "build")
    binary = os.path.join(build, "server", "lineaged")
    if os.access(binary, os.X_OK):
        return binary
    say(f"building lineaged at {rev} into {top} (once)")
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(src)
    archive = subprocess.run(["git", "-C", repo, "archive", rev], stdout=subprocess.PIPE, check=True)
    subprocess.run(["tar", "-x", "-C", src], input=archive.stdout, check=True)
    subprocess.run(["meson", "setup", build, src], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", build, "server/lineaged"], check=True, stdout=subprocess.DEVNULL)
    return binary


def stop(proc, name, timeout=STOP_TIMEOUT_S, say=None):
    """SIGTERM, wait; SIGKILL (same pid) only if it does not stop in time. Returns False if it had to be
    killed (its own children may then still run). say (if given) hears of a kill, of a child that had
    already exited and of an exit status other than 0 or -SIGTERM."""
    if proc is None:
        return True
    if proc.poll() is not None:
        if say:
            say(f"{name} had already exited, with status {proc.returncode}")
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if say:
            say(f"{name} (pid {proc.pid}) ignored SIGTERM for {timeout} s; killing it")
        proc.kill()
        proc.wait()
        return False
    if say and proc.returncode not in (0, -signal.SIGTERM):
        say(f"{name} exited with status {proc.returncode}")
    return True


class PrivatePostgres:
    """`lineaged postgres` in a tempdir of its own. The tempdir (self.tmp) exists from construction on; the
    caller may put files of its own in it. Use as a context manager (start on entry, stop on exit) or call
    start() and stop() (always stop(), also after a failed start)."""

    def __init__(self, lineaged, prefix, subdir=None, base=None, keep=False, strict=False,
                 ready_timeout=READY_TIMEOUT_S, stop_timeout=STOP_TIMEOUT_S, say=None):
        """prefix/base: mkdtemp's prefix and dir. subdir: the data directory is <tmp>/<subdir>, and tmp is
        made 0755 so that Postgres, run as user postgres when we are root, can reach it; without, tmp itself
        is the data directory (lineaged chowns it). keep: never remove tmp. strict: any stdout line other
        than the one `ready` line is an error at start (later ones are in extra_stdout). say: as in stop()."""
        self.lineaged = lineaged
        self.keep = keep
        self.strict = strict
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.say = say
        self.tmp = tempfile.mkdtemp(prefix=prefix, dir=base)
        if subdir:
            os.chmod(self.tmp, 0o755)
        self.data_dir = os.path.join(self.tmp, subdir) if subdir else self.tmp
        self.proc = None
        self.conninfo = None
        self.returncode = None     # after stop_process()
        self.extra_stdout = []     # stdout lines after `ready`
        self._drainer = None
        self._stopped = None       # stop_process()'s answer once it ran
        self._tmp_done = False

    def start(self, stderr=None):
        """Starts Postgres (its stderr to ours, or to the given file) and returns the conninfo it printed."""
        self.proc = subprocess.Popen([self.lineaged, "postgres", "--data-dir", self.data_dir],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True)
        m = wait_line(self.proc, self.proc.stdout, READY_RE, self.ready_timeout, "lineaged postgres",
                      wanted="`ready`", strict=self.strict, keep_draining=False)
        self._drainer = start_drain(self.proc.stdout, self.extra_stdout)
        self.conninfo = m.group(1).strip()
        return self.conninfo

    def restart(self, stderr=None):
        """Stops Postgres and starts it again in the same data directory (to apply settings that need a
        restart, such as shared_preload_libraries); returns the new conninfo. StepError if it had to be
        killed."""
        if not self.stop_process():
            raise StepError("lineaged postgres had to be killed on restart")
        self.proc, self._drainer, self._stopped, self.returncode = None, None, None, None
        return self.start(stderr)

    def create_database(self, dbname):
        """CREATE DATABASE dbname; returns its conninfo."""
        return create_database(self.conninfo, dbname)

    def stop(self):
        """stop_process(), then remove_tmp(); returns stop_process()'s answer."""
        stopped = self.stop_process()
        self.remove_tmp()
        return stopped

    def stop_process(self):
        """Stops Postgres (see stop()). Returns False if it had to be killed. Calling it again does nothing
        and returns the same."""
        if self._stopped is None:
            self._stopped = stop(self.proc, "lineaged postgres", self.stop_timeout, self.say)
            if self.proc is not None:
                self.returncode = self.proc.returncode
                if self._drainer is not None:
                    self._drainer.join(DRAIN_JOIN_S)
                if self._drainer is None or not self._drainer.is_alive():
                    self.proc.stdout.close()
        return self._stopped

    def remove_tmp(self):
        """After stop_process(): removes the tempdir unless keep, or, if Postgres had to be killed, leaves it
        in place and says so. Calling it again does nothing."""
        if self._tmp_done:
            return
        self._tmp_done = True
        if not self.stop_process():
            if self.say:
                self.say(f"postgres may still be running in {self.tmp}; left it in place")
        elif not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc):
        self.stop()
        return False


def run_main(run, say):
    """A script's main(): returns run()'s exit status; 1 after a StepError (said), 130 after Ctrl-C.
    SIGTERM raises SystemExit(143) in the main thread, so every finally and with on the way out still runs."""
    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        return run()
    except StepError as e:
        say(str(e))
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 128 + signal.SIGINT
