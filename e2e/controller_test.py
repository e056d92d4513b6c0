#!/usr/bin/env python3
"""bin/clair-controller against the project's test Kubernetes API server (hack/kube-apiserver.sh),
driven with the real kubectl. Each check prints "ok"/"FAIL"; the last line is "N passed, N failed".

Environment: CLAIR_BIN_DIR (the controller binary), TEST_TMPDIR (scratch), SRC_DIR (repo root).
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.environ.get("SRC_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(os.environ.get("CLAIR_BIN_DIR") or os.path.join(SRC, "bin"), "clair-controller")
TMP = tempfile.mkdtemp(prefix="ctl-e2e.", dir=os.environ.get("TEST_TMPDIR") or None)
KDIR = os.path.join(TMP, "kube")
NS = "quay"
T0 = time.time()
STEADY_SECONDS = int(os.environ.get("CONTROLLER_STEADY_SECONDS") or 62)  # issue 6: "over a minute"

passed = 0
failed = 0
procs = []


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   %s" % name, flush=True)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail), flush=True)
    return ok


def sh(*args, check_rc=True, input=None):
    p = subprocess.run(list(args), capture_output=True, text=True, input=input, timeout=60)
    if check_rc and p.returncode != 0:
        raise RuntimeError("%s: rc %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p.stdout


def kubectl(*args, **kw):
    return sh("kubectl", "--kubeconfig", ENV["KUBECONFIG"], "--cache-dir", os.path.join(KDIR, "cache"),
              *args, **kw)


def get(kind, name, ns=NS):
    out = kubectl("-n", ns, "get", kind, name, "-o", "json", "--ignore-not-found")
    return json.loads(out) if out.strip() else None


def fake(method, path, body=None):
    req = urllib.request.Request(ENV["KUBE_HTTP_URL"] + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def wait(name, pred, timeout=20.0, interval=0.2):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - keep polling
            last = e
        time.sleep(interval)
    print("  (timeout waiting for %s; last %r)" % (name, last), flush=True)
    return None


def cond(obj, typ):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == typ:
            return c
    return {}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_controller(tag, *extra):
    hp, mp = free_port(), free_port()
    log = open(os.path.join(TMP, "controller-%s.log" % tag), "w")
    p = subprocess.Popen([BIN, "--kubeconfig", ENV["KUBECONFIG"], "--resync-period=2s",
                          "--health-addr=127.0.0.1:%d" % hp, "--metrics-addr=127.0.0.1:%d" % mp, *extra],
                         stdout=log, stderr=subprocess.STDOUT)
    p.health, p.metrics, p.logpath = hp, mp, log.name
    procs.append(p)
    return p


def stop_controller(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def controller_writes(since):
    """Non-GET requests the controller made after `since` (requests.log 't' strings)."""
    out = []
    with open(os.path.join(KDIR, "requests.log")) as f:
        for line in f:
            r = json.loads(line)
            if (r.get("ua") or "").startswith("clair-controller") and r["method"] != "GET" and r["t"] > since:
                out.append("%s %s" % (r["method"], r["path"]))
    return out


def controller_reads(since):
    """GETs (not watches) the controller made after `since`."""
    out = []
    with open(os.path.join(KDIR, "requests.log")) as f:
        for line in f:
            r = json.loads(line)
            if (r.get("ua") or "").startswith("clair-controller") and r["method"] == "GET" and r["t"] > since \
                    and "watch=true" not in r["path"]:
                out.append(r["path"])
    return out


def log_since(since):
    with open(os.path.join(KDIR, "requests.log")) as f:
        return [r for r in (json.loads(x) for x in f if x.strip()) if r["t"] > since]


def metric(p, name):
    """A plain (label-less) counter from the controller's /metrics, as an int."""
    for line in http_get(p.metrics, "/metrics")[1].splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise RuntimeError("metric %s not found" % name)


def log_time():
    with open(os.path.join(KDIR, "requests.log")) as f:
        lines = f.readlines()
    return json.loads(lines[-1])["t"] if lines else ""


def owned_names():
    return [("deployment", "clair-scanner"), ("deployment", "clair-postgres"), ("service", "clair"),
            ("service", "clair-postgres"), ("secret", "clair-config"), ("secret", "clair-postgres"),
            ("secret", "clair-keys"), ("pvc", "clair-postgres-data"), ("configmap", "clair-postgres-init"),
            ("poddisruptionbudget", "clair-scanner")]


def job_name(cd, image):
    return "%s-migrate-%s" % (cd, hashlib.sha256(image.encode()).hexdigest()[:10])


def finish_job(cd, image, how="complete"):
    """Waits for the migration Job of image, then completes or fails it through the test hook."""
    name = job_name(cd, image)
    job = wait("job " + name, lambda: get("job", name), 15)
    if job:
        fake("POST", "/_fake/jobs/%s/%s/%s" % (NS, name, how))
    return job


def scanner_image():
    d = get("deployment", "clair-scanner")
    return d and d["spec"]["template"]["spec"]["containers"][0]["image"]


def decode_cfg(secret):
    return base64.b64decode(secret["data"]["config.yaml"]).decode()


def yaml_load(text):
    import yaml  # python3-yaml: present on this image
    return yaml.safe_load(text)


QUAY_CONFIG = """# Quay's own settings
SERVER_HOSTNAME: quay.example.com
PREFERRED_URL_SCHEME: https
DATABASE_SECRET_KEY: keep-me
FEATURE_SECURITY_SCANNER: false
SUPER_USERS:
- admin
"""

CD = """apiVersion: scanner.clairc.io/v1alpha1
kind: ClairDeployment
metadata: {name: clair, namespace: quay}
spec:
  image: quay.io/projectquay/clair:4.9.0
  replicas: 2
  database: {storage: {size: 1Gi, retainOnDelete: false}}
  quay: {configSecretRef: {name: quay-config}, removeKeysOnDelete: true}
  rollout: {progressDeadlineSeconds: 3, autoRollback: true}
"""


def main():
    global ENV
    if not os.access(BIN, os.X_OK):
        check("controller binary built", False, BIN)
        return
    if not shutil.which("kubectl"):
        check("kubectl on PATH", False)
        return
    sh("bash", os.path.join(SRC, "hack/kube-apiserver.sh"), "start", KDIR, "--deployment-delay", "0.5")
    ENV = {}
    with open(os.path.join(KDIR, "env")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                line = line[7:]
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                ENV[k] = v.strip("'\"")

    # 1. install: CRD + manifests, then the CR once the CRD is Established
    out = kubectl("apply", "-f", os.path.join(SRC, "crds"), "-f", os.path.join(SRC, "manifests"))
    check("kubectl apply -f crds/ -f manifests/", "clairdeployments.scanner.clairc.io created" in out
          and "deployment.apps/clair-controller created" in out, out)
    kubectl("wait", "--for=condition=Established", "crd/clairdeployments.scanner.clairc.io", "--timeout=20s")
    kubectl("create", "namespace", NS)
    kubectl("-n", NS, "create", "secret", "generic", "quay-config", "--from-literal=config.yaml=" + QUAY_CONFIG,
            "--from-literal=ssl.cert=CERTDATA")
    out = kubectl("-n", NS, "apply", "-f", os.path.join(SRC, "manifests/samples"))
    check("sample ClairDeployment applies", "clairdeployment.scanner.clairc.io/clair created" in out, out)
    kubectl("-n", NS, "delete", "clairdeployment", "clair", "--wait=true")
    kubectl("apply", "-f", "-", input=CD)
    cr = get("clairdeployment", "clair")
    uid = cr["metadata"]["uid"]

    ctl = start_controller("a")
    st, _ = 0, None
    ok = wait("healthz", lambda: http_get(ctl.health, "/healthz")[0] == 200, 10)
    check("/healthz answers 200", ok)

    # 2. first install: the migration Job runs before the scanner Deployment exists
    img0 = "quay.io/projectquay/clair:4.9.0"
    job = wait("migration job", lambda: get("job", job_name("clair", img0)), 20)
    jc = job and job["spec"]["template"]["spec"]["containers"][0]
    check("first install creates the migration Job (owned, clairctl migrate, config Secret, small backoffLimit)",
          bool(job) and any(r.get("uid") == uid and r.get("controller") for r in job["metadata"].get("ownerReferences") or [])
          and jc["image"] == img0 and jc["command"] == ["clairctl", "-c", "/etc/clair/config.yaml", "migrate"]
          and job["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"] == "clair-config"
          and job["spec"]["backoffLimit"] <= 3 and job["spec"]["template"]["spec"]["restartPolicy"] == "Never",
          json.dumps(job)[:600])
    time.sleep(1.5)
    o = get("clairdeployment", "clair")
    check("no scanner Deployment while the migration runs; Progressing=MigrationRunning",
          get("deployment", "clair-scanner") is None and cond(o, "Progressing").get("reason") == "MigrationRunning"
          and cond(o, "ScannerReady").get("reason") == "WaitingForMigration" and get("secret", "clair-config"),
          json.dumps((o or {}).get("status"))[:600])
    fake("POST", "/_fake/jobs/%s/%s/complete" % (NS, job_name("clair", img0)))
    check("the scanner Deployment appears once the Job completed",
          wait("scanner deployment", lambda: scanner_image() == img0, 15))

    # 3. every object, owned by the CR
    def all_owned():
        for kind, name in owned_names():
            o = get(kind, name)
            if not o:
                return False
            refs = o["metadata"].get("ownerReferences") or []
            if not any(r.get("uid") == uid and r.get("controller") and r.get("kind") == "ClairDeployment"
                       for r in refs):
                return False
        return True
    check("every object created with an ownerReference to the ClairDeployment", wait("objects", all_owned, 20))

    pdb = get("poddisruptionbudget", "clair-scanner")
    check("PodDisruptionBudget for the scanner: policy/v1, minAvailable 1, scanner selector",
          bool(pdb) and pdb["apiVersion"] == "policy/v1" and pdb["spec"].get("minAvailable") == 1
          and pdb["spec"]["selector"]["matchLabels"] == get("deployment", "clair-scanner")["spec"]["selector"]["matchLabels"],
          json.dumps(pdb)[:400])

    # 3b. status converges
    def available():
        o = get("clairdeployment", "clair")
        return cond(o, "Available").get("status") == "True" and o
    o = wait("Available", available, 30)
    check("finalizer added for spec.quay.removeKeysOnDelete",
          "scanner.clairc.io/finalizer" in (get("clairdeployment", "clair")["metadata"].get("finalizers") or []))
    check("status Available=True once the Deployments are ready", bool(o),
          json.dumps((get("clairdeployment", "clair") or {}).get("status"))[:600])
    if o:
        s = o["status"]
        check("status fields", s.get("observedGeneration") == o["metadata"]["generation"]
              and s.get("endpoint") == "http://clair.quay.svc.cluster.local"
              and s.get("currentImage") == "quay.io/projectquay/clair:4.9.0"
              and s.get("migratedImage") == "quay.io/projectquay/clair:4.9.0"
              and s.get("readyReplicas") == 2 and s.get("notificationTarget")
              == "https://quay.example.com/secscan/notification"
              and cond(o, "Degraded").get("status") == "False"
              and cond(o, "DatabaseReady").get("status") == "True"
              and cond(o, "QuayConfigured").get("reason") == "KeysWritten", json.dumps(s)[:800])
    check("/readyz answers 200", http_get(ctl.health, "/readyz")[0] == 200)
    evs = json.loads(kubectl("-n", NS, "get", "events", "-o", "json"))["items"]
    check("Events recorded for condition transitions",
          any(e.get("reason") == "AllComponentsReady" and e["involvedObject"].get("uid") == uid for e in evs),
          str([e.get("reason") for e in evs]))
    code, body = http_get(ctl.metrics, "/metrics")
    check("/metrics has Prometheus counters", code == 200 and "clair_controller_reconcile_total" in body
          and 'clair_controller_api_requests_total{verb="get"}' in body)

    # 4. the scanner Deployment and config
    dep = get("deployment", "clair-scanner")
    c0 = dep["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in c0.get("env", [])}
    ports = sorted(p["containerPort"] for p in c0.get("ports", []))
    check("scanner Deployment: env, ports, probes, maxUnavailable 0, config-hash",
          env.get("CLAIR_MODE") == "combo" and env.get("CLAIR_CONF") == "/etc/clair/config.yaml"
          and ports == [8080, 8089] and c0["readinessProbe"]["httpGet"]["path"] == "/readyz"
          and c0["livenessProbe"]["httpGet"]["port"] == 8089
          and dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
          and dep["spec"]["template"]["metadata"]["annotations"].get("scanner.clairc.io/config-hash")
          == o["status"]["configHash"] if o else False)
    pg = get("deployment", "clair-postgres")
    check("postgres Deployment: Recreate, pg_isready readiness",
          pg["spec"]["strategy"]["type"] == "Recreate"
          and "pg_isready" in json.dumps(pg["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]))
    cfg_text = decode_cfg(get("secret", "clair-config"))
    cfg = yaml_load(cfg_text)
    keys = get("secret", "clair-keys")
    psk = base64.b64decode(keys["data"]["psk"]).decode()
    check("config.yaml: combo settings, connstring, webhook to Quay, PSK",
          cfg["http_listen_addr"] == ":8080" and cfg["introspection_addr"] == ":8089"
          and "host=clair-postgres" in cfg["indexer"]["connstring"]
          and cfg["notifier"]["webhook"]["target"] == "https://quay.example.com/secscan/notification"
          and cfg["auth"]["psk"]["key"] == psk and cfg["metrics"]["name"] == "prometheus", cfg_text)
    clairctl = None
    for d in (os.environ.get("CLAIR_BIN_DIR"), os.path.join(SRC, "bin")):
        if d and os.access(os.path.join(d, "clairctl"), os.X_OK):
            clairctl = os.path.join(d, "clairctl")
            break
    if clairctl:
        path = os.path.join(TMP, "config.yaml")
        with open(path, "w") as f:
            f.write(cfg_text)
        p = subprocess.run([clairctl, "check-config", path], capture_output=True, text=True, timeout=30)
        check("rendered config.yaml passes clairctl check-config", p.returncode == 0, p.stderr[-500:])

    # 5. Quay's Secret: keys added, everything else kept
    q = get("secret", "quay-config")
    qc = yaml_load(decode_cfg(q))
    check("Quay config gains the scanner keys and keeps the others",
          qc.get("FEATURE_SECURITY_SCANNER") is True
          and qc.get("SECURITY_SCANNER_V4_ENDPOINT") == "http://clair.quay.svc.cluster.local"
          and qc.get("SECURITY_SCANNER_V4_PSK") == psk and qc.get("FEATURE_SECURITY_NOTIFICATIONS") is True
          and qc.get("SERVER_HOSTNAME") == "quay.example.com" and qc.get("DATABASE_SECRET_KEY") == "keep-me"
          and qc.get("SUPER_USERS") == ["admin"] and "# Quay's own settings" in decode_cfg(q)
          and q["data"].get("ssl.cert") == base64.b64encode(b"CERTDATA").decode(), json.dumps(qc))

    # 6. steady state: over a minute of wall time (30 resyncs at 2 s) no writes, RVs stay
    rvs = {k + "/" + n: get(k, n)["metadata"]["resourceVersion"] for k, n in owned_names()}
    rvs["cd"] = get("clairdeployment", "clair")["metadata"]["resourceVersion"]
    rvs["quay"] = get("secret", "quay-config")["metadata"]["resourceVersion"]
    since = log_time()
    rec0 = metric(ctl, "clair_controller_reconcile_total")
    t_steady = time.time()
    time.sleep(STEADY_SECONDS)
    t_steady = time.time() - t_steady
    rec1 = metric(ctl, "clair_controller_reconcile_total")
    w = controller_writes(since)
    check("steady state: no writes over %.0f s of wall time" % t_steady, not w and t_steady >= STEADY_SECONDS,
          str(w[:5]))
    check("steady state: the resyncs did run meanwhile (>= 1 reconcile per 4 s)",
          rec1 - rec0 >= STEADY_SECONDS // 4, "%d reconciles in %.0f s" % (rec1 - rec0, t_steady))
    rd = controller_reads(since)
    m = http_get(ctl.metrics, "/metrics")[1]
    check("steady state: reads served from the watch cache (no GETs)", not rd and
          "clair_controller_reconcile_total" in m, str(rd[:5]))
    rvs2 = {k + "/" + n: get(k, n)["metadata"]["resourceVersion"] for k, n in owned_names()}
    rvs2["cd"] = get("clairdeployment", "clair")["metadata"]["resourceVersion"]
    rvs2["quay"] = get("secret", "quay-config")["metadata"]["resourceVersion"]
    check("steady state: resourceVersions unchanged", rvs == rvs2,
          str({k: (rvs[k], rvs2.get(k)) for k in rvs if rvs[k] != rvs2.get(k)}))

    # 7. drift: a deleted Service and a hand-edited Quay Secret come back
    kubectl("-n", NS, "delete", "service", "clair", "--wait=false")
    check("deleted owned Service is re-created", wait("service", lambda: get("service", "clair"), 15))
    kubectl("-n", NS, "patch", "secret", "quay-config", "--type=merge", "-p",
            json.dumps({"data": {"config.yaml": base64.b64encode(
                (QUAY_CONFIG + "EXTRA_KEY: 1\n").encode()).decode()}}))
    def quay_fixed():
        c = yaml_load(decode_cfg(get("secret", "quay-config")))
        return c.get("FEATURE_SECURITY_SCANNER") is True and c.get("EXTRA_KEY") == 1 and \
            c.get("SECURITY_SCANNER_V4_PSK") == psk
    check("hand-edited Quay Secret gets the keys back, keeps the new key", wait("quay", quay_fixed, 15))

    # 8. a dropped watch (410 for everyone), then a spec change: still converges
    fake("POST", "/_fake/expire-watches")
    kubectl("-n", NS, "patch", "clairdeployment", "clair", "--type=merge", "-p", '{"spec":{"replicas":3}}')
    def scaled():
        o = get("clairdeployment", "clair")
        d = get("deployment", "clair-scanner")
        return d["spec"]["replicas"] == 3 and o["status"].get("readyReplicas") == 3 and \
            o["status"]["observedGeneration"] == o["metadata"]["generation"]
    check("after a dropped watch (410) a replicas change converges", wait("scaled", scaled, 20))
    m = http_get(ctl.metrics, "/metrics")[1]
    relists = [l for l in m.splitlines() if l.startswith("clair_controller_relists_total ")]
    check("the watches re-listed after 410", relists and int(relists[0].split()[1]) > 6, str(relists))

    # 8b. a 409 Conflict on the ClairDeployment /status write, then a spec change: converges
    st_path = "/apis/scanner.clairc.io/v1alpha1/namespaces/%s/clairdeployments/clair/status" % NS
    errs0 = metric(ctl, "clair_controller_reconcile_errors_total")
    apierr0 = metric(ctl, "clair_controller_api_request_errors_total")
    since = log_time()
    pend = fake("POST", "/_fake/conflicts", {"path": st_path, "count": 1})
    check("test API server armed one 409 on the status subresource", pend == {st_path: 1}, str(pend))
    kubectl("-n", NS, "patch", "clairdeployment", "clair", "--type=merge", "-p",
            '{"spec":{"config":{"logLevel":"debug"}}}')
    gen = get("clairdeployment", "clair")["metadata"]["generation"]
    def conflict_converged():
        o = get("clairdeployment", "clair")
        cfg = yaml_load(decode_cfg(get("secret", "clair-config")))
        return o["status"].get("observedGeneration") == gen and cfg.get("log_level") == "debug" and \
            o["status"].get("configHash") == get("deployment", "clair-scanner")["spec"]["template"][
                "metadata"]["annotations"].get("scanner.clairc.io/config-hash") and o
    o = wait("status converges after a 409", conflict_converged, 20)
    check("after a 409 on /status a spec change converges (observedGeneration = generation, config rolled)",
          bool(o), json.dumps((get("clairdeployment", "clair") or {}).get("status"))[:600])
    st_writes = [(r["method"], r["code"]) for r in log_since(since)
                 if r["path"].split("?")[0] == st_path and r["method"] != "GET"
                 and (r.get("ua") or "").startswith("clair-controller")]
    check("the controller got the 409 on /status and wrote status again after it",
          fake("GET", "/_fake/conflicts") == {} and st_writes[:1] and st_writes[0][1] == 409
          and any(200 <= c < 300 for _, c in st_writes[1:]), str(st_writes))
    errs1 = metric(ctl, "clair_controller_reconcile_errors_total")
    apierr1 = metric(ctl, "clair_controller_api_request_errors_total")
    check("the status conflict was handled as a requeue, not a reconcile error",
          errs1 == errs0 and apierr1 > apierr0, "reconcile errors %d -> %d, api errors %d -> %d"
          % (errs0, errs1, apierr0, apierr1))

    # 9. image change: a new migration Job first, then the rollout
    kubectl("-n", NS, "patch", "clairdeployment", "clair", "--type=merge", "-p",
            '{"spec":{"image":"quay.io/projectquay/clair:4.9.1"}}')
    img1 = "quay.io/projectquay/clair:4.9.1"
    job = wait("migration job 4.9.1", lambda: get("job", job_name("clair", img1)), 15)
    time.sleep(1.5)
    o = get("clairdeployment", "clair")
    check("image change creates a new migration Job; the rollout waits for it",
          bool(job) and scanner_image() == img0 and cond(o, "Progressing").get("reason") == "MigrationRunning"
          and o["status"].get("migratedImage") == img0 and get("job", job_name("clair", img0)) is not None,
          json.dumps((o or {}).get("status"))[:600])
    fake("POST", "/_fake/jobs/%s/%s/complete" % (NS, job_name("clair", img1)))
    def rolled():
        o = get("clairdeployment", "clair")
        s = o["status"]
        return s.get("currentImage") == "quay.io/projectquay/clair:4.9.1" and \
            s.get("previousImage") == "quay.io/projectquay/clair:4.9.0" and \
            cond(o, "Progressing").get("reason") == "RolloutComplete" and o
    o = wait("rolled forward", rolled, 20)
    dep = get("deployment", "clair-scanner")
    check("image change rolls forward (maxUnavailable 0), status current/previous image",
          bool(o) and dep["spec"]["template"]["spec"]["containers"][0]["image"] == "quay.io/projectquay/clair:4.9.1"
          and dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0,
          json.dumps((get("clairdeployment", "clair") or {}).get("status"))[:600])

    # 9b. a failed migration: Degraded/MigrationFailed, the Deployment keeps the old image
    img2 = "quay.io/projectquay/clair:4.9.2-badschema"
    kubectl("-n", NS, "patch", "clairdeployment", "clair", "--type=merge", "-p",
            json.dumps({"spec": {"image": img2}}))
    finish_job("clair", img2, "fail")
    def mig_failed():
        o = get("clairdeployment", "clair")
        return cond(o, "Degraded").get("reason") == "MigrationFailed" and \
            cond(o, "Degraded").get("status") == "True" and o
    o = wait("migration failed", mig_failed, 15)
    time.sleep(1)
    o = get("clairdeployment", "clair")
    check("failed migration Job -> Degraded=True/MigrationFailed, Deployment keeps the old image, still Available",
          cond(o, "Degraded").get("reason") == "MigrationFailed" and scanner_image() == img1
          and o["status"].get("currentImage") == img1 and o["status"].get("migratedImage") == img1
          and cond(o, "Available").get("status") == "True"
          and cond(o, "Progressing").get("reason") == "MigrationFailed", json.dumps((o or {}).get("status"))[:800])
    since = log_time()
    time.sleep(4.5)
    w = controller_writes(since)
    check("a failed migration is not retried in a loop (no writes, no new Job over two resyncs)",
          not w and len(json.loads(kubectl("-n", NS, "get", "jobs", "-o", "json"))["items"]) == 3, str(w[:5]))
    evs = json.loads(kubectl("-n", NS, "get", "events", "-o", "json"))["items"]
    check("MigrationFailed recorded as a Warning Event",
          any(e.get("reason") == "MigrationFailed" and e.get("type") == "Warning" for e in evs))

    # 10. a stalled rollout: Degraded, rolled back to the last good image
    fake("PUT", "/_fake/config", {"stallDeployments": ["quay/clair-scanner"]})
    kubectl("-n", NS, "patch", "clairdeployment", "clair", "--type=merge", "-p",
            '{"spec":{"image":"quay.io/projectquay/clair:9.9.9-broken"}}')
    finish_job("clair", "quay.io/projectquay/clair:9.9.9-broken")
    def degraded():
        o = get("clairdeployment", "clair")
        d = cond(o, "Degraded")
        return d.get("status") == "True" and d.get("reason") == "RolledBack" and o
    o = wait("degraded", degraded, 20)
    dep = get("deployment", "clair-scanner")
    check("stalled rollout -> Degraded=True/RolledBack and the last good image again",
          bool(o) and dep["spec"]["template"]["spec"]["containers"][0]["image"] == "quay.io/projectquay/clair:4.9.1"
          and o["status"].get("failedImage") == "quay.io/projectquay/clair:9.9.9-broken",
          json.dumps((get("clairdeployment", "clair") or {}).get("status"))[:800])
    fake("PUT", "/_fake/config", {"stallDeployments": []})
    def recovered():
        o = get("clairdeployment", "clair")
        return cond(o, "Available").get("status") == "True" and o["status"].get("readyReplicas") == 3 and \
            cond(o, "Progressing").get("reason") == "RolledBack"
    check("after the rollback the old image serves again (Available, Degraded kept)", wait("recovered", recovered, 20))

    # 11. an invalid spec: ConfigValid=False naming the field, nothing applied
    gen_before = get("deployment", "clair-scanner")["metadata"]["generation"]
    kubectl("-n", NS, "patch", "clairdeployment", "clair", "--type=merge", "-p", '{"spec":{"replicas":-4}}')
    def invalid():
        c = cond(get("clairdeployment", "clair"), "ConfigValid")
        return c.get("status") == "False" and "spec.replicas" in c.get("message", "")
    check("invalid spec -> ConfigValid=False naming spec.replicas", wait("invalid", invalid, 15))
    check("invalid spec: nothing half-applied",
          get("deployment", "clair-scanner")["metadata"]["generation"] == gen_before)
    kubectl("-n", NS, "patch", "clairdeployment", "clair", "--type=merge", "-p",
            '{"spec":{"replicas":2,"image":"quay.io/projectquay/clair:4.9.1"}}')
    check("fixed spec converges again", wait("valid again", lambda: cond(get("clairdeployment", "clair"),
                                                                          "ConfigValid").get("status") == "True"
                                             and cond(get("clairdeployment", "clair"), "Degraded").get("status")
                                             == "False", 15))

    # 12. a missing Quay Secret is reported and not retried in a hot loop
    kubectl("apply", "-f", "-", input=CD.replace("name: clair, namespace", "name: other, namespace")
            .replace("name: quay-config", "name: missing-quay"))
    def missing():
        c = cond(get("clairdeployment", "other"), "QuayConfigured")
        return c.get("status") == "False" and c.get("reason") == "SecretNotFound"
    check("missing Quay Secret -> QuayConfigured=False/SecretNotFound", wait("missing", missing, 15))
    finish_job("other", img0)
    wait("other available", lambda: cond(get("clairdeployment", "other"), "Available").get("status") == "True", 15)
    since = log_time()
    time.sleep(3)
    n = 0
    with open(os.path.join(KDIR, "requests.log")) as f:
        for line in f:
            r = json.loads(line)
            if r["t"] > since and r["path"].endswith("/secrets/missing-quay"):
                n += 1
    check("missing Quay Secret is not polled in a hot loop", n <= 6, "%d GETs in 3 s" % n)

    # 13. restart: a new process re-lists and finds nothing to change
    kubectl("-n", NS, "delete", "clairdeployment", "other", "--wait=true")
    time.sleep(1)
    rc = stop_controller(ctl)
    check("SIGTERM stops the controller with exit 0", rc == 0, str(rc))
    since = log_time()
    ctl = start_controller("b")
    wait("ready", lambda: http_get(ctl.health, "/readyz")[0] == 200, 10)
    time.sleep(3)
    w = controller_writes(since)
    check("after a restart the controller makes no writes", not w, str(w[:5]))

    # 14. leader election: a second replica waits; the leader's exit hands over
    stop_controller(ctl)
    a = start_controller("le-a", "--leader-elect", "--leader-election-namespace=clair-system")
    wait("a leads", lambda: "became leader" in open(a.logpath).read(), 10)
    b = start_controller("le-b", "--leader-elect", "--leader-election-namespace=clair-system")
    time.sleep(2.5)
    lease = get("lease", "clair-controller-lock", "clair-system")
    check("one leader holds the Lease, the other waits",
          lease and lease["spec"]["holderIdentity"].endswith("_%d" % a.pid)
          and "became leader" not in open(b.logpath).read()
          and http_get(b.metrics, "/metrics")[1].find("clair_controller_leader 0") >= 0)
    stop_controller(a)
    check("the standby takes over after the leader exits",
          wait("b leads", lambda: "became leader" in open(b.logpath).read(), 10))
    lease = get("lease", "clair-controller-lock", "clair-system")
    check("Lease now names the new leader", lease and lease["spec"]["holderIdentity"].endswith("_%d" % b.pid))
    concurrent = [l for l in http_get(b.metrics, "/metrics")[1].splitlines()
                  if l.startswith("clair_controller_concurrent_same_key_total ")]
    check("no key reconciled by two workers at once", concurrent == ["clair_controller_concurrent_same_key_total 0"],
          str(concurrent))

    # 15. deleting the ClairDeployment garbage-collects everything it owns
    kubectl("-n", NS, "delete", "clairdeployment", "clair", "--wait=true")
    def gone():
        return all(get(k, n) is None for k, n in owned_names())
    check("deleting the ClairDeployment garbage-collects its objects", wait("gc", gone, 15))
    check("the migration Jobs are garbage-collected too",
          not json.loads(kubectl("-n", NS, "get", "jobs", "-o", "json"))["items"])
    qc = yaml_load(decode_cfg(get("secret", "quay-config")))
    check("the finalizer removed the scanner keys from Quay's config and kept the rest",
          not any(k in qc for k in ("FEATURE_SECURITY_SCANNER", "SECURITY_SCANNER_V4_ENDPOINT",
                                    "SECURITY_SCANNER_V4_PSK", "FEATURE_SECURITY_NOTIFICATIONS"))
          and qc.get("SERVER_HOSTNAME") == "quay.example.com" and qc.get("EXTRA_KEY") == 1
          and get("clairdeployment", "clair") is None, json.dumps(qc))
    stop_controller(b)
    codes = [p.returncode for p in procs]
    check("every controller process exited 0 on SIGTERM", all(c == 0 for c in codes), str(codes))
    bad = []
    for p in procs:
        with open(p.logpath) as f:
            text = f.read()
        if "Sanitizer" in text or "runtime error:" in text:
            bad.append(p.logpath)
    check("no sanitizer reports in the controller logs", not bad, str(bad))


if __name__ == "__main__":
    ENV = {}
    try:
        main()
    except Exception as e:  # noqa: BLE001
        check("no unexpected error", False, repr(e))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if failed:
            for p in procs:
                print("---- %s (tail)" % p.logpath)
                with open(p.logpath) as f:
                    print("".join(f.readlines()[-15:]))
        subprocess.run(["bash", os.path.join(SRC, "hack/kube-apiserver.sh"), "stop", KDIR],
                       capture_output=True)
        if not failed:
            shutil.rmtree(TMP, ignore_errors=True)
        print("(%.1f s)" % (time.time() - T0))
        print("%d passed, %d failed" % (passed, failed))
        sys.exit(1 if failed else 0)
