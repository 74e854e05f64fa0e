#!/usr/bin/env bash
# Installs the Debian packages failover-agent needs to build and run (the Swift toolchain itself
# must already be on PATH). Safe to run again: it installs only what is missing.
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
command -v swift >/dev/null || { echo "install-deps: no swift on PATH (Swift 6.x is required)" >&2; exit 1; }
