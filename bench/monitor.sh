#!/usr/bin/env bash
# `runway monitor` at scale against Prometheus + blackbox_exporter (issue 10's
# Speed section). One monitor process checks N endpoints (HTTP health probe,
# every INTERVAL seconds, for DURATION seconds) on reference servers on
# 127.0.0.1, with the dashboard served (`--listen`); in the same run
# Prometheus scrapes blackbox_exporter probing the same N endpoints at the
# same interval. Prints missed deadlines, CPU seconds, peak RSS, the
# dashboard's response time, and Runway's CPU and memory as ratios to the
# Prometheus + blackbox_exporter stack's.
#
#   bench/monitor.sh                      # N=1000 INTERVAL=10 DURATION=300 SERVERS=10
#   N=200 DURATION=60 bench/monitor.sh    # a quick run
#   RUNWAY_BIN=path/to/runway bench/monitor.sh
#
# Needs Debian's prometheus and prometheus-blackbox-exporter
# (scripts/setup.d/40-prometheus.sh), curl and python3. Everything listens on
# 127.0.0.1 and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
N=${N:-1000}
INTERVAL=${INTERVAL:-10}
DURATION=${DURATION:-300}
SERVERS=${SERVERS:-10}
PROM=${RUNWAY_TEST_PROMETHEUS:-/usr/bin/prometheus}
BB=${RUNWAY_TEST_BLACKBOX_EXPORTER:-/usr/bin/prometheus-blackbox-exporter}
for b in "$PROM" "$BB" curl python3; do
  command -v "$b" >/dev/null || { echo "monitor.sh: \`$b\` is missing (scripts/setup.d/40-prometheus.sh installs Prometheus and blackbox_exporter)" >&2; exit 1; }
done
target=${CARGO_TARGET_DIR:-$root/target}
RUNWAY_BIN=${RUNWAY_BIN:-$target/release/runway}
if [ ! -x "$RUNWAY_BIN" ]; then
  echo "monitor.sh: building runway --release" >&2
  cargo build --release --locked -p runway --bin runway >&2
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() { # url, seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "monitor.sh: $1 did not answer within $2 s" >&2
  return 1
}

# Reference servers: N endpoints spread over SERVERS processes.
ports=()
for ((s = 0; s < SERVERS; s++)); do
  p=$(free_port)
  "$RUNWAY_BIN" serve-reference --port "$p" >"$work/ref-$s.log" 2>&1 &
  pids+=($!)
  ports+=("$p")
done
for p in "${ports[@]}"; do wait_http "http://127.0.0.1:$p/health" 30; done

# runway.toml: one environment per endpoint, only the health probe.
mkdir -p "$work/project"
{
  for ((i = 0; i < N; i++)); do
    p=${ports[$((i % SERVERS))]}
    cat <<TOML
[environments.e$i]
url = "http://127.0.0.1:$p/mcp"
checks = { mcp = false, auth = false, tls = false, "http.livez" = false, "http.readyz" = false, "http.metrics" = false }
[environments.e$i.monitor]
interval = "${INTERVAL}s"
timeout = "5s"
TOML
  done
} >"$work/project/runway.toml"

# Prometheus + blackbox_exporter probing the same endpoints.
bbport=$(free_port)
promport=$(free_port)
cat >"$work/blackbox.yml" <<YML
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
YML
{
  cat <<YML
global:
  scrape_interval: ${INTERVAL}s
  scrape_timeout: 5s
scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [http_2xx]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:$bbport
    static_configs:
      - targets:
YML
  for ((i = 0; i < N; i++)); do
    p=${ports[$((i % SERVERS))]}
    echo "          - http://127.0.0.1:$p/health?e=$i"
  done
} >"$work/prometheus.yml"

cpu_secs() { # pid: user+system seconds
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}
peak_rss_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

echo "monitor.sh: N=$N INTERVAL=${INTERVAL}s DURATION=${DURATION}s SERVERS=$SERVERS runway=$RUNWAY_BIN" >&2
webport=$(free_port)
(cd "$work/project" && exec "$RUNWAY_BIN" monitor --listen "127.0.0.1:$webport" --ledger "sqlite://$work/ledger.db" \
  >"$work/monitor.out" 2>"$work/monitor.err") &
mon=$!
mon_start=$(date +%s)
pids+=($mon)
"$BB" --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$bbport" >"$work/bb.log" 2>&1 &
bb=$!
pids+=($bb)
"$PROM" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$promport" >"$work/prom.log" 2>&1 &
prom=$!
pids+=($prom)
wait_http "http://127.0.0.1:$webport/livez" 60
wait_http "http://127.0.0.1:$promport/-/ready" 60
start=$(date +%s)
sleep "$DURATION"
elapsed=$(($(date +%s) - start))

# The dashboard with that history: five timed loads of each page.
time_page() {
  local best=999 t i
  for i in 1 2 3 4 5; do
    t=$(curl -sS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$webport$1") || t=999
    best=$(python3 -c "print(min($best, $t))")
  done
  echo "$best"
}
dash=$(time_page /)
status=$(time_page /api/status)
hist=$(time_page /api/environments/e0/history)

mon_cpu=$(cpu_secs $mon); mon_rss=$(peak_rss_mib $mon)
prom_cpu=$(cpu_secs $prom); prom_rss=$(peak_rss_mib $prom)
bb_cpu=$(cpu_secs $bb); bb_rss=$(peak_rss_mib $bb)
probes=$(curl -fsS "http://127.0.0.1:$promport/api/v1/query" \
  --data-urlencode 'query=sum(count_over_time(probe_success[1h]))' |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)')
mon_elapsed=$(($(date +%s) - mon_start))
kill -TERM $mon
wait $mon || true

python3 - "$work/monitor.out" "$N" "$INTERVAL" "$mon_elapsed" "$mon_cpu" "$mon_rss" \
  "$prom_cpu" "$prom_rss" "$bb_cpu" "$bb_rss" "$dash" "$status" "$hist" "$probes" <<'PY'
import sys, collections
out, n, interval, elapsed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mon_cpu, mon_rss, prom_cpu, prom_rss, bb_cpu, bb_rss = map(float, sys.argv[5:11])
dash, status, hist = map(float, sys.argv[11:14])
probes = int(sys.argv[14])
runs = collections.Counter()
reasons = collections.Counter()
failed = 0
for line in open(out):
    parts = line.split()
    if len(parts) > 2:
        runs[parts[1]] += 1
        failed += parts[2] != "up"
        reasons.update(p.split("=", 1)[1] for p in parts if p.startswith("reason="))
# Each environment is due once per interval over the monitor's whole life
# (start-up included); a run that did not happen by the end is a missed deadline.
due = elapsed // interval
missed = sum(max(0, due - runs.get(f"e{i}", 0)) for i in range(n))
stack_cpu, stack_rss = prom_cpu + bb_cpu, prom_rss + bb_rss
print(f"endpoints {n}, every {interval} s; monitor ran {elapsed} s")
print(f"runway monitor: {sum(runs.values())} runs ({failed} not up), {missed} missed deadlines, "
      f"CPU {mon_cpu:.1f} s, peak RSS {mon_rss:.1f} MiB")
if reasons:
    print("  failed runs by reason: " + ", ".join(f"{r} {c}" for r, c in reasons.most_common()))
print(f"dashboard (best of 5): / {dash*1000:.0f} ms, /api/status {status*1000:.0f} ms, "
      f"/api/environments/e0/history {hist*1000:.0f} ms")
print(f"prometheus + blackbox_exporter: {probes} probes, CPU {stack_cpu:.1f} s "
      f"({prom_cpu:.1f} + {bb_cpu:.1f}), peak RSS {stack_rss:.1f} MiB ({prom_rss:.1f} + {bb_rss:.1f})")
cpu_ratio = mon_cpu / stack_cpu if stack_cpu else float("inf")
rss_ratio = mon_rss / stack_rss if stack_rss else float("inf")
print(f"ratios runway / stack: CPU {cpu_ratio:.2f}, memory {rss_ratio:.2f}")
PY
