#!/usr/bin/env bash
# kcat (librdkafka) against the capture listener: metadata, produce (plain, idempotent and
# transactional, with keys and headers), offsets by time, simple and group consume, SASL/PLAIN.
# Usage: [KCAT_EXTRA="-X prop=val ..."] drive_kcat.sh HOST:PORT (KCAT_EXTRA is added to every run). Each run is bounded by `timeout`; the whole is bounded by
# capture_all.py. Failures are reported but do not stop the next run.
set -u
b="$1"
topic=eddy-kcat
extra=(${KCAT_EXTRA:-})
run() {
  echo "+ kcat ${extra[*]} $*"
  timeout -k 2 20 kcat -b "$b" -m 5 "${extra[@]}" "$@" || echo "  (exit $?)"
}

run -L
run -L -t "$topic"
printf 'k1:v1\nk2:v2\n:v3\n' | run -P -t "$topic" -K: -H h1=a -H h2=b
printf 'k4:v4\n' | run -P -t "$topic" -K: -p 1 -X enable.idempotence=true
printf 'k5:v5\n' | run -P -t "$topic" -K: -p 2 -X transactional.id=eddy-kcat-txn
run -Q -t "$topic:0:-1" -t "$topic:1:1700000000000"
run -C -t "$topic" -o beginning -e -K:
run -G eddy-kcat-group -X auto.offset.reset=earliest -c 9 "$topic"
run -L -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
    -X sasl.username=eddy -X sasl.password=secret
