#!/usr/bin/env bash
# Controller benchmark (issue 6), printed figures with targets and ok/MISSED lines; no assertions.
#
# Starts the test API server (hack/kube-apiserver.sh) and bin/clair-controller against it over TLS
# (as e2e/controller_test.py does), applies crds/ and a ClairDeployment with kubectl, completes
# the first migration Job through the /_fake/ hook and waits for Available. Then:
#  1. latency: BENCH_CHANGES (10) spec changes (spec.config.indexer.layerScanConcurrency, which
#     changes config.yaml, the config Secret and the scanner Deployment's config-hash), each timed
#     from the PATCH's answer until status.observedGeneration == metadata.generation, the config
#     Secret holds the new value and the Deployment's config-hash annotation equals
#     status.configHash (polled over plain HTTP every 5 ms). Median, p90 and max are printed.
#  2. steady state: over BENCH_STEADY (60) seconds with --resync-period=BENCH_RESYNC (2s), the
#     controller's requests from the server's requests.log (User-Agent clair-controller; watches
#     and their re-LISTs counted apart), per reconcile (clair_controller_reconcile_total from
#     /metrics). Targets: zero writes; reads served from the watch cache (0 GETs per reconcile).
#
# Env: BIN (default bin), BENCH_CHANGES, BENCH_STEADY, BENCH_RESYNC, BENCH_DEPLOYMENT_DELAY (0.5).
set -euo pipefail

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
export SRC_DIR
export BIN=${BIN:-$SRC_DIR/bin}
export BENCH_CHANGES=${BENCH_CHANGES:-10}
export BENCH_STEADY=${BENCH_STEADY:-60}
export BENCH_RESYNC=${BENCH_RESYNC:-2}
export BENCH_DEPLOYMENT_DELAY=${BENCH_DEPLOYMENT_DELAY:-0.5}
if [ ! -x "$BIN/clair-controller" ]; then
  echo "bench controller: $BIN/clair-controller not built"; exit 1
fi
command -v kubectl >/dev/null || { echo "bench controller: kubectl not on the PATH"; exit 1; }
scratch=$(mktemp -d /tmp/clair-bench-controller.XXXXXX)
export scratch
cleanup() {
  if [ -f "$scratch/controller.pid" ]; then
    p=$(cat "$scratch/controller.pid")
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  fi
  bash "$SRC_DIR/hack/kube-apiserver.sh" stop "$scratch/kube" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

bash "$SRC_DIR/hack/kube-apiserver.sh" start "$scratch/kube" --deployment-delay "$BENCH_DEPLOYMENT_DELAY" >/dev/null

python3 - <<'PY'
import base64, hashlib, json, os, signal, socket, statistics, subprocess, sys, time, urllib.request

SRC, BIN, TMP = os.environ["SRC_DIR"], os.environ["BIN"], os.environ["scratch"]
KDIR = os.path.join(TMP, "kube")
NS = "quay"
CHANGES = int(os.environ["BENCH_CHANGES"])
STEADY = float(os.environ["BENCH_STEADY"])
RESYNC = os.environ["BENCH_RESYNC"]
ENV = {}
with open(os.path.join(KDIR, "env")) as f:
    for line in f:
        line = line.strip()
        if line.startswith("export "):
            line = line[7:]
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            ENV[k] = v.strip("'\"")
API = ENV["KUBE_HTTP_URL"]
CR_PATH = "/apis/scanner.clairc.io/v1alpha1/namespaces/%s/clairdeployments/clair" % NS


def kubectl(*args, input=None):
    p = subprocess.run(["kubectl", "--kubeconfig", ENV["KUBECONFIG"], "--cache-dir",
                        os.path.join(KDIR, "cache"), *args], capture_output=True, text=True,
                       input=input, timeout=60)
    if p.returncode:
        raise RuntimeError("kubectl %s: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def req(method, path, body=None, ctype="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(API + path, data=data, method=method, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def wait(pred, timeout, interval=0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return None


def metric(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cond(o, t):
    for c in ((o or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == t:
            return c
    return {}


QUAY = "SERVER_HOSTNAME: quay.example.com\nDATABASE_SECRET_KEY: keep-me\n"
CD = """apiVersion: scanner.clairc.io/v1alpha1
kind: ClairDeployment
metadata: {name: clair, namespace: quay}
spec:
  image: quay.io/projectquay/clair:4.9.0
  replicas: 2
  database: {storage: {size: 1Gi, retainOnDelete: false}}
  quay: {configSecretRef: {name: quay-config}}
"""
kubectl("apply", "-f", os.path.join(SRC, "crds"))
kubectl("wait", "--for=condition=Established", "crd/clairdeployments.scanner.clairc.io", "--timeout=20s")
kubectl("create", "namespace", NS)
kubectl("-n", NS, "create", "secret", "generic", "quay-config", "--from-literal=config.yaml=" + QUAY)
kubectl("apply", "-f", "-", input=CD)

mport, hport = free_port(), free_port()
log = open(os.path.join(TMP, "controller.log"), "w")
ctl = subprocess.Popen([os.path.join(BIN, "clair-controller"), "--kubeconfig", ENV["KUBECONFIG"],
                        "--resync-period=%ss" % RESYNC, "--health-addr=127.0.0.1:%d" % hport,
                        "--metrics-addr=127.0.0.1:%d" % mport], stdout=log, stderr=subprocess.STDOUT)
with open(os.path.join(TMP, "controller.pid"), "w") as f:
    f.write(str(ctl.pid))

job = "clair-migrate-" + hashlib.sha256(b"quay.io/projectquay/clair:4.9.0").hexdigest()[:10]
jpath = "/apis/batch/v1/namespaces/%s/jobs/%s" % (NS, job)
if not wait(lambda: req("GET", jpath), 30):
    print("bench controller: the migration Job never appeared; see the controller log:")
    print(open(log.name).read()[-2000:])
    sys.exit(1)
req("POST", "/_fake/jobs/%s/%s/complete" % (NS, job))
if not wait(lambda: cond(req("GET", CR_PATH), "Available").get("status") == "True", 60):
    print("bench controller: the ClairDeployment never became Available")
    print(json.dumps((req("GET", CR_PATH) or {}).get("status"))[:1000])
    sys.exit(1)
time.sleep(1)

# 1. latency of a spec change
SEC = "/api/v1/namespaces/%s/secrets/clair-config" % NS
DEP = "/apis/apps/v1/namespaces/%s/deployments/clair-scanner" % NS


def converged(gen, value):
    o = req("GET", CR_PATH)
    st = o.get("status") or {}
    if st.get("observedGeneration") != gen:
        return False
    cfg = base64.b64decode(req("GET", SEC)["data"]["config.yaml"]).decode()
    if ("layer_scan_concurrency: %d\n" % value) not in cfg:
        return False
    d = req("GET", DEP)
    return d["spec"]["template"]["metadata"]["annotations"].get("scanner.clairc.io/config-hash") == \
        st.get("configHash")


lat, missed = [], 0
for i in range(CHANGES):
    value = 20 + i
    o = req("PATCH", CR_PATH, {"spec": {"config": {"indexer": {"layerScanConcurrency": value}}}},
            "application/merge-patch+json")
    t0 = time.monotonic()
    gen = o["metadata"]["generation"]
    ok = wait(lambda: converged(gen, value), 30, 0.005)
    if ok:
        lat.append((time.monotonic() - t0) * 1000)
    else:
        missed += 1
    # let the rollout the change caused finish before the next change
    wait(lambda: (req("GET", CR_PATH).get("status") or {}).get("updatedReplicas") == 2 and
         cond(req("GET", CR_PATH), "Progressing").get("reason") == "RolloutComplete", 30)
    time.sleep(0.3)

# 2. steady state
time.sleep(float(RESYNC) + 1)
with open(os.path.join(KDIR, "requests.log")) as f:
    n0 = sum(1 for _ in f)
r0 = metric(mport, "clair_controller_reconcile_total")
t0 = time.monotonic()
time.sleep(STEADY)
wall = time.monotonic() - t0
r1 = metric(mport, "clair_controller_reconcile_total")
writes, gets, lists, watches = [], [], [], 0
with open(os.path.join(KDIR, "requests.log")) as f:
    for i, line in enumerate(f):
        if i < n0:
            continue
        r = json.loads(line)
        if not (r.get("ua") or "").startswith("clair-controller"):
            continue
        if r["method"] != "GET":
            writes.append("%s %s" % (r["method"], r["path"]))
        elif "watch=true" in r["path"] or "watch=1" in r["path"]:
            watches += 1
        elif r["path"].split("?")[0].rstrip("/").split("/")[-1] in (
                "clairdeployments", "deployments", "services", "secrets", "configmaps", "jobs",
                "persistentvolumeclaims", "poddisruptionbudgets", "leases"):
            lists.append(r["path"])
        else:
            gets.append(r["path"])

ctl.send_signal(signal.SIGTERM)
try:
    ctl.wait(10)
except subprocess.TimeoutExpired:
    ctl.kill()
    ctl.wait()

ok = lambda b: "ok" if b else "MISSED"
rec = r1 - r0
print("bench controller (test API server, %s-s resync, Deployment readiness delay %s s)"
      % (RESYNC, os.environ["BENCH_DEPLOYMENT_DELAY"]))
if lat:
    lat.sort()
    p90 = lat[min(len(lat) - 1, int(round(0.9 * (len(lat) - 1))))]
    print("  spec change -> objects applied + status written (%d changes): median %.0f ms, p90 %.0f ms,"
          " min %.0f ms, max %.0f ms" % (len(lat), statistics.median(lat), p90, lat[0], lat[-1]))
print("  spec changes that converged within 30 s: %d/%d  (target all: %s)"
      % (len(lat), CHANGES, ok(missed == 0)))
print("  steady state over %.0f s: %d reconciles (%.1f/s)" % (wall, rec, rec / wall if wall else 0))
per = lambda n: (n / rec) if rec else float(n)
print("  writes: %d total, %.2f per reconcile  (target 0: %s)" % (len(writes), per(len(writes)), ok(not writes)))
print("  GETs of single objects: %d total, %.2f per reconcile  (target ~0, reads from the watch cache: %s)"
      % (len(gets), per(len(gets)), ok(per(len(gets)) < 0.05)))
print("  LISTs: %d, watch requests (re)opened: %d  (informational: the watches' own traffic)"
      % (len(lists), watches))
for w in writes[:5]:
    print("    write: " + w)
for g in gets[:5]:
    print("    GET: " + g)
PY
