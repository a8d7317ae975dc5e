#!/usr/bin/env bash
# Installs what Eddy needs to build and test: Debian packages from Debian's archive, and the one npm
# package that the Kafka capture drivers and the real-client test use (kafkajs, pinned by
# core/kafka/capture/package-lock.json).
# Idempotent: checks each package first, runs apt-get only for what is missing, runs `npm ci` only
# when node_modules is missing or older than the lock file, and prints nothing when all is present.
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
  clang                 # clang++ -fsanitize=fuzzer for the Kafka codec's libFuzzer targets
  libclang-rt-14-dev    # libFuzzer and the sanitizer runtimes that clang links
  kcat                  # librdkafka 2.0.2 on the command line: a Kafka client for golden frames
  python3-kafka         # kafka-python 2.0.2: a Kafka client for golden frames
  python3-confluent-kafka  # confluent-kafka-python over librdkafka 2.0.2: golden frames
  librdkafka-dev        # librdkafka's C admin API, for the admin requests its bindings lack
)
# Node and npm: the kafkajs capture driver. Any node/npm already on PATH will do (NodeSource's
# nodejs, for one, bundles npm and conflicts with Debian's npm package), else Debian's.
command -v node >/dev/null 2>&1 || packages+=(nodejs)  # runs the kafkajs capture driver
command -v npm >/dev/null 2>&1 || packages+=(npm)      # installs kafkajs from the lock file

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -ne 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kafkajs for core/kafka/capture, exactly as its lock file pins it (npm writes
# node_modules/.package-lock.json on every install; older than the lock means stale). The capture
# tool and the real-client test (tests/real) use it; a failed install warns here and that test
# then fails naming it, while everything else still builds.
capture_dir="$(dirname "$0")/../core/kafka/capture"
if [ ! -f "$capture_dir/node_modules/.package-lock.json" ] ||
   [ "$capture_dir/package-lock.json" -nt "$capture_dir/node_modules/.package-lock.json" ]; then
  echo "setup: installing kafkajs (npm ci in core/kafka/capture)"
  (cd "$capture_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "setup: npm ci failed in core/kafka/capture; tests/real's kafkajs case will fail" >&2
fi
