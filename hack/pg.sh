#!/usr/bin/env bash
# A private, throwaway PostgreSQL in a scratch directory, on loopback and a random free port.
#
#   hack/pg.sh start DIR     initdb (if needed) and start; writes DIR/env (PG_PORT, PG_DSN)
#   hack/pg.sh stop DIR      fast shutdown (the data stays until DIR is removed)
#   hack/pg.sh restart DIR   stop and start again on the same port (tests use it)
#   hack/pg.sh kill DIR      immediate shutdown (simulates a crash)
#   hack/pg.sh dsn DIR       print the libpq connection string
#   hack/pg.sh destroy DIR   stop and remove the data directory and DIR
#
# As root, the server runs as the "postgres" system user (initdb refuses root); its data and
# socket then live in a private /tmp directory that user can reach, recorded in DIR/datadir.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|restart|kill|dsn|destroy DIR" >&2; exit 2; }

pgbin=""
for v in 17 16 15 14 13; do
  if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then pgbin="/usr/lib/postgresql/$v/bin"; break; fi
done
[ -n "$pgbin" ] || { echo "pg.sh: PostgreSQL server binaries not found (run hack/deps.sh)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

datadir() { cat "$dir/datadir" 2>/dev/null || true; }

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local d
  d=$(datadir)
  if [ -z "$d" ] || [ ! -f "$d/data/PG_VERSION" ]; then
    d=$(mktemp -d /tmp/clair-pg.XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$d"
    chmod 700 "$d"
    echo "$d" > "$dir/datadir"
    local pw
    pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    echo "$pw" > "$dir/pwfile"
    cp "$dir/pwfile" "$d/pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$d/pwfile"
    as_pg "$pgbin/initdb" -D "$d/data" -U postgres --pwfile="$d/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$(free_port)" > "$dir/port"
  fi
  local port pw
  port=$(cat "$dir/port")
  pw=$(cat "$dir/pwfile")
  as_pg "$pgbin/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $d -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { tail -20 "$d/server.log" >&2; exit 1; }
  if ! as_pg "$pgbin/psql" -h "$d" -p "$port" -U postgres -d postgres -tAc "select 1 from pg_database where datname='clair'" | grep -q 1; then
    as_pg "$pgbin/psql" -h "$d" -p "$port" -U postgres -d postgres -qc "create database clair" >/dev/null
  fi
  {
    echo "PG_PORT=$port"
    echo "PG_SOCKDIR=$d"
    echo "PG_DSN='host=127.0.0.1 port=$port user=postgres password=$pw dbname=clair sslmode=disable'"
  } > "$dir/env"
}

stop() {
  local d
  d=$(datadir)
  [ -n "$d" ] && [ -f "$d/data/postmaster.pid" ] || return 0
  as_pg "$pgbin/pg_ctl" -D "$d/data" -m "${1:-fast}" -w -t 60 stop >/dev/null 2>&1 || true
}

destroy() {
  stop immediate
  local d
  d=$(datadir)
  case "$d" in /tmp/clair-pg.*) rm -rf "$d" ;; esac
  rm -rf "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop fast ;;
  kill) stop immediate ;;
  restart) stop fast; start ;;
  dsn) . "$dir/env"; echo "$PG_DSN" ;;
  destroy) destroy ;;
  *) echo "usage: $0 start|stop|restart|kill|dsn|destroy DIR" >&2; exit 2 ;;
esac
