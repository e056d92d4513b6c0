#!/usr/bin/env python3
"""Minimal OCI image-layout writer/reader (stdlib only) for hand-made test images.

Used by hostile.py to write layers umoci would refuse or repair, and by the test script to list
a layout's images. Layout on disk: oci-layout, index.json (one manifest per tag, annotated with
org.opencontainers.image.ref.name), blobs/sha256/<hex>.

CLI: oci.py list LAYOUT     -> tag<TAB>manifest digest<TAB>layer digests (comma separated)
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zlib

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
REF = "org.opencontainers.image.ref.name"
CREATED = "2024-01-01T00:00:00Z"  # fixed: hand-made images get reproducible digests


class LayerWriter:
    """File-like sink for an uncompressed tar stream; compresses and hashes on the fly.
    close() returns a descriptor dict (mediaType, digest, size) plus 'diff_id'."""

    def __init__(self, layout, compression="gzip", level=6):
        self.layout = layout
        self.compression = compression
        self.diff = hashlib.sha256()
        fd, self.tmp = tempfile.mkstemp(dir=layout.tmpdir)
        self.out = os.fdopen(fd, "wb")
        self.proc = None
        self.z = None
        if compression == "gzip":
            self.z = zlib.compressobj(level, zlib.DEFLATED, 31)  # gzip wrapper, mtime 0
        elif compression == "zstd":
            self.proc = subprocess.Popen(["zstd", "-q", "-c", f"-{min(level, 19)}"],
                                         stdin=subprocess.PIPE, stdout=self.out)
        self.n = 0

    def write(self, b):
        self.diff.update(b)
        self.n += len(b)
        if self.z is not None:
            self.out.write(self.z.compress(b))
        elif self.proc is not None:
            self.proc.stdin.write(b)
        else:
            self.out.write(b)
        return len(b)

    def close(self, truncate_to=None):
        if self.z is not None:
            self.out.write(self.z.flush())
        if self.proc is not None:
            self.proc.stdin.close()
            if self.proc.wait() != 0:
                raise RuntimeError("zstd failed")
        self.out.close()
        if truncate_to is not None:
            size = os.path.getsize(self.tmp)
            os.truncate(self.tmp, int(size * truncate_to) if truncate_to < 1 else int(truncate_to))
        mt = {"gzip": MT_GZIP, "zstd": MT_ZSTD}.get(self.compression, MT_TAR)
        d = self.layout.add_blob_file(self.tmp, mt)
        d["diff_id"] = "sha256:" + self.diff.hexdigest()
        d["uncompressed_size"] = self.n
        return d


class Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        self.tmpdir = os.path.join(path, "blobs", "tmp")
        os.makedirs(self.tmpdir, exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                      "manifests": []}

    def add_blob_file(self, tmp, media_type):
        h = hashlib.sha256()
        with open(tmp, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        size = os.path.getsize(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(self.path, "blobs", "sha256", h.hexdigest()))
        return {"mediaType": media_type, "digest": "sha256:" + h.hexdigest(), "size": size}

    def add_blob_bytes(self, data, media_type):
        fd, tmp = tempfile.mkstemp(dir=self.tmpdir)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return self.add_blob_file(tmp, media_type)

    def layer(self, compression="gzip", level=6):
        return LayerWriter(self, compression, level)

    def add_image(self, tag, layers, created_by):
        """layers: descriptors returned by LayerWriter.close(); created_by: one string a layer."""
        config = {
            "created": CREATED, "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                       "Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
            "history": [{"created": CREATED, "created_by": c} for c in created_by],
        }
        cfg = self.add_blob_bytes(json.dumps(config, sort_keys=True).encode(), MT_CONFIG)
        man = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": cfg,
               "layers": [{k: l[k] for k in ("mediaType", "digest", "size")} for l in layers]}
        md = self.add_blob_bytes(json.dumps(man, sort_keys=True).encode(), MT_MANIFEST)
        md["annotations"] = {REF: tag}
        md["platform"] = {"architecture": "amd64", "os": "linux"}
        self.index["manifests"] = [m for m in self.index["manifests"]
                                   if m.get("annotations", {}).get(REF) != tag] + [md]
        return md

    def close(self):
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump(self.index, f, sort_keys=True)
        try:
            os.rmdir(self.tmpdir)
        except OSError:
            pass


def read_images(path):
    """[(tag, manifest digest, manifest dict, manifest bytes)] of a layout."""
    with open(os.path.join(path, "index.json")) as f:
        idx = json.load(f)
    out = []
    for m in idx["manifests"]:
        tag = m.get("annotations", {}).get(REF, "")
        with open(os.path.join(path, "blobs", *m["digest"].split(":")), "rb") as f:
            raw = f.read()
        out.append((tag, m["digest"], json.loads(raw), raw))
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "list":
        for tag, dig, man, _ in read_images(argv[2]):
            print(f"{tag}\t{dig}\t{','.join(l['digest'] for l in man['layers'])}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
