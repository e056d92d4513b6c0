#!/usr/bin/env python3
"""Helpers for hack/bench_matcher.sh (benchmark only; stdlib + psql).

  matcher_bench.py oval SUMMARY_JSON DRIVER_OUT XMLLINT_TIMES   -> prints part 1 (and ok/MISSED)
  matcher_bench.py scale DSN TARGET_ROWS                        -> copies the real vulns until >= TARGET rows
  matcher_bench.py layer DSN WWW NPKG NHIT                      -> writes WWW/layer.tar.gz (Alpine 3.4, NPKG apk packages)
  matcher_bench.py report URL                                   -> one GET: status, vulnerabilities, bytes
  matcher_bench.py wrk FILE                                     -> "rps p50_ms p99_ms non2xx"
"""
import gzip, hashlib, io, json, math, re, statistics, subprocess, sys, tarfile, urllib.request


def psql(dsn, sql, rows=False):
    r = subprocess.run(["psql", dsn, "-qtAX", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-c", sql],
                       check=True, capture_output=True, text=True)
    if rows:
        return [l.split("\t") for l in r.stdout.splitlines() if l]
    return r.stdout.strip()


def ok(b):
    return "ok" if b else "MISSED"


def cmd_oval(summary, driver_out, xml_times):
    s = json.load(open(summary))
    runs = [json.loads(l) for l in open(driver_out) if l.startswith("{")]
    parse = [r["seconds"] for r in runs if r["mode"] == "parse"]
    store = [r["seconds"] for r in runs if r["mode"] == "store"]
    nv = runs[-1]["vulns"]
    xt = [float(x) for x in open(xml_times).read().split()]
    size = s["bytes"]
    mp, ms, mx = statistics.median(parse), statistics.median(store), statistics.median(xt)
    mib = lambda t: size / t / (1 << 20)
    ratio = mx / ms
    print("bench oval parse-and-store (%s, %.1f MiB, %d vulns; median of %d runs)" % (s["path"], size / (1 << 20), nv, len(store)))
    print("  xmllint --stream --noout:      %7.1f ms  %7.1f MiB/s  (incl. process start)" % (mx * 1000, mib(mx)))
    print("  rhel updater parse only:       %7.1f ms  %7.1f MiB/s" % (mp * 1000, mib(mp)))
    print("  rhel updater parse + store:    %7.1f ms  %7.1f MiB/s  (%.0f vulns/s)" % (ms * 1000, mib(ms), nv / ms))
    print("  ratio parse-only/xmllint speed: %.2f (information)" % (mx / mp))
    print("  ratio parse+store/xmllint speed: %.2f  (target >= 0.50: %s)" % (ratio, ok(ratio >= 0.5)))


def columns(dsn):
    return [r[0] for r in psql(dsn, "SELECT column_name FROM information_schema.columns WHERE table_name = 'vuln' "
                                    "AND table_schema = 'public' ORDER BY ordinal_position", rows=True)]


def cmd_scale(dsn, target):
    target = int(target)
    real = int(psql(dsn, "SELECT count(*) FROM vuln"))
    if real == 0:
        sys.exit("scale: no real vulnerabilities loaded")
    copies = max(0, math.ceil((target - real) / real))
    cols = [c for c in columns(dsn) if c not in ("id", "hash", "updater", "package_name")]
    collist = ", ".join(cols)
    sel = ", ".join("v." + c for c in cols)
    psql(dsn, "INSERT INTO update_operation (updater, fingerprint, kind) SELECT 'bench-scale-' || g, 'bench', "
              "'vulnerability' FROM generate_series(1, %d) g" % copies)
    step = 20
    for lo in range(1, copies + 1, step):
        hi = min(copies, lo + step - 1)
        psql(dsn, "BEGIN; CREATE TEMP TABLE bench_new ON COMMIT DROP AS SELECT g FROM generate_series(%d, %d) g; "
                  "WITH ins AS (INSERT INTO vuln (hash, updater, package_name, %s) "
                  "SELECT decode(md5(encode(v.hash, 'hex') || '-bench' || g), 'hex'), 'bench-scale-' || g, "
                  "v.package_name || '-bench' || g, %s FROM vuln v, bench_new WHERE v.updater NOT LIKE 'bench-scale-%%' "
                  "RETURNING id, updater) "
                  "INSERT INTO uo_vuln (uo, vuln) SELECT uo.id, ins.id FROM ins JOIN update_operation uo "
                  "ON uo.updater = ins.updater; COMMIT" % (lo, hi, collist, sel))
    psql(dsn, "REFRESH MATERIALIZED VIEW latest_update_operations")
    psql(dsn, "VACUUM ANALYZE vuln")
    psql(dsn, "VACUUM ANALYZE uo_vuln")
    total = int(psql(dsn, "SELECT count(*) FROM vuln"))
    print(real, copies, total)


def cmd_layer(dsn, www, npkg, nhit):
    npkg, nhit = int(npkg), int(nhit)
    # packages with at least one real Alpine 3.4 vulnerability with a fixed version: any version
    # "0.0.1-r0" is below every fix, so each such package hits all of its rows
    names = [r[0] for r in psql(dsn, "SELECT DISTINCT package_name FROM vuln WHERE dist_id = 'alpine' AND "
                                     "dist_version_id = '3.4' AND updater NOT LIKE 'bench-scale-%' AND "
                                     "fixed_in_version NOT IN ('', '0') ORDER BY 1", rows=True)]
    copies = int(psql(dsn, "SELECT count(*) FROM update_operation WHERE updater LIKE 'bench-scale-%'"))
    if not names:
        sys.exit("layer: no Alpine 3.4 vulnerabilities loaded")
    pkgs = []
    for i in range(nhit):
        n, g = names[i % len(names)], i // len(names)
        pkgs.append(n if g == 0 else "%s-bench%d" % (n, min(g, max(copies, 1))))
    pkgs = list(dict.fromkeys(pkgs))
    i = 0
    while len(pkgs) < npkg:
        pkgs.append("benchmiss%d" % i)
        i += 1
    # as in real installed files, o: is not an entry's last line (the scanner skips that line)
    db = "".join("P:%s\nV:0.0.1-r0\nA:x86_64\no:%s\nt:1700000000\n\n" % (p, p) for p in pkgs).encode()
    osr = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.4.6\nPRETTY_NAME="Alpine Linux v3.4"\n'
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        for name, data in (("etc/os-release", osr), ("lib/apk/db/installed", db)):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), 1700000000
            tf.addfile(ti, io.BytesIO(data))
    blob = gzip.compress(raw.getvalue(), mtime=0)
    open(www + "/layer.tar.gz", "wb").write(blob)
    json.dump(pkgs, open(www + "/packages.json", "w"))
    print("sha256:" + hashlib.sha256(blob).hexdigest(), len(pkgs), min(nhit, len(pkgs)))


def cmd_report(url):
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            body = r.read()
            vr = json.loads(body)
            hit = sum(1 for v in vr.get("package_vulnerabilities", {}).values() if v)
            print(r.status, len(vr.get("vulnerabilities", {})), len(body), len(vr.get("packages", {})), hit)
    except urllib.error.HTTPError as e:
        print(e.code, 0, 0, 0, 0)


def ms(v, u):
    v = float(v)
    return v / 1000 if u == "us" else (v * 1000 if u == "s" else v)


def cmd_wrk(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", t, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", t, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    nbad = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    nreq = re.search(r"(\d+) requests in", t)
    print(rps, ms(*p50.groups()), ms(*p99.groups()), nbad, nreq.group(1) if nreq else 0)


if __name__ == "__main__":
    cmds = {"oval": cmd_oval, "scale": cmd_scale, "layer": cmd_layer, "report": cmd_report, "wrk": cmd_wrk}
    cmds[sys.argv[1]](*sys.argv[2:])
