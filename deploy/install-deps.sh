#!/usr/bin/env bash
# Installs the Debian packages failover-agent needs to build and run, and botocore for the tests'
# SigV4 oracle (the Swift toolchain itself must already be on PATH). Safe to run again: it installs only what is missing.
set -euo pipefail
packages=(libcurl4-openssl-dev libsqlite3-dev ca-certificates)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Tests check every AWS signature with botocore's signer (an independent oracle).
if ! python3 -c "import botocore" >/dev/null 2>&1; then
  python3 -m pip install -q botocore 2>/dev/null || python3 -m pip install -q --break-system-packages botocore
fi
command -v swift >/dev/null || { echo "install-deps: no swift on PATH (Swift 6.x is required)" >&2; exit 1; }
