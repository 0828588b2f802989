#!/usr/bin/env bash
# A private Docker engine for the docker target's tests: Debian's `docker.io`
# (dockerd, containerd, runc) and `docker-registry`, installed when missing.
# The daemon runs with its own socket, data root and exec root under
# target/docker (or /var/tmp when that path is too long for a unix socket), and
# with no bridge, no iptables and no masquerading: containers run on the host
# network only, so every address stays on 127.0.0.1. Reuses our daemon when it
# is already running; appends `export DOCKER_HOST=unix://...` and
# `export RUNWAY_TEST_DOCKER_REGISTRY=...` (the registry binary, which each test
# starts itself on 127.0.0.1) to $RUNWAY_TEST_ENV.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
: "${RUNWAY_TEST_ENV:=$root/target/test-env.sh}"

have_all() {
  [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/containerd ] && [ -x /usr/sbin/runc ] &&
    [ -x /usr/bin/docker-registry ]
}

if ! have_all; then
  if [ "$(id -u)" != 0 ]; then
    echo "30-docker: Docker is not installed and this is not root; install Debian's \`docker.io\` and \`docker-registry\`" >&2
    exit 1
  fi
  echo "30-docker: installing Debian's docker.io and docker-registry" >&2
  # Keep the packages' own services from starting during the install: the
  # system daemon would create a `docker0` bridge. Only our private daemon runs.
  policy=/usr/sbin/policy-rc.d
  placed_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    placed_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io docker-registry >/dev/null
  if [ "$placed_policy" = 1 ]; then rm -f "$policy"; fi
  have_all || { echo "30-docker: the install did not provide dockerd, containerd, runc and docker-registry" >&2; exit 1; }
fi

# containerd's sockets live under the exec root, with a longer tail than
# docker.sock: keep the whole directory short enough for a unix socket path.
dir="$root/target/docker"
if [ "${#dir}" -gt 60 ]; then
  dir="/var/tmp/runway-docker-$(printf '%s' "$root" | md5sum | cut -c1-12)"
fi
sock="$dir/docker.sock"
pidfile="$dir/docker.pid"
mkdir -p "$dir"

ping() {
  # The engine's `/_ping` over its socket; python3 is on every machine that runs
  # the other setup steps, and the Docker CLI in PATH may not be Debian's.
  python3 - "$sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.connect(sys.argv[1])
    s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
    data = s.recv(4096)
except OSError:
    sys.exit(1)
status = data.split(b"\r\n", 1)[0].split()
sys.exit(0 if len(status) >= 2 and status[1] == b"200" else 1)
EOF
}

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && ping
}

if running; then
  echo "30-docker: reusing dockerd (pid $(cat "$pidfile")) on $sock" >&2
else
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    # Ours, but not answering: give it a moment before starting another.
    for _ in $(seq 1 20); do ping && break; sleep 0.5; done
  fi
  if ! running; then
    rm -f "$sock" "$pidfile"
    # Our own (empty) daemon.json: the system's /etc/docker/daemon.json, if
    # any, must not add a bridge or clash with these flags.
    echo '{}' > "$dir/daemon.json"
    setsid nohup /usr/sbin/dockerd \
      --config-file "$dir/daemon.json" \
      --host "unix://$sock" \
      --data-root "$dir/data" \
      --exec-root "$dir/exec" \
      --pidfile "$pidfile" \
      --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
      </dev/null >"$dir/dockerd.log" 2>&1 &
    ok=0
    for _ in $(seq 1 120); do
      if running; then ok=1; break; fi
      sleep 0.5
    done
    if [ "$ok" != 1 ]; then
      echo "30-docker: dockerd did not answer on $sock within 60 s; its log ends:" >&2
      tail -n 30 "$dir/dockerd.log" >&2
      exit 1
    fi
    echo "30-docker: dockerd (pid $(cat "$pidfile")) on $sock (data in $dir)" >&2
  fi
fi

# A bridge would mean a daemon with default networking runs on this machine.
if [ -e /sys/class/net/docker0 ]; then
  echo "30-docker: a \`docker0\` bridge exists; Runway's tests never create one (another dockerd runs with default networking)" >&2
  exit 1
fi

mkdir -p "$(dirname "$RUNWAY_TEST_ENV")"
{
  echo "export DOCKER_HOST=unix://$sock"
  echo "export RUNWAY_TEST_DOCKER_REGISTRY=/usr/bin/docker-registry"
} >> "$RUNWAY_TEST_ENV"
