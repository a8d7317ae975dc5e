#!/usr/bin/env bash
# Eddy's main job on an embedded default: installs what is missing, builds, and runs it.
# Until the broker exists, that is eddy-demo: one partition log on the real disk in a fresh
# temporary directory (write, group-commit, read back and verify, recover, retention).
# Extra arguments go to eddy-demo (e.g. --records=100000 --dir=/var/tmp/eddy).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
bazel build -c opt //net/demo:eddy-demo
exec bazel-bin/net/demo/eddy-demo "$@"
