#!/usr/bin/env python3
"""Print the Clair v4 Manifest JSON (the body of POST /indexer/api/v1/index_report) for an
image in a registry.

usage: manifest.py [--auth HEADER] REGISTRY REPO:TAG|REPO@DIGEST
  REGISTRY  host:port (http://host:port assumed) or a full http(s):// base URL
  --auth    value for an Authorization header, sent to the registry and put into every layer's
            headers (e.g. "Bearer TOKEN" or "Basic BASE64")
Output: {"hash": "<manifest digest>", "layers": [{"hash": "<layer digest>",
         "uri": "<base>/v2/<repo>/blobs/<digest>", "headers": {"Accept": ["<layer media type>"]}}]}
The manifest is fetched with the OCI and Docker v2 Accept types (Distribution 2.8 answers 404
to clients that do not announce OCI, notes/test-images.md G7). An image index / manifest list
resolves to its linux/amd64 entry; "hash" is then that entry's digest.
"""
import hashlib
import json
import sys
import urllib.error
import urllib.request

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")


def fetch(base, repo, ref, auth):
    req = urllib.request.Request(f"{base}/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
    if auth:
        req.add_header("Authorization", auth)
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read(16 << 20)
        digest = r.headers.get("Docker-Content-Digest") or ""
        ctype = r.headers.get("Content-Type", "")
    computed = "sha256:" + hashlib.sha256(body).hexdigest()
    if not digest:
        digest = computed
    elif digest.startswith("sha256:") and digest != computed:
        raise SystemExit(f"manifest.py: registry digest {digest} != sha256 of body {computed}")
    return digest, json.loads(body), ctype


def main(argv):
    auth = None
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--auth":
        auth, args = args[1], args[2:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    base, ref = args
    if not base.startswith(("http://", "https://")):
        base = "http://" + base
    base = base.rstrip("/")
    if "@" in ref:
        repo, tag = ref.split("@", 1)
    elif ":" in ref.rsplit("/", 1)[-1]:
        repo, tag = ref.rsplit(":", 1)
    else:
        repo, tag = ref, "latest"
    try:
        digest, man, ctype = fetch(base, repo, tag, auth)
        if man.get("mediaType", ctype) in INDEX_TYPES or "manifests" in man:
            pick = [m for m in man.get("manifests", [])
                    if m.get("platform", {}).get("os") == "linux"
                    and m.get("platform", {}).get("architecture") == "amd64"] or man.get("manifests", [])
            if not pick:
                raise SystemExit("manifest.py: empty image index")
            digest, man, ctype = fetch(base, repo, pick[0]["digest"], auth)
    except urllib.error.HTTPError as e:
        print(f"manifest.py: {e.code} {e.reason} for {base}/v2/{repo}/manifests/{tag}: "
              f"{e.read(2000).decode(errors='replace')}", file=sys.stderr)
        return 1
    except urllib.error.URLError as e:
        print(f"manifest.py: {base}: {e.reason}", file=sys.stderr)
        return 1
    layers = []
    for l in man.get("layers", []):
        h = {"Accept": [l.get("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip")]}
        if auth:
            h["Authorization"] = [auth]
        layers.append({"hash": l["digest"], "uri": f"{base}/v2/{repo}/blobs/{l['digest']}",
                       "headers": h})
    print(json.dumps({"hash": digest, "layers": layers}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
