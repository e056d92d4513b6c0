#!/usr/bin/env python3
"""Every OS vulnerability source through Clair's HTTP API, on real feeds and real package databases.

One bin/clair (combo) runs the updater sets rhel, aws, oracle, suse, ubuntu, debian and debian-oval
against feed files from ../shared/testdata (and the hand-made Debian OVAL sample in
scanner/updaters/oval/testdata) served by a local HTTP server, indexes one small image per
distribution and answers GET /matcher/api/v1/vulnerability_report/{digest}; every report's
(package, vulnerability name) set must equal an expectation computed here independently:

- RHEL 8: the worked example testdata/expected/rhel (41 (package, advisory) pairs, OpenSCAP's
  answer). The image holds a real sqlite rpmdb written by rpm itself with the 178 packages of
  expected/rhel/inputs/ubi8-2019-05-amd64.pkgs.json (stand-in rpms with exact NEVRA), RHEL 8's
  os-release and a content manifest naming rhel-8-for-x86_64-{baseos,appstream}-rpms; the
  repository-to-CPE mapping for those two repoids (the values Red Hat's repository-to-cpe.json
  gives them) is written to the temp dir and configured with Clair's key
  indexer.scanner.repo.rhel-repository-scanner.repo2cpe_mapping_file.
- AWS AL1/AL2/AL2023 (updateinfo excerpts), Oracle 5/7 (ELSA OVAL excerpts + ELSA-2007-0057),
  SLES 12 and openSUSE Leap 42.1 (SUSE OVAL excerpts), Ubuntu xenial (CVE OVAL excerpt), Debian
  buster/bookworm (security tracker JSON excerpt) and bookworm (hand-made Debian OVAL sample):
  rpm images via rpmbuild + rpm, dpkg images via a status file in dpkg's format. Packages are
  chosen from the feeds so that some are vulnerable and some fixed; expectations come from this
  file's own readers of the feeds (ElementTree / json) with rpm comparisons by librpm (rpm's Lua
  rpm.ver) and dpkg comparisons by `dpkg --compare-versions`.

The os-release/lsb-release/issue files are the distributions' real contents, except openSUSE Leap
42.1, whose CPE_NAME is written in the leap form (cpe:/o:opensuse:leap:42.1) so the SUSE
distribution scanner accepts it (hand-made, documented here).

Prints "N passed, N failed" last.
"""
import gzip, hashlib, io, json, os, re, shutil, signal, subprocess, sys, tarfile, tempfile, time
import bz2
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "testdata_sources"))
import oval_leaves  # noqa: E402
import rpmimg  # noqa: E402

from e2elib import check, free_port, http, summary, wait_http

SHARED = os.environ.get("SHARED_DIR")
DSN = os.environ.get("PG_DSN")
BIN = os.environ.get("CLAIR_BIN_DIR", "bin")
TMP = os.environ.get("TEST_TMPDIR", "/tmp")
SRC = os.environ.get("SRC_DIR", os.path.dirname(HERE))
T0 = time.time()










def tar_layer(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        dirs = set()
        for name, _ in entries:
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        for d in sorted(dirs):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1700000000
            tf.addfile(ti)
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
            tf.addfile(ti, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def norm(s):
    return " ".join((s or "").split())


# ---------------------------------------------------------------- os-release files (real contents)

OSREL = {
    "rhel8": 'NAME="Red Hat Enterprise Linux"\nVERSION="8.0 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="8.0"\n'
             'PLATFORM_ID="platform:el8"\nPRETTY_NAME="Red Hat Enterprise Linux 8.0 (Ootpa)"\nANSI_COLOR="0;31"\n'
             'CPE_NAME="cpe:/o:redhat:enterprise_linux:8.0:GA"\nHOME_URL="https://www.redhat.com/"\n'
             'BUG_REPORT_URL="https://bugzilla.redhat.com/"\nREDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 8"\n'
             'REDHAT_BUGZILLA_PRODUCT_VERSION=8.0\nREDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"\n'
             'REDHAT_SUPPORT_PRODUCT_VERSION="8.0"\n',
    "al1": 'NAME="Amazon Linux AMI"\nVERSION="2018.03"\nID="amzn"\nID_LIKE="rhel fedora"\nVERSION_ID="2018.03"\n'
           'PRETTY_NAME="Amazon Linux AMI 2018.03"\nANSI_COLOR="0;33"\nCPE_NAME="cpe:/o:amazon:linux:2018.03:ga"\n'
           'HOME_URL="http://aws.amazon.com/amazon-linux-ami/"\n',
    "al2": 'NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n'
           'PRETTY_NAME="Amazon Linux 2"\nANSI_COLOR="0;33"\nCPE_NAME="cpe:2.3:o:amazon:amazon_linux:2"\n'
           'HOME_URL="https://amazonlinux.com/"\n',
    "al2023": 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
              'PLATFORM_ID="platform:al2023"\nPRETTY_NAME="Amazon Linux 2023"\nANSI_COLOR="0;33"\n'
              'CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"\nHOME_URL="https://aws.amazon.com/linux/"\n',
    "ol7": 'NAME="Oracle Linux Server"\nVERSION="7.9"\nID="ol"\nID_LIKE="fedora"\nVARIANT="Server"\n'
           'VARIANT_ID="server"\nVERSION_ID="7.9"\nPRETTY_NAME="Oracle Linux Server 7.9"\nANSI_COLOR="0;31"\n'
           'CPE_NAME="cpe:/o:oracle:linux:7:9:server"\nHOME_URL="https://linux.oracle.com/"\n',
    "sles12": 'NAME="SLES"\nVERSION="12-SP5"\nVERSION_ID="12.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 12 SP5"\n'
              'ID="sles"\nANSI_COLOR="0;32"\nCPE_NAME="cpe:/o:suse:sles:12:sp5"\n',
    "leap421": 'NAME="openSUSE Leap"\nVERSION="42.1"\nVERSION_ID="42.1"\nPRETTY_NAME="openSUSE Leap 42.1 (x86_64)"\n'
               'ID=opensuse\nANSI_COLOR="0;32"\nCPE_NAME="cpe:/o:opensuse:leap:42.1"\n',
    "xenial": 'NAME="Ubuntu"\nVERSION="16.04.7 LTS (Xenial Xerus)"\nID=ubuntu\nID_LIKE=debian\n'
              'PRETTY_NAME="Ubuntu 16.04.7 LTS"\nVERSION_ID="16.04"\nHOME_URL="http://www.ubuntu.com/"\n'
              'VERSION_CODENAME=xenial\nUBUNTU_CODENAME=xenial\n',
    "buster": 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nNAME="Debian GNU/Linux"\nVERSION_ID="10"\n'
              'VERSION="10 (buster)"\nVERSION_CODENAME=buster\nID=debian\nHOME_URL="https://www.debian.org/"\n',
    "bookworm": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\n',
}
LSB_XENIAL = 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=16.04\nDISTRIB_CODENAME=xenial\nDISTRIB_DESCRIPTION="Ubuntu 16.04.7 LTS"\n'
ISSUE_OL5 = "Oracle Linux Server release 5.11\nKernel \\r on an \\m\n\n"


def P(name, evr, arch="x86_64", source=None):
    e, vr = evr.split(":", 1) if ":" in evr else ("", evr)
    v, r = vr.rsplit("-", 1)
    return {"name": name, "source": source or name, "epoch": e, "version": v, "release": r, "arch": arch}


# hand-picked installed sets: v = installed < fixed, f = installed >= fixed, - = not in the feed / wrong dist
RPM_IMAGES = {
    "al1": [P("httpd", "2.2.21-1.17.amzn1"),                       # v
            P("httpd-tools", "2.2.21-1.18.amzn1", source="httpd"),  # f (equal)
            P("cyrus-imapd", "2.3.16-6.5.amzn1"),                   # f (greater)
            P("cyrus-imapd-utils", "2.3.16-6.3.amzn1", source="cyrus-imapd"),  # v
            P("bash", "4.2.46-34.amzn1")],                          # -
    "al2": [P("kernel", "4.9.75-25.55.amzn2"),                      # v
            P("kernel-tools", "4.9.76-38.79.amzn2", source="kernel"),  # f (equal)
            P("perf", "4.9.77-1.amzn2", source="kernel"),           # f (greater)
            P("qemu-img", "10:1.5.3-141.amzn2.5.2", source="qemu-kvm"),  # v
            P("qemu-kvm", "1.5.3-141.amzn2.5.3")],                  # v (epoch 0 < 10)
    "al2023": [P("rsyslog", "8.2204.0-3.amzn2023.0.1"),             # v
               P("rsyslog-openssl", "8.2204.0-3.amzn2023.0.2", source="rsyslog"),  # f
               P("rsyslog-mmjsonparse", "8.2204.0-3.amzn2023.0.3", source="rsyslog"),  # f
               P("glibc", "2.34-52.amzn2023.0.2")],                 # -
    "ol7": [P("xerces-c", "3.1.1-6.el7"),                           # v
            P("xerces-c-devel", "3.1.1-7.el7_1", source="xerces-c"),  # f
            P("firefox", "38.0.1-1.0.1.el7_1"),                     # v
            P("bind-libs", "30:9.3.3-7.el5", source="bind")],       # - (ELSA-2007-0057 is Oracle Linux 5 only)
    "ol5": [P("firefox", "38.1.0-1.0.1.el5_11"),                    # f
            P("bind", "30:9.3.3-7.el5"),                            # v
            P("bind-libs", "30:9.3.3-8.el5", source="bind"),        # f
            P("bind-utils", "9.3.3-9.el5", source="bind"),          # v (epoch 0 < 30)
            P("xerces-c", "3.1.1-6.el7")],                          # - (Oracle Linux 7 only)
    "sles12": [P("xfsprogs", "3.2.1-3.4"),                          # v
               P("libxfs-devel", "3.2.1-1.1", source="xfsprogs")],  # -
    "leap421": [P("xfsprogs", "3.2.1-5.1"),                         # f
                P("xfsprogs-devel", "3.2.1-4.1", source="xfsprogs")],  # v
}
RPM_FILES = {
    "al1": [("etc/os-release", OSREL["al1"])], "al2": [("etc/os-release", OSREL["al2"])],
    "al2023": [("etc/os-release", OSREL["al2023"])], "ol7": [("etc/os-release", OSREL["ol7"])],
    "ol5": [("etc/issue", ISSUE_OL5), ("etc/oracle-release", "Oracle Linux Server release 5.11\n")],
    "sles12": [("etc/os-release", OSREL["sles12"])], "leap421": [("etc/os-release", OSREL["leap421"])],
}

# dpkg images: (binary, version, source or None)
DPKG_IMAGES = {
    "xenial-a": [("cabextract", "1.6-1", None),                     # v (unfixed in the feed)
                 ("libmspack0", "0.4-2", "libmspack"),              # v
                 ("bash", "4.3-14ubuntu1.4", None)],                 # -
    "xenial-b": [("libmspack0", "0.4-3", "libmspack"),              # f (equal)
                 ("libmspack-dev", "0.4-3ubuntu1", "libmspack")],    # -
    "buster": [("libjs-prototype", "1.7.1-3", "prototypejs"),       # f / "0" = not affected
               ("txt2man", "1.5.5-4", None),                        # v
               ("backupninja", "1.1.0-1", None),                    # f
               ("chromium", "90.0.4430.212-1~deb10u1", None),       # v (open, no fix in buster)
               ("base-files", "10.3+deb10u13", None)],              # -
    "bookworm": [("chromium", "97.0.4692.99-1", None),              # v
                 ("libsope1", "5.8.0-1+deb12u1", "sope"),           # f (equal, via source)
                 ("libsope-appserver4.9", "5.8.0-1", "sope"),       # v (via source)
                 ("libssl3", "3.0.7-1", "openssl"),                 # v (debian-oval sample, via source)
                 ("openssl", "3.0.8-1", None),                      # f
                 ("zlib1g", "1:1.2.11.dfsg-2", "zlib")],            # - (sample's evr "1:1.2.13 bad" is invalid)
}
DPKG_FILES = {
    "xenial-a": [("etc/os-release", OSREL["xenial"]), ("etc/lsb-release", LSB_XENIAL)],
    "xenial-b": [("etc/os-release", OSREL["xenial"]), ("etc/lsb-release", LSB_XENIAL)],
    "buster": [("etc/os-release", OSREL["buster"]), ("etc/debian_version", "10.13\n")],
    "bookworm": [("etc/os-release", OSREL["bookworm"]), ("etc/debian_version", "12.5\n")],
}


def dpkg_status(pkgs):
    out = []
    for n, v, s in pkgs:
        st = ["Package: " + n, "Status: install ok installed", "Priority: optional", "Section: misc",
              "Installed-Size: 100", "Maintainer: e2e <e2e@example.invalid>", "Architecture: amd64"]
        if s:
            st.append("Source: " + s)
        st += ["Version: " + v, "Description: stand-in for the matcher e2e test", " No software."]
        out.append("\n".join(st) + "\n")
    return "\n".join(out).encode()


def dpkg_cmp(a, op, b):
    return subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True).returncode == 0


def dpkg_valid(v):
    r = subprocess.run(["dpkg", "--compare-versions", v, "eq", v], capture_output=True)
    return r.returncode == 0 and not r.stderr


# ---------------------------------------------------------------- independent expectations

def arch_ok(op, inst_arch, vuln_arch):
    if not vuln_arch:
        return True
    if op in (None, "equals"):
        return inst_arch == vuln_arch
    if op == "pattern match":
        return re.search(vuln_arch, inst_arch) is not None
    if op == "not equal":
        return inst_arch != vuln_arch
    return False


FEED_NAMES = {}  # image tag -> package names its feeds mention


def rpm_expect(work, installed, cands, tag=None):
    """cands: (vuln name, package name, fixed evr or "", arch, arch_op). Pairs (package, vuln name)."""
    if tag:
        FEED_NAMES.setdefault(tag, set()).update(c[1] for c in cands)
    pending, keys = [], []
    for c in cands:
        for p in installed:
            if p["name"] == c[1] and arch_ok(c[4], p["arch"], c[3]):
                if not c[2]:
                    keys.append((p["name"], c[0], None))
                else:
                    pending.append((p["evr"], c[2]))
                    keys.append((p["name"], c[0], len(pending) - 1))
    res = rpmimg.rpm_compare(work, pending)
    return {(n, v) for n, v, i in keys if i is None or res[i] < 0}


def oval_rpm_cands(path, platform=None):
    out = []
    for lf in oval_leaves.leaves(path):
        if lf["kind"] != "rpm" or not lf["evr"] or lf["op"] != "less than":
            continue
        if platform and platform not in lf["platforms"]:
            continue
        out.append((lf["title"], lf["name"], lf["evr"], lf["arch"], lf["arch_op"]))
    return out


def updateinfo_cands(data):
    out = []
    for u in ET.fromstring(data).iter("update"):
        for p in u.iter("package"):
            e = p.get("epoch") or "0"
            out.append((u.findtext("id").strip(), p.get("name"),
                        "%s:%s-%s" % (e, p.get("version"), p.get("release")), p.get("arch"), "equals"))
    return out


def dpkg_expect(pkgs, cands, tag=None):
    """cands: (vuln name, package, fixed, match_source). fixed "" = unfixed; "0" = not affected (tracker)."""
    if tag:
        FEED_NAMES.setdefault(tag, set()).update(c[1] for c in cands)
    out = set()
    for vn, pn, fixed, by_source in cands:
        for n, v, s in pkgs:
            if not (n == pn or (by_source and (s or n) == pn)):
                continue
            if fixed == "":
                out.add((n, vn))
            elif fixed == "0":
                continue
            elif dpkg_cmp(v, "lt", fixed):
                out.add((n, vn))
    return out


# ---------------------------------------------------------------- main

def main():
    if not SHARED or not DSN:
        print("skipped: SHARED_DIR or PG_DSN unset (../shared is absent)")
        print("0 passed, 1 failed")
        return 1
    for tool in ("rpm", "rpmbuild", "dpkg"):
        if not shutil.which(tool):
            print("missing tool:", tool)
            print("0 passed, 1 failed")
            return 1
    work = tempfile.mkdtemp(dir=TMP)
    www = os.path.join(work, "www")
    td = os.path.join(SHARED, "testdata")
    fd = os.path.join(td, "feeds")
    for d in ("rhel/RHEL8", "aws", "oracle", "suse", "ubuntu", "debian", "layers"):
        os.makedirs(os.path.join(www, d))

    # ---- feeds, at the paths the updaters ask for (compressed where the vendor compresses)
    def put(rel, data, comp=None):
        if comp == "bz2":
            data = bz2.compress(data)
        elif comp == "gz":
            data = gzip.compress(data, mtime=0)
        with open(os.path.join(www, rel), "wb") as f:
            f.write(data)

    rd = lambda p: open(p, "rb").read()
    put("rhel/RHEL8/rhel-8.oval.xml.bz2", rd(os.path.join(fd, "rhel/com.redhat.rhsa-RHEL8.xml")), "bz2")
    put("aws/al1-updateinfo.xml", rd(os.path.join(fd, "aws/amazon_linux_1_updateinfo.excerpt.xml")))
    put("aws/al2-updateinfo.xml.gz", rd(os.path.join(fd, "aws/amazon_linux_2_updateinfo.excerpt.xml")), "gz")
    shutil.copy(os.path.join(fd, "aws/updateinfo_2023.excerpt.xml.gz"), os.path.join(www, "aws/al2023-updateinfo.xml.gz"))
    put("oracle/com.oracle.elsa-2007.xml.bz2", rd(os.path.join(fd, "oracle/ELSA-2007-0057.xml")), "bz2")
    put("oracle/com.oracle.elsa-2015.xml.bz2", rd(os.path.join(fd, "oracle/elsa-oval.excerpt1.xml")), "bz2")
    # the second excerpt (ELSA-2015-1207) is also from 2015: served through the per-updater url override
    put("oracle/elsa-2015-1207.xml.bz2", rd(os.path.join(fd, "oracle/elsa-oval.excerpt2.xml")), "bz2")
    put("suse/suse.linux.enterprise.server.12.xml.gz", rd(os.path.join(fd, "suse/suse.linux.enterprise.server.12.excerpt.xml")), "gz")
    put("suse/opensuse.leap.42.1.xml.gz", rd(os.path.join(fd, "suse/opensuse.leap.excerpt.xml")), "gz")
    put("ubuntu/com.ubuntu.xenial.cve.oval.xml.bz2", rd(os.path.join(fd, "ubuntu/com.ubuntu.xenial.cve.oval.excerpt.xml")), "bz2")
    put("debian/json", rd(os.path.join(fd, "debian/security-tracker-excerpt.json")))
    deb_oval = os.path.join(SRC, "scanner/updaters/oval/testdata/debian-oval-sample.xml")
    put("debian/oval-definitions-bookworm.xml", rd(deb_oval))

    # ---- images
    t_img = time.time()
    images = {}  # tag -> (manifest hash, expected pairs by source, installed)
    layers = {}

    def add_layer(tag, entries):
        blob = tar_layer(entries)
        open(os.path.join(www, "layers", tag + ".tar.gz"), "wb").write(blob)
        layers[tag] = "sha256:" + hashlib.sha256(blob).hexdigest()

    rhel_pkgs = json.load(open(os.path.join(td, "expected/rhel/inputs/ubi8-2019-05-amd64.pkgs.json")))
    mapping = {"data": {"rhel-8-for-x86_64-baseos-rpms": {"cpes": ["cpe:/o:redhat:enterprise_linux:8::baseos"]},
                        "rhel-8-for-x86_64-appstream-rpms": {"cpes": ["cpe:/a:redhat:enterprise_linux:8::appstream"]}}}
    map_path = os.path.join(work, "repository-to-cpe.json")
    json.dump(mapping, open(map_path, "w"))
    content_manifest = json.dumps({"metadata": {"icm_version": 1, "image_layer_index": 0},
                                   "content_sets": sorted(mapping["data"]), "image_contents": []}).encode()
    rpm_installed = {}
    try:
        db, inst = rpmimg.build_rpmdb(work, "rhel8", [dict(p, source=p["source"]) for p in rhel_pkgs])
        rpm_installed["rhel8"] = inst
        add_layer("rhel8", [("etc/os-release", OSREL["rhel8"].encode()),
                            ("etc/redhat-release", b"Red Hat Enterprise Linux release 8.0 (Ootpa)\n"),
                            ("root/buildinfo/content_manifests/ubi8-container-8.0-126.json", content_manifest),
                            ("var/lib/rpm/rpmdb.sqlite", db)])
        for tag, pk in RPM_IMAGES.items():
            db, inst = rpmimg.build_rpmdb(work, tag, pk)
            rpm_installed[tag] = inst
            add_layer(tag, [(n, c.encode()) for n, c in RPM_FILES[tag]] + [("var/lib/rpm/rpmdb.sqlite", db)])
        ok = True
        detail = ""
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        ok, detail = False, str(e)
    check("rpm databases built with rpmbuild + rpm (%d images)" % (len(RPM_IMAGES) + 1), ok, detail)
    if not ok:
        return summary()
    rhel_want_in = {(p["name"], "%s:%s-%s.%s" % (p["epoch"], p["version"], p["release"], p["arch"])) for p in rhel_pkgs}
    rhel_got_in = {(p["name"], "%s:%s-%s.%s" % (p["epoch"], p["version"], p["release"], p["arch"])) for p in rpm_installed["rhel8"]}
    check("rhel8 rpmdb holds exactly the 178 packages of ubi8-2019-05-amd64.pkgs.json", rhel_want_in == rhel_got_in,
          "missing %s extra %s" % (sorted(rhel_want_in - rhel_got_in)[:5], sorted(rhel_got_in - rhel_want_in)[:5]))
    for tag, pk in DPKG_IMAGES.items():
        entries = [(n, c.encode()) for n, c in DPKG_FILES[tag]]
        entries.append(("var/lib/dpkg/status", dpkg_status(pk)))
        for n, _, _ in pk:
            entries.append(("var/lib/dpkg/info/%s.list" % n, ("/usr/share/doc/%s\n" % n).encode()))
        add_layer(tag, entries)
    print("# images built in %.1fs" % (time.time() - t_img))

    # ---- expectations, per image and source
    E = {}
    rhel_tsv = os.path.join(td, "expected/rhel/shared-rhel8-oval-2019-11__ubi8-2019-05-amd64.expected.tsv")
    E["rhel8"] = {"rhel": {tuple(l.split("\t")[:2]) for l in open(rhel_tsv).read().splitlines() if l}}
    aws = {"al1": updateinfo_cands(rd(os.path.join(fd, "aws/amazon_linux_1_updateinfo.excerpt.xml"))),
           "al2": updateinfo_cands(rd(os.path.join(fd, "aws/amazon_linux_2_updateinfo.excerpt.xml"))),
           "al2023": updateinfo_cands(gzip.open(os.path.join(fd, "aws/updateinfo_2023.excerpt.xml.gz")).read())}
    for tag in aws:
        E[tag] = {"aws": rpm_expect(work, rpm_installed[tag], aws[tag], tag)}
    ora_files = [os.path.join(fd, "oracle", f) for f in ("ELSA-2007-0057.xml", "elsa-oval.excerpt1.xml", "elsa-oval.excerpt2.xml")]
    for tag, plat in (("ol7", "Oracle Linux 7"), ("ol5", "Oracle Linux 5")):
        c = [x for f in ora_files for x in oval_rpm_cands(f, plat)]
        E[tag] = {"oracle": rpm_expect(work, rpm_installed[tag], c, tag)}
    E["sles12"] = {"suse": rpm_expect(work, rpm_installed["sles12"], oval_rpm_cands(
        os.path.join(fd, "suse/suse.linux.enterprise.server.12.excerpt.xml")), "sles12")}
    E["leap421"] = {"suse": rpm_expect(work, rpm_installed["leap421"], oval_rpm_cands(
        os.path.join(fd, "suse/opensuse.leap.excerpt.xml")), "leap421")}
    # ubuntu: dpkginfo leaves; a test without a state is unfixed ("")
    ub = [(lf["title"], lf["name"], lf["evr"] or "", False)
          for lf in oval_leaves.leaves(os.path.join(fd, "ubuntu/com.ubuntu.xenial.cve.oval.excerpt.xml"))
          if lf["kind"] == "dpkg" and not lf["other_state"] and (lf["evr"] is None or lf["op"] == "less than")]
    ub = [(t, n, "" if f == "0" else f, s) for t, n, f, s in ub]  # Ubuntu: "0" = no fix yet
    for tag in ("xenial-a", "xenial-b"):
        E[tag] = {"ubuntu": dpkg_expect(DPKG_IMAGES[tag], ub, tag)}
    tracker = json.load(open(os.path.join(fd, "debian/security-tracker-excerpt.json")))
    for tag in ("buster", "bookworm"):
        c = []
        for src, cves in tracker.items():
            for cve, info in cves.items():
                rel = info.get("releases")
                if isinstance(rel, dict) and tag in rel:
                    c.append((cve, src, rel[tag].get("fixed_version") or "", True))
        E[tag] = {"debian": dpkg_expect(DPKG_IMAGES[tag], c, tag)}
    dov = [(lf["title"], lf["name"], lf["evr"] or "", True) for lf in oval_leaves.leaves(deb_oval)
           if lf["kind"] == "dpkg" and not lf["other_state"] and (lf["evr"] is None or dpkg_valid(lf["evr"]))]
    E["bookworm"]["debian-oval"] = dpkg_expect(DPKG_IMAGES["bookworm"], dov, "bookworm")
    # every source must exercise both outcomes: a package the feed names that is vulnerable, and one the
    # feed names that is not (fixed, "not affected", or the wrong release); xenial-b is the fixed half of Ubuntu
    groups = [[t] for t in list(RPM_IMAGES) + ["buster", "bookworm"]] + [["xenial-a", "xenial-b"]]
    for g in groups:
        vul, safe = set(), set()
        for tag in g:
            want = set().union(*E[tag].values())
            inst = ({(p["name"], p["srpm"].rsplit("-", 2)[0]) for p in rpm_installed[tag]} if tag in rpm_installed
                    else {(n, s or n) for n, _, s in DPKG_IMAGES[tag]})
            named = {n for n, src in inst if n in FEED_NAMES[tag] or src in FEED_NAMES[tag]}
            vul |= {(tag, n) for n, _ in want}
            safe |= {(tag, n) for n in named - {n for n, _ in want}}
        check("%s: expectation has vulnerable and fixed/unaffected packages named by the feed (%d / %d)"
              % ("+".join(g), len(vul), len(safe)), vul and safe, "%s / %s" % (sorted(vul), sorted(safe)))

    # ---- clair with every OS updater set
    hport = free_port()
    web = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", www, str(hport)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d/" % hport
    wait_http(base + "debian/json")
    conf = os.path.join(work, "config.yaml")
    cfg = {
        "http_listen_addr": None, "introspection_addr": None, "log_level": "info",
        "indexer": {"connstring": DSN, "migrations": True,
                    "scanner": {"repo": {"rhel-repository-scanner": {"repo2cpe_mapping_file": map_path}}}},
        "matcher": {"connstring": DSN, "migrations": True},
        "updaters": {"sets": ["rhel", "aws", "oracle", "suse", "ubuntu", "debian", "debian-oval"], "config": {
            "rhel": {"url": base + "rhel/", "releases": [8]},
            "aws": {"releases": ["AL1", "AL2", "AL2023"],
                    "urls": {"AL1": base + "aws/al1-updateinfo.xml", "AL2": base + "aws/al2-updateinfo.xml.gz",
                             "AL2023": base + "aws/al2023-updateinfo.xml.gz"}},
            "oracle": {"url": base + "oracle/", "years": [2007, 2015, 2016],
                       "urls": {"oracle-2016-updater": base + "oracle/elsa-2015-1207.xml.bz2"}},
            "suse": {"url": base + "suse/", "products": ["suse.linux.enterprise.server.12", "opensuse.leap.42.1"]},
            "ubuntu": {"url": base + "ubuntu/", "releases": ["xenial"]},
            "debian": {"url": base + "debian/json",
                       "releases": {"jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11",
                                    "bookworm": "12", "trixie": "13"}},
            "debian-oval": {"url": base + "debian/", "releases": ["bookworm"]},
        }},
    }
    port, iport = free_port(), free_port()
    cfg["http_listen_addr"] = "127.0.0.1:%d" % port
    cfg["introspection_addr"] = "127.0.0.1:%d" % iport
    with open(conf, "w") as f:
        json.dump(cfg, f, indent=1)  # JSON is YAML
    logp = os.path.join(work, "clair.log")
    log = open(logp, "w")
    clair = subprocess.Popen([os.path.join(BIN, "clair"), "-conf", conf, "-mode", "combo"], stdout=log, stderr=log)
    check("clair starts with every OS updater set", wait_http("http://127.0.0.1:%d/readyz" % iport))
    api = "http://127.0.0.1:%d" % port
    want_ops = {"RHEL8-rhel-8", "aws-AL1-updater", "aws-AL2-updater", "aws-AL2023-updater", "oracle-2007-updater",
                "oracle-2015-updater", "oracle-2016-updater", "suse-updater-suse.linux.enterprise.server.12",
                "suse-updater-opensuse.leap.42.1", "ubuntu/updater/xenial", "debian/updater", "debian/updater/bookworm"}
    try:
        t_upd = time.time()
        ops = {}
        end = time.time() + 120
        while time.time() < end:
            st, hd, body = http("GET", api + "/matcher/api/v1/internal/update_operation")
            if st == 200:
                ops = json.loads(body)
                if want_ops <= set(ops):
                    break
            if clair.poll() is not None:
                break
            time.sleep(0.5)
        check("update operations for all %d updaters (%.1fs)" % (len(want_ops), time.time() - t_upd),
              want_ops <= set(ops), "missing %s; log: %s" % (sorted(want_ops - set(ops)),
                                                             open(logp).read()[-2500:]))
        t_rep = time.time()
        for tag in layers:
            mh = "sha256:" + hashlib.sha256(("matcher-sources-" + tag).encode()).hexdigest()
            manifest = {"hash": mh, "layers": [{"hash": layers[tag], "uri": base + "layers/%s.tar.gz" % tag,
                                                "headers": {}}]}
            st, _, body = http("POST", api + "/indexer/api/v1/index_report", json.dumps(manifest).encode(),
                               {"Content-Type": "application/json"})
            ir = json.loads(body) if st in (200, 201) else {}
            check("%s: indexed (%d packages)" % (tag, len(ir.get("packages", {}))),
                  st in (200, 201) and ir.get("success") is True and ir.get("packages"), body[:400])
            st, _, body = http("GET", api + "/matcher/api/v1/vulnerability_report/" + mh)
            vr = json.loads(body) if st == 200 else {}
            check("%s: vulnerability_report 200" % tag, st == 200, body[:300])
            images[tag] = (ir, vr)
        print("# 12 images indexed and reported in %.1fs" % (time.time() - t_rep))
    finally:
        clair.send_signal(signal.SIGTERM)
        try:
            rc = clair.wait(30)
        except subprocess.TimeoutExpired:
            clair.kill()
            rc = -1
        web.terminate()
    check("clair exits 0 on SIGTERM", rc == 0, open(logp).read()[-2000:])

    # ---- compare
    src_of = lambda upd: ("rhel" if upd.startswith("RHEL") else "aws" if upd.startswith("aws-") else
                          "oracle" if upd.startswith("oracle-") else "suse" if upd.startswith("suse-") else
                          "ubuntu" if upd.startswith("ubuntu/") else "debian-oval" if upd.startswith("debian/updater/")
                          else "debian" if upd == "debian/updater" else "other:" + upd)
    for tag in layers:
        ir, vr = images.get(tag, ({}, {}))
        got = {}
        pk, vulns = vr.get("packages", {}), vr.get("vulnerabilities", {})
        for pid, ids in (vr.get("package_vulnerabilities") or {}).items():
            for vid in ids:
                v = vulns.get(vid, {})
                s = src_of(v.get("updater", ""))
                name = norm(v.get("name"))
                if s == "rhel":
                    m = re.match(r"(RH[SBE]A-\d+:\d+)", name)
                    name = m.group(1) if m else name
                got.setdefault(s, set()).add((pk.get(pid, {}).get("name"), name))
        for s in sorted(set(E[tag]) | set(got)):
            w, g = E[tag].get(s, set()), got.get(s, set())
            title = "%s/%s: (package, vulnerability) pairs equal the expectation (%d)" % (tag, s, len(w))
            detail = "missing %s\n  extra %s" % (sorted(w - g), sorted(g - w))
            if w == g:
                check(title, True)
            else:
                check(title, False, detail)
        # every reported vulnerability carries Clair's fields
        bad = [v for v in vulns.values() if v.get("normalized_severity") not in
               ("Unknown", "Negligible", "Low", "Medium", "High", "Critical") or not v.get("name")]
        check("%s: vulnerabilities carry name and a normalized severity" % tag, not bad, json.dumps(bad[:2])[:600])
    print("# total %.1fs" % (time.time() - T0))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
