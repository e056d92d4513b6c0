#!/usr/bin/env python3
"""Expected Python packages of a root filesystem, as Python's own importlib.metadata sees them.

usage: pymeta.py ROOTFS SUBDIR [SUBDIR...]
Prints name<TAB>normalized name (PEP 503)<TAB>version<TAB>metadata path relative to ROOTFS,
sorted by normalized name. SUBDIR is a site-packages/dist-packages directory inside ROOTFS.
"""
import importlib.metadata as md
import os
import re
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    rows = []
    for sub in sys.argv[2:]:
        d = os.path.join(root, sub.lstrip("/"))
        if not os.path.isdir(d):
            continue
        for dist in md.distributions(path=[d]):
            name = dist.metadata["Name"]
            ver = dist.metadata["Version"]
            if not name or not ver:
                continue
            path = getattr(dist, "_path", None)
            rel = os.path.relpath(str(path), root) if path is not None else sub
            norm = re.sub(r"[-_.]+", "-", name).lower()
            rows.append((norm, name, ver, rel))
    for norm, name, ver, rel in sorted(rows):
        print(f"{name}\t{norm}\t{ver}\t{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
