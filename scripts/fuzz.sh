#!/bin/sh
# scripts/fuzz.sh - builds the libFuzzer targets of tests/fuzz with clang, ASan and UBSan (in build-fuzz;
# the gcc builds are untouched) and runs each for a bounded time. CI runs it (.ci/run).
#
#   scripts/fuzz.sh [SECONDS]      SECONDS of fuzzing per target (default 60)
#
# Per target fuzz_X: first every file in tests/fuzz/regressions/fuzz_X/ is replayed (inputs that once
# crashed: each must now pass), then libFuzzer runs from seeds made from ../shared (scripts/fuzz_seeds.py)
# plus those regressions. A crash leaves its input in build-fuzz/crashes/fuzz_X/: fix the bug and commit
# the input under tests/fuzz/regressions/fuzz_X/ so it stays fixed.
# The last line is "N passed, N failed" (one count per target).
set -u
cd "$(dirname "$0")/.."
SECS=${1:-60}
BUILD=${FUZZ_BUILD:-build-fuzz}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug >/dev/null || { echo "fuzz: meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
passed=0
failed=0
for src in tests/fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    if ! ninja -C "$BUILD" "tests/fuzz/$t" >/dev/null; then
        echo "fuzz: $t does not build"
        failed=$((failed + 1))
        continue
    fi
    bin="$BUILD/tests/fuzz/$t"
    seeds="$BUILD/seeds/$t"
    corpus="$BUILD/corpus/$t"
    crashes="$BUILD/crashes/$t/"
    regressions="tests/fuzz/regressions/$t"
    mkdir -p "$seeds" "$corpus" "$crashes" "$regressions"
    ok=1
    if [ -n "$(ls -A "$regressions")" ] && ! "$bin" "$regressions"/* >"$BUILD/$t.replay.log" 2>&1; then
        echo "fuzz: $t fails on a committed regression input (see $BUILD/$t.replay.log)"
        ok=0
    fi
    python3 scripts/fuzz_seeds.py "$t" "$seeds" || ok=0
    if [ "$ok" -eq 1 ]; then
        echo "fuzz: $t for $SECS s"
        if "$bin" -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
               -artifact_prefix="$crashes" "$corpus" "$seeds" "$regressions" >"$BUILD/$t.log" 2>&1; then
            grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$BUILD/$t.log" | tr '\n' ' '
            echo
        else
            echo "fuzz: $t found a failure; input in $crashes, log $BUILD/$t.log:"
            grep -E "ERROR|runtime error|invariant broken|SUMMARY" "$BUILD/$t.log" | head -5
            ok=0
        fi
    fi
    if [ "$ok" -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
