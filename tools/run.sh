#!/usr/bin/env bash
# Eddy's main job on an embedded default: installs what is missing, builds, and runs the broker.
#
# Starts eddyd in dev mode (one node: Kafka on 127.0.0.1:9092, data in /tmp/eddy-data, formatted
# on first start), waits until it is ready, creates a topic and produces and consumes a few
# records with kcat, runs three seconds of produce load through the project's C++ client, prints
# what to try next, and then keeps the broker
# running in the foreground until Ctrl-C (SIGINT/SIGTERM stop it cleanly).
#   tools/run.sh --exit            stop after the demonstration instead
#   tools/run.sh -- ARGS...        extra eddyd arguments (e.g. --override log.dirs=/var/tmp/eddy)
set -euo pipefail
cd "$(dirname "$0")/.."
stay=1
if [ "${1:-}" = "--exit" ]; then stay=0; shift; fi
if [ "${1:-}" = "--" ]; then shift; fi
tools/setup.sh
bazel build -c opt //eddyd:eddyd //bench/real:produce-load
bin=$(bazel info -c opt bazel-bin)
eddyd=$bin/eddyd/eddyd
log=$(mktemp /tmp/eddyd-run.XXXXXX.log)

"$eddyd" --dev "$@" 2> >(tee "$log" >&2) &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q "event=ready" "$log" && break
  kill -0 $pid 2>/dev/null || { echo "run: eddyd exited (see above)" >&2; exit 1; }
  sleep 0.1
done
grep -q "event=ready" "$log" || { echo "run: eddyd not ready after 30 s" >&2; exit 1; }
bootstrap=$(grep -o 'bootstrap.servers=[^ ]*' "$log" | head -1 | cut -d= -f2)

echo
echo "== Eddy is up at $bootstrap. A topic, three records, read back (kcat):"
topic="hello-eddy"
printf 'user1:signed up\nuser2:signed up\nuser1:logged in\n' |
  kcat -b "$bootstrap" -P -t "$topic" -K: -X request.required.acks=-1
kcat -b "$bootstrap" -C -t "$topic" -o -3 -e -q -f 'partition %p offset %o key %k: %s\n'
kcat -b "$bootstrap" -L -t "$topic" | sed 's/^/  /'
echo
echo "== Three seconds of acks=all produce load through Eddy's own C++ client (bench/real:produce-load):"
"$bin/bench/real/produce-load" --bootstrap="$bootstrap" --topic=load-demo --partitions=3 --seconds=3
cat <<HINTS

== Try next (any Kafka client works unchanged):
  kcat -b $bootstrap -L                                    # brokers, topics, partitions
  echo 'k:v' | kcat -b $bootstrap -P -t demo -K:           # produce (topics auto-create)
  kcat -b $bootstrap -C -t demo -o beginning -e            # consume from the beginning
  /usr/bin/python3 -c "from kafka import KafkaProducer; p=KafkaProducer(bootstrap_servers='$bootstrap', acks='all'); print(p.send('demo', b'hi').get(10))"
HINTS
if [ "$stay" -eq 1 ]; then
  echo "== eddyd keeps running (pid $pid); Ctrl-C stops it."
  wait $pid
fi
