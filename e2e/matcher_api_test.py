#!/usr/bin/env python3
"""The matcher through Clair's HTTP API on real data, and offline mode through clairctl.

bin/clair (combo) on the test PostgreSQL runs real updaters (Alpine SecDB YAML, pyup.io, OSV)
against real feed files from ../shared/testdata served over HTTP; it indexes an image made of
real package databases (Alpine 3.4's installed db; the Python packages of a real mitmproxy
IndexReport) and answers vulnerability reports, which must equal the worked examples in
testdata/expected (computed by independent oracles: apk-tools, python packaging). Then the same
feeds are exported with `clairctl export-updaters`, imported with `clairctl import-updaters`
into a fresh database, and a second server with disable_updaters serves the same answers.

Prints "N passed, N failed" last.
"""
import gzip, hashlib, io, json, os, shutil, signal, subprocess, sys, tarfile, tempfile, time
import zipfile

from e2elib import check, free_port, http, summary, wait_http

SHARED = os.environ.get("SHARED_DIR")
DSN = os.environ.get("PG_DSN")
BIN = os.environ.get("CLAIR_BIN_DIR", "bin")
TMP = os.environ.get("TEST_TMPDIR", "/tmp")










def tar_layer(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), 1700000000
            tf.addfile(ti, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def psql(dsn, sql):
    subprocess.run(["psql", dsn, "-qtAc", sql], check=True, capture_output=True)


def start_clair(work, port, iport, dsn, extra):
    conf = os.path.join(work, "config-%d.yaml" % port)
    with open(conf, "w") as f:
        f.write("http_listen_addr: 127.0.0.1:%d\nintrospection_addr: 127.0.0.1:%d\nlog_level: info\n" % (port, iport))
        f.write("indexer: {connstring: \"%s\", migrations: true}\n" % dsn)
        f.write(extra)
    log = open(os.path.join(work, "clair-%d.log" % port), "w")
    p = subprocess.Popen([os.path.join(BIN, "clair"), "-conf", conf, "-mode", "combo"], stdout=log, stderr=log)
    ok = wait_http("http://127.0.0.1:%d/readyz" % iport)
    return p, conf, ok


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        return -1


def main():
    if not SHARED or not DSN:
        print("skipped: SHARED_DIR or PG_DSN unset (../shared is absent)")
        print("0 passed, 1 failed")
        return 1
    work = tempfile.mkdtemp(dir=TMP)
    www = os.path.join(work, "www")
    os.makedirs(os.path.join(www, "alpine", "v3.4"))
    td = os.path.join(SHARED, "testdata")
    # feeds, as the vendors publish them
    shutil.copy(os.path.join(td, "feeds/alpine/secdb-yaml/v3.4/main.yaml"), os.path.join(www, "alpine/v3.4/main.yaml"))
    shutil.copy(os.path.join(td, "feeds/pyupio/insecure_full.json"), os.path.join(www, "insecure_full.json"))
    with zipfile.ZipFile(os.path.join(www, "osv-pypi.zip"), "w") as z:
        root = os.path.join(td, "feeds/osv-pypi/vulns")
        for dp, _, fs in os.walk(root):
            for fn in sorted(fs):
                z.write(os.path.join(dp, fn), os.path.relpath(os.path.join(dp, fn), root))
    # the image: Alpine 3.4's installed database + mitmproxy's Python packages
    ir = json.load(open(os.path.join(td, "pkgdb/indexreports/mitmproxy-4.0.1.index.json")))
    py = []
    for pid, pkg in ir["packages"].items():
        envs = ir["environments"].get(pid, [])
        if envs and envs[0]["package_db"].startswith("python:"):
            py.append((pkg["name"], pkg["version"]))
    entries = [("etc/os-release", b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.4.6\nPRETTY_NAME="Alpine Linux v3.4"\n'),
               ("lib/apk/db/installed", open(os.path.join(td, "pkgdb/apk/alpine-3.4.installed"), "rb").read())]
    for n, v in sorted(set(py)):
        d = "usr/lib/python3.6/site-packages/%s-%s.dist-info/" % (n, v)
        entries.append((d + "METADATA", ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (n, v)).encode()))
    blob = tar_layer(entries)
    open(os.path.join(www, "layer.tar.gz"), "wb").write(blob)
    layer_digest = "sha256:" + hashlib.sha256(blob).hexdigest()

    hport = free_port()
    web = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", www, str(hport)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d/" % hport
    wait_http(base + "insecure_full.json")
    updaters = ("matcher: {connstring: \"%s\", migrations: true}\n"
                "updaters:\n  sets: [alpine, pyupio, osv]\n  config:\n"
                "    alpine: {url: \"%salpine/\", releases: [v3.4], repos: [main], format: yaml}\n"
                "    pyupio: {url: \"%sinsecure_full.json\"}\n"
                "    osv: {zip_url: \"%sosv-pypi.zip\"}\n") % (DSN, base, base, base)
    port, iport = free_port(), free_port()
    clair, conf, ok = start_clair(work, port, iport, DSN, updaters)
    check("clair starts with real updaters", ok)
    api = "http://127.0.0.1:%d" % port
    try:
        # the updaters run at start: wait for all three update operations
        ops = {}
        end = time.time() + 120
        while time.time() < end:
            st, hd, body = http("GET", api + "/matcher/api/v1/internal/update_operation")
            if st == 200:
                ops = json.loads(body)
                if {"pyupio", "osv/pypi"} <= set(ops) and any(k.startswith("alpine-main-v3.4") for k in ops):
                    break
            time.sleep(0.5)
        check("update operations for alpine, pyupio, osv", {"pyupio", "osv/pypi"} <= set(ops)
              and any(k.startswith("alpine-main-v3.4") for k in ops), json.dumps(ops)[:500])
        st, hd, _ = http("GET", api + "/matcher/api/v1/internal/update_operation",
                         headers={"If-None-Match": hd.get("Etag", hd.get("ETag", "x"))})
        check("update_operation ETag gives 304", st == 304, str(st))
        alpine_name = [k for k in ops if k.startswith("alpine-main-v3.4")][0] if ops else ""
        if alpine_name:
            ref = ops[alpine_name][0]["ref"]
            st, _, body = http("GET", api + "/matcher/api/v1/internal/update_diff?cur=" + ref)
            diff = json.loads(body) if st == 200 else {}
            check("update_diff from nil lists every vulnerability as added",
                  st == 200 and len(diff.get("added") or []) > 50 and diff.get("removed") is None, body[:300])
        st, _, body = http("GET", api + "/matcher/api/v1/internal/update_diff")
        check("update_diff without cur is 400", st == 400 and b"cur" in body, str(st))

        manifest = {"hash": "sha256:" + "ab" * 32,
                    "layers": [{"hash": layer_digest, "uri": base + "layer.tar.gz", "headers": {}}]}
        st, _, body = http("POST", api + "/indexer/api/v1/index_report", json.dumps(manifest).encode(),
                           {"Content-Type": "application/json"})
        check("index the image", st == 201, body[:300])
        st, hd, body = http("GET", api + "/matcher/api/v1/vulnerability_report/" + manifest["hash"])
        check("vulnerability_report 200", st == 200, body[:300])
        vr = json.loads(body) if st == 200 else {}
        check("Cache-Control max-age", hd.get("Cache-Control", "").startswith("max-age="), str(hd))
        for k in ("manifest_hash", "packages", "distributions", "environments", "vulnerabilities",
                  "package_vulnerabilities", "repository"):
            check("report has " + k, isinstance(vr.get(k), (dict, str)), k)
        vulns, pv, pk = vr.get("vulnerabilities", {}), vr.get("package_vulnerabilities", {}), vr.get("packages", {})
        bad = [v for v in vulns.values() if v.get("normalized_severity") not in
               ("Unknown", "Negligible", "Low", "Medium", "High", "Critical") or v.get("package") is None]
        check("vulnerabilities carry Clair's required fields", not bad, json.dumps(bad[:2]))

        def pairs(pred):
            out = set()
            for pid, ids in pv.items():
                for vid in ids:
                    v = vulns[vid]
                    if pred(v):
                        out.add((pk[pid]["name"], pk[pid]["version"], v["name"]))
            return out

        # Alpine: (package, version, raw secdb id) exactly as apk-tools' oracle says
        want = set()
        for line in open(os.path.join(td, "expected/alpine/shared-secdb-v3.4__alpine-3.4.installed.expected.tsv")):
            f = line.rstrip("\n").split("\t")
            want.add((f[0], f[1], f[3]))
        got = pairs(lambda v: v.get("updater", "").startswith("alpine"))
        check("alpine 3.4: every expected pair, nothing else (%d)" % len(want), got == want,
              "missing %s extra %s" % (sorted(want - got)[:5], sorted(got - want)[:5]))
        # pyup: (package, version, id) with specifiers from packaging's oracle
        want = set()
        for line in open(os.path.join(td, "expected/pypi/shared-pyup-2021-07__mitmproxy.expected.tsv")):
            f = line.rstrip("\n").split("\t")
            want.add((f[0].lower(), f[1], f[2]))
        got = set((n, ver, vn.split(" ")[0]) for n, ver, vn in pairs(lambda v: v.get("updater") == "pyupio"))
        check("pyup.io: every expected pair (%d)" % len(want), want <= got and len(got) == len(want),
              "missing %s extra %s" % (sorted(want - got)[:5], sorted(got - want)[:5]))
        want = set()
        for line in open(os.path.join(td, "expected/pypi/shared-osv-half__mitmproxy.expected.tsv")):
            f = line.rstrip("\n").split("\t")
            if f[4] == "range":
                want.add((f[0].lower(), f[1], f[2]))
        got = pairs(lambda v: v.get("updater", "").startswith("osv"))
        check("OSV: every expected range pair (%d)" % len(want), want <= got,
              "missing %s got %s" % (sorted(want - got)[:5], sorted(got)[:8]))

        # affected_manifest: a vulnerability from the report affects this manifest
        if vulns:
            one = next(iter(vulns.values()))
            st, _, body = http("POST", api + "/indexer/api/v1/internal/affected_manifest/",
                               json.dumps({"vulnerabilities": [one]}).encode())
            am = json.loads(body) if st == 200 else {}
            check("affected_manifest finds the image", st == 200 and manifest["hash"] in am.get("vulnerable_manifests", {}),
                  body[:400])
        st, _, body = http("POST", api + "/indexer/api/v1/internal/affected_manifest/", b"{\"vulnerabilities\": 3}")
        check("affected_manifest rejects a malformed body with 400", st == 400, str(st))
        st, _, _ = http("GET", api + "/matcher/api/v1/vulnerability_report/sha256:" + "cd" * 32)
        check("vulnerability_report of an unknown manifest is 404", st == 404, str(st))
    finally:
        rc = stop(clair)
        check("clair exits 0 on SIGTERM", rc == 0, open(os.path.join(work, "clair-%d.log" % port)).read()[-3000:])

    # ---- offline: export the same updaters, import into a fresh database, no updaters run ----
    odb = "offline_%d" % os.getpid()
    psql(DSN, "DROP DATABASE IF EXISTS %s" % odb)
    psql(DSN, "CREATE DATABASE %s" % odb)
    odsn = DSN.replace("dbname=clair", "dbname=" + odb)
    export = os.path.join(work, "export.ndjson.gz")
    r = subprocess.run([os.path.join(BIN, "clairctl"), "-c", conf, "export-updaters", export], capture_output=True, text=True)
    check("clairctl export-updaters", r.returncode == 0 and os.path.getsize(export) > 1000, r.stderr[-1000:])
    lines = [json.loads(l) for l in gzip.open(export, "rt")]
    check("export is Clair's NDJSON", lines and all({"Updater", "Fingerprint", "Date", "Ref", "Kind"} <= set(l) for l in lines)
          and all(l["Kind"] == "vulnerability" and "Vuln" in l for l in lines), json.dumps(lines[:1])[:500])
    oconf = os.path.join(work, "offline.yaml")
    with open(oconf, "w") as f:
        f.write("matcher: {connstring: \"%s\", migrations: true, disable_updaters: true}\n" % odsn)
    r = subprocess.run([os.path.join(BIN, "clairctl"), "-c", oconf, "import-updaters", export], capture_output=True, text=True)
    check("clairctl import-updaters", r.returncode == 0, r.stderr[-1000:])
    r2 = subprocess.run([os.path.join(BIN, "clairctl"), "-c", oconf, "import-updaters", export], capture_output=True, text=True)
    n_ops = subprocess.run(["psql", odsn, "-qtAc", "select count(*) from update_operation"], capture_output=True, text=True)
    check("a second import of the same export adds nothing", r2.returncode == 0 and n_ops.stdout.strip() == "3",
          n_ops.stdout + r2.stderr[-500:])
    port2, iport2 = free_port(), free_port()
    clair2, _, ok = start_clair(work, port2, iport2, odsn,
                                "matcher: {connstring: \"%s\", migrations: true, disable_updaters: true}\n" % odsn)
    check("offline clair starts", ok)
    try:
        api2 = "http://127.0.0.1:%d" % port2
        st, _, body = http("POST", api2 + "/indexer/api/v1/index_report", json.dumps(manifest).encode())
        st, _, body = http("GET", api2 + "/matcher/api/v1/vulnerability_report/" + manifest["hash"])
        vr2 = json.loads(body) if st == 200 else {}
        names = lambda r: sorted((r["packages"][p]["name"], r["vulnerabilities"][v]["name"])
                                 for p, ids in r.get("package_vulnerabilities", {}).items() for v in ids)
        check("offline server gives the same matches", st == 200 and names(vr2) == names(vr) and names(vr),
              "%d vs %d" % (len(names(vr2)) if vr2 else -1, len(names(vr)) if vr else -1))
        log = open(os.path.join(work, "clair-%d.log" % port2)).read()
        check("offline server fetched no feed", "updater-fetch" not in log and "disable_updaters" in log, log[-1500:])
        # matcher mode: the index report comes from the indexer at matcher.indexer_addr
        port3, iport3 = free_port(), free_port()
        mconf = os.path.join(work, "matcher-mode.yaml")
        with open(mconf, "w") as f:
            f.write("http_listen_addr: 127.0.0.1:%d\nintrospection_addr: 127.0.0.1:%d\n" % (port3, iport3))
            f.write("matcher: {connstring: \"%s\", migrations: true, disable_updaters: true, indexer_addr: \"%s\"}\n"
                    % (odsn, api2))
        mlog = open(os.path.join(work, "clair-matcher.log"), "w")
        clair3 = subprocess.Popen([os.path.join(BIN, "clair"), "-conf", mconf, "-mode", "MATCHER"], stdout=mlog, stderr=mlog)
        check("matcher-mode clair starts", wait_http("http://127.0.0.1:%d/readyz" % iport3))
        try:
            api3 = "http://127.0.0.1:%d" % port3
            st, _, body = http("GET", api3 + "/matcher/api/v1/vulnerability_report/" + manifest["hash"])
            vr3 = json.loads(body) if st == 200 else {}
            check("matcher mode reads the report from the remote indexer", st == 200 and names(vr3) == names(vr),
                  "%d %s" % (st, body[:300]))
            st, _, _ = http("GET", api3 + "/matcher/api/v1/vulnerability_report/sha256:" + "ef" * 32)
            check("matcher mode: unknown manifest is 404", st == 404, str(st))
            st, _, _ = http("GET", api3 + "/indexer/api/v1/index_state")
            check("matcher mode does not mount the indexer", st == 404, str(st))
        finally:
            check("matcher-mode clair exits 0", stop(clair3) == 0)
    finally:
        check("offline clair exits 0", stop(clair2) == 0)
        web.terminate()
        psql(DSN, "DROP DATABASE IF EXISTS %s" % odb)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
