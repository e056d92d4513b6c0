#!/usr/bin/python3
"""Copy the header blobs of an rpm sqlite database (rpmdb.sqlite, written by rpm itself) into a
BerkeleyDB hash file named Packages, the RHEL 7/8 on-disk format. Debian's rpm cannot write BDB;
it can read the result back with --define '_db_backend bdb_ro'.

usage: rpmdb_to_bdb.py SRC_rpmdb.sqlite DST_Packages      (needs python3-bsddb3)
"""
import os
import sqlite3
import struct
import sys

try:
    from bsddb3 import db
except ImportError:
    sys.exit("rpmdb_to_bdb.py: python3-bsddb3 is missing (apt-get install python3-bsddb3)")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    con = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    rows = con.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
    con.close()
    if os.path.exists(dst):
        os.unlink(dst)
    d = db.DB()
    d.set_pagesize(4096)
    d.open(dst, None, db.DB_HASH, db.DB_CREATE, 0o644)
    for hnum, blob in rows:
        d.put(struct.pack("=I", hnum), bytes(blob))  # key: instance number, host byte order
    # record 0 holds rpm's instance counter, as in a real RHEL database
    d.put(struct.pack("=I", 0), struct.pack("=I", max((h for h, _ in rows), default=0)))
    d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
