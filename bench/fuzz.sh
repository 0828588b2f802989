#!/usr/bin/env bash
# Runs each fuzz target in fuzz/ for a short while (default 30 s each).
#
#   bench/fuzz.sh [seconds-per-target]
#
# Needs a nightly toolchain and `cargo install cargo-fuzz`. Without them it says so
# and runs the bounded property test that feeds random and mutated bytes to the
# same decoders (`mcp::wire::tests::random_and_mutated_bytes_never_panic_the_decoders`).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
if cargo +nightly fuzz --version >/dev/null 2>&1; then
  for target in sse jsonrpc_body; do
    echo "==> fuzz $target for ${secs}s" >&2
    (cd fuzz && cargo +nightly fuzz run "$target" -- -max_total_time="$secs" -max_len=65536)
  done
else
  echo "cargo-fuzz (nightly) is not installed: running the property test instead" >&2
  echo "install it with: rustup toolchain install nightly && cargo install cargo-fuzz" >&2
  cargo test -p runway-verify --lib mcp::wire::tests::random_and_mutated_bytes_never_panic_the_decoders
fi
