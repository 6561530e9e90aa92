#!/usr/bin/env bash
# Sets up netlab on Debian/Ubuntu, as root: installs the system packages that are missing,
# the npm dependencies (npm ci) and builds dist/. Safe to run again; installs nothing twice.
# It changes no network setting of the machine: labs live in namespaces netlab creates.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3: netlab's prober sends ping checks without a process each (without it, each runs ping).
# shellcheck: only the test suite needs it (it lints the scripts `netlab plan` writes).
PKGS=(iproute2 nftables iputils-ping python3 curl procps util-linux findutils socat dnsmasq-base udhcpc tcpdump bind9-dnsutils shellcheck)
say() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "run as root (netlab builds network namespaces; apt-get needs root too)"
  exit 3
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
node_ok() { command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; }
node_ok || missing+=(nodejs npm)

if [ "${#missing[@]}" -gt 0 ]; then
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "system packages present: ${PKGS[*]}"
fi

if ! node_ok; then
  say "Node.js >= 20.19 is required, found $(node --version 2>/dev/null || echo none)."
  say "Debian 13 ships it (apt-get install nodejs npm); on older releases install Node 20.19+, 22 or 24 first."
  exit 3
fi

say "npm ci"
npm ci --no-audit --no-fund --loglevel=error
say "build"
npm run --silent build
say "ready: node dist/cli.js --help"
