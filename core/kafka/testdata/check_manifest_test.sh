#!/usr/bin/env bash
# Runs check_manifest.py on the golden frames with Debian's Python (Bazel's own may be absent).
set -euo pipefail
here="$(dirname "$0")"
exec /usr/bin/python3 "$here/check_manifest.py" "$here"
