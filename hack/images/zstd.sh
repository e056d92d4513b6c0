#!/usr/bin/env bash
# Image "zstd": the debian image's "ssl" tag (base + a layer with whiteouts) re-compressed by
# skopeo into application/vnd.oci.image.layer.v1.tar+zstd layers (an OCI->OCI copy: pushing
# straight to a registry with --dest-compress-format would reuse the gzip blobs, gotcha G15).
# Tag: ssl. Expected lists are the debian image's ssl ones (same files, other compression).
# usage: zstd.sh OUT_DIR WORK_DIR      (needs the debian image in $IMAGES_CACHE)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$1 WORK=$2
DEB=${IMAGES_CACHE:?}/debian
[ -f "$DEB/oci/index.json" ] || die "zstd needs the debian image built first ($DEB)"
mkdir -p "$OUT/expected"
log "zstd: skopeo copy --dest-compress-format zstd debian:ssl"
skopeo copy -q --dest-compress --dest-compress-format zstd \
  "oci:$DEB/oci:ssl" "oci:$OUT/oci:ssl" > "$WORK/skopeo.log" 2>&1 \
  || { tail -20 "$WORK/skopeo.log" >&2; die "skopeo copy to zstd failed"; }
for f in "$DEB"/expected/ssl.*; do cp "$f" "$OUT/expected/"; done
tags_add "$OUT" ssl
chmod -R a+rX "$OUT/oci"
# every layer must really be zstd
"$SYS_PY" - "$OUT/oci" <<'EOF' || die "zstd layout has non-zstd layers"
import json, os, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
for m in idx["manifests"]:
    man = json.load(open(os.path.join(d, "blobs", *m["digest"].split(":"))))
    for l in man["layers"]:
        if l["mediaType"] != "application/vnd.oci.image.layer.v1.tar+zstd":
            sys.exit(f"layer {l['digest']} is {l['mediaType']}")
        with open(os.path.join(d, "blobs", *l["digest"].split(":")), "rb") as f:
            if f.read(4) != b"\x28\xb5\x2f\xfd":
                sys.exit(f"layer {l['digest']} lacks the zstd magic")
EOF
log "zstd: done"
