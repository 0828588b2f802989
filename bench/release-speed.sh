#!/usr/bin/env bash
# Speed: next version + changelog entry on a repository with 100,000 commits
# and 10,000 release tags, Runway vs `git-cliff --unreleased --bumped-version`
# and `cog bump --auto --dry-run`. Median of RUNS runs each (default 5).
#
# Usage: bench/release-speed.sh [COMMITS] [TAGS]
# The goal is a ratio <= 0.5 against the faster peer. Peers are installed with
# `cargo install --locked` into target/peers when missing; without them only
# Runway's figures are printed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS=${PEERS:-$ROOT/target/peers}
RUNS=${RUNS:-5}
COMMITS=${1:-100000}
TAGS=${2:-10000}
mkdir -p "$PEERS"
export PATH="$PEERS/bin:$PATH"
# shellcheck source=bench/release-lib.sh
. bench/release-lib.sh

if [ "${SKIP_PEERS:-0}" != 1 ]; then
  install_peer git-cliff git-cliff --no-default-features
  install_peer cocogitto cog
fi
build_runway || exit 1
pin_git_env

REPO="$ROOT/target/bench/repo-$COMMITS-$TAGS"
if [ ! -d "$REPO/.git" ]; then
  echo "==> generating $COMMITS commits and $TAGS tags with git fast-import" >&2
  rm -rf "$REPO"; mkdir -p "$REPO"
  t0=$(now_ms)
  git -C "$REPO" init -q -b main
  python3 bench/release-gen.py "$COMMITS" "$TAGS" | git -C "$REPO" fast-import --quiet
  git -C "$REPO" pack-refs --all
  git -C "$REPO" reset -q --hard main
  printf 'tag_prefix = "v"\n' > "$REPO/cog.toml"
  echo cog.toml >> "$REPO/.git/info/exclude"
  echo "    generated in $(( $(now_ms) - t0 )) ms" >&2
fi
echo "repository: $(git -C "$REPO" rev-list --count HEAD) commits, $(git -C "$REPO" tag | wc -l) tags, last tag $(git -C "$REPO" describe --tags --abbrev=0)"

# median_ms CMD...: runs CMD $RUNS times in the repository, prints the median wall time in ms.
median_ms() {
  local times=() i s
  for i in $(seq 1 "$RUNS"); do
    s=$(now_ms)
    (cd "$REPO" && "$@") >/dev/null 2>&1 || { echo "failed: $*" >&2; echo fail; return; }
    times+=($(( $(now_ms) - s )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

ours_next=$(median_ms "$RUNWAY" release status --format json)
ours_both=$(median_ms "$RUNWAY" release bump auto --dry-run)
echo "runway  release status (next version)                ${ours_next} ms"
echo "runway  release bump auto --dry-run (version+entry)  ${ours_both} ms"
best=""
if command -v git-cliff >/dev/null; then
  cliff=$(median_ms git-cliff --unreleased --bumped-version)
  echo "git-cliff --unreleased --bumped-version              ${cliff} ms"
  [ "$cliff" != fail ] && best=$cliff
fi
if command -v cog >/dev/null; then
  cog_ms=$(median_ms cog bump --auto --dry-run)
  echo "cog bump --auto --dry-run                            ${cog_ms} ms"
  if [ "$cog_ms" != fail ] && { [ -z "$best" ] || [ "$cog_ms" -lt "$best" ]; }; then best=$cog_ms; fi
fi
if [ -n "$best" ]; then
  awk -v o="$ours_both" -v b="$best" 'BEGIN { printf "ratio runway/faster peer: %.3f (goal <= 0.5)\n", (b > 0 ? o / b : 0) }'
else
  echo "no peer installed: ratio not computed"
fi
