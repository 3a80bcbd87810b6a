#!/usr/bin/env bash
# `make scale-check` puts Debian's nginx in front of the portal, with the site configuration in deploy/.
# Only the binary is needed: the check runs it as its own user, in the foreground, with a configuration
# in a temporary folder, so the package's own service is neither needed nor started here.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
apt_install() {
  "$@" apt-get update -qq
  "$@" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
}
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing Debian's nginx for the scale check..."
  apt_install
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "Installing Debian's nginx for the scale check..."
  apt_install sudo
else
  echo "nginx is missing and cannot be installed by this user: run 'sudo apt-get install nginx'." >&2
  exit 1
fi
