#!/usr/bin/env python3
"""bench/run_ingest.py - `make bench`: one command that runs the ingest benchmark end to end.

Starts a private Postgres (`lineaged postgres --data-dir <tempdir>`, which prints `ready <conninfo>`),
creates a fresh database `bench` in it, starts `lineaged serve` on a free 127.0.0.1 port against that
database, waits for GET /healthcheck to answer 200, runs `bench_ingest` with the shared OpenLineage
fixtures, then stops the server and Postgres (SIGTERM, wait) and removes the tempdir.

Invariants:
 1. Every process started here is stopped here, by its own pid, in reverse start order, also when a
    step fails or the run is interrupted (SIGINT/SIGTERM); the tempdir goes only after Postgres stopped.
 2. The exit status is bench_ingest's; a failure before the benchmark ran exits 1 with one line saying
    which step failed.
Python 3 standard library only.
"""
import argparse
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
import urllib.error
import urllib.request

READY_TIMEOUT_S = 180      # initdb on a slow disk
HEALTH_TIMEOUT_S = 60      # migrations on a fresh database
STOP_TIMEOUT_S = 60
POLL_INTERVAL_S = 0.1
DB_CONNECTIONS = 4  # the default: on a 2-core machine fewer, larger group commits win


class StepError(Exception):
    """A setup step failed; the message says which and why."""


def parse_args():
    p = argparse.ArgumentParser(description="run the lineaged ingest benchmark end to end")
    p.add_argument("--build", default="build", help="meson build directory (default: build)")
    p.add_argument("--events", type=int, help="events per mode (bench_ingest's default if omitted)")
    p.add_argument("--connections", type=int, help="HTTP connections (bench_ingest's default if omitted)")
    p.add_argument("--batch-size", type=int, help="events per batch (bench_ingest's default if omitted)")
    return p.parse_args()


def say(msg):
    print(f"run_ingest: {msg}", file=sys.stderr, flush=True)


def free_port():
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


def drain(stream):
    """Copies what a child still writes to stdout onto our stderr, so its pipe never fills."""
    for line in stream:
        sys.stderr.write(line)


def wait_ready(proc):
    """Returns the conninfo once `lineaged postgres` printed `ready <conninfo>`; then keeps its stdout drained."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + READY_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=deadline - time.monotonic()):
                break
            line = proc.stdout.readline()
            if line == "":
                raise StepError(f"lineaged postgres exited ({proc.wait()}) before printing `ready`")
            if line.startswith("ready "):
                threading.Thread(target=drain, args=(proc.stdout,), daemon=True).start()
                return line[len("ready "):].strip()
            sys.stderr.write(line)
        raise StepError(f"lineaged postgres did not print `ready` within {READY_TIMEOUT_S} s")
    finally:
        sel.close()


def create_database(conninfo, dbname):
    psql = find_psql()
    done = subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                           "-c", f"CREATE DATABASE {dbname}"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise StepError(f"CREATE DATABASE {dbname} failed: {done.stderr.strip()}")


def wait_healthy(proc, url):
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StepError(f"lineaged serve exited ({proc.returncode}) before it was healthy")
        try:
            with urllib.request.urlopen(url + "/healthcheck", timeout=2) as resp:
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
        except (urllib.error.URLError, OSError) as e:
            last = str(e)
        time.sleep(POLL_INTERVAL_S)
    raise StepError(f"GET /healthcheck did not answer 200 within {HEALTH_TIMEOUT_S} s ({last})")


def stop(proc, name):
    """SIGTERM, wait; SIGKILL (same pid) only if it does not stop in time.
    Returns False if it had to be killed (its own children may then still run)."""
    if proc is None:
        return True
    if proc.poll() is not None:
        say(f"{name} had already exited, with status {proc.returncode}")
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        say(f"{name} (pid {proc.pid}) ignored SIGTERM for {STOP_TIMEOUT_S} s; killing it")
        proc.kill()
        proc.wait()
        return False
    if proc.returncode not in (0, -signal.SIGTERM):
        say(f"{name} exited with status {proc.returncode}")
    return True


def bench_command(args, bench, url, conninfo, fixtures):
    cmd = [bench, "--url", url, "--db", conninfo, "--fixtures", fixtures]
    for flag, value in (("--events", args.events), ("--connections", args.connections),
                        ("--batch-size", args.batch_size)):
        if value is not None:
            cmd += [flag, str(value)]
    return cmd


def run(args):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.path.abspath(args.build)
    lineaged = os.path.join(build, "collector", "lineaged")
    bench = os.path.join(build, "bench", "bench_ingest")
    fixtures = os.path.normpath(os.path.join(repo, "..", "shared", "openlineage", "events"))
    for path in (lineaged, bench):
        if not os.access(path, os.X_OK):
            raise StepError(f"{path} is missing; build first (make build)")
    if not os.path.isdir(fixtures):
        raise StepError(f"fixtures not found in {fixtures}")

    tmp = tempfile.mkdtemp(prefix="lineaged-bench-")
    pg = server = None
    try:
        pg = subprocess.Popen([lineaged, "postgres", "--data-dir", tmp], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, text=True)
        conninfo = wait_ready(pg)
        create_database(conninfo, "bench")
        conninfo = with_dbname(conninfo, "bench")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([lineaged, "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--database-url", conninfo, "--db-connections", str(DB_CONNECTIONS),
                                   "--log-level", "warn"], stdin=subprocess.DEVNULL)
        wait_healthy(server, url)
        return subprocess.run(bench_command(args, bench, url, conninfo, fixtures), check=False).returncode
    finally:
        stop(server, "lineaged serve")
        if stop(pg, "lineaged postgres"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"postgres may still be running in {tmp}; left it in place")


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return run(args)
    except StepError as e:
        say(str(e))
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())
