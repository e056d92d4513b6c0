#!/usr/bin/env bash
# A TEST DOUBLE of the Kubernetes API server on loopback (see hack/kube-apiserver/README.md).
#
#   hack/kube-apiserver.sh start DIR [--minor N] [--persist] [--token T] [--deployment-delay S]
#        start in the background (HTTP + TLS listeners, CA and serving cert made by openssl in
#        DIR), wait until it answers, and write DIR/kubeconfig (TLS, token, CA) and DIR/env
#        (KUBE_HTTP_URL, KUBE_HTTPS_URL, KUBE_TOKEN, KUBE_CA_FILE, KUBECONFIG, KUBE_MINOR).
#        A restart on the same DIR reuses the ports, token and certificates; with --persist the
#        objects survive too (DIR/state.json).
#   hack/kube-apiserver.sh stop DIR      stop it (SIGTERM; state is saved with --persist)
#   hack/kube-apiserver.sh restart DIR [options]
#   hack/kube-apiserver.sh run DIR [options]   run in the foreground
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
server="$here/kube-apiserver/server.py"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
  echo "usage: $0 start|stop|restart|run DIR [--minor N] [--persist] [--token T]" >&2; exit 2; }
shift 2

# alive and not a zombie (an exited server may wait a while for init to reap it)
alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# our server, not another process that reused the pid
ours() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q "kube-apiserver/server.py"
}

stop() {
  local pidf="$dir/pid"
  [ -f "$pidf" ] || return 0
  local pid
  pid=$(cat "$pidf")
  if alive "$pid" && ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      alive "$pid" || break
      sleep 0.05
    done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidf"
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/pid" ] && alive "$(cat "$dir/pid")" && ours "$(cat "$dir/pid")"; then
    echo "kube-apiserver.sh: already running in $dir (pid $(cat "$dir/pid"))" >&2; return 1
  fi
  rm -f "$dir/pid" "$dir/ready"
  # a new start rewrites env; keep the old one only as a hint for the ports
  nohup "$py" "$server" --dir "$dir" "$@" >>"$dir/server.log" 2>&1 </dev/null &
  local pid=$!
  for _ in $(seq 1 300); do
    if ! alive "$pid"; then
      echo "kube-apiserver.sh: server exited; see $dir/server.log" >&2
      tail -20 "$dir/server.log" >&2 || true
      return 1
    fi
    if [ -f "$dir/pid" ] && [ "$(cat "$dir/pid")" = "$pid" ] && [ -f "$dir/env" ]; then
      # shellcheck disable=SC1091
      url=$(. "$dir/env"; echo "$KUBE_HTTP_URL")
      if "$py" -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1]+"/readyz", timeout=2).read()' "$url" 2>/dev/null; then
        echo "kube-apiserver.sh: ready (pid $pid); source $dir/env"
        return 0
      fi
    fi
    sleep 0.1
  done
  echo "kube-apiserver.sh: server did not answer in 30s" >&2
  kill -TERM "$pid" 2>/dev/null || true
  return 1
}

case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  restart) stop; start "$@" ;;
  run) exec "$py" "$server" --dir "$dir" "$@" ;;
  *) echo "usage: $0 start|stop|restart|run DIR [options]" >&2; exit 2 ;;
esac
