#!/usr/bin/env bash
# `runway monitor` at scale against Prometheus + blackbox_exporter (issue 10's
# Speed section). One monitor process (release build) checks N endpoints
# every INTERVAL seconds for DURATION seconds, with the dashboard served
# (`--listen`), on reference servers on 127.0.0.1. SUITE=health runs only the
# HTTP health probe, and in the same run Prometheus scrapes blackbox_exporter
# probing the same N endpoints at the same interval; SUITE=smoke runs the MCP
# smoke suite (health, auth boundary, handshake, tools list, smoke calls),
# which no peer can do, so the stack is not started. Prints a figures table:
# missed deadlines (the scheduler's own overlapped/skipped ticks and late
# starts, and runs missing from the output), CPU seconds (utime+stime) and
# peak RSS (VmHWM) of the probing, read before the dashboard is timed, with
# Runway's as ratios to the Prometheus + blackbox stack's; then the
# dashboard's p50/p95 response time with that history, and the CPU those
# page loads took; then the ledger's size by table and a month's projection.
#
#   bench/monitor.sh                          # N=1000 INTERVAL=10 DURATION=300 SUITE=health
#   SUITE=smoke bench/monitor.sh              # the MCP smoke suite instead
#   N=200 DURATION=60 bench/monitor.sh        # a quick run
#   RUNWAY_BIN=path/to/runway bench/monitor.sh   # skip the build
#
# Variables: N, INTERVAL (s), DURATION (s), SUITE (health|smoke), SERVERS
# (reference-server processes the endpoints are spread over; each endpoint is
# its own environment with its own URL, `/mcp?e=I` and `/health?e=I`),
# REQUESTS (timed dashboard loads per page, default 20), HISTORY_HOURS
# (default 0: hours of past runs, one per endpoint per INTERVAL ending when
# the monitor starts, written into the ledger before it starts, so the
# dashboard is timed with that much history; every 50th run failed; the
# summary the dashboard reads is built by migration 0007's own SQL).
#
# PROFILE=1 samples the monitor's CPU with `perf record -e cpu-clock`
# (Debian's linux-perf; no hardware counters needed) over the timed span and
# prints where it went: the CPU per run, the share by binary and library
# (the kernel's among them), and the top symbols by self time.
#
# WRAP="heaptrack -o FILE" runs the monitor under a wrapper that execs it
# as a child (heaptrack, valgrind...); the CPU and RSS are still read off the
# monitor's own process, but they include what the wrapper adds to it.
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
SUITE=${SUITE:-health}
SERVERS=${SERVERS:-10}
REQUESTS=${REQUESTS:-20}
HISTORY_HOURS=${HISTORY_HOURS:-0}
PROM=${RUNWAY_TEST_PROMETHEUS:-/usr/bin/prometheus}
BB=${RUNWAY_TEST_BLACKBOX_EXPORTER:-/usr/bin/prometheus-blackbox-exporter}
case "$SUITE" in
  health | smoke) ;;
  *) echo "monitor.sh: SUITE=$SUITE: use health or smoke" >&2; exit 2 ;;
esac
[[ $HISTORY_HOURS =~ ^[0-9]+$ ]] || { echo "monitor.sh: HISTORY_HOURS=$HISTORY_HOURS: give a whole number" >&2; exit 2; }
for v in N INTERVAL DURATION SERVERS REQUESTS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "monitor.sh: $v=${!v}: give a positive whole number" >&2; exit 2; }
done
tools=(curl python3)
[ "$SUITE" = health ] && tools+=("$PROM" "$BB")
for b in "${tools[@]}"; do
  command -v "$b" >/dev/null || { echo "monitor.sh: \`$b\` is missing (scripts/setup.d/40-prometheus.sh installs Prometheus and blackbox_exporter)" >&2; exit 1; }
done
target=${CARGO_TARGET_DIR:-$root/target}
if [ -z "${RUNWAY_BIN:-}" ]; then
  echo "monitor.sh: cargo build --release -p runway" >&2
  cargo build --release --locked -j 2 -p runway --bin runway >&2
  RUNWAY_BIN=$target/release/runway
fi
[ -x "$RUNWAY_BIN" ] || { echo "monitor.sh: $RUNWAY_BIN is not an executable" >&2; exit 1; }
export RUNWAY_BENCH_TOKEN="bench-token-$$-$RANDOM"

work=$(mktemp -d)
pids=()
refs=()
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

# Reference servers: N endpoints spread over SERVERS processes, with a token
# (the smoke suite's calls carry it) and no anonymous rate limit (the auth
# boundary probes of 1,000 environments would spend it).
ports=()
for ((s = 0; s < SERVERS; s++)); do
  p=$(free_port)
  "$RUNWAY_BIN" serve-reference --port "$p" --token-env RUNWAY_BENCH_TOKEN --faults no-rate-limit \
    >"$work/ref-$s.log" 2>&1 &
  pids+=($!)
  refs+=($!)
  ports+=("$p")
done
for p in "${ports[@]}"; do wait_http "http://127.0.0.1:$p/health" 30; done

# runway.toml: one environment per endpoint, each with its own URLs.
if [ "$SUITE" = health ]; then
  checks='{ mcp = false, auth = false, tls = false, "http.livez" = false, "http.readyz" = false, "http.metrics" = false }'
else
  checks='{ tls = false, "http.livez" = false, "http.readyz" = false, "http.metrics" = false }'
fi
mkdir -p "$work/project"
{
  # The timed page loads come faster than the dashboard's anonymous budget
  # (50 a second per address): answered 429 they would time nothing.
  printf '[web]\nrate_limit = 0\n\n'
  for ((i = 0; i < N; i++)); do
    p=${ports[$((i % SERVERS))]}
    cat <<TOML
[environments.e$i]
url = "http://127.0.0.1:$p/mcp?e=$i"
health_path = "/health?e=$i"
token_env = "RUNWAY_BENCH_TOKEN"
checks = $checks
[environments.e$i.monitor]
suite = "smoke"
interval = "${INTERVAL}s"
timeout = "5s"
TOML
  done
} >"$work/project/runway.toml"

cpu_secs() { # pid: user+system seconds
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}
peak_rss_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

echo "monitor.sh: N=$N INTERVAL=${INTERVAL}s DURATION=${DURATION}s SUITE=$SUITE SERVERS=$SERVERS HISTORY_HOURS=$HISTORY_HOURS runway=$RUNWAY_BIN" >&2
# `runway monitor` opens an existing ledger only.
"$RUNWAY_BIN" ledger init "sqlite://$work/ledger.db" >/dev/null
if [ "$HISTORY_HOURS" -gt 0 ]; then
  python3 - "$work/ledger.db" "$N" "$INTERVAL" "$HISTORY_HOURS" "$root" <<'PY'
import sqlite3, sys, time
db, n, interval, hours = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
root = sys.argv[5]
end = int(time.time()) * 1_000_000
step = interval * 1_000_000
slots = hours * 3600 // interval
con = sqlite3.connect(db)
con.execute("PRAGMA synchronous = OFF")
con.execute("PRAGMA cache_size = -262144")
# Migration 0007's trigger adds each stored run to the summary; a week of
# runs goes in faster without it, then gets its summary from the
# migration's own backfill SQL, and the trigger is put back.
sql = open(f"{root}/crates/runway-ledger/migrations/sqlite/0007_summary.sql").read()
trigger = sql[sql.index("CREATE TRIGGER"):sql.index("END;") + len("END;")]
con.execute("DROP TRIGGER monitor_results_summary")
# Generated inside SQLite (a Python loop takes minutes per ten million
# rows), environment by environment so the (environment, at_us) index is
# appended to: run k of environment i is at `end - k * step + i ms`, every
# 50th down.
con.execute(
    """WITH RECURSIVE e(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM e WHERE i < ? - 1),
    k(k) AS (SELECT ? UNION ALL SELECT k - 1 FROM k WHERE k > 1)
    INSERT INTO monitor_results (environment, at_us, ok, status, reason, latency_ms)
    SELECT 'e' || i, ? - k * ? + i * 1000,
        CASE WHEN (k + i) % 50 = 0 THEN 0 ELSE 1 END,
        CASE WHEN (k + i) % 50 = 0 THEN 'down' ELSE 'up' END,
        CASE WHEN (k + i) % 50 = 0 THEN 'connect' END,
        1.0 + ((k * 7 + i) % 40) / 10.0
    FROM e CROSS JOIN k""",
    (n, slots, end, step),
)
con.commit()
con.executescript(sql[sql.index("-- The runs stored before the summary existed"):])
con.executescript(trigger)
con.commit()
size = sum(r[0] for r in con.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"))
print(f"monitor.sh: seeded {slots * n} runs ({hours} h), ledger {size / 2**20:.0f} MiB", file=sys.stderr)
PY
fi
webport=$(free_port)
read -r -a wrap <<<"${WRAP:-}"
(cd "$work/project" && NO_COLOR=1 RUNWAY_LOG="warn,runway::cmd::monitor=info" exec "${wrap[@]}" "$RUNWAY_BIN" monitor \
  --listen "127.0.0.1:$webport" --ledger "sqlite://$work/ledger.db" \
  >"$work/monitor.out" 2>"$work/monitor.err") &
mon=$!
wrapper=
if [ -n "${WRAP:-}" ]; then
  # The monitor is the wrapper's descendant running $RUNWAY_BIN.
  wrapper=$mon
  mon=
  for ((i = 0; i < 100; i++)); do
    [ -z "$mon" ] || break
    sleep 0.1
    for p in $(pgrep -f -- "--listen 127.0.0.1:$webport" || true); do
      [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$RUNWAY_BIN")" ] && mon=$p
    done
  done
  [ -n "$mon" ] || { echo "monitor.sh: no \`$RUNWAY_BIN monitor\` under WRAP=$WRAP" >&2; exit 1; }
  pids+=($wrapper)
fi
mon_start=$(date +%s)
pids+=($mon)

# Prometheus + blackbox_exporter probing the same endpoints (health only).
prom=
bb=
if [ "$SUITE" = health ]; then
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
  "$BB" --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$bbport" >"$work/bb.log" 2>&1 &
  bb=$!
  pids+=($bb)
  "$PROM" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$promport" >"$work/prom.log" 2>&1 &
  prom=$!
  pids+=($prom)
  wait_http "http://127.0.0.1:$promport/-/ready" 60
fi
wait_http "http://127.0.0.1:$webport/livez" 60
perf_pid=
if [ "${PROFILE:-0}" = 1 ]; then
  command -v perf >/dev/null || { echo "monitor.sh: PROFILE=1 needs perf (Debian's linux-perf)" >&2; exit 1; }
  perf record -q -e cpu-clock -F 499 -g -p "$mon" -o "$work/perf.data" >"$work/perf.log" 2>&1 &
  perf_pid=$!
fi
prof_cpu0=$(cpu_secs $mon)
sleep "$DURATION"
prof_cpu1=$(cpu_secs $mon)
if [ -n "$perf_pid" ]; then
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
fi

# The dashboard with that history, timed while the schedule keeps running:
# REQUESTS loads of each page, one at a time; prints p50 and p95 in ms and
# how many loads did not answer 200.
time_page() {
  local i
  for ((i = 0; i < REQUESTS; i++)); do
    curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 "http://127.0.0.1:$webport$1" || echo "000 30"
  done | python3 -c '
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
bad = [c for c, _ in rows if c != "200"]
t = sorted(float(s) * 1000 for _, s in rows)
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
codes = ",".join(sorted(set(bad))) or "-"
print(f"{q(0.5):.1f} {q(0.95):.1f} {len(bad)} {codes}")'
}
# The probing figures, read before the pages are timed: CPU and peak RSS
# of the same probes on both sides (the page loads are counted apart).
mon_cpu=$(cpu_secs $mon); mon_rss=$(peak_rss_mib $mon)
prom_cpu=0; prom_rss=0; bb_cpu=0; bb_rss=0; probes=0
if [ -n "$prom" ]; then
  prom_cpu=$(cpu_secs $prom); prom_rss=$(peak_rss_mib $prom)
  bb_cpu=$(cpu_secs $bb); bb_rss=$(peak_rss_mib $bb)
  probes=$(curl -fsS "http://127.0.0.1:$promport/api/v1/query" \
    --data-urlencode 'query=sum(count_over_time(probe_success[1h]))' |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)')
fi
ref_cpu=0
for r in "${refs[@]}"; do ref_cpu=$(python3 -c "print($ref_cpu + $(cpu_secs "$r"))"); done
dash=$(time_page /)
statuspage=$(time_page /status)
status=$(time_page /api/status)
hist=$(time_page /api/environments/e0/history)
dash_cpu=$(python3 -c "print(round($(cpu_secs $mon) - $mon_cpu, 1))")
dash_rss=$(peak_rss_mib $mon)

mon_elapsed=$(($(date +%s) - mon_start))
kill -TERM $mon
wait ${wrapper:-$mon} || true

python3 - "$work/monitor.out" "$work/monitor.err" "$N" "$INTERVAL" "$mon_elapsed" "$mon_cpu" "$mon_rss" \
  "$prom_cpu" "$prom_rss" "$bb_cpu" "$bb_rss" "$probes" "$ref_cpu" "$SUITE" "$dash" "$statuspage" "$status" "$hist" \
  "$dash_cpu" "$dash_rss" <<'PY'
import sys, collections, re
out, err = sys.argv[1], sys.argv[2]
n, interval, elapsed = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
mon_cpu, mon_rss, prom_cpu, prom_rss, bb_cpu, bb_rss = map(float, sys.argv[6:12])
probes, ref_cpu, suite = int(sys.argv[12]), float(sys.argv[13]), sys.argv[14]
pages = {"/": sys.argv[15], "/status": sys.argv[16], "/api/status": sys.argv[17],
         "/api/environments/e0/history": sys.argv[18]}
dash_cpu, dash_rss = float(sys.argv[19]), float(sys.argv[20])
runs = collections.Counter()
reasons = collections.Counter()
failed = 0
for line in open(out):
    parts = line.split()
    if len(parts) > 2 and parts[1].startswith("e"):
        runs[parts[1]] += 1
        failed += parts[2] != "up"
        reasons.update(p.split("=", 1)[1] for p in parts if p.startswith("reason="))
# The scheduler's own figures, from its `monitor stopped` line.
stats = {}
for line in open(err):
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)
    if "monitor stopped" in line:
        stats = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
if not stats:
    sys.exit("monitor.sh: the monitor did not print its `monitor stopped` line:\n" + open(err).read()[-2000:])
# Each environment is due once per interval over the monitor's whole life
# (start-up included); a run that did not happen by the end is missing.
due = elapsed // interval
missing = sum(max(0, due - runs.get(f"e{i}", 0)) for i in range(n))
missed = stats.get("overlapped", 0) + stats.get("skipped", 0)
stack_cpu, stack_rss = prom_cpu + bb_cpu, prom_rss + bb_rss
peer = suite == "health"
def ratio(a, b):
    return f"{a / b:.2f}" if peer and b else "n/a"
print(f"suite {suite}: {n} endpoints every {interval} s; monitor lived {elapsed} s "
      f"(the reference servers used {ref_cpu:.1f} CPU s)")
print()
print("| figure | runway monitor | prometheus + blackbox_exporter | runway / stack |")
print("|---|---|---|---|")
print(f"| runs / probes | {sum(runs.values())} ({failed} not up) | {probes if peer else 'n/a'} | |")
print(f"| missed deadlines: overlapped + skipped ticks | {missed} "
      f"({stats.get('overlapped', 0)} + {stats.get('skipped', 0)}) | | |")
print(f"| late starts (> 1 s after the tick), worst | {stats.get('late', 0)}, "
      f"{stats.get('max_late_ms', 0)} ms | | |")
print(f"| runs missing from the output ({due} due each) | {missing} | | |")
print(f"| CPU seconds (utime+stime), before the page loads | {mon_cpu:.1f} | "
      + (f"{stack_cpu:.1f} ({prom_cpu:.1f} + {bb_cpu:.1f})" if peer else "n/a")
      + f" | {ratio(mon_cpu, stack_cpu)} |")
print(f"| peak RSS (VmHWM), before the page loads | {mon_rss:.1f} MiB | "
      + (f"{stack_rss:.1f} MiB ({prom_rss:.1f} + {bb_rss:.1f})" if peer else "n/a")
      + f" | {ratio(mon_rss, stack_rss)} |")
print(f"| the timed page loads ({len(pages)} pages x REQUESTS): their CPU seconds, peak RSS after them | {dash_cpu:.1f} s, {dash_rss:.1f} MiB | | |")
for page, v in pages.items():
    p50, p95, bad, codes = v.split()
    note = f" ({bad} not 200: {codes})" if bad != "0" else ""
    print(f"| dashboard `{page}` p50 / p95 | {p50} / {p95} ms{note} | | |")
if any(v.split()[2] != "0" for v in pages.values()):
    print()
    print("the monitor's last errors and warnings:")
    lines = [l.rstrip() for l in open(err) if re.search(r"ERROR|WARN", re.sub(r"\x1b\[[0-9;]*m", "", l))]
    for l in lines[-10:]:
        print("    " + re.sub(r"\x1b\[[0-9;]*m", "", l)[:300])
if reasons:
    print()
    print("failed runs by reason: " + ", ".join(f"{r} {c}" for r, c in reasons.most_common()))
PY

# The ledger after the run: rows and bytes per table (SQLite's dbstat), and
# what a month of this schedule holds in steady state with the 7-day raw
# horizon (raw runs for 7 days, hourly rollups for the other 23, the
# summary's hour rows for 7 days and day rows for 30), from the bytes per
# row measured here (a table without rows here is sized as the hour rows,
# which are wider).
python3 - "$work/ledger.db" "$N" "$INTERVAL" <<'PY'
import sqlite3, sys
db, n, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
con = sqlite3.connect(db)
size = dict(con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
index = {r[0]: r[1] for r in con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'")}
tables = ["monitor_results", "monitor_rollups", "monitor_hours", "monitor_days"]
rows = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
total = {t: size.get(t, 0) + sum(v for k, v in size.items() if index.get(k) == t) for t in tables}
per = {t: total[t] / rows[t] for t in tables if rows[t]}
per.setdefault("monitor_rollups", per.get("monitor_hours", 0))
month = {
    "monitor_results": n * 7 * 86400 // interval,
    "monitor_rollups": n * 24 * 23,
    "monitor_hours": n * 24 * 7,
    "monitor_days": n * 30,
}
all_bytes = sum(size.values())
print()
print(f"ledger after the run: {all_bytes / 2**20:.0f} MiB")
print()
print("| table (with its indexes) | rows now | MiB now | bytes per row | rows after a month | MiB after a month |")
print("|---|---|---|---|---|---|")
m_total = 0
for t in tables:
    b = per.get(t, 0) * month[t]
    m_total += b
    print(f"| {t} | {rows[t]} | {total[t] / 2**20:.1f} | {per.get(t, 0):.0f} | {month[t]} | {b / 2**20:.0f} |")
print(f"| all | | | | | {m_total / 2**20:.0f} |")
PY
if [ -n "$perf_pid" ]; then
  echo
  echo "## Where the monitor's CPU went (perf, cpu-clock samples over the timed ${DURATION} s)"
  python3 -c 'import sys; c = float(sys.argv[2]) - float(sys.argv[1]); runs = max(1, int(sys.argv[3]) * int(sys.argv[4]) // int(sys.argv[5])); print(f"CPU over the span: {c:.1f} s for {runs} runs due: {c / runs * 1e6:.0f} µs per run")' \
    "$prof_cpu0" "$prof_cpu1" "$N" "$DURATION" "$INTERVAL"
  echo
  echo '```'
  perf report -i "$work/perf.data" --stdio --no-children --sort dso --percent-limit 2 -g none 2>/dev/null | grep -v '^#' | grep -v '^$' |
    sed -E 's/([[:space:]]+-)*[[:space:]]*$//' | head -12
  echo
  perf report -i "$work/perf.data" --stdio --no-children --sort symbol --percent-limit 0.7 -g none 2>/dev/null | grep -v '^#' | grep -v '^$' |
    sed -E 's/([[:space:]]+-)*[[:space:]]*$//' | head -40
  echo '```'
  if [ -n "${PROFILE_OUT:-}" ]; then cp "$work/perf.data" "$PROFILE_OUT"; fi
fi
