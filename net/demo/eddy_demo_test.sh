#!/usr/bin/env bash
# Runs eddy-demo on a small workload in the test's temp dir; the demo verifies every record it
# wrote, recovery after a clean shutdown and after a torn tail, and retention, and exits
# non-zero if any of it fails.
set -euo pipefail
dir="${TEST_TMPDIR:-/tmp}/demo"
mkdir -p "$dir"
"$1" --dir="$dir" --records=5000 --batch_records=50 --value_bytes=500 | tee "$dir.out"
grep -q "all checks passed" "$dir.out"
