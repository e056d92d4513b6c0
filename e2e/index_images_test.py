#!/usr/bin/env python3
"""End to end: bin/clair (combo mode, test PostgreSQL) indexes every real test image through
POST /indexer/api/v1/index_report, served by Debian's docker-registry on loopback.

Images and the expected package lists come from hack/images/build.sh (the tools themselves wrote
the lists: dpkg-query, rpm -qa, the apk db, importlib.metadata); see hack/images/README.md.
Checked per tag: dpkg / rpm / apk / python package sets, the distribution from the os-release,
Red Hat content sets, whiteouts (purged packages, Python packages removed by .wh. and opaque
whiteouts), ETag = index_state, a warm second POST (no layer fetched, identical report), GET
index_report. Hostile tags: a clear error or a report, the server keeps serving, RSS bounded.

Env (hack/run-tests.sh): CLAIR_BIN_DIR, PG_DSN, TEST_TMPDIR, SRC_DIR; CLAIR_IMAGE_CACHE optional.
Last line: "N passed, N failed"; exit 1 on any failure. Known product bugs are listed in
KNOWN_BUGS: such a check prints "KNOWN BUG: ..." and counts as passed while it still fails, and
fails (so somebody removes the mark) once the product is fixed.
"""
import gzip
import hashlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
import urllib.error
import urllib.parse
import urllib.request

SRC_DIR = os.environ.get("SRC_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = os.environ.get("CLAIR_BIN_DIR") or os.path.join(SRC_DIR, "bin")
CACHE = os.environ.get("CLAIR_IMAGE_CACHE", "/var/cache/clairc-test-images")
PG_DSN = os.environ.get("PG_DSN", "")
# ASan's shadow memory and quarantine inflate RSS about threefold: the sanitizer run keeps a
# bound (a runaway still fails) but a looser one
RSS_LIMIT_MIB = 800 if os.environ.get("CLAIR_SANITIZED") else 200

# check name -> description of the product bug; the check is an expected failure until fixed.
KNOWN_BUGS = {}  # the three found by this test (stale request head, PEP 503 names, quadratic dpkg) are fixed
BIG_STATUS_TIMEOUT = 60
BUSY = []  # cases clair is still working on (a clean-stop check would only measure them)

passed = failed = 0
results = []


def check(name, cond, detail=""):
    """Record one check. A check listed in KNOWN_BUGS that fails counts as passed (expected
    failure); if it passes, it fails so that the mark gets removed."""
    global passed, failed
    if name in KNOWN_BUGS:
        if cond:
            failed += 1
            print(f"FAIL {name}: marked KNOWN BUG but now passes; remove it from KNOWN_BUGS")
        else:
            passed += 1
            print(f"KNOWN BUG: {name}: {KNOWN_BUGS[name]} ({detail})")
        return cond
    if cond:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")
    return cond


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


SPURIOUS = []  # (method, url, status, body) of answers that name a path the client never sent


def http(method, url, body=None, headers=None, timeout=600):
    """-> (status, headers dict (lower-case names; repeated joined by '\n'), body bytes).
    KNOWN BUG (scanner/httpapi/server.c conn_process): when a request body arrives in a later read
    than its head, c->in is reallocated and the parsed head's pointers (path, method, headers)
    dangle, so a valid POST is answered 404 'no route for "/"' (or 301). Such answers are recorded
    in SPURIOUS and the request is retried, so that the other checks still test the indexer; the
    check "http: no spurious 404/301" reports the bug."""
    for i in range(40):
        if i:
            time.sleep(min(0.02 * i, 0.3))
        st, h, b = http_once(method, url, body, headers, timeout)
        path = urllib.parse.urlsplit(url).path
        if (st == 404 and b.startswith(b'{"code":"not-found","message":"no route for') and
                f'no route for \\"{path}\\"'.encode() not in b) or st == 301:
            SPURIOUS.append((method, url, st, b[:120]))
            continue
        return st, h, b
    return st, h, b


def http_once(method, url, body=None, headers=None, timeout=600):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            st, hd, b = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        st, hd, b = e.code, e.headers, e.read()
    h = {}
    for k, v in hd.items():
        k = k.lower()
        h[k] = h[k] + "\n" + v if k in h else v
    return st, h, b


def jload(b):
    try:
        return json.loads(b)
    except (ValueError, TypeError):
        return None


def read_tsv(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n").split("\t") for l in f if l.strip()]


def read_kv(path):
    rows = read_tsv(path) or []
    return {r[0]: (r[1] if len(r) > 1 else "") for r in rows}


def vm(pid, key):
    """VmHWM / VmRSS of pid in KiB (None when gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for l in f:
                if l.startswith(key + ":"):
                    return int(l.split()[1])
    except OSError:
        return None
    return None


# ---------------------------------------------------------------- report helpers

def pkgs_by_db(rep):
    """[(package, env)] for every package and each of its environments."""
    out = []
    envs = rep.get("environments") or {}
    for pid, p in (rep.get("packages") or {}).items():
        for e in envs.get(pid) or []:
            out.append((p, e))
    return out


def src(p):
    s = p.get("source") or {}
    return s.get("name", ""), s.get("version", "")


def diff_sets(want, got, n=6):
    miss = sorted(want - got)[:n]
    extra = sorted(got - want)[:n]
    return f"want {len(want)} got {len(got)}; missing {miss}; unexpected {extra}"


def rpm_source(srpm):
    """curl-7.61.1-18.el8.src.rpm -> (curl, 7.61.1-18.el8)"""
    s = srpm
    for suf in (".rpm", ".src", ".nosrc"):
        if s.endswith(suf):
            s = s[: -len(suf)]
    parts = s.rsplit("-", 2)
    if len(parts) != 3:
        return "", ""
    return parts[0], parts[1] + "-" + parts[2]


def python_expected(img, rows):
    """Clair's python scanner skips usr/lib*/python[23]/ in a layer that has var/lib/dpkg/status
    (claircore python/packagescanner.go; those files belong to .deb packages, reported by dpkg).
    In the debian images the python metadata arrives in the apt layer, so Clair reports none."""
    out = set()
    for r in rows or []:
        if img in ("debian", "zstd") and re.match(r"usr/lib[^/]*/python[23]/", r[3]):
            continue
        out.add((r[1], r[2]))
    return out


def check_dist(name, rep, osr):
    dists = list((rep.get("distributions") or {}).values())
    want_id = osr.get("ID", "")
    d = next((x for x in dists if x.get("did") == want_id), None)
    if not check(f"{name}: distribution did={want_id}", d is not None, f"distributions {dists}"):
        return None
    if want_id == "debian":
        ok = (d.get("version_id") == osr.get("VERSION_ID") and d.get("version_code_name") == osr.get("VERSION_CODENAME")
              and d.get("name") == osr.get("NAME") and d.get("pretty_name") == osr.get("PRETTY_NAME")
              and d.get("version") == osr.get("VERSION"))
    elif want_id == "alpine":
        ok = (d.get("version") == osr.get("VERSION_ID", "").rsplit(".", 1)[0] and d.get("name") == osr.get("NAME")
              and d.get("pretty_name") == osr.get("PRETTY_NAME"))
    elif want_id == "rhel":
        major = osr.get("VERSION_ID", "").split(".")[0]
        ok = (d.get("version_id") == major and d.get("version") == major
              and f"enterprise_linux:{major}" in (d.get("cpe") or ""))
    else:
        ok = d.get("version_id") == osr.get("VERSION_ID")
    check(f"{name}: distribution fields match os-release", ok, f"got {d}, os-release {osr}")
    return d


def check_report_shape(name, rep, mhash):
    ok = (isinstance(rep, dict) and rep.get("manifest_hash") == mhash and rep.get("state") == "IndexFinished"
          and rep.get("success") is True and rep.get("err") == "")
    check(f"{name}: report IndexFinished, success, manifest_hash", ok,
          f"state={rep.get('state') if isinstance(rep, dict) else rep} err={rep.get('err') if isinstance(rep, dict) else ''}")
    envs = rep.get("environments") or {}
    pk = rep.get("packages") or {}
    bad = [k for k in pk if not envs.get(k)]
    bad += [k for k, v in pk.items() if v.get("id") != k]
    check(f"{name}: every package has its id and environments", not bad, f"bad ids {bad[:5]}")
    dists = rep.get("distributions") or {}
    dangling = [e.get("distribution_id") for es in envs.values() for e in es
                if e.get("distribution_id") and e.get("distribution_id") not in dists]
    check(f"{name}: environments point at reported distributions", not dangling, f"dangling {dangling[:5]}")


def check_packages(name, img, tag, rep):
    exp = os.path.join(CACHE, img, "expected")
    pe = pkgs_by_db(rep)
    osr = read_kv(os.path.join(exp, f"{tag}.os-release.tsv"))
    dist = check_dist(name, rep, osr) if osr else None

    rows = read_tsv(os.path.join(exp, f"{tag}.dpkg.tsv"))
    if rows is not None:
        want = {tuple(r[:5]) for r in rows}
        got_pk = {p["id"]: p for p, e in pe if e.get("package_db") == "var/lib/dpkg/status"}
        got = {(p["name"], p["version"], p.get("arch", ""), *src(p)) for p in got_pk.values()}
        check(f"{name}: dpkg packages (name, version, arch, source name/version) = dpkg-query", want == got,
              diff_sets(want, got))
        if dist:
            wrong = [p["name"] for p, e in pe if e.get("package_db") == "var/lib/dpkg/status"
                     and e.get("distribution_id") != dist["id"]]
            check(f"{name}: dpkg environments carry the distribution", not wrong, f"{wrong[:5]}")

    rows = read_tsv(os.path.join(exp, f"{tag}.rpm.tsv"))
    if rows is not None:
        want = set()
        for r in rows:
            r = (r + [""] * 5)[:5]
            mod = ":".join(r[4].split(":")[:2]) if r[4].count(":") >= 2 else ""
            want.add((r[0], r[1], r[2], *rpm_source(r[3]), mod))
        got_pk = {p["id"]: p for p, e in pe if re.match(r"(bdb|sqlite|ndb):", e.get("package_db", ""))}
        got = {(p["name"], p["version"], p.get("arch", ""), *src(p), p.get("module", "")) for p in got_pk.values()}
        check(f"{name}: rpm packages (name, EVR, arch, source, module) = rpm -qa", want == got, diff_sets(want, got))
        cm = os.path.join(exp, f"{tag}.content_manifest.json")
        if os.path.exists(cm):
            sets = set(json.load(open(cm)).get("content_sets") or [])
            uris = {r.get("uri", "") for r in (rep.get("repository") or {}).values()
                    if r.get("key") == "rhel-cpe-repository"}
            got_sets = {u.split("repoid=", 1)[1].split("&")[0] for u in uris if "repoid=" in u}
            check(f"{name}: Red Hat content sets are repositories", sets and sets <= got_sets,
                  f"content sets {sorted(sets)}, repositories {sorted(uris)}")
            if dist:
                with_dist = {p["id"] for p, e in pe if re.match(r"(bdb|sqlite):", e.get("package_db", ""))
                             and e.get("distribution_id") == dist["id"] and e.get("repository_ids")}
                check(f"{name}: every rpm package has an environment with the RHEL distribution and repositories",
                      with_dist == set(got_pk), f"{len(with_dist)} of {len(got_pk)}")

    rows = read_tsv(os.path.join(exp, f"{tag}.apk.tsv"))
    if rows is not None:
        want = {tuple((r + [""] * 4)[:4]) for r in rows}
        got_pk = {p["id"]: p for p, e in pe if e.get("package_db") == "lib/apk/db/installed"}
        got = {(p["name"], p["version"], p.get("arch", ""), src(p)[0]) for p in got_pk.values()}
        check(f"{name}: apk packages (name, version, arch, origin) = apk db", want == got, diff_sets(want, got))

    # packages removed by a later layer (tzdata purged, zlib erased, ...): absent from the report
    tags = [t.strip() for t in open(os.path.join(CACHE, img, "tags")) if t.strip()] if img != "hostile" else []
    if tag in tags and tags.index(tag) > 0:
        for kind in ("dpkg", "rpm", "apk"):
            prev = read_tsv(os.path.join(exp, f"{tags[0]}.{kind}.tsv"))
            cur = read_tsv(os.path.join(exp, f"{tag}.{kind}.tsv"))
            if prev is None or cur is None:
                continue
            gone = {r[0] for r in prev} - {r[0] for r in cur}
            if not gone:
                continue
            names = {p["name"] for p, e in pe if e.get("package_db", "").endswith(("status", "installed", "var/lib/rpm"))}
            still = sorted(gone & names)
            check(f"{name}: {kind} packages removed after {img}:{tags[0]} are absent ({', '.join(sorted(gone))[:60]})",
                  not still, f"still reported: {still}")

    if img != "hostile":
        rows = read_tsv(os.path.join(exp, f"{tag}.python.tsv"))
        want = python_expected(img, rows)
        got = {(p["name"], p["version"]) for p, e in pe if e.get("package_db", "").startswith("python:")}
        check(f"{name}: python packages (PEP 503 name, version) = importlib.metadata (Clair's skip rules)",
              want == got, diff_sets(want, got))


# ---------------------------------------------------------------- hand-made whiteout layers

def tar_layer(entries):
    """entries: [(path, bytes|None for a directory)] -> gzip'd tar bytes"""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, data in entries:
            ti = tarfile.TarInfo(path)
            ti.mtime = 1700000000
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            else:
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


# ---------------------------------------------------------------- main

def main():
    tmp = tempfile.mkdtemp(prefix="e2e-images.", dir=os.environ.get("TEST_TMPDIR") or None)
    reg = os.path.join(tmp, "reg")
    clair = None
    t_start = time.time()

    def cleanup():
        if clair is not None and clair.poll() is None:
            clair.send_signal(signal.SIGTERM)
            try:
                clair.wait(20)
            except subprocess.TimeoutExpired:
                clair.kill()
                clair.wait()
        subprocess.run(["bash", os.path.join(SRC_DIR, "hack/registry.sh"), "stop", reg],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        if not PG_DSN:
            check("environment: PG_DSN set (run under hack/run-tests.sh)", False, "PG_DSN empty")
            return
        clair_bin = os.path.join(BIN_DIR, "clair")
        if not check("bin/clair built", os.access(clair_bin, os.X_OK), f"{clair_bin} missing: make all"):
            return

        # 1. image cache
        t0 = time.time()
        r = subprocess.run(["bash", os.path.join(SRC_DIR, "hack/images/build.sh"), CACHE],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not check(f"image cache built/reused ({time.time() - t0:.1f}s)", r.returncode == 0,
                     f"build.sh exit {r.returncode}" + (" (missing tool)" if r.returncode == 2 else "") +
                     ":\n" + r.stdout[-1500:]):
            return

        # 2. registry
        r = subprocess.run(["bash", os.path.join(SRC_DIR, "hack/registry.sh"), "start", reg],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not check("registry started", r.returncode == 0, r.stdout[-800:]):
            return
        registry = read_kv_env(os.path.join(reg, "env"))["REGISTRY"]
        t0 = time.time()
        r = subprocess.run(["bash", os.path.join(SRC_DIR, "hack/registry.sh"), "push", reg, CACHE],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not check(f"images pushed ({time.time() - t0:.1f}s)", r.returncode == 0, r.stdout[-800:]):
            return
        reglog = os.path.join(reg, "registry.log")

        def blob_gets():
            try:
                with open(reglog, errors="replace") as f:
                    return sum(1 for l in f if '"GET /v2/' in l and "/blobs/" in l)
            except OSError:
                return 0

        # 3. clair
        api_port, intro_port = free_port(), free_port()
        api = f"http://127.0.0.1:{api_port}"
        intro = f"http://127.0.0.1:{intro_port}"
        conf = os.path.join(tmp, "config.yaml")
        with open(conf, "w") as f:
            f.write(f"http_listen_addr: 127.0.0.1:{api_port}\nintrospection_addr: 127.0.0.1:{intro_port}\n"
                    f"log_level: info\n"
                    f"indexer: {{connstring: \"{PG_DSN}\", migrations: true, layer_scan_concurrency: 4}}\n"
                    f"matcher: {{connstring: \"{PG_DSN}\", migrations: true}}\n")
        clair_log = os.path.join(tmp, "clair.log")
        logf = open(clair_log, "wb")
        clair = subprocess.Popen([clair_bin, "-conf", conf, "-mode", "combo"], stdout=logf, stderr=logf,
                                 stdin=subprocess.DEVNULL)
        ready = False
        for _ in range(600):
            if clair.poll() is not None:
                break
            try:
                if http("GET", intro + "/readyz", timeout=2)[0] == 200:
                    ready = True
                    break
            except OSError:
                pass
            time.sleep(0.1)
        if not check("clair ready (GET /readyz 200)", ready, open(clair_log, errors="replace").read()[-2000:]):
            return
        st, h, b = http("GET", api + "/indexer/api/v1/index_state")
        state = (jload(b) or {}).get("state", "")
        check("GET index_state 200 with a state and its ETag", st == 200 and state and h.get("etag") == f'"{state}"',
              f"status {st} body {b[:200]} etag {h.get('etag')}")

        def readyz_and_state(name):
            ok1 = clair.poll() is None and http("GET", intro + "/readyz", timeout=10)[0] == 200
            ok2 = clair.poll() is None and http("GET", api + "/indexer/api/v1/index_state", timeout=10)[0] == 200
            check(f"{name}: server keeps serving (readyz 200, index_state 200)", ok1 and ok2,
                  f"clair exit {clair.poll()}; log tail:\n" + open(clair_log, errors="replace").read()[-1500:])
            return ok1 and ok2

        layers_dir = os.path.join(tmp, "layers")
        os.makedirs(layers_dir, exist_ok=True)
        lport = free_port()
        srv = ThreadingHTTPServer(("127.0.0.1", lport),
                                  lambda *a, **k: QuietHandler(*a, directory=layers_dir, **k))
        threading.Thread(target=srv.serve_forever, daemon=True).start()

        # 4. every tag of the cache
        images = read_tsv(os.path.join(CACHE, "images.tsv"))
        cases = {r[0]: r for r in (read_tsv(os.path.join(CACHE, "hostile/expected/cases.tsv")) or [])}
        for img, tag, repo in images:
            name = f"{img}:{tag}"
            r = subprocess.run([sys.executable, os.path.join(SRC_DIR, "hack/images/manifest.py"), registry,
                                f"{repo}:{tag}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if not check(f"{name}: manifest.py", r.returncode == 0, r.stderr[-500:]):
                continue
            body = r.stdout
            mhash = json.loads(body)["hash"]
            if img == "hostile":
                reset_hwm(clair.pid)
            t0 = time.time()
            st, h, b = http("POST", api + "/indexer/api/v1/index_report", body)
            cold = time.time() - t0
            rep = jload(b)
            if img == "hostile":
                hostile_case(name, tag, cases.get(tag), st, h, b, rep, cold, api, mhash, clair, clair_log)
                readyz_and_state(name)
                if tag.startswith("bomb") or tag == "big-status":
                    hwm = vm(clair.pid, "VmHWM")
                    check(f"{name}: clair peak RSS (VmHWM) < {RSS_LIMIT_MIB} MiB",
                          hwm is not None and hwm < RSS_LIMIT_MIB * 1024, f"VmHWM {hwm} KiB")
                continue
            if not check(f"{name}: POST 201 ({cold:.2f}s cold)", st == 201 and isinstance(rep, dict),
                         f"status {st}: {b[:500]!r}"):
                continue
            check(f"{name}: ETag = quoted index_state", h.get("etag") == f'"{state}"', f"etag {h.get('etag')}")
            check(f"{name}: Location names the manifest",
                  h.get("location") == f"/indexer/api/v1/index_report/{mhash}", f"{h.get('location')}")
            check_report_shape(name, rep, mhash)
            check_packages(name, img, tag, rep)
            # warm: identical report, nothing fetched
            n0 = blob_gets()
            t0 = time.time()
            st2, h2, b2 = http("POST", api + "/indexer/api/v1/index_report", body)
            warm = time.time() - t0
            check(f"{name}: second POST 201 and identical report ({warm * 1000:.1f} ms)",
                  st2 == 201 and jload(b2) == rep, f"status {st2}")
            check(f"{name}: second POST fast (< 1 s) and fetches no layer", warm < 1.0 and blob_gets() == n0,
                  f"{warm:.3f}s, {blob_gets() - n0} blob GETs")
            st3, _, b3 = http("GET", api + f"/indexer/api/v1/index_report/{mhash}")
            check(f"{name}: GET index_report returns the same report", st3 == 200 and jload(b3) == rep,
                  f"status {st3}")

        # 5. whiteouts on Python packages (hand-made layers over alpine:python)
        python_whiteouts(registry, api, layers_dir, lport)

        # 6. the hostile layers again, each with var/lib/dpkg/info/ prepended: Clair (and claircore)
        # only take a dpkg "status" next to an "info" directory in the same layer, and the hostile
        # images have none, so without this the dpkg parser never sees the hostile status files.
        # The bombs of hack/images/hostile.py are 2 GiB of zeros WITHOUT any tar header (its header
        # bytes stay in tarfile's stream buffer: H is empty), so a tar reader stops at once; build
        # real ones here: info/ dir, os-release, then a 2 GiB var/lib/dpkg/status of zeros.
        for tag in ("traversal", "symlink-loop", "many-files", "big-header", "bomb-gzip", "bomb-zstd", "big-status"):
            name = f"hostile:{tag}+info"
            t0 = time.time()
            if tag.startswith("bomb"):
                lay = make_bomb(tag.endswith("zstd"), layers_dir, lport)
            else:
                lay = hostile_with_info(tag, cases.get(tag), layers_dir, lport)
            if not check(f"{name}: layer built ({time.time() - t0:.1f}s)", lay is not None, "see above"):
                continue
            man = {"hash": "sha256:" + hashlib.sha256(("info+" + lay["hash"]).encode()).hexdigest(), "layers": [lay]}
            reset_hwm(clair.pid)
            t0 = time.time()
            try:
                st, h, b = http("POST", api + "/indexer/api/v1/index_report", json.dumps(man),
                                timeout=BIG_STATUS_TIMEOUT if tag == "big-status" else 600)
            except (TimeoutError, socket.timeout, urllib.error.URLError) as e:
                BUSY.append(name)
                check(f"{name}: indexed within {BIG_STATUS_TIMEOUT} s", False, f"no answer after {time.time() - t0:.0f}s: {e}")
                print(f"     {name}: clair VmHWM {vm(clair.pid, 'VmHWM')} KiB after {time.time() - t0:.0f} s (still indexing)")
                readyz_and_state(name)
                continue
            if tag == "big-status":
                check(f"{name}: indexed within {BIG_STATUS_TIMEOUT} s", True)
            hostile_case(name, tag, cases.get(tag), st, h, b, jload(b), time.time() - t0, api, man["hash"], clair,
                         clair_log, with_info=True)
            readyz_and_state(name)
            hwm = vm(clair.pid, "VmHWM")
            check(f"{name}: clair peak RSS (VmHWM) < {RSS_LIMIT_MIB} MiB",
                  hwm is not None and hwm < RSS_LIMIT_MIB * 1024, f"VmHWM {hwm} KiB")
            print(f"     {name}: clair VmHWM {hwm} KiB")
        srv.shutdown()
        srv.server_close()

        posts = sum(1 for m, *_ in SPURIOUS if m == "POST")
        check("http: no spurious 404 'no route for \"/\"' / 301 answers to valid requests", not SPURIOUS,
              f"{len(SPURIOUS)} spurious answers ({posts} to POSTs), first {SPURIOUS[:1]}")
        check("clair still running at the end", clair.poll() is None, f"exit {clair.poll()}")
        print(f"(total {time.time() - t_start:.1f}s; clair VmHWM {vm(clair.pid, 'VmHWM')} KiB)")
        if not BUSY:
            # a clean stop: exit status 0 (a sanitizer build reports leaks / errors here)
            clair.send_signal(signal.SIGTERM)
            try:
                rc = clair.wait(30)
            except subprocess.TimeoutExpired:
                rc = "still running after 30 s"
            check("clair stops cleanly on SIGTERM (exit 0)", rc == 0,
                  f"exit {rc}; log tail:\n" + open(clair_log, errors="replace").read()[-1500:])
    finally:
        cleanup()


def read_kv_env(path):
    out = {}
    with open(path) as f:
        for l in f:
            if "=" in l:
                k, v = l.strip().split("=", 1)
                out[k] = v
    return out


def hostile_with_info(tag, case, layers_dir, port):
    """The hostile layer of TAG, decompressed byte for byte, behind one extra tar block (the
    directory var/lib/dpkg/info/), recompressed with the same algorithm. -> Clair layer JSON."""
    oci = os.path.join(CACHE, "hostile", "oci")
    idx = json.load(open(os.path.join(oci, "index.json")))
    m = [x for x in idx["manifests"] if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if not m:
        print(f"     no {tag} in {oci}")
        return None
    man = json.load(open(os.path.join(oci, "blobs", m[0]["digest"].replace(":", "/"))))
    layer = man["layers"][0]
    blob = os.path.join(oci, "blobs", layer["digest"].replace(":", "/"))
    zstd = layer["mediaType"].endswith("zstd")
    ti = tarfile.TarInfo("var/lib/dpkg/info/")
    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1700000000
    hdr = os.path.join(layers_dir, f"{tag}.hdr")
    with open(hdr, "wb") as f:
        f.write(ti.tobuf(format=tarfile.USTAR_FORMAT))
    out = os.path.join(layers_dir, f"{tag}+info.tar." + ("zst" if zstd else "gz"))
    dec, enc = ("zstd -dcq", "zstd -1 -qc") if zstd else ("gzip -dc", "gzip -1 -c")
    r = subprocess.run(["bash", "-o", "pipefail", "-c", f'(cat "$1"; {dec} "$2") | {enc} > "$3"', "-", hdr, blob, out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print(f"     {tag}+info: {r.stdout[-300:]}")
        return None
    hh = hashlib.sha256()
    with open(out, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hh.update(chunk)
    return {"hash": "sha256:" + hh.hexdigest(), "uri": f"http://127.0.0.1:{port}/{os.path.basename(out)}",
            "headers": {"Accept": [layer["mediaType"]]}}


def reset_hwm(pid):
    """Reset the peak RSS (VmHWM) of pid: proc(5) clear_refs "5"."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def make_bomb(zstd, layers_dir, port):
    """A real tar bomb: var/lib/dpkg/info/, etc/os-release, var/lib/dpkg/status = 2 GiB of zeros.
    gzip: the deflate block of 8 MiB of zeros is compressed once and repeated (Z_FULL_FLUSH);
    zstd: streamed through zstd -3."""
    import struct
    import zlib
    zeros = 2 << 30
    with open(os.path.join(CACHE, "hostile", "expected", "traversal.os-release"), "rb") as f:
        osr = f.read()
    buf = io.BytesIO()
    t = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
    for path, data in (("var/", None), ("var/lib/", None), ("var/lib/dpkg/", None), ("var/lib/dpkg/info/", None),
                       ("etc/", None), ("etc/os-release", osr)):
        ti = tarfile.TarInfo(path)
        ti.mtime = 1700000000
        if data is None:
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            t.addfile(ti)
        else:
            ti.size, ti.mode = len(data), 0o644
            t.addfile(ti, io.BytesIO(data))
    ti = tarfile.TarInfo("var/lib/dpkg/status")
    ti.size, ti.mode, ti.mtime = zeros, 0o644, 1700000000
    H = buf.getvalue() + ti.tobuf(tarfile.PAX_FORMAT)   # not closed: no end blocks yet
    total = len(H) + zeros + 1024
    total += (-total) % tarfile.RECORDSIZE
    CH = 8 << 20
    chunk = bytes(CH)
    k, rem = divmod(total - len(H), CH)
    out = os.path.join(layers_dir, "bomb+info.tar." + ("zst" if zstd else "gz"))
    if zstd:
        with open(out, "wb") as f:
            p = subprocess.Popen(["zstd", "-q", "-c", "-3"], stdin=subprocess.PIPE, stdout=f)
            p.stdin.write(H)
            for _ in range(k):
                p.stdin.write(chunk)
            p.stdin.write(chunk[:rem])
            p.stdin.close()
            if p.wait() != 0:
                print("     zstd failed")
                return None
    else:
        crc = zlib.crc32(H)
        zc = zlib.crc32(chunk)
        for _ in range(k):
            crc = zlib.crc32(chunk, crc)
        crc = zlib.crc32(chunk[:rem], crc)
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        first = co.compress(H) + co.flush(zlib.Z_FULL_FLUSH)
        block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
        last = co.compress(chunk[:rem]) + co.flush(zlib.Z_FINISH)
        with open(out, "wb") as f:
            f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first)
            for _ in range(k):
                f.write(block)
            f.write(last)
            f.write(struct.pack("<II", crc & 0xFFFFFFFF, total & 0xFFFFFFFF))
        del zc
    hh = hashlib.sha256()
    with open(out, "rb") as f:
        for c in iter(lambda: f.read(1 << 20), b""):
            hh.update(c)
    mt = "application/vnd.oci.image.layer.v1.tar+" + ("zstd" if zstd else "gzip")
    return {"hash": "sha256:" + hh.hexdigest(), "uri": f"http://127.0.0.1:{port}/{os.path.basename(out)}",
            "headers": {"Accept": [mt]}}


def log_warns(clair_log):
    with open(clair_log, errors="replace") as f:
        return [l for l in f if '"level":"warn"' in l or '"level":"error"' in l]


def hostile_case(name, tag, case, st, h, b, rep, secs, api, mhash, clair, clair_log, with_info=False):
    """A clear error (HTTP 500 with a message naming the problem) or a report; when a report says
    success, the legit files after the hostile part must have been found."""
    desc = case[3] if case else ""
    print(f"     {name}: HTTP {st} in {secs:.2f}s ({desc[:70]})")
    if st == 201 and isinstance(rep, dict):
        exp = read_tsv(os.path.join(CACHE, "hostile", "expected", f"{tag}.dpkg.tsv"))
        got = {(p["name"], p["version"]) for p, e in pkgs_by_db(rep) if e.get("package_db", "").endswith("status")}
        if tag.startswith("truncated"):
            check(f"{name}: a truncated stream is not a successful index", rep.get("success") is not True,
                  f"state {rep.get('state')} with {len(got)} packages")
            return
        if tag.startswith("bomb"):
            # 2 GiB status of zeros: no packages; the cap must have stopped it (report or error)
            check(f"{name}: report without packages from the bomb", not got, f"{len(got)} packages")
            if with_info:
                w = [l for l in log_warns(clair_log) if mhash in l or "var/lib/dpkg/status" in l and
                     re.search(r"(?i)too (big|large)|skipp|cap|limit|exceed", l)]
                check(f"{name}: the capped status file is reported as a warning", bool(w),
                      "201 without a warning about the status file in clair's log")
                check(f"{name}: distribution still found (os-release before the bomb)",
                      any(d.get("did") == "debian" for d in (rep.get("distributions") or {}).values()),
                      f"{rep.get('distributions')}")
            return
        if exp is not None:
            want = {(r[0], r[1]) for r in exp}
            if not with_info:
                # no var/lib/dpkg/info/ in these layers: not a dpkg database for Clair; never garbage
                check(f"{name}: dpkg packages: none or the expected ones (no info/ dir: not a database)",
                      got <= want, diff_sets(want, got))
            else:
                skipped = not got and tag == "big-status"
                check(f"{name}: dpkg packages = dpkg-query's" + (" (or status skipped with a warning)"
                                                                 if tag == "big-status" else ""),
                      got == want or skipped, diff_sets(want, got))
                if skipped:
                    w = [l for l in log_warns(clair_log) if mhash in l and "status" in l]
                    check(f"{name}: the skipped status file is reported as a warning", bool(w),
                          "no warning line naming the status file")
        if tag == "traversal":
            bad = [p["name"] for p, e in pkgs_by_db(rep) if ".." in e.get("package_db", "")
                   or e.get("package_db", "").startswith("/")]
            check(f"{name}: no package database outside the root", not bad, f"{bad}")
    elif st == 201:
        check(f"{name}: 201 with a JSON report", False, f"body {b[:300]!r}")
    else:
        j = jload(b) or {}
        msg = j.get("message") or j.get("err") or ""
        check(f"{name}: error is HTTP 500 with a message", st == 500 and bool(msg), f"status {st} body {b[:300]!r}")
        if tag.startswith("truncated") or tag.startswith("bomb"):
            check(f"{name}: message says what went wrong", re.search(
                r"(?i)(truncat|unexpected end|eof|corrupt|decompress|gzip|zstd|inflat|cap|limit|too (large|big|many))",
                msg) is not None, msg)
        st2, _, b2 = http("GET", api + f"/indexer/api/v1/index_report/{mhash}")
        j2 = jload(b2) or {}
        check(f"{name}: failed manifest stored as IndexError (GET 200) or absent (404)",
              (st2 == 200 and j2.get("state") == "IndexError" and j2.get("success") is False) or st2 == 404,
              f"status {st2} state {j2.get('state')}")


def python_whiteouts(registry, api, d, port):
    """alpine:python's layers + (1) a layer whiting out six's egg-info and (2) a layer with an
    opaque whiteout of site-packages that adds one new package: six vanishes after (1); after (2)
    only the new package is left (the opaque whiteout hides lower layers, not its own layer)."""
    r = subprocess.run([sys.executable, os.path.join(SRC_DIR, "hack/images/manifest.py"), registry,
                        "clairc/alpine:python"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not check("whiteouts: alpine:python manifest", r.returncode == 0, r.stderr[-300:]):
        return
    base = json.loads(r.stdout)
    sp = "usr/lib/python3.11/site-packages"
    exp = read_tsv(os.path.join(CACHE, "alpine", "expected", "python.python.tsv")) or []
    six = [x for x in exp if x[1] == "six"]
    if not check("whiteouts: alpine:python has six", bool(six), "six not in python.python.tsv"):
        return
    six_entry = six[0][3].rsplit("/", 1)[1]
    meta = b"Metadata-Version: 2.1\nName: Clairc_Probe.Pkg\nVersion: 1.0.post1\n\n"
    layers = {
        "wh.tar.gz": tar_layer([("usr/", None), ("usr/lib/", None), ("usr/lib/python3.11/", None),
                                (sp + "/", None), (f"{sp}/.wh.{six_entry}", b"")]),
        "opq.tar.gz": tar_layer([("usr/", None), ("usr/lib/", None), ("usr/lib/python3.11/", None),
                                 (sp + "/", None), (f"{sp}/.wh..wh..opq", b""),
                                 (f"{sp}/clairc_probe.pkg-1.0.post1.dist-info/", None),
                                 (f"{sp}/clairc_probe.pkg-1.0.post1.dist-info/METADATA", meta)]),
    }
    for fn, data in layers.items():
        with open(os.path.join(d, fn), "wb") as f:
            f.write(data)
    if True:
        def layer(fn):
            return {"hash": "sha256:" + hashlib.sha256(layers[fn]).hexdigest(),
                    "uri": f"http://127.0.0.1:{port}/{fn}",
                    "headers": {"Accept": ["application/vnd.oci.image.layer.v1.tar+gzip"]}}

        def post(ls):
            m = {"layers": ls}
            m["hash"] = "sha256:" + hashlib.sha256(json.dumps(ls, sort_keys=True).encode()).hexdigest()
            st, _, b = http("POST", api + "/indexer/api/v1/index_report", json.dumps(m))
            return st, jload(b) or {}

        def py(rep):
            return {(p["name"], p["version"]) for p, e in pkgs_by_db(rep) if e.get("package_db", "").startswith("python:")}

        all_py = {(x[1], x[2]) for x in exp}
        st, rep = post(base["layers"] + [layer("wh.tar.gz")])
        if check("whiteouts: alpine:python + .wh.six layer indexes (201)", st == 201, f"status {st} {rep}"):
            want = all_py - {("six", six[0][2])}
            check("whiteouts: .wh. removes six, keeps the other Python packages", py(rep) == want,
                  diff_sets(want, py(rep)))
            apk_n = sum(1 for p, e in pkgs_by_db(rep) if e.get("package_db") == "lib/apk/db/installed")
            want_apk = len(read_tsv(os.path.join(CACHE, "alpine", "expected", "python.apk.tsv")) or [])
            check("whiteouts: apk packages untouched by a python whiteout", apk_n == want_apk, f"{apk_n} != {want_apk}")
        st, rep = post(base["layers"] + [layer("wh.tar.gz"), layer("opq.tar.gz")])
        if check("whiteouts: + opaque whiteout layer indexes (201)", st == 201, f"status {st} {rep}"):
            got = py(rep)
            check("whiteouts: opaque whiteout removes every lower-layer Python package, keeps its own layer's",
                  {v for _, v in got} == {"1.0.post1"} and len(got) == 1, f"python packages {sorted(got)}")
            want = {("clairc-probe-pkg", "1.0.post1")}
            check("python: package name normalized as PEP 503 says (Clairc_Probe.Pkg -> clairc-probe-pkg)",
                  got == want, diff_sets(want, got))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a test bug or an unexpected answer: count it, never hide it
        import traceback
        traceback.print_exc()
        check("test ran to completion", False, repr(e))
    finish()
