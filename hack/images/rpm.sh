#!/usr/bin/env bash
# Images "rpm-sqlite" (RHEL 9 layout, var/lib/rpm/rpmdb.sqlite) and "rpm-bdb" (RHEL 8 layout,
# BerkeleyDB hash var/lib/rpm/Packages). The rpm databases are written by the real rpm tool from
# stand-in packages built with rpmbuild (real headers: NAME/EPOCH/VERSION/RELEASE/ARCH/SOURCERPM/
# MODULARITYLABEL, fake contents). For rpm-bdb the sqlite header blobs are copied into a BDB hash
# file (rpmdb_to_bdb.py) and read back with rpm's bdb_ro backend for the expected list.
# Tags:  base     redhat-release, openssl-libs, zlib (+ a modular nodejs on RHEL 8)
#        updated  second layer: openssl-libs upgraded (rpm -U), libcurl installed, zlib erased
#                 (a whiteout) and a whole new package database.
# usage: rpm.sh sqlite|bdb OUT_DIR WORK_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KIND=$1 OUT=$2 WORK=$3
IMG=$OUT/oci B=$WORK/bundle TOP=$WORK/rpmbuild
mkdir -p "$OUT/expected" "$TOP"/{SPECS,RPMS,BUILD,BUILDROOT,SOURCES,SRPMS}

# mkrpm SRCNAME BINNAME EPOCH VERSION RELEASE [MODULARITYLABEL] -> builds, prints the rpm path
mkrpm() {
  local src=$1 bin=$2 epoch=$3 ver=$4 rel=$5 mod=${6:-} spec
  spec=$TOP/SPECS/$bin-$ver-$rel.spec
  {
    echo '%define _build_id_links none'
    echo '%define debug_package %{nil}'
    echo '%define __os_install_post %{nil}'
    [ -z "$mod" ] || echo "%define modularitylabel $mod"
    echo "Name: $src"
    [ -z "$epoch" ] || echo "Epoch: $epoch"
    echo "Version: $ver"
    echo "Release: $rel"
    echo "Summary: Test stand-in for $bin"
    echo "License: MIT"
    echo "Vendor: clairc test fixtures"
    echo '%description'
    echo 'Stand-in for scanner tests; contains no real software.'
    if [ "$src" != "$bin" ]; then
      echo "%package -n $bin"
      echo "Summary: Test stand-in for $bin"
      echo "%description -n $bin"
      echo 'Stand-in for scanner tests; contains no real software.'
    fi
    echo '%install'
    echo 'mkdir -p %{buildroot}/usr/lib64 %{buildroot}/usr/share/doc/'"$bin"
    echo "echo '$bin $ver-$rel (test stand-in)' > %{buildroot}/usr/lib64/$bin.so.stub"
    echo "echo '$bin $ver-$rel' > %{buildroot}/usr/share/doc/$bin/VERSION"
    if [ "$bin" = redhat-release ]; then
      local major=${ver%%.*} code
      if [ "$major" = 8 ]; then code=Ootpa; else code=Plow; fi
      cat <<EOF
mkdir -p %{buildroot}/usr/lib %{buildroot}/etc
cat > %{buildroot}/usr/lib/os-release <<'OSR'
NAME="Red Hat Enterprise Linux"
VERSION="$ver ($code)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="$ver"
PLATFORM_ID="platform:el$major"
PRETTY_NAME="Red Hat Enterprise Linux $ver ($code)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:$major::baseos"
HOME_URL="https://www.redhat.com/"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="$ver"
OSR
ln -s ../usr/lib/os-release %{buildroot}/etc/os-release
echo 'Red Hat Enterprise Linux release $ver ($code)' > %{buildroot}/etc/redhat-release
ln -s redhat-release %{buildroot}/etc/system-release
echo 'cpe:/o:redhat:enterprise_linux:$major::baseos' > %{buildroot}/etc/system-release-cpe
EOF
    fi
    if [ "$src" != "$bin" ]; then echo "%files -n $bin"; else echo '%files'; fi
    echo "/usr/lib64/$bin.so.stub"
    echo "/usr/share/doc/$bin"
    if [ "$bin" = redhat-release ]; then
      printf '%s\n' /usr/lib/os-release /etc/os-release /etc/redhat-release /etc/system-release /etc/system-release-cpe
    fi
  } > "$spec"
  rpmbuild --define "_topdir $TOP" --nodeps --target x86_64 -bb "$spec" > "$WORK/rpmbuild.log" 2>&1 \
    || { tail -20 "$WORK/rpmbuild.log" >&2; die "rpmbuild $bin failed"; }
  ls "$TOP"/RPMS/x86_64/"$bin"-"$ver"-"$rel".x86_64.rpm
}

rpmq() { rpm --root "$B/rootfs" --dbpath /var/lib/rpm "$@" 2>>"$WORK/rpm.log"; }
SQL=$WORK/sqlitedb
db_open() { # bdb: put the working sqlite db back before running rpm
  if [ "$KIND" = bdb ] && [ -d "$SQL" ]; then
    rm -f "$B/rootfs/var/lib/rpm/Packages"; cp -a "$SQL/." "$B/rootfs/var/lib/rpm/"
  fi
}
db_close() { # drop sqlite side files (G11); bdb: keep only a BerkeleyDB Packages
  rm -f "$B/rootfs/var/lib/rpm/rpmdb.sqlite-wal" "$B/rootfs/var/lib/rpm/rpmdb.sqlite-shm"
  if [ "$KIND" = bdb ]; then
    rm -rf "$SQL"; mkdir -p "$SQL"
    cp -a "$B/rootfs/var/lib/rpm/." "$SQL/"
    "$SYS_PY" "$IMAGES_DIR/rpmdb_to_bdb.py" "$SQL/rpmdb.sqlite" "$B/rootfs/var/lib/rpm/Packages"
    rm -f "$B/rootfs/var/lib/rpm/rpmdb.sqlite" "$B/rootfs/var/lib/rpm/.rpm.lock"
  fi
}
QF='%{NAME}\t%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%|MODULARITYLABEL?{%{MODULARITYLABEL}}|\n'
expect_all() { # TAG — read back exactly the database file shipped in the layer
  local f=$OUT/expected/$1.rpm.tsv
  if [ "$KIND" = bdb ]; then
    rpm --root "$B/rootfs" --dbpath /var/lib/rpm --define '_db_backend bdb_ro' -qa --qf "$QF" 2>>"$WORK/rpm.log"
  else
    rpm --root "$B/rootfs" --dbpath /var/lib/rpm -qa --qf "$QF" 2>>"$WORK/rpm.log"
  fi | LC_ALL=C sort > "$f"
  [ -s "$f" ] || die "rpm -qa listed nothing ($KIND $1)"
  expect_osrelease "$B/rootfs" "$OUT/expected/$1"
  cp "$B/rootfs"/root/buildinfo/content_manifests/*.json "$OUT/expected/$1.content_manifest.json"
  tags_add "$OUT" "$1"
}

content_manifest() { # MAJOR FILE
  mkdir -p "$(dirname "$2")"
  printf '{"metadata":{"icm_version":1,"icm_spec":"https://raw.githubusercontent.com/containerbuildsystem/atomic-reactor/master/atomic_reactor/schemas/content_manifest.json","image_layer_index":%s},"content_sets":["rhel-%s-for-x86_64-baseos-rpms","rhel-%s-for-x86_64-appstream-rpms"],"image_contents":[]}\n' \
    "$3" "$1" "$1" > "$2"
}

if [ "$KIND" = bdb ]; then
  MAJOR=8
  R_BASE=("$(mkrpm redhat-release redhat-release '' 8.4 0.6.el8)"
          "$(mkrpm openssl openssl-libs 1 1.1.1k 1.el8)"
          "$(mkrpm zlib zlib '' 1.2.11 17.el8)"
          "$(mkrpm nodejs nodejs 1 16.14.0 3.module+el8.5.0+14225+5f8f0e37 'nodejs:16:8050020220215105530:c5368500')")
  R_UP=("$(mkrpm openssl openssl-libs 1 1.1.1k 5.el8_5)" "$(mkrpm curl libcurl '' 7.61.1 18.el8)")
else
  MAJOR=9
  R_BASE=("$(mkrpm redhat-release redhat-release '' 9.0 2.17.el9)"
          "$(mkrpm openssl openssl-libs 1 3.0.1 41.el9_0)"
          "$(mkrpm zlib zlib '' 1.2.11 31.el9)")
  R_UP=("$(mkrpm openssl openssl-libs 1 3.0.7 27.el9)" "$(mkrpm curl libcurl '' 7.76.1 26.el9)")
fi

oci_new "$IMG" "$B" /bin/sh
log "rpm-$KIND: base"
rpmq --initdb
rpmq -i --nodeps --noscripts "${R_BASE[@]}"
content_manifest "$MAJOR" "$B/rootfs/root/buildinfo/content_manifests/rhel$MAJOR-test-container-$MAJOR.0-1.json" 0
db_close
oci_repack "$IMG" "$B" base "rpm -i redhat-release openssl-libs zlib (stand-ins)"
expect_all base

log "rpm-$KIND: updated"
db_open
rpmq -U --nodeps --noscripts "${R_UP[@]}"
rpmq -e --nodeps --noscripts zlib
content_manifest "$MAJOR" "$B/rootfs/root/buildinfo/content_manifests/rhel$MAJOR-test-container-$MAJOR.0-1.json" 1
db_close
oci_repack "$IMG" "$B" updated "rpm -U openssl-libs libcurl && rpm -e zlib"
expect_all updated

oci_finish "$IMG"
log "rpm-$KIND: done"
