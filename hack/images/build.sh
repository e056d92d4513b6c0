#!/usr/bin/env bash
# Builds the real test images as OCI layouts into a cache directory, skipping every image whose
# cache entry is complete. See hack/images/README.md for the images and the cache layout.
#
# usage: hack/images/build.sh [CACHE_DIR]
#   CACHE_DIR  default ${CLAIR_IMAGE_CACHE:-/var/cache/clairc-test-images}
#   CLAIR_IMAGES="debian rpm-bdb ..."  build only these (plus what they depend on)
#   CLAIR_IMAGES_REBUILD=1             ignore the stamps, rebuild everything asked for
#
# An entry <cache>/<image>/ is complete when <cache>/<image>/stamp holds the hash of the scripts
# that build it (and of the stamps of the images it is derived from). The stamp is written last,
# in a scratch directory that is then renamed into place, so an interrupted build leaves either
# the old complete entry or nothing. Concurrent runs serialize on <cache>/.lock.
# Exit status: 0 ok, 1 a build failed, 2 a required tool is missing (message names it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export IMAGES_DIR=$HERE
. "$HERE/lib.sh"

CACHE=${1:-${CLAIR_IMAGE_CACHE:-/var/cache/clairc-test-images}}
ALL=(debian zstd alpine rpm-sqlite rpm-bdb hostile)

deps_of() { case "$1" in zstd|alpine) echo debian ;; *) ;; esac; }
files_of() {
  case "$1" in
    debian) echo lib.sh debian.sh pymeta.py ;;
    zstd) echo lib.sh zstd.sh ;;
    alpine) echo lib.sh alpine.sh pymeta.py ;;
    rpm-sqlite|rpm-bdb) echo lib.sh rpm.sh rpmdb_to_bdb.py ;;
    hostile) echo lib.sh hostile.sh hostile.py oci.py ;;
  esac
}
tools_of() {
  case "$1" in
    debian) echo debootstrap umoci chroot dpkg-query tar ;;
    zstd) echo skopeo ;;
    alpine) echo umoci xxd sha1sum base64 tar ;;
    rpm-sqlite) echo umoci rpm rpmbuild ;;
    rpm-bdb) echo umoci rpm rpmbuild bsddb3 ;;
    hostile) echo zstd dpkg-query ;;
  esac
}
# command -> Debian package, for the error message
pkg_of() {
  case "$1" in
    dpkg-query) echo dpkg ;; rpmbuild) echo rpm ;; chroot|sha1sum|base64) echo coreutils ;;
    bsddb3) echo python3-bsddb3 ;; xxd) echo xxd ;; flock) echo util-linux ;; *) echo "$1" ;;
  esac
}

want_hash() { # IMAGE
  local f d
  {
    for f in $(files_of "$1"); do sha256sum "$HERE/$f" | cut -d' ' -f1; done
    for d in $(deps_of "$1"); do head -1 "$CACHE/$d/stamp" 2>/dev/null || echo missing; done
  } | sha256sum | cut -d' ' -f1
}
complete() { # IMAGE
  [ -z "${CLAIR_IMAGES_REBUILD:-}" ] && [ -f "$CACHE/$1/stamp" ] && [ -f "$CACHE/$1/oci/index.json" ] \
    && [ "$(head -1 "$CACHE/$1/stamp")" = "$(want_hash "$1")" ]
}

# which images, with their dependencies first, in ALL's order
asked=${CLAIR_IMAGES:-${ALL[*]}}
pending=()
for img in "${ALL[@]}"; do
  for a in $asked; do
    if [ "$a" = "$img" ] || [[ " $(for x in $asked; do deps_of "$x"; done) " == *" $img "* ]]; then
      pending+=("$img"); break
    fi
  done
done
for a in $asked; do
  [[ " ${ALL[*]} " == *" $a "* ]] || { log "unknown image '$a' (known: ${ALL[*]})"; exit 2; }
done

command -v flock >/dev/null || { log "missing tool: flock (Debian package util-linux)"; exit 2; }
command -v python3 >/dev/null || { log "missing tool: python3 (Debian package python3)"; exit 2; }
mkdir -p "$CACHE" 2>/dev/null || { log "cannot create cache directory $CACHE (set CLAIR_IMAGE_CACHE)"; exit 2; }
if [ ! -w "$CACHE" ]; then
  # read-only cache (e.g. built by root, used by a normal user): fine when everything is there
  for img in "${pending[@]}"; do
    complete "$img" || { log "cache $CACHE is not writable and image '$img' is missing or stale"; exit 2; }
  done
  log "all images cached (read-only cache $CACHE)"
  exit 0
fi
exec 9>"$CACHE/.lock"
flock 9
rm -rf "$CACHE"/.build-* "$CACHE"/.work-*   # leftovers of interrupted or failed runs

t_all=$(date +%s)

build_one() { # IMAGE -> 0 built or cached, 1 build failed, 2 cannot build here
  local img=$1 t missing=() pk d t0 out work
  if complete "$img"; then log "$img: cached"; return 0; fi
  for t in $(tools_of "$img"); do
    if [ "$t" = bsddb3 ]; then "$SYS_PY" -c 'import bsddb3' 2>/dev/null || missing+=("$t")
    else command -v "$t" >/dev/null 2>&1 || missing+=("$t"); fi
  done
  if ((${#missing[@]})); then
    pk=$(for t in "${missing[@]}"; do pkg_of "$t"; done | sort -u | tr '\n' ' ')
    log "cannot build image '$img': missing tool(s): ${missing[*]} (Debian packages: ${pk% }); see hack/deps.sh"
    return 2
  fi
  if [ "$(id -u)" -ne 0 ] && [[ "$img" == debian || "$img" == rpm-* ]]; then
    log "cannot build image '$img': needs root (debootstrap/chroot/rpm --root)"; return 2
  fi
  for d in $(deps_of "$img"); do complete "$d" || { log "$img: dependency $d is not built"; return 1; }; done
  t0=$(date +%s)
  log "$img: building"
  out=$CACHE/.build-$img.$$ work=$CACHE/.work-$img.$$
  rm -rf "$out" "$work"; mkdir -p "$out" "$work"
  local cmd=("$HERE/$img.sh")
  case "$img" in
    rpm-sqlite) cmd=("$HERE/rpm.sh" sqlite) ;;
    rpm-bdb) cmd=("$HERE/rpm.sh" bdb) ;;
  esac
  if IMAGES_CACHE=$CACHE IMAGES_DL_DIR=$CACHE/_downloads bash "${cmd[@]}" "$out" "$work"; then
    printf '%s\nbuilt %s in %ss\n' "$(want_hash "$img")" "$(date -u +%FT%TZ)" "$(( $(date +%s) - t0 ))" > "$out/stamp"
    rm -rf "$CACHE/$img.old"
    [ ! -e "$CACHE/$img" ] || mv "$CACHE/$img" "$CACHE/$img.old"
    mv "$out" "$CACHE/$img"
    rm -rf "$CACHE/$img.old" "$work"
    log "$img: built in $(( $(date +%s) - t0 ))s"
  else
    log "$img: BUILD FAILED (scratch kept in $work)"
    rm -rf "$out"
    return 1
  fi
}

build_list() { # IMAGE... in order; the worst status wins
  local img r worst=0
  for img in "$@"; do
    [[ " ${pending[*]} " == *" $img "* ]] || continue
    r=0; build_one "$img" || r=$?
    [ "$r" -le "$worst" ] || worst=$r
  done
  return "$worst"
}

# debian (network + chroot, the long pole) and its derivatives in one lane, the rest in another
build_list debian zstd alpine & lane1=$!
build_list rpm-sqlite rpm-bdb hostile & lane2=$!
rc=0
wait "$lane1" || rc=$?
r=0; wait "$lane2" || r=$?
[ "$r" -le "$rc" ] || rc=$r

# index of everything complete: image, tag, repository name to push as
{
  for img in "${ALL[@]}"; do
    [ -f "$CACHE/$img/stamp" ] || continue
    while read -r tag; do [ -n "$tag" ] && printf '%s\t%s\tclairc/%s\n' "$img" "$tag" "$img"; done < "$CACHE/$img/tags"
  done
} > "$CACHE/images.tsv.tmp" && mv "$CACHE/images.tsv.tmp" "$CACHE/images.tsv"
chmod a+rX "$CACHE" "$CACHE/images.tsv" 2>/dev/null || true
log "done in $(( $(date +%s) - t_all ))s, cache $CACHE"
exit $rc
