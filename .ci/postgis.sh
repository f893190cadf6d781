#!/usr/bin/env bash
# Brings up a local PostGIS for the demo and the tests, with its data in
# .pgdata/ of this checkout (ignored by git) on a port of its own, and prints
# the URL of its `postgres` database. Installs PostgreSQL and PostGIS with
# apt where they are missing. Safe to run again: it reuses a running cluster.
#
#   usage: .ci/postgis.sh [start|stop|url]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
data="$here/.pgdata"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

log() { echo "postgis: $*" >&2; }

pgbin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  echo "$d"
}

install() {
  local bin major
  bin=$(pgbin)
  if [ -z "$bin" ]; then
    log "installing PostgreSQL with apt"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    bin=$(pgbin)
  fi
  major=$(basename "$(dirname "$bin")")
  if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
    log "installing PostGIS for PostgreSQL $major with apt"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "postgresql-$major-postgis-3" >/dev/null
  fi
}

# as_pg runs a command as the cluster's owner (PostgreSQL refuses root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# port: the one this cluster runs on (postmaster.pid), else WATERLINE_PG_PORT, else
# the first free port from 55432 (another checkout's cluster may hold one).
port() {
  if [ -f "$data/postmaster.pid" ] && running; then sed -n 4p "$data/postmaster.pid"; return; fi
  if [ -n "${WATERLINE_PG_PORT:-}" ]; then echo "$WATERLINE_PG_PORT"; return; fi
  local p
  for p in $(seq 55432 55499); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "postgis: no free port in 55432-55499" >&2
  return 1
}

url() { echo "postgres://postgres@127.0.0.1:$(port)/postgres?sslmode=disable"; }

running() { as_pg "$(pgbin)/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
  install
  local bin
  bin=$(pgbin)
  if [ ! -f "$data/PG_VERSION" ]; then
    log "creating a cluster in $data"
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then chown postgres "$data"; fi
    chmod 700 "$data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  local port
  port=$(port)
  if ! running; then
    log "starting on port $port"
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
  fi
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  url
}

stop() {
  if [ -f "$data/PG_VERSION" ] && running; then
    as_pg "$(pgbin)/pg_ctl" -D "$data" -m fast stop >/dev/null
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) echo "usage: $0 [start|stop|url]" >&2; exit 2 ;;
esac
