#!/usr/bin/env bash
# Peer MCP servers for the interoperability suite (crates/runway-verify/tests/interop.rs):
# the TypeScript reference server `@modelcontextprotocol/server-everything` (npm), a
# Python venv with the `mcp` 2.x SDK (speaks 2026-07-28 and the session era) and one
# with `mcp` 1.x (FastMCP, session era only), one with `mcp` 1.9.x (an older SDK whose
# stdio server dies on a method it does not know, such as `server/discover`); and the MCP Inspector CLI
# (`@modelcontextprotocol/inspector`), a client `runway mcp`'s tests drive
# (crates/runway/tests/cli/mcp_clients.rs); and fastmcp 4.x (dual era, a venv of its
# own), for crates/runway-verify/tests/interop_fastmcp.rs. Installs only what is missing, into
# target/interop, and exports the paths through $RUNWAY_TEST_ENV.
set -euo pipefail
cd "$(dirname "$0")/../.."
EVERYTHING_VERSION="${RUNWAY_INTEROP_EVERYTHING_VERSION:-2026.8.31}"
MCP2_VERSION="${RUNWAY_INTEROP_MCP2_VERSION:-2.3.0}"
MCP1_VERSION="${RUNWAY_INTEROP_MCP1_VERSION:-1.30.0}"
MCP19_VERSION="${RUNWAY_INTEROP_MCP19_VERSION:-1.9.4}"
FASTMCP_VERSION="${RUNWAY_INTEROP_FASTMCP_VERSION:-4.2.3}"
INSPECTOR_VERSION="${RUNWAY_INTEROP_INSPECTOR_VERSION:-2.12.0}"
root="$PWD/target/interop"
mkdir -p "$root"

node_dir="$root/node"
everything="$node_dir/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
if [ ! -f "$node_dir/.installed-$EVERYTHING_VERSION" ]; then
  echo "interop: installing @modelcontextprotocol/server-everything@$EVERYTHING_VERSION" >&2
  mkdir -p "$node_dir"
  npm install --silent --no-audit --no-fund --prefix "$node_dir" \
    "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" >&2
  touch "$node_dir/.installed-$EVERYTHING_VERSION"
fi
if [ ! -f "$everything" ]; then
  everything="$(find "$node_dir/node_modules/@modelcontextprotocol/server-everything" -maxdepth 2 -name index.js | head -n1)"
fi

inspector_dir="$root/inspector"
inspector="$inspector_dir/node_modules/.bin/mcp-inspector"
if [ ! -f "$inspector_dir/.installed-$INSPECTOR_VERSION" ] || [ ! -x "$inspector" ]; then
  echo "interop: installing @modelcontextprotocol/inspector@$INSPECTOR_VERSION" >&2
  mkdir -p "$inspector_dir"
  npm install --silent --no-audit --no-fund --prefix "$inspector_dir" \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >&2
  touch "$inspector_dir/.installed-$INSPECTOR_VERSION"
fi

# Debian ships `venv` without `ensurepip` unless python3-venv is installed.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "interop: installing python3-venv" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
  else
    echo "interop: python3 cannot create venvs; install python3-venv" >&2
    exit 1
  fi
fi

venv() { # dir version [package [extra requirement...]]
  local dir="$1" version="$2" package="${3:-mcp}"
  shift 3 2>/dev/null || shift $#
  if [ ! -f "$dir/.installed-$version" ]; then
    echo "interop: creating $dir with $package==$version $*" >&2
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$package==$version" "$@" >&2
    touch "$dir/.installed-$version"
  fi
}
venv "$root/py-mcp2" "$MCP2_VERSION"
venv "$root/py-mcp1" "$MCP1_VERSION"
# mcp 1.9.x predates pydantic 2.12, which breaks its models at import.
venv "$root/py-mcp19" "$MCP19_VERSION" mcp "pydantic<2.12"
venv "$root/py-fastmcp" "$FASTMCP_VERSION" fastmcp

if [ -n "${RUNWAY_TEST_ENV:-}" ]; then
  {
    echo "export RUNWAY_INTEROP_NODE=$(command -v node)"
    echo "export RUNWAY_INTEROP_EVERYTHING=$everything"
    echo "export RUNWAY_INTEROP_PY_MCP2=$root/py-mcp2/bin/python"
    echo "export RUNWAY_INTEROP_PY_MCP1=$root/py-mcp1/bin/python"
    echo "export RUNWAY_INTEROP_PY_MCP19=$root/py-mcp19/bin/python"
    echo "export RUNWAY_INTEROP_PY_FASTMCP=$root/py-fastmcp/bin/python"
    echo "export RUNWAY_INTEROP_INSPECTOR=$inspector"
  } >> "$RUNWAY_TEST_ENV"
fi
