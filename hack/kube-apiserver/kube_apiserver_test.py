#!/usr/bin/env python3
"""Fidelity tests of the test API server (hack/kube-apiserver), driven by the real kubectl.

Starts the server with hack/kube-apiserver.sh in a temp dir and drives `kubectl` (the dispatcher
on the PATH, which picks kubectl 1.<minor> from /version) with the kubeconfig the server wrote.
Raw REST checks use urllib.  Each check is one test; the last line is "N passed, N failed".

Environment: KUBE_TEST_MINOR (default 32) pins the main run; KUBE_TEST_MATRIX (default
"27 28 29 30 31 33", "" to skip) adds a smoke run (apply, wait, server-side apply, delete) per
other kubectl minor; KUBE_TEST_FULL_MATRIX=1 runs the whole suite per minor instead (~3-4 min).
"""
import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "kube-apiserver.sh")
MINOR = int(os.environ.get("KUBE_TEST_MINOR", "32"))
MATRIX = [int(x) for x in os.environ.get("KUBE_TEST_MATRIX", "27 28 29 30 31 33").split()
          if int(x) != MINOR]

FULL_MATRIX = os.environ.get("KUBE_TEST_FULL_MATRIX") == "1"  # whole suite per minor (slow)

RESULTS = {"passed": 0, "failed": 0}


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def poll(fn, timeout=15.0, what="condition"):
    end = time.monotonic() + timeout
    delay = 0.02
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise Fail("timed out waiting for " + what)
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            if "=" in line and not line.startswith("export"):
                k, v = line.strip().split("=", 1)
                env[k] = v
    return env


class Cluster:
    def __init__(self, root, minor, extra=()):
        self.dir = os.path.join(root, "srv-%d" % minor)
        self.minor = minor
        self.extra = list(extra)
        self.cache = os.path.join(root, "cache-%d" % minor)

    def start(self):
        r = subprocess.run(["bash", SCRIPT, "start", self.dir, "--minor", str(self.minor)] +
                           self.extra, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise Fail("start failed: %s %s" % (r.stdout, r.stderr))
        self.env = read_env(os.path.join(self.dir, "env"))
        self.http = self.env["KUBE_HTTP_URL"]
        self.https = self.env["KUBE_HTTPS_URL"]
        self.token = self.env["KUBE_TOKEN"]
        self.kubeconfig = self.env["KUBECONFIG"]

    def stop(self):
        subprocess.run(["bash", SCRIPT, "stop", self.dir], capture_output=True, timeout=30)

    def kubectl(self, *args, ok=True, stdin=None, timeout=60, kubeconfig=None):
        cmd = ["kubectl", "--kubeconfig", kubeconfig or self.kubeconfig, "--cache-dir",
               self.cache] + list(args)
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
        if ok and r.returncode != 0:
            raise Fail("kubectl %s failed (%d): %s%s" % (" ".join(args), r.returncode,
                                                         r.stdout, r.stderr))
        return r

    def kjson(self, *args):
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def req(self, method, path, body=None, ctype="application/json", https=False, token=None,
            raw=False):
        url = (self.https if https else self.http) + path
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        rq = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            rq.add_header("Content-Type", ctype)
        if token is not None:
            rq.add_header("Authorization", "Bearer " + token)
        ctx = None
        if https:
            ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.crt"))
        try:
            with urllib.request.urlopen(rq, timeout=30, context=ctx) as resp:
                payload = resp.read()
                code, headers = resp.status, resp.headers
        except urllib.error.HTTPError as e:
            payload, code, headers = e.read(), e.code, e.headers
        if raw:
            return code, headers, payload
        return code, (json.loads(payload) if payload else None)

    def log_lines(self):
        with open(os.path.join(self.dir, "requests.log")) as f:
            return [json.loads(x) for x in f if x.strip()]


# ------------------------------------------------------------------------------ manifests

MULTI = """apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: demo
stringData:
  password: hunter2
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - {port: 80, targetPort: 8080}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:IMAGE_TAG
        ports:
        - containerPort: 8080
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
        volumeMounts:
        - {name: cfg, mountPath: /etc/clair}
      volumes:
      - name: cfg
        secret: {secretName: creds}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: clairdeployments.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: clairdeployments
    singular: clairdeployment
    kind: ClairDeployment
    shortNames: [clair]
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""

CR = """apiVersion: example.com/v1alpha1
kind: ClairDeployment
metadata:
  name: demo
  namespace: demo
spec:
  replicas: REPLICAS
status:
  ignored: true
"""


def multi(tag="1.25"):
    return MULTI.replace("IMAGE_TAG", tag)


# ------------------------------------------------------------------------------ tests

class Suite:
    def __init__(self, c):
        self.c = c

    # 3 / version pin
    def test_version_pinned(self):
        code, v = self.c.req("GET", "/version")
        check(code == 200 and v["minor"] == str(self.c.minor) and v["major"] == "1",
              "version %r" % v)

    # 2 / openapi stub
    def test_openapi_v2_empty_protobuf(self):
        code, headers, body = self.c.req("GET", "/openapi/v2", raw=True)
        check(code == 200, "code %d" % code)
        check(body == b"", "body not empty")
        check(headers["Content-Type"] ==
              "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", headers["Content-Type"])
        code, _, _ = self.c.req("GET", "/openapi/v3", raw=True)
        check(code == 404, "openapi/v3 %d" % code)

    # 1 / discovery
    def test_discovery_api_resources(self):
        out = self.c.kubectl("api-resources", "-o", "name").stdout.split()
        for want in ("deployments.apps", "secrets", "leases.coordination.k8s.io",
                     "customresourcedefinitions.apiextensions.k8s.io", "namespaces",
                     "jobs.batch", "poddisruptionbudgets.policy", "events",
                     "persistentvolumeclaims", "serviceaccounts", "configmaps", "services"):
            check(want in out, "api-resources lacks %s: %s" % (want, out))

    # 2, 6 / apply -f multi-document with validation on
    def test_apply_multidoc(self):
        r = self.c.kubectl("apply", "-f", "-", stdin=multi())
        for want in ("namespace/demo created", "secret/creds created", "service/web created",
                     "deployment.apps/web created",
                     "customresourcedefinition.apiextensions.k8s.io/clairdeployments.example.com"
                     " created"):
            check(want in r.stdout, "missing %r in %r" % (want, r.stdout))
        ua = [x["ua"] for x in self.c.log_lines() if x["method"] == "POST"]
        check(ua and all(u.startswith("kubectl/v1.%d." % self.c.minor) for u in ua),
              "dispatcher picked another kubectl: %r" % ua[:1])

    # 4 / CRD lifecycle
    def test_crd_established_then_cr(self):
        self.c.kubectl("wait", "--for=condition=Established",
                       "crd/clairdeployments.example.com", "--timeout=10s")
        r = self.c.kubectl("apply", "-f", "-", stdin=CR.replace("REPLICAS", "1"))
        check("clairdeployment.example.com/demo created" in r.stdout, r.stdout)
        out = self.c.kubectl("get", "clair", "-n", "demo", "-o", "name").stdout.split()
        check(out == ["clairdeployment.example.com/demo"], "get clair: %r" % out)
        res = self.c.kubectl("api-resources", "--api-group=example.com").stdout
        check("clairdeployments" in res and "clair " in res, res)
        cr = self.c.kjson("get", "clair", "demo", "-n", "demo")
        check("status" not in cr, "status kept on create despite status subresource")
        check(cr["metadata"]["generation"] == 1, "generation %r" % cr["metadata"])

    # 5, 31, 32 / server-set fields and defaults
    def test_get_json_server_fields(self):
        d = self.c.kjson("get", "deployment", "web", "-n", "demo")
        md = d["metadata"]
        check(len(md["uid"]) == 36 and md["creationTimestamp"].endswith("Z"), "uid/ts %r" % md)
        check(md["resourceVersion"].isdigit() and md["generation"] == 1, "rv/gen %r" % md)
        check("kubectl.kubernetes.io/last-applied-configuration" in md["annotations"],
              "no last-applied annotation")
        spec = d["spec"]
        check(spec["strategy"]["rollingUpdate"]["maxSurge"] == "25%", "strategy default")
        check(spec["progressDeadlineSeconds"] == 600 and spec["revisionHistoryLimit"] == 10,
              "deployment defaults")
        ctr = spec["template"]["spec"]["containers"][0]
        check(ctr["imagePullPolicy"] == "IfNotPresent" and
              ctr["ports"][0]["protocol"] == "TCP", "container defaults %r" % ctr)
        svc = self.c.kjson("get", "service", "web", "-n", "demo")
        check(svc["spec"]["clusterIP"].startswith("10.96.") and
              svc["spec"]["clusterIPs"] == [svc["spec"]["clusterIP"]], "clusterIP %r" % svc["spec"])
        check(svc["spec"]["type"] == "ClusterIP" and svc["spec"]["ports"][0]["protocol"] == "TCP"
              and svc["spec"]["ports"][0]["targetPort"] == 8080, "service defaults")
        sec = self.c.kjson("get", "secret", "creds", "-n", "demo")
        check("stringData" not in sec, "stringData kept")
        check(base64.b64decode(sec["data"]["password"]) == b"hunter2", "data %r" % sec["data"])
        check(sec["type"] == "Opaque", "secret type")
        jp = self.c.kubectl("get", "secret", "creds", "-n", "demo", "-o",
                            "jsonpath={.data.password}").stdout
        check(jp == base64.b64encode(b"hunter2").decode(), "jsonpath %r" % jp)

    # 6 / re-apply unchanged: only GETs, "unchanged"
    def test_apply_again_noop(self):
        n0 = len(self.c.log_lines())
        rv0 = self.c.kjson("get", "deployment", "web", "-n", "demo")["metadata"]["resourceVersion"]
        r = self.c.kubectl("apply", "-f", "-", stdin=multi())
        for want in ("namespace/demo unchanged", "service/web unchanged",
                     "deployment.apps/web unchanged",
                     "customresourcedefinition.apiextensions.k8s.io/clairdeployments.example.com"
                     " unchanged"):
            check(want in r.stdout, "missing %r in %r" % (want, r.stdout))
        later = self.c.log_lines()[n0:]
        patched = [x["path"] for x in later if x["method"] == "PATCH"]
        check(not any("/deployments/" in p or "/services/" in p for p in patched),
              "unexpected PATCH: %r" % patched)
        rv1 = self.c.kjson("get", "deployment", "web", "-n", "demo")["metadata"]["resourceVersion"]
        check(rv0 == rv1, "no-op apply changed the RV %s -> %s" % (rv0, rv1))

    # 6 / re-apply with a change: strategic for Deployment, merge for CR
    def test_apply_again_changed(self):
        n0 = len(self.c.log_lines())
        r = self.c.kubectl("apply", "-f", "-", stdin=multi("1.26"))
        check("deployment.apps/web configured" in r.stdout, r.stdout)
        r = self.c.kubectl("apply", "-f", "-", stdin=CR.replace("REPLICAS", "2"))
        check("clairdeployment.example.com/demo configured" in r.stdout, r.stdout)
        later = self.c.log_lines()[n0:]
        cts = {x["path"].split("?")[0].rsplit("/", 2)[-2]: x["ct"] for x in later
               if x["method"] == "PATCH"}
        check(cts.get("deployments") == "application/strategic-merge-patch+json", repr(cts))
        check(cts.get("clairdeployments") == "application/merge-patch+json", repr(cts))
        d = self.c.kjson("get", "deployment", "web", "-n", "demo")
        check(d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26", "image")
        check(d["metadata"]["generation"] == 2, "generation %r" % d["metadata"]["generation"])
        cr = self.c.kjson("get", "clair", "demo", "-n", "demo")
        check(cr["spec"]["replicas"] == 2 and cr["metadata"]["generation"] == 2, repr(cr))

    # 8, 12 / merge patch and generation rules
    def test_patch_merge_generation(self):
        self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--type=merge", "-p",
                       '{"metadata":{"labels":{"x":"y"}}}')
        cr = self.c.kjson("get", "clair", "demo", "-n", "demo")
        check(cr["metadata"]["generation"] == 2 and cr["metadata"]["labels"] == {"x": "y"},
              "label change bumped generation: %r" % cr["metadata"])
        self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--type=merge", "-p",
                       '{"spec":{"replicas":3,"extra":{"a":1}},"metadata":{"labels":{"x":null}}}')
        cr = self.c.kjson("get", "clair", "demo", "-n", "demo")
        check(cr["metadata"]["generation"] == 3, "spec change: %r" % cr["metadata"])
        check("x" not in (cr["metadata"].get("labels") or {}), "null did not delete")
        check(cr["spec"] == {"replicas": 3, "extra": {"a": 1}}, repr(cr["spec"]))
        r = self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--type=strategic", "-p",
                           '{"spec":{"replicas":4}}', ok=False)
        check(r.returncode != 0, "strategic patch on a CR accepted")
        code, st = self.c.req("PATCH", "/apis/example.com/v1alpha1/namespaces/demo/"
                              "clairdeployments/demo", {"spec": {}},
                              "application/strategic-merge-patch+json")
        check(code == 415 and st["reason"] == "UnsupportedMediaType", "%d %r" % (code, st))

    # 8 / JSON patch, with a test op on the resourceVersion as a precondition
    def test_patch_json(self):
        path = "/apis/example.com/v1alpha1/namespaces/demo/clairdeployments/demo"
        code, cr = self.c.req("GET", path)
        rv = cr["metadata"]["resourceVersion"]
        ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": rv},
               {"op": "add", "path": "/spec/list", "value": [1, 2]},
               {"op": "add", "path": "/spec/list/-", "value": 3}]
        code, new = self.c.req("PATCH", path, ops, "application/json-patch+json")
        check(code == 200 and new["spec"]["list"] == [1, 2, 3], "%d %r" % (code, new))
        code, st = self.c.req("PATCH", path, ops, "application/json-patch+json")
        check(code == 422 and st["reason"] == "Invalid", "stale test op: %d %r" % (code, st))
        self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--type=json", "-p",
                       '[{"op":"remove","path":"/spec/list"}]')
        cr = self.c.kjson("get", "clair", "demo", "-n", "demo")
        check("list" not in cr["spec"], "remove op: %r" % cr["spec"])

    # 7 / strategic merge patch with merge keys
    def test_patch_strategic(self):
        p = {"metadata": {"labels": {"tier": None}}, "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}],
            "$setElementOrder/volumes": [{"name": "cfg"}, {"name": "data"}],
            "containers": [{"$setElementOrder/env": [{"name": "A"}],
                            "$setElementOrder/volumeMounts": [{"mountPath": "/etc/clair"},
                                                              {"mountPath": "/data"}],
                            "args": ["-a"], "env": [{"$patch": "delete", "name": "B"}],
                            "name": "web",
                            "volumeMounts": [{"mountPath": "/data", "name": "data"}]}],
            "volumes": [{"$retainKeys": ["configMap", "name"],
                         "configMap": {"name": "clair-config"}, "name": "cfg", "secret": None},
                        {"name": "data", "persistentVolumeClaim": {"claimName": "clair-data"}}]
        }}}}
        self.c.kubectl("patch", "deployment", "web", "-n", "demo", "--type=strategic", "-p",
                       json.dumps(p))
        d = self.c.kjson("get", "deployment", "web", "-n", "demo")
        ps = d["spec"]["template"]["spec"]
        ctr = ps["containers"][0]
        check(len(ps["containers"]) == 1 and ctr["image"] == "nginx:1.26", "containers %r" % ctr)
        check([e["name"] for e in ctr["env"]] == ["A"], "env %r" % ctr["env"])
        check([m["mountPath"] for m in ctr["volumeMounts"]] == ["/etc/clair", "/data"],
              "mounts %r" % ctr["volumeMounts"])
        check(ctr["args"] == ["-a"] and ctr["ports"][0]["containerPort"] == 8080, "args/ports")
        check(ps["volumes"] == [{"name": "cfg", "configMap": {"name": "clair-config"}},
                                {"name": "data",
                                 "persistentVolumeClaim": {"claimName": "clair-data"}}],
              "volumes %r" % ps["volumes"])
        check("tier" not in d["metadata"]["labels"], "label not removed")
        sp = {"spec": {"$setElementOrder/ports": [{"port": 80}, {"port": 9090}],
                       "ports": [{"port": 80, "targetPort": 8081},
                                 {"name": "metrics", "port": 9090}]}}
        self.c.kubectl("patch", "service", "web", "-n", "demo", "--type=strategic", "-p",
                       json.dumps(sp))
        svc = self.c.kjson("get", "service", "web", "-n", "demo")
        ports = [(p["port"], p["targetPort"], p.get("name")) for p in svc["spec"]["ports"]]
        check(ports == [(80, 8081, None), (9090, 9090, "metrics")], "ports %r" % ports)
        # container ports merge on containerPort, conditions on type (status)
        self.c.kubectl("patch", "deployment", "web", "-n", "demo", "--type=strategic", "-p",
                       json.dumps({"spec": {"template": {"spec": {"containers": [
                           {"name": "web", "ports": [{"containerPort": 9000}]}]}}}}))
        d = self.c.kjson("get", "deployment", "web", "-n", "demo")
        cp = [p["containerPort"] for p in d["spec"]["template"]["spec"]["containers"][0]["ports"]]
        check(cp == [8080, 9000], "container ports %r" % cp)

    # 13 / status subresource
    def test_status_subresource(self):
        before = self.c.kjson("get", "clair", "demo", "-n", "demo")
        self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--subresource=status",
                       "--type=merge", "-p",
                       '{"status":{"phase":"Ready"},"spec":{"replicas":99},'
                       '"metadata":{"labels":{"sneaky":"1"}}}')
        cr = self.c.kjson("get", "clair", "demo", "-n", "demo")
        check(cr["status"] == {"phase": "Ready"}, "status %r" % cr.get("status"))
        check(cr["spec"] == before["spec"], "spec changed via /status")
        check("sneaky" not in (cr["metadata"].get("labels") or {}), "labels changed via /status")
        check(cr["metadata"]["generation"] == before["metadata"]["generation"],
              "/status write bumped generation")
        # main endpoint ignores status
        self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--type=merge", "-p",
                       '{"status":{"phase":"Hacked"}}')
        cr = self.c.kjson("get", "clair", "demo", "-n", "demo")
        check(cr["status"] == {"phase": "Ready"}, "main endpoint changed status")

    # 33 / deployment stand-in
    def test_wait_available(self):
        r = self.c.kubectl("wait", "--for=condition=Available", "deployment/web", "-n", "demo",
                           "--timeout=30s")
        check("condition met" in r.stdout, r.stdout)
        # Available stays True during a rolling update (as in Kubernetes); rollout status waits
        # for the new generation to be observed and fully available
        r = self.c.kubectl("rollout", "status", "deployment/web", "-n", "demo", "--timeout=30s")
        check("successfully rolled out" in r.stdout, r.stdout)
        d = self.c.kjson("get", "deployment", "web", "-n", "demo")
        st = d["status"]
        check(st["observedGeneration"] == d["metadata"]["generation"], "observedGeneration")
        check(st["replicas"] == st["availableReplicas"] == st["readyReplicas"] == 2, repr(st))
        conds = {c["type"]: c for c in st["conditions"]}
        check(conds["Progressing"]["reason"] == "NewReplicaSetAvailable", repr(conds))

    # server-side printing: kubectl's default output is a Table from the server
    def test_kubectl_get_table(self):
        def rows(*args):
            out = self.c.kubectl("get", *args).stdout
            return [line.split() for line in out.splitlines() if line.strip()]
        r = rows("deployment", "web", "-n", "demo")
        check(r[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"] and
              r[1][:4] == ["web", "2/2", "2", "2"], "deployment table %r" % r)
        r = rows("deployment", "web", "-n", "demo", "-o", "wide")
        check(r[0][5:] == ["CONTAINERS", "IMAGES", "SELECTOR"] and
              r[1][5:] == ["web", "nginx:1.26", "app=web"], "wide %r" % r)
        r = rows("service", "web", "-n", "demo")
        check(r[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"] and
              r[1][1] == "ClusterIP" and r[1][2].startswith("10.96.") and
              r[1][4] == "80/TCP,9090/TCP",
              "service table %r" % r)
        r = rows("secret", "creds", "-n", "demo")
        check(r[0] == ["NAME", "TYPE", "DATA", "AGE"] and r[1][:3] == ["creds", "Opaque", "1"],
              "secret table %r" % r)
        r = rows("clair", "-n", "demo")
        check(r[0] == ["NAME", "REPLICAS", "AGE"] and r[1][:2] == ["demo", "3"],
              "CR additionalPrinterColumns %r" % r)
        r = rows("crd")
        check(r[0] == ["NAME", "CREATED", "AT"] and
              r[1][0] == "clairdeployments.example.com", "crd table %r" % r)
        r = rows("serviceaccounts,configmaps", "-n", "demo", "-o", "name")
        flat = [x[0] for x in r]
        check("serviceaccount/default" in flat and "configmap/kube-root-ca.crt" in flat,
              "per-namespace defaults %r" % flat)

    # 14 / observedGeneration matters to kubectl wait (1.27+)
    def test_wait_observed_generation(self):
        cr = self.c.kjson("get", "clair", "demo", "-n", "demo")
        gen = cr["metadata"]["generation"]
        st = {"status": {"observedGeneration": gen - 1,
                         "conditions": [{"type": "Ready", "status": "True"}]}}
        self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--subresource=status",
                       "--type=merge", "-p", json.dumps(st))
        r = self.c.kubectl("wait", "--for=condition=Ready", "clair/demo", "-n", "demo",
                           "--timeout=1s", ok=False)
        check(r.returncode != 0, "wait succeeded with a stale observedGeneration")
        st["status"]["observedGeneration"] = gen
        self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--subresource=status",
                       "--type=merge", "-p", json.dumps(st))
        self.c.kubectl("wait", "--for=condition=Ready", "clair/demo", "-n", "demo",
                       "--timeout=10s")

    # 6 (watch) / kubectl get -w sees a change
    def test_get_watch(self):
        cmd = ["kubectl", "--kubeconfig", self.c.kubeconfig, "--cache-dir", self.c.cache,
               "get", "configmaps", "-n", "demo", "-w", "--output-watch-events",
               "--no-headers"]
        self.c.kubectl("create", "configmap", "watched", "-n", "demo", "--from-literal=v=1")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []

        def reader():
            for line in p.stdout:
                lines.append(line.split())
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            poll(lambda: any(x[:2] == ["ADDED", "watched"] for x in lines), 20,
                 "initial ADDED line")
            self.c.kubectl("patch", "configmap", "watched", "-n", "demo", "--type=merge", "-p",
                           '{"data":{"v":"2"}}')
            poll(lambda: any(x[:2] == ["MODIFIED", "watched"] for x in lines), 20,
                 "MODIFIED line")
            self.c.kubectl("delete", "configmap", "watched", "-n", "demo")
            poll(lambda: any(x[:2] == ["DELETED", "watched"] for x in lines), 20, "DELETED line")
        finally:
            p.terminate()
            p.wait(10)

    # 24 / background GC through kubectl delete
    def test_delete_gc_owned(self):
        cr = self.c.kjson("get", "clair", "demo", "-n", "demo")
        owner = {"apiVersion": "example.com/v1alpha1", "kind": "ClairDeployment",
                 "name": "demo", "uid": cr["metadata"]["uid"], "controller": True,
                 "blockOwnerDeletion": True}
        for kind, name in (("ConfigMap", "owned-cm"), ("Secret", "owned-secret"),
                           ("PersistentVolumeClaim", "owned-pvc")):
            obj = {"apiVersion": "v1", "kind": kind,
                   "metadata": {"name": name, "namespace": "demo", "ownerReferences": [owner]}}
            if kind == "PersistentVolumeClaim":
                obj["spec"] = {"accessModes": ["ReadWriteOnce"],
                               "resources": {"requests": {"storage": "1Gi"}}}
            self.c.kubectl("apply", "-f", "-", stdin=json.dumps(obj))
        self.c.kubectl("delete", "clair", "demo", "-n", "demo", "--timeout=20s")

        def gone():
            r = self.c.kubectl("get", "configmap,secret,pvc", "-n", "demo", "-o", "name")
            return not any(x in r.stdout for x in ("owned-cm", "owned-secret", "owned-pvc"))
        poll(gone, 20, "owned objects to be collected")
        r = self.c.kubectl("get", "secret", "creds", "-n", "demo", "-o", "name")
        check("secret/creds" in r.stdout, "unowned secret collected")

    # 23 / finalizers and deletionTimestamp via kubectl
    def test_delete_with_finalizer(self):
        obj = {"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "held", "namespace": "demo",
                            "finalizers": ["example.com/hold"]}}
        self.c.kubectl("apply", "-f", "-", stdin=json.dumps(obj))
        cmd = ["kubectl", "--kubeconfig", self.c.kubeconfig, "--cache-dir", self.c.cache,
               "delete", "configmap", "held", "-n", "demo", "--timeout=30s"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            cm = poll(lambda: (lambda o: o if o["metadata"].get("deletionTimestamp") else None)(
                self.c.kjson("get", "configmap", "held", "-n", "demo")), 20, "deletionTimestamp")
            check(cm["metadata"]["finalizers"] == ["example.com/hold"], "finalizers")
            check(p.poll() is None, "kubectl delete returned while the finalizer is pending")
            code, st = self.c.req("PATCH", "/api/v1/namespaces/demo/configmaps/held",
                                  {"metadata": {"finalizers": ["example.com/hold", "new"]}},
                                  "application/merge-patch+json")
            check(code == 422 and st["reason"] == "Invalid", "new finalizer: %d %r" % (code, st))
            self.c.kubectl("patch", "configmap", "held", "-n", "demo", "--type=merge", "-p",
                           '{"metadata":{"finalizers":null}}')
            out, err = p.communicate(timeout=30)
            check(p.returncode == 0, "kubectl delete failed: %s %s" % (out, err))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        r = self.c.kubectl("get", "configmap", "held", "-n", "demo", ok=False)
        check(r.returncode != 0 and "NotFound" in r.stderr, "still there: %r" % r.stderr)

    # 30 / server-side apply
    def test_server_side_apply(self):
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "ssa", "namespace": "demo"}, "data": {"a": "1"}}
        n0 = len(self.c.log_lines())
        r = self.c.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(cm))
        check("configmap/ssa serverside-applied" in r.stdout, r.stdout)
        cm["data"]["a"] = "2"
        self.c.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(cm))
        codes = [(x["code"], x["ct"]) for x in self.c.log_lines()[n0:] if x["method"] == "PATCH"]
        check(codes == [(201, "application/apply-patch+yaml"),
                        (200, "application/apply-patch+yaml")], "codes %r" % codes)
        got = self.c.kjson("get", "configmap", "ssa", "-n", "demo", "--show-managed-fields")
        check(got["data"] == {"a": "2"}, "data %r" % got["data"])
        mf = got["metadata"].get("managedFields") or []
        check(mf and all(m.get("fieldsType") == "FieldsV1" and isinstance(m.get("fieldsV1"), dict)
                         and m.get("manager") and m.get("operation") and m.get("time")
                         for m in mf), "managedFields %r" % mf)
        # a field this manager applied before and omits now is removed
        cm["data"] = {"a": "2", "b": "x"}
        self.c.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(cm))
        cm["data"] = {"a": "2"}
        self.c.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(cm))
        got = self.c.kjson("get", "configmap", "ssa", "-n", "demo")
        check(got["data"] == {"a": "2"}, "dropped field kept: %r" % got["data"])
        # another manager changing an owned field conflicts unless forced
        cm["data"] = {"a": "3"}
        r = self.c.kubectl("apply", "--server-side", "--field-manager=other", "-f", "-",
                           stdin=json.dumps(cm), ok=False)
        check(r.returncode != 0 and "conflict" in r.stderr.lower() and ".data.a" in r.stderr,
              "no conflict: %r" % r.stderr)
        self.c.kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts",
                       "-f", "-", stdin=json.dumps(cm))
        got = self.c.kjson("get", "configmap", "ssa", "-n", "demo")
        check(got["data"] == {"a": "3"}, "forced apply: %r" % got["data"])
        # an object created by client-side apply, then applied server-side (csaupgrade path)
        self.c.kubectl("apply", "--server-side", "-f", "-", stdin=multi("1.26"))
        code, st = self.c.req("PATCH", "/api/v1/namespaces/demo/configmaps/ssa",
                              json.dumps(cm).encode(), "application/apply-patch+yaml")
        check(code == 400 and st["reason"] == "BadRequest", "no fieldManager: %d" % code)

    # 9 / stale update -> 409 via raw REST
    def test_stale_update_409(self):
        path = "/api/v1/namespaces/demo/configmaps"
        code, obj = self.c.req("POST", path, {"apiVersion": "v1", "kind": "ConfigMap",
                                              "metadata": {"name": "cas"}, "data": {"k": "0"}})
        check(code == 201, "create %d" % code)
        code, again = self.c.req("POST", path, {"apiVersion": "v1", "kind": "ConfigMap",
                                                "metadata": {"name": "cas"}})
        check(code == 409 and again["reason"] == "AlreadyExists" and
              again["message"] == 'configmaps "cas" already exists', repr(again))
        stale = json.loads(json.dumps(obj))
        obj["data"]["k"] = "1"
        code, new = self.c.req("PUT", path + "/cas", obj)
        check(code == 200 and new["metadata"]["resourceVersion"] !=
              stale["metadata"]["resourceVersion"], "update %d" % code)
        stale["data"]["k"] = "2"
        code, st = self.c.req("PUT", path + "/cas", stale)
        check(code == 409, "stale update got %d" % code)
        check(st["kind"] == "Status" and st["status"] == "Failure" and st["reason"] == "Conflict"
              and st["code"] == 409 and st["details"] == {"name": "cas", "kind": "configmaps"},
              repr(st))
        check(st["message"] == 'Operation cannot be fulfilled on configmaps "cas": the object has '
              'been modified; please apply your changes to the latest version and try again',
              st["message"])
        # no-op PUT keeps the RV
        code, same = self.c.req("PUT", path + "/cas", new)
        check(code == 200 and same["metadata"]["resourceVersion"] ==
              new["metadata"]["resourceVersion"], "no-op PUT changed RV")
        # deployments: qualified name in the message
        code, d = self.c.req("GET", "/apis/apps/v1/namespaces/demo/deployments/web")
        d["metadata"]["resourceVersion"] = "1"
        code, st = self.c.req("PUT", "/apis/apps/v1/namespaces/demo/deployments/web", d)
        check(code == 409 and st["details"] == {"name": "web", "group": "apps",
                                                 "kind": "deployments"} and
              'deployments.apps "web"' in st["message"], repr(st))

    # 10, 34 / leases
    def test_lease_rules(self):
        path = "/apis/coordination.k8s.io/v1/namespaces/demo/leases"
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": "leader"},
                 "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
        code, got = self.c.req("PUT", path + "/leader", lease)
        check(code == 201, "PUT create %d" % code)
        code, st = self.c.req("PUT", path + "/leader", lease)
        check(code == 422 and st["reason"] == "Invalid", "PUT without RV %d" % code)
        results = []

        def take(who):
            body = json.loads(json.dumps(got))
            body["spec"]["holderIdentity"] = who
            results.append(self.c.req("PUT", path + "/leader", body)[0])
        ts = [threading.Thread(target=take, args=(w,)) for w in ("b", "c")]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        check(sorted(results) == [200, 409], "race results %r" % results)

    # 37 / error objects
    def test_error_status_objects(self):
        cases = [
            ("GET", "/api/v1/namespaces/demo/secrets/nope", None, 404, "NotFound",
             'secrets "nope" not found'),
            ("GET", "/apis/apps/v1/namespaces/demo/deployments/nope", None, 404, "NotFound",
             'deployments.apps "nope" not found'),
            ("GET", "/apis/nothing.example/v1/things", None, 404, "NotFound",
             "the server could not find the requested resource"),
            ("POST", "/api/v1/namespaces/missing/configmaps",
             {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, 404,
             "NotFound", 'namespaces "missing" not found'),
            ("POST", "/api/v1/namespaces/demo/configmaps",
             {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}, 422,
             "Invalid", None),
            ("POST", "/api/v1/namespaces/demo/configmaps", b"{not json", 400, "BadRequest", None),
            ("POST", "/api/v1/namespaces/demo/configmaps",
             {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "x", "namespace": "other"}}, 400, "BadRequest", None),
            ("PUT", "/api/v1/namespaces/demo/configmaps", {}, 405, "MethodNotAllowed", None),
            ("GET", "/api/v1/namespaces/demo/configmaps?labelSelector=a%20in%20(", None, 400,
             "BadRequest", None),
            ("GET", "/api/v1/namespaces/demo/configmaps?fieldSelector=spec.x%3D1", None, 400,
             "BadRequest", "field label not supported: spec.x"),
        ]
        for method, path, body, code, reason, msg in cases:
            got, st = self.c.req(method, path, body)
            check(got == code, "%s %s -> %d, want %d" % (method, path, got, code))
            check(st["kind"] == "Status" and st["apiVersion"] == "v1" and
                  st["status"] == "Failure" and st["reason"] == reason and st["code"] == code,
                  "%s %s body %r" % (method, path, st))
            if msg:
                check(st["message"] == msg, "message %r" % st["message"])

    # 15 / label selectors through kubectl
    def test_label_selectors(self):
        for name, labels in (("l1", "app=web,env=prod"), ("l2", "app=db,env=prod"),
                             ("l3", "app=web")):
            self.c.kubectl("create", "configmap", name, "-n", "demo")
            self.c.kubectl("label", "configmap", name, "-n", "demo", *labels.split(","))

        def names(sel):
            out = self.c.kubectl("get", "configmaps", "-n", "demo", "-l", sel, "-o",
                                 "name").stdout.split()
            return sorted(x.split("/")[1] for x in out)
        check(names("app=web") == ["l1", "l3"], names("app=web"))
        check(names("app!=web,env") == ["l2"], names("app!=web,env"))
        check(names("app in (db,web),env notin (dev)") == ["l1", "l2", "l3"], "in/notin")
        check(names("app,!env") == ["l3"], names("app,!env"))
        r = self.c.kubectl("get", "configmaps", "-A", "--field-selector",
                           "metadata.name=l2", "-o", "name")
        check(r.stdout.split() == ["configmap/l2"], r.stdout)

    # 3.5 / limit and continue
    def test_list_limit_continue(self):
        seen, cont, pages = [], "", 0
        while True:
            code, lst = self.c.req("GET", "/api/v1/namespaces/demo/configmaps?limit=1" +
                                   ("&continue=" + cont if cont else ""))
            check(code == 200 and len(lst["items"]) <= 1, "page %d" % code)
            seen += [i["metadata"]["name"] for i in lst["items"]]
            pages += 1
            cont = lst["metadata"].get("continue")
            if not cont:
                break
        code, full = self.c.req("GET", "/api/v1/namespaces/demo/configmaps")
        check(seen == [i["metadata"]["name"] for i in full["items"]] and pages > 1,
              "paged %r vs %r" % (seen, full["items"]))
        check(all(int(full["metadata"]["resourceVersion"]) >= int(i["metadata"]["resourceVersion"])
                  for i in full["items"]), "list RV older than an item")

    def _watch(self, query, timeout=10):
        code, headers, body = self.c.req("GET", "/api/v1/namespaces/demo/configmaps?watch=true&"
                                         + query, raw=True)
        check(code == 200, "watch code %d" % code)
        check(headers.get("Transfer-Encoding") == "chunked", "not chunked")
        return [json.loads(x) for x in body.decode().splitlines() if x.strip()]

    # 17, 18, 19, 22 / watch semantics
    def test_watch_from_rv(self):
        code, lst = self.c.req("GET", "/api/v1/namespaces/demo/configmaps")
        rv = lst["metadata"]["resourceVersion"]
        self.c.req("POST", "/api/v1/namespaces/demo/configmaps",
                   {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1"}})
        self.c.req("PATCH", "/api/v1/namespaces/demo/configmaps/w1", {"data": {"a": "b"}},
                   "application/merge-patch+json")
        self.c.req("DELETE", "/api/v1/namespaces/demo/configmaps/w1")
        t0 = time.monotonic()
        evs = self._watch("resourceVersion=%s&timeoutSeconds=1" % rv)
        check(time.monotonic() - t0 < 3, "timeoutSeconds not honoured")
        check([e["type"] for e in evs] == ["ADDED", "MODIFIED", "DELETED"], repr(evs))
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
        check(rvs == sorted(rvs) and len(set(rvs)) == 3, "RVs %r" % rvs)
        evs = self._watch("timeoutSeconds=1&labelSelector=app%3Dweb")
        check(sorted(e["object"]["metadata"]["name"] for e in evs) == ["l1", "l3"] and
              all(e["type"] == "ADDED" for e in evs), "synthetic ADDED %r" % evs)
        # selector transitions: label removed -> DELETED, added back -> ADDED
        code, lst = self.c.req("GET", "/api/v1/namespaces/demo/configmaps")
        rv = lst["metadata"]["resourceVersion"]
        self.c.req("PATCH", "/api/v1/namespaces/demo/configmaps/l3",
                   {"metadata": {"labels": {"app": None}}}, "application/merge-patch+json")
        self.c.req("PATCH", "/api/v1/namespaces/demo/configmaps/l3",
                   {"metadata": {"labels": {"app": "web"}}}, "application/merge-patch+json")
        evs = self._watch("resourceVersion=%s&timeoutSeconds=1&labelSelector=app%%3Dweb" % rv)
        check([(e["type"], e["object"]["metadata"]["name"]) for e in evs] ==
              [("DELETED", "l3"), ("ADDED", "l3")], "transitions %r" % evs)

    # 20 / bookmarks
    def test_watch_bookmarks(self):
        self.c.req("PUT", "/_fake/config", {"bookmarkIntervalSeconds": 0.3})
        try:
            evs = self._watch("resourceVersion=%s&timeoutSeconds=1&allowWatchBookmarks=true" %
                              self.c.req("GET", "/api/v1/namespaces/demo/configmaps")[1][
                                  "metadata"]["resourceVersion"])
            bms = [e for e in evs if e["type"] == "BOOKMARK"]
            check(bms, "no BOOKMARK")
            check(all(set(b["object"]) == {"kind", "apiVersion", "metadata"} and
                      set(b["object"]["metadata"]) == {"resourceVersion"} for b in bms), repr(bms))
            evs = self._watch("resourceVersion=%s&timeoutSeconds=1" %
                              self.c.req("GET", "/api/v1/namespaces/demo/configmaps")[1][
                                  "metadata"]["resourceVersion"])
            check(not any(e["type"] == "BOOKMARK" for e in evs), "BOOKMARK without asking")
        finally:
            self.c.req("PUT", "/_fake/config", {"bookmarkIntervalSeconds": 5})

    # 21 / 410 Gone, and kubectl wait survives it
    def test_watch_too_old_410(self):
        code, lst = self.c.req("GET", "/api/v1/namespaces/demo/configmaps")
        old = lst["metadata"]["resourceVersion"]
        self.c.kubectl("create", "configmap", "after-rv", "-n", "demo")
        code, _ = self.c.req("POST", "/_fake/compact")
        check(code == 200, "compact %d" % code)
        evs = self._watch("resourceVersion=%s&timeoutSeconds=5" % old)
        check(len(evs) == 1 and evs[0]["type"] == "ERROR", repr(evs))
        st = evs[0]["object"]
        check(st["kind"] == "Status" and st["code"] == 410 and st["reason"] == "Expired" and
              st["message"].startswith("too old resource version: %s" % old), repr(st))

    # 21 / kubectl wait relists and re-watches after its watch gets ERROR 410
    def test_wait_survives_410(self):
        self.c.kubectl("create", "configmap", "w410", "-n", "demo")
        n0 = len(self.c.log_lines())
        cmd = ["kubectl", "--kubeconfig", self.c.kubeconfig, "--cache-dir", self.c.cache,
               "wait", "--for=jsonpath={.data.ready}=yes", "configmap/w410", "-n", "demo",
               "--timeout=30s"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            def watches():
                return [x for x in self.c.log_lines()[n0:]
                        if "watch=true" in x["path"] and "w410" in x["path"]]
            poll(watches, 20, "kubectl's watch")
            code, _ = self.c.req("POST", "/_fake/expire-watches")
            check(code == 200, "expire %d" % code)
            poll(lambda: len(watches()) >= 2, 20, "kubectl to re-watch after 410")
            self.c.kubectl("patch", "configmap", "w410", "-n", "demo", "--type=merge", "-p",
                           '{"data":{"ready":"yes"}}')
            out, err = p.communicate(timeout=30)
            check(p.returncode == 0 and "condition met" in out, "wait: %r %r" % (out, err))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()

    # kubectl's typed generators send protobuf bodies
    def test_kubectl_create_protobuf(self):
        self.c.kubectl("create", "deployment", "gen", "-n", "demo", "--image=nginx:1.25",
                       "--replicas=0", "--port=8080")
        d = self.c.kjson("get", "deployment", "gen", "-n", "demo")
        ctr = d["spec"]["template"]["spec"]["containers"][0]
        check(d["spec"]["replicas"] == 0 and d["spec"]["selector"] ==
              {"matchLabels": {"app": "gen"}} and ctr["image"] == "nginx:1.25" and
              ctr["ports"][0]["containerPort"] == 8080, "deployment %r" % d["spec"])
        self.c.kubectl("scale", "deployment", "gen", "-n", "demo", "--replicas=2")
        self.c.kubectl("wait", "--for=jsonpath={.status.readyReplicas}=2", "deployment/gen",
                       "-n", "demo", "--timeout=20s")
        self.c.kubectl("create", "service", "nodeport", "gen", "-n", "demo", "--tcp=80:http",
                       "--node-port=30080")
        svc = self.c.kjson("get", "service", "gen", "-n", "demo")
        check(svc["spec"]["ports"][0] == {"name": "80-http", "port": 80, "targetPort": "http",
                                          "nodePort": 30080, "protocol": "TCP"} and
              svc["spec"]["type"] == "NodePort", "service %r" % svc["spec"])
        self.c.kubectl("create", "job", "gen", "-n", "demo", "--image=busybox:1", "--",
                       "echo", "hi")
        j = self.c.kjson("get", "job", "gen", "-n", "demo")
        check(j["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"] and
              j["spec"]["template"]["spec"]["restartPolicy"] == "Never", "job %r" % j["spec"])
        self.c.kubectl("create", "secret", "generic", "gen", "-n", "demo",
                       "--from-literal=bin=\u00ff", "--type=example.com/x")
        sec = self.c.kjson("get", "secret", "gen", "-n", "demo")
        check(base64.b64decode(sec["data"]["bin"]) == "\u00ff".encode() and
              sec["type"] == "example.com/x", "secret %r" % sec)
        self.c.kubectl("create", "serviceaccount", "gen", "-n", "demo")
        self.c.kubectl("create", "configmap", "gen", "-n", "demo", "--from-literal=k=v")
        check(self.c.kjson("get", "configmap", "gen", "-n", "demo")["data"] == {"k": "v"},
              "configmap")
        for kind in ("deployment", "service", "job", "secret", "serviceaccount", "configmap"):
            self.c.kubectl("delete", kind, "gen", "-n", "demo")
        ct = {x["ct"] for x in self.c.log_lines() if x["method"] == "POST" and
              "fieldManager=kubectl-create" in x["path"]}
        # kubectl 1.32+ sends protobuf here; 1.27-1.31 send JSON
        want = "application/vnd.kubernetes.protobuf" if self.c.minor >= 32 else \
            "application/json"
        check(want in ct, "expected %s, saw %r" % (want, ct))

    # misc kinds: Events (field selectors), PDBs, CRs without the status subresource, 422s
    def test_misc_kinds(self):
        ev = {"apiVersion": "v1", "kind": "Event",
              "metadata": {"name": "web.1", "namespace": "demo"},
              "involvedObject": {"kind": "Deployment", "name": "web", "namespace": "demo"},
              "reason": "Scaled", "message": "scaled", "type": "Normal"}
        code, _ = self.c.req("POST", "/api/v1/namespaces/demo/events", ev)
        check(code == 201, "event create %d" % code)
        r = self.c.kubectl("get", "events", "-n", "demo", "--field-selector",
                           "involvedObject.name=web,reason=Scaled", "-o", "name")
        check(r.stdout.split() == ["event/web.1"], "events: %r" % r.stdout)
        pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "web", "namespace": "demo"},
               "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}
        self.c.kubectl("apply", "-f", "-", stdin=json.dumps(pdb))
        got = self.c.kjson("get", "pdb", "web", "-n", "demo")
        check(got["spec"]["minAvailable"] == 1 and got["metadata"]["generation"] == 1, "pdb")
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "widgets.example.org"},
               "spec": {"group": "example.org", "scope": "Cluster",
                        "names": {"plural": "widgets", "kind": "Widget"},
                        "versions": [{"name": "v1", "served": True, "storage": True,
                                      "schema": {"openAPIV3Schema": {
                                          "type": "object",
                                          "x-kubernetes-preserve-unknown-fields": True}}}]}}
        self.c.kubectl("apply", "-f", "-", stdin=json.dumps(crd))
        self.c.kubectl("wait", "--for=condition=Established", "crd/widgets.example.org",
                       "--timeout=10s")
        w = {"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"},
             "spec": {"a": 1}, "status": {"s": 1}}
        code, obj = self.c.req("POST", "/apis/example.org/v1/widgets", w)
        check(code == 201 and obj["status"] == {"s": 1}, "status dropped without subresource")
        code, _ = self.c.req("GET", "/apis/example.org/v1/widgets/w/status")
        check(code == 404, "/status without subresource: %d" % code)
        obj["status"] = {"s": 2}
        code, obj2 = self.c.req("PUT", "/apis/example.org/v1/widgets/w", obj)
        check(code == 200 and obj2["metadata"]["generation"] == 2, "status is spec-like here")
        del obj2["metadata"]["resourceVersion"]
        code, st = self.c.req("PUT", "/apis/example.org/v1/widgets/w", obj2)
        check(code == 422 and st["reason"] == "Invalid", "CR PUT without RV: %d" % code)
        r = self.c.kubectl("get", "widgets", "-o", "name")
        check(r.stdout.split() == ["widget.example.org/w"], r.stdout)
        # dryRun=All answers like a write but stores nothing
        rv0 = self.c.req("GET", "/api/v1/namespaces/demo/configmaps")[1]["metadata"][
            "resourceVersion"]
        r = self.c.kubectl("create", "configmap", "dry", "-n", "demo", "--dry-run=server",
                           "-o", "json")
        dry = json.loads(r.stdout)["metadata"]
        check(dry.get("uid") and not dry.get("resourceVersion"), "dry-run answer %r" % dry)
        self.c.kubectl("delete", "deployment", "web", "-n", "demo", "--dry-run=server")
        check(self.c.req("GET", "/api/v1/namespaces/demo/configmaps/dry")[0] == 404,
              "dry-run create stored")
        check(self.c.req("GET", "/apis/apps/v1/namespaces/demo/deployments/web")[0] == 200,
              "dry-run delete deleted")
        rv1 = self.c.req("GET", "/api/v1/namespaces/demo/configmaps")[1]["metadata"][
            "resourceVersion"]
        check(rv0 == rv1, "dry-run moved the resourceVersion")

    # 35 / auth over TLS
    def test_auth_wrong_token(self):
        with open(self.c.kubeconfig) as f:
            kc = json.load(f)
        kc["users"][0]["user"]["token"] = "wrong"
        bad = os.path.join(self.c.dir, "bad-kubeconfig")
        with open(bad, "w") as f:
            json.dump(kc, f)
        r = self.c.kubectl("get", "configmaps", "-n", "demo", kubeconfig=bad, ok=False)
        check(r.returncode != 0 and "Unauthorized" in r.stderr, "kubectl: %r" % r.stderr)
        code, st = self.c.req("GET", "/api/v1/namespaces", https=True, token="wrong")
        check(code == 401 and st["reason"] == "Unauthorized" and st["kind"] == "Status",
              "%d %r" % (code, st))
        code, st = self.c.req("GET", "/api/v1/namespaces", https=True)
        check(code == 403 and st["reason"] == "Forbidden", "anonymous: %d" % code)
        code, v = self.c.req("GET", "/version", https=True)
        check(code == 200 and v["minor"] == str(self.c.minor), "anonymous /version: %d" % code)
        code, lst = self.c.req("GET", "/api/v1/namespaces", https=True, token=self.c.token)
        check(code == 200 and lst["kind"] == "NamespaceList", "good token: %d" % code)
        # token rotation (test hook): only the new token is accepted
        self.c.req("PUT", "/_fake/config", {"tokens": ["rotated"]})
        try:
            code, _ = self.c.req("GET", "/api/v1/namespaces", https=True, token=self.c.token)
            check(code == 401, "old token after rotation: %d" % code)
            code, _ = self.c.req("GET", "/api/v1/namespaces", https=True, token="rotated")
            check(code == 200, "new token after rotation: %d" % code)
        finally:
            self.c.req("PUT", "/_fake/config", {"tokens": None})

    # deployment failure injection
    def test_deployment_stall_past_deadline(self):
        dep = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "stuck", "namespace": "demo",
                            "annotations": {"kube-apiserver.test/stall-rollout": "true"}},
               "spec": {"progressDeadlineSeconds": 1, "selector": {"matchLabels": {"a": "s"}},
                        "template": {"metadata": {"labels": {"a": "s"}},
                                     "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}}
        self.c.kubectl("apply", "-f", "-", stdin=json.dumps(dep))
        self.c.kubectl("wait", "--for=condition=Progressing=False", "deployment/stuck", "-n",
                       "demo", "--timeout=20s")
        d = self.c.kjson("get", "deployment", "stuck", "-n", "demo")
        conds = {c["type"]: c for c in d["status"]["conditions"]}
        check(conds["Progressing"]["reason"] == "ProgressDeadlineExceeded", repr(conds))
        check(conds["Available"]["status"] == "False", repr(conds))
        r = self.c.kubectl("rollout", "status", "deployment/stuck", "-n", "demo",
                           "--timeout=10s", ok=False)
        check(r.returncode != 0 and "exceeded its progress deadline" in r.stderr, r.stderr)
        self.c.kubectl("annotate", "deployment", "stuck", "-n", "demo",
                       "kube-apiserver.test/stall-rollout-")
        self.c.kubectl("wait", "--for=condition=Available", "deployment/stuck", "-n", "demo",
                       "--timeout=20s")
        self.c.kubectl("rollout", "status", "deployment/stuck", "-n", "demo", "--timeout=20s")

    # jobs on command
    def test_job_complete_on_command(self):
        job = {"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": "once", "namespace": "demo"},
               "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                   {"name": "c", "image": "busybox:1"}]}}}}
        self.c.kubectl("apply", "-f", "-", stdin=json.dumps(job))
        code, _ = self.c.req("POST", "/_fake/jobs/demo/once/complete")
        check(code == 200, "complete %d" % code)
        self.c.kubectl("wait", "--for=condition=Complete", "job/once", "-n", "demo",
                       "--timeout=10s")

    # fault injection: the next N writes to one path answer 409
    def test_injected_conflicts(self):
        base = "/api/v1/namespaces/demo/configmaps"
        code, cm = self.c.req("POST", base, {"apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": {"name": "inj"}, "data": {"k": "0"}})
        check(code == 201, "create %d" % code)
        code, pend = self.c.req("POST", "/_fake/conflicts", {"path": base + "/inj", "count": 2})
        check(code == 200 and pend == {base + "/inj": 2}, "register %d %r" % (code, pend))
        code, got = self.c.req("GET", base + "/inj")
        check(code == 200 and got["metadata"]["resourceVersion"] ==
              cm["metadata"]["resourceVersion"], "GET affected: %d" % code)
        cm["data"]["k"] = "1"
        code, st = self.c.req("PUT", base + "/inj?fieldManager=x", cm)
        check(code == 409 and st["kind"] == "Status" and st["reason"] == "Conflict" and
              st["code"] == 409 and st["details"] == {"name": "inj", "kind": "configmaps"} and
              "the object has been modified" in st["message"], "PUT %d %r" % (code, st))
        code, st = self.c.req("PATCH", base + "/inj", {"data": {"k": "2"}},
                              ctype="application/merge-patch+json")
        check(code == 409 and st["reason"] == "Conflict", "PATCH %d" % code)
        code, got = self.c.req("GET", base + "/inj")
        check(got["data"] == {"k": "0"} and got["metadata"]["resourceVersion"] ==
              cm["metadata"]["resourceVersion"], "an injected 409 changed the object")
        code, pend = self.c.req("GET", "/_fake/conflicts")
        check(code == 200 and pend == {}, "left %r" % pend)
        code, new = self.c.req("PUT", base + "/inj", cm)
        check(code == 200 and new["data"] == {"k": "1"}, "third write %d" % code)
        # a CR's /status through kubectl: kubectl reports the Conflict, the next one succeeds
        st_path = "/apis/example.com/v1alpha1/namespaces/demo/clairdeployments/demo/status"
        self.c.req("POST", "/_fake/conflicts", {"path": st_path})
        r = self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--subresource=status",
                           "--type=merge", "-p", '{"status":{"phase":"Injected"}}', ok=False)
        check(r.returncode != 0 and ("Conflict" in r.stderr or "cannot be fulfilled" in r.stderr),
              r.stderr)
        self.c.kubectl("patch", "clair", "demo", "-n", "demo", "--subresource=status",
                       "--type=merge", "-p", '{"status":{"phase":"Injected"}}')
        check(self.c.kjson("get", "clair", "demo", "-n", "demo")["status"]["phase"] == "Injected",
              "status not written after the injected conflict")
        log = [x for x in self.c.log_lines() if x["path"].startswith(st_path)]
        check([x["code"] for x in log if x["method"] == "PATCH"][-2:] == [409, 200],
              "requests.log %r" % log[-3:])
        # bad bodies; count 0 clears
        code, _ = self.c.req("POST", "/_fake/conflicts", {"path": "x", "count": 1})
        check(code == 400, "relative path %d" % code)
        code, _ = self.c.req("POST", "/_fake/conflicts", {"path": "/a", "count": -1})
        check(code == 400, "negative count %d" % code)
        self.c.req("POST", "/_fake/conflicts", {"path": "/a/b", "count": 3})
        code, pend = self.c.req("PUT", "/_fake/conflicts", {"path": "/a/b", "count": 0})
        check(code == 200 and pend == {}, "clear %r" % pend)

    # 25, 26 / Foreground and Orphan
    def test_gc_foreground_orphan(self):
        base = "/api/v1/namespaces/demo/configmaps"

        def mk(name, owner=None):
            md = {"name": name}
            if owner:
                md["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap",
                                          "name": owner["metadata"]["name"],
                                          "uid": owner["metadata"]["uid"],
                                          "blockOwnerDeletion": True}]
            code, o = self.c.req("POST", base, {"apiVersion": "v1", "kind": "ConfigMap",
                                                "metadata": md})
            check(code == 201, "create %s %d" % (name, code))
            return o
        o1 = mk("owner1")
        mk("dep1", o1)
        code, _ = self.c.req("DELETE", base + "/owner1", {"propagationPolicy": "Orphan"})
        check(code == 200, "orphan delete %d" % code)
        code, d = self.c.req("GET", base + "/dep1")
        check(code == 200 and "ownerReferences" not in d["metadata"], "orphan %r" % d)
        o2 = mk("owner2")
        mk("dep2", o2)
        code, o = self.c.req("DELETE", base + "/owner2", {"propagationPolicy": "Foreground"})
        check(code == 200 and o["metadata"].get("deletionTimestamp") and
              "foregroundDeletion" in o["metadata"]["finalizers"], "foreground %r" % o)
        poll(lambda: self.c.req("GET", base + "/owner2")[0] == 404, 10, "owner2 to go")
        check(self.c.req("GET", base + "/dep2")[0] == 404, "dep2 still there")
        # row 27: an owner in another namespace is invalid, so the dependent is collected
        code, far = self.c.req("POST", "/api/v1/namespaces/default/configmaps",
                               {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "far-owner"}})
        mk("dep3", far)
        poll(lambda: self.c.req("GET", base + "/dep3")[0] == 404, 10, "dep3 to be collected")
        check(self.c.req("GET", "/api/v1/namespaces/default/configmaps/far-owner")[0] == 200,
              "far owner deleted")
        # deletecollection with a label selector
        for n in ("dc1", "dc2"):
            self.c.req("POST", base, {"apiVersion": "v1", "kind": "ConfigMap",
                                      "metadata": {"name": n, "labels": {"dc": "yes"}}})
        code, _ = self.c.req("DELETE", base + "?labelSelector=dc%3Dyes")
        check(code == 200, "deletecollection %d" % code)
        code, lst = self.c.req("GET", base + "?labelSelector=dc%3Dyes")
        check(lst["items"] == [], "deletecollection left %r" % lst["items"])

    # 29 / delete responses
    def test_delete_responses(self):
        base = "/api/v1/namespaces/demo/configmaps"
        code, o = self.c.req("POST", base, {"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": "del"}})
        code, st = self.c.req("DELETE", base + "/del",
                              {"preconditions": {"resourceVersion": "1"}})
        check(code == 409 and st["reason"] == "Conflict", "precondition %d" % code)
        code, st = self.c.req("DELETE", base + "/del")
        check(code == 200 and st["kind"] == "Status" and st["status"] == "Success" and
              st["details"]["uid"] == o["metadata"]["uid"], repr(st))

    # namespace deletion removes its contents
    def test_namespace_delete(self):
        self.c.kubectl("create", "namespace", "tmpns")
        self.c.kubectl("create", "configmap", "c", "-n", "tmpns")
        self.c.kubectl("create", "secret", "generic", "s", "-n", "tmpns", "--from-literal=a=b")
        self.c.kubectl("delete", "namespace", "tmpns", "--timeout=20s")
        r = self.c.kubectl("get", "namespace", "tmpns", ok=False)
        check(r.returncode != 0 and "NotFound" in r.stderr, r.stderr)
        code, lst = self.c.req("GET", "/api/v1/namespaces/tmpns/configmaps")
        check(code == 200 and lst["items"] == [], "contents remain")

    # 28 / CRD deletion removes CRs and discovery
    def test_crd_delete(self):
        self.c.kubectl("apply", "-f", "-", stdin=CR.replace("REPLICAS", "1"))
        self.c.kubectl("delete", "crd", "clairdeployments.example.com", "--timeout=20s")
        code, _ = self.c.req("GET", "/apis/example.com/v1alpha1")
        check(code == 404, "group still served: %d" % code)
        r = self.c.kubectl("get", "clair", "-n", "demo", ok=False)
        check(r.returncode != 0, "get clair after CRD deletion: %r" % r.stdout)


def persistence_test(root):
    """A restart with --persist keeps objects, ports, token and CA."""
    c = Cluster(root, MINOR, ["--persist"])
    c.dir += "-persist"
    c.cache += "-persist"
    c.start()
    try:
        c.kubectl("create", "configmap", "kept", "--from-literal=a=1")
        before = c.kjson("get", "configmap", "kept")
        http0 = c.http
        c.stop()
        c.start()
        check(c.http == http0, "port changed across restart")
        after = c.kjson("get", "configmap", "kept")
        check(after["metadata"]["uid"] == before["metadata"]["uid"] and
              after["data"] == {"a": "1"}, "object lost")
        c.kubectl("create", "configmap", "newer")
        n = c.kjson("get", "configmap", "newer")
        check(int(n["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"]),
              "RV went backwards after restart")
    finally:
        c.stop()


def smoke(root, minor):
    """Per-minor smoke test: the dispatcher picks 1.<minor>; apply/wait/SSA/delete work."""
    c = Cluster(root, minor)
    c.start()
    try:
        c.kubectl("apply", "-f", "-", stdin=multi())
        uas = {x["ua"].split()[0] for x in c.log_lines()
               if (x.get("ua") or "").startswith("kubectl/")}
        check(uas and all(u.startswith("kubectl/v1.%d." % minor) for u in uas),
              "user agents %r" % uas)
        c.kubectl("wait", "--for=condition=Established", "crd/clairdeployments.example.com",
                  "--timeout=10s")
        c.kubectl("apply", "-f", "-", stdin=CR.replace("REPLICAS", "1"))
        r = c.kubectl("apply", "-f", "-", stdin=multi())
        check("deployment.apps/web unchanged" in r.stdout, r.stdout)
        c.kubectl("apply", "-f", "-", stdin=multi("1.26"))
        c.kubectl("apply", "--server-side", "-f", "-", stdin=CR.replace("REPLICAS", "2"))
        c.kubectl("wait", "--for=condition=Available", "deployment/web", "-n", "demo",
                  "--timeout=20s")
        c.kubectl("delete", "clair", "demo", "-n", "demo", "--timeout=20s")
        c.kubectl("delete", "-f", "-", "--timeout=30s", stdin=multi())
    finally:
        c.stop()


def run_test(name, fn):
    t0 = time.monotonic()
    try:
        fn()
        RESULTS["passed"] += 1
        print("ok   %-40s (%.1fs)" % (name, time.monotonic() - t0), flush=True)
    except Exception as e:
        RESULTS["failed"] += 1
        print("FAIL %-40s %s" % (name, e), flush=True)
        if not isinstance(e, Fail):
            traceback.print_exc()


def main():
    if shutil.which("kubectl") is None:
        print("kubectl is not on the PATH: the fidelity suite needs the real kubectl")
        print("0 passed, 1 failed")
        return 1
    root = tempfile.mkdtemp(prefix="kube-apiserver-test.",
                            dir=os.environ.get("TEST_TMPDIR") or None)
    t_start = time.monotonic()
    c = Cluster(root, MINOR)
    try:
        try:
            c.start()
        except Exception as e:
            print("FAIL start: %s" % e)
            print("0 passed, 1 failed")
            return 1
        order = ["version_pinned", "openapi_v2_empty_protobuf", "discovery_api_resources",
                 "apply_multidoc", "crd_established_then_cr", "get_json_server_fields",
                 "apply_again_noop", "apply_again_changed", "patch_merge_generation",
                 "patch_json", "patch_strategic", "status_subresource", "wait_available",
                 "kubectl_get_table", "wait_observed_generation", "get_watch",
                 "server_side_apply", "stale_update_409", "lease_rules", "error_status_objects",
                 "label_selectors", "list_limit_continue", "watch_from_rv", "watch_bookmarks",
                 "watch_too_old_410", "wait_survives_410", "kubectl_create_protobuf",
                 "misc_kinds", "auth_wrong_token", "deployment_stall_past_deadline",
                 "job_complete_on_command", "injected_conflicts", "gc_foreground_orphan", "delete_responses",
                 "delete_with_finalizer", "delete_gc_owned", "namespace_delete", "crd_delete"]
        s = Suite(c)
        for name in order:
            run_test(name, getattr(s, "test_" + name))
        c.stop()
        run_test("persistence_restart", lambda: persistence_test(root))
        for m in MATRIX:
            if not FULL_MATRIX:
                run_test("smoke_kubectl_1.%d" % m, lambda m=m: smoke(root, m))
                continue
            cm = Cluster(root, m)
            try:
                cm.start()
            except Fail as e:
                run_test("start_1.%d" % m, lambda e=e: (_ for _ in ()).throw(e))
                continue
            sm = Suite(cm)
            for name in order:
                run_test("1.%d/%s" % (m, name), getattr(sm, "test_" + name))
            cm.stop()
    finally:
        c.stop()
        if RESULTS["failed"] == 0:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print("server logs kept in %s" % root)
    print("total %.1fs" % (time.monotonic() - t_start))
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
