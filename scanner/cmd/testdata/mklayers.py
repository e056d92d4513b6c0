#!/usr/bin/env python3
"""Builds small image layers for the indexer API tests from real package databases.

usage: mklayers.py SHARED_DIR OUT_DIR

Writes OUT_DIR/<name>.tar.gz (and one .tar.zst when the zstd tool exists) plus OUT_DIR/layers.json
({name: {"digest": "sha256:...", "file": ...}}) and OUT_DIR/expected-dpkg.tsv computed by
dpkg-query from the status file that ends up in the image. The status files come from
SHARED_DIR/testdata/pkgdb/dpkg (real dpkg databases); the os-release text is Debian 12's.
"""
import gzip, hashlib, io, json, os, subprocess, sys, tarfile

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
status_full = open(os.path.join(shared, "testdata/pkgdb/dpkg/debian-13-trixie-minbase.status"), "rb").read()

OS_RELEASE = b'''PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
'''

def stanzas(text):
    return [s for s in text.split(b"\n\n") if s.strip()]

# the second layer's database drops every third package: "newest database wins"
st = stanzas(status_full)
status_small = b"\n\n".join(s for i, s in enumerate(st) if i % 3 != 1) + b"\n"

def add(tf, name, data=None, kind="file", link=None, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.mtime = 1700000000
    if kind == "dir":
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        tf.addfile(ti)
    elif kind == "symlink":
        ti.type, ti.linkname = tarfile.SYMTYPE, link
        tf.addfile(ti)
    else:
        ti.size, ti.mode = len(data), mode
        tf.addfile(ti, io.BytesIO(data))

def layer(name, entries, comp="gz"):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for e in entries:
            add(tf, *e)
    tar = raw.getvalue()
    if comp == "gz":
        blob = gzip.compress(tar, mtime=0)
        fn = name + ".tar.gz"
    elif comp == "zst":
        blob = subprocess.run(["zstd", "-q", "-c"], input=tar, capture_output=True, check=True).stdout
        fn = name + ".tar.zst"
    else:
        blob, fn = tar, name + ".tar"
    open(os.path.join(out, fn), "wb").write(blob)
    return {"digest": "sha256:" + hashlib.sha256(blob).hexdigest(), "file": fn}

layers = {}
layers["base"] = layer("base", [
    ("etc", None, "dir"),
    ("usr/lib/os-release", OS_RELEASE),
    ("etc/os-release", None, "symlink", "../usr/lib/os-release"),
    ("var/lib/dpkg/info", None, "dir"),
    ("var/lib/dpkg/status", status_full),
    ("usr/bin/hello", b"\x7fELF not really", "file", None, 0o755),
])
layers["purge"] = layer("purge", [
    ("var/lib/dpkg/info", None, "dir"),
    ("var/lib/dpkg/status", status_small),
    ("usr/share/doc/.wh.bash", b""),
])
META = b"Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\nSummary: templates\n\nbody\n"
META2 = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.28.1\n"
layers["python"] = layer("python", [
    ("usr/lib/python3/dist-packages/Jinja2-3.1.2.dist-info/METADATA", META),
    ("usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA", META2),
])
layers["python-rm"] = layer("python-rm", [
    ("usr/lib/python3/dist-packages/.wh.requests-2.28.1.dist-info", b""),
])
# Quay's shared empty layer: gzip of an empty tar (1024 zero bytes)
empty = gzip.compress(b"\0" * 1024, mtime=0)
open(os.path.join(out, "empty.tar.gz"), "wb").write(empty)
layers["empty"] = {"digest": "sha256:" + hashlib.sha256(empty).hexdigest(), "file": "empty.tar.gz"}
try:
    layers["zstd"] = layer("zstd", [("etc/zstd-marker", b"x\n")], comp="zst")
except (FileNotFoundError, subprocess.CalledProcessError):
    pass

json.dump(layers, open(os.path.join(out, "layers.json"), "w"), indent=1)

# expected packages, from dpkg itself
adm = os.path.join(out, "admindir")
os.makedirs(os.path.join(adm, "info"), exist_ok=True)
for f in ("available",):
    open(os.path.join(adm, f), "w").close()
open(os.path.join(adm, "status"), "wb").write(status_small)
q = subprocess.run(["dpkg-query", "--admindir=" + adm, "-W", "-f",
                    "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n"],
                   capture_output=True, check=True).stdout.decode()
rows = [l.split("\t")[1:] for l in q.splitlines() if l.startswith("ii")]
with open(os.path.join(out, "expected-dpkg.tsv"), "w") as f:
    for r in sorted(rows):
        f.write("\t".join(r) + "\n")
