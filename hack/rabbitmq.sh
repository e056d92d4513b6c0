#!/usr/bin/env bash
# A private RabbitMQ (Debian's rabbitmq-server, with rabbitmq_stomp) on loopback, for tests.
#
#   hack/rabbitmq.sh start DIR     # prints nothing on success; writes DIR/env (below)
#   hack/rabbitmq.sh restart DIR   # same node, same ports, same data
#   hack/rabbitmq.sh stop DIR
#   hack/rabbitmq.sh destroy DIR   # stop and remove DIR
#
# DIR/env (sourceable) sets RABBITMQ_AMQP_PORT, RABBITMQ_STOMP_PORT, RABBITMQ_USER,
# RABBITMQ_PASS, RABBITMQ_AMQP_URI and the RABBITMQ_*/ERL_* variables of the node. Ports are
# random free ones (AMQP, STOMP, Erlang distribution and a private epmd), the node name is unique,
# so several brokers and a system one never clash. Runs as the calling user (root is fine: the
# Debian wrapper that switches to the rabbitmq user is bypassed).
# Needs: rabbitmq-server (Debian 12: 3.10.x, which ships the rabbitmq_stomp plugin).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|restart|destroy DIR" >&2
  exit 2
fi
RMQ_BIN=${RMQ_BIN:-/usr/lib/rabbitmq/bin}
if [ ! -x "$RMQ_BIN/rabbitmq-server" ]; then
  echo "rabbitmq.sh: $RMQ_BIN/rabbitmq-server not found (apt-get install rabbitmq-server)" >&2
  exit 1
fi

free_ports() { # n -> n distinct free loopback ports
  python3 - "$1" <<'EOF'
import socket, sys
socks, ports = [], []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s); ports.append(s.getsockname()[1])
print(" ".join(map(str, ports)))
EOF
}

write_config() {
  mkdir -p "$dir/mnesia" "$dir/log" "$dir/home"
  read -r amqp stomp dist epmd < <(free_ports 4)
  local node="clairtest$$x$RANDOM@localhost"
  echo '[rabbitmq_stomp].' >"$dir/enabled_plugins"
  cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$amqp
stomp.listeners.tcp.1 = 127.0.0.1:$stomp
stomp.default_user = guest
stomp.default_pass = guest
loopback_users = none
default_user = clair
default_pass = clair-secret
default_vhost = /
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $dist
distribution.listener.port_range.max = $dist
log.console = false
log.file.level = info
EOF
  cat >"$dir/env" <<EOF
export RABBITMQ_AMQP_PORT=$amqp
export RABBITMQ_STOMP_PORT=$stomp
export RABBITMQ_USER=clair
export RABBITMQ_PASS=clair-secret
export RABBITMQ_AMQP_URI=amqp://clair:clair-secret@127.0.0.1:$amqp/
export RABBITMQ_NODENAME=$node
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$amqp
export RABBITMQ_DIST_PORT=$dist
export ERL_EPMD_PORT=$epmd
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf
export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
export RABBITMQ_MNESIA_BASE=$dir/mnesia
export RABBITMQ_LOG_BASE=$dir/log
export RABBITMQ_PID_FILE=$dir/rabbitmq.pid
export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf
export HOME=$dir/home
EOF
  : >"$dir/rabbitmq-env.conf"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  [ -f "$dir/env" ] || write_config
  # shellcheck disable=SC1091
  . "$dir/env"
  if [ -f "$RABBITMQ_PID_FILE" ] && kill -0 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null; then
    return 0
  fi
  # the node writes its own pid file; the wrapper pid is kept for stop()
  setsid "$RMQ_BIN/rabbitmq-server" >>"$dir/log/console.log" 2>&1 </dev/null &
  echo $! >"$dir/wrapper.pid"
  for _ in $(seq 1 600); do
    if port_open "$RABBITMQ_AMQP_PORT" && port_open "$RABBITMQ_STOMP_PORT"; then
      return 0
    fi
    if ! kill -0 "$(cat "$dir/wrapper.pid")" 2>/dev/null; then
      echo "rabbitmq.sh: the broker exited; last log lines:" >&2
      tail -30 "$dir/log/console.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  echo "rabbitmq.sh: the broker did not open its ports within 60s" >&2
  tail -30 "$dir/log/console.log" >&2 || true
  exit 1
}

stop() {
  [ -f "$dir/env" ] || return 0
  # shellcheck disable=SC1091
  . "$dir/env"
  "$RMQ_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" stop >/dev/null 2>&1 || true
  if [ -f "$dir/wrapper.pid" ]; then
    local pid
    pid=$(cat "$dir/wrapper.pid")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$dir/wrapper.pid"
  fi
  for _ in $(seq 1 100); do port_open "$RABBITMQ_AMQP_PORT" || break; sleep 0.1; done
}

stop_epmd() {
  [ -f "$dir/env" ] || return 0
  # shellcheck disable=SC1091
  . "$dir/env"
  epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true
}

case "$cmd" in
  start) start ;;
  stop) stop; stop_epmd ;;
  restart) stop; start ;;
  destroy) stop; stop_epmd; rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop|restart|destroy DIR" >&2; exit 2 ;;
esac
