#!/usr/bin/env bash
# The main job on an embedded default: a private PostgreSQL in a scratch directory (random free
# port, torn down on exit) and `clair` in combo mode against it.
#   RUN_SECONDS=N   stop after N seconds (default: run until Ctrl-C / SIGTERM)
#   CLAIR_LISTEN / CLAIR_INTROSPECTION   override the addresses (default 127.0.0.1:<free port>)
set -euo pipefail

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$SRC_DIR/bin}
scratch=$(mktemp -d /tmp/clair-run.XXXXXX)
clair_pid=""

cleanup() {
  if [ -n "$clair_pid" ] && kill -0 "$clair_pid" 2>/dev/null; then
    kill -TERM "$clair_pid" 2>/dev/null || true
    wait "$clair_pid" 2>/dev/null || true
  fi
  bash "$SRC_DIR/hack/pg.sh" destroy "$scratch/pg" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

echo "run: starting a private PostgreSQL in $scratch/pg" >&2
bash "$SRC_DIR/hack/pg.sh" start "$scratch/pg"
. "$scratch/pg/env"

listen=${CLAIR_LISTEN:-127.0.0.1:$(free_port)}
intro=${CLAIR_INTROSPECTION:-127.0.0.1:$(free_port)}
psk=$(head -c 32 /dev/urandom | base64 -w0)

cat > "$scratch/config.yaml" <<YAML
http_listen_addr: "$listen"
introspection_addr: "$intro"
log_level: info
indexer:
  connstring: "$PG_DSN"
  migrations: true
matcher:
  connstring: "$PG_DSN"
  migrations: true
auth:
  psk:
    key: "$psk"
    iss: ["quay", "clairctl"]
metrics:
  name: prometheus
YAML

"$BIN/clair" -conf "$scratch/config.yaml" -mode combo &
clair_pid=$!

for _ in $(seq 1 200); do
  if curl -fs "http://$intro/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$clair_pid" 2>/dev/null; then echo "run: clair exited early" >&2; exit 1; fi
  sleep 0.1
done
curl -fs "http://$intro/readyz" >/dev/null || { echo "run: clair did not become ready" >&2; exit 1; }

cat <<MSG
clair is running in combo mode (pid $clair_pid)
  API:        http://$listen/   (PSK JWT required; the config is $scratch/config.yaml)
  metrics:    http://$intro/metrics
  health:     http://$intro/healthz   readiness: http://$intro/readyz
  PostgreSQL: 127.0.0.1:$PG_PORT (private, removed on exit)
Press Ctrl-C to stop.
MSG

if [ -n "${RUN_SECONDS:-}" ]; then
  sleep "$RUN_SECONDS" &
  wait $! || true
else
  wait "$clair_pid"
fi
