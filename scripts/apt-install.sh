#!/usr/bin/env bash
# Install Debian packages, as root or through sudo, non-interactively: the one place the install
# scripts (install-browser.sh, install-test-packages.sh) and `make bench` reach apt-get.
#
# Usage: bash scripts/apt-install.sh [--no-recommends] PACKAGE...
# Exits non-zero with a message naming the packages when they cannot be installed.
set -euo pipefail

die() {
    echo "apt-install: $*" >&2
    exit 1
}

options=()
if [ "${1:-}" = "--no-recommends" ]; then
    options+=(--no-install-recommends)
    shift
fi
[ "$#" -gt 0 ] || die "no packages given"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with this system's package manager"

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and sudo is not available: run as root, or install $* yourself"
    as_root=(sudo)
fi

echo "apt-install: installing $* from Debian's packages"
"${as_root[@]}" apt-get update || die "apt-get update failed"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${options[@]}" "$@" \
    || die "apt-get install -y $* failed"
