#!/usr/bin/env bash
# bin/clair-controller through its command line: exit codes 0 (help, version, dry run),
# 1 (no Kubernetes configuration), 2 (bad flags), and the dry-run JSON line.
set -u
bin="${CLAIR_BIN_DIR:-bin}/clair-controller"
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ctl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() { # name want_rc [grep-pattern stream] -- args...
  local name=$1 want=$2 pat=$3 stream=$4; shift 5
  env -u KUBECONFIG -u KUBERNETES_SERVICE_HOST "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL $name: exit $rc, want $want"; cat "$tmp/err"; failed=$((failed + 1)); return
  fi
  if [ -n "$pat" ] && ! grep -q -e "$pat" "$tmp/$stream"; then
    echo "FAIL $name: $stream lacks $pat"; cat "$tmp/$stream"; failed=$((failed + 1)); return
  fi
  echo "ok   $name"; passed=$((passed + 1))
}

if [ ! -x "$bin" ]; then echo "FAIL: $bin not built"; echo "0 passed, 1 failed"; exit 1; fi

check help 0 '--leader-election-id' out -- --help
check help-short 0 '--resync-period' out -- -h
check version 0 '^clair-controller ' out -- --version
check no-config 1 'not in a cluster' err --
check bad-kubeconfig 1 'kubeconfig' err -- --kubeconfig=/nonexistent/kubeconfig
check bad-flag 2 'unknown flag "--nope"' err -- --nope
check bad-duration 2 'resync-period' err -- --resync-period=5
check bad-level 2 'log-level' err -- --log-level=verbose
check bad-addr 2 'metrics-addr' err -- --metrics-addr=nohost
check dry-run 0 '"msg":"effective options"' err -- --dry-run --namespace=clair --resync-period=90s
if command -v python3 >/dev/null; then
  if python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).readline()); assert j["namespace"]=="clair" and j["resync_period_ms"]==90000 and j["metrics_addr"]==":8090" and j["leader_elect"] is False and j["kubeconfig"] is None' "$tmp/err"; then
    echo "ok   dry-run-json"; passed=$((passed + 1))
  else
    echo "FAIL dry-run-json"; cat "$tmp/err"; failed=$((failed + 1))
  fi
fi
KUBECONFIG=/k/config "$bin" --dry-run --log-level=error 2>"$tmp/err" >/dev/null
if [ $? -eq 0 ] && grep -q '"kubeconfig":"/k/config"' "$tmp/err"; then
  echo "ok   dry-run-env"; passed=$((passed + 1))
else
  echo "FAIL dry-run-env"; cat "$tmp/err"; failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
