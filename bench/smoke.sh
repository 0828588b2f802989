#!/usr/bin/env bash
# The smoke suite's wall time: one whole verify process against the local reference
# server, median over N runs, next to the MCP Inspector CLI doing less in the same run.
#
#   bench/smoke.sh [runs]        (default 30)
#
# Release build in its own target dir (target/bench) so it does not disturb the
# debug build. Runway, two ways: the whole `runway verify --suite smoke` process
# (health, auth boundary, MCP handshake, tools/list over every page, count and
# required tools, three smoke calls), and the `mcp_verify` example that runs only
# the MCP checks (`runway_verify::mcp::run`). Peer: `mcp-inspector --cli` (npm
# @modelcontextprotocol/inspector, installed into target/bench/inspector when npm is
# available) running `tools/list` then `tools/call echo` — two processes, the
# least a shell-script runbook needs for the same proof.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
export CARGO_TARGET_DIR="$PWD/target/bench"
export RUNWAY_TOKEN="bench-token-$$"

echo "==> cargo build --release (target/bench)" >&2
cargo build --release -q -p runway-verify --example mcp_verify
cargo build --release -q -p runway --bin runway
bin="$CARGO_TARGET_DIR/release/examples"
runway="$CARGO_TARGET_DIR/release/runway"

log="$(mktemp)"
"$runway" serve-reference --token-env RUNWAY_TOKEN 2>"$log" &
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

verify() {
  "$runway" verify "$url" --suite smoke --token-env RUNWAY_TOKEN --format json \
    --call 'echo={"message":"hi"}' --call 'add={"a":2,"b":3}' --call 'slow={"ms":1}'
}
# One warm-up run each, and a check that the smoke suite really passes.
verify >/dev/null || { echo "runway verify --suite smoke failed against the reference server" >&2; exit 1; }
"$bin/mcp_verify" "$url" smoke >/dev/null || { echo "the MCP smoke checks failed against the reference server" >&2; exit 1; }

time_runs() { # command... -> one wall time in ms per line
  for _ in $(seq 1 "$runs"); do
    t0=$(now_ms); "$@" >/dev/null; t1=$(now_ms)
    awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", b-a}'
  done
}
cli_times="$(time_runs verify)"
r_med=$(echo "$cli_times" | median)
r_p90=$(echo "$cli_times" | p90)
echo "runway verify --suite smoke (whole process, release): median ${r_med} ms, p90 ${r_p90} ms over ${runs} runs (goal < 50 ms)"
lib_times="$(time_runs "$bin/mcp_verify" "$url" smoke)"
echo "MCP checks only (mcp_verify example): median $(echo "$lib_times" | median) ms, p90 $(echo "$lib_times" | p90) ms"

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
