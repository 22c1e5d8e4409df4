#!/usr/bin/env bash
# Install headless Chromium for the browser tests (tests/test_web.py) from Debian's packages:
# chromium and chromium-driver, plus fonts-noto-cjk so that Chinese text (and docs/screenshot.png,
# which the tests write) renders as Chinese rather than empty boxes.
#
# Idempotent: installs only what is missing, and does nothing when chromium is on PATH and a
# Chinese font is present. Never downloads a browser from anywhere else (no `playwright install`).
# Exits non-zero, with a message, when something cannot be installed.
set -euo pipefail

die() {
    echo "install-browser: $*" >&2
    exit 1
}

has_chinese_font() {
    command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]
}

packages=()
if ! command -v chromium >/dev/null 2>&1; then
    packages+=(chromium chromium-driver)
fi
if ! has_chinese_font; then
    packages+=(fonts-noto-cjk)
fi

if [ "${#packages[@]}" -eq 0 ]; then
    echo "install-browser: $(chromium --version 2>/dev/null || echo chromium) and a Chinese font are already installed"
    exit 0
fi

bash "$(dirname "$0")/apt-install.sh" "${packages[@]}"

command -v chromium >/dev/null 2>&1 || die "chromium is still not on PATH after installing ${packages[*]}"
version="$(chromium --version 2>/dev/null)" || die "chromium is installed but does not run (chromium --version failed)"
has_chinese_font || echo "install-browser: warning: no Chinese font found after installing fonts-noto-cjk" >&2
echo "install-browser: ready: ${version}"
