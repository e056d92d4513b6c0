#!/usr/bin/env python3
"""The notifier end to end: real Alpine SecDB feed, real image, webhook / AMQP / STOMP delivery.

bin/clair (combo, PSK auth, CLAIR_NOTIFIER_TEST_INTERVAL_MS=500) in a fresh database loads an
OLDER Alpine v3.4 feed (the real sample without its busybox entry) served over HTTP; the notifier
turns that first update operation into a 'delivered' receipt (nothing indexed yet). Two manifests
made of Alpine 3.4's real installed database are indexed, then Clair restarts on the NEWER feed
(the full sample): the busybox vulnerabilities the image has (apk-tools' oracle in
testdata/expected) must produce exactly one notification id with one 'added' notification per
manifest, delivered once to a webhook receiver that checks the JWT exactly as Quay does (HS256 with
the PSK, nbf/iat/exp required, no future iat, no aud), after two answers of 500 (retried, not
dropped). The pages (page_size 1 then next), bad input, DELETE then 404 follow.

Then: SIGKILL while a webhook is in flight (the notification is delivered after the restart, once);
notifier mode (a separate `clair -mode notifier` reaching the combo server's matcher and indexer
over HTTP with intraservice JWTs) gives the same notifications. With a private RabbitMQ
(hack/rabbitmq.sh): AMQP direct mode (messages = JSON arrays of notifications, app-id
clairV4-notifier, passive declare of amq.direct) consumed through the broker's STOMP side, a broker
restart after which delivery continues, STOMP callback mode first with a refused login (retried,
clear error) then the right one, STOMP direct mode (BEGIN/SEND/COMMIT, rollup 2), AMQP callback
mode. Notification sets are regenerated between phases by clearing the notifier tables, which
makes the notifier process the newest update operation again.

Prints "N passed, N failed" last.
"""
import base64, gzip, hashlib, hmac, io, json, os, re, shutil, signal, socket, subprocess, sys
import tarfile, tempfile, threading, time, urllib.error, urllib.parse, urllib.request
import http.server as httpserver

SHARED = os.environ.get("SHARED_DIR")
DSN = os.environ.get("PG_DSN")
BIN = os.environ.get("CLAIR_BIN_DIR", "bin")
TMP = os.environ.get("TEST_TMPDIR", "/tmp")
SRC = os.environ.get("SRC_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PSK = b"notifier-e2e-shared-key-0123456789"
INTERVAL_MS = 500
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok  ", name)
    else:
        failed += 1
        print("FAIL", name, str(detail)[:2000])
    sys.stdout.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def sign(claims, key=PSK):
    h = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64url(json.dumps(claims).encode())
    sig = hmac.new(key, (h + "." + p).encode(), hashlib.sha256).digest()
    return h + "." + p + "." + b64url(sig)


def quay_token():
    return sign({"iss": "quay", "exp": int(time.time()) + 300})


def quay_verify(auth_header):
    """Quay's endpoints/secscan.py: strict header regex, HS256 with the PSK, nbf/iat/exp required,
    iat and nbf not in the future (no leeway), exp not past, no aud. Returns None or the reason."""
    m = re.match(r"^Bearer (([a-zA-Z0-9+\-_/]+\.)+[a-zA-Z0-9+\-_/]+)$", auth_header or "")
    if not m:
        return "no bearer token"
    parts = m.group(1).split(".")
    if len(parts) != 3:
        return "not a JWS"
    try:
        hdr = json.loads(b64url_dec(parts[0]))
        claims = json.loads(b64url_dec(parts[1]))
    except Exception as e:
        return "undecodable: %s" % e
    if hdr.get("alg") != "HS256":
        return "alg %r" % hdr.get("alg")
    want = hmac.new(PSK, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(want, b64url_dec(parts[2])):
        return "bad signature"
    now = time.time()
    for k in ("nbf", "iat", "exp"):
        if not isinstance(claims.get(k), int):
            return "missing " + k
    if claims["iat"] > now or claims["nbf"] > now:
        return "iat/nbf in the future"
    if claims["exp"] <= now:
        return "expired"
    if "aud" in claims:
        return "unexpected aud"
    return None


def notifier_valid(u):
    return bool(re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", u or ""))


def http(method, url, body=None, headers=None, auth=True):
    h = dict(headers or {})
    if auth:
        h["Authorization"] = "Bearer " + quay_token()
    req = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_for(pred, timeout, step=0.25):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = pred()
            if v:
                return v
        except OSError:
            pass
        time.sleep(step)
    return None


def psql(dsn, sql):
    r = subprocess.run(["psql", dsn, "-qtAc", sql], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return r.stdout.strip()


def tar_layer(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), 1700000000
            tf.addfile(ti, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


class _Stop(Exception):
    pass


# ---- webhook receiver ----

class Receiver:
    def __init__(self):
        self.lock = threading.Lock()
        self.reqs = []  # (status answered, jwt problem or None, headers, body)
        self.fail_next = 0
        self.hang_next = 0  # hold the next POST for 3 s and never answer it
        self.hung = threading.Event()
        rec = self

        class H(httpserver.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with rec.lock:
                    hang = rec.hang_next > 0
                    if hang:
                        rec.hang_next -= 1
                        rec.reqs.append(("hung", quay_verify(self.headers.get("Authorization")), dict(self.headers), body))
                if hang:
                    rec.hung.set()
                    time.sleep(3)
                    self.close_connection = True
                    return
                with rec.lock:
                    status = 500 if rec.fail_next > 0 else 200
                    if rec.fail_next > 0:
                        rec.fail_next -= 1
                    problem = quay_verify(self.headers.get("Authorization"))
                    if problem:
                        status = 401
                    rec.reqs.append((status, problem, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"Okay")

            def log_message(self, *a):
                pass

        self.srv = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.reqs)


# ---- a tiny STOMP 1.2 client (consumer side) ----

class Stomp:
    def __init__(self, port, login, passcode):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.send("CONNECT", {"accept-version": "1.2", "host": "/", "login": login, "passcode": passcode,
                              "heart-beat": "0,0"}, escape=False)
        f = self.frame(10)
        if not f or f[0] != "CONNECTED":
            raise RuntimeError("STOMP connect failed: %r" % (f,))

    def send(self, cmd, headers, body=b"", escape=True):
        def esc(v):
            return v.replace("\\", "\\\\").replace("\n", "\\n").replace(":", "\\c") if escape else v
        out = cmd + "\n" + "".join("%s:%s\n" % (esc(k), esc(v)) for k, v in headers.items()) + "\n"
        self.s.sendall(out.encode() + body + b"\0")

    def subscribe(self, dest, sid="0"):
        self.send("SUBSCRIBE", {"destination": dest, "id": sid, "ack": "auto", "receipt": "sub-" + sid})
        f = self.frame(10)
        if not f or f[0] != "RECEIPT":
            raise RuntimeError("STOMP subscribe failed: %r" % (f,))

    def frame(self, timeout):
        end = time.time() + timeout
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            hend = self.buf.find(b"\n\n")
            if hend >= 0:
                head = self.buf[:hend].decode().split("\n")
                hdrs = {}
                for line in head[1:]:
                    k, _, v = line.partition(":")
                    hdrs.setdefault(k, v.replace("\\c", ":").replace("\\n", "\n").replace("\\\\", "\\"))
                if "content-length" in hdrs:
                    n = int(hdrs["content-length"])
                    if len(self.buf) >= hend + 2 + n + 1:
                        body = self.buf[hend + 2:hend + 2 + n]
                        self.buf = self.buf[hend + 2 + n + 1:]
                        return head[0], hdrs, body
                else:
                    z = self.buf.find(b"\0", hend + 2)
                    if z >= 0:
                        body = self.buf[hend + 2:z]
                        self.buf = self.buf[z + 1:]
                        return head[0], hdrs, body
            left = end - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def messages(self, n, timeout):
        out = []
        end = time.time() + timeout
        while len(out) < n and time.time() < end:
            f = self.frame(max(0.1, end - time.time()))
            if f and f[0] == "MESSAGE":
                out.append(f)
        return out

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# ---- clair ----

class Clair:
    def __init__(self, work, dsn, feed_base):
        self.work, self.dsn, self.feed_base = work, dsn, feed_base
        self.port, self.iport = free_port(), free_port()
        self.api = "http://127.0.0.1:%d" % self.port
        self.p = None
        self.n = 0

    def start(self, notifier_yaml, remote_api=None):
        """combo mode; with remote_api: notifier mode against that combo server."""
        self.n += 1
        conf = os.path.join(self.work, "config-%d-%d.yaml" % (self.port, self.n))
        with open(conf, "w") as f:
            f.write("http_listen_addr: 127.0.0.1:%d\nintrospection_addr: 127.0.0.1:%d\nlog_level: info\n"
                    % (self.port, self.iport))
            if not remote_api:
                f.write("indexer: {connstring: \"%s\", migrations: true}\n" % self.dsn)
                f.write("matcher: {connstring: \"%s\", migrations: true}\n" % self.dsn)
                f.write("updaters:\n  sets: [alpine]\n  config:\n"
                        "    alpine: {url: \"%salpine/\", releases: [v3.4], repos: [main], format: yaml}\n" % self.feed_base)
            f.write("auth: {psk: {key: \"%s\", iss: [quay]}}\n" % base64.b64encode(PSK).decode())
            f.write("notifier:\n  connstring: \"%s\"\n  migrations: true\n" % self.dsn)
            if remote_api:
                f.write("  indexer_addr: \"%s/\"\n  matcher_addr: \"%s\"\n" % (remote_api, remote_api))
            f.write(notifier_yaml)
        self.log = os.path.join(self.work, "clair-%d-%d.log" % (self.port, self.n))
        env = dict(os.environ, CLAIR_NOTIFIER_TEST_INTERVAL_MS=str(INTERVAL_MS))
        self.p = subprocess.Popen([os.path.join(BIN, "clair"), "-conf", conf, "-mode", "notifier" if remote_api else "combo"],
                                  stdout=open(self.log, "w"), stderr=subprocess.STDOUT, env=env)
        return wait_for(lambda: http("GET", "http://127.0.0.1:%d/readyz" % self.iport, auth=False)[0] == 200, 60)

    def stop(self):
        if not self.p:
            return 0
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = -1
        self.p = None
        return rc

    def logtext(self):
        try:
            return open(self.log).read()
        except OSError:
            return ""


def main():
    if not SHARED or not DSN:
        print("skipped: SHARED_DIR or PG_DSN unset")
        print("0 passed, 1 failed")
        return 1
    t0 = time.time()
    work = tempfile.mkdtemp(dir=TMP)
    td = os.path.join(SHARED, "testdata")
    db = "notifier_e2e_%d" % os.getpid()
    psql(DSN, "DROP DATABASE IF EXISTS %s" % db)
    psql(DSN, "CREATE DATABASE %s" % db)
    dsn = DSN + " dbname=" + db

    # feeds: the newer = the real sample; the older = the sample without its busybox entry
    full = open(os.path.join(td, "feeds/alpine/secdb-yaml/v3.4/main.yaml")).read()
    head, sep, rest = full.partition("packages:\n")
    blocks = rest.split("\n  - pkg:\n")
    kept = [b for b in blocks if "name: busybox\n" not in b.split("secfixes")[0]]
    check("older feed drops exactly the busybox entry", len(kept) == len(blocks) - 1, len(blocks))
    older = head + sep + "\n  - pkg:\n".join(kept)
    www = os.path.join(work, "www")
    os.makedirs(os.path.join(www, "alpine", "v3.4"))
    feed = os.path.join(www, "alpine/v3.4/main.yaml")
    open(feed, "w").write(older)
    os.utime(feed, (1600000000, 1600000000))
    # busybox CVEs the image has, per apk-tools' oracle
    busybox = set()
    for line in open(os.path.join(td, "expected/alpine/shared-secdb-v3.4__alpine-3.4.installed.expected.tsv")):
        f = line.rstrip("\n").split("\t")
        if f[2] == "busybox":
            busybox.add(f[3])
    check("the oracle lists busybox vulnerabilities", len(busybox) >= 1, busybox)

    entries = [("etc/os-release", b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.4.6\nPRETTY_NAME="Alpine Linux v3.4"\n'),
               ("lib/apk/db/installed", open(os.path.join(td, "pkgdb/apk/alpine-3.4.installed"), "rb").read())]
    blob = tar_layer(entries)
    open(os.path.join(www, "layer.tar.gz"), "wb").write(blob)
    layer_digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    hport = free_port()
    web = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", www, str(hport)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d/" % hport
    wait_for(lambda: http("GET", base + "layer.tar.gz", auth=False)[0] == 200, 10)

    rec = Receiver()
    clair = Clair(work, dsn, base)
    target = "http://127.0.0.1:%d/secscan/notification" % rec.port
    callback = clair.api + "/notifier/api/v1/notification/"
    webhook_yaml = "  webhook: {target: \"%s\", callback: \"%s\"}\n" % (target, callback)
    manifests = ["sha256:" + "ab" * 32, "sha256:" + "cd" * 32]
    rmq = os.path.join(work, "rmq")
    rmq_started = False
    try:
        # ---- 1. older feed: a UO that notifies nothing ----
        check("clair starts (older feed, webhook)", clair.start(webhook_yaml), clair.logtext()[-2000:])
        st, _, _ = http("GET", clair.api + "/notifier/api/v1/notification/00000000-0000-4000-8000-000000000000")
        check("the notifier runs in bin/clair (app.c wiring)", st == 200, st)
        if st != 200:
            raise _Stop()

        def alpine_ops():
            st, _, body = http("GET", clair.api + "/matcher/api/v1/internal/update_operation")
            ops = json.loads(body) if st == 200 else {}
            return [v for k, v in ops.items() if k.startswith("alpine-main-v3.4")]
        ops = wait_for(alpine_ops, 60)
        check("the older feed becomes an update operation", bool(ops), clair.logtext()[-2000:])
        ref1 = ops[0][0]["ref"] if ops else ""
        st1 = wait_for(lambda: psql(dsn, "SELECT status FROM receipt WHERE uo_id = '%s'" % ref1), 30)
        check("its receipt is 'delivered' (nothing indexed, nothing to notify)", st1 == "delivered", st1)
        check("no webhook for it", not rec.snapshot(), rec.snapshot()[:1])

        for m in manifests:
            body = json.dumps({"hash": m, "layers": [{"hash": layer_digest, "uri": base + "layer.tar.gz", "headers": {}}]})
            st, _, rb = http("POST", clair.api + "/indexer/api/v1/index_report", body.encode())
            check("index " + m[:15], st == 201, rb[:300])
        check("clair stops", clair.stop() == 0, clair.logtext()[-2000:])

        # ---- 2. newer feed: busybox vulnerabilities are added ----
        open(feed, "w").write(full)
        os.utime(feed, (1700000000, 1700000000))
        rec.fail_next = 2
        check("clair starts (newer feed)", clair.start(webhook_yaml), clair.logtext()[-2000:])
        ok = wait_for(lambda: any(r[0] == 200 for r in rec.snapshot()), 60)
        reqs = rec.snapshot()
        check("the webhook is delivered", ok, clair.logtext()[-3000:])
        check("a 500 is retried, not dropped (2 x 500 then 200)", [r[0] for r in reqs][:3] == [500, 500, 200],
              [r[0] for r in reqs])
        check("every webhook carries a JWT Quay accepts", all(r[1] is None for r in reqs), [r[1] for r in reqs])
        bodies = [json.loads(r[3]) for r in reqs]
        nid = bodies[0].get("notification_id", "") if bodies else ""
        check("body is exactly {notification_id, callback}",
              bodies and all(set(b) == {"notification_id", "callback"} for b in bodies)
              and all(b["notification_id"] == nid for b in bodies) and bodies[0]["callback"] == callback + nid, bodies[:1])
        check("Content-Type application/json", reqs and reqs[0][2].get("Content-Type") == "application/json",
              reqs[0][2] if reqs else "")
        time.sleep(4 * INTERVAL_MS / 1000.0)
        after = rec.snapshot()
        check("delivered once (no POST after the 200)", len(after) == len(reqs) and len(after) == 3, len(after))
        check("receipt 'delivered'", psql(dsn, "SELECT status FROM receipt WHERE notification_id = '%s'" % nid) == "delivered")
        n_ids = psql(dsn, "SELECT count(*) FROM receipt WHERE status <> 'delivered' OR notification_id = '%s'" % nid)
        check("one notification id for the new UO", n_ids == "1", n_ids)

        # ---- 3. the API ----
        url = clair.api + "/notifier/api/v1/notification/" + nid
        st, hd, body = http("GET", url)
        page = json.loads(body) if st == 200 else {}
        notes = page.get("notifications", [])
        check("GET page: 200, notification_page type", st == 200 and
              hd.get("Content-Type") == "application/vnd.clair.notification_page.v1+json", (st, hd, body[:300]))
        check("page {size: 500} without next", page.get("page") == {"size": 500}, page.get("page"))
        check("one 'added' notification per manifest (summary mode)",
              sorted(n["manifest"] for n in notes) == manifests and all(n["reason"] == "added" for n in notes),
              json.dumps(notes)[:800])
        check("the summary is a busybox vulnerability the image has",
              notes and all(n["vulnerability"]["name"] in busybox and n["vulnerability"]["package"]["name"] == "busybox"
                            for n in notes), json.dumps(notes)[:800])
        v = notes[0]["vulnerability"] if notes else {}
        check("VulnSummary keys in Clair's order (+ normalized_severity)",
              [k for k in v if k not in ("package", "distribution", "repo")] ==
              ["name", "description", "severity", "normalized_severity", "fixed_in_version", "links"]
              and v.get("severity") == v.get("normalized_severity"), list(v))
        check("notification keys", notes and list(notes[0]) == ["id", "manifest", "reason", "vulnerability"],
              list(notes[0]) if notes else "")
        check("ordered by id", [n["id"] for n in notes] == sorted(n["id"] for n in notes))
        st, _, body = http("GET", url + "?page_size=1")
        p1 = json.loads(body) if st == 200 else {}
        check("page_size=1: one item, next = its id", st == 200 and len(p1.get("notifications", [])) == 1 and
              p1["page"].get("next") == p1["notifications"][0]["id"] and p1["page"]["size"] == 1, body[:400])
        st, _, body = http("GET", url + "?page_size=1&next=" + p1.get("page", {}).get("next", ""))
        p2 = json.loads(body) if st == 200 else {}
        check("next page: the other one, no next (last page)", st == 200 and len(p2.get("notifications", [])) == 1
              and "next" not in p2["page"] and p2["notifications"][0]["id"] != p1["notifications"][0]["id"], body[:400])
        for q, what in (("", "bad id"), ("?page_size=-1", "negative page_size"), ("?page_size=x", "bad page_size"),
                        ("?next=zz", "bad next")):
            u = (clair.api + "/notifier/api/v1/notification/not-a-uuid") if what == "bad id" else url + q
            st, _, body = http("GET", u)
            check("GET %s -> 400" % what, st == 400, (st, body[:200]))
        st, _, body = http("GET", clair.api + "/notifier/api/v1/notification/00000000-0000-4000-8000-000000000000")
        check("unknown id -> 200 with an empty list", st == 200 and json.loads(body)["notifications"] == [], body[:200])
        st, _, _ = http("GET", url, auth=False)
        check("the notifier API requires the PSK JWT", st == 401, st)
        st, _, body = http("DELETE", url)
        check("DELETE -> 200", st == 200, (st, body[:200]))
        check("receipt 'deleted'", psql(dsn, "SELECT status FROM receipt WHERE notification_id = '%s'" % nid) == "deleted")
        st, _, _ = http("DELETE", clair.api + "/notifier/api/v1/notification/00000000-0000-4000-8000-000000000000")
        check("DELETE unknown -> 404", st == 404, st)
        gone = wait_for(lambda: http("GET", url)[0] == 200 and json.loads(http("GET", url)[2])["notifications"] == [], 10)
        check("GC removes deleted notifications", gone)
        st, _, body = http("GET", "http://127.0.0.1:%d/metrics" % clair.iport, auth=False)
        check("notifier metrics exported", b'clair_notifier_deliveries_total{mechanism="webhook",result="ok"} 1' in body
              and b"clair_notifier_deliveries_total{mechanism=\"webhook\",result=\"failed\"} 2" in body,
              [l for l in body.decode().split("\n") if "notifier" in l][:10])
        reset = "TRUNCATE notification, notifier_update_operation CASCADE"

        # ---- kill -9 while a webhook is in flight: redelivered after the restart, not lost ----
        n0 = len(rec.snapshot())
        rec.hang_next = 1
        psql(dsn, reset)  # the newest UO is processed again: a new notification id
        check("a new delivery starts", rec.hung.wait(30), clair.logtext()[-2000:])
        clair.p.kill()
        clair.p.wait()
        clair.p = None
        hung_id = json.loads(rec.snapshot()[n0][3])["notification_id"]
        check("clair restarts after SIGKILL", clair.start(webhook_yaml), clair.logtext()[-2000:])
        ok = wait_for(lambda: [r for r in rec.snapshot()[n0:] if r[0] == 200], 30)
        time.sleep(4 * INTERVAL_MS / 1000.0)
        later = rec.snapshot()[n0:]
        check("the unacknowledged notification is delivered after the restart, once",
              ok and [(r[0], json.loads(r[3])["notification_id"]) for r in later] == [("hung", hung_id), (200, hung_id)],
              [(r[0], r[3][:60]) for r in later])
        check("... and its receipt is 'delivered'",
              psql(dsn, "SELECT status FROM receipt WHERE notification_id = '%s'" % hung_id) == "delivered")
        check("clair stops", clair.stop() == 0, clair.logtext()[-2000:])

        # ---- notifier mode: a separate process reaching the matcher and indexer over HTTP ----
        check("combo clair starts without a delivery mechanism (notifier off)", clair.start(""), clair.logtext()[-2000:])
        ntf = Clair(work, dsn, base)
        n0 = len(rec.snapshot())
        psql(dsn, reset)
        ntf_callback = ntf.api + "/notifier/api/v1/notification/"
        try:
            check("notifier-mode clair starts",
                  ntf.start("  webhook: {target: \"%s\", callback: \"%s\"}\n" % (target, ntf_callback), clair.api),
                  ntf.logtext()[-2000:])
            ok = wait_for(lambda: [r for r in rec.snapshot()[n0:] if r[0] == 200], 30)
            check("notifier mode: the webhook arrives", ok, ntf.logtext()[-2000:])
            rid = json.loads(ok[0][3])["notification_id"] if ok else ""
            check("notifier mode: callback names the notifier", ok and json.loads(ok[0][3])["callback"] == ntf_callback + rid)
            st, _, body = http("GET", ntf_callback + rid)
            notes = json.loads(body).get("notifications", []) if st == 200 else []
            check("notifier mode: the same notifications (diff and affected manifests over HTTP)",
                  sorted(n["manifest"] for n in notes) == manifests and
                  all(n["vulnerability"]["name"] in busybox for n in notes), body[:500])
            check("notifier-mode clair stops", ntf.stop() == 0, ntf.logtext()[-2000:])
        finally:
            ntf.stop()
        check("clair stops", clair.stop() == 0, clair.logtext()[-2000:])

        # ---- 4. AMQP and STOMP through a private RabbitMQ ----
        r = subprocess.run(["bash", os.path.join(SRC, "hack/rabbitmq.sh"), "start", rmq], capture_output=True, text=True)
        rmq_started = True
        check("RabbitMQ starts (hack/rabbitmq.sh)", r.returncode == 0, r.stderr[-1500:])
        if r.returncode != 0:
            raise _Stop()
        env = {}
        for line in open(os.path.join(rmq, "env")):
            k, _, v = line.strip().replace("export ", "").partition("=")
            env[k] = v
        sport = int(env["RABBITMQ_STOMP_PORT"])
        user, pw = env["RABBITMQ_USER"], env["RABBITMQ_PASS"]

        def amqp_check(label, sub):
            msgs = sub.messages(2, 60)
            check(label + ": two AMQP messages (direct, rollup 1)", len(msgs) == 2, clair.logtext()[-2000:])
            arrs = [json.loads(m[2]) for m in msgs]
            check(label + ": each is a JSON array of one Notification",
                  all(isinstance(a, list) and len(a) == 1 and a[0]["reason"] == "added" for a in arrs)
                  and sorted(a[0]["manifest"] for a in arrs) == manifests, arrs)
            check(label + ": content-type and app-id", msgs and all(m[1].get("content-type") == "application/json" and
                                                                   m[1].get("app-id") == "clairV4-notifier" for m in msgs),
                  [m[1] for m in msgs])
            st = wait_for(lambda: psql(dsn, "SELECT string_agg(status::text, ',') FROM receipt WHERE status <> 'delivered'"), 10)
            check(label + ": direct delivery marks the receipt 'deleted'", st == "deleted", st)

        sub = Stomp(sport, user, pw)
        sub.subscribe("/exchange/amq.direct/clair-notify")
        psql(dsn, reset)
        amqp_yaml = ("  amqp:\n    exchange: {name: amq.direct, type: direct, durability: true, auto_delete: false}\n"
                     "    routing_key: clair-notify\n    uris: [\"%s\"]\n    direct: true\n" % env["RABBITMQ_AMQP_URI"])
        check("clair starts (amqp direct)", clair.start(amqp_yaml), clair.logtext()[-2000:])
        amqp_check("amqp", sub)
        sub.close()

        r = subprocess.run(["bash", os.path.join(SRC, "hack/rabbitmq.sh"), "restart", rmq], capture_output=True, text=True)
        check("RabbitMQ restarts", r.returncode == 0, r.stderr[-1500:])
        sub = Stomp(sport, user, pw)
        sub.subscribe("/exchange/amq.direct/clair-notify")
        psql(dsn, reset)
        amqp_check("after a broker restart", sub)
        sub.close()
        check("clair stops", clair.stop() == 0, clair.logtext()[-2000:])

        sub = Stomp(sport, user, pw)
        sub.subscribe("/queue/clair-stomp")
        psql(dsn, reset)
        stomp_yaml = ("  stomp:\n    destination: /queue/clair-stomp\n    uris: [\"127.0.0.1:%d\"]\n"
                      "    callback: \"%s\"\n    user: {login: %s, passcode: %s}\n")
        check("clair starts (stomp, refused login)", clair.start(stomp_yaml % (sport, callback, user, "wrong")),
              clair.logtext()[-2000:])
        failed_st = wait_for(lambda: psql(dsn, "SELECT status FROM receipt WHERE status <> 'delivered'") == "delivery_failed", 30)
        check("a refused STOMP login leaves the receipt 'delivery_failed'", failed_st, clair.logtext()[-2000:])
        check("... with a clear error", "Access refused" in clair.logtext(), clair.logtext()[-2000:])
        nid2 = psql(dsn, "SELECT notification_id FROM receipt WHERE status = 'delivery_failed'")
        check("clair stops", clair.stop() == 0, clair.logtext()[-2000:])
        check("clair starts (stomp, right login)", clair.start(stomp_yaml % (sport, callback, user, pw)),
              clair.logtext()[-2000:])
        msgs = sub.messages(1, 60)
        check("STOMP callback message arrives", len(msgs) == 1, clair.logtext()[-2000:])
        b = json.loads(msgs[0][2]) if msgs else {}
        check("... for the failed notification id, callback JSON", b == {"notification_id": nid2, "callback": callback + nid2}, b)
        check("... content-type application/json", msgs and msgs[0][1].get("content-type") == "application/json",
              msgs[0][1] if msgs else "")
        st = wait_for(lambda: psql(dsn, "SELECT status FROM receipt WHERE notification_id = '%s'" % nid2) == "delivered", 10)
        check("STOMP callback mode marks the receipt 'delivered'", st)
        check("nothing else is sent", not sub.messages(1, 2))
        check("clair stops", clair.stop() == 0, clair.logtext()[-2000:])

        # STOMP direct: BEGIN, one SEND with both notifications (rollup 2), COMMIT with a receipt
        psql(dsn, reset)
        check("clair starts (stomp direct, rollup 2)",
              clair.start("  stomp:\n    destination: /queue/clair-stomp\n    uris: [\"127.0.0.1:%d\"]\n    direct: true\n"
                          "    rollup: 2\n    user: {login: %s, passcode: %s}\n" % (sport, user, pw)), clair.logtext()[-2000:])
        msgs = sub.messages(1, 30)
        arr = json.loads(msgs[0][2]) if msgs else []
        check("STOMP direct: one message holding both notifications",
              len(msgs) == 1 and sorted(n["manifest"] for n in arr) == manifests, (arr, clair.logtext()[-1500:]))
        st = wait_for(lambda: psql(dsn, "SELECT string_agg(status::text, ',') FROM receipt WHERE status <> 'delivered'"), 10)
        check("STOMP direct marks the receipt 'deleted'", st == "deleted", st)
        sub.close()
        check("clair stops", clair.stop() == 0, clair.logtext()[-2000:])

        # AMQP callback mode through the default exchange (no exchange name: nothing declared)
        sub = Stomp(sport, user, pw)
        sub.subscribe("/queue/clair-amqp-cb")
        psql(dsn, reset)
        check("clair starts (amqp callback)",
              clair.start("  amqp:\n    exchange: {name: \"\", type: direct}\n    routing_key: clair-amqp-cb\n"
                          "    uris: [\"%s\"]\n    callback: \"%s\"\n" % (env["RABBITMQ_AMQP_URI"], callback)),
              clair.logtext()[-2000:])
        msgs = sub.messages(1, 30)
        b = json.loads(msgs[0][2]) if msgs else {}
        cid = b.get("notification_id", "")
        check("AMQP callback: {notification_id, callback}", set(b) == {"notification_id", "callback"} and
              b["callback"] == callback + cid and notifier_valid(cid), (b, clair.logtext()[-1500:]))
        st = wait_for(lambda: psql(dsn, "SELECT status FROM receipt WHERE notification_id = '%s'" % cid) == "delivered", 10)
        check("AMQP callback mode marks the receipt 'delivered'", st)
        sub.close()
        check("clair stops", clair.stop() == 0, clair.logtext()[-2000:])
    except _Stop:
        pass
    finally:
        clair.stop()
        web.terminate()
        rec.srv.shutdown()
        if rmq_started:
            subprocess.run(["bash", os.path.join(SRC, "hack/rabbitmq.sh"), "destroy", rmq], capture_output=True)
        try:
            psql(DSN, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
        except RuntimeError:
            pass
        print("elapsed %.0fs" % (time.time() - t0))
        print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
