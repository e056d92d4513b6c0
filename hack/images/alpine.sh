#!/usr/bin/env bash
# Image "alpine": Alpine 3.18 layout. Debian has no apk-tools and Alpine's mirrors are not
# reachable, so lib/apk/db/installed is HAND-MADE in apk's real text format (field order
# C P V A S I T U L o m t c D, then F/R/a/Z file entries last; Z is a real Q1+base64(sha1) of
# the stand-in file, C a fake one). Tags:
#   base    apk db (musl, busybox, zlib, libcrypto3, libssl3, alpine-release, ...), os-release
#   python  + python3 in the apk db (db rewritten) and pip-style metadata under
#           usr/lib/python3.11/site-packages, copied from the debian image's python layer
#           (real dist-info METADATA / egg-info PKG-INFO written by Debian's build).
# usage: alpine.sh OUT_DIR WORK_DIR      (needs the debian image in $IMAGES_CACHE)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$1 WORK=$2
IMG=$OUT/oci B=$WORK/bundle R=$WORK/bundle/rootfs
DEB=${IMAGES_CACHE:?}/debian/oci
[ -f "$DEB/index.json" ] || die "alpine needs the debian image built first ($DEB)"
mkdir -p "$OUT/expected"

q1() { printf 'Q1%s' "$(sha1sum "$1" | cut -d' ' -f1 | xxd -r -p | base64)"; }
q1s() { printf 'Q1%s' "$(printf '%s' "$1" | sha1sum | cut -d' ' -f1 | xxd -r -p | base64)"; }

# apk_pkg NAME VERSION ORIGIN DESCRIPTION LICENSE DEPENDS FILE... : writes the stand-in files
# into the rootfs and appends one record to $R/lib/apk/db/installed
apk_pkg() {
  local name=$1 ver=$2 origin=$3 desc=$4 lic=$5 deps=$6; shift 6
  local f dir last=""
  for f in "$@"; do
    mkdir -p "$R/$(dirname "$f")"
    [ -e "$R/$f" ] || echo "$name $ver stand-in: $f" > "$R/$f"
  done
  {
    echo "C:$(q1s "$name-$ver")"
    echo "P:$name"
    echo "V:$ver"
    echo "A:x86_64"
    echo "S:$((1000 + ${#name} * 37))"
    echo "I:$((4096 + ${#name} * 512))"
    echo "T:$desc"
    echo "U:https://alpinelinux.org"
    echo "L:$lic"
    echo "o:$origin"
    echo "m:clairc tests <clairc-tests@example.invalid>"
    echo "t:1700000000"
    echo "c:0000000000000000000000000000000000000000"
    [ -z "$deps" ] || echo "D:$deps"
    for f in "$@"; do
      dir=$(dirname "$f")
      if [ "$dir" != "$last" ]; then echo "F:$dir"; last=$dir; fi
      echo "R:$(basename "$f")"
      case "$f" in bin/*|sbin/*) echo "a:0:0:755" ;; esac
      echo "Z:$(q1 "$R/$f")"
    done
    echo
  } >> "$R/lib/apk/db/installed"
}

expect_apk() { # TAG: name, version, arch, origin — straight from the db records
  awk -F: 'BEGIN{OFS="\t"} /^P:/{p=substr($0,3)} /^V:/{v=substr($0,3)} /^A:/{a=substr($0,3)}
    /^o:/{o=substr($0,3)} /^$/{if(p!="")print p,v,a,o; p=v=a=o=""} END{if(p!="")print p,v,a,o}' \
    "$R/lib/apk/db/installed" | LC_ALL=C sort > "$OUT/expected/$1.apk.tsv"
  expect_osrelease "$R" "$OUT/expected/$1"
  local py; py=$(expect_python "$R" usr/lib/python3.11/site-packages)
  if [ -n "$py" ]; then printf '%s\n' "$py" > "$OUT/expected/$1.python.tsv"; fi
  tags_add "$OUT" "$1"
}

oci_new "$IMG" "$B" /bin/sh
mkdir -p "$R/lib/apk/db" "$R/etc/apk"
: > "$R/lib/apk/db/installed"
cat > "$R/etc/os-release" <<'EOF'
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.18.4
PRETTY_NAME="Alpine Linux v3.18"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
EOF
echo 3.18.4 > "$R/etc/alpine-release"
apk_pkg musl 1.2.4-r1 musl "the musl c library (libc) implementation" MIT "" lib/ld-musl-x86_64.so.1
apk_pkg busybox 1.36.1-r2 busybox "Size optimized toolbox of many common UNIX utilities" GPL-2.0-only "so:libc.musl-x86_64.so.1" bin/busybox etc/busybox-paths.d/busybox
apk_pkg alpine-release 3.18.4-r0 alpine-base "Alpine release data" MIT "" etc/alpine-release etc/os-release
apk_pkg zlib 1.2.13-r1 zlib "A compression/decompression Library" Zlib "so:libc.musl-x86_64.so.1" lib/libz.so.1.2.13
apk_pkg libcrypto3 3.1.1-r1 openssl "Crypto library from openssl" Apache-2.0 "so:libc.musl-x86_64.so.1" lib/libcrypto.so.3
apk_pkg libssl3 3.1.1-r1 openssl "SSL shared libraries" Apache-2.0 "so:libc.musl-x86_64.so.1 so:libcrypto.so.3" lib/libssl.so.3
apk_pkg ca-certificates-bundle 20230506-r0 ca-certificates "Pre generated bundle of Mozilla certificates" "MPL-2.0 AND MIT" "" etc/ssl/certs/ca-certificates.crt
printf '%s\n' alpine-base busybox ca-certificates-bundle > "$R/etc/apk/world"
log "alpine: layer base"
oci_repack "$IMG" "$B" base "hand-made apk database (Alpine 3.18 layout)"
expect_apk base

log "alpine: layer python"
apk_pkg python3 3.11.6-r0 python3 "High-level scripting language" PSF-2.0 "so:libc.musl-x86_64.so.1" usr/bin/python3.11 usr/lib/libpython3.11.so.1.0
echo python3 >> "$R/etc/apk/world"
# the python layer of the debian image is the third layer of its "python" tag
blob=$("$SYS_PY" - "$DEB" <<'EOF'
import json, sys, os
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
m = [x for x in idx["manifests"] if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == "python"][0]
man = json.load(open(os.path.join(d, "blobs", *m["digest"].split(":"))))
print(os.path.join(d, "blobs", *man["layers"][2]["digest"].split(":")))
EOF
)
mkdir -p "$WORK/py"
tar -xzf "$blob" -C "$WORK/py" --wildcards 'usr/lib/python3/dist-packages/*.dist-info*' \
  'usr/lib/python3/dist-packages/*.egg-info*'
mkdir -p "$R/usr/lib/python3.11/site-packages"
cp -a "$WORK/py/usr/lib/python3/dist-packages/." "$R/usr/lib/python3.11/site-packages/"
oci_repack "$IMG" "$B" python "apk add python3 && pip-style metadata (from the debian image)"
expect_apk python

oci_finish "$IMG"
log "alpine: done"
