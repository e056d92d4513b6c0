#!/usr/bin/env bash
# Image "hostile": one tag per hostile layer (see hostile.py for the list). Every layer is
# hand-made with Python's tarfile and a hand-written OCI layout; digests are reproducible.
# expected/cases.tsv: tag, layer media type, uncompressed bytes, description.
# expected/<tag>.dpkg.tsv / <tag>.os-release(.tsv): for the cases whose layer also holds
# legitimate files, what dpkg-query reads from exactly those files.
# usage: hostile.sh OUT_DIR WORK_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$1 WORK=$2
mkdir -p "$OUT/expected"
log "hostile: writing layers"
python3 "$IMAGES_DIR/hostile.py" "$OUT/oci" "$WORK/roots" "$OUT/expected/cases.tsv"
cut -f1 "$OUT/expected/cases.tsv" > "$OUT/tags"
for r in "$WORK"/roots/*/; do
  tag=$(basename "$r")
  if [ -f "$r/var/lib/dpkg/status" ]; then expect_dpkg "$r" "$OUT/expected/$tag.dpkg.tsv"; fi
  if [ -f "$r/etc/os-release" ]; then expect_osrelease "$r" "$OUT/expected/$tag"; fi
done
chmod -R a+rX "$OUT/oci"
log "hostile: done"
