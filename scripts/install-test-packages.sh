#!/usr/bin/env bash
# Install the Debian packages the reader tests need (tests/test_ingest_formats.py): LibreOffice
# Writer without a GUI, which lays the generated Word file out as a real PDF, and fonts-noto-cjk
# so Chinese text is rendered with real glyphs (and so has a text layer to read back).
#
# Idempotent: installs only what is missing. Exits non-zero, with a message, when it cannot.
set -euo pipefail

die() {
    echo "install-test-packages: $*" >&2
    exit 1
}

packages=()
if ! command -v soffice >/dev/null 2>&1; then
    packages+=(libreoffice-writer-nogui)
fi
if ! { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; }; then
    packages+=(fonts-noto-cjk)
fi

if [ "${#packages[@]}" -eq 0 ]; then
    echo "install-test-packages: LibreOffice and a Chinese font are already installed"
    exit 0
fi

bash "$(dirname "$0")/apt-install.sh" --no-recommends "${packages[@]}"

command -v soffice >/dev/null 2>&1 || die "soffice is still not on PATH after installing ${packages[*]}"
echo "install-test-packages: ready: $(soffice --version 2>/dev/null | head -1)"
