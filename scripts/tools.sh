#!/bin/sh
# What the tests need beyond Go: a Chrome or Chromium for the console's
# browser test, systemd-analyze to check the systemd unit, and PostgreSQL's
# server programs for the store's tests on PostgreSQL (they start a
# throwaway cluster of their own: store/pgtest). What is
# already there is used. What is missing is installed from Debian's packages
# where apt-get exists and this is root; otherwise this says what to install
# and fails, rather than run a package manager the machine does not have.
set -eu

browser_found() {
	for b in chromium chromium-browser google-chrome google-chrome-stable; do
		command -v "$b" >/dev/null 2>&1 && return 0
	done
	for b in "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" "/Applications/Chromium.app/Contents/MacOS/Chromium"; do
		[ -x "$b" ] && return 0
	done
	return 1
}

missing=""   # what to tell a person
packages=""  # Debian's names for it
if ! browser_found; then
	missing="$missing Chrome-or-Chromium"
	packages="$packages chromium fonts-liberation"
fi
postgres_found() {
	command -v initdb >/dev/null 2>&1 && return 0
	for b in /usr/lib/postgresql/*/bin/initdb; do
		[ -x "$b" ] && return 0
	done
	return 1
}

if ! postgres_found; then
	missing="$missing PostgreSQL-server"
	packages="$packages postgresql"
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
	missing="$missing systemd-analyze"
	packages="$packages systemd"
fi
[ -z "$missing" ] && exit 0

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages
	exit 0
fi
echo "make test needs:$missing" >&2
echo "  Debian/Ubuntu: sudo apt-get install$packages" >&2
echo "  Fedora: sudo dnf install chromium systemd postgresql-server;  macOS: install Google Chrome and PostgreSQL (systemd-analyze runs on Linux only)" >&2
exit 1
