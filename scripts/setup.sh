#!/usr/bin/env bash
# Create .venv and install Laoshan with its pinned dependencies (and test tools with --test).
# Idempotent: a second run only checks that everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "Laoshan needs Python 3.11 (found $(python3 --version 2>&1))" >&2
    exit 1
fi
# Offscreen rendering (cameras, videos) uses EGL from Mesa; install it on Debian/Ubuntu if missing.
if ! ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1' && command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libegl1 libgl1-mesa-dri >/dev/null
fi
[ -d .venv ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
.venv/bin/python -m pip install -q -e ".${extras}"
