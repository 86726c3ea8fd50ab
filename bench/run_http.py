#!/usr/bin/env python3
"""bench/run_http.py - the HTTP layer, old against new, in one run: request-smuggling probes, ingest
throughput (bench_ingest), /healthcheck latency while ingest runs, and read-route latency (bench_http_read,
both servers up, taking turns, median of three rounds).

    python3 bench/run_http.py [--build build] [--baseline-rev cc4fd17 | --baseline-bin PATH] [--events N]

The baseline is lineaged at --baseline-rev (default cc4fd17, the last commit serving HTTP with libevent's
evhttp), exported with `git archive` and built once into build-baseline-<rev>/ (kept for later runs),
or any lineaged binary given with --baseline-bin. Both servers run, one after the other, against one
private Postgres (`lineaged postgres` in a tempdir), each on a fresh database, with the same options.
Prints one table with a column per server and the ratio new/old.

Invariants:
 1. Every process started here is stopped here by its own pid (scripts/private_pg.py), also on failure.
 2. A probe shows the first answer's status and whether the request hidden in the body ran ("RAN": its
    event is in the database); a server passes it when it refuses (400) and the hidden request never runs.
Python 3 standard library only.
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import private_pg  # noqa: E402
from private_pg import StepError  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE_REV = "cc4fd17"        # the last commit whose server was libevent's evhttp
HEALTH_TIMEOUT_S = 60
HEALTH_POLL_S = 0.02
READ_REQUESTS = 10000
READ_CONNECTIONS = 8
READ_ROUNDS = 3
DB_CONNECTIONS = 4


def say(msg):
    print(f"run_http: {msg}", file=sys.stderr, flush=True)



# ---- probes -----------------------------------------------------------------------------------------

# (label, header fields, what precedes the hidden request in the body): a server that reads the body with
# the lax length takes the prefix as the whole body and runs the hidden request as the next one.
PROBES = [
    ("two Content-Length", "Content-Length: 2\r\nContent-Length: {n}\r\n", b"{}"),
    ("Content-Length: +2", "Content-Length: +2\r\n", b"{}"),
    ("Content-Length : N", "Content-Length : {n}\r\n", b""),
    ("CL and TE chunked", "Content-Length: {n}\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
    ("TE chunked twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
    ("folded Content-Length", "X-A: 1\r\n Content-Length: {n}\r\n", b""),
]


def probe(port, conninfo, fields, prefix):
    """(status of the first answer or None, whether the hidden request was run)."""
    run_id = str(uuid.uuid4())
    ev = {"eventType": "START", "eventTime": "2024-01-01T00:00:00Z", "producer": "https://probe",
          "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
          "run": {"runId": run_id}, "job": {"namespace": "probe", "name": "hidden"}, "inputs": [], "outputs": []}
    body = json.dumps(ev).encode()
    hidden = (b"POST /api/v1/lineage HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body)) + body
    payload = prefix + hidden
    head = ("POST /api/v1/lineage HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\n" +
            fields.format(n=len(payload)) + "\r\n").encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    data = b""
    try:
        s.sendall(head + payload)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        s.close()
    time.sleep(0.3)
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    out = subprocess.run([private_pg.find_psql(), "-X", "-A", "-t", "-d", conninfo, "-c",
                          f"SELECT count(*) FROM events WHERE run_uuid = '{run_id}'"],
                         capture_output=True, text=True, check=True)
    return (int(m.group(1)) if m else None), int(out.stdout.strip()) > 0


# ---- one server -------------------------------------------------------------------------------------

def parse_ingest(text):
    """{single, p50, p99, batch, ceiling} from bench_ingest's table."""
    out = {}
    m = re.search(r"^ceiling\s.*?(\d+) events/s", text, re.M)
    out["ceiling"] = float(m.group(1)) if m else None
    m = re.search(r"^single\s.*?(\d+) events/s.*p50 ([\d.]+) ms\s+p99 ([\d.]+) ms", text, re.M)
    if m:
        out["single"], out["p50"], out["p99"] = float(m.group(1)), float(m.group(2)), float(m.group(3))
    m = re.search(r"^batch\s.*?(\d+) events/s", text, re.M)
    out["batch"] = float(m.group(1)) if m else None
    return out


def health_poller(url, stop, latencies):
    """GET /healthcheck every HEALTH_POLL_S on one keep-alive connection; latency per answer, ms."""
    import http.client
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            conn.request("GET", "/healthcheck")
            r = conn.getresponse()
            r.read()
            latencies.append((time.monotonic() - t0) * 1000)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
        time.sleep(HEALTH_POLL_S)
    conn.close()


def read_latency(bench_read, url, path):
    out = subprocess.run([bench_read, "--url", url, "--path", path, "--requests", str(READ_REQUESTS),
                          "--connections", str(READ_CONNECTIONS)], capture_output=True, text=True, check=False)
    m = re.search(r"p50 ([\d.]+) ms\s+p99 ([\d.]+) ms\s+(\d+) req/s", out.stdout)
    if out.returncode != 0 or not m:
        raise StepError(f"bench_http_read {path} failed: {out.stdout.strip()} {out.stderr.strip()}")
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def start_server(name, lineaged, pg):
    """lineaged serve on a fresh database; returns (proc, port, url, conninfo)."""
    conninfo = pg.create_database("bench_" + name)
    port = private_pg.free_port()
    proc = subprocess.Popen([lineaged, "serve", "--host", "127.0.0.1", "--port", str(port), "--database-url",
                             conninfo, "--db-connections", str(DB_CONNECTIONS), "--log-level", "error"],
                            stdin=subprocess.DEVNULL)
    try:
        private_pg.wait_healthy(proc, port, HEALTH_TIMEOUT_S)
    except BaseException:
        private_pg.stop(proc, f"lineaged serve ({name})", say=say)
        raise
    return proc, port, f"http://127.0.0.1:{port}", conninfo


def ingest(name, srv, tools, args):
    """Probes, then bench_ingest with /healthcheck polled all along; returns a dict of results."""
    _proc, port, url, conninfo = srv
    res = {"probes": [probe(port, conninfo, fields, prefix) for _label, fields, prefix in PROBES]}
    stop, health = threading.Event(), []
    poller = threading.Thread(target=health_poller, args=(url, stop, health))
    poller.start()
    try:
        cmd = [tools["ingest"], "--url", url, "--db", conninfo, "--fixtures", tools["fixtures"],
               "--events", str(args.events)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    finally:
        stop.set()
        poller.join()
    if out.returncode != 0:
        raise StepError(f"bench_ingest against {name} failed:\n{out.stdout}\n{out.stderr[-2000:]}")
    say(f"{name}:\n{out.stdout.rstrip()}")
    res.update(parse_ingest(out.stdout))
    health.sort()
    res["health_load"] = (statistics.median(health), health[int(len(health) * 0.99) - 1], health[-1])
    return res


def read_paths(conninfo):
    job = subprocess.run([private_pg.find_psql(), "-X", "-A", "-t", "-d", conninfo, "-c",
                          "SELECT 'job:' || namespace || ':' || name FROM jobs ORDER BY id LIMIT 1"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return ["/healthcheck", "/api/v1/namespaces", "/api/v1/lineage?depth=2&nodeId=" + urllib.request.quote(job, safe="")]


def reads(servers, tools):
    """READ_ROUNDS rounds, old and new taking turns on each route, so both see the same machine; returns
    per server the median over the rounds of (p50, p99, req/s) per route."""
    got = {name: [[] for _ in range(3)] for name in servers}
    paths = {name: read_paths(srv[3]) for name, srv in servers.items()}
    for _round in range(READ_ROUNDS):
        for k in range(3):
            for name, srv in servers.items():
                got[name][k].append(read_latency(tools["read"], srv[2], paths[name][k]))
    return {name: [tuple(statistics.median(m[i] for m in runs) for i in range(3)) for runs in got[name]]
            for name in servers}


# ---- report ---------------------------------------------------------------------------------------

def ratio(new, old):
    return f"{new / old:.2f}x" if old else "-"


def report(old_label, old, new, events):
    print(f"HTTP layer benchmark: {events} events per ingest mode; {READ_REQUESTS} GETs over {READ_CONNECTIONS} "
          f"connections per read route, median of {READ_ROUNDS} rounds taken in turns; --db-connections {DB_CONNECTIONS}")
    print("%-44s %16s %16s %10s" % ("", old_label, "h1 (this build)", "new/old"))
    for (label, _f, _p), (so, ro), (sn, rn) in zip(PROBES, old["probes"], new["probes"]):
        print("%-44s %16s %16s" % ("probe " + label, f"{so} {'RAN' if ro else 'ok'}", f"{sn} {'RAN' if rn else 'ok'}"))
    rows = [("ingest single POST, events/s", "single"), ("ingest single POST p50, ms", "p50"),
            ("ingest single POST p99, ms", "p99"), ("ingest batch of 100, events/s", "batch"),
            ("COPY ceiling, events/s", "ceiling")]
    for label, key in rows:
        print("%-44s %16.1f %16.1f %10s" % (label, old[key], new[key], ratio(new[key], old[key])))
    for label, i in (("/healthcheck during ingest p50, ms", 0), ("/healthcheck during ingest p99, ms", 1),
                     ("/healthcheck during ingest max, ms", 2)):
        print("%-44s %16.2f %16.2f %10s" % (label, old["health_load"][i], new["health_load"][i],
                                             ratio(new["health_load"][i], old["health_load"][i])))
    names = ["GET /healthcheck", "GET /api/v1/namespaces", "GET /api/v1/lineage depth 2"]
    for name, o, n in zip(names, old["reads"], new["reads"]):
        for label, i, fmt in (("p50, ms", 0, "%16.3f"), ("p99, ms", 1, "%16.3f"), ("req/s", 2, "%16.0f")):
            print(("%-44s " + fmt + " " + fmt + " %10s") % (f"{name} {label}", o[i], n[i], ratio(n[i], o[i])))


def run(args):
    build = os.path.abspath(args.build)
    new_bin = os.path.join(build, "server", "lineaged")
    tools = {"ingest": os.path.join(build, "bench", "bench_ingest"),
             "read": os.path.join(build, "bench", "bench_http_read"),
             "fixtures": os.path.normpath(os.path.join(REPO, "..", "shared", "openlineage", "events"))}
    for p in (new_bin, tools["ingest"], tools["read"]):
        if not os.access(p, os.X_OK):
            raise StepError(f"{p} is missing; build first (make build)")
    old_bin = args.baseline_bin or private_pg.build_baseline(REPO, args.baseline_rev, say)
    old_label = "evhttp " + (args.baseline_rev if not args.baseline_bin else "baseline")
    with private_pg.PrivatePostgres(new_bin, "lineaged-bench-http-", say=say) as pg:
        servers = {}
        try:
            servers["old"] = start_server("old", old_bin, pg)
            old = ingest("old", servers["old"], tools, args)
            servers["new"] = start_server("new", new_bin, pg)
            new = ingest("new", servers["new"], tools, args)
            medians = reads(servers, tools)
            old["reads"], new["reads"] = medians["old"], medians["new"]
        finally:
            for name, srv in reversed(list(servers.items())):
                private_pg.stop(srv[0], f"lineaged serve ({name})", say=say)
    report(old_label, old, new, args.events)
    return 0


def main():
    p = argparse.ArgumentParser(description="old HTTP layer against new: probes, ingest, read latency")
    p.add_argument("--build", default="build", help="meson build directory of this checkout (default: build)")
    p.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision to build the baseline from")
    p.add_argument("--baseline-bin", help="a lineaged binary to use as the baseline instead of building one")
    p.add_argument("--events", type=int, default=20000, help="events per ingest mode (default 20000)")
    args = p.parse_args()
    return private_pg.run_main(lambda: run(args), say)


if __name__ == "__main__":
    sys.exit(main())
