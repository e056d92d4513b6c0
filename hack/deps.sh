#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need on Debian 12.
# Idempotent: packages already present are not reinstalled; safe to run many times.
set -euo pipefail

PKGS=(
  build-essential pkg-config git ca-certificates curl
  libwebsockets-dev libcurl4-openssl-dev libyaml-dev libjansson-dev libpq-dev
  libarchive-dev libssl-dev libxml2-dev libsqlite3-dev librabbitmq-dev libzstd-dev
  libcmocka-dev
  postgresql postgresql-contrib
  python3 python3-yaml python3-bsddb3
  zstd rpm db5.3-util xxd
  debootstrap umoci skopeo docker-registry rabbitmq-server
  wrk nginx-light
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # nginx and the registry must not keep running as system services: tests start their own.
  for svc in nginx docker-registry rabbitmq-server; do
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi
echo "deps: all ${#PKGS[@]} packages present"
