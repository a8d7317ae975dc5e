#!/usr/bin/env bash
# The full test suite: installs what is missing, runs every test, then everything but the long
# simulation sweeps again under AddressSanitizer + UndefinedBehaviorSanitizer, runs the Kafka
# codec's fuzz targets for a few seconds each (EDDY_FUZZ_SECONDS), and ends with one
# line `N passed, M failed` counted from the test cases of every target. Exits non-zero on any
# failure.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh || exit 1

state=$(mktemp)
trap 'rm -f "$state"' EXIT
status=0

# run_suite NAME "PATTERN..." [BAZEL FLAGS...]: tests every target matching the patterns, then
# counts.
run_suite() {
  local name=$1 patterns=$2
  shift 2
  echo "=== $name: bazel test $* $patterns"
  local output
  output=$(mktemp)
  # shellcheck disable=SC2086 # the patterns are meant to split
  bazel test "$@" -- $patterns 2>&1 | tee "$output"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  local testlogs labels failed_labels
  testlogs=$(bazel info "$@" bazel-testlogs 2>/dev/null)
  # Patterns starting with "-" are subtracted (as bazel test reads them).
  local included="" excluded="" pattern
  for pattern in $patterns; do
    if [[ $pattern == -* ]]; then
      excluded+=" except ${pattern#-}"
    else
      included+="${included:+ + }$pattern"
    fi
  done
  labels=$(bazel query "tests($included)$excluded" 2>/dev/null)
  # Targets Bazel itself judged failed (a sanitizer report after the last test case, a timeout,
  # a build failure) count as failed even when their test.xml says every case passed.
  failed_labels=$(grep -oE '^//[^ ]+ +(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FAILED TO BUILD)' "$output" |
                  awk '{print $1}' | sort -u | paste -sd, -)
  rm -f "$output"
  python3 tools/count_results.py "$state" "$testlogs" "$failed_labels" $labels || status=1
}

run_suite "all tests" "//..."
# Everything but the long simulation sweeps again under the sanitizers, and but the generated
# Kafka round-trip tests: compiling them instrumented was 43 % of this phase's build (about 9
# minutes on 2 cores), while the codecs they test are instrumented here for the golden and
# other Kafka tests and fuzzed under ASan below.
run_suite "under ASan+UBSan" \
  "//core/... //raft/... //sim/... //net/... //tests/log/... //tests/sim/scenarios/... -//core/kafka:round_trip_test" \
  --config=asan --config=ubsan

# The Kafka codec's libFuzzer targets, briefly (clang, outside Bazel: core/kafka/fuzz/fuzz.sh).
# Each target counts as one case in the closing line: passed when it ran its time without a
# crash, failed otherwise (including when it could not be built).
fuzz_seconds=${EDDY_FUZZ_SECONDS:-12}
echo "=== Kafka codec fuzzers: ${fuzz_seconds}s each"
for target in request_frame_fuzz response_body_fuzz records_fuzz; do
  read -r passed failed < "$state" || { passed=0; failed=0; }
  if core/kafka/fuzz/fuzz.sh run "$fuzz_seconds" "$target"; then
    passed=$((passed + 1))
  else
    echo "FAILED: fuzz target $target" >&2
    failed=$((failed + 1))
    status=1
  fi
  echo "$passed $failed" > "$state"
done

read -r passed failed < "$state" || { passed=0; failed=1; }
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
