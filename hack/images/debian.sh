#!/usr/bin/env bash
# Image "debian": Debian 12 bookworm minbase built with debootstrap, four layers:
#   base    debootstrap --variant=minbase bookworm
#   ssl     + openssl, ca-certificates; tzdata purged      (whiteouts, dpkg status rewritten)
#   python  + python3-requests python3-jinja2 python3-yaml  (real dist-info + egg-info)
#   opaque  hand-made layer: usr/share/doc/.wh..wh..opq (opaque whiteout) and a plain whiteout
#           removing six's egg-info metadata (a Python package deleted by a whiteout)
# usage: debian.sh OUT_DIR WORK_DIR      (needs root and Debian's archive)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$1 WORK=$2
DL=${IMAGES_DL_DIR:-$WORK}
SUITE=bookworm
IMG=$OUT/oci B=$WORK/bundle
mkdir -p "$OUT/expected" "$DL"
MIRROR=$(debian_mirror)

expect_all() { # TAG
  expect_dpkg "$B/rootfs" "$OUT/expected/$1.dpkg.tsv"
  expect_osrelease "$B/rootfs" "$OUT/expected/$1"
  local py; py=$(expect_python "$B/rootfs" usr/lib/python3/dist-packages)
  if [ -n "$py" ]; then printf '%s\n' "$py" > "$OUT/expected/$1.python.tsv"; fi
  tags_add "$OUT" "$1"
}

clean_rootfs() { # DIR (gotchas G4, G5)
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin \
    "$1"/var/log/* "$1"/debootstrap "$1"/var/cache/debconf/*-old
  : > "$1/etc/resolv.conf"
  echo localhost > "$1/etc/hostname"
}

in_chroot() { # SCRIPT
  cp /etc/resolv.conf "$B/rootfs/etc/resolv.conf"
  chroot "$B/rootfs" /usr/bin/env -i "$PATH_ENV" DEBIAN_FRONTEND=noninteractive sh -c "$1" \
    > "$WORK/chroot.log" 2>&1 || { tail -30 "$WORK/chroot.log" >&2; die "chroot step failed: $1"; }
  clean_rootfs "$B/rootfs"
}

# debootstrap's downloads are kept next to the cache (network half ~17 s) so a rebuild after a
# script change needs the network only for the apt-get layers.
TGZ=$DL/$SUITE-minbase-debs.tgz
if [ ! -s "$TGZ" ]; then
  log "debian: downloading $SUITE minbase .debs from $MIRROR"
  rm -rf "$WORK/dl"
  debootstrap --variant=minbase --make-tarball="$TGZ.tmp" "$SUITE" "$WORK/dl" "$MIRROR" \
    > "$WORK/debootstrap-dl.log" 2>&1 || { tail -30 "$WORK/debootstrap-dl.log" >&2; die "debootstrap --make-tarball failed"; }
  mv "$TGZ.tmp" "$TGZ"
  rm -rf "$WORK/dl"
fi

oci_new "$IMG" "$B" /bin/bash
log "debian: debootstrap --unpack-tarball"
debootstrap --variant=minbase --unpack-tarball="$(cd "$(dirname "$TGZ")" && pwd)/$(basename "$TGZ")" \
  "$SUITE" "$B/rootfs" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 \
  || { tail -30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
clean_rootfs "$B/rootfs"
log "debian: layer base"
oci_repack "$IMG" "$B" base "debootstrap --variant=minbase $SUITE"
expect_all base

log "debian: layer ssl (install openssl ca-certificates, purge tzdata)"
in_chroot 'apt-get update -qq && apt-get install -y -qq --no-install-recommends openssl ca-certificates &&
  apt-get purge -y -qq tzdata && apt-get clean'
[ ! -e "$B/rootfs/usr/share/zoneinfo" ] || die "tzdata purge left usr/share/zoneinfo"
oci_repack "$IMG" "$B" ssl "apt-get install openssl ca-certificates && apt-get purge tzdata"
expect_all ssl

log "debian: layer python"
in_chroot 'apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-requests python3-jinja2 python3-yaml && apt-get clean'
oci_repack "$IMG" "$B" python "apt-get install python3-requests python3-jinja2 python3-yaml"
expect_all python

log "debian: layer opaque (hand-made whiteouts)"
T=$WORK/opaque
mkdir -p "$T/usr/share/doc/clairc-test" "$T/usr/lib/python3/dist-packages"
touch "$T/usr/share/doc/.wh..wh..opq"
echo "only survivor of usr/share/doc" > "$T/usr/share/doc/clairc-test/README"
six=$(cd "$B/rootfs/usr/lib/python3/dist-packages" && ls -d six-*.egg-info six-*.dist-info 2>/dev/null | head -1 || true)
[ -n "$six" ] || die "python layer has no six metadata to white out"
touch "$T/usr/lib/python3/dist-packages/.wh.$six"
tar --numeric-owner --owner=0 --group=0 -C "$T" -cf "$WORK/opaque.tar" usr
umoci raw add-layer --image "$IMG:python" --tag opaque \
  --history.created_by "hand-made: usr/share/doc/.wh..wh..opq + .wh.$six" "$WORK/opaque.tar"
# apply the same layer to the bundle so the expected lists describe the real final rootfs
rm -rf "$B/rootfs/usr/share/doc" "$B/rootfs/usr/lib/python3/dist-packages/$six"
mkdir -p "$B/rootfs/usr/share/doc/clairc-test"
cp "$T/usr/share/doc/clairc-test/README" "$B/rootfs/usr/share/doc/clairc-test/"
expect_all opaque

oci_finish "$IMG"
log "debian: done ($(cat "$OUT/tags" | tr '\n' ' '))"
