#!/usr/bin/env python3
"""Image "hostile": hand-made single-layer images whose layer attacks the indexer.

usage: hostile.py LAYOUT_DIR ROOTS_DIR CASES_TSV
Writes the OCI layout (one tag per case), and for every case whose layer also holds legitimate
files, ROOTS_DIR/<tag>/ with exactly those files (hostile.sh runs dpkg-query on them for the
expected lists). CASES_TSV: tag, layer media type, uncompressed bytes, description.
Everything is deterministic (fixed mtimes, gzip mtime 0): digests are stable across rebuilds.
"""
import hashlib
import io
import os
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oci  # noqa: E402

MTIME = 1700000000
OS_RELEASE = (b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
              b'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')


def stanza(name, version, source=None, desc="clairc hostile-image survivor"):
    s = (f"Package: {name}\nStatus: install ok installed\nPriority: optional\nSection: misc\n"
         f"Installed-Size: 1\nMaintainer: clairc tests <clairc-tests@example.invalid>\n"
         f"Architecture: amd64\n")
    if source:
        s += f"Source: {source}\n"
    s += f"Version: {version}\nDescription: {desc}\n test fixture, not real software\n\n"
    return s.encode()


SURVIVOR = stanza("clairc-survivor", "1.0-1", "clairc-survivor-src (1.0-0)")


def ti(name, type_=tarfile.REGTYPE, size=0, linkname="", mode=0o644):
    t = tarfile.TarInfo(name)
    t.type = type_
    t.size = size
    t.linkname = linkname
    t.mode = 0o755 if type_ == tarfile.DIRTYPE else mode
    t.mtime = MTIME
    t.uid = t.gid = 0
    t.uname = t.gname = "root"
    return t


class Case:
    def __init__(self, layout, roots, tag, desc, compression="gzip", level=6, fmt=tarfile.PAX_FORMAT):
        self.layout, self.roots, self.tag, self.desc = layout, roots, tag, desc
        self.w = layout.layer(compression, level)
        self.tar = tarfile.open(fileobj=self.w, mode="w|", format=fmt)
        self.root = None

    def file(self, name, data, survivor=True, mode=0o644):
        self.tar.addfile(ti(name, size=len(data), mode=mode), io.BytesIO(data))
        if survivor:
            self._keep(name, data)

    def dir(self, name):
        self.tar.addfile(ti(name, tarfile.DIRTYPE))

    def link(self, name, target, hard=False):
        self.tar.addfile(ti(name, tarfile.LNKTYPE if hard else tarfile.SYMTYPE, linkname=target))

    def _keep(self, name, data):
        self.root = os.path.join(self.roots, self.tag)
        p = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)

    def done(self, truncate_to=None):
        self.tar.close()
        d = self.w.close(truncate_to)
        self.layout.add_image(self.tag, [d], [f"hostile: {self.desc}"])
        return d


def status_blob(n, seed):
    """A realistic-size dpkg status: n stanzas with incompressible-ish descriptions."""
    out = io.BytesIO()
    for i in range(n):
        h = hashlib.sha256(f"{seed}{i}".encode()).hexdigest()
        out.write(stanza(f"clairc-{seed}-{i:06d}", f"{i % 7}.{i % 13}-{i % 5}", desc=h * 2))
    return out.getvalue()


def bombs(lay, zeros):
    """gzip and zstd layers: etc/os-release, then var/lib/dpkg/status = ZEROS zero bytes.
    Everything after the first headers is zeros, so the deflate stream is built from one
    compressed 8 MiB block repeated (Z_FULL_FLUSH resets the compressor, the block bytes are
    identical each time); zstd gets the stream through a pipe. One sha256 pass for both."""
    import struct
    import subprocess
    import tempfile
    import zlib
    head = io.BytesIO()
    t = tarfile.open(fileobj=head, mode="w", format=tarfile.PAX_FORMAT)
    t.addfile(ti("etc/os-release", size=len(OS_RELEASE)), io.BytesIO(OS_RELEASE))
    t.fileobj.write(ti("var/lib/dpkg/status", size=zeros).tobuf(tarfile.PAX_FORMAT, "utf-8",
                                                                   "surrogateescape"))
    H = head.getvalue()
    total = len(H) + zeros + (-zeros) % 512 + 1024
    total += (-total) % tarfile.RECORDSIZE
    nz = total - len(H)
    CH = 8 << 20
    chunk = bytes(CH)
    k, rem = divmod(nz, CH)

    diff = hashlib.sha256(H)
    crc = zlib.crc32(H)
    for _ in range(k):
        diff.update(chunk)
        crc = zlib.crc32(chunk, crc)
    diff.update(chunk[:rem])
    crc = zlib.crc32(chunk[:rem], crc)
    diff_id = "sha256:" + diff.hexdigest()

    out = []
    desc = "2 GiB of zeros as var/lib/dpkg/status ({}); tiny compressed, caps on inflated bytes must trigger"
    # gzip
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(H) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    last = co.compress(chunk[:rem]) + co.flush(zlib.Z_FINISH)
    fd, tmp = tempfile.mkstemp(dir=lay.tmpdir)
    with os.fdopen(fd, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first)
        for _ in range(k):
            f.write(block)
        f.write(last)
        f.write(struct.pack("<II", crc & 0xFFFFFFFF, total & 0xFFFFFFFF))
    d = lay.add_blob_file(tmp, oci.MT_GZIP)
    d["diff_id"] = diff_id
    lay.add_image("bomb-gzip", [d], ["hostile: gzip bomb"])
    out.append(("bomb-gzip", d["mediaType"], total, desc.format("gzip")))
    # zstd (single frame)
    fd, tmp = tempfile.mkstemp(dir=lay.tmpdir)
    with os.fdopen(fd, "wb") as f:
        p = subprocess.Popen(["zstd", "-q", "-c", "-3"], stdin=subprocess.PIPE, stdout=f)
        p.stdin.write(H)
        for _ in range(k):
            p.stdin.write(chunk)
        p.stdin.write(chunk[:rem])
        p.stdin.close()
        if p.wait() != 0:
            raise RuntimeError("zstd failed")
    d = lay.add_blob_file(tmp, oci.MT_ZSTD)
    d["diff_id"] = diff_id
    lay.add_image("bomb-zstd", [d], ["hostile: zstd bomb"])
    out.append(("bomb-zstd", d["mediaType"], total, desc.format("zstd")))
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    lay = oci.Layout(sys.argv[1])
    roots = sys.argv[2]
    cases = []

    def record(c, d):
        cases.append((c.tag, d["mediaType"], d["uncompressed_size"], c.desc))

    # 1. path traversal: ../, absolute paths, symlinks and hard links pointing outside the root
    c = Case(lay, roots, "traversal", "../ and absolute member names, links escaping the root; "
             "legit etc/os-release + var/lib/dpkg/status must still be found")
    c.dir("etc/")
    c.file("etc/os-release", OS_RELEASE)
    c.dir("var/")
    c.dir("var/lib/")
    c.dir("var/lib/dpkg/")
    c.file("var/lib/dpkg/status", SURVIVOR)
    c.file("../../../../../../tmp/clairc-escape-dotdot", b"escaped via ../\n", survivor=False)
    c.file("/tmp/clairc-escape-absolute", b"escaped via absolute path\n", survivor=False)
    c.file("usr/../../../../tmp/clairc-escape-inner", b"escaped via inner ../\n", survivor=False)
    c.file("./../tmp/clairc-escape-dot", b"escaped via ./../\n", survivor=False)
    c.link("usr/lib/os-release", "../../../../../../etc/os-release")
    c.link("var/lib/dpkg/status.d/evil", "/../../../../etc/passwd")
    c.link("etc/shadow-copy", "../../../../../../etc/shadow", hard=True)
    c.link("root/escape-dir", "../../../../../../")
    c.file("root/escape-dir/clairc-through-symlink", b"written through a symlinked dir\n", survivor=False)
    record(c, c.done())

    # 2. symlink loops, including on the very files the scanners read
    c = Case(lay, roots, "symlink-loop", "symlink loops: etc/os-release <-> etc/os-release.d/x, "
             "self-loop usr/lib/os-release, a->b->a; dpkg status is a regular file")
    c.link("etc/os-release", "os-release.d/x")
    c.link("etc/os-release.d/x", "../os-release")
    c.link("usr/lib/os-release", "os-release")
    c.link("usr/lib/os-release-dir", "os-release-dir/")
    c.link("a", "b")
    c.link("b", "a")
    c.link("var/lib/dpkg/status.d/loop", "loop")
    c.file("var/lib/dpkg/status", SURVIVOR)
    record(c, c.done())

    # 3/4. truncated compressed streams; the digest covers the truncated bytes, so the fetch
    # succeeds and only decompression fails (half-way through a real-looking status file)
    for comp in ("gzip", "zstd"):
        c = Case(lay, roots, f"truncated-{comp}", f"{comp} stream cut at 50%; digest matches the "
                 "truncated blob, so only decompression fails", compression=comp)
        c.file("etc/os-release", OS_RELEASE, survivor=False)
        c.file("var/lib/dpkg/status", status_blob(1500, "trunc"), survivor=False)
        record(c, c.done(truncate_to=0.5))

    # 5/6. decompression bombs: 2 GiB of zeros (built without compressing 2 GiB, see bombs())
    for d in bombs(lay, 2 << 30):
        cases.append(d)

    # 7. 100,000 tiny files, the real package database last
    c = Case(lay, roots, "many-files", "100,000 one-byte files in 100 directories, then "
             "etc/os-release and var/lib/dpkg/status")
    for d in range(100):
        c.dir(f"usr/share/clairc/{d:03d}/")
        for i in range(1000):
            c.file(f"usr/share/clairc/{d:03d}/{i:04d}", b"x", survivor=False)
    c.file("etc/os-release", OS_RELEASE)
    c.file("var/lib/dpkg/status", SURVIVOR)
    record(c, c.done())

    # 8. a 100 MiB (and a bit) var/lib/dpkg/status: valid stanzas, far above any sane cap
    c = Case(lay, roots, "big-status", "var/lib/dpkg/status of 100 MiB (valid stanzas); "
             "os-release is fine", level=1)
    c.file("etc/os-release", OS_RELEASE)
    blob = status_blob(int((100 << 20) / 370), "big")
    assert len(blob) >= 100 << 20, len(blob)
    c.file("var/lib/dpkg/status", blob)
    record(c, c.done())
    del blob

    # 9. oversized headers: an 8 MiB PAX path record and an 8 MiB GNU long name
    c = Case(lay, roots, "big-header", "oversized headers: 8 MiB PAX path and 8 MiB GNU "
             "longname members; legit os-release + dpkg status after them")
    long = "usr/" + "d" * 200 + "/" + ("x" * 250 + "/") * ((8 << 20) // 251)
    c.file(long + "pax", b"pax\n", survivor=False)
    c.tar.format = tarfile.GNU_FORMAT
    c.file(long + "gnu", b"gnu\n", survivor=False)
    c.tar.format = tarfile.PAX_FORMAT
    c.file("etc/os-release", OS_RELEASE)
    c.file("var/lib/dpkg/status", SURVIVOR)
    record(c, c.done())

    lay.close()
    with open(sys.argv[3], "w") as f:
        for tag, mt, n, desc in cases:
            f.write(f"{tag}\t{mt}\t{n}\t{desc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
