#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the dashboard's browser tests:
# Debian's `chromium` and `chromium-driver`, installed when missing. Nothing is
# started here: each test starts chromedriver on 127.0.0.1 and asks it for a
# headless Chromium with a fresh --user-data-dir. Appends RUNWAY_TEST_CHROMIUM
# and RUNWAY_TEST_CHROMEDRIVER to $RUNWAY_TEST_ENV.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
: "${RUNWAY_TEST_ENV:=$root/target/test-env.sh}"

chromium=/usr/bin/chromium
driver=/usr/bin/chromedriver

if ! [ -x "$chromium" ] || ! [ -x "$driver" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "50-chromium: Chromium is not installed and this is not root; install Debian's \`chromium\` and \`chromium-driver\`" >&2
    exit 1
  fi
  echo "50-chromium: installing Debian's chromium and chromium-driver" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver >/dev/null
  { [ -x "$chromium" ] && [ -x "$driver" ]; } ||
    { echo "50-chromium: the install did not provide $chromium and $driver" >&2; exit 1; }
fi

{
  echo "export RUNWAY_TEST_CHROMIUM=$chromium"
  echo "export RUNWAY_TEST_CHROMEDRIVER=$driver"
} >> "$RUNWAY_TEST_ENV"
echo "50-chromium: $("$chromium" --version 2>/dev/null | head -1)" >&2
