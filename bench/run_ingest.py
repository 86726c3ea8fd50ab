#!/usr/bin/env python3
"""bench/run_ingest.py - `make bench`: one command that runs the ingest benchmark end to end.

Starts a private Postgres (`lineaged postgres --data-dir <tempdir>`, which prints `ready <conninfo>`),
creates a fresh database `bench` in it, starts `lineaged serve` on a free 127.0.0.1 port against that
database, waits for GET /healthcheck to answer 200, then for each level of --stored (default 0): fills
the store up to that many events through the real server (batches of 100 over 32 connections, the
fastest path that derives the model with the same code as live ingest; untimed) and runs bench_ingest's
three phases one at a time (ceiling, single, batch), taking a bench/ingest_profile.py sample around
each; then stops the server and Postgres (SIGTERM, wait) and removes the tempdir.

Prints bench_ingest's table per level, a summary of events/s and ratios per level, and the cost of each
phase per event: WAL bytes, bytes stored, body bytes, CPU of lineaged / Postgres / the load generator.
--profile also loads pg_stat_statements into this cluster (ALTER SYSTEM, then a restart) and prints
the top statements of each HTTP phase.

Invariants:
 1. Every process started here is stopped here, by its own pid, in reverse start order, also when a
    step fails or the run is interrupted (SIGINT/SIGTERM); the tempdir goes only after Postgres stopped.
 2. The exit status is 1 if any bench_ingest run failed; a failure before the benchmark ran exits 1
    with one line saying which step failed.
 3. Ratios are only ever taken between phases of one level of one run (the machine is shared).
Python 3 standard library only.
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import private_pg  # noqa: E402  (scripts/private_pg.py: the private Postgres, stop(), free_port())
from private_pg import StepError  # noqa: E402
import ingest_profile  # noqa: E402  (bench/ingest_profile.py: samples around each phase)

HEALTH_TIMEOUT_S = 60      # migrations on a fresh database
DB_CONNECTIONS = 4  # the default: on a 2-core machine fewer, larger group commits win
DEFAULT_EVENTS = 20000  # bench_ingest's --events default
PRELOAD_STEP = 20000   # events per preloading bench_ingest run (its bodies are all in memory at once)
TOP_STATEMENTS = 24
TOP_TABLES = 10
ROW_RE = re.compile(r"^(ceiling|single|batch)\s.*?([0-9.]+) events/s(?:.*p50 ([0-9.]+) ms\s+p99 ([0-9.]+) ms)?")
BODY_RE = re.compile(r"mean body ([0-9.]+) KiB")


def parse_args():
    p = argparse.ArgumentParser(description="run the lineaged ingest benchmark end to end")
    p.add_argument("--build", default="build", help="meson build directory (default: build)")
    p.add_argument("--events", type=int, help="events per mode (bench_ingest's default if omitted)")
    p.add_argument("--connections", type=int, help="HTTP connections (bench_ingest's default if omitted)")
    p.add_argument("--batch-size", type=int, help="events per batch (bench_ingest's default if omitted)")
    p.add_argument("--stored", default="0",
                   help="comma-separated numbers of stored events to measure at, ascending (default: 0)")
    p.add_argument("--db-connections", type=int, default=DB_CONNECTIONS,
                   help=f"lineaged serve --db-connections (default: {DB_CONNECTIONS})")
    p.add_argument("--no-analyze", action="store_true",
                   help="do not ANALYZE after preloading (plans then stay as they were while the tables were small)")
    p.add_argument("--profile", action="store_true", help="also print pg_stat_statements per HTTP phase")
    return p.parse_args()


def say(msg):
    print(f"run_ingest: {msg}", file=sys.stderr, flush=True)



def bench_command(args, bench, url, conninfo, fixtures, phases, events=None):
    cmd = [bench, "--url", url, "--db", conninfo, "--fixtures", fixtures, "--phases", phases]
    for flag, value in (("--events", events or args.events), ("--connections", args.connections),
                        ("--batch-size", args.batch_size)):
        if value is not None:
            cmd += [flag, str(value)]
    return cmd


def parse_levels(text):
    try:
        levels = [int(x) for x in text.split(",")]
    except ValueError:
        raise StepError(f"--stored takes comma-separated integers, not {text!r}") from None
    if any(x < 0 for x in levels) or levels != sorted(levels):
        raise StepError(f"--stored must be ascending and not negative, not {text!r}")
    return levels


class Bench:
    """One server and its database; runs bench_ingest phases and keeps what they printed."""

    def __init__(self, args, paths, url, conninfo, server_pid, postmaster):
        self.args, self.paths, self.url, self.conninfo = args, paths, url, conninfo
        self.server_pid, self.postmaster = server_pid, postmaster
        self.psql = private_pg.find_psql()
        self.failed = False

    def sample(self):
        return ingest_profile.Sample.take(self.psql, self.conninfo, self.server_pid, self.postmaster)

    def run(self, phases, events=None, echo=True):
        cmd = bench_command(self.args, self.paths["bench"], self.url, self.conninfo, self.paths["fixtures"],
                            phases, events)
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
        if echo or done.returncode != 0:
            sys.stdout.write(done.stdout)
        if done.returncode != 0:
            self.failed = True
        return done.stdout

    def stored(self):
        return int(ingest_profile.psql_rows(self.psql, self.conninfo, "SELECT count(*) FROM event_hashes")[0][0])

    def preload(self, level):
        have, t0 = self.stored(), time.monotonic()
        start = have
        while have < level and not self.failed:
            self.run("batch", min(PRELOAD_STEP, level - have), echo=False)
            have = self.stored()
        if have > start:
            secs = time.monotonic() - t0
            say(f"preloaded {have - start} events in {secs:.0f} s ({(have - start) / secs:.0f} events/s),"
                f" {have} stored")
            if not self.args.no_analyze:
                # What autovacuum does within a minute or so of such growth; a store just filled in one go
                # would otherwise keep the plans cached while its tables were small (see README).
                ingest_profile.psql_rows(self.psql, self.conninfo, "ANALYZE")

    def phase(self, level, name, costs, results):
        """One phase with a sample on each side; its events/s and latencies go into results[name]."""
        if self.args.profile:
            ingest_profile.reset_statements(self.psql, self.conninfo)
            tables = ingest_profile.table_counters(self.psql, self.conninfo)
        before = self.sample()
        out = self.run(name)
        # The ceiling's rows are truncated again: its events are the COPYed rows, not the log's growth.
        copied = (self.args.events or DEFAULT_EVENTS) if name == "ceiling" else None
        cost = ingest_profile.PhaseCost(before, self.sample(), copied)
        for line in out.splitlines():
            m = ROW_RE.match(line)
            if m:
                results[name] = (float(m.group(2)), m.group(3), m.group(4))
            m = BODY_RE.search(line)
            if m:  # printed by the phases that measure the single bodies
                results["body"] = float(m.group(1)) * 1024
        costs.append(ingest_profile.cost_row(level, name, cost, results.get("body", 0)))
        if self.args.profile and name != "ceiling":
            print(f"top statements, {name}, {level} stored:")
            print("\n".join(ingest_profile.statements(self.psql, self.conninfo, cost.events, TOP_STATEMENTS)))
            print("\n".join(ingest_profile.table_lines(tables, ingest_profile.table_counters(self.psql, self.conninfo),
                                                       cost.events, TOP_TABLES)))


def summary_line(level, r):
    ceiling = r.get("ceiling", (0,))[0]
    cells = [f"{level:>9} {ceiling:>9.0f}"]
    for name in ("single", "batch"):
        eps = r.get(name, (0,))[0]
        cells.append(f"{eps:>9.0f} {eps / ceiling if ceiling else 0:>5.2f}x")
    p50, p99 = r.get("single", (0, None, None))[1:]
    cells.append(f"{p50 or '-':>8} {p99 or '-':>8}")
    return " ".join(cells)


def measure(bench, levels):
    summary, costs = [], [ingest_profile.cost_header()]
    for level in levels:
        bench.preload(level)
        results = {}
        for name in ("ceiling", "single", "batch"):
            bench.phase(level, name, costs, results)
        summary.append(summary_line(level, results))
        if bench.args.profile:
            stored = bench.stored()
            print(f"bytes stored per event, {stored} stored:")
            print("\n".join(ingest_profile.table_sizes(bench.psql, bench.conninfo, stored, TOP_TABLES)))
    print(f"\n{'stored':>9} {'ceiling':>9} {'single':>9} {'ratio':>6} {'batch':>9} {'ratio':>6}"
          f" {'p50 ms':>8} {'p99 ms':>8}   (events/s; ratios against the ceiling of the same level)")
    print("\n".join(summary))
    print("\nper event, each phase (stored: database growth; CPU: see bench/ingest_profile.py)")
    print("\n".join(costs))
    return 1 if bench.failed else 0


def run(args):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.path.abspath(args.build)
    lineaged = os.path.join(build, "server", "lineaged")
    paths = {"bench": os.path.join(build, "bench", "bench_ingest"),
             "fixtures": os.path.normpath(os.path.join(repo, "..", "shared", "openlineage", "events"))}
    levels = parse_levels(args.stored)
    for path in (lineaged, paths["bench"]):
        if not os.access(path, os.X_OK):
            raise StepError(f"{path} is missing; build first (make build)")
    if not os.path.isdir(paths["fixtures"]):
        raise StepError(f"fixtures not found in {paths['fixtures']}")

    with private_pg.PrivatePostgres(lineaged, "lineaged-bench-", say=say) as pg:
        if args.profile:
            ingest_profile.enable_statements(private_pg.find_psql(), pg.conninfo)
            pg.restart()
            ingest_profile.track_nested_statements(private_pg.find_psql(), pg.conninfo)
        conninfo = pg.create_database("bench")
        if args.profile:
            ingest_profile.psql_rows(private_pg.find_psql(), conninfo, "CREATE EXTENSION pg_stat_statements")
        port = private_pg.free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([lineaged, "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--database-url", conninfo, "--db-connections", str(args.db_connections),
                                   "--log-level", "warn"], stdin=subprocess.DEVNULL)
        try:
            private_pg.wait_healthy(server, port, HEALTH_TIMEOUT_S)
            bench = Bench(args, paths, url, conninfo, server.pid, ingest_profile.postmaster_pid(pg.data_dir))
            return measure(bench, levels)
        finally:
            private_pg.stop(server, "lineaged serve", say=say)


def main():
    args = parse_args()
    return private_pg.run_main(lambda: run(args), say)


if __name__ == "__main__":
    sys.exit(main())
