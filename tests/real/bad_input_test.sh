#!/usr/bin/env bash
# Runs bad_input_test.py with Debian's Python against the eddyd built by Bazel.
set -euo pipefail
# 1,000 idle connections need more descriptors than a 1,024 soft limit leaves eddyd.
ulimit -n 4096 2>/dev/null || true
export EDDYD="$1"
exec /usr/bin/python3 -u "$(dirname "$0")/bad_input_test.py"
