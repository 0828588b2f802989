#!/usr/bin/env bash
# Throughput of `runway verify`'s load check against oha, on the same server,
# endpoint and concurrency, in the same run. Prints one row per endpoint and
# the ratio runway/oha (goal: >= 0.9).
#
#   bench/load.sh                      # C=32 N=20000
#   C=64 N=50000 bench/load.sh
#
# Needs `oha` and `jq` on PATH. Builds the examples with --release into
# target/bench so the test build in target/debug is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

C="${C:-32}"
N="${N:-20000}"
ROUNDS="${ROUNDS:-3}"
TARGET_DIR="${BENCH_TARGET_DIR:-target/bench}"

command -v oha >/dev/null || { echo "error: \`oha\` is not on PATH: run \`cargo install oha\`" >&2; exit 2; }
command -v jq >/dev/null || { echo "error: \`jq\` is not on PATH: run \`apt-get install -y jq\`" >&2; exit 2; }

echo "==> building (release, $TARGET_DIR)" >&2
# The load engine is runway-verify's `load::run`, the same code
# `runway verify --only load` runs; the examples avoid building the whole binary.
cargo build --release --quiet --target-dir "$TARGET_DIR" -p runway-verify --example bench_server --example bench_load
LOAD="$TARGET_DIR/release/examples/bench_load"
SERVER="$TARGET_DIR/release/examples/bench_server"

export RUNWAY_BENCH_TOKEN="bench-$(date +%s)-$RANDOM"
out="$(mktemp)"
"$SERVER" >"$out" &
server_pid=$!
trap 'kill -INT $server_pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
  [ -s "$out" ] && break
  sleep 0.1
done
URL="$(head -n1 "$out")"
[ -n "$URL" ] || { echo "error: the bench server did not start" >&2; exit 3; }
BASE="${URL%/mcp}"
echo "==> server $URL, concurrency $C, $N requests, best of $ROUNDS rounds" >&2

# tools/call in the stateless era (2026-07-28): every request stands alone, so
# oha can repeat one request verbatim (in a session, rmcp would see the same
# JSON-RPC id over and over). runway's load engine sends the same shape.
HDRS=(-H "Authorization: Bearer $RUNWAY_BENCH_TOKEN" -H "Content-Type: application/json"
      -H "Accept: application/json, text/event-stream" -H "MCP-Protocol-Version: 2026-07-28"
      -H "Mcp-Method: tools/call" -H "Mcp-Name: echo")
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"},"io.modelcontextprotocol/clientCapabilities":{}}'
CALL='{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench"},'"$META"'}}'
reply="$(curl -s "${HDRS[@]}" -X POST "$URL" -d "$CALL")"
case "$reply" in *'"text":"bench"'*) ;; *) echo "error: tools/call echo failed: $reply" >&2; exit 3 ;; esac

oha_rps() { # args: oha target args...
  oha --no-tui --output-format json -c "$C" -n "$N" "$@" | jq -r '.summary.requestsPerSec'
}
runway_rps() { # args: /path or tool={json}
  local rps p50 p95 errors
  read -r rps p50 p95 errors < <("$LOAD" "$URL" "$C" "$N" "$1")
  [ "$errors" = 0 ] || echo "warning: runway counted $errors failed requests on $1" >&2
  echo "$rps"
}
best() { sort -g | tail -n1; }

declare -A R O
for round in $(seq 1 "$ROUNDS"); do
  echo "    round $round" >&2
  O[health]+="$(oha_rps "$BASE/health")"$'\n'
  R[health]+="$(runway_rps /health)"$'\n'
  O[echo]+="$(oha_rps -m POST "${HDRS[@]}" -d "$CALL" "$URL")"$'\n'
  R[echo]+="$(runway_rps 'echo={"message":"bench"}')"$'\n'
done

printf '%-26s %12s %12s %8s\n' "endpoint (c=$C, n=$N)" "oha req/s" "runway req/s" "ratio"
for k in health echo; do
  o="$(printf '%s' "${O[$k]}" | best)"
  r="$(printf '%s' "${R[$k]}" | best)"
  name="GET /health"; [ "$k" = echo ] && name="tools/call echo"
  awk -v n="$name" -v o="$o" -v r="$r" 'BEGIN { printf "%-26s %12.0f %12.0f %8.2f\n", n, o, r, r / o }'
done
