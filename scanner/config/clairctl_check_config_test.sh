#!/usr/bin/env bash
# clairctl check-config on the seed configs (exit 0, effective JSON) and on broken files
# (exit 2, message names file:line). Needs $CLAIR_BIN_DIR/clairctl; seeds from $SHARED_DIR.
set -u
bin="${CLAIR_BIN_DIR:-bin}/clairctl"
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/cc-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

if [ ! -x "$bin" ]; then echo "FAIL clairctl not built at $bin"; echo "0 passed, 1 failed"; exit 1; fi

if [ -n "${SHARED_DIR:-}" ]; then
  for f in "$SHARED_DIR"/seeds/configs/*.yaml; do
    n=$(basename "$f")
    "$bin" check-config "$f" >"$tmp/out.json" 2>"$tmp/err"; rc=$?
    if [ $rc -eq 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["matcher"]["period"]=="6h0m0s"; assert d["auth"].get("psk",{}).get("key","REDACTED")=="REDACTED"' "$tmp/out.json" \
       && grep -q '"path":"matcher.run"' "$tmp/err"; then ok "seed $n"; else bad "seed $n (rc=$rc)"; cat "$tmp/err"; fi
    "$bin" check-config --strict-config "$f" >/dev/null 2>"$tmp/err"; rc=$?
    if [ $rc -eq 2 ] && grep -q "$n:12: matcher.run" "$tmp/err"; then ok "strict $n"; else bad "strict $n (rc=$rc)"; fi
    "$bin" -q check-config -o yaml "$f" >"$tmp/out.yaml" 2>/dev/null; rc=$?
    if [ $rc -eq 0 ] && grep -q '^http_listen_addr: :8080' "$tmp/out.yaml"; then ok "yaml $n"; else bad "yaml $n (rc=$rc)"; fi
  done
else
  echo "skip seeds: SHARED_DIR unset"
fi

printf 'log_level: info\nmatcher:\n  period: 6x\n' >"$tmp/broken.yaml"
"$bin" check-config "$tmp/broken.yaml" >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q 'broken.yaml:3: matcher.period: invalid duration "6x"' "$tmp/err"; then ok "broken file"; else bad "broken file (rc=$rc)"; cat "$tmp/err"; fi

cp "$tmp/broken.yaml" "$tmp/config.yml"
"$bin" check-config "$tmp/config.yml" >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q 'unknown config kind ".yml"' "$tmp/err"; then ok ".yml rejected"; else bad ".yml (rc=$rc)"; fi

"$bin" check-config --mode matcher "$here/testdata/matcher-no-indexer.yaml" >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q 'matcher-no-indexer.yaml:1: matcher.indexer_addr' "$tmp/err"; then ok "matcher mode"; else bad "matcher mode (rc=$rc)"; fi

printf 'log_level: warn\n' >"$tmp/config.yaml"
(cd "$tmp" && "$bin" check-config >/dev/null 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok "default -c config.yaml"; else bad "default config (rc=$rc)"; fi
CLAIR_CONF="$tmp/broken.yaml" "$bin" check-config >/dev/null 2>&1; rc=$?
if [ $rc -eq 2 ]; then ok "CLAIR_CONF"; else bad "CLAIR_CONF (rc=$rc)"; fi

"$bin" --help >"$tmp/help" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q check-config "$tmp/help"; then ok "--help"; else bad "--help (rc=$rc)"; fi
"$bin" frobnicate >/dev/null 2>&1; rc=$?
if [ $rc -eq 2 ]; then ok "unknown command"; else bad "unknown command (rc=$rc)"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
