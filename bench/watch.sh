#!/usr/bin/env bash
# The watch's own cost per interval with 50 traffic conditions: a scrape of
# ~950 series plus 50 judged conditions (metrics source), the judging alone,
# and 50 PromQL queries to a local fake Prometheus (prometheus source).
#   bench/watch.sh            # 200 ticks, release build into $CARGO_TARGET_DIR
#   PROFILE=dev bench/watch.sh 100
set -euo pipefail
cd "$(dirname "$0")/.."
ticks="${1:-200}"
profile="${PROFILE:-release}"
if [ "$profile" = release ]; then
  exec cargo run --quiet --release -p runway-signals --example bench_watch -- "$ticks"
fi
exec cargo run --quiet -p runway-signals --example bench_watch -- "$ticks"
