#!/usr/bin/env bash
# Builds and runs the Kafka codec's libFuzzer targets with clang (-fsanitize=fuzzer,address,
# undefined), outside Bazel: Bazel's toolchain here is gcc, which has no libFuzzer.
#
#   core/kafka/fuzz/fuzz.sh build                 # build the three targets
#   core/kafka/fuzz/fuzz.sh run SECONDS [TARGET]  # build, then run each target (or one)
#
# Seeds: the golden request frames (core/kafka/testdata/*.bin); for the body-level targets each
# frame's body is prefixed with selector bytes. Corpora grow in $EDDY_FUZZ_DIR/corpus-*.
# Exits non-zero if a target crashes (the crashing input is left in $EDDY_FUZZ_DIR).
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=${EDDY_FUZZ_DIR:-/tmp/eddy-kafka-fuzz}
targets=(request_frame_fuzz response_body_fuzz records_fuzz)
mkdir -p "$out/obj" "$out/gen/core/kafka/generated"

absl_libs="-labsl_statusor -labsl_status -labsl_cord -labsl_cord_internal -labsl_cordz_functions
  -labsl_cordz_handle -labsl_cordz_info -labsl_str_format_internal -labsl_strings
  -labsl_strings_internal -labsl_strerror -labsl_synchronization -labsl_graphcycles_internal
  -labsl_time -labsl_time_zone -labsl_civil_time -labsl_hash -labsl_city -labsl_low_level_hash
  -labsl_raw_hash_set -labsl_int128 -labsl_bad_optional_access -labsl_bad_variant_access
  -labsl_stacktrace -labsl_symbolize -labsl_debugging_internal -labsl_demangle_internal
  -labsl_malloc_internal -labsl_throw_delegate -labsl_base -labsl_spinlock_wait
  -labsl_raw_logging_internal -labsl_log_severity -latomic -lrt -pthread"
cxxflags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -Wno-unused-command-line-argument
  -fsanitize=address,undefined -fno-sanitize-recover=all -I. -I"$out/gen")

build() {
  # Regenerate into a scratch directory and copy only what changed, so unchanged generated
  # sources keep their objects.
  rm -rf "$out/gen.new"
  python3 core/kafka/gen/kgen.py --out "$out/gen.new" core/kafka/schemas/*.ks
  for file in "$out"/gen.new/*; do
    cmp -s "$file" "$out/gen/core/kafka/generated/$(basename "$file")" ||
      cp "$file" "$out/gen/core/kafka/generated/"
  done
  local sources=(core/base/check.cc core/kafka/wire.cc core/kafka/header.cc core/kafka/errors.cc
                 "$out"/gen/core/kafka/generated/*.cc)
  local jobs=()
  for source in "${sources[@]}"; do
    case "$source" in *_round_trip_test.cc) continue ;; esac
    local object="$out/obj/$(echo "$source" | tr '/' '_').o"
    # Rebuild when the source or any header it may include is newer than the object.
    if [ ! -f "$object" ] || [ -n "$(find "$source" core/kafka core/base "$out/gen" -newer "$object" -name '*.h' -o -newer "$object" -name "$(basename "$source")" | head -1)" ]; then
      jobs+=("$source:$object")
    fi
  done
  if [ ${#jobs[@]} -gt 0 ]; then
    printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'src=${1%%:*}; obj=${1#*:}; shift; clang++ "$@" -fsanitize=fuzzer-no-link -c "$src" -o "$obj"' _ {} "${cxxflags[@]}"
  fi
  local objects=()
  for source in "${sources[@]}"; do
    case "$source" in *_round_trip_test.cc) continue ;; esac
    objects+=("$out/obj/$(echo "$source" | tr '/' '_').o")
  done
  for target in "${targets[@]}"; do
    # shellcheck disable=SC2086
    clang++ "${cxxflags[@]}" -fsanitize=fuzzer "core/kafka/fuzz/$target.cc" "${objects[@]}" \
      $absl_libs -o "$out/$target"
  done
}

seed() {
  local target=$1 corpus="$out/corpus-$target"
  mkdir -p "$corpus"
  if [ "$target" = request_frame_fuzz ]; then
    cp core/kafka/testdata/*.bin "$corpus/"
    return
  fi
  # Body-level targets: the frame's body (after header v1's client id) behind two selector
  # bytes, the api key and version (the targets map them onto an API and version by modulo).
  python3 - "$corpus" core/kafka/testdata/*.bin <<'PY'
import os, sys
corpus = sys.argv[1]
for path in sys.argv[2:]:
    data = open(path, 'rb').read()
    if len(data) < 10:
        continue
    client_id_length = int.from_bytes(data[8:10], 'big', signed=True)
    body = data[10 + max(client_id_length, 0):]
    with open(os.path.join(corpus, os.path.basename(path)), 'wb') as seed:
        seed.write(bytes([data[1], data[3]]) + body)
PY
}

case "${1:-}" in
  build) build ;;
  run)
    seconds=${2:?seconds}
    only=${3:-}
    status=0
    build
    for target in "${targets[@]}"; do
      [ -n "$only" ] && [ "$only" != "$target" ] && continue
      seed "$target"
      echo "=== $target: ${seconds}s"
      rc=0
      (cd "$out" && ./"$target" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
         "corpus-$target" > "$target.log" 2>&1) || rc=$?
      grep -E '^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)' \
        "$out/$target.log" || true
      if [ "$rc" -ne 0 ]; then
        echo "$target: FAILED (exit $rc); log: $out/$target.log" >&2
        status=1
      else
        echo "$target: no crash in ${seconds}s"
      fi
    done
    exit $status
    ;;
  *) echo "usage: $0 build | run SECONDS [TARGET]" >&2; exit 2 ;;
esac
