# Shared by bench/release-peers.sh and bench/release-speed.sh (sourced, not run).

# Pinned identity and dates: the fixture repositories are the same everywhere.
pin_git_env() {
  export GIT_AUTHOR_NAME="Runway Fixture" GIT_AUTHOR_EMAIL="fixture@runway.invalid"
  export GIT_COMMITTER_NAME="Runway Fixture" GIT_COMMITTER_EMAIL="fixture@runway.invalid"
  export GIT_AUTHOR_DATE="@1700000000 +0000" GIT_COMMITTER_DATE="@1700000000 +0000"
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export SOURCE_DATE_EPOCH=1768176000 NO_COLOR=1
}

# Installs a peer with `cargo install --locked` into target/peers unless it is already there.
# $1 crate, $2 binary, rest: extra cargo install flags.
install_peer() {
  local crate=$1 bin=$2
  shift 2
  if command -v "$bin" >/dev/null 2>&1; then
    return 0
  fi
  if [ "${NO_INSTALL:-0}" = 1 ]; then
    echo "warning: $bin is not installed and NO_INSTALL=1; skipping it" >&2
    return 1
  fi
  echo "==> installing $crate into $PEERS (cargo install --locked; this takes a while once)" >&2
  if ! CARGO_TARGET_DIR="$PEERS/build" cargo install --locked --root "$PEERS" "$@" "$crate" >"$PEERS/install-$crate.log" 2>&1; then
    echo "warning: could not install $crate; see $PEERS/install-$crate.log" >&2
    return 1
  fi
}

# Builds Runway in release mode in its own target directory (does not disturb the dev build);
# RUNWAY=/path/to/runway skips the build.
build_runway() {
  if [ -n "${RUNWAY:-}" ] && [ -x "$RUNWAY" ]; then
    return 0
  fi
  echo "==> cargo build --release -p runway (target/bench)" >&2
  cargo build --release --locked -q -p runway --target-dir "$ROOT/target/bench"
  RUNWAY="$ROOT/target/bench/release/runway"
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }
