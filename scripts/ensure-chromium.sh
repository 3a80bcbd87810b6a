#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Chromium is missing and cannot be installed by this user: run 'sudo apt-get install chromium'," >&2
  echo "or run 'make test' with PYTEST_ADDOPTS='-m \"not browser\"' to skip the browser tests." >&2
  exit 1
fi
