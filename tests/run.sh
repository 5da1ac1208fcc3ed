#!/usr/bin/env bash
# The test command (README, .ci/run): install everything the tests need on a bare
# machine, then lint, type-check and run the whole suite.
#   bash tests/run.sh            # everything
#   bash tests/run.sh -k hours   # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. Debian packages for the headless-desktop tests (Xvfb, a private D-Bus, dunst,
#    tray hosts, xdotool, ...). Installed only when something is missing.
mapfile -t packages < <(grep -v '^\s*#' tests/debian-packages.txt | awk 'NF {print $1}')
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null; then
        echo "tests/run.sh: need Debian packages: ${missing[*]} (no apt-get here)" >&2
        exit 1
    fi
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "tests/run.sh: installing ${missing[*]}" >&2
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# 2. A virtual environment with ergobreak (editable) and the test and lint tools.
python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,lint]'

# 3. Lint, type-check, check the layering contracts (pyproject.toml), test.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest "$@"
