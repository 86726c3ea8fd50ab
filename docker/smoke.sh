#!/usr/bin/env bash
# docker/smoke.sh - builds the lineaged image with podman and checks that it works: against a Postgres
# (a throwaway cluster of the host's Postgres 15 on a free TCP port) it refuses to listen on 0.0.0.0
# without auth, makes an API key with `lineaged keys create`, serves with it (health routes open,
# ingest needing the key), takes an OpenLineage event and answers it back, passes its own HEALTHCHECK
# (/readyz), stops cleanly on SIGTERM and starts again on the same database; and
# docker/docker-compose.yml is checked against the image (docker/check_compose.py).
#
# Run from anywhere, as root (CI) or as a user who can run podman. Ends with "N passed, N failed"; exit 1
# if anything failed. As root it installs what it needs (podman, runc, debootstrap, python3-yaml, curl)
# from the Debian archive; when podman cannot be installed it says why and runs nothing (0 passed,
# 0 failed): only a podman that is installed but cannot build or run counts as failed.
#
# No image registry is needed: the base image is Debian 12 made with `debootstrap --variant=minbase`
# and `podman import` (about 35 s, kept as localhost/lineaged-base:bookworm for later runs), unless
# LINEAGED_BASE_IMAGE names one (e.g. debian:12-slim where a registry is reachable). Containers run with
# host networking, runc, cgroupfs and explicit ulimits, which is what Debian's podman needs on machines
# without systemd or a container network.
set -uo pipefail
cd "$(dirname "$0")/.."

IMAGE=localhost/lineaged:smoke
LOCAL_BASE=localhost/lineaged-base:bookworm
BASE_IMAGE=${LINEAGED_BASE_IMAGE:-}
MIRROR=${LINEAGED_DEBIAN_MIRROR:-http://deb.debian.org/debian}
FIXTURE=../shared/openlineage/events/pyclient__example_full_event.json
JOB=my-scheduler-namespace/jobs/myjob.mytask
RUN=ea041791-68bc-4ae1-bd89-4c8106a157e4
DATASET=my-datasource-namespace/datasets/instance.schema.table
PACKAGES="podman runc debootstrap debian-archive-keyring python3-yaml curl"
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
START_TIMEOUT=90

passed=0
failed=0
container=lineaged-smoke-$$
tmp=$(mktemp -d /tmp/lineaged-smoke-XXXXXX)
chmod 755 "$tmp"
pg_bin=""
key=""

ok() { echo "ok    $1"; passed=$((passed + 1)); }
fail() { echo "FAIL  $1"; failed=$((failed + 1)); }

# step NAME LOG COMMAND...: runs COMMAND with its output in $tmp/LOG; on failure shows the log's tail.
step() {
    local name=$1 log=$tmp/$2
    shift 2
    if "$@" >"$log" 2>&1; then
        ok "$name"
        return 0
    fi
    fail "$name"
    tail -n 40 "$log" | sed 's/^/      | /'
    return 1
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    "${PODMAN[@]}" rm -f -t 0 "$container" >/dev/null 2>&1
    [ -n "$pg_bin" ] && as_postgres "$pg_bin/pg_ctl" -D "$tmp/pg/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$tmp"
}

finish() {
    cleanup
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 0
    exit 1
}

not_run() {
    echo "docker smoke: not run: $1"
    cleanup
    echo "0 passed, 0 failed"
    exit 0
}

install_packages() {
    local missing="" p
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        command -v podman >/dev/null || not_run "podman is not installed and this is not root (missing:$missing)"
        echo "docker smoke: missing$missing; going on with what is installed"
        return 0
    fi
    echo "docker smoke: installing$missing"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            $missing; } >"$tmp/apt.log" 2>&1; then
        tail -n 20 "$tmp/apt.log"
        command -v podman >/dev/null || not_run "podman could not be installed from the Debian archive (see above)"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

make_base() {
    [ -n "$BASE_IMAGE" ] && return 0
    BASE_IMAGE=$LOCAL_BASE
    "${PODMAN[@]}" image exists "$LOCAL_BASE" && return 0
    debootstrap --variant=minbase bookworm "$tmp/rootfs" "$MIRROR" &&
        tar -C "$tmp/rootfs" -c . | "${PODMAN[@]}" import - "$LOCAL_BASE"
    local rc=$?
    rm -rf "$tmp/rootfs"
    return $rc
}

build_image() {
    "${PODMAN[@]}" build --format docker --network host "${LIMITS[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        -f docker/Dockerfile -t "$IMAGE" .
}

start_postgres() {
    pg_bin=$(pg_config --bindir)
    pg_port=$(free_port)
    mkdir -p "$tmp/pg" && { [ "$(id -u)" -ne 0 ] || chown postgres "$tmp/pg"; } &&
        as_postgres "$pg_bin/initdb" -D "$tmp/pg/data" -A trust -U lineaged --no-sync &&
        as_postgres "$pg_bin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/log" -w -o \
            "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$tmp/pg -c fsync=off" start &&
        as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U lineaged lineaged
}

db_url() {
    echo "postgresql://lineaged@127.0.0.1:$pg_port/lineaged"
}

# Without keys or --insecure the image must refuse its own default, 0.0.0.0 (and say why).
refuses_without_auth() {
    local rc
    timeout 120 "${PODMAN[@]}" run --rm --network host "${LIMITS[@]}" --no-healthcheck \
        -e "LINEAGED_DATABASE_URL=$(db_url)" -e "LINEAGED_PORT=$(free_port)" "$IMAGE"
    rc=$?
    echo "exit code $rc"
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
}

make_key() {
    "${PODMAN[@]}" run --rm --network host "${LIMITS[@]}" --no-healthcheck -e "LINEAGED_DATABASE_URL=$(db_url)" \
        "$IMAGE" keys create --name smoke --scope write >"$tmp/key" &&
        grep -Eq '^lk_[0-9a-f]{64}$' "$tmp/key" && key=$(cat "$tmp/key") && echo "a key of ${#key} characters"
}

run_container() {
    app_port=$(free_port)
    "${PODMAN[@]}" run -d --name "$container" --network host "${LIMITS[@]}" --health-interval disable \
        -e "LINEAGED_DATABASE_URL=$(db_url)" -e "LINEAGED_PORT=$app_port" "$IMAGE"
}

# GET with the key; fails on any status but 200.
get() {
    curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$app_port$1"
}

health_routes_open() {
    local path code
    for path in /healthz /readyz; do
        code=$(curl -sS -o "$tmp/health.out" -w '%{http_code}' "http://127.0.0.1:$app_port$path")
        echo "GET $path: $code $(cat "$tmp/health.out")"
        [ "$code" = 200 ] || return 1
    done
}

# Waits until GET /healthcheck answers 200 (the container logs are shown if it never does).
wait_healthy() {
    local deadline=$((SECONDS + START_TIMEOUT))
    while [ $SECONDS -lt $deadline ]; do
        curl -fsS -o /dev/null "http://127.0.0.1:$app_port/healthcheck" 2>/dev/null && return 0
        [ "$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" = "true" ] || break
        sleep 0.5
    done
    "${PODMAN[@]}" logs "$container" 2>&1 | tail -n 30
    return 1
}

post_fixture() {
    local anonymous code
    anonymous=$(curl -sS -o "$tmp/post.out" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "@$FIXTURE" "http://127.0.0.1:$app_port/api/v1/lineage")
    echo "POST /api/v1/lineage without a key: $anonymous $(cat "$tmp/post.out")"
    code=$(curl -sS -o "$tmp/post.out" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $key" --data-binary "@$FIXTURE" "http://127.0.0.1:$app_port/api/v1/lineage")
    echo "POST /api/v1/lineage with the key: $code $(cat "$tmp/post.out")"
    [ "$anonymous" = 401 ] && [ "$code" = 201 ]
}

# The fixture read back: its run COMPLETED, its job, its output dataset.
read_back() {
    get "/api/v1/jobs/runs/$RUN" >"$tmp/run.json" && get "/api/v1/namespaces/$JOB" >"$tmp/job.json" &&
        get "/api/v1/namespaces/$DATASET" >"$tmp/dataset.json" &&
        python3 - "$tmp" <<'EOF'
import json, sys
run, job, ds = (json.load(open("%s/%s.json" % (sys.argv[1], n))) for n in ("run", "job", "dataset"))
print(json.dumps(run)[:300])
assert run["id"] == "ea041791-68bc-4ae1-bd89-4c8106a157e4" and run["state"] == "COMPLETED", run
assert job["name"] == "myjob.mytask", job
assert ds["name"] == "instance.schema.table", ds
EOF
}

read_lineage() {
    get "/api/v1/lineage?nodeId=job:my-scheduler-namespace:myjob.mytask" >"$tmp/lineage.json" &&
        python3 -c 'import json, sys; ids = {n["id"] for n in json.load(open(sys.argv[1]))["graph"]}; print(sorted(ids));
assert "dataset:my-datasource-namespace:instance.schema.table" in ids' "$tmp/lineage.json"
}

runs_as_non_root() {
    local uid
    uid=$("${PODMAN[@]}" exec "$container" id -u) && echo "uid $uid" && [ "$uid" != 0 ]
}

stops_cleanly() {
    "${PODMAN[@]}" stop -t 30 "$container" &&
        [ "$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$container")" = 0 ]
}

check_compose() {
    "${PODMAN[@]}" run --rm --network host "${LIMITS[@]}" --no-healthcheck "$IMAGE" serve --help >"$tmp/help.txt" &&
        python3 docker/check_compose.py docker/docker-compose.yml "$tmp/help.txt"
}

trap 'cleanup; exit 130' INT TERM
[ -f "$FIXTURE" ] || { echo "docker smoke: fixture $FIXTURE not found (../shared beside the checkout)"; fail "fixture"; finish; }
install_packages
step "podman answers (podman info)" podman-info.log "${PODMAN[@]}" info || finish
step "Debian 12 base image ($([ -n "$BASE_IMAGE" ] && echo "$BASE_IMAGE" || echo "$LOCAL_BASE"))" base.log make_base || finish
step "image builds (docker/Dockerfile, base $BASE_IMAGE)" build.log build_image || finish
step "docker-compose.yml checks out against the image" compose.log check_compose
cat "$tmp/compose.log"
step "throwaway Postgres 15 on 127.0.0.1" postgres.log start_postgres || finish
step "serve refuses 0.0.0.0 with no auth configured" open.log refuses_without_auth
grep -i "insecure" "$tmp/open.log" | tail -n 1 | sed 's/^/      | /'
step "lineaged keys create makes a write key" key.log make_key || finish
step "container starts" run.log run_container || finish
step "GET /healthcheck answers 200" health.log wait_healthy || finish
step "GET /healthz and /readyz answer 200 without a key" open-health.log health_routes_open
step "runs as a non-root user" uid.log runs_as_non_root
step "POST $(basename "$FIXTURE") answers 401 without the key, 201 with it" post.log post_fixture
step "the run, its job and its output read back" job.log read_back
step "the lineage graph links the job to its output" lineage.log read_lineage
step "the image's HEALTHCHECK (/readyz) passes" healthcheck.log "${PODMAN[@]}" healthcheck run "$container"
step "SIGTERM stops it with exit code 0" stop.log stops_cleanly
step "starts again on the same database" restart.log "${PODMAN[@]}" start "$container" &&
    step "GET /healthcheck answers 200 after the restart" health2.log wait_healthy &&
    step "the run, its job and its output are still there" job2.log read_back
finish
