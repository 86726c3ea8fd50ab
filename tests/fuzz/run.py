#!/usr/bin/env python3
"""tests/fuzz/run.py - builds the libFuzzer targets and runs each for a bounded time.

What it does, in order:
  1. configures a clang build with -Dfuzz=true and ASan+UBSan (meson, in --build, default build-fuzz)
     and builds the four targets: fuzz_body, fuzz_event, fuzz_nodeid, fuzz_h1 (tests/fuzz/*.c);
  2. replays every saved input in tests/fuzz/regressions/<target>/ (crashes found before, kept so
     they stay fixed);
  3. seeds a fresh corpus per target from ../shared (the OpenLineage events and Marquez fixtures,
     raw and gzipped for the body decoder, node ids built from their names for the node-id parser,
     whole HTTP requests carrying them for the HTTP/1.1 framing)
     and fuzzes it for --seconds (default 30) with the target's dictionary;
  4. prints per target the executions run and the verdict, then one line "N passed, N failed"
     (as the other suites do, for .ci/run). A crash leaves its input in --artifacts (default
     <build>/fuzz-artifacts); copy it to tests/fuzz/regressions/<target>/ with the fix, and add a
     unit test for the bug.
Exit status: 0 when every replay and every fuzz run ended without a crash.
"""

import argparse
import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGETS = ("fuzz_body", "fuzz_event", "fuzz_nodeid", "fuzz_h1")
DICTS = {"fuzz_body": "json.dict", "fuzz_event": "json.dict", "fuzz_nodeid": "nodeid.dict", "fuzz_h1": "http.dict"}
MAX_LEN = {"fuzz_body": 65536, "fuzz_event": 65536, "fuzz_nodeid": 1024, "fuzz_h1": 65536}
# fuzz_body's first two bytes pick Content-Encoding and Content-Type (see fuzz_body.c).
BODY_PLAIN = b"\x00\x01"
BODY_GZIP = b"\x03\x01"


def shared_dir(arg):
    d = arg or os.environ.get("LINEAGED_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
    d = os.path.abspath(d)
    if not os.path.isdir(os.path.join(d, "openlineage", "events")):
        sys.exit("fuzz: shared fixtures not found at %s (expected openlineage/events and anchors/marquez)" % d)
    return d


def fixture_files(shared):
    files = sorted(glob.glob(os.path.join(shared, "openlineage", "events", "*.json")))
    files += sorted(glob.glob(os.path.join(shared, "anchors", "marquez", "fixtures", "**", "*.json"), recursive=True))
    return files


def build(build_dir):
    """Configures (once) and builds the fuzz targets with clang."""
    sys.stdout.flush()
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        env = dict(os.environ, CC="clang")
        subprocess.run(["meson", "setup", build_dir, "-Dfuzz=true", "-Db_sanitize=address,undefined",
                        "-Db_lundef=false", "-Dbuildtype=debugoptimized"], cwd=REPO, env=env, check=True)
    subprocess.run(["ninja", "-C", build_dir] + ["tests/fuzz/" + t for t in TARGETS], cwd=REPO, check=True)


def names_in(event):
    """(kind, namespace, name, field) tuples named in one parsed event, for node-id seeds."""
    out = []
    if not isinstance(event, dict):
        return out
    job = event.get("job")
    if isinstance(job, dict):
        out.append(("job", job.get("namespace"), job.get("name"), None))
    for key in ("inputs", "outputs"):
        for ds in event.get(key) or []:
            if not isinstance(ds, dict):
                continue
            out.append(("dataset", ds.get("namespace"), ds.get("name"), None))
            fields = ((ds.get("facets") or {}).get("schema") or {}).get("fields") or []
            for f in fields[:3]:
                if isinstance(f, dict):
                    out.append(("datasetField", ds.get("namespace"), ds.get("name"), f.get("name")))
    run = event.get("run")
    if isinstance(run, dict) and isinstance(run.get("runId"), str):
        out.append(("run", None, run["runId"], None))
    return [t for t in out if all(isinstance(x, str) for x in t[1:3] if x is not None) and t[2]]


def http_requests(raw, i):
    """fuzz_h1 seeds for one fixture: byte 0 picks the read size (see fuzz_h1.c), then the bytes of one
    connection: the fixture POSTed with Content-Length, behind a pipelined GET as a chunked batch, and
    gzipped with Expect: 100-continue."""
    read_size = bytes([(i * 37) % 256])
    head = b"POST /api/v1/lineage HTTP/1.1\r\nHost: lineaged\r\nContent-Type: application/json\r\n"
    get = b"GET /api/v1/lineage?nodeId=job%3Ans%3Aj&depth=2 HTTP/1.1\r\nHost: lineaged\r\nAccept-Encoding: gzip\r\n\r\n"
    batch = b"[" + raw + b"]"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(batch[k:k + 300]), batch[k:k + 300]) for k in range(0, len(batch), 300))
    gz = gzip.compress(raw, mtime=0)
    yield read_size + head + b"Content-Length: %d\r\n\r\n" % len(raw) + raw
    yield (read_size + get + b"POST /api/v1/lineage/batch HTTP/1.1\r\nHost: lineaged\r\n"
           b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\nX-T: t\r\n\r\n")
    yield (read_size + head + b"Content-Encoding: gzip\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
           % len(gz) + gz)


def seed(target, corpus, shared):
    """Writes the target's seed inputs into corpus; returns how many."""
    n = 0

    def put(data):
        nonlocal n
        with open(os.path.join(corpus, "seed-%04d" % n), "wb") as f:
            f.write(data)
        n += 1

    for i, path in enumerate(fixture_files(shared)):
        with open(path, "rb") as f:
            raw = f.read()
        if target == "fuzz_h1":
            for data in http_requests(raw, i):
                put(data)
        elif target == "fuzz_event":
            put(raw)
        elif target == "fuzz_body":
            put(BODY_PLAIN + raw)
            put(BODY_GZIP + gzip.compress(raw, mtime=0))
        else:
            try:
                doc = json.loads(raw)
            except ValueError:
                continue
            for ev in doc if isinstance(doc, list) else [doc]:
                for kind, ns, name, field in names_in(ev):
                    if kind == "run":
                        put(("run:%s" % name).encode())
                    elif kind == "datasetField":
                        put(("datasetField:%s:%s:%s" % (ns, name, field)).encode())
                    else:
                        put(("%s:%s:%s" % (kind, ns, name)).encode())
                        put(("%s:%s:%s#v1" % (kind, ns, name)).encode())
    return n


def final_stats(text):
    """Executions libFuzzer reports (-print_final_stats=1), or None."""
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
    return int(m.group(1)) if m else None


def replay(exe, target):
    """Runs the saved regression inputs of a target; returns (count, ok)."""
    files = sorted(glob.glob(os.path.join(HERE, "regressions", target, "*")))
    if not files:
        return 0, True
    sys.stdout.flush()
    p = subprocess.run([exe] + files, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        sys.stdout.write(p.stdout.decode("utf-8", "replace")[-6000:])
    return len(files), p.returncode == 0


def fuzz(exe, target, corpus, seconds, artifacts):
    """Fuzzes one target; returns (executions, ok)."""
    os.makedirs(artifacts, exist_ok=True)
    cmd = [exe, corpus, "-max_total_time=%d" % seconds, "-timeout=20", "-rss_limit_mb=2048",
           "-max_len=%d" % MAX_LEN[target], "-dict=" + os.path.join(HERE, DICTS[target]),
           "-print_final_stats=1", "-artifact_prefix=" + os.path.join(artifacts, target + "-")]
    sys.stdout.flush()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        sys.stdout.write(out[-8000:])
    return final_stats(out), p.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build-fuzz"), help="clang build directory")
    ap.add_argument("--seconds", type=int, default=30, help="fuzzing time per target")
    ap.add_argument("--shared", help="the shared fixtures (default ../shared beside the repo)")
    ap.add_argument("--artifacts", help="where crashing inputs go (default <build>/fuzz-artifacts)")
    ap.add_argument("--target", action="append", choices=TARGETS, help="only this target (repeatable)")
    args = ap.parse_args()
    shared = shared_dir(args.shared)
    build_dir = os.path.abspath(args.build)
    artifacts = os.path.abspath(args.artifacts or os.path.join(build_dir, "fuzz-artifacts"))
    try:
        build(build_dir)
    except (subprocess.CalledProcessError, OSError) as e:
        print("fuzz: building the targets failed: %s" % e)
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    for target in args.target or TARGETS:
        exe = os.path.join(build_dir, "tests", "fuzz", target)
        n_replayed, replay_ok = replay(exe, target)
        corpus = tempfile.mkdtemp(prefix="lineaged-%s-" % target)
        try:
            n_seeds = seed(target, corpus, shared)
            execs, fuzz_ok = fuzz(exe, target, corpus, args.seconds, artifacts)
        finally:
            shutil.rmtree(corpus, ignore_errors=True)
        ok = replay_ok and fuzz_ok
        print("fuzz %-12s %s: %s executions in %d s from %d seeds; %d regression inputs replayed%s" % (
            target, "ok" if ok else "CRASHED", execs if execs is not None else "?", args.seconds, n_seeds,
            n_replayed, "" if replay_ok else " (one failed)"))
        if not fuzz_ok:
            print("fuzz %-12s crashing input saved under %s" % (target, artifacts))
        passed += ok
        failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
