#!/usr/bin/env bash
# kcat (librdkafka) producing one small batch per compression codec, so the golden Produce frames
# carry gzip, snappy, lz4 and zstd record batches as a real client builds them.
# Usage: drive_kcat_compressed.sh HOST:PORT. Each run is bounded by `timeout`.
set -u
b="$1"
# librdkafka sends a batch uncompressed when compressing does not make it smaller: the values
# repeat so that every codec wins.
value=$(printf 'eddy-compressible-%.0s' $(seq 8))
for codec in gzip snappy lz4 zstd; do
  echo "+ kcat -P -z $codec"
  printf 'key-%s:%s\nkey2:%s\n' "$codec" "$value" "$value" |
    timeout -k 2 20 kcat -b "$b" -m 5 -P -t "eddy-kcat-$codec" -p 0 -K: -z "$codec" -H codec="$codec" ||
    echo "  (exit $?)"
done
