#!/usr/bin/env python3
"""bench/run_event_log.py - do reads of the event log get slower when it is partitioned?

Starts a private Postgres with two databases holding the same generated log (--events events, arriving
evenly over the last year, 1 in 100 of them late by 90 days, a few events per run): `flat` keeps events
as one table with the same indexes (the layout before migrations/0007), `partitioned` has it in 53
weekly partitions (the default width, a year of them: what a year without retention leaves). One
`lineaged serve` per database answers the routes that read the log; each request is sent --repeat
times to each server in turn, and the report gives the median latency of both and their ratio.

Routes: the event list (all time, last 7 days, a deep page ascending), the stats series (DAY and
WEEK), and a run's job facets (?type=job, read from the run's events).

Invariants:
 1. Both databases get byte-identical rows from the same deterministic SQL; the only difference is
    the table layout.
 2. Every process started here is stopped here (scripts/private_pg.py), also on failure.
Python 3 standard library only.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import private_pg  # noqa: E402
from private_pg import StepError  # noqa: E402
from run_ingest import wait_healthy  # noqa: E402  (GET /healthcheck until 200)

WEEKS = 53
RUNS_WITH_ROWS = 50   # runs given a runs row, so that their facets route answers
WARMUP = 30           # requests per route and server before measuring: a server has 4 connections, each
                      # plans a statement 5 times before Postgres may settle on a generic plan

# The log: deterministic in g (no random()), shared by both databases. %(n)d: the event count.
GENERATE = """
INSERT INTO events (seq, hash, kind, event_type, event_time, producer, run_uuid, job_namespace, job_name,
                    received_at, body)
SELECT g, decode(md5(g::text), 'hex'), 'RUN_EVENT', et, t - CASE WHEN g %% 100 = 0 THEN interval '90 days'
       ELSE ((g::bigint * 7919) %% 600) * interval '1 second' END, 'https://bench.lineaged/producer', ru, 'bench',
       'job_' || (g %% 2000), t,
       jsonb_build_object('eventType', et, 'eventTime', t, 'producer', 'https://bench.lineaged/producer',
           'schemaURL', 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
           'run', jsonb_build_object('runId', ru),
           'job', jsonb_build_object('namespace', 'bench', 'name', 'job_' || (g %% 2000), 'facets',
               jsonb_build_object('jobType', jsonb_build_object('_producer', 'p', 'integration', 'BENCH',
                   'jobType', 'QUERY', 'processingType', 'BATCH'))),
           'inputs', '[]'::jsonb, 'outputs', '[]'::jsonb)
FROM (SELECT g, (ARRAY['START', 'RUNNING', 'COMPLETE', 'FAIL', 'ABORT'])[1 + g %% 5] AS et,
             md5('run' || (g / 3))::uuid AS ru,
             date_trunc('day', now()) - interval '364 days' + (g::float8 / %(n)d) * interval '365 days' AS t
      FROM generate_series(1, %(n)d) g) s;
INSERT INTO namespaces (name, created_at, updated_at) VALUES ('bench', now(), now()) ON CONFLICT DO NOTHING;
INSERT INTO jobs (namespace, name, simple_name, created_at, updated_at, seq)
VALUES ('bench', 'job_0', 'job_0', now(), now(), 0);
INSERT INTO runs (uuid, job_id, state, state_time, created_at, updated_at, seq)
SELECT md5('run' || (k * 997))::uuid, (SELECT id FROM jobs WHERE name = 'job_0'), 'COMPLETED', now(), now(),
       now(), 0 FROM generate_series(1, %(runs)d) k;
ANALYZE;
"""

# flat: the log as one table with the parent's columns, constraints and indexes.
FLAT = """
ALTER TABLE events RENAME TO events_partitioned;
CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES
                     INCLUDING COMPRESSION);
"""


def partitioned_sql():
    """A year of weekly partitions, [today - 364 days, today + 7 days), instead of the migration's first."""
    lines = ["ALTER TABLE events DETACH PARTITION events_legacy;", "DROP TABLE events_legacy;"]
    for w in range(WEEKS):
        lines.append("SELECT event_partition_add(current_schema(), date_trunc('day', now()) + interval '%d days', "
                     "date_trunc('day', now()) + interval '%d days');" % (7 * w - 364, 7 * w - 357))
    return "\n".join(lines)


def parse_args():
    p = argparse.ArgumentParser(description="event log reads: one table against weekly partitions")
    p.add_argument("--build", default="build", help="meson build directory (default: build)")
    p.add_argument("--events", type=int, default=300000, help="events in the generated log (default 300000)")
    p.add_argument("--repeat", type=int, default=30, help="requests per route and server (default 30)")
    return p.parse_args()


def say(msg):
    print(f"run_event_log: {msg}", file=sys.stderr, flush=True)


def psql(conninfo, sql):
    p = subprocess.run([private_pg.find_psql(), conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1"], input=sql.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        raise StepError("psql failed: %s" % p.stderr.decode("utf-8", "replace")[-2000:])


def get(url):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as resp:
        resp.read()
        if resp.status != 200:
            raise StepError(f"GET {url}: HTTP {resp.status}")
    return (time.perf_counter() - t0) * 1000.0


def routes(run_uuid):
    week_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7 * 86400))
    return [("events, all time, newest 100", "/api/v1/events/lineage?limit=100"),
            ("events, last 7 days, newest 100", "/api/v1/events/lineage?after=%s&limit=100" % week_ago),
            ("events, ascending, offset 5000", "/api/v1/events/lineage?sortDirection=asc&limit=100&offset=5000"),
            ("stats lineage-events DAY", "/api/v1/stats/lineage-events?period=DAY"),
            ("stats lineage-events WEEK", "/api/v1/stats/lineage-events?period=WEEK&timezone=UTC"),
            ("run job facets (events of a run)", "/api/v1/jobs/runs/%s/facets?type=job" % run_uuid)]


def start_server(lineaged, conninfo):
    port = private_pg.free_port()
    proc = subprocess.Popen([lineaged, "serve", "--host", "127.0.0.1", "--port", str(port), "--database-url",
                             conninfo, "--log-level", "error", "--follow-interval-ms", "0",
                             "--maintenance-interval", "86400"], stdin=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def measure(urls, path, repeat):
    times = {k: [] for k in urls}
    for _ in range(repeat):
        for k, base in urls.items():
            times[k].append(get(base + path))
    return {k: statistics.median(v) for k, v in times.items()}


def run(args):
    lineaged = os.path.join(os.path.abspath(args.build), "server", "lineaged")
    if not os.access(lineaged, os.X_OK):
        raise StepError(f"{lineaged} is missing; build first (make build)")
    with private_pg.PrivatePostgres(lineaged, "lineaged-bench-", say=say) as pg:
        dbs = {name: pg.create_database(name) for name in ("flat", "partitioned")}
        params = {"n": args.events, "runs": RUNS_WITH_ROWS}
        for name, conninfo in dbs.items():
            if subprocess.run([lineaged, "migrate", "--database-url", conninfo, "--log-level", "warn"]).returncode:
                raise StepError("lineaged migrate failed")
            t0 = time.monotonic()
            psql(conninfo, (FLAT if name == "flat" else partitioned_sql()) + GENERATE % params)
            say("%s: %d events generated in %.0f s" % (name, args.events, time.monotonic() - t0))
        servers = {name: start_server(lineaged, conninfo) for name, conninfo in dbs.items()}
        try:
            for proc, url in servers.values():
                wait_healthy(proc, url)
            urls = {name: url for name, (_proc, url) in servers.items()}
            run_uuid = subprocess.run([private_pg.find_psql(), dbs["flat"], "-XAtc", "SELECT uuid FROM runs LIMIT 1"],
                                      stdout=subprocess.PIPE, check=True).stdout.decode().strip()
            print("event log reads: %d events, flat table vs %d weekly partitions; median of %d requests (ms)"
                  % (args.events, WEEKS, args.repeat))
            print("%-36s %10s %12s %8s" % ("route", "flat", "partitioned", "ratio"))
            for label, path in routes(run_uuid):
                measure(urls, path, WARMUP)                 # plans of every connection (generic after 5), caches
                m = measure(urls, path, args.repeat)
                print("%-36s %10.2f %12.2f %7.2fx" % (label, m["flat"], m["partitioned"],
                                                      m["partitioned"] / m["flat"]))
        finally:
            for proc, _url in servers.values():
                private_pg.stop(proc, "lineaged serve", say=say)
    return 0


def main():
    args = parse_args()
    return private_pg.run_main(lambda: run(args), say)


if __name__ == "__main__":
    sys.exit(main())
