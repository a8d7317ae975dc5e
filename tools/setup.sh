#!/usr/bin/env bash
# Installs what Eddy needs to build and test, from Debian's archive only. Idempotent: checks each
# package first, runs apt-get only for what is missing, and prints nothing when all is present.
set -euo pipefail

packages=(
  bazel-bootstrap       # Bazel 4.2.3, runs fully offline
  g++                   # C++20 compiler
  python3               # .ci/run's result counter
  libabsl-dev           # Abseil 20220623: Status, strings, containers
  libprotobuf-dev       # Protocol Buffers runtime
  protobuf-compiler     # protoc, called by genrules
  libgtest-dev          # GoogleTest
  libgmock-dev          # GoogleMock
  librapidcheck-dev     # property-based tests
  libbenchmark-dev      # Google Benchmark
  libboost-dev          # Boost.Asio (header-only parts)
  libisal-dev           # ISA-L: hardware-accelerated CRC32C
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
