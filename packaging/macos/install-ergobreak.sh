#!/bin/bash
# Install or remove ergobreak for every user of this Mac (Jamf policy script, or by hand).
#
# Install: a virtual environment in /usr/local/ergobreak with the command linked to
# /usr/local/bin/ergobreak, the policy in "/Library/Application Support/ergobreak"
# (checked with `ergobreak config check --strict --policy` first; root:wheel 0644), and the
# LaunchAgent /Library/LaunchAgents/org.ergobreak.agent.plist that starts it at every
# user's login (`ergobreak autostart enable --system`; the same file as
# org.ergobreak.agent.plist next to this script).
#
# Jamf passes its script parameters as $4..$7:
#   $4  package: a wheel path or a requirement (default: ergobreak)
#   $5  policy file to install (default: none; an installed policy is kept)
#   $6  "uninstall" to remove ergobreak, "noautostart" to install without the agent
#   $7  python3 to use (default: a python.org or Homebrew Python >= 3.10)
# By hand: sudo ./install-ergobreak.sh - - ./ergobreak-0.1.0-py3-none-any.whl ./policy.toml
#
# Needs Python 3.10 or newer (the /usr/bin/python3 of the Command Line Tools is 3.9).
# UNTESTED: the project's test suite runs on Linux; this follows launchd.plist(5) and
# launchctl(1) as documented.
set -euo pipefail

PACKAGE=${4:-ergobreak}
POLICY=${5:-}
ACTION=${6:-install}
PYTHON=${7:-}
PREFIX=/usr/local/ergobreak
BIN=/usr/local/bin/ergobreak
POLICY_DIR="/Library/Application Support/ergobreak"
AGENT=/Library/LaunchAgents/org.ergobreak.agent.plist

[[ $(id -u) -eq 0 ]] || { echo "run as root (sudo, or a Jamf policy)" >&2; exit 1; }
console_user=$(stat -f %Su /dev/console 2>/dev/null || true)

if [[ $ACTION == uninstall ]]; then
    # The policy first: a policy that enforces autostart refuses `autostart disable`.
    rm -rf "$POLICY_DIR"
    if [[ -n $console_user && $console_user != root && -f $AGENT ]]; then
        launchctl bootout "gui/$(id -u "$console_user")" "$AGENT" 2>/dev/null || true
    fi
    [[ -x $BIN ]] && "$BIN" autostart disable --system
    rm -rf "$PREFIX" "$BIN"
    echo "ergobreak removed"
    exit 0
fi

# 1. Python >= 3.10 and the environment.
if [[ -z $PYTHON ]]; then
    for candidate in /Library/Frameworks/Python.framework/Versions/3.*/bin/python3 \
        /opt/homebrew/bin/python3 /usr/local/bin/python3; do
        if [[ -x $candidate ]] && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
            PYTHON=$candidate
        fi
    done
fi
[[ -n $PYTHON ]] || { echo "no Python 3.10+ found: install python.org's Python first" >&2; exit 1; }
[[ -d $PREFIX/venv ]] || "$PYTHON" -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/python" -m pip install --upgrade --no-input --disable-pip-version-check "$PACKAGE"
mkdir -p "$(dirname "$BIN")"
ln -sf "$PREFIX/venv/bin/ergobreak" "$BIN"
"$BIN" --version

# 2. The policy: checked before it goes live.
if [[ -n $POLICY ]]; then
    "$BIN" config check --strict --policy "$POLICY"
    install -d -o root -g wheel -m 0755 "$POLICY_DIR"
    install -o root -g wheel -m 0644 "$POLICY" "$POLICY_DIR/policy.toml"
fi

# 3. Start at every user's login; start it now for whoever is logged in.
if [[ $ACTION == noautostart ]]; then
    "$BIN" autostart disable --system
    exit 0
fi
"$BIN" autostart enable --system
chown root:wheel "$AGENT"
chmod 0644 "$AGENT"
if [[ -n $console_user && $console_user != root && $console_user != loginwindow ]]; then
    launchctl bootstrap "gui/$(id -u "$console_user")" "$AGENT" 2>/dev/null || true
fi
echo "ergobreak installed"
