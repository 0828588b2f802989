#!/usr/bin/env bash
# Package indexes for `runway release verify-artifacts`'s tests
# (crates/runway/tests/cli/release_artifacts.rs): `pypiserver` from PyPI in a venv
# (with setuptools, so a test builds its wheel offline with
# `--no-build-isolation`) and `verdaccio` from npm, both under target/verify-artifacts (target/artifacts is what CI collects).
# Each test starts its own index on 127.0.0.1 with its own storage. Installs
# only what is missing; appends `export RUNWAY_TEST_PYPISERVER=...`,
# `RUNWAY_TEST_ARTIFACTS_PYTHON=...` and `RUNWAY_TEST_VERDACCIO=...` to
# $RUNWAY_TEST_ENV.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD/target/verify-artifacts"
: "${RUNWAY_TEST_ENV:=$PWD/target/test-env.sh}"
PYPISERVER_VERSION="${RUNWAY_TEST_PYPISERVER_VERSION:-2.4.2}"
SETUPTOOLS_VERSION="${RUNWAY_TEST_SETUPTOOLS_VERSION:-80.9.0}"
# 6.10 wants Node 22; 6.8.0 runs on Node 20 once node-fetch is held at 2.7.0.
VERDACCIO_VERSION="${RUNWAY_TEST_VERDACCIO_VERSION:-6.8.0}"
mkdir -p "$root"

if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "60-artifacts: installing python3-venv" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
  else
    echo "60-artifacts: python3 cannot create venvs; install python3-venv" >&2
    exit 1
  fi
fi

py="$root/pypi"
stamp="$py/.installed-$PYPISERVER_VERSION-$SETUPTOOLS_VERSION"
if [ ! -f "$stamp" ]; then
  echo "60-artifacts: creating $py with pypiserver==$PYPISERVER_VERSION" >&2
  rm -rf "$py"
  python3 -m venv "$py"
  "$py/bin/pip" install --quiet --disable-pip-version-check \
    "pypiserver==$PYPISERVER_VERSION" "setuptools==$SETUPTOOLS_VERSION" >&2
  touch "$stamp"
fi
"$py/bin/python" -c 'import pypiserver, setuptools' || {
  echo "60-artifacts: $py cannot import pypiserver and setuptools; delete it and run again" >&2
  exit 1
}

command -v npm >/dev/null || { echo "60-artifacts: npm is not installed; install Debian's \`npm\`" >&2; exit 1; }
node_dir="$root/verdaccio"
if [ ! -f "$node_dir/.installed-$VERDACCIO_VERSION" ]; then
  echo "60-artifacts: installing verdaccio@$VERDACCIO_VERSION into $node_dir" >&2
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  cat > "$node_dir/package.json" <<JSON
{
  "name": "runway-test-verdaccio",
  "private": true,
  "dependencies": { "verdaccio": "$VERDACCIO_VERSION" },
  "overrides": { "node-fetch": "2.7.0" }
}
JSON
  npm install --silent --no-audit --no-fund --prefix "$node_dir" >&2
  touch "$node_dir/.installed-$VERDACCIO_VERSION"
fi
verdaccio="$node_dir/node_modules/verdaccio/bin/verdaccio"
[ -f "$verdaccio" ] || { echo "60-artifacts: $verdaccio is missing; delete $node_dir and run again" >&2; exit 1; }

mkdir -p "$(dirname "$RUNWAY_TEST_ENV")"
{
  echo "export RUNWAY_TEST_PYPISERVER=$py/bin/pypi-server"
  echo "export RUNWAY_TEST_ARTIFACTS_PYTHON=$py/bin/python"
  echo "export RUNWAY_TEST_VERDACCIO=$verdaccio"
} >> "$RUNWAY_TEST_ENV"
