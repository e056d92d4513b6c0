"""Real rpm databases for e2e images, written by the real rpm tool (no hand-written db bytes).

build_rpmdb(work, tag, pkgs) builds one stand-in binary rpm per package with rpmbuild (exact NAME, EPOCH,
VERSION, RELEASE, ARCH and SOURCERPM; no payload), installs them all with
`rpm --root R --dbpath /var/lib/rpm -i --justdb --nodeps --noscripts` into an sqlite rpmdb (rpm 4.18's
default backend), checkpoints the WAL into the main file with python's sqlite3 and returns
(bytes of var/lib/rpm/rpmdb.sqlite, the installed list read back with `rpm -qa`).
pkgs: dicts with name, source, epoch ("" / "0" = none), version, release, arch.

rpm_compare(pairs) compares EVR strings with librpm itself (rpm's embedded Lua: rpm.ver(a) vs rpm.ver(b),
i.e. rpmverCmp) in one `rpm --eval` call; returns a list of -1/0/1. No python3-rpm needed.
"""
import concurrent.futures, os, sqlite3, subprocess

QF = "%{NAME}\\t%|EPOCH?{%{EPOCH}}:{0}|\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n"


def _spec(top, p):
    name, src = p["name"], p.get("source") or p["name"]
    lines = ["%define _build_id_links none", "%define debug_package %{nil}", "%define __os_install_post %{nil}",
             "%define _binary_payload w9.gzdio",
             "Name: " + src]
    if p.get("epoch") not in (None, "", "0"):
        lines.append("Epoch: " + str(p["epoch"]))
    lines += ["Version: " + p["version"], "Release: " + p["release"], "Summary: e2e stand-in for " + name,
              "License: MIT", "%description", "Stand-in package for the matcher e2e test; no software."]
    if src != name:
        lines += ["%package -n " + name, "Summary: e2e stand-in for " + name, "%description -n " + name,
                  "Stand-in package for the matcher e2e test; no software.", "%files -n " + name]
    else:
        lines.append("%files")
    path = os.path.join(top, "SPECS", "%s-%s-%s.%s.spec" % (name, p["version"], p["release"], p["arch"]))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _build_one(top, p):
    spec = _spec(top, p)
    r = subprocess.run(["rpmbuild", "--define", "_topdir " + top, "--nodeps", "--target", p["arch"], "-bb", spec],
                       capture_output=True, text=True)
    out = os.path.join(top, "RPMS", p["arch"], "%s-%s-%s.%s.rpm" % (p["name"], p["version"], p["release"], p["arch"]))
    if r.returncode != 0 or not os.path.exists(out):
        raise RuntimeError("rpmbuild %s failed: %s" % (p["name"], r.stderr[-800:]))
    return out


def build_rpmdb(work, tag, pkgs):
    top = os.path.join(work, "rpmbuild-" + tag)
    for d in ("SPECS", "RPMS", "BUILD", "BUILDROOT", "SOURCES", "SRPMS"):
        os.makedirs(os.path.join(top, d), exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rpms = list(ex.map(lambda p: _build_one(top, p), pkgs))
    root = os.path.join(work, "root-" + tag)
    os.makedirs(root, exist_ok=True)
    base = ["rpm", "--root", root, "--dbpath", "/var/lib/rpm"]
    subprocess.run(base + ["--initdb"], check=True, capture_output=True)
    r = subprocess.run(base + ["-i", "--justdb", "--nodeps", "--noscripts", "--ignorearch", "--ignoreos",
                               "--nosignature", "--nodigest"] + rpms, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("rpm -i failed: " + r.stderr[-1500:])
    db = os.path.join(root, "var/lib/rpm/rpmdb.sqlite")
    c = sqlite3.connect(db)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.execute("PRAGMA journal_mode=DELETE")
    c.close()
    for side in ("rpmdb.sqlite-wal", "rpmdb.sqlite-shm", ".rpm.lock"):
        try:
            os.unlink(os.path.join(root, "var/lib/rpm", side))
        except FileNotFoundError:
            pass
    q = subprocess.run(base + ["-qa", "--qf", QF], check=True, capture_output=True, text=True)
    installed = []
    for line in q.stdout.splitlines():
        n, e, v, rel, a, srpm = line.split("\t")
        installed.append({"name": n, "epoch": e, "version": v, "release": rel, "arch": a, "srpm": srpm,
                          "evr": "%s:%s-%s" % (e, v, rel)})
    return open(db, "rb").read(), installed


def rpm_compare(work, pairs):
    if not pairs:
        return []
    inp, out, lua = (os.path.join(work, n) for n in ("vercmp.in", "vercmp.out", "vercmp.lua"))
    with open(inp, "w") as f:
        for a, b in pairs:
            f.write("%s\t%s\n" % (a, b))
    with open(lua, "w") as f:
        f.write('local o = io.open(%r, "w")\n' % out)
        f.write('for line in io.lines(%r) do\n' % inp)
        f.write('  local a, b = line:match("^([^\\t]*)\\t([^\\t]*)$")\n')
        f.write('  local x, y = rpm.ver(a), rpm.ver(b)\n')
        f.write('  o:write((x < y) and "-1" or ((x == y) and "0" or "1"), "\\n")\n')
        f.write('end\no:close()\n')
    subprocess.run(["rpm", "--eval", '%%{lua: dofile("%s")}' % lua], check=True, capture_output=True)
    res = [int(x) for x in open(out).read().split()]
    if len(res) != len(pairs):
        raise RuntimeError("rpm vercmp returned %d results for %d pairs" % (len(res), len(pairs)))
    return res
