#!/usr/bin/env python3
"""Counts test cases from Bazel's per-target test.xml files and prints `N passed, M failed`.

Usage: count_results.py STATE_FILE TESTLOGS_DIR FAILED_LABELS LABEL...
One call per Bazel run; STATE_FILE accumulates the counts across calls. FAILED_LABELS is a
comma-separated list of targets Bazel reported as failed: each counts at least one failure even
if its test.xml shows none (e.g. a sanitizer report printed after the last test case). A target
with no test.xml (it never ran: build failure) counts as one failure.
"""
import os
import sys
import xml.etree.ElementTree as ElementTree


def count_target(xml_path):
    if not os.path.exists(xml_path):
        # A sharded target (shard_count) has one test.xml per shard: shard_K_of_N/test.xml.
        directory = os.path.dirname(xml_path)
        shards = sorted(d for d in (os.listdir(directory) if os.path.isdir(directory) else [])
                        if d.startswith("shard_"))
        if not shards:
            return 0, 1
        passed = failed = 0
        for shard in shards:
            shard_passed, shard_failed = count_target(os.path.join(directory, shard, "test.xml"))
            passed += shard_passed
            failed += shard_failed
        return passed, failed
    try:
        root = ElementTree.parse(xml_path).getroot()
    except ElementTree.ParseError:
        return 0, 1
    passed = failed = 0
    for case in root.iter("testcase"):
        if case.get("status") == "notrun" or case.get("result") == "skipped":
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
    if passed == 0 and failed == 0:
        failed = 1  # A test binary that ran nothing proves nothing.
    return passed, failed


def main(argv):
    state_path, testlogs, labels = argv[1], argv[2], argv[4:]
    failed_by_bazel = set(filter(None, argv[3].split(",")))
    passed = failed = 0
    if os.path.exists(state_path) and os.path.getsize(state_path) > 0:
        with open(state_path) as state:
            passed, failed = (int(x) for x in state.read().split())
    for label in labels:
        package, _, name = label.lstrip("/").partition(":")
        target_passed, target_failed = count_target(os.path.join(testlogs, package, name, "test.xml"))
        if label in failed_by_bazel and target_failed == 0:
            target_failed = 1
        if target_failed:
            print(f"FAILED: {label} ({target_failed} failing case(s))", file=sys.stderr)
        passed += target_passed
        failed += target_failed
    with open(state_path, "w") as state:
        state.write(f"{passed} {failed}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
