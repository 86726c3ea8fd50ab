#!/bin/sh
# scripts/install-deps.sh - installs the Debian 12 packages lineaged needs to build, test and run.
# Installs only what is missing; needs root (or sudo) the first time, does nothing afterwards.
set -eu

PACKAGES="build-essential pkg-config meson ninja-build libevent-dev libpq-dev libyajl-dev uuid-dev
zlib1g-dev libssl-dev libjwt-dev libyaml-dev libcmocka-dev libhttp-parser-dev postgresql-15 postgresql-client-15 python3
clang libclang-rt-14-dev"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "lineaged: installing missing packages:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "lineaged: missing packages:$missing; run this script as root to install them" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# postgresql-15's post-install creates a default cluster; lineaged never uses it (it runs its own).
$SUDO apt-get install -y -qq --no-install-recommends $missing
