#!/usr/bin/env python3
"""tests/run.py - the one test driver (`make test` runs `python3 tests/run.py --build build`).

1. Runs every cmocka unit test executable <build>/tests/unit/**/[<folder>_]test_* and counts its tests.
2. Starts one private Postgres with `lineaged postgres --data-dir <tempdir>` (waits for `ready <conninfo>`).
3. Runs the integration tests (unittest discovery of tests/integration/test_*.py) with
   LINEAGED_BIN=<build>/server/lineaged, LINEAGED_BUILD=<build> and LINEAGED_TEST_PG=<conninfo>.
4. Stops Postgres (SIGTERM, wait) and removes the tempdir.
5. Prints the failures, then as the very last line `N passed, N failed`; exits 1 if anything failed or
   nothing ran.

Options: -k PATTERN (integration tests whose id contains PATTERN, fnmatch-style like unittest -k; may be
repeated), --no-unit, --no-integration, -v (verbose unittest output), --keep (keep the Postgres tempdir).
"""

import argparse
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "scripts"))
import private_pg  # noqa: E402  (scripts/private_pg.py: the private Postgres)

UNIT_TIMEOUT = 600          # seconds per unit test executable (ASan builds are slow)
PG_READY_TIMEOUT = 120
PG_STOP_TIMEOUT = 120


# --------------------------------------------------------------------------------------------------
# unit tests

_PASSED_RE = re.compile(r"^\[  PASSED  \] (\d+) test\(s\)\.", re.M)
_FAILED_RE = re.compile(r"^\[  FAILED  \] (\d+) test\(s\)", re.M)
_OK_RE = re.compile(r"^\[       OK \] ", re.M)
_FAILED_ONE_RE = re.compile(r"^\[  FAILED  \] (?!\d+ test\(s\))(\S+)\s*$", re.M)


def parse_cmocka(output):
    """(passed, failed, parsed) from cmocka's standard output format (summed over groups)."""
    passed = sum(int(n) for n in _PASSED_RE.findall(output))
    failed = sum(int(n) for n in _FAILED_RE.findall(output))
    parsed = bool(_PASSED_RE.search(output) or _FAILED_RE.search(output))
    return passed, failed, parsed


def unit_executables(build):
    """Executables under <build>/tests/unit named test_* (meson may prefix the folder: common_test_uuid)."""
    d = os.path.join(build, "tests", "unit")
    out = []
    for root, dirs, files in os.walk(d):
        dirs[:] = sorted(x for x in dirs if not x.endswith(".p"))
        for n in sorted(files):
            p = os.path.join(root, n)
            if re.search(r"(^|_)test_", n) and not re.search(r"\.(c|o|h|py|txt|json|log)$", n) \
                    and os.path.isfile(p) and os.access(p, os.X_OK):
                out.append(p)
    return out


def run_unit_tests(build, failures):
    """Returns (passed, failed); appends (name, details) to failures."""
    exes = unit_executables(build)
    total_p = total_f = 0
    if not exes:
        print("unit: no executables named test_* in %s" % os.path.join(build, "tests", "unit"), flush=True)
    env = dict(os.environ)
    env["CMOCKA_MESSAGE_OUTPUT"] = "STDOUT"
    env.pop("CMOCKA_TEST_ABORT", None)
    for exe in exes:
        name = os.path.basename(exe)
        t0 = time.monotonic()
        try:
            p = subprocess.run([exe], cwd=build, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=UNIT_TIMEOUT)
            out = p.stdout.decode("utf-8", "replace")
            rc = p.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode("utf-8", "replace") + "\n*** timed out after %ds" % UNIT_TIMEOUT
            rc = None
        passed, failed, parsed = parse_cmocka(out)
        if not parsed:
            # crashed or printed no summary: the OK lines it did print are passes, the rest one failure
            passed = len(_OK_RE.findall(out))
            failed = 1
        elif rc != 0 and failed == 0:
            failed = 1      # summary said all passed but the process failed (sanitizer, crash at exit)
        elif rc == 0 and failed > 0:
            pass
        if any(m in out for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:")) and failed == 0:
            failed = 1
        total_p += passed
        total_f += failed
        status = "ok" if failed == 0 else "FAILED"
        print("unit: %-40s %3d passed, %d failed  (%s, exit %s, %.1fs)" % (
            name, passed, failed, status, rc, time.monotonic() - t0), flush=True)
        if failed:
            names = _FAILED_ONE_RE.findall(out)
            failures.append(("unit %s%s" % (name, (" [" + ", ".join(sorted(set(names))) + "]") if names else ""),
                             "exit code %s\n%s" % (rc, out[-8000:])))
    return total_p, total_f


# --------------------------------------------------------------------------------------------------
# test Postgres

class TestPostgres:
    """private_pg.PrivatePostgres with the test suite's checks: its stderr goes to a log in the tempdir, and
    stop() reports a non-zero exit, more stdout than the one `ready` line and sanitizer findings."""

    def __init__(self, lineaged, keep=False):
        base = "/tmp" if os.path.isdir("/tmp") else None     # keep the socket path short
        self.pg = private_pg.PrivatePostgres(lineaged, "lineaged-test-", subdir="pg", base=base, keep=keep,
                                             strict=True, ready_timeout=PG_READY_TIMEOUT,
                                             stop_timeout=PG_STOP_TIMEOUT)
        self.tmp = self.pg.tmp
        self.keep = keep
        self.log = os.path.join(self.tmp, "lineaged-postgres.stderr")

    def start(self):
        try:
            with open(self.log, "wb") as errf:
                return self.pg.start(stderr=errf)
        except private_pg.StepError as e:
            self.pg.stop_process()
            err = self._stderr()
            self.stop(check=False)
            raise RuntimeError("%s (exit %s); stderr:\n%s" % (e, self.pg.returncode, err[-4000:])) from None

    def _stderr(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, check=True):
        """Stops Postgres, then removes the tempdir unless --keep (see private_pg); returns an error text or None."""
        stopped = self.pg.stop_process()
        err = self._stderr()
        problem = None
        if self.pg.proc is not None:
            if not stopped:
                problem = "lineaged postgres did not exit within %ds of SIGTERM; left %s in place" % (
                    PG_STOP_TIMEOUT, self.tmp)
            elif check and self.pg.returncode != 0:
                problem = "lineaged postgres exited with code %s after SIGTERM" % self.pg.returncode
            extra = "".join(self.pg.extra_stdout)
            if extra.strip() and problem is None:
                problem = "lineaged postgres printed more than the one 'ready' line on stdout: %r" % extra[:500]
            for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                if m in err and problem is None:
                    problem = "lineaged postgres stderr contains %r" % m
            if problem:
                problem += "\nstderr tail:\n" + err[-4000:]
        self.pg.remove_tmp()
        if self.keep:
            print("kept test Postgres directory %s" % self.tmp)
        return problem


# --------------------------------------------------------------------------------------------------
# integration tests

class CountingResult(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0
        self.timings = []
        self._t0 = None

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1

    def printErrors(self):
        # run.py prints every failure once, at the end
        if self.dots or self.showAll:
            self.stream.writeln()
            self.stream.flush()

    def stopTest(self, test):
        super().stopTest(test)
        if self._t0 is not None:
            self.timings.append((time.monotonic() - self._t0, test.id()))


def run_integration(patterns, verbose, failures):
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = [p if any(c in p for c in "*?[") else "*%s*" % p for p in patterns]
    start = os.path.join(HERE, "integration")
    suite = loader.discover(start_dir=start, pattern="test_*.py", top_level_dir=start)
    if loader.errors:
        for e in loader.errors:
            failures.append(("integration import", e))
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2 if verbose else 1,
                                     resultclass=CountingResult, buffer=False)
    result = runner.run(suite)
    for test, tb in result.failures + result.errors:
        failures.append(("integration %s" % (test.id() if hasattr(test, "id") else test), tb))
    for test in result.unexpectedSuccesses:
        failures.append(("integration %s" % test.id(), "unexpected success"))
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses) + len(loader.errors)
    slow = sorted(result.timings, reverse=True)[:5]
    if slow:
        print("slowest integration tests: " + ", ".join("%s %.1fs" % (t.split(".")[-1], s) for s, t in slow))
    if result.skipped:
        print("integration: %d skipped" % len(result.skipped))
    return result.passed, failed


# --------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    help="run only integration tests matching PATTERN (repeatable)")
    ap.add_argument("--no-unit", action="store_true", help="skip the cmocka unit tests")
    ap.add_argument("--no-integration", action="store_true", help="skip the integration tests")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the test Postgres directory")
    args = ap.parse_args()

    build = os.path.abspath(args.build if os.path.isabs(args.build) else os.path.join(os.getcwd(), args.build))
    if not os.path.isdir(build) and os.path.isdir(os.path.join(REPO, args.build)):
        build = os.path.join(REPO, args.build)
    lineaged = os.path.join(build, "server", "lineaged")

    # sanitizer builds: report, don't abort the whole run on the first UBSan finding
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")

    t0 = time.monotonic()
    failures = []
    passed = failed = 0

    if not args.no_unit and not args.patterns:
        p, f = run_unit_tests(build, failures)
        passed += p
        failed += f

    if not args.no_integration:
        if not (os.path.isfile(lineaged) and os.access(lineaged, os.X_OK)):
            failures.append(("integration setup", "lineaged binary not found: %s (build first)" % lineaged))
            failed += 1
        else:
            pg = TestPostgres(lineaged, keep=args.keep)
            try:
                conninfo = pg.start()
            except Exception as e:  # noqa: BLE001 - reported as a failure
                failures.append(("integration setup: lineaged postgres", str(e)))
                failed += 1
                conninfo = None
            if conninfo:
                print("test Postgres ready: %s" % conninfo, flush=True)
                os.environ["LINEAGED_BIN"] = lineaged
                os.environ["LINEAGED_BUILD"] = build
                os.environ["LINEAGED_TEST_PG"] = conninfo
                try:
                    p, f = run_integration(args.patterns, args.verbose, failures)
                    passed += p
                    failed += f
                finally:
                    problem = pg.stop()
                    if problem:
                        failures.append(("integration teardown: lineaged postgres", problem))
                        failed += 1

    if failures:
        print()
        print("=" * 78)
        print("FAILURES (%d)" % len(failures))
        for name, details in failures:
            print("-" * 78)
            print(name)
            print(details.rstrip())
        print("=" * 78)
    if passed + failed == 0:
        print("no tests ran")
    print("total time %.1fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed or passed + failed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
