#!/usr/bin/env python3
"""bench/run_search.py - the search benchmark end to end, in one command:

    bench/run_search.py --build build [--jobs N] [--runs N] [--baseline-runs N] [--budget-s S]

1. Starts a private Postgres (`lineaged postgres --data-dir <tempdir>`), creates the database
   `bench_search` and runs `lineaged migrate` on it (the search indexes of migration 0007 included).
2. `bench_graph_db --load`: COPYs the generated warehouse (139,000 datasets, 87,000 jobs and their fields
   with the default --jobs 87000) into the real schema, as bench/run_graph.py does.
3. `bench_search --setup`: descriptions, owners, labels, tags and a feature column for that data; then
   GET /api/v1/search's statement (store_read_search) per query, with the trigram indexes and after
   dropping them, and prints p50/p99 of both (bench/search.c).

Invariants: every process started here is stopped here (private_pg), also on failure or Ctrl-C; exit 0
when the table was printed, 1 with one line saying which step failed otherwise. Python 3 standard library.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import private_pg  # noqa: E402  (scripts/private_pg.py: the private Postgres)
from private_pg import StepError  # noqa: E402

DBNAME = "bench_search"
TARGET_MS = 20.0


def say(msg):
    print(f"run_search: {msg}", file=sys.stderr, flush=True)


def run_step(cmd, what):
    """Runs a tool to completion; its stdout is returned, its stderr passes through."""
    say(what)
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout)
        raise StepError(f"{what} failed (exit {done.returncode})")
    return done.stdout


def run(args):
    build = os.path.abspath(args.build)
    lineaged, graph_db, search = (os.path.join(build, *p) for p in (("server", "lineaged"),
                                                                     ("bench", "bench_graph_db"),
                                                                     ("bench", "bench_search")))
    for path in (lineaged, graph_db, search):
        if not os.access(path, os.X_OK):
            raise StepError(f"{path} is missing; build first (ninja -C {args.build})")
    started = time.monotonic()
    with private_pg.PrivatePostgres(lineaged, "lineaged-bench-search-", subdir="pg", say=say) as pg:
        conninfo = pg.create_database(DBNAME)
        run_step([lineaged, "migrate", "--database-url", conninfo], "lineaged migrate")
        gen = ["--jobs", str(args.jobs)] if args.jobs else []
        sys.stderr.write(run_step([graph_db, "--db", conninfo, "--load"] + gen, "bench_graph_db --load (COPY)"))
        table = run_step([search, "--db", conninfo, "--setup", "--runs", str(args.runs), "--baseline-runs",
                          str(args.baseline_runs), "--budget-s", str(args.budget_s)], "bench_search")
    print(f"\nlineaged search benchmark (GET /api/v1/search's statement, limit 10, sort by name); "
          f"target p99 under {TARGET_MS:.0f} ms with the indexes; run took {(time.monotonic() - started) / 60:.1f} min\n")
    print(table, end="")
    return 0


def main():
    p = argparse.ArgumentParser(description="run the lineaged search benchmark end to end")
    p.add_argument("--build", default="build", help="meson build directory (default: build)")
    p.add_argument("--jobs", type=int, default=None, help="generated jobs (bench_graph's default: 87000)")
    p.add_argument("--runs", type=int, default=50, help="runs per query with the indexes (default 50)")
    p.add_argument("--baseline-runs", type=int, default=10, help="runs per query without them (default 10)")
    p.add_argument("--budget-s", type=int, default=20, help="seconds per query without them (default 20)")
    args = p.parse_args()
    return private_pg.run_main(lambda: run(args), say)


if __name__ == "__main__":
    sys.exit(main())
