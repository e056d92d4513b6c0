#!/usr/bin/env bash
# Notifier benchmarks (issue 7, Benchmark); figures measured in one run on a private PostgreSQL.
#
# (a) generation: time from a new update operation that affects BENCH_MANIFESTS (10,000) indexed
#     manifests to all its notifications stored. One real image (Alpine 3.4's installed apk
#     database from $SHARED_DIR/testdata/pkgdb) is indexed by bin/clair (combo), its manifest rows
#     are cloned in SQL (generate_series, distinct digests); the real Alpine v3.4 SecDB sample is
#     served older (without the image's vulnerable packages) then newer (the full sample). Measured
#     from the new UO's date to its receipt being committed (the notifications, the receipt and
#     the notifier_update_operation row are stored in one transaction), with a breakdown and the
#     PostgreSQL statements that took the time; notifications stored per second.
# (b) delivery: BENCH_IDS (2,000) notification ids committed at once; bin/clair delivers one
#     webhook POST per id to a local ThreadingHTTPServer answering 200; deliveries/s, next to the
#     receiver's own capacity (wrk, same run; keep-alive and a new connection per POST, as clair
#     does). Then, as a diagnosis, the server-side SQL per delivery (statement logging on).
# Intervals: CLAIR_NOTIFIER_TEST_INTERVAL_MS=BENCH_INTERVAL_MS (100) replaces the 1-minute floor
# of poll_interval / delivery_interval, so the figures are the notifier's work, not its sleeping.
#
# Env: SHARED_DIR (default ../shared), BIN (default bin), BENCH_MANIFESTS, BENCH_IDS, BENCH_INTERVAL_MS.
set -euo pipefail

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
export BIN=${BIN:-$SRC_DIR/bin}
export SHARED_DIR=${SHARED_DIR:-$SRC_DIR/../shared}
scratch=$(mktemp -d /tmp/clair-bench-notifier.XXXXXX)
cleanup() {
  bash "$SRC_DIR/hack/pg.sh" destroy "$scratch/pg" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

[ -f "$SHARED_DIR/testdata/pkgdb/apk/alpine-3.4.installed" ] || { echo "bench_notifier: $SHARED_DIR/testdata not found (set SHARED_DIR)"; exit 1; }
[ -x "$BIN/clair" ] || { echo "bench_notifier: $BIN/clair missing (run make first)"; exit 1; }
for t in wrk psql python3; do command -v $t >/dev/null || { echo "bench_notifier: $t not installed"; exit 1; }; done

bash "$SRC_DIR/hack/pg.sh" start "$scratch/pg" >/dev/null
. "$scratch/pg/env"
export PG_DSN
export PG_LOG="$(cat "$scratch/pg/datadir" 2>/dev/null || echo "$scratch/pg")/server.log"
mkdir -p "$scratch/work"
# the helper stops its clair, web server and receiver itself (also on failure)
python3 "$SRC_DIR/hack/bench/notifier_bench.py" "$scratch/work"
