#!/usr/bin/env bash
# Set up a host for Dockyard, idempotently: Debian packages, then the virtual environment in
# .venv/ at the repository root with Dockyard installed into it (.venv/bin/dockyard).
# Run as root on Debian or Ubuntu. A second run changes nothing and takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the engine and its tests use on the host:
#   busybox-static   the base image the demo and the tests build (Docker Hub is not required)
#   skopeo           interop checks of save/load archives and registry pushes
#   docker-registry  a real registry on 127.0.0.1 for pull/push tests
#   apache2-utils    htpasswd, for the registry's basic auth in tests
#   nftables         the firewall table `dockyard` (published ports, NAT)
#   iptables         only consulted, to work beside Docker's FORWARD policy
#   libseccomp2      Docker's default seccomp profile
#   runc, crun       alternative OCI runtimes (--runtime)
#   debootstrap      the benchmark's larger image
#   python3-venv     the virtual environment
#   tini             the init `run --init` puts at PID 1 (tini-static)
#   docker-compose   compose 1.29, for the daemon's compatibility tests
PACKAGES=(busybox-static skopeo docker-registry apache2-utils nftables iptables libseccomp2
          runc crun debootstrap python3-venv ca-certificates tini docker-compose)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian registry package starts a service on :5000; tests run their own instance.
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.dockyard-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
# Byte-compile now: start-up is on the hot path, and some environments set
# PYTHONDONTWRITEBYTECODE, which would make every command compile its modules again.
PYTHONDONTWRITEBYTECODE= .venv/bin/python -m compileall -q -j 0 src/dockyard >/dev/null || true
echo "setup: ready (.venv/bin/dockyard)"
