#!/usr/bin/env bash
# Builds drive_librdkafka.c against Debian's librdkafka-dev and runs it. Usage: drive_librdkafka.sh HOST:PORT
set -euo pipefail
binary="${TMPDIR:-/tmp}/eddy-drive-librdkafka"
cc -O1 -Wall -Wextra -o "$binary" "$(dirname "$0")/drive_librdkafka.c" -lrdkafka
exec "$binary" "$1"
