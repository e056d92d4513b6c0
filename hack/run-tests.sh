#!/usr/bin/env bash
# Runs every test and prints one closing line "N passed, N failed" (exit 1 if any failed).
#
# Test kinds, all discovered, none listed by hand:
#   $BUILD/tests/**/*_test     cmocka binaries built from every *_test.c (make tests-build)
#   **/*_test.sh, *_test.py    script tests under hack/ e2e/ scanner/ controller/; each prints its
#                              own closing "N passed, N failed" line
# Every test gets: PG_DSN and PG_DIR (a private PostgreSQL started here, hack/pg.sh restart
# "$PG_DIR" restarts it), CLAIR_BIN_DIR, SRC_DIR, SHARED_DIR (../shared when present), TEST_TMPDIR.
# Usage: hack/run-tests.sh [e2e]   (filter: only tests whose path contains the word)
set -uo pipefail

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC_DIR"
BUILD=${BUILD:-build/rel}
BIN=${BIN:-bin}
filter=${1:-}

export SRC_DIR
export CLAIR_BIN_DIR="$SRC_DIR/$BIN"
# tests that measure memory loosen their bounds for sanitizer builds (make test SAN=1)
case "$BUILD" in *san*) export CLAIR_SANITIZED=1 ;; *) unset CLAIR_SANITIZED ;; esac
if [ -d "$SRC_DIR/../shared" ]; then export SHARED_DIR=$(cd "$SRC_DIR/../shared" && pwd); else export SHARED_DIR=""; fi
scratch=$(mktemp -d /tmp/clair-test.XXXXXX)
export TEST_TMPDIR="$scratch"
export PG_DIR="$scratch/pg"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

cleanup() {
  bash "$SRC_DIR/hack/pg.sh" destroy "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT INT TERM

if ! bash "$SRC_DIR/hack/pg.sh" start "$PG_DIR"; then
  echo "run-tests: could not start PostgreSQL"; echo "0 passed, 1 failed"; exit 1
fi
. "$PG_DIR/env"
export PG_DSN

passed=0
failed=0
ran=0
failed_names=()

add_result() { # name passed failed
  passed=$((passed + $2))
  failed=$((failed + $3))
  if [ "$3" -gt 0 ]; then failed_names+=("$1"); fi
}

run_one() { # name cmd...
  local name=$1; shift
  local log="$scratch/$(echo "$name" | tr '/' '_').log"
  local t0=$(date +%s)
  # stdin is /dev/null: the test lists below are read from stdin, and a test (or a server it
  # starts) that reads stdin would silently swallow the tests after it
  timeout -k 10 900 "$@" >"$log" 2>&1 </dev/null
  local rc=$?
  local p f
  if grep -q '^\[==========\]' "$log"; then
    # cmocka: sum the PASSED and FAILED summaries of every group in the binary
    p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
    f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{s+=$4} END {print s+0}')
  else
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
    p=$(echo "$line" | awk '{print $1+0}')
    f=$(echo "$line" | awk '{print $3+0}')
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crash, sanitizer report, timeout
  printf '%-60s %4d passed %4d failed  (%ss)\n' "$name" "$p" "$f" "$(( $(date +%s) - t0 ))"
  if [ "$f" -gt 0 ]; then
    echo "----- $name (exit $rc) -----"; tail -60 "$log"; echo "-----"
  fi
  add_result "$name" "$p" "$f"
  ran=$((ran + 1))
}

while IFS= read -r t; do
  [ -n "$t" ] || continue
  name=${t#"$BUILD/tests/"}
  [ -z "$filter" ] || [[ "$name" == *"$filter"* ]] || continue
  run_one "$name" "$t"
done < <(find "$BUILD/tests" -type f -name '*_test' -perm -u+x 2>/dev/null | sort)

while IFS= read -r t; do
  [ -n "$t" ] || continue
  [ -z "$filter" ] || [[ "$t" == *"$filter"* ]] || continue
  case "$t" in
    *.sh) run_one "$t" bash "$t" ;;
    *.py) run_one "$t" python3 "$t" ;;
  esac
done < <(find hack e2e scanner controller common \( -name '*_test.sh' -o -name '*_test.py' \) 2>/dev/null | sort)

echo "ran $ran test programs"
if ((${#failed_names[@]})); then echo "failing: ${failed_names[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
