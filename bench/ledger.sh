#!/usr/bin/env bash
# Ledger speed: `runway dora` and `runway ledger list --env production` over a
# ledger of 10,000 deployments and 100,000 verification results (plus their
# verification runs, incidents and releases). Target on SQLite: under 200 ms
# each. PostgreSQL is measured too when BENCH_PG_URL or RUNWAY_TEST_PG_URL
# names a server (scripts/setup.d/10-postgres.sh starts one).
#
# The peer is the floor: the same rows fetched with raw SQL by the database's
# own client (`sqlite3`, `psql`), also as a fresh process per run. The ratio
# (Runway's median over the floor's) says what Runway's decoding and rendering
# cost on top. CPU ms is the Runway process's user + system time: on a shared
# machine it is the figure that does not move with the neighbours' load.
#
# Usage: bench/ledger.sh     (release build in target/bench; BENCH_RUNS=7 timed runs
#                            each; BENCH_PG_URL=postgres://... or BENCH_SKIP_PG=1)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-7}
target=target/bench
work=$target/ledger-bench

echo "==> cargo build --release -p runway --target-dir $target" >&2
cargo build --release -p runway --target-dir "$target" --locked >&2
bin=$PWD/$target/release/runway

rm -rf "$work"
mkdir -p "$work"
git init -q "$work/repo"
python3 bench/ledger_bench.py gen-repo 2000 | git -C "$work/repo" fast-import --quiet
git -C "$work/repo" log --format='%H %ct' main > "$work/shas.txt"
python3 bench/ledger_bench.py gen-export "$work/shas.txt" "$work/export.json"

results=()
measure() { # backend label floor-cmd... -- runway-args...
  local backend=$1 label=$2; shift 2
  local floor=() ; while [ "$1" != "--" ]; do floor+=("$1"); shift; done; shift
  local r f
  r=$(python3 bench/ledger_bench.py time "$label" "$runs" -- "$bin" -C "$work/repo" "$@")
  f=$(python3 bench/ledger_bench.py time floor "$runs" -- "${floor[@]}")
  results+=("$backend	$(cut -f1 <<<"$r")	$(cut -f2,3,4 <<<"$r")	$(cut -f2 <<<"$f")")
}

since=$(date -u -d '-365 days' +%Y-%m-%dT%H:%M:%SZ)
ts_since=$(date -u -d '-365 days' +%Y-%m-%dT%H:%M:%S.000000Z)
q_list_records="SELECT r.id, r.kind, r.created_at, r.operator, r.environment, r.version, r.ref_id, r.body FROM records r WHERE r.environment = 'production' ORDER BY r.created_at, r.seq"
q_list_events="SELECT e.record_id, e.at, e.operator, e.kind, e.status, e.note, e.data FROM events e JOIN records r ON r.id = e.record_id WHERE r.environment = 'production' ORDER BY e.seq"
q_dora_records="SELECT r.id, r.body FROM records r WHERE r.kind IN ('deployment', 'incident') AND r.environment = 'production' AND r.created_at >= '$ts_since' ORDER BY r.created_at, r.seq"
q_dora_events="SELECT e.record_id, e.at, e.status, e.data FROM events e JOIN records r ON r.id = e.record_id WHERE r.kind IN ('deployment', 'incident') AND r.environment = 'production' AND r.created_at >= '$ts_since' ORDER BY e.seq"

# SQLite
db="$work/ledger.db"
echo "==> importing into SQLite" >&2
t0=$(date +%s.%N)
"$bin" ledger import --ledger "sqlite://$db" "$work/export.json" 2>/dev/null
t1=$(date +%s.%N)
import_sqlite=$(python3 -c "print(f'{($t1 - $t0):.1f}')")
if command -v sqlite3 >/dev/null; then
  measure sqlite "runway ledger list --env production" sqlite3 "$db" "$q_list_records" "$q_list_events" -- \
    ledger list --env production --ledger "sqlite://$db"
  measure sqlite "runway dora --env production --since 365d" sqlite3 "$db" "$q_dora_records" "$q_dora_events" -- \
    dora --env production --since "$since" --ledger "sqlite://$db"
else
  echo "note: no \`sqlite3\` client; the SQLite floor is not measured" >&2
  measure sqlite "runway ledger list --env production" true -- ledger list --env production --ledger "sqlite://$db"
  measure sqlite "runway dora --env production --since 365d" true -- dora --env production --since "$since" --ledger "sqlite://$db"
fi

# PostgreSQL
pg_base=${BENCH_PG_URL:-${RUNWAY_TEST_PG_URL:-}}
if [ -z "$pg_base" ] && [ "${BENCH_SKIP_PG:-}" != 1 ]; then
  # The test suite's private cluster (started, or reused, by its set-up script).
  RUNWAY_TEST_ENV="$work/test-env.sh" bash scripts/setup.d/10-postgres.sh
  # shellcheck disable=SC1091
  . "$work/test-env.sh"
  pg_base=${RUNWAY_TEST_PG_URL:-}
fi
import_pg=n/a
if [ -n "$pg_base" ] && command -v psql >/dev/null; then
  pg_url="${pg_base%/*}/runway_bench"
  psql -X -q "$pg_base" -c "DROP DATABASE IF EXISTS runway_bench WITH (FORCE)" -c "CREATE DATABASE runway_bench" >/dev/null
  echo "==> importing into PostgreSQL" >&2
  t0=$(date +%s.%N)
  "$bin" ledger import --ledger "$pg_url" "$work/export.json" 2>/dev/null
  t1=$(date +%s.%N)
  import_pg=$(python3 -c "print(f'{($t1 - $t0):.1f}')")
  psql -X -q "$pg_url" -c "VACUUM ANALYZE records" -c "VACUUM ANALYZE events" -c "VACUUM ANALYZE check_results" >/dev/null
  measure postgres "runway ledger list --env production" psql -X -q "$pg_url" -c "$q_list_records" -c "$q_list_events" -- \
    ledger list --env production --ledger "$pg_url"
  measure postgres "runway dora --env production --since 365d" psql -X -q "$pg_url" -c "$q_dora_records" -c "$q_dora_events" -- \
    dora --env production --since "$since" --ledger "$pg_url"
else
  echo "note: no PostgreSQL (BENCH_SKIP_PG=1, or no \`psql\`); skipped" >&2
fi

rows=$("$bin" ledger list --env production --format csv --ledger "sqlite://$db" | tail -n +2 | wc -l)
echo
echo "Runway ledger bench ($(date -u +%Y-%m-%d), $(nproc) cores, release build, median of $runs runs)"
echo "ledger: 10000 deployments, 100000 verification results; \`list --env production\` prints $rows records"
echo "import of the whole export: SQLite ${import_sqlite} s, PostgreSQL ${import_pg} s"
printf '\n%-9s %-44s %10s %8s %8s %11s %7s\n' backend command "median ms" "min ms" "CPU ms" "raw SQL ms" ratio
for line in "${results[@]}"; do
  IFS=$'\t' read -r backend label med lo cpu floor <<<"$line"
  ratio=$(python3 -c "print(f'{$med / $floor:.1f}x' if $floor > 0 else 'n/a')")
  verdict=""
  if [ "$backend" = sqlite ]; then
    verdict=$(python3 -c "print('  (target < 200 ms: ' + ('met' if $med < 200 else 'MISSED') + ')')")
  fi
  printf '%-9s %-44s %10s %8s %8s %11s %7s%s\n' "$backend" "$label" "$med" "$lo" "$cpu" "$floor" "$ratio" "$verdict"
done
