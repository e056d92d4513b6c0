#!/usr/bin/env bash
# End-to-end check of the test-image infrastructure: builds (or reuses) the image cache, starts
# Debian's docker-registry on loopback, pushes every image, then checks that every manifest
# resolves (with the layout's digest), every layer blob downloads with the right digest, and the
# expected package lists exist, are non-empty and say what the images are meant to contain.
# Installs nothing: a missing tool is named (with its Debian package) and counted as a failure.
# Env: CLAIR_IMAGE_CACHE (default /var/cache/clairc-test-images), TEST_TMPDIR.
# Last line: "N passed, N failed".
set -uo pipefail
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
CACHE=${CLAIR_IMAGE_CACHE:-/var/cache/clairc-test-images}
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

scratch=$(mktemp -d "${TEST_TMPDIR:-/tmp}/images-test.XXXXXX")
REG=$scratch/registry
cleanup() { bash "$SRC_DIR/hack/registry.sh" stop "$REG" >/dev/null 2>&1 || true; rm -rf "$scratch"; }
trap cleanup EXIT

# --- tools the test itself needs (build.sh checks the builders' own tools) ---
missing=""
for t in python3:python3 curl:curl docker-registry:docker-registry skopeo:skopeo; do
  command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t%%:*} (Debian package ${t#*:})"
done
if [ -n "$missing" ]; then
  bad "tools: missing:$missing — install them with hack/deps.sh"
  finish
fi
ok "tools present"

# --- 1. build or reuse the cache ---
t0=$(date +%s)
if bash "$SRC_DIR/hack/images/build.sh" "$CACHE" > "$scratch/build.log" 2>&1; then
  ok "build.sh ($(( $(date +%s) - t0 ))s, cache $CACHE)"
else
  rc=$?
  grep -E 'missing tool|needs root|cannot|FAILED|ERROR' "$scratch/build.log" | head -5
  tail -15 "$scratch/build.log"
  bad "build.sh exited $rc"
  finish
fi
[ -s "$CACHE/images.tsv" ] && ok "images.tsv lists $(wc -l < "$CACHE/images.tsv") tags" || { bad "images.tsv empty"; finish; }

# --- 2. cache entries and expected files ---
for img in debian zstd alpine rpm-sqlite rpm-bdb hostile; do
  d=$CACHE/$img
  if [ -s "$d/stamp" ] && [ -s "$d/oci/index.json" ] && [ -s "$d/tags" ]; then ok "$img: cache entry complete"
  else bad "$img: cache entry incomplete ($d)"; continue; fi
  while read -r tag; do
    [ -n "$tag" ] || continue
    case "$img" in
      debian|zstd) lists="dpkg" ;;
      alpine) lists="apk" ;;
      rpm-*) lists="rpm" ;;
      hostile) lists="" ;;
    esac
    for l in $lists; do
      [ -s "$d/expected/$tag.$l.tsv" ] && ok "$img:$tag expected $l list" || bad "$img:$tag expected/$tag.$l.tsv missing or empty"
    done
    if [ "$img" != hostile ]; then
      grep -q '^ID	' "$d/expected/$tag.os-release.tsv" 2>/dev/null && ok "$img:$tag expected os-release" \
        || bad "$img:$tag expected/$tag.os-release.tsv missing or without ID"
    fi
  done < "$d/tags"
done
E=$CACHE/debian/expected
has() { grep -q "^$2	" "$1" 2>/dev/null; }   # FILE NAME: a row for package NAME
has "$E/base.dpkg.tsv" tzdata && ! has "$E/ssl.dpkg.tsv" tzdata && has "$E/ssl.dpkg.tsv" openssl \
  && ok "debian: ssl layer removed tzdata and added openssl" || bad "debian: ssl layer contents"
has "$E/python.python.tsv" requests && has "$E/python.python.tsv" PyYAML \
  && ok "debian: python layer has requests and PyYAML metadata" || bad "debian: python metadata"
has "$E/python.python.tsv" six && ! has "$E/opaque.python.tsv" six \
  && ok "debian: opaque layer whiteout removed six" || bad "debian: six whiteout"
grep -q '^ID	debian$' "$E/base.os-release.tsv" && grep -q '^VERSION_ID	12$' "$E/base.os-release.tsv" \
  && ok "debian: os-release is Debian 12" || bad "debian: os-release"
cmp -s "$E/ssl.dpkg.tsv" "$CACHE/zstd/expected/ssl.dpkg.tsv" && ok "zstd: same packages as debian:ssl" || bad "zstd: expected list differs from debian:ssl"
for k in sqlite bdb; do
  R=$CACHE/rpm-$k/expected
  has "$R/base.rpm.tsv" zlib && ! has "$R/updated.rpm.tsv" zlib && has "$R/updated.rpm.tsv" libcurl \
    && grep -q '^openssl-libs	1:' "$R/updated.rpm.tsv" && [ -s "$R/base.content_manifest.json" ] \
    && ok "rpm-$k: updated layer erased zlib, added libcurl; epochs; content manifest" || bad "rpm-$k: rpm lists"
done
grep -q '^VERSION_ID	9' "$CACHE/rpm-sqlite/expected/base.os-release.tsv" && grep -q '^VERSION_ID	8' "$CACHE/rpm-bdb/expected/base.os-release.tsv" \
  && ok "rpm: RHEL 9 (sqlite) and RHEL 8 (bdb) os-release" || bad "rpm: os-release versions"
grep -q 'nodejs:16:' "$CACHE/rpm-bdb/expected/base.rpm.tsv" && ok "rpm-bdb: modularity label" || bad "rpm-bdb: modularity label"
A=$CACHE/alpine/expected
has "$A/base.apk.tsv" musl && ! has "$A/base.apk.tsv" python3 && has "$A/python.apk.tsv" python3 \
  && [ -s "$A/python.python.tsv" ] && grep -q '^ID	alpine$' "$A/base.os-release.tsv" \
  && ok "alpine: apk lists, python layer, os-release" || bad "alpine: expected lists"
H=$CACHE/hostile/expected
[ "$(wc -l < "$H/cases.tsv" 2>/dev/null)" -ge 9 ] && has "$H/traversal.dpkg.tsv" clairc-survivor \
  && [ "$(wc -l < "$H/big-status.dpkg.tsv")" -gt 250000 ] \
  && ok "hostile: cases.tsv and survivor lists" || bad "hostile: expected files"

# --- 3. registry: start, push ---
if bash "$SRC_DIR/hack/registry.sh" start "$REG" > "$scratch/reg.log" 2>&1 && [ -s "$REG/env" ]; then
  . "$REG/env"; ok "registry started on $REGISTRY"
else
  cat "$scratch/reg.log"; bad "registry start"; finish
fi
t0=$(date +%s)
if bash "$SRC_DIR/hack/registry.sh" push "$REG" "$CACHE" > "$scratch/push.log" 2>&1; then
  ok "push ($(( $(date +%s) - t0 ))s)"
else
  cat "$scratch/push.log"; bad "push"; finish
fi

# --- 4. every manifest resolves to the layout's digest, every blob has its digest ---
python3 - "$CACHE" "$REGISTRY" "$SRC_DIR/hack/images" > "$scratch/check.log" 2>&1 <<'EOF'
import hashlib, json, os, subprocess, sys, urllib.request
cache, registry, here = sys.argv[1:4]
sys.path.insert(0, here)
import oci
seen = {}
for line in open(os.path.join(cache, "images.tsv")):
    img, tag, repo = line.rstrip("\n").split("\t")
    want = {t: (d, m) for t, d, m, _ in oci.read_images(os.path.join(cache, img, "oci"))}
    name = f"{img}:{tag}"
    r = subprocess.run([sys.executable, os.path.join(here, "manifest.py"), registry, f"{repo}:{tag}"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {name}: manifest.py: {r.stderr.strip()[:300]}"); continue
    got = json.loads(r.stdout)
    wd, wm = want[tag]
    if got["hash"] != wd:
        print(f"FAIL {name}: registry digest {got['hash']} != layout {wd}"); continue
    if [l["hash"] for l in got["layers"]] != [l["digest"] for l in wm["layers"]]:
        print(f"FAIL {name}: layer list differs from the layout"); continue
    errs = []
    for l in got["layers"]:
        if l["hash"] in seen:
            if seen[l["hash"]]: errs.append(seen[l["hash"]])
            continue
        req = urllib.request.Request(l["uri"], headers={k: v[0] for k, v in l["headers"].items()})
        h = hashlib.sha256(); n = 0
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    h.update(chunk); n += len(chunk)
            err = "" if "sha256:" + h.hexdigest() == l["hash"] else f"blob {l['hash']} downloaded as sha256:{h.hexdigest()}"
        except Exception as e:
            err = f"blob {l['hash']}: {e}"
        seen[l["hash"]] = err
        if err: errs.append(err)
    if errs:
        print(f"FAIL {name}: {'; '.join(errs)[:300]}")
    else:
        print(f"PASS {name}: manifest {got['hash'][:19]} and {len(got['layers'])} layer(s) verified")
EOF
while IFS= read -r line; do
  case "$line" in
    PASS\ *) ok "${line#PASS }" ;;
    FAIL\ *) bad "${line#FAIL }" ;;
    *) echo "$line" ;;
  esac
done < "$scratch/check.log"
grep -q '^PASS' "$scratch/check.log" || bad "registry check produced no results"

# G7: without the OCI Accept types Distribution 2.8 refuses OCI manifests
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REGISTRY/v2/clairc/alpine/manifests/base")
[ "$code" = 404 ] && ok "registry refuses an OCI manifest without the OCI Accept type (G7)" \
  || bad "expected 404 for an OCI manifest fetched with a Docker-only Accept, got $code"

bash "$SRC_DIR/hack/registry.sh" stop "$REG" > /dev/null 2>&1 && ! kill -0 "$REGISTRY_PID" 2>/dev/null \
  && ok "registry stopped" || bad "registry stop"
finish
