#!/usr/bin/env bash
# PostgreSQL for the ledger tests: a private cluster in target/pg, listening on
# 127.0.0.1 only, with a `runway` user that may create databases (each test
# makes its own). Installs Debian's `postgresql` when it is missing, reuses a
# running cluster, and appends `export RUNWAY_TEST_PG_URL=...` to $RUNWAY_TEST_ENV.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pgdir="$root/target/pg"
: "${RUNWAY_TEST_ENV:=$root/target/test-env.sh}"
user=runway
password=runway-test-pw
db=runway_test

find_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; fi
}

bin=$(find_bin)
if [ -z "$bin" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "10-postgres: PostgreSQL is not installed and this is not root; install \`postgresql\` or set RUNWAY_SKIP_PG=1" >&2
    exit 1
  fi
  echo "10-postgres: installing PostgreSQL from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bin=$(find_bin)
fi

# As root, the server must run as `postgres`; otherwise as whoever we are.
if [ "$(id -u)" = 0 ]; then
  owner=postgres
  as_owner() { (cd / && runuser -u postgres -- "$@"); }
else
  owner=$(id -un)
  as_owner() { "$@"; }
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

mkdir -p "$pgdir"
chown "$owner" "$pgdir"
if ! as_owner test -w "$pgdir"; then
  # The checkout is somewhere `postgres` cannot reach (e.g. under /root): keep
  # the cluster in a directory of its own, one per checkout.
  pgdir="/var/tmp/runway-pg-$(printf '%s' "$root" | md5sum | cut -c1-12)"
  mkdir -p "$pgdir"
  chown "$owner" "$pgdir"
fi
data="$pgdir/data"
sock="$pgdir/sock"
if [ ! -f "$data/PG_VERSION" ]; then
  as_owner mkdir -p "$sock"
  as_owner "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 \
    || { cat "$pgdir/initdb.log" >&2; exit 1; }
fi

if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1 && [ -f "$pgdir/port" ]; then
  port=$(cat "$pgdir/port")
else
  port=$(free_port)
  echo "$port" > "$pgdir/port"
  # 200 concurrent writers each hold a connection: raise the default limit of 100.
  as_owner "$bin/pg_ctl" -D "$data" -l "$pgdir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$sock -c max_connections=400" \
    start >/dev/null || { tail -n 20 "$pgdir/server.log" >&2; exit 1; }
fi

psql_admin() { as_owner "$bin/psql" -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != 1 ]; then
  psql_admin -c "CREATE ROLE $user LOGIN CREATEDB PASSWORD '$password'"
fi
# Tests drop their scratch databases `WITH (FORCE)`, which must be allowed to end
# an autovacuum worker that happens to be in one (it runs as no role).
psql_admin -c "GRANT pg_signal_backend TO $user" 2>/dev/null
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE $db OWNER $user"
fi

mkdir -p "$(dirname "$RUNWAY_TEST_ENV")"
echo "export RUNWAY_TEST_PG_URL=postgres://$user:$password@127.0.0.1:$port/$db" >> "$RUNWAY_TEST_ENV"
echo "10-postgres: PostgreSQL on 127.0.0.1:$port (data in $pgdir)" >&2
