#!/usr/bin/env bash
# Next version on every fixture repository: Runway vs git-cliff vs cocogitto.
#
# Usage: bench/release-peers.sh
# Installs the peers with `cargo install --locked` into target/peers when they
# are missing (set PEERS to reuse another root). Prints one row per fixture
# and how many each tool got right; bench/release-README.md explains every
# disagreement.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS=${PEERS:-$ROOT/target/peers}
mkdir -p "$PEERS"
export PATH="$PEERS/bin:$PATH"
# shellcheck source=bench/release-lib.sh
. bench/release-lib.sh

install_peer git-cliff git-cliff --no-default-features
install_peer cocogitto cog
build_runway || exit 1
pin_git_env

have_cliff=0; command -v git-cliff >/dev/null && have_cliff=1
have_cog=0; command -v cog >/dev/null && have_cog=1

printf '%-20s %-9s %-9s %-9s %-9s\n' fixture expected runway git-cliff cog
ok_runway=0; ok_cliff=0; ok_cog=0; total=0
for case in tests/fixtures/release/*/; do
  name=$(basename "$case")
  expected=$(tr -d '[:space:]' < "$case/expected_version")
  work=$(mktemp -d)
  logs=$(mktemp -d)  # outside the repository: cog refuses a dirty tree
  (cd "$work" && HOME="$work" bash "$ROOT/$case/commit.sh") >/dev/null 2>&1 || { echo "$name: commit.sh failed" >&2; continue; }

  ours=$(cd "$work" && "$RUNWAY" release status --format json 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["next"] or "none")')

  cliff="-"
  if [ $have_cliff = 1 ]; then
    # git-cliff prints the current version again (with a warning) when nothing bumps it.
    cliff=$(cd "$work" && git-cliff --unreleased --bumped-version 2>"$logs/cliff.err" | tail -1)
    cliff=${cliff#v}
    if grep -qi "nothing to bump" "$logs/cliff.err"; then cliff=none; fi
    [ -n "$cliff" ] || cliff=error
  fi

  cog_v="-"
  if [ $have_cog = 1 ]; then
    printf 'tag_prefix = "v"\n' > "$work/cog.toml"
    echo cog.toml >> "$work/.git/info/exclude"
    out=$(cd "$work" && cog bump --auto --dry-run 2>"$logs/cog.err")
    ver=$(echo "$out" | grep -E '^v?[0-9]+\.[0-9]+\.[0-9]+' | tail -1)
    if [ -n "$ver" ]; then
      cog_v=${ver#v}
    elif printf '%s\n' "$out" | cat - "$logs/cog.err" | grep -qi "no conventional commit"; then
      cog_v=none
    else
      cog_v=error
    fi
  fi

  total=$((total + 1))
  [ "$ours" = "$expected" ] && ok_runway=$((ok_runway + 1))
  [ "$cliff" = "$expected" ] && ok_cliff=$((ok_cliff + 1))
  [ "$cog_v" = "$expected" ] && ok_cog=$((ok_cog + 1))
  printf '%-20s %-9s %-9s %-9s %-9s\n' "$name" "$expected" "$ours" "$cliff" "$cog_v"
  rm -rf "$work" "$logs"
done
echo
echo "matches expected: runway $ok_runway/$total, git-cliff $([ $have_cliff = 1 ] && echo "$ok_cliff/$total" || echo 'not installed'), cog $([ $have_cog = 1 ] && echo "$ok_cog/$total" || echo 'not installed')"
