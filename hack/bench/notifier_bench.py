#!/usr/bin/env python3
"""Helper of hack/bench_notifier.sh (issue 7, Benchmark). Usage: notifier_bench.py WORKDIR

Env: PG_DSN, SHARED_DIR, BIN, PG_LOG (server log of the private PostgreSQL), BENCH_MANIFESTS (10000),
BENCH_IDS (2000), BENCH_INTERVAL_MS (100).

(a) generation: bin/clair (combo, webhook notifier, CLAIR_NOTIFIER_TEST_INTERVAL_MS) loads an OLDER
    Alpine v3.4 SecDB feed (the real sample without the entries of the packages the image is
    vulnerable in: busybox, musl, openssl, zlib), one real image (Alpine 3.4's installed database)
    is indexed, its manifest / manifest_index / indexreport / scanned_manifest rows are cloned in
    SQL (generate_series) into BENCH_MANIFESTS - 1 more manifests with distinct digests, then clair
    restarts on the NEWER feed (the full real sample). Measured: from the new update operation's
    date (and from the moment it is visible) to its receipt being committed (all notifications of
    the id are stored in that one transaction), polled every 5 ms.
(b) delivery: BENCH_IDS notification ids (each with one notification, a 'created' receipt) are
    committed in one transaction; the running clair delivers one webhook POST per id to a local
    ThreadingHTTPServer answering 200. Measured: deliveries/s at the receiver. Same-run baseline:
    the receiver's own capacity (wrk -c1 POST, keep-alive and with a new connection per POST).
    Then, as a diagnosis only, 200 more ids with statement logging on: server-side SQL per delivery.
"""
import base64, gzip, hashlib, hmac, io, json, os, re, signal, socket, subprocess, sys, tarfile, threading, time
import urllib.error, urllib.request
import http.server as httpserver

DSN = os.environ["PG_DSN"]
SHARED = os.environ["SHARED_DIR"]
BIN = os.environ.get("BIN", "bin")
PG_LOG = os.environ.get("PG_LOG", "")
NMAN = int(os.environ.get("BENCH_MANIFESTS", "10000"))
NIDS = int(os.environ.get("BENCH_IDS", "2000"))
INTERVAL_MS = int(os.environ.get("BENCH_INTERVAL_MS", "100"))
PSK = b"notifier-bench-shared-key-0123456789"
WORK = sys.argv[1]


def out(*a):
    print(*a)
    sys.stdout.flush()


def die(msg):
    out("bench_notifier: " + msg)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token():
    h = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64url(json.dumps({"iss": "quay", "exp": int(time.time()) + 300}).encode())
    return h + "." + p + "." + b64url(hmac.new(PSK, (h + "." + p).encode(), hashlib.sha256).digest())


def http(method, url, body=None, auth=True):
    h = {"Authorization": "Bearer " + token()} if auth else {}
    if body is not None:
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return 0, str(e).encode()


def psql(sql, dsn=DSN):
    r = subprocess.run(["psql", dsn, "-qtAX", "-v", "ON_ERROR_STOP=1", "-f", "-"], input=sql, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return r.stdout.strip()


class Poller:
    """One libpq connection through ctypes, for 5 ms polls (a psql per poll costs tens of ms)."""

    def __init__(self, dsn):
        import ctypes, ctypes.util
        lib = ctypes.CDLL(ctypes.util.find_library("pq") or "libpq.so.5")
        lib.PQconnectdb.restype = ctypes.c_void_p
        lib.PQconnectdb.argtypes = [ctypes.c_char_p]
        lib.PQstatus.argtypes = [ctypes.c_void_p]
        lib.PQexec.restype = ctypes.c_void_p
        lib.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.PQresultStatus.argtypes = [ctypes.c_void_p]
        lib.PQntuples.argtypes = [ctypes.c_void_p]
        lib.PQgetvalue.restype = ctypes.c_char_p
        lib.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        lib.PQclear.argtypes = [ctypes.c_void_p]
        lib.PQfinish.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.c = lib.PQconnectdb(dsn.encode())
        if not self.c or lib.PQstatus(self.c) != 0:
            raise RuntimeError("poller: cannot connect")

    def one(self, sql):
        r = self.lib.PQexec(self.c, sql.encode())
        try:
            if self.lib.PQresultStatus(r) != 2 or self.lib.PQntuples(r) < 1:  # PGRES_TUPLES_OK
                return None
            return self.lib.PQgetvalue(r, 0, 0).decode()
        finally:
            self.lib.PQclear(r)

    def close(self):
        self.lib.PQfinish(self.c)


def wait_for(pred, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = pred()
            if v:
                return v
        except (OSError, RuntimeError):
            pass
        time.sleep(step)
    return None


class Receiver:
    """Fast webhook receiver: 200 to every POST, records the arrival time and notification id."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hits = []  # (time, notification_id)
        self.record = True
        rec = self

        class H(httpserver.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if rec.record:
                    t = time.time()
                    try:
                        nid = json.loads(body).get("notification_id", "")
                    except ValueError:
                        nid = ""
                    with rec.lock:
                        rec.hits.append((t, nid))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.hits)


class Clair:
    def __init__(self, feed_base, target):
        self.port, self.iport = free_port(), free_port()
        self.api = "http://127.0.0.1:%d" % self.port
        self.callback = self.api + "/notifier/api/v1/notification/"
        self.conf = os.path.join(WORK, "config.yaml")
        with open(self.conf, "w") as f:
            f.write("http_listen_addr: 127.0.0.1:%d\nintrospection_addr: 127.0.0.1:%d\nlog_level: info\n"
                    % (self.port, self.iport))
            f.write("indexer: {connstring: \"%s\", migrations: true}\n" % DSN)
            f.write("matcher: {connstring: \"%s\", migrations: true}\n" % DSN)
            f.write("updaters:\n  sets: [alpine]\n  config:\n"
                    "    alpine: {url: \"%salpine/\", releases: [v3.4], repos: [main], format: yaml}\n" % feed_base)
            f.write("auth: {psk: {key: \"%s\", iss: [quay]}}\n" % base64.b64encode(PSK).decode())
            f.write("notifier:\n  connstring: \"%s\"\n  migrations: true\n" % DSN)
            f.write("  webhook: {target: \"%s\", callback: \"%s\"}\n" % (target, self.callback))
        self.p = None
        self.n = 0

    def start(self):
        self.n += 1
        self.log = os.path.join(WORK, "clair-%d.log" % self.n)
        env = dict(os.environ, CLAIR_NOTIFIER_TEST_INTERVAL_MS=str(INTERVAL_MS))
        self.p = subprocess.Popen([os.path.join(BIN, "clair"), "-conf", self.conf, "-mode", "combo"],
                                  stdout=open(self.log, "w"), stderr=subprocess.STDOUT, env=env)
        return wait_for(lambda: http("GET", "http://127.0.0.1:%d/readyz" % self.iport, auth=False)[0] == 200, 60)

    def stop(self):
        if not self.p:
            return
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.p = None

    def logtail(self, n=1500):
        try:
            return open(self.log).read()[-n:]
        except OSError:
            return ""


def tar_layer(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), 1700000000
            tf.addfile(ti, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def pg_log_slice(off):
    if not PG_LOG:
        return ""
    with open(PG_LOG, errors="replace") as f:
        f.seek(off)
        return f.read()


def pg_log_size():
    try:
        return os.path.getsize(PG_LOG)
    except OSError:
        return 0


def top_statements(text, k=6):
    agg = {}
    for m in re.finditer(r"duration: ([\d.]+) ms\s+(?:parse|bind|execute|statement)[^:]*: (.{0,80})", text):
        key = " ".join(m.group(2).split())[:80]
        if "log_min_duration" in key or "pg_reload_conf" in key or "WHERE uo_id = '" in key or "LIKE 'alpine-main" in key:
            continue
        c, s = agg.get(key, (0, 0.0))
        agg[key] = (c + 1, s + float(m.group(1)))
    return sorted(agg.items(), key=lambda kv: -kv[1][1])[:k]


def insert_ids(n, nid):
    """n notification ids, each with one notification (a copy of one of nid's) and a 'created' receipt,
    committed in one transaction."""
    psql("""
BEGIN;
CREATE TEMP TABLE ids AS SELECT uuid_generate_v4() AS id, g FROM generate_series(1, %(n)d) g;
CREATE TEMP TABLE uo AS SELECT uuid_generate_v4() AS id;
INSERT INTO notifier_update_operation (uo_id, updater, ts) SELECT id, 'bench-notifier', now() FROM uo;
INSERT INTO notification (id) SELECT id FROM ids;
CREATE TEMP TABLE nb AS SELECT uuid_generate_v4() AS nid, id FROM ids;
INSERT INTO notification_body (id, notification_id, body)
  SELECT nb.nid, nb.id, jsonb_set(b.body, '{id}', to_jsonb(nb.nid::text))
  FROM nb CROSS JOIN (SELECT body FROM notification_body WHERE notification_id = '%(nid)s' LIMIT 1) b;
INSERT INTO receipt (notification_id, uo_id, status, ts) SELECT ids.id, uo.id, 'created', now() + g * interval '1 microsecond' FROM ids, uo;
COMMIT;
""" % {"n": n, "nid": nid})


def main():
    t_start = time.time()
    td = os.path.join(SHARED, "testdata")
    # ---- feeds: newer = the real sample; older = without the image's vulnerable packages
    full = open(os.path.join(td, "feeds/alpine/secdb-yaml/v3.4/main.yaml")).read()
    oracle = os.path.join(td, "expected/alpine/shared-secdb-v3.4__alpine-3.4.installed.expected.tsv")
    hit_pkgs = sorted({l.split("\t")[2] for l in open(oracle) if l.strip()})
    head, sep, rest = full.partition("packages:\n")
    blocks = rest.split("\n  - pkg:\n")
    kept = [b for b in blocks if not any("name: %s\n" % p in b.split("secfixes")[0] for p in hit_pkgs)]
    if len(kept) != len(blocks) - len(hit_pkgs):
        die("older feed: expected to drop %d entries, dropped %d" % (len(hit_pkgs), len(blocks) - len(kept)))
    older = head + sep + "\n  - pkg:\n".join(kept)
    www = os.path.join(WORK, "www")
    os.makedirs(os.path.join(www, "alpine", "v3.4"))
    feed = os.path.join(www, "alpine/v3.4/main.yaml")
    with open(feed, "w") as f:
        f.write(older)
    os.utime(feed, (1600000000, 1600000000))
    blob = tar_layer([("etc/os-release", b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.4.6\nPRETTY_NAME="Alpine Linux v3.4"\n'),
                      ("lib/apk/db/installed", open(os.path.join(td, "pkgdb/apk/alpine-3.4.installed"), "rb").read())])
    with open(os.path.join(www, "layer.tar.gz"), "wb") as f:
        f.write(blob)
    layer_digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    hport = free_port()
    web = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", www, str(hport)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d/" % hport
    wait_for(lambda: http("GET", base + "layer.tar.gz", auth=False)[0] == 200, 10)
    rec = Receiver()
    clair = Clair(base, "http://127.0.0.1:%d/secscan/notification" % rec.port)
    try:
        return run(clair, rec, base, feed, full, layer_digest, hit_pkgs, t_start)
    finally:
        clair.stop()
        web.terminate()
        web.wait()
        rec.srv.shutdown()


def run(clair, rec, base, feed, full, layer_digest, hit_pkgs, t_start):
    # ---------------------------------------------------------------- setup
    if not clair.start():
        die("clair did not become ready: " + clair.logtail())
    if not wait_for(lambda: '"component":"notifier","msg":"started"' in open(clair.log).read(), 15):
        die("%s/clair logged no notifier start (a build without the notifier? run make): %s" % (BIN, clair.logtail()))

    def alpine_uos():
        return psql("SELECT ref FROM update_operation WHERE updater LIKE 'alpine-main-v3.4%' ORDER BY id")
    ref1 = wait_for(alpine_uos, 120)
    if not ref1:
        die("the older feed did not become an update operation: " + clair.logtail())
    if not wait_for(lambda: psql("SELECT status FROM receipt WHERE uo_id = '%s'" % ref1) == "delivered", 60):
        die("the older feed's UO got no 'delivered' receipt: " + clair.logtail())
    orig = "sha256:" + hashlib.sha256(b"bench-notifier-0").hexdigest()
    body = json.dumps({"hash": orig, "layers": [{"hash": layer_digest, "uri": base + "layer.tar.gz", "headers": {}}]})
    st, rb = http("POST", clair.api + "/indexer/api/v1/index_report", body.encode())
    if st != 201:
        die("index_report answered %d: %s" % (st, rb[:300]))
    clair.stop()
    npk = int(psql("SELECT count(*) FROM manifest_index mi JOIN manifest m ON m.id = mi.manifest_id WHERE m.hash = '%s'" % orig))
    t0 = time.time()
    psql("""
BEGIN;
CREATE TEMP TABLE src AS SELECT id FROM manifest WHERE hash = '%(orig)s';
CREATE TEMP TABLE nm AS WITH ins AS (
  INSERT INTO manifest (hash)
  SELECT 'sha256:' || encode(sha256(('bench-notifier-' || g)::bytea), 'hex') FROM generate_series(1, %(n)d) g
  RETURNING id) SELECT id FROM ins;
INSERT INTO manifest_index (package_id, dist_id, repo_id, manifest_id)
  SELECT mi.package_id, mi.dist_id, mi.repo_id, nm.id FROM manifest_index mi JOIN src ON mi.manifest_id = src.id CROSS JOIN nm;
INSERT INTO indexreport (manifest_id, state, scan_result)
  SELECT nm.id, ir.state, jsonb_set(ir.scan_result, '{manifest_hash}', to_jsonb(m.hash))
  FROM indexreport ir JOIN src ON ir.manifest_id = src.id CROSS JOIN nm JOIN manifest m ON m.id = nm.id;
INSERT INTO scanned_manifest (manifest_id, scanner_id)
  SELECT nm.id, sm.scanner_id FROM scanned_manifest sm JOIN src ON sm.manifest_id = src.id CROSS JOIN nm;
COMMIT;
VACUUM ANALYZE manifest; VACUUM ANALYZE manifest_index; VACUUM ANALYZE indexreport;
""" % {"orig": orig, "n": NMAN - 1})
    nm = int(psql("SELECT count(DISTINCT manifest_id) FROM manifest_index"))
    nmi = int(psql("SELECT count(*) FROM manifest_index"))
    out("bench notifier: 1 real image (Alpine 3.4 installed db, %d packages) indexed, cloned in SQL to %d manifests "
        "(%d manifest_index rows) in %.1f s" % (npk, nm, nmi, time.time() - t0))

    # ---------------------------------------------------------------- (a) generation
    with open(feed, "w") as f:
        f.write(full)
    os.utime(feed, (1700000000, 1700000000))
    psql("ALTER SYSTEM SET log_min_duration_statement = 0")
    psql("SELECT pg_reload_conf()")
    log_off = pg_log_size()
    rec.record = True
    t_launch = time.time()
    if not clair.start():
        die("clair (newer feed) did not become ready: " + clair.logtail())
    ref2 = None
    t_visible = None
    t_stored = None
    poll = Poller(DSN)
    deadline = time.time() + 900
    while time.time() < deadline:
        if not ref2:
            r = poll.one("SELECT ref::text FROM update_operation WHERE updater LIKE 'alpine-main-v3.4%%' "
                         "AND ref <> '%s' ORDER BY id DESC LIMIT 1" % ref1)
            if r:
                ref2, t_visible = r, time.time()
        if ref2 and poll.one("SELECT 1 FROM receipt WHERE uo_id = '%s'" % ref2) == "1":
            t_stored = time.time()
            break
        if clair.p.poll() is not None:
            die("clair exited: " + clair.logtail())
        time.sleep(0.005)
    poll.close()
    if not t_stored:
        die("no receipt for the new update operation within 900 s: " + clair.logtail())
    psql("ALTER SYSTEM RESET log_min_duration_statement")
    psql("SELECT pg_reload_conf()")
    stmt_log = pg_log_slice(log_off)
    # notifier_update_operation.ts = now() of the store transaction (receipt.ts moves on delivery)
    row = psql("SELECT extract(epoch FROM u.date), r.notification_id, r.status, extract(epoch FROM n.ts) "
               "FROM update_operation u, receipt r, notifier_update_operation n "
               "WHERE u.ref = '%s' AND r.uo_id = u.ref AND n.uo_id = u.ref" % ref2).split("|")
    t_uo, nid, rstatus, t_receipt_ts = float(row[0]), row[1], row[2], float(row[3])
    nnot, nman_notified, nvuln = psql(
        "SELECT count(*), count(DISTINCT body->>'manifest'), count(DISTINCT body->'vulnerability'->>'name') "
        "FROM notification_body WHERE notification_id = '%s'" % nid).split("|")
    nnot, nman_notified = int(nnot), int(nman_notified)
    added = ""
    m = re.search(r'"update operation processed".*?"uo":"%s"[^\n]*' % ref2, open(clair.log).read())
    if m:
        a = re.search(r'"added":(\d+)', m.group(0))
        added = a.group(1) if a else ""
    total = t_stored - t_uo
    out("")
    out("bench generation: new Alpine v3.4 update operation (%s vulns added, notifier poll/delivery interval %d ms via "
        "CLAIR_NOTIFIER_TEST_INTERVAL_MS) -> notifications stored" % (added or "?", INTERVAL_MS))
    out("  stored: %d notifications (summary mode) for %d manifests, %s distinct summary vulns, receipt '%s'"
        % (nnot, nman_notified, nvuln, rstatus))
    out("  clair start -> UO visible: %.2f s (updater fetch + parse + store)" % (t_visible - t_launch))
    out("  UO date -> UO visible (commit of the update):          %7.3f s" % (t_visible - t_uo))
    out("  UO date -> store transaction begins (n_u_o.ts):       %7.3f s  (diff + affected manifests + summaries)"
        % (t_receipt_ts - t_uo))
    out("  store transaction begins -> committed (seen, 5 ms poll): %5.3f s" % (t_stored - t_receipt_ts))
    out("  UO date -> all notifications stored:                   %7.3f s" % total)
    out("  notifications stored per second (UO date -> stored):   %7.0f /s" % (nnot / total if total > 0 else 0))
    ok = nman_notified == NMAN and nnot >= NMAN
    out("  every manifest notified: %s (%d of %d)" % ("ok" if ok else "MISSED", nman_notified, NMAN))
    cand = psql("SELECT count(*) FROM (SELECT v.package_name FROM uo_vuln uv JOIN update_operation u ON u.id = uv.uo "
                "JOIN vuln v ON v.id = uv.vuln WHERE u.ref = '%s' AND NOT EXISTS (SELECT 1 FROM uo_vuln uv1 "
                "JOIN update_operation u1 ON u1.id = uv1.uo WHERE u1.ref = '%s' AND uv1.vuln = uv.vuln)) a "
                "JOIN package p ON p.name = a.package_name JOIN manifest_index mi ON mi.package_id = p.id" % (ref2, ref1))
    out("  affected-manifests candidate rows (added vuln x manifest_index row of a package of that name): %s" % cand)
    tops = top_statements(stmt_log)
    if tops:
        out("  server-side statement time during (a), largest totals (count, total ms):")
        for k, (c, s) in tops:
            out("    %6d x %9.1f ms  %s" % (c, s, k))

    # the id of (a) is delivered too (one webhook for its 10,000 notifications)
    got = wait_for(lambda: [h for h in rec.snapshot() if h[1] == nid], 60)
    out("  its webhook (one POST for the whole id) arrived %.3f s after the commit" % (got[0][0] - t_stored) if got
        else "  its webhook did not arrive within 60 s: MISSED")
    # reading them back through the API (default page size 500)
    t0 = time.time()
    pages, seen, nxt = 0, 0, ""
    while True:
        st, b = http("GET", clair.callback + nid + ("?next=" + nxt if nxt else ""))
        if st != 200:
            out("  GET page answered %d: %s" % (st, b[:200]))
            break
        pg = json.loads(b)
        pages += 1
        seen += len(pg.get("notifications", []))
        nxt = pg.get("page", {}).get("next", "")
        if not nxt:
            break
    dt = time.time() - t0
    out("  reading them back: %d notifications in %d pages of 500 in %.2f s (%.0f /s)" % (seen, pages, dt, seen / dt if dt else 0))

    # ---------------------------------------------------------------- (b) delivery
    wait_for(lambda: psql("SELECT count(*) FROM receipt WHERE status IN ('created', 'delivery_failed')") == "0", 60)
    # receiver capacity baseline (keep-alive, one connection, same request shape)
    lua = os.path.join(WORK, "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = \'{"notification_id":"00000000-0000-4000-8000-000000000000",'
                '"callback":"http://x/"}\'\nwrk.headers["Content-Type"] = "application/json"\n')
    rec.record = False
    r = subprocess.run(["wrk", "-t1", "-c1", "-d3s", "-s", lua, "http://127.0.0.1:%d/secscan/notification" % rec.port],
                       capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    base_rps = float(m.group(1)) if m else 0.0
    r = subprocess.run(["wrk", "-t1", "-c1", "-d3s", "-s", lua, "-H", "Connection: close",
                        "http://127.0.0.1:%d/secscan/notification" % rec.port], capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    base_close = float(m.group(1)) if m else 0.0
    rec.record = True
    n0 = len(rec.snapshot())
    insert_ids(NIDS, nid)
    t_commit = time.time()
    done = wait_for(lambda: len({h[1] for h in rec.snapshot()[n0:]}) >= NIDS, 600, step=0.02)
    t_done = time.time()
    hits = rec.snapshot()[n0:]
    ids = {h[1] for h in hits}
    left = psql("SELECT count(*) FROM receipt WHERE status <> 'delivered'")
    out("")
    out("bench delivery: %d notification ids committed at once, one webhook POST per id (Clair's webhook carries only "
        "{notification_id, callback}), delivery interval %d ms" % (NIDS, INTERVAL_MS))
    if hits:
        span = hits[-1][0] - hits[0][0]
        rate = (len(hits) - 1) / span if span > 0 else 0
        out("  receiver got %d POSTs for %d distinct ids; first %.3f s after the commit, last %.3f s after"
            % (len(hits), len(ids), hits[0][0] - t_commit, hits[-1][0] - t_commit))
        out("  webhook deliveries/s (first -> last POST):  %8.0f /s" % rate)
        out("  webhook deliveries/s (commit -> last POST): %8.0f /s" % (len(ids) / (hits[-1][0] - t_commit)))
        # gaps: the pause between delivery ticks (1000 ids per tick)
        gaps = sorted(((hits[i][0] - hits[i - 1][0]), i) for i in range(1, len(hits)))[-3:]
        out("  largest gaps between consecutive POSTs: " + ", ".join("%.0f ms before #%d" % (g * 1000, i) for g, i in reversed(gaps)))
    out("  receiver capacity, same run, wrk -t1 -c1 POST: keep-alive %.0f req/s, a new connection per POST %.0f req/s"
        % (base_rps, base_close))
    if hits and base_close:
        out("  ratio clair deliveries / receiver (new connection per POST, as clair does): %.2f" % (rate / base_close))
    out("  all delivered once, receipts 'delivered': %s (%d POSTs, %d ids, %s receipts not 'delivered')"
        % ("ok" if done and len(hits) == NIDS and left == "0" else "MISSED", len(hits), len(ids), left))
    # diagnosis (statement logging on, not part of the figure above): server-side SQL per delivery
    psql("ALTER SYSTEM SET log_min_duration_statement = 0")
    psql("SELECT pg_reload_conf()")
    time.sleep(0.3)
    log_off = pg_log_size()
    n0 = len(rec.snapshot())
    insert_ids(200, nid)
    wait_for(lambda: len(rec.snapshot()) - n0 >= 200, 120, step=0.02)
    time.sleep(0.3)
    psql("ALTER SYSTEM RESET log_min_duration_statement")
    psql("SELECT pg_reload_conf()")
    text = pg_log_slice(log_off)
    tot = sum(float(x) for x in re.findall(r"duration: ([\d.]+) ms", text))
    nst = len(re.findall(r"duration: ([\d.]+) ms", text))
    out("  diagnosis, 200 more ids with statement logging on: %.0f statement phases, %.2f ms server-side per delivery; largest:"
        % (nst / 200.0, tot / 200.0))
    for k, (c, t) in top_statements(text, 5):
        out("    %6d x %9.1f ms  %s" % (c, t, k))
    clair.stop()
    out("")
    out("bench_notifier took %.0f s" % (time.time() - t_start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
