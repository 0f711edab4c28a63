#!/usr/bin/env bash
# Installs everything the service and its tests need on a fresh Debian machine:
# Debian packages (redis-server, espeak-ng, sox; with --with-browser, which `make
# test` passes, also chromium and npm for the browser tests and
# asterisk-core-sounds-en-wav, the core sounds the real-Asterisk tests play) when
# missing, then a virtualenv in .venv with the project and its development tools,
# and (--with-browser) axe-core from the npm registry for the accessibility checks
# of the browser tests. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v sox >/dev/null 2>&1 || need+=(sox)
command -v soxi >/dev/null 2>&1 || need+=(sox)
# The browser tests drive Debian's Chromium (browsers cannot be downloaded here).
if [ "${1:-}" = "--with-browser" ]; then
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    command -v npm >/dev/null 2>&1 || need+=(npm)
    # Digits, dates and the beep for the real Asterisk of the tests (tests/asterisk).
    [ -d /usr/share/asterisk/sounds/en_US_f_Allison/digits ] || need+=(asterisk-core-sounds-en-wav)
fi
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing Debian packages: ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}" >&2
        exit 1
    fi
    echo "setup: installing Debian packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing Python packages into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    touch "$stamp"
fi

# The browser tests' accessibility check (tests/support/axe.py) injects axe-core into
# each page; one pinned version, outside the repository, never served by the product.
AXE_VERSION=4.10.3
if [ "${1:-}" = "--with-browser" ] && [ ! -f ".venv/js/axe-$AXE_VERSION/node_modules/axe-core/axe.min.js" ]; then
    echo "setup: installing axe-core $AXE_VERSION (npm)"
    npm install --silent --no-audit --no-fund --prefix ".venv/js/axe-$AXE_VERSION" "axe-core@$AXE_VERSION" >/dev/null
fi
