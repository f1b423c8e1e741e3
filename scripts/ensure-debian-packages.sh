#!/usr/bin/env bash
# Install Debian packages the tests or the benchmark need (chromium for the browser tests,
# nginx for the deployment test and the mix of `make bench`,
# wrk for load), only when a command is missing. Usage: ensure-debian-packages.sh CMD=PKG ...
set -euo pipefail
missing=()
for pair in "$@"; do
  command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
