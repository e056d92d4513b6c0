#!/usr/bin/env bash
# A real OCI/Docker registry (Debian's docker-registry = Docker Distribution 2.8) on loopback,
# for tests that index real images (see hack/images/README.md).
#
# usage: hack/registry.sh start DIR         start on 127.0.0.1:<random free port>, storage under
#                                           DIR/data; waits for /v2/; writes DIR/env with
#                                           REGISTRY=127.0.0.1:PORT and REGISTRY_PID=PID
#        hack/registry.sh push DIR CACHE    push every image listed in CACHE/images.tsv (as built
#                                           by hack/images/build.sh) to REGISTRY/clairc/<image>:<tag>
#                                           with skopeo --preserve-digests (digests = the layout's)
#        hack/registry.sh stop DIR          stop the registry started in DIR (by its PID)
# Exit status 2 and a message naming the package when a tool is missing.
set -euo pipefail

say() { printf '[registry] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { say "missing tool: $1 (Debian package $2); see hack/deps.sh"; exit 2; }; }

running_pid() { # DIR -> prints the pid when DIR's registry is alive
  local p
  [ -f "$1/pid" ] || return 1
  p=$(cat "$1/pid")
  [ -n "$p" ] && [ -r "/proc/$p/comm" ] && [ "$(cat "/proc/$p/comm")" = docker-registry ] || return 1
  echo "$p"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd_start() {
  local dir=$1 port pid i try
  need docker-registry docker-registry
  need curl curl
  need python3 python3
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  if pid=$(running_pid "$dir"); then say "already running (pid $pid), $(cat "$dir/env" | head -1)"; return 0; fi
  for try in 1 2 3 4 5; do
    port=$(free_port)
    cat > "$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields: {service: registry}
storage:
  filesystem: {rootdirectory: $dir/data}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
  maintenance:
    uploadpurging: {enabled: false}
  redirect: {disable: true}
http:
  addr: 127.0.0.1:$port
  secret: clairc-test-registry-secret
  headers: {X-Content-Type-Options: [nosniff]}
EOF
    # own process, no inherited stdio (a caller's $(...) or pipe must not wait for it)
    docker-registry serve "$dir/config.yml" </dev/null >>"$dir/registry.log" 2>&1 &
    pid=$!
    echo "$pid" > "$dir/pid"
    for i in $(seq 1 100); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/")" = 200 ]; then
        printf 'REGISTRY=127.0.0.1:%s\nREGISTRY_PID=%s\n' "$port" "$pid" > "$dir/env"
        say "started pid $pid on 127.0.0.1:$port (storage $dir/data, log $dir/registry.log)"
        return 0
      fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    say "attempt $try on port $port failed; last log lines:"; tail -3 "$dir/registry.log" >&2 || true
  done
  rm -f "$dir/pid"
  say "could not start docker-registry"
  return 1
}

cmd_stop() {
  local dir=$1 pid i
  if ! pid=$(running_pid "$dir"); then rm -f "$dir/pid"; say "not running"; return 0; fi
  kill "$pid"
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$dir/pid"
  say "stopped pid $pid"
}

cmd_push() {
  local dir=$1 cache=$2 img tag repo n=0 t0
  need skopeo skopeo
  [ -f "$dir/env" ] || { say "no $dir/env: run start first"; return 1; }
  [ -f "$cache/images.tsv" ] || { say "no $cache/images.tsv: run hack/images/build.sh first"; return 1; }
  # shellcheck disable=SC1091
  . "$dir/env"
  t0=$(date +%s)
  while IFS=$'\t' read -r img tag repo; do
    [ -n "$img" ] || continue
    if ! skopeo copy -q --preserve-digests --dest-tls-verify=false \
        "oci:$cache/$img/oci:$tag" "docker://$REGISTRY/$repo:$tag" </dev/null >"$dir/push.log" 2>&1; then
      say "push of $img:$tag failed:"; tail -5 "$dir/push.log" >&2
      return 1
    fi
    n=$((n + 1))
  done < "$cache/images.tsv"
  say "pushed $n tags to $REGISTRY in $(( $(date +%s) - t0 ))s"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || { echo "usage: $0 start DIR" >&2; exit 2; }; cmd_start "$2" ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; cmd_stop "$2" ;;
  push) [ $# -eq 3 ] || { echo "usage: $0 push DIR CACHE_DIR" >&2; exit 2; }; cmd_push "$2" "$3" ;;
  *) echo "usage: $0 start DIR | push DIR CACHE_DIR | stop DIR" >&2; exit 2 ;;
esac
