#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of the PostgreSQL log.
#
#   pg_cluster.sh start DIR   creates the cluster in DIR/data if missing,
#                             starts it and prints its URI (also in DIR/uri)
#   pg_cluster.sh stop DIR    stops it (the data stays: start brings it back)
#   pg_cluster.sh clean DIR   stops it and removes DIR
#
# The server listens on a Unix socket in DIR only (listen_addresses=''),
# with trust authentication: nothing outside the machine reaches it. It runs
# as the user `postgres` when started by root (PostgreSQL refuses root), so
# DIR and its parents must let that user in.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 start|stop|clean DIR" >&2
  exit 2
fi
action=$1
dir=$(realpath -m "$2")
data="$dir/data"

bindir=""
if command -v pg_config > /dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir=$(pg_config --bindir)
else
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg_cluster: no PostgreSQL server found (install the postgresql package)" >&2
  exit 1
fi

# As the owner of the cluster.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() {
  [ -f "$data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$data" status > /dev/null 2>&1
}

stop() {
  if running; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop > /dev/null
  fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres "$dir"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      # --no-sync: the cluster is thrown away; the server's own fsync
      # settings stay the defaults.
      as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C --no-sync > "$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
      }
    fi
    if ! running; then
      as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=200" \
        start > /dev/null || {
        tail -n 20 "$dir/server.log" >&2
        exit 1
      }
    fi
    uri="postgresql:///postgres?host=$dir&user=postgres"
    echo "$uri" > "$dir/uri"
    echo "$uri"
    ;;
  stop)
    stop
    ;;
  clean)
    stop
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop|clean DIR" >&2
    exit 2
    ;;
esac
