#!/usr/bin/env python3
"""bench/run_read.py - Marquez's read routes at scale, lineaged against its baseline, in one run:

    python3 bench/run_read.py --build build [--scale 1]          # make bench runs this (READ_SCALE=...)

1. Starts a private Postgres (`lineaged postgres` in a tempdir), creates the database `bench_read`, runs
   `lineaged migrate`, and bulk-loads the store with `bench_read_db --load` (read_gen.h: at --scale 1,
   1 M datasets, 100,000 jobs, 10 M runs, 20 M events; COPY into the real schema). It also writes the
   requests to time (read_targets.c).
2. Baseline: the read-route indexes of migrations/*_read_routes.sql are dropped, and lineaged as it was
   before that migration (--baseline-rev, built once into build-baseline-<rev>/ from `git archive`; or
   --baseline-bin) serves the same database: the same queries, without this work's indexes, counters
   or statement shapes.
3. The indexes are built again and this build's `lineaged serve` answers the same requests.
4. Prints, per route, p50 and p99 over HTTP for both and the ratio, whether every answer was
   byte-identical between the two, the load average during each phase, and the targets.

Each phase sends every route's requests once untimed (the first request of each target, timed apart as
"first"), then times requests round-robin over the route's targets, one at a time over one keep-alive
connection, until --samples are done or --budget-s seconds are spent (at least one per target).

--database-url URL --targets FILE reuse a database bench_read_db already loaded (steps 2-4 only).
--profile DIR: with auto_explain on, writes each route's plans as the server ran them (EXPLAIN ANALYZE,
buffers) to DIR/<phase>-<route>.txt; needs --pg-log (the Postgres log; found by itself with a private
Postgres).

Invariants:
 1. Every process started here is stopped here by its own pid (scripts/private_pg.py), also on failure.
 2. Percentiles are nearest-rank. An answer other than 200 stops the run.
 3. The database is only changed by the load and by dropping and building the read-route indexes.
Python 3 standard library only.
"""
import argparse
import glob
import hashlib
import http.client
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import private_pg  # noqa: E402
from private_pg import StepError  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE_REV = "f3b206a"   # main before the read-route work (issue 14)
DBNAME = "bench_read"
SERVE_TIMEOUT_S = 1800     # migrations + the lineage graph of 10 M runs
HTTP_TIMEOUT_S = 600
TARGET_P99_MS = 20.0
BYTES_PER_SCALE = 55e9     # disk the store takes at --scale 1 (Postgres files and WAL), measured
INDEX_RE = re.compile(r"^CREATE (?:UNIQUE )?INDEX (\w+) ON [^;]*;", re.M | re.S)
DROP_RE = re.compile(r"^DROP INDEX (\w+);", re.M)


def say(msg):
    print(f"run_read: {msg}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description="time Marquez's read routes at scale against the baseline")
    p.add_argument("--build", default="build", help="meson build directory (default: build)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="store size: 1 = 1 M datasets, 100,000 jobs, 10 M runs (default 1)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--samples", type=int, default=200, help="timed requests per route (default 200)")
    p.add_argument("--budget-s", type=float, default=60, help="seconds per route at most (default 60)")
    p.add_argument("--baseline-rev", default=BASELINE_REV)
    p.add_argument("--baseline-timeout-s", type=int, default=30,
                   help="seconds a baseline request may take; a route that takes longer is shown as '>N s' (default 30)")
    p.add_argument("--baseline-bin", help="a lineaged binary to use as the baseline instead of building one")
    p.add_argument("--skip-baseline", action="store_true", help="time this build only")
    p.add_argument("--database-url", help="reuse a loaded database (with --targets)")
    p.add_argument("--targets", help="the targets bench_read_db wrote for that database")
    p.add_argument("--profile", help="directory for the plans of each route (auto_explain)")
    p.add_argument("--pg-log", help="the Postgres server log, for --profile with --database-url")
    args = p.parse_args()
    if (args.database_url is None) != (args.targets is None):
        p.error("--database-url and --targets go together")
    if args.profile and args.database_url and not args.pg_log:
        p.error("--profile with --database-url needs --pg-log")
    return args


# ---- processes and SQL ----

def psql(conninfo, sql):
    done = subprocess.run([private_pg.find_psql(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                           conninfo, "-c", sql], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise StepError(f"psql failed: {done.stderr.strip()[:300]}")
    return done.stdout.strip()


def run_step(cmd, what):
    say(what)
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, check=False)
    sys.stderr.write(done.stdout)
    if done.returncode != 0:
        raise StepError(f"{what} failed (exit {done.returncode})")
    return done.stdout



def read_route_indexes():
    """(made, replaced): the read-route migration's CREATE INDEX statements as (name, statement), and the
    indexes it drops as (name, their CREATE INDEX statement from the earlier migration that made them)."""
    files = sorted(glob.glob(os.path.join(REPO, "migrations", "*.sql")))
    mine = [f for f in files if f.endswith("_read_routes.sql")]
    if len(mine) != 1:
        raise StepError(f"expected one migrations/*_read_routes.sql, found {len(mine)}")
    texts = {f: open(f, encoding="utf-8").read() for f in files}
    made = [(m.group(1), m.group(0)) for m in INDEX_RE.finditer(texts[mine[0]])]
    replaced = []
    for name in DROP_RE.findall(texts[mine[0]]):
        found = [m.group(0) for f in files if f != mine[0] for m in INDEX_RE.finditer(texts[f]) if m.group(1) == name]
        if not found:
            raise StepError(f"the read-route migration drops {name}, which no earlier migration makes")
        replaced.append((name, found[-1]))
    return made, replaced


def build_indexes(conninfo, indexes):
    for name, create in indexes:
        t = time.monotonic()
        psql(conninfo, f"DROP INDEX IF EXISTS {name}; SET maintenance_work_mem = '1GB'; {create}")
        say(f"built {name} in {time.monotonic() - t:.1f} s")


def set_indexes(conninfo, indexes, present):
    """present: the read-route migration's indexes (and not those it replaced); else the schema before it."""
    made, replaced = indexes
    for name, _ in (replaced if present else made):
        psql(conninfo, f"DROP INDEX IF EXISTS {name}")
    build_indexes(conninfo, made if present else replaced)
    psql(conninfo, "ANALYZE")


class Serve:
    """`lineaged serve` on a free port, stopped on exit."""

    def __init__(self, lineaged, conninfo, name):
        self.lineaged, self.conninfo, self.name = lineaged, conninfo, name
        self.proc, self.port = None, None

    def __enter__(self):
        self.port = private_pg.free_port()
        say(f"starting {self.name} (loads the lineage graph first)")
        self.proc = subprocess.Popen([self.lineaged, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--database-url", self.conninfo, "--log-level", "warn"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, text=True)
        try:
            private_pg.wait_healthy(self.proc, self.port, SERVE_TIMEOUT_S, poll=1.0)
        except BaseException:
            private_pg.stop(self.proc, self.name, say=say)
            raise
        return self

    def __exit__(self, *_exc):
        private_pg.stop(self.proc, self.name, say=say)
        return False


# ---- timing ----

def read_targets(path):
    """[(route, [paths])] in file order."""
    routes = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            route, target = line.rstrip("\n").split("\t")
            routes.setdefault(route, []).append(target)
    return list(routes.items())


class TimedOut(Exception):
    """A request that ran past the baseline's time limit."""


def get(conn, path, timeout_s=None):
    """(ms, body) of GET path, which must answer 200; TimedOut when timeout_s is given and passes first."""
    t0 = time.perf_counter_ns()
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except (TimeoutError, socket.timeout):
        if timeout_s is None:
            raise
        raise TimedOut() from None
    ms = (time.perf_counter_ns() - t0) / 1e6
    if resp.status != 200:
        raise StepError(f"GET {path} answered {resp.status}: {body[:300]!r}")
    return ms, body


def percentile(values, pct):
    s = sorted(values)
    return s[max(0, math.ceil(len(s) * pct / 100) - 1)] if s else None


def time_route(conn, paths, args, timeout_s, r):
    for p in paths:
        ms, body = get(conn, p, timeout_s)
        r["first"].append(ms)
        r["digest"][p] = hashlib.sha256(body).hexdigest()
        r["bytes"] = max(r["bytes"], len(body))
    start, i = time.monotonic(), 0
    while i < max(args.samples, len(paths)) and (i < len(paths) or time.monotonic() - start < args.budget_s):
        r["ms"].append(get(conn, paths[i % len(paths)], timeout_s)[0])
        i += 1


def cancel_long_queries(conninfo, timeout_s):
    """Cancels this database's statements running longer than timeout_s (a request the bench gave up on
    would otherwise keep a server worker busy)."""
    psql(conninfo, "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE datname = current_database()"
         f" AND state = 'active' AND pid <> pg_backend_pid() AND now() - query_start > interval '{timeout_s} s'")


def time_routes(port, routes, args, conninfo, timeout_s=None):
    """{route: {"first": [ms], "ms": [ms], "digest": {path: sha256}, "bytes": max size, "timeout": bool}}. A
    route with a request slower than timeout_s (the baseline's limit) stops there, marked as timed out."""
    out = {}
    for route, paths in routes:
        r = out[route] = {"first": [], "ms": [], "digest": {}, "bytes": 0, "timeout": False}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s or HTTP_TIMEOUT_S)
        try:
            time_route(conn, paths, args, timeout_s, r)
            say(f"  {route}: {len(r['ms'])} requests, p50 {percentile(r['ms'], 50):.2f} ms, "
                f"p99 {percentile(r['ms'], 99):.2f} ms")
        except TimedOut:
            r["timeout"] = True
            say(f"  {route}: a request took longer than {timeout_s} s; cancelled")
            cancel_long_queries(conninfo, timeout_s - 1)
        finally:
            conn.close()
    return out


def load_text():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def set_database(conninfo, setting, value):
    """ALTER DATABASE <this one> SET setting = value (RESET when value is None); new sessions see it."""
    action = f"RESET {setting}" if value is None else f"SET {setting} = ''{value}''"
    psql(conninfo, f"DO $$ BEGIN EXECUTE format('ALTER DATABASE %I {action}', current_database()); END $$")


def phase(name, lineaged, conninfo, routes, args, profile, timeout_s=None):
    """Times every route against `lineaged` (each request at most timeout_s when given); returns (results,
    load text before, load text after)."""
    with Serve(lineaged, conninfo, f"lineaged serve ({name})") as srv:
        before = load_text()
        say(f"{name}: timing {len(routes)} routes ({before})")
        results = time_routes(srv.port, routes, args, conninfo, timeout_s)
        after = load_text()
    if profile is not None:
        profile(name, lineaged, routes)
    return results, before, after


# ---- profile (auto_explain) ----

def make_profiler(conninfo, log_path, out_dir):
    """A function that, for one phase, serves with auto_explain on and writes each route's plans."""
    entry = re.compile(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \w+ \[\d+\] )")
    settings = {"session_preload_libraries": "auto_explain", "auto_explain.log_min_duration": "0",
                "auto_explain.log_analyze": "on", "auto_explain.log_buffers": "on",
                "auto_explain.log_nested_statements": "on"}

    def profile(name, lineaged, routes):
        os.makedirs(out_dir, exist_ok=True)
        for k, v in settings.items():
            set_database(conninfo, k, v)
        try:
            with Serve(lineaged, conninfo, f"lineaged serve ({name}, auto_explain)") as srv:
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=HTTP_TIMEOUT_S)
                for route, paths in routes:
                    for p in paths[:2]:
                        get(conn, p)  # warm
                    with open(log_path, encoding="utf-8", errors="replace") as f:
                        f.seek(0, os.SEEK_END)
                        get(conn, paths[0])
                        time.sleep(0.5)
                        text = f.read()
                    plans = [e for e in entry.split(text) if "duration:" in e and "plan:" in e
                             and "pg_snapshot" not in e and "api_keys" not in e and "events_default" not in e]
                    fname = re.sub(r"[^a-z0-9]+", "-", route.lower()).strip("-")
                    with open(os.path.join(out_dir, f"{name}-{fname}.txt"), "w", encoding="utf-8") as o:
                        o.write(f"GET {paths[0]}\n\n" + "\n".join(plans))
                conn.close()
        finally:
            for k in settings:
                set_database(conninfo, k, None)
    return profile


# ---- the table ----

def fmt(v, limit_s=None):
    if v is None:
        return "-"
    if math.isinf(v):
        return f">{limit_s} s"
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def stats(r):
    """(p50, p99) of a phase's route; both inf when it timed out."""
    if r is None:
        return None, None
    if r["timeout"]:
        return math.inf, math.inf
    return percentile(r["ms"], 50), percentile(r["ms"], 99)


def ratio(old, new):
    if old is None or not new:
        return "-"
    return f">{old / new:.0f}x" if math.isinf(old) else f"{old / new:.1f}x"


def print_table(routes, new, old, loads, args, took):
    limit = args.baseline_timeout_s
    print(f"\nlineaged read benchmark: scale {args.scale:g}; run took {took / 60:.1f} min; one request at a time "
          f"over one keep-alive connection, up to {args.samples} per route (ms, nearest-rank percentiles)")
    for name, (before, after) in loads.items():
        print(f"  {name}: {before} at start, {after} at end")
    head = (f"{'route':<26} {'n':>4} {'new p50':>8} {'new p99':>8} {'base p50':>9} {'base p99':>9} "
            f"{'x p50':>7} {'x p99':>7} {'same':>5} {'size':>9}  target p99 < {TARGET_P99_MS:g} ms")
    print(head)
    print("-" * len(head))
    missed = []
    for route, _ in routes:
        n, o = new[route], old.get(route) if old else None
        n50, n99 = stats(n)
        o50, o99 = stats(o)
        ob50 = limit * 1000.0 if o50 is not None and math.isinf(o50) else o50
        ob99 = limit * 1000.0 if o99 is not None and math.isinf(o99) else o99
        x50 = "-" if o is None else (f">{ob50 / n50:.0f}x" if o["timeout"] else ratio(o50, n50))
        x99 = "-" if o is None else (f">{ob99 / n99:.0f}x" if o["timeout"] else ratio(o99, n99))
        same = "-" if not o or o["timeout"] else "yes" if o["digest"] == n["digest"] else "NO"
        ok = n99 < TARGET_P99_MS
        if not ok:
            missed.append(f"{route} p99 {n99:.1f} ms ({n99 / TARGET_P99_MS:.1f}x the target)")
        print(f"{route:<26} {len(n['ms']):>4} {fmt(n50):>8} {fmt(n99):>8} {fmt(o50, limit):>9} {fmt(o99, limit):>9} "
              f"{x50:>7} {x99:>7} {same:>5} {n['bytes']:>9}  {'met' if ok else 'MISSED'}")
    print("x = baseline / new (a baseline past its limit counts as the limit: a lower bound); same = every")
    print("target's answer byte-identical in both phases; size = largest answer (bytes). Baseline: lineaged")
    print(f"{args.baseline_bin or args.baseline_rev} without the read-route indexes (requests cut at {limit} s).")
    for m in missed:
        print(f"missed: {m}")


# ---- the run ----

def run(args):
    started = time.monotonic()
    build = os.path.abspath(args.build)
    lineaged = os.path.join(build, "server", "lineaged")
    loader = os.path.join(build, "bench", "bench_read_db")
    for path in (lineaged, loader):
        if not os.access(path, os.X_OK):
            raise StepError(f"{path} is missing; build first (ninja -C {args.build})")
    baseline = None
    if not args.skip_baseline:
        baseline = args.baseline_bin or private_pg.build_baseline(REPO, args.baseline_rev, say)
    indexes = read_route_indexes()
    if args.database_url:
        return measure(args, args.database_url, args.targets, lineaged, baseline, indexes, args.pg_log, started)
    need = BYTES_PER_SCALE * args.scale + 5e9
    free = shutil.disk_usage(os.environ.get("TMPDIR", "/tmp")).free
    if free < need:
        raise StepError(f"needs about {need / 1e9:.0f} GB free in the temp directory, has {free / 1e9:.0f} GB "
                        "(use --scale to make the store smaller)")
    with private_pg.PrivatePostgres(lineaged, "lineaged-bench-read-", subdir="pg", say=say) as pg:
        conninfo = pg.create_database(DBNAME)
        psql(conninfo, "ALTER SYSTEM SET max_wal_size = '4GB'")
        psql(conninfo, "SELECT pg_reload_conf()")
        run_step([lineaged, "migrate", "--database-url", conninfo], "lineaged migrate")
        targets = os.path.join(pg.tmp, "targets.tsv")
        run_step([loader, "--db", conninfo, "--load", "--targets", targets, "--scale", str(args.scale),
                  "--seed", str(args.seed)], "bench_read_db --load (COPY)")
        return measure(args, conninfo, targets, lineaged, baseline, indexes,
                       os.path.join(pg.data_dir, "postgres.log"), started)


def measure(args, conninfo, targets, lineaged, baseline, indexes, pg_log, started):
    routes = read_targets(targets)
    profile = make_profiler(conninfo, pg_log, args.profile) if args.profile else None
    loads, old = {}, None
    if baseline:
        set_indexes(conninfo, indexes, present=False)
        old, b, a = phase("baseline", baseline, conninfo, routes, args, profile, args.baseline_timeout_s)
        loads["baseline"] = (b, a)
    set_indexes(conninfo, indexes, present=True)
    new, b, a = phase("new", lineaged, conninfo, routes, args, profile)
    loads["new"] = (b, a)
    print_table(routes, new, old, loads, args, time.monotonic() - started)
    return 0


def main():
    args = parse_args()
    return private_pg.run_main(lambda: run(args), say)


if __name__ == "__main__":
    sys.exit(main())
