#!/usr/bin/env python3
"""bench/run_scaleout.py - what several collectors behind a load balancer, a shared Postgres and a
streaming replica can do, measured on this machine (the numbers in README "Operations").

Starts a Postgres primary and a streaming replica (scripts/pg_replica.py, Postgres' default durability:
fsync and synchronous_commit on), collector A (`lineaged serve`, primary only) and collector B (writes
to the primary, Marquez reads from the replica: --read-database-url). Then, with bench_scaleout as the
load balancer (connections split evenly over the collectors):

  ingest 1      single-event POSTs through A
  ingest 2      the same load split over A and B
  read primary  GET a page of jobs through A (read from the primary)
  read replica  the same through B (read from the replica)
  mixed primary ingest through A while reads go through A too
  mixed replica ingest through A while reads go through B

For each it reports requests/s, latency, and CPU milliseconds per 1,000 requests spent by each collector,
the primary's and the replica's Postgres processes and the load generator, read from /proc before and
after (so what a component costs, which says how far adding collectors or replicas can take it), and
how long the replica took to replay the last ingest.

Invariants:
 1. Every process started here is stopped here, by its own pid, in reverse start order, also when a step
    fails or the run is interrupted; the tempdir goes only after Postgres stopped.
 2. A run with any failed request exits 1 after printing what it measured.
Python 3 standard library only; Linux (/proc).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import pg_replica  # noqa: E402  (scripts/pg_replica.py: primary + streaming replica)
import private_pg  # noqa: E402  (scripts/private_pg.py: stop(), free_port(), wait helpers)
from private_pg import StepError  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 60
READ_CONNECTIONS = 8
INGEST_CONNECTIONS = 32


def say(msg):
    print("run_scaleout: %s" % msg, file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description="scale-out benchmark: collectors, a shared primary, a replica")
    p.add_argument("--build", default="build", help="meson build directory (default: build)")
    p.add_argument("--events", type=int, default=6000, help="events per ingest run (default 6000)")
    p.add_argument("--reads", type=int, default=3000, help="requests per read run (default 3000)")
    p.add_argument("--db-connections", type=int, default=4, help="--db-connections of each collector (default 4)")
    return p.parse_args()


# --- CPU accounting ---------------------------------------------------------------------------------

def cpu_of(pid, children=False):
    """CPU seconds of a process (utime + stime, plus its reaped children's with children=True)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def postgres_cpu(data_dir):
    """CPU seconds of a Postgres server: the postmaster (and its reaped children) plus its live children."""
    with open(os.path.join(data_dir, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    total = cpu_of(postmaster, children=True)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == postmaster:
                total += cpu_of(int(entry))
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile
    return total


class Meter:
    """CPU of the collectors, the primary, the replica and the load generator over one run."""

    def __init__(self, collectors, pair, primary):
        self.collectors = collectors
        self.pair = pair
        self.primary = primary

    def snapshot(self):
        return {"A": cpu_of(self.collectors[0].pid), "B": cpu_of(self.collectors[1].pid),
                "primary": postgres_cpu(self.pair.primary_dir),
                "replica": postgres_cpu(self.pair.replica_dir),
                "commits": float(self.pair.psql(self.primary, "SELECT xact_commit FROM pg_stat_database "
                                                              "WHERE datname = current_database()")),
                "load": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
                + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime}


# --- processes --------------------------------------------------------------------------------------

def start_collector(lineaged, conninfo, extra, log):
    port = private_pg.free_port()
    proc = subprocess.Popen([lineaged, "serve", "--port", str(port), "--database-url", conninfo,
                             "--log-level", "warn"] + extra, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    url = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StepError("lineaged serve exited with %d at start" % proc.returncode)
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=5) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    private_pg.stop(proc, "lineaged serve")
    raise StepError("lineaged serve did not become ready within %d s" % START_TIMEOUT_S)


def load(tool, urls, args):
    """Starts bench_scaleout; returns the Popen (stdout: its JSON line)."""
    cmd = [tool] + [a for u in urls for a in ("--url", u)] + args
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def finish(proc):
    out, _ = proc.communicate()
    if not out.strip():
        raise StepError("bench_scaleout printed nothing (exit %d)" % proc.returncode)
    result = json.loads(out.strip().splitlines()[-1])
    result["exit"] = proc.returncode
    return result


# --- the runs ---------------------------------------------------------------------------------------

def measured(meter, name, runs, rows):
    """Runs the bench_scaleout processes of one row at once; appends one row per process."""
    before = meter.snapshot()
    procs = [load(*r) for r in runs]
    results = [finish(p) for p in procs]
    after = meter.snapshot()
    spent = {k: after[k] - before[k] for k in before}
    total = sum(r["requests"] for r in results)
    for i, ((tool, urls, args), r) in enumerate(zip(runs, results)):
        kind = "ingest" if "--fixtures" in args else "read"
        cpu = {k: v * 1e6 / total for k, v in spent.items()} if i == 0 else None
        rows.append({"name": name, "kind": kind, "collectors": len(urls), **r, "cpu_ms_per_1000": cpu})
    return results


def print_rows(rows, replay_s):
    print("%-16s %-7s %4s %9s %8s %8s   %s" % ("run", "load", "via", "req/s", "p50 ms", "p99 ms",
                                              "per 1,000 requests: CPU ms of A, B, primary, replica, load-gen;"
                                              " primary commits"))
    for r in rows:
        c = r["cpu_ms_per_1000"]
        cpu = "%26.0f %5.0f %8.0f %8.0f %8.0f %16.0f" % (
            c["A"], c["B"], c["primary"], c["replica"], c["load"], c["commits"] / 1000) if c else ""
        print("%-16s %-7s %4d %9.0f %8.1f %8.1f   %s%s" % (
            r["name"], r["kind"], r["collectors"], r["rate"], r["p50_ms"], r["p99_ms"], cpu,
            "   (%d errors)" % r["errors"] if r["errors"] else ""))
    print("mixed runs: both loads at once; per 1,000 requests of either kind (commits include the"
          " statistics queries of this script and the followers)")
    print("replica replay: caught up %.2f s after the last ingest run ended" % replay_s)


def busiest_namespace(pair, conninfo):
    return pair.psql(conninfo, "SELECT namespace FROM jobs GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")


def run(args):
    build = os.path.abspath(args.build)
    lineaged = os.path.join(build, "server", "lineaged")
    tool = os.path.join(build, "bench", "bench_scaleout")
    fixtures = os.path.join(HERE, "..", "..", "shared", "openlineage", "events")
    ok, why = pg_replica.available()
    if not ok:
        raise StepError(why)
    with pg_replica.PrimaryAndReplica(say=say) as pair, open(os.devnull, "w") as quiet:
        primary = pair.create_database("bench")
        replica = pair.replica_conninfo("bench")
        workers = ["--db-connections", str(args.db_connections)]
        a, url_a = start_collector(lineaged, primary, workers, quiet)
        try:
            pair.wait_replayed()
            b, url_b = start_collector(lineaged, primary, workers + ["--read-database-url", replica], quiet)
            try:
                return measure_all(args, pair, Meter([a, b], pair, primary), tool, fixtures, primary, url_a, url_b)
            finally:
                private_pg.stop(b, "collector B", say=say)
        finally:
            private_pg.stop(a, "collector A", say=say)


def measure_all(args, pair, meter, tool, fixtures, primary, url_a, url_b):
    rows = []
    ingest = ["--fixtures", fixtures, "--events", str(args.events), "--connections", str(INGEST_CONNECTIONS)]
    half = ["--fixtures", fixtures, "--events", str(args.events), "--connections", str(INGEST_CONNECTIONS // 2)]
    measured(meter, "ingest 1", [(tool, [url_a], ingest)], rows)
    measured(meter, "ingest 2", [(tool, [url_a, url_b], ingest)], rows)
    started = time.monotonic()
    pair.wait_replayed()
    replay_s = time.monotonic() - started
    path = "/api/v1/namespaces/%s/jobs?limit=25" % busiest_namespace(pair, primary)
    reads = ["--get", path, "--requests", str(args.reads), "--connections", str(READ_CONNECTIONS)]
    measured(meter, "read primary", [(tool, [url_a], reads)], rows)
    measured(meter, "read replica", [(tool, [url_b], reads)], rows)
    measured(meter, "mixed primary", [(tool, [url_a], half), (tool, [url_a], reads)], rows)
    measured(meter, "mixed replica", [(tool, [url_a], half), (tool, [url_b], reads)], rows)
    print("scale-out benchmark: %d events per ingest run (shared fixtures), %d reads of %s per read run; "
          "collectors A (primary) and B (reads from the replica), %d workers each" % (
              args.events, args.reads, path, args.db_connections))
    print_rows(rows, replay_s)
    return 1 if any(r["errors"] or r["exit"] for r in rows) else 0


def main():
    args = parse_args()
    return private_pg.run_main(lambda: run(args), say)


if __name__ == "__main__":
    sys.exit(main())
