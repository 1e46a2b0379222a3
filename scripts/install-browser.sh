#!/usr/bin/env bash
# Installs Debian's Chromium for the web UI's end-to-end tests (test/e2e) and scripts/screenshots.ts.
# Safe to run again: it does nothing when /usr/bin/chromium is already there.
#
# The tests drive it with playwright-core (a library, no browser download of its own):
# executablePath '/usr/bin/chromium'. Needs root (CI and the dev machines run as root) or sudo.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) is already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-browser: need root (or sudo) to run apt-get install chromium" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# apt-get update can fail on one unreachable mirror while the Debian one works: go on and let
# the install say whether the package is there.
$SUDO apt-get update -qq || echo "install-browser: apt-get update reported errors; trying the install anyway" >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
echo "install-browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
