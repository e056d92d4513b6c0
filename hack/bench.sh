#!/usr/bin/env bash
# make bench: benchmarks printed as ratios against baselines measured in the same run.
#
# http: requests/s and p99 latency of an authenticated trivial route of `clair` (combo mode,
#   GET /indexer/api/v1/index_state with a PSK JWT) under 64 concurrent keep-alive clients (wrk),
#   next to nginx from Debian serving a static 200 on the same machine in the same run.
#   Targets: rps ratio >= 0.5, p99 < 5 ms, idle RSS of clair in combo mode < 20 MiB.
set -euo pipefail

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$SRC_DIR/bin}
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-64}
scratch=$(mktemp -d /tmp/clair-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  bash "$SRC_DIR/hack/pg.sh" destroy "$scratch/pg" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wrk output -> "rps p99_ms"
parse_wrk() {
  python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r'Requests/sec:\s+([\d.]+)', t).group(1))
m = re.search(r'^\s+99%\s+([\d.]+)(us|ms|s)\s*$', t, re.M)
v, u = float(m.group(1)), m.group(2)
p99 = v / 1000 if u == 'us' else (v * 1000 if u == 's' else v)
non2xx = re.search(r'Non-2xx or 3xx responses:\s+(\d+)', t)
print(rps, p99, non2xx.group(1) if non2xx else 0)
PY
}

bash "$SRC_DIR/hack/pg.sh" start "$scratch/pg" >/dev/null
. "$scratch/pg/env"

# --- nginx baseline
nport=$(free_port)
mkdir -p "$scratch/nginx"
cat > "$scratch/nginx/nginx.conf" <<NGX
worker_processes auto;
daemon off;
pid $scratch/nginx/nginx.pid;
error_log $scratch/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $scratch/nginx/body;
  proxy_temp_path $scratch/nginx/proxy;
  fastcgi_temp_path $scratch/nginx/fastcgi;
  uwsgi_temp_path $scratch/nginx/uwsgi;
  scgi_temp_path $scratch/nginx/scgi;
  server {
    listen 127.0.0.1:$nport;
    location / { default_type application/json; return 200 '{"state":"baseline"}'; }
  }
}
NGX
nginx -c "$scratch/nginx/nginx.conf" -p "$scratch/nginx" &
pids+=($!)

# --- clair
cport=$(free_port); iport=$(free_port)
psk=$(head -c 32 /dev/urandom | base64 -w0)
cat > "$scratch/config.yaml" <<YAML
http_listen_addr: "127.0.0.1:$cport"
introspection_addr: "127.0.0.1:$iport"
log_level: warn
indexer: {connstring: "$PG_DSN", migrations: true}
matcher: {connstring: "$PG_DSN", migrations: true}
auth: {psk: {key: "$psk", iss: ["quay"]}}
YAML
"$BIN/clair" -conf "$scratch/config.yaml" -mode combo 2>"$scratch/clair.log" &
cpid=$!
pids+=($cpid)
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$iport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$iport/readyz" >/dev/null || { echo "bench: clair not ready"; cat "$scratch/clair.log"; exit 1; }
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$nport/" >/dev/null 2>&1 && break; sleep 0.1; done

sleep 2
rss_kib=$(awk '/^VmRSS/ {print $2}' /proc/$cpid/status)

token=$(python3 - "$psk" <<'PY'
import base64, hashlib, hmac, json, sys, time
key = base64.b64decode(sys.argv[1])
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b'=')
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
now = int(time.time())
p = b(json.dumps({"iss": "quay", "exp": now + 3600}).encode())
s = b(hmac.new(key, h + b'.' + p, hashlib.sha256).digest())
print((h + b'.' + p + b'.' + s).decode())
PY
)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$cport/indexer/api/v1/index_state")
[ "$code" = 200 ] || { echo "bench: authenticated route answered $code"; exit 1; }

threads=2
wrk -t$threads -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$nport/" > "$scratch/nginx.wrk"
wrk -t$threads -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$cport/indexer/api/v1/index_state" > "$scratch/clair.wrk"
read -r n_rps n_p99 _ < <(parse_wrk "$scratch/nginx.wrk")
read -r c_rps c_p99 c_bad < <(parse_wrk "$scratch/clair.wrk")

python3 - "$n_rps" "$n_p99" "$c_rps" "$c_p99" "$c_bad" "$rss_kib" <<'PY'
import sys
n_rps, n_p99, c_rps, c_p99 = map(float, sys.argv[1:5])
c_bad, rss = int(sys.argv[5]), int(sys.argv[6])
ratio = c_rps / n_rps if n_rps else 0
ok = lambda b: "ok" if b else "MISSED"
print("bench http (64 keep-alive clients, authenticated GET /indexer/api/v1/index_state)")
print(f"  nginx static 200:  {n_rps:10.0f} req/s  p99 {n_p99:7.3f} ms")
print(f"  clair:             {c_rps:10.0f} req/s  p99 {c_p99:7.3f} ms  non-2xx {c_bad}")
print(f"  ratio clair/nginx rps: {ratio:.2f}  (target >= 0.50: {ok(ratio >= 0.5)})")
print(f"  clair p99: {c_p99:.3f} ms  (target < 5 ms: {ok(c_p99 < 5)})")
print(f"  clair idle RSS (combo): {rss/1024:.1f} MiB  (target < 20 MiB: {ok(rss < 20*1024)})")
PY
