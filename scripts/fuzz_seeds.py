#!/usr/bin/env python3
"""scripts/fuzz_seeds.py - seed inputs for a libFuzzer target, made from the ../shared fixtures.

    python3 scripts/fuzz_seeds.py TARGET DIR      writes DIR/seed_NNN files for TARGET (fuzz_h1, ...)

fuzz_h1's input is byte 0 (the read size - 1) followed by what a client sends on one connection: requests
carrying the OpenLineage fixtures with Content-Length and chunked, pipelined behind a GET, gzip-encoded,
with Expect: 100-continue. Add a function and a SEEDS entry for a new target. Python 3 standard library only.
"""
import gzip
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENTS = os.path.join(os.path.dirname(REPO), "shared", "openlineage", "events")
MAX_FIXTURES = 40


def fixtures():
    names = sorted(n for n in os.listdir(EVENTS) if n.endswith(".json"))[:MAX_FIXTURES]
    for n in names:
        with open(os.path.join(EVENTS, n), "rb") as f:
            yield f.read()


def post(body, extra=b""):
    return (b"POST /api/v1/lineage HTTP/1.1\r\nHost: lineaged\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


def post_chunked(body, size=300):
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size))
    return (b"POST /api/v1/lineage/batch HTTP/1.1\r\nHost: lineaged\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\nX-Trailer: t\r\n\r\n")


def h1_seeds():
    get = b"GET /api/v1/lineage?nodeId=job%3Ans%3Aj&depth=2 HTTP/1.1\r\nHost: lineaged\r\nAccept-Encoding: gzip\r\n\r\n"
    for i, body in enumerate(fixtures()):
        read_size = bytes([(i * 37) % 256])
        yield read_size + post(body)
        yield read_size + get + post_chunked(b"[" + body + b"]")
        yield read_size + post(gzip.compress(body, mtime=0), b"Content-Encoding: gzip\r\nExpect: 100-continue\r\n")
    yield b"\x00" + b"GET /healthcheck HTTP/1.0\r\n\r\n"
    yield b"\x07" + b"\r\n\r\nDELETE /api/v1/namespaces/a%2Fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


SEEDS = {"fuzz_h1": h1_seeds}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SEEDS:
        print("usage: fuzz_seeds.py {%s} DIR" % ",".join(sorted(SEEDS)), file=sys.stderr)
        return 2
    os.makedirs(sys.argv[2], exist_ok=True)
    n = 0
    for n, data in enumerate(SEEDS[sys.argv[1]]()):
        with open(os.path.join(sys.argv[2], "seed_%03d" % n), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
