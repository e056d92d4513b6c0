#!/usr/bin/env bash
# clairctl migrate against a fresh database made from $PG_DSN (created with psql, dropped after):
# version tables after the first run, nothing applied by a second run, exit codes 1 (database
# error, message names the schema) and 2 (config error). Needs $CLAIR_BIN_DIR/clairctl and psql.
set -u
bin="${CLAIR_BIN_DIR:-bin}/clairctl"
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/cc-migrate.XXXXXX")
db="clairctl_migrate_$$_$RANDOM"
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
cleanup() {
  [ -n "${PG_DSN:-}" ] && psql -q "$PG_DSN" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$bin" ]; then echo "FAIL clairctl not built at $bin"; echo "0 passed, 1 failed"; exit 1; fi
if [ -z "${PG_DSN:-}" ] || ! command -v psql >/dev/null; then
  echo "FAIL PG_DSN unset or psql missing"; echo "0 passed, 1 failed"; exit 1
fi

# PG_DSN is key=value or a URL; libpq lets a later dbname override either way only for key=value
case "$PG_DSN" in
  postgres://*|postgresql://*) dsn=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$PG_DSN" "$db") ;;
  *) dsn="$PG_DSN dbname=$db" ;;
esac
if psql -q "$PG_DSN" -c "CREATE DATABASE $db" >/dev/null 2>"$tmp/err"; then ok "create database"; else bad "create database"; cat "$tmp/err"; fi
q() { psql -qtA "$dsn" -c "$1" 2>/dev/null; }

cat >"$tmp/config.yaml" <<YAML
http_listen_addr: ":6060"
indexer:
  connstring: "$dsn"
matcher:
  connstring: "$dsn"
notifier:
  connstring: "$dsn"
  webhook:
    target: "http://example.invalid/notify"
    callback: "http://example.invalid/notifier/api/v1/notification/"
YAML

"$bin" -q -c "$tmp/config.yaml" migrate >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && grep -q '^indexer: applied' "$tmp/out" && grep -q '^matcher: applied' "$tmp/out" \
   && grep -q '^notifier: applied' "$tmp/out"; then ok "first run applies all three"; else bad "first run (rc=$rc)"; cat "$tmp/out" "$tmp/err"; fi

for t in libindex_migrations libvuln_migrations notifier_migrations; do
  v=$(q "SELECT max(version) FROM $t")
  if [ -n "$v" ] && [ "$v" -ge 1 ]; then ok "$t version $v"; else bad "$t version '$v'"; fi
done
v=$(q "SELECT max(version) FROM libvuln_migrations")
if [ "$v" = 2 ]; then ok "matcher at latest (2)"; else bad "matcher version '$v'"; fi
n=$(q "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('manifest','vuln','notification')")
if [ "$n" = 3 ]; then ok "schema tables exist"; else bad "schema tables ($n of 3)"; fi

before=$(q "SELECT (SELECT count(*) FROM libindex_migrations)+(SELECT count(*) FROM libvuln_migrations)+(SELECT count(*) FROM notifier_migrations)")
"$bin" -q -c "$tmp/config.yaml" migrate >"$tmp/out" 2>"$tmp/err"; rc=$?
after=$(q "SELECT (SELECT count(*) FROM libindex_migrations)+(SELECT count(*) FROM libvuln_migrations)+(SELECT count(*) FROM notifier_migrations)")
if [ $rc -eq 0 ] && [ "$(grep -c 'up to date' "$tmp/out")" = 3 ] && ! grep -q applied "$tmp/out" && [ "$before" = "$after" ]; then
  ok "second run applies nothing"; else bad "second run (rc=$rc, rows $before -> $after)"; cat "$tmp/out" "$tmp/err"; fi

# indexer only: the matcher and notifier are not touched
cat >"$tmp/indexer-only.yaml" <<YAML
indexer:
  connstring: "$dsn"
YAML
"$bin" -q -c "$tmp/indexer-only.yaml" migrate >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && grep -q '^indexer: up to date' "$tmp/out" && ! grep -q '^matcher\|^notifier' "$tmp/out"; then
  ok "only configured schemas"; else bad "indexer only (rc=$rc)"; cat "$tmp/out" "$tmp/err"; fi

# database error: exit 1, message names the schema
cat >"$tmp/bad-db.yaml" <<YAML
indexer:
  connstring: "host=127.0.0.1 port=1 dbname=nope user=nope connect_timeout=2"
YAML
"$bin" -q -c "$tmp/bad-db.yaml" migrate >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 1 ] && grep -q 'indexer' "$tmp/err"; then ok "database error exits 1 naming the schema"; else bad "database error (rc=$rc)"; cat "$tmp/err"; fi

# config errors: exit 2
printf 'matcher:\n  period: 6x\n' >"$tmp/broken.yaml"
"$bin" -q -c "$tmp/broken.yaml" migrate >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ]; then ok "invalid config exits 2"; else bad "invalid config (rc=$rc)"; fi
"$bin" -q -c "$tmp/missing.yaml" migrate >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ]; then ok "missing config exits 2"; else bad "missing config (rc=$rc)"; fi
printf 'log_level: info\n' >"$tmp/nodb.yaml"
"$bin" -q -c "$tmp/nodb.yaml" migrate >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q 'names no database' "$tmp/err"; then ok "no connstring exits 2"; else bad "no connstring (rc=$rc)"; cat "$tmp/err"; fi
"$bin" -c "$tmp/config.yaml" migrate extra >/dev/null 2>&1; rc=$?
if [ $rc -eq 2 ]; then ok "extra argument exits 2"; else bad "extra argument (rc=$rc)"; fi
"$bin" --help 2>&1 | grep -q '^  migrate'; rc=$?
if [ $rc -eq 0 ]; then ok "listed in --help"; else bad "not in --help"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
