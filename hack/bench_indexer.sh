#!/usr/bin/env bash
# Indexer benchmark (issue 3): figures printed as ratios or against targets, measured in this run.
# No timed assertions: every figure is printed with its target and "ok" or "MISSED".
#
#   cold:  POST of debian:opaque (4 real layers, nothing indexed yet) over the baseline
#          `zcat LAYER | tar -t > /dev/null` on the same layer blobs          target <= 1.3
#   warm:  p50 / p99 of 200 POSTs of that already indexed manifest            target p50 <= 5 ms
#   RSS:   clair's peak RSS (VmHWM, reset with /proc/PID/clear_refs before) while indexing a layer
#          of a 1 GiB random file + os-release + a dpkg database, gzip -1    target <= 64 MiB
#   concurrency: 8 different cold manifests (debian:base's layer behind 8 different first tar
#          blocks, so 8 digests) posted at once: manifests/s, next to 1 / (one cold POST)
#
# Own PostgreSQL (hack/pg.sh), own clair (combo mode), own registry (hack/registry.sh); images from
# hack/images/build.sh (cached). The 1 GiB layer is cached in $BENCH_CACHE (default
# /var/tmp/clairc-bench) because making it takes ~20 s.
# The HTTP client sends head and body in one write with TCP_NODELAY, keep-alive, so the figures
# measure clair and not Nagle / delayed ACK of a two-write client.
set -euo pipefail

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$SRC_DIR/bin}
case "$BIN" in /*) ;; *) BIN=$SRC_DIR/$BIN ;; esac
CACHE=${CLAIR_IMAGE_CACHE:-/var/cache/clairc-test-images}
BENCH_CACHE=${BENCH_CACHE:-/var/tmp/clairc-bench}
WARM_N=${BENCH_WARM_N:-200}
scratch=$(mktemp -d /tmp/clair-bench-indexer.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  bash "$SRC_DIR/hack/registry.sh" stop "$scratch/reg" >/dev/null 2>&1 || true
  bash "$SRC_DIR/hack/pg.sh" destroy "$scratch/pg" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
say() { printf '[bench-indexer] %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

[ -x "$BIN/clair" ] || { echo "bench-indexer: $BIN/clair missing (make all)"; exit 1; }

# --- images, registry
say "images (hack/images/build.sh $CACHE)"
bash "$SRC_DIR/hack/images/build.sh" "$CACHE" > "$scratch/build.log" 2>&1 || { tail -20 "$scratch/build.log"; exit 1; }
bash "$SRC_DIR/hack/registry.sh" start "$scratch/reg" 2>/dev/null
bash "$SRC_DIR/hack/registry.sh" push "$scratch/reg" "$CACHE" 2>/dev/null
. "$scratch/reg/env"

# --- PostgreSQL, clair
bash "$SRC_DIR/hack/pg.sh" start "$scratch/pg" >/dev/null
. "$scratch/pg/env"
cport=$(free_port); iport=$(free_port)
cat > "$scratch/config.yaml" <<YAML
http_listen_addr: "127.0.0.1:$cport"
introspection_addr: "127.0.0.1:$iport"
log_level: warn
indexer: {connstring: "$PG_DSN", migrations: true}
matcher: {connstring: "$PG_DSN", migrations: true}
YAML
"$BIN/clair" -conf "$scratch/config.yaml" -mode combo 2>"$scratch/clair.log" >/dev/null </dev/null &
cpid=$!
pids+=($cpid)
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$iport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$iport/readyz" >/dev/null || { echo "bench-indexer: clair not ready"; cat "$scratch/clair.log"; exit 1; }

# --- the 1 GiB layer (cached) and the 8 concurrency layers (scratch), served by http.server
mkdir -p "$BENCH_CACHE" "$scratch/www"
big=$BENCH_CACHE/big-1g.tar.gz
if [ ! -s "$big" ] || [ ! -s "$big.sha256" ]; then
  say "making the 1 GiB layer (once, cached in $BENCH_CACHE)"
  python3 - "$scratch/bigroot" "$CACHE" <<'PY'
import os, sys
root, cache = sys.argv[1:3]
for d in ("etc", "var/lib/dpkg/info", "opt/blob"):
    os.makedirs(os.path.join(root, d), exist_ok=True)
with open(os.path.join(cache, "debian/expected/base.os-release"), "rb") as f:
    osr = f.read()
open(os.path.join(root, "etc/os-release"), "wb").write(osr)
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(cache, "debian/expected/base.dpkg.tsv"))]
with open(os.path.join(root, "var/lib/dpkg/status"), "w") as f:
    for name, ver, arch, sname, sver in rows:
        src = "" if (sname, sver) == (name, ver) else (f"Source: {sname}\n" if sver == ver else f"Source: {sname} ({sver})\n")
        f.write(f"Package: {name}\nStatus: install ok installed\nArchitecture: {arch}\n{src}Version: {ver}\n"
                f"Description: bench\n\n")
PY
  head -c $((1 << 30)) /dev/urandom > "$scratch/bigroot/opt/blob/random.bin"
  # the big file first: the walk must get through 1 GiB before it finds the database
  tar -C "$scratch/bigroot" -cf - opt etc var | gzip -1 > "$big.tmp"
  sha256sum "$big.tmp" | cut -d' ' -f1 > "$big.sha256"
  mv "$big.tmp" "$big"
  rm -rf "$scratch/bigroot"
fi
ln -s "$big" "$scratch/www/big-1g.tar.gz"

# debian:base's only layer, and debian:opaque's layers (from the OCI layout: the same blobs)
python3 - "$CACHE" > "$scratch/layers.txt" <<'PY'
import json, os, sys
c = sys.argv[1]
oci = os.path.join(c, "debian/oci")
idx = json.load(open(os.path.join(oci, "index.json")))
for m in idx["manifests"]:
    tag = m["annotations"]["org.opencontainers.image.ref.name"]
    if tag in ("base", "opaque"):
        man = json.load(open(os.path.join(oci, "blobs", m["digest"].replace(":", "/"))))
        for l in man["layers"]:
            print(tag, l["mediaType"], os.path.join(oci, "blobs", l["digest"].replace(":", "/")))
PY
base_blob=$(awk '$1 == "base" {print $3; exit}' "$scratch/layers.txt")
say "making 8 distinct copies of debian:base's layer"
gz=()
for i in 1 2 3 4 5 6 7 8; do
  (
    python3 -c 'import sys, tarfile; t = tarfile.TarInfo(f"clairc-bench-{sys.argv[1]}/"); t.type = tarfile.DIRTYPE; t.mode = 0o755; t.mtime = 1700000000; sys.stdout.buffer.write(t.tobuf(format=tarfile.USTAR_FORMAT))' "$i"
    zcat "$base_blob"
  ) | gzip -1 > "$scratch/www/conc-$i.tar.gz" &
  gz+=($!)
done
for p in "${gz[@]}"; do wait "$p"; done
wport=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$scratch/www" "$wport" >/dev/null 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$wport/" && break; sleep 0.1; done

# --- baseline: zcat | tar -t over debian:opaque's layer blobs
t0=$(date +%s.%N)
while read -r tag mt blob; do
  [ "$tag" = opaque ] || continue
  case "$mt" in
    *gzip) zcat "$blob" | tar -t > /dev/null ;;
    *zstd) zstd -dcq "$blob" | tar -t > /dev/null ;;
    *) tar -tf "$blob" > /dev/null ;;
  esac
done < "$scratch/layers.txt"
t1=$(date +%s.%N)
base_s=$(python3 -c "print($t1 - $t0)")

python3 "$SRC_DIR/hack/images/manifest.py" "$REGISTRY" clairc/debian:opaque > "$scratch/opaque.json"

python3 - "$cport" "$cpid" "$scratch" "$wport" "$big" "$base_s" "$WARM_N" <<'PY'
import hashlib, json, os, socket, sys, threading, time

port, cpid, scratch, wport, big, base_s, warm_n = sys.argv[1:8]
port, cpid, wport, base_s, warm_n = int(port), int(cpid), int(wport), float(base_s), int(warm_n)


class Client:
    """HTTP/1.1 keep-alive client: head + body in one write, TCP_NODELAY."""

    def __init__(self):
        self.s = None

    def post(self, body, timeout=900):
        for attempt in range(2):
            if self.s is None:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.buf = b""
            try:
                req = (f"POST /indexer/api/v1/index_report HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
                self.s.sendall(req)
                return self._read()
            except (OSError, ValueError):
                self.s.close()
                self.s = None
                if attempt:
                    raise
        return None

    def _read(self):
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(1 << 16)
            if not d:
                raise ValueError("closed")
            self.buf += d
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        n = 0
        close = False
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
            if k.strip().lower() == b"connection" and v.strip().lower() == b"close":
                close = True
        while len(rest) < n:
            d = self.s.recv(1 << 20)
            if not d:
                raise ValueError("closed")
            rest += d
        body, self.buf = rest[:n], rest[n:]
        if close:
            self.s.close()
            self.s = None
        return status, body


def hwm():
    for l in open(f"/proc/{cpid}/status"):
        if l.startswith("VmHWM:"):
            return int(l.split()[1])


def reset_hwm():
    with open(f"/proc/{cpid}/clear_refs", "w") as f:
        f.write("5")


ok = lambda b: "ok" if b else "MISSED"
bad = []

# cold
body = open(os.path.join(scratch, "opaque.json"), "rb").read()
c = Client()
t0 = time.perf_counter()
st, rep = c.post(body)
cold = time.perf_counter() - t0
if st != 201:
    bad.append(f"cold POST {st}")
npk = len(json.loads(rep).get("packages", {})) if st == 201 else 0

# warm
lat, errs = [], 0
for _ in range(warm_n):
    t0 = time.perf_counter()
    st, _ = c.post(body)
    lat.append((time.perf_counter() - t0) * 1000)
    if st != 201:
        errs += 1
lat.sort()
p50 = lat[len(lat) // 2]
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]

# 1 GiB layer
digest = open(big + ".sha256").read().strip()
man = {"hash": "sha256:" + hashlib.sha256(("bench-big" + digest).encode()).hexdigest(),
       "layers": [{"hash": "sha256:" + digest, "uri": f"http://127.0.0.1:{wport}/big-1g.tar.gz",
                   "headers": {"Accept": ["application/vnd.oci.image.layer.v1.tar+gzip"]}}]}
idle = hwm()
reset_hwm()
t0 = time.perf_counter()
st, rep = Client().post(json.dumps(man).encode())
big_s = time.perf_counter() - t0
peak = hwm()
big_pk = len(json.loads(rep).get("packages", {})) if st == 201 else -1
if st != 201:
    bad.append(f"1 GiB layer POST {st}: {rep[:200]!r}")

# 8 concurrent different manifests
def conc_body(i):
    p = os.path.join(scratch, "www", f"conc-{i}.tar.gz")
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for ch in iter(lambda: f.read(1 << 20), b""):
            h.update(ch)
    d = "sha256:" + h.hexdigest()
    return json.dumps({"hash": "sha256:" + hashlib.sha256(("bench-conc" + d).encode()).hexdigest(),
                       "layers": [{"hash": d, "uri": f"http://127.0.0.1:{wport}/conc-{i}.tar.gz",
                                   "headers": {"Accept": ["application/vnd.oci.image.layer.v1.tar+gzip"]}}]}).encode()

bodies = [conc_body(i) for i in range(1, 9)]
res = [None] * 8
def run(i):
    try:
        res[i] = Client().post(bodies[i])[0]
    except Exception as e:
        res[i] = repr(e)
ths = [threading.Thread(target=run, args=(i,)) for i in range(8)]
t0 = time.perf_counter()
for t in ths:
    t.start()
for t in ths:
    t.join()
conc_s = time.perf_counter() - t0
if any(r != 201 for r in res):
    bad.append(f"concurrent POSTs: {res}")

ratio = cold / base_s if base_s else 0
print("bench indexer (clair combo mode, own PostgreSQL, layers from a loopback registry / http.server)")
print(f"  cold index debian:opaque (4 layers, {npk} packages): {cold * 1000:8.1f} ms; "
      f"zcat | tar -t on the same blobs: {base_s * 1000:8.1f} ms")
print(f"  ratio cold/baseline: {ratio:.2f}  (target <= 1.3: {ok(ratio <= 1.3)})")
print(f"  warm POST of the indexed manifest, {warm_n} requests: p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
      f"non-201 {errs}  (target p50 <= 5 ms: {ok(p50 <= 5 and errs == 0)})")
print(f"  1 GiB layer (gzip -1, random data + dpkg db): {big_s:.1f} s, {big_pk} packages; clair VmHWM idle "
      f"{idle / 1024:.1f} MiB, while indexing {peak / 1024:.1f} MiB  (target <= 64 MiB: {ok(peak <= 64 * 1024 and big_pk > 0)})")
serial = 1 / cold if cold else 0
print(f"  8 different manifests concurrently: {conc_s * 1000:.0f} ms, {8 / conc_s:.2f} manifests/s "
      f"(one cold debian:opaque alone: {serial:.2f} manifests/s)")
for b in bad:
    print(f"  ERROR: {b}")
PY
