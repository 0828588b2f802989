#!/usr/bin/env bash
# The smoke suite's wall time: one whole verify process against the local reference
# server, median over N runs, next to the MCP Inspector CLI doing less in the same run.
#
#   bench/smoke.sh [runs]        (default 30)
#
# Release build in its own target dir (target/bench) so it does not disturb the
# debug build. Runway: the `mcp_verify` example (the library entry point
# `runway_verify::mcp::run`, suite `smoke`: handshake, tools/list over every page,
# count/required, three smoke calls). Peer: `mcp-inspector --cli` (npm
# @modelcontextprotocol/inspector, installed into target/bench/inspector when npm is
# available) running `tools/list` then `tools/call echo` — two processes, the
# least a shell-script runbook needs for the same proof.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
export CARGO_TARGET_DIR="$PWD/target/bench"
export RUNWAY_TOKEN="bench-token-$$"

echo "==> cargo build --release (target/bench)" >&2
cargo build --release -q -p runway-verify --example mcp_verify --example serve_reference
bin="$CARGO_TARGET_DIR/release/examples"

log="$(mktemp)"
"$bin/serve_reference" 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^listening on //p' "$log")"
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { echo "the reference server did not start: $(cat "$log")" >&2; exit 1; }

now_ms() { date +%s%N | awk '{printf "%.3f", $1/1e6}'; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }
p90() { sort -n | awk '{a[NR]=$1} END {i=int(NR*0.9); if(i<1)i=1; printf "%.1f", a[i]}'; }

# One warm-up run, and a check that the smoke suite really passes.
"$bin/mcp_verify" "$url" smoke >/dev/null || { echo "the smoke suite failed against the reference server" >&2; exit 1; }

runway_times=()
for _ in $(seq 1 "$runs"); do
  t0=$(now_ms); "$bin/mcp_verify" "$url" smoke >/dev/null; t1=$(now_ms)
  runway_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')")
done
r_med=$(printf '%s\n' "${runway_times[@]}" | median)
r_p90=$(printf '%s\n' "${runway_times[@]}" | p90)
echo "runway smoke (mcp_verify, release): median ${r_med} ms, p90 ${r_p90} ms over ${runs} runs (goal < 50 ms)"

inspector="$PWD/target/bench/inspector/node_modules/.bin/mcp-inspector"
if [ ! -x "$inspector" ] && command -v npm >/dev/null; then
  echo "==> npm install @modelcontextprotocol/inspector (target/bench/inspector)" >&2
  npm install --silent --no-audit --no-fund --prefix "$PWD/target/bench/inspector" @modelcontextprotocol/inspector@2.12.0 >&2 || true
fi
if [ -x "$inspector" ]; then
  peer_runs=$(( runs < 10 ? runs : 10 ))
  peer_times=()
  for _ in $(seq 1 "$peer_runs"); do
    t0=$(now_ms)
    "$inspector" --cli "$url" --transport http --header "Authorization: Bearer $RUNWAY_TOKEN" --method tools/list >/dev/null
    "$inspector" --cli "$url" --transport http --header "Authorization: Bearer $RUNWAY_TOKEN" --method tools/call --tool-name echo --tool-arg message=hi >/dev/null
    t1=$(now_ms)
    peer_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')")
  done
  p_med=$(printf '%s\n' "${peer_times[@]}" | median)
  echo "mcp-inspector --cli (tools/list + tools/call): median ${p_med} ms over ${peer_runs} runs"
  awk -v r="$r_med" -v p="$p_med" 'BEGIN{printf "ratio: runway takes %.3fx the inspector'"'"'s time (%.1fx faster)\n", r/p, p/r}'
else
  echo "peer not measured: npm is not available to install @modelcontextprotocol/inspector" >&2
fi
