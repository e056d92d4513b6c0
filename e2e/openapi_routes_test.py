#!/usr/bin/env python3
"""Every path and method of Clair's OpenAPI document has a route in bin/clair (combo mode with
a webhook, so the notifier is mounted too).

The document is read from ../shared/reference/clair-api-v1/openapi.json at run time. A request
to each (path, method) must not be answered by the router's "no route" 404 or its 405; what the
handler then answers (400 for a made-up digest, 404 for an unknown report...) is the handler's
business and is checked elsewhere. Prints "N passed, N failed" last.
"""
import json, os, signal, subprocess, sys, tempfile, time

from e2elib import check, free_port, http, summary

SHARED = os.environ.get("SHARED_DIR")
DSN = os.environ.get("PG_DSN")
BIN = os.environ.get("CLAIR_BIN_DIR", "bin")








def main():
    if not SHARED or not DSN:
        print("skipped: SHARED_DIR or PG_DSN unset")
        print("0 passed, 1 failed")
        return 1
    doc = json.load(open(os.path.join(SHARED, "reference/clair-api-v1/openapi.json")))
    work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR", "/tmp"))
    port, iport = free_port(), free_port()
    conf = os.path.join(work, "config.yaml")
    with open(conf, "w") as f:
        f.write("http_listen_addr: 127.0.0.1:%d\nintrospection_addr: 127.0.0.1:%d\n" % (port, iport))
        f.write("indexer: {connstring: \"%s\", migrations: true}\n" % DSN)
        f.write("matcher: {connstring: \"%s\", migrations: true, disable_updaters: true}\n" % DSN)
        f.write("notifier: {connstring: \"%s\", migrations: true, webhook: {target: \"http://127.0.0.1:1/\","
                " callback: \"http://127.0.0.1:%d/notifier/api/v1/notification/\"}}\n" % (DSN, port))
    log = open(os.path.join(work, "clair.log"), "w")
    p = subprocess.Popen([os.path.join(BIN, "clair"), "-conf", conf, "-mode", "combo"], stdout=log, stderr=log)
    try:
        end = time.time() + 60
        while time.time() < end:
            try:
                if http("GET", "http://127.0.0.1:%d/readyz" % iport)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        params = {"digest": "sha256:" + "0" * 64, "id": "00000000-0000-0000-0000-000000000001"}
        for path, ops in sorted(doc["paths"].items()):
            url = path
            for k, v in params.items():
                url = url.replace("{%s}" % k, v)
            if path.startswith("/matcher/api/v1/internal/update_operation/"):
                url = url.replace(params["digest"], params["id"])
            for method in ops:
                if method not in ("get", "post", "delete", "put", "patch"):
                    continue
                body = b"{}" if method == "post" else (b"[]" if method == "delete" and "{" not in path else None)
                st, _, out = http(method.upper(), "http://127.0.0.1:%d%s" % (port, url), body, timeout=60)
                routed = not (st == 404 and b"no route" in out) and st != 405
                check("%s %s is routed (%d)" % (method.upper(), path, st), routed, out[:200].decode("utf-8", "replace"))
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = -1
        check("clair exits 0", rc == 0, open(os.path.join(work, "clair.log")).read()[-2000:])
    return summary()


if __name__ == "__main__":
    sys.exit(main())
