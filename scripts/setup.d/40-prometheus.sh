#!/usr/bin/env bash
# Prometheus, Alertmanager and blackbox_exporter for the monitor and analysis
# tests: Debian's `prometheus`, `prometheus-alertmanager` and
# `prometheus-blackbox-exporter`, installed when missing. Nothing is started
# here: the packages' services would listen on every interface, so each test
# starts its own instance on 127.0.0.1 (port 0 picked by the test) with its own
# config and data dir under a temp dir. Appends the binaries' paths to
# $RUNWAY_TEST_ENV as RUNWAY_TEST_PROMETHEUS, RUNWAY_TEST_ALERTMANAGER and
# RUNWAY_TEST_BLACKBOX_EXPORTER.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
: "${RUNWAY_TEST_ENV:=$root/target/test-env.sh}"

prom=/usr/bin/prometheus
am=/usr/bin/prometheus-alertmanager
bb=/usr/bin/prometheus-blackbox-exporter

have_all() { [ -x "$prom" ] && [ -x "$am" ] && [ -x "$bb" ]; }

if ! have_all; then
  if [ "$(id -u)" != 0 ]; then
    echo "40-prometheus: Prometheus is not installed and this is not root; install Debian's \`prometheus\`, \`prometheus-alertmanager\` and \`prometheus-blackbox-exporter\`" >&2
    exit 1
  fi
  echo "40-prometheus: installing Debian's prometheus, prometheus-alertmanager and prometheus-blackbox-exporter" >&2
  # Keep the packages' own services (which listen on all interfaces) from
  # starting during the install.
  policy=/usr/sbin/policy-rc.d
  placed_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    placed_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    prometheus prometheus-alertmanager prometheus-blackbox-exporter >/dev/null
  if [ "$placed_policy" = 1 ]; then rm -f "$policy"; fi
  have_all || { echo "40-prometheus: the install did not provide $prom, $am and $bb" >&2; exit 1; }
fi

# Should a package's service have started anyway (a machine without
# policy-rc.d support), stop it: nothing may listen on other interfaces. The
# services run as the packages' `prometheus` user; the tests' own instances run
# as the test's user and are left alone.
if id -u prometheus >/dev/null 2>&1; then
  pkill -u prometheus 2>/dev/null || true
fi

{
  echo "export RUNWAY_TEST_PROMETHEUS=$prom"
  echo "export RUNWAY_TEST_ALERTMANAGER=$am"
  echo "export RUNWAY_TEST_BLACKBOX_EXPORTER=$bb"
} >> "$RUNWAY_TEST_ENV"
echo "40-prometheus: $("$prom" --version 2>&1 | head -1)" >&2
