# Shared helpers for the image builders in hack/images/. Sourced, not executed.
# Every builder is called as `<builder> OUT_DIR` where OUT_DIR is a fresh directory that becomes
# <cache>/<image>/ once the build succeeded; it must create OUT_DIR/oci (OCI layout),
# OUT_DIR/tags (one tag a line, oldest first) and OUT_DIR/expected/.

IMAGES_DIR=${IMAGES_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# Debian's python3 (python3-bsddb3 and python3-rpm live there, not in a pyenv one).
SYS_PY=/usr/bin/python3
[ -x "$SYS_PY" ] || SYS_PY=python3
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The apt mirror this machine uses (never hard-code a host).
debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# oci_new LAYOUT BUNDLE CMD: empty image with config set BEFORE unpack (gotcha G2), unpacked
# into BUNDLE. Layers are then added with oci_repack.
oci_new() {
  local img=$1 b=$2 cmd=${3:-/bin/sh}
  [ -d "$img" ] || umoci init --layout "$img"
  umoci new --image "$img:tmp-empty"
  umoci config --image "$img:tmp-empty" --os linux --architecture amd64 --no-history \
    --author clairc-test-images --config.cmd "$cmd" --config.env "${PATH_ENV}"
  umoci unpack --image "$img:tmp-empty" "$b" >/dev/null
}

# oci_repack LAYOUT BUNDLE TAG "created_by": one new layer = diff of BUNDLE/rootfs since last
# repack (always --refresh-bundle, gotcha G1).
oci_repack() {
  umoci repack --refresh-bundle --image "$1:$3" --history.created_by "$4" "$2"
}

# oci_finish LAYOUT: drop the helper tag, gc, make blobs world-readable (G3).
oci_finish() {
  umoci rm --image "$1:tmp-empty" 2>/dev/null || true
  umoci gc --layout "$1"
  chmod -R a+rX "$1"
}

# expect_osrelease ROOTFS OUTPREFIX: OUTPREFIX.os-release (verbatim) and .os-release.tsv
# (KEY<TAB>VALUE, quotes removed). etc/os-release wins over usr/lib/os-release (os-release(5)).
expect_osrelease() {
  local root=$1 out=$2 f=""
  if [ -e "$root/etc/os-release" ] && [ ! -L "$root/etc/os-release" ]; then f=$root/etc/os-release
  elif [ -L "$root/etc/os-release" ]; then
    local t; t=$(readlink "$root/etc/os-release")
    case "$t" in /*) f=$root$t ;; *) f=$root/etc/$t ;; esac
  fi
  [ -n "$f" ] && [ -f "$f" ] || f=$root/usr/lib/os-release
  [ -f "$f" ] || die "no os-release in $root"
  cp "$f" "$out.os-release"
  # shell-quoting rules of os-release(5) are simple enough: strip one level of " or '.
  sed -n -E 's/^([A-Z0-9_]+)=("(.*)"|'"'"'(.*)'"'"'|(.*))$/\1\t\3\4\5/p' "$f" > "$out.os-release.tsv"
}

# expect_dpkg ROOTFS OUT: dpkg's own view of the final root filesystem.
# Columns: package, version, architecture, source package, source version.
expect_dpkg() {
  dpkg-query --admindir="$1/var/lib/dpkg" -W \
    -f '${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n' \
    | awk -F'\t' 'substr($1,2,1)=="i" {print $2"\t"$3"\t"$4"\t"$5"\t"$6}' | LC_ALL=C sort > "$2"
  [ -s "$2" ] || die "dpkg-query listed nothing for $1"
}

# expect_python DIR... > OUT: name, PEP 503 normalized name, version, metadata path (relative
# to the rootfs given as first argument) — read by Python's own importlib.metadata.
expect_python() {
  "$SYS_PY" "$IMAGES_DIR/pymeta.py" "$@"
}

tags_add() { echo "$2" >> "$1/tags"; }
