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
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import private_pg  # noqa: E402  (scripts/private_pg.py: the private Postgres, stop(), free_port())
from private_pg import StepError  # noqa: E402

HEALTH_TIMEOUT_S = 60      # migrations on a fresh database
DB_CONNECTIONS = 4  # the default: on a 2-core machine fewer, larger group commits win


def parse_args():
    p = argparse.ArgumentParser(description="run the lineaged ingest benchmark end to end")
    p.add_argument("--build", default="build", help="meson build directory (default: build)")
    p.add_argument("--events", type=int, help="events per mode (bench_ingest's default if omitted)")
    p.add_argument("--connections", type=int, help="HTTP connections (bench_ingest's default if omitted)")
    p.add_argument("--batch-size", type=int, help="events per batch (bench_ingest's default if omitted)")
    return p.parse_args()


def say(msg):
    print(f"run_ingest: {msg}", file=sys.stderr, flush=True)


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
    lineaged = os.path.join(build, "server", "lineaged")
    bench = os.path.join(build, "bench", "bench_ingest")
    fixtures = os.path.normpath(os.path.join(repo, "..", "shared", "openlineage", "events"))
    for path in (lineaged, bench):
        if not os.access(path, os.X_OK):
            raise StepError(f"{path} is missing; build first (make build)")
    if not os.path.isdir(fixtures):
        raise StepError(f"fixtures not found in {fixtures}")

    with private_pg.PrivatePostgres(lineaged, "lineaged-bench-", say=say) as pg:
        conninfo = pg.create_database("bench")
        port = private_pg.free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([lineaged, "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--database-url", conninfo, "--db-connections", str(DB_CONNECTIONS),
                                   "--log-level", "warn"], stdin=subprocess.DEVNULL)
        try:
            private_pg.wait_healthy(server, port, HEALTH_TIMEOUT_S)
            return subprocess.run(bench_command(args, bench, url, conninfo, fixtures), check=False).returncode
        finally:
            private_pg.stop(server, "lineaged serve", say=say)


def main():
    args = parse_args()
    return private_pg.run_main(lambda: run(args), say)


if __name__ == "__main__":
    sys.exit(main())
