"""Checks that MANIFEST.tsv tells the truth about every golden frame beside it.

For each row: the file exists, its size and SHA-256 match, and the request header parsed from
its bytes (api key, api version, correlation id, client id) equals the row; the header version
follows from the api's first flexible version (header v2 must carry a tagged-field section); the
file name is <client>-<api_name>-v<version>-<n>.bin. Every .bin file has exactly one row, and
the whole set stays small. Stdlib only, independent of the capture tool and of the C++ codec.

    /usr/bin/python3 core/kafka/testdata/check_manifest.py [testdata dir]
"""

import hashlib
import os
import struct
import sys

TOTAL_SIZE_BYTES_MAX = 2 * 1024 * 1024

# api key -> (name, first flexible version, or None when no version is flexible)
APIS = {
    0: ("Produce", 9), 1: ("Fetch", 12), 2: ("ListOffsets", 6), 3: ("Metadata", 9),
    8: ("OffsetCommit", 8), 9: ("OffsetFetch", 6), 10: ("FindCoordinator", 3),
    11: ("JoinGroup", 6), 12: ("Heartbeat", 4), 13: ("LeaveGroup", 4), 14: ("SyncGroup", 4),
    15: ("DescribeGroups", 5), 16: ("ListGroups", 3), 17: ("SaslHandshake", None),
    18: ("ApiVersions", 3), 19: ("CreateTopics", 5), 20: ("DeleteTopics", 4),
    21: ("DeleteRecords", 2), 22: ("InitProducerId", 2), 23: ("OffsetForLeaderEpoch", 4),
    24: ("AddPartitionsToTxn", 3), 25: ("AddOffsetsToTxn", 3), 26: ("EndTxn", 3),
    28: ("TxnOffsetCommit", 3), 29: ("DescribeAcls", 2), 30: ("CreateAcls", 2),
    31: ("DeleteAcls", 2), 32: ("DescribeConfigs", 4), 33: ("AlterConfigs", 2),
    35: ("DescribeLogDirs", 2), 36: ("SaslAuthenticate", 2), 37: ("CreatePartitions", 2),
    42: ("DeleteGroups", 2), 43: ("ElectLeaders", 2), 44: ("IncrementalAlterConfigs", 1),
    45: ("AlterPartitionReassignments", 0), 46: ("ListPartitionReassignments", 0),
    47: ("OffsetDelete", None), 60: ("DescribeCluster", 0),
}

COLUMNS = ["file", "client", "client_version", "api_key", "api_name", "api_version",
           "header_version", "correlation_id", "client_id", "size_bytes", "sha256"]


def parse_header(frame):
    """(api_key, api_version, correlation_id, client_id, tagged_section_ok)."""
    if len(frame) < 10:
        raise ValueError("frame of %d bytes is shorter than a request header" % len(frame))
    api_key, api_version, correlation_id, client_id_size = struct.unpack_from(">hhih", frame)
    at = 10
    client_id = None
    if client_id_size >= 0:
        if at + client_id_size > len(frame):
            raise ValueError("client id runs past the frame")
        client_id = frame[at:at + client_id_size].decode("utf-8")
        at += client_id_size
    return api_key, api_version, correlation_id, client_id, at


def skip_tags(frame, at):
    """Skips a tagged-field section; returns the offset after it, or raises."""
    def uvarint(at):
        value, shift = 0, 0
        while True:
            if at >= len(frame) or shift > 28:
                raise ValueError("bad uvarint in tagged fields at %d" % at)
            byte = frame[at]
            value |= (byte & 0x7F) << shift
            at += 1
            if byte < 0x80:
                return value, at
            shift += 7

    count, at = uvarint(at)
    for _ in range(count):
        _, at = uvarint(at)
        size, at = uvarint(at)
        at += size
        if at > len(frame):
            raise ValueError("tagged field runs past the frame")
    return at


def check_row(directory, row, errors):
    name = row["file"]
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        errors.append("%s: listed but missing" % name)
        return 0
    frame = open(path, "rb").read()

    def expect(what, got, want):
        if str(got) != str(want):
            errors.append("%s: %s is %s in the bytes, %s in the manifest" % (name, what, got, want))

    expect("size_bytes", len(frame), row["size_bytes"])
    expect("sha256", hashlib.sha256(frame).hexdigest(), row["sha256"])
    try:
        api_key, api_version, correlation_id, client_id, at = parse_header(frame)
    except ValueError as e:
        errors.append("%s: %s" % (name, e))
        return len(frame)
    expect("api_key", api_key, row["api_key"])
    expect("api_version", api_version, row["api_version"])
    expect("correlation_id", correlation_id, row["correlation_id"])
    expect("client_id", client_id, row["client_id"])
    if api_key not in APIS:
        errors.append("%s: unknown api key %d" % (name, api_key))
        return len(frame)
    api_name, first_flexible = APIS[api_key]
    expect("api_name", api_name, row["api_name"])
    header_version = 2 if first_flexible is not None and api_version >= first_flexible else 1
    expect("header_version", header_version, row["header_version"])
    if header_version == 2:
        try:
            skip_tags(frame, at)
        except ValueError as e:
            errors.append("%s: header v2: %s" % (name, e))
    stem = "%s-%s-v%d-" % (row["client"], api_name, api_version)
    if not (name.startswith(stem) and name.endswith(".bin") and
            name[len(stem):-len(".bin")].isdigit()):
        errors.append("%s: name does not start with %s<n>.bin" % (name, stem))
    return len(frame)


def main(argv):
    directory = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(directory, "MANIFEST.tsv")) as f:
        lines = [line.rstrip("\n").split("\t") for line in f]
    errors = []
    if lines[0] != COLUMNS:
        errors.append("MANIFEST.tsv columns are %s, expected %s" % (lines[0], COLUMNS))
    rows = [dict(zip(COLUMNS, line)) for line in lines[1:]]
    names = [row["file"] for row in rows]
    if len(set(names)) != len(names):
        errors.append("MANIFEST.tsv lists a file twice")
    total = sum(check_row(directory, row, errors) for row in rows)
    for name in sorted(os.listdir(directory)):
        if name.endswith(".bin") and name not in names:
            errors.append("%s: not in MANIFEST.tsv" % name)
    if total > TOTAL_SIZE_BYTES_MAX:
        errors.append("golden frames total %d bytes, limit %d" % (total, TOTAL_SIZE_BYTES_MAX))
    for e in errors:
        print("FAIL " + e)
    print("check_manifest: %d frames, %d bytes, %d problems" % (len(rows), total, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
