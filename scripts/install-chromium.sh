#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the browser tests (tests/admin/browser): installed with apt-get when
# missing, a no-op when present. The tests launch /usr/bin/chromium through Playwright (no browser
# download: nothing but the package registries is reachable). Without root, say so and go on: the
# browser tests then skip with that message, except in CI (CI=true), where a missing browser fails them.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: chromium is missing and cannot be installed here (needs root and apt-get);" \
    "install the Debian packages chromium and chromium-driver to run tests/admin/browser" >&2
  exit 0
fi
echo "install-chromium: installing Debian's chromium and chromium-driver"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
chromium --version
