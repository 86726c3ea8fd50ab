# Makefile - the two commands a newcomer runs: `make run` and `make test`.
# Everything real happens in meson (build), lineaged (run) and tests/run.py (test).
BUILD ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
# make bench GRAPH_SCALE=10: the graph benchmark at ten times its size (about half an hour, 4 GB of
# memory; never part of make test or CI)
GRAPH_SCALE ?= 1
# Store size of the read benchmark: 1 = 1 M datasets, 100,000 jobs, 10 M runs (about 35 min to load, 55 GB).
READ_SCALE ?= 0.02

.PHONY: all deps build run test test-asan test-release fuzz bench bench-graph bench-read clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	$(BUILD)/server/lineaged serve

test: build
	python3 tests/run.py --build $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

test-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	python3 tests/run.py --build $(ASAN_BUILD)

$(RELEASE_BUILD)/build.ninja:
	meson setup $(RELEASE_BUILD) --buildtype=release

test-release: deps $(RELEASE_BUILD)/build.ninja
	ninja -C $(RELEASE_BUILD)
	python3 tests/run.py --build $(RELEASE_BUILD)

# libFuzzer targets (clang, ASan+UBSan), each run FUZZ_SECONDS; see tests/fuzz/run.py.
fuzz: deps
	python3 tests/fuzz/run.py --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS)

bench: build
	python3 bench/run_ingest.py --build $(BUILD)
	python3 bench/run_graph.py --build $(BUILD) --scale $(GRAPH_SCALE)
	python3 bench/run_event_log.py --build $(BUILD)
	python3 bench/run_search.py --build $(BUILD)
	python3 bench/run_read.py --build $(BUILD) --scale $(READ_SCALE)

# Marquez's read routes against the baseline (see README, Benchmarks); READ_SCALE=1 for the full size.
bench-read: build
	python3 bench/run_read.py --build $(BUILD) --scale $(READ_SCALE)

bench-graph: build
	python3 bench/run_graph.py --build $(BUILD) --scale $(GRAPH_SCALE)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD) $(FUZZ_BUILD)
