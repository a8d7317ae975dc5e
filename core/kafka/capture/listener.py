"""A capture listener: a fake one-broker Kafka cluster on loopback that records every request frame.

It answers each request with a hand-built, well-formed response, just enough for a real client to
go on to its next request: ApiVersions advertises wide ranges (so clients pick their own highest
versions), Metadata points back at this listener, groups have exactly one member who is always
the leader, every partition holds the same three records, and every admin request succeeds.

One thread per connection (clients open several). Every frame is recorded verbatim, without its
4-byte length prefix, in arrival order. Loopback only; runs until stop() is called.

Run alone for manual experiments:  /usr/bin/python3 listener.py [port]
"""

import os
import socket
import socketserver
import struct
import sys
import threading
import time

import kafka_wire as kw
from kafka_wire import Reader, Writer

NODE_ID = 1
CLUSTER_ID = "eddy-capture-cluster"
DEFAULT_PARTITION_COUNT = 3
FETCH_RECORDS = [
    (b"k0", b"v0", [(b"h", b"0")]),
    (b"k1", b"v1", []),
    (None, b"v2", []),
]
FETCH_WAIT_MS_MAX = 100  # an empty fetch is answered after at most this, so clients do not spin
FRAME_SIZE_BYTES_MAX = 64 * 1024 * 1024
FRAME_COUNT_MAX = 20000  # frames recorded per listener; later ones are answered, not kept


class BrokerState:
    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.topics = {}  # name -> partition count
        self.groups = {}  # group id -> dict(generation, members, assignments, protocol, type)
        self.committed = {}  # (group, topic, partition) -> offset
        self.log_end = {}  # (topic, partition) -> next offset for Produce
        self.next_producer_id = 1000
        self.frames = []  # (connection index, monotonic time, frame bytes)
        self.unhandled = []  # (api key, api version)
        self.rejected = []  # (api key, api version) outside the advertised ranges (strict mode)
        self.batch = kw.record_batch(0, FETCH_RECORDS, int(time.time() * 1000))

    def topic(self, name):
        return self.topics.setdefault(name, DEFAULT_PARTITION_COUNT)


# ---- handlers: each takes (state, reader, version) and returns the body writer, or None -----


def advertised():
    """[(api key, min, max)]: 0..Kafka 3.9's max for every API, changed by EDDY_CAPTURE_ADVERTISE.

    EDDY_CAPTURE_ADVERTISE="11:2-9,29:-" advertises JoinGroup 2..9 and no DescribeAcls: a way to
    see what a client does when a broker drops old versions or an API. With EDDY_CAPTURE_STRICT=1
    a request outside the advertised ranges closes the connection, as Kafka does.
    """
    ranges = {key: (0, facts[2]) for key, facts in kw.APIS.items()}
    for item in filter(None, os.environ.get("EDDY_CAPTURE_ADVERTISE", "").split(",")):
        key, _, span = item.partition(":")
        if span == "-":
            ranges.pop(int(key), None)
        else:
            low, _, high = span.partition("-")
            ranges[int(key)] = (int(low), int(high))
    return sorted((key, low, high) for key, (low, high) in ranges.items())


def api_versions(st, r, v):
    w = Writer(flexible=v >= 3)
    w.int16(0)
    w.array(advertised(), lambda w, a: w.int16(a[0]).int16(a[1]).int16(a[2]).tags())
    if v >= 1:
        w.int32(0)
    return w.tags()


def metadata(st, r, v):
    if v >= 10:
        names = r.array(lambda: (r.uuid(), r.string(), r.tags())[1])
    else:
        names = r.array(lambda: (r.string(), r.tags())[0])
    with st.lock:
        if names is None or (v == 0 and not names):
            if not st.topics:
                st.topic("eddy-capture")
            names = sorted(st.topics)
        counts = [(n, st.topic(n)) for n in names if n is not None]
    w = Writer(flexible=v >= 9)
    if v >= 3:
        w.int32(0)

    def broker(w, _):
        w.int32(NODE_ID).string("127.0.0.1").int32(st.port)
        if v >= 1:
            w.string(None)
        w.tags()

    w.array([0], broker)
    if v >= 2:
        w.string(CLUSTER_ID)
    if v >= 1:
        w.int32(NODE_ID)

    def partition(w, index):
        w.int16(0).int32(index).int32(NODE_ID)
        if v >= 7:
            w.int32(0)
        w.array([NODE_ID], Writer.int32).array([NODE_ID], Writer.int32)
        if v >= 5:
            w.array([], Writer.int32)
        w.tags()

    def topic(w, item):
        name, count = item
        w.int16(0).string(name)
        if v >= 10:
            w.uuid(topic_id(name))
        if v >= 1:
            w.boolean(False)
        w.array(list(range(count)), partition)
        if v >= 8:
            w.int32(-2147483648)
        w.tags()

    w.array(counts, topic)
    if 8 <= v <= 10:
        w.int32(-2147483648)
    return w.tags()


def topic_id(name):
    return (name.encode() * 16 + b"\0" * 16)[:16]


def produce(st, r, v):
    if v >= 3:
        r.string()
    acks = r.int16()
    r.int32()

    def part():
        index = r.int32()
        records = r.bytes_()
        r.tags()
        return index, kw.count_records(records)

    def topic():
        name = r.string()
        parts = r.array(part)
        r.tags()
        return name, parts

    topics = r.array(topic)
    if acks == 0:
        return None
    w = Writer(flexible=v >= 9)

    def part_out(w, item):
        name, (index, count) = item
        with st.lock:
            base = st.log_end.get((name, index), 0)
            st.log_end[(name, index)] = base + count
        w.int32(index).int16(0).int64(base)
        if v >= 2:
            w.int64(-1)
        if v >= 5:
            w.int64(0)
        if v >= 8:
            w.array([], None).string(None)
        w.tags()

    w.array(topics, lambda w, t: (w.string(t[0]), w.array([(t[0], p) for p in t[1]], part_out),
                                  w.tags()))
    if v >= 1:
        w.int32(0)
    return w.tags()


def fetch(st, r, v):
    r.int32()
    max_wait_ms = r.int32()
    r.int32()
    if v >= 3:
        r.int32()
    if v >= 4:
        r.int8()
    if v >= 7:
        r.int32()
        r.int32()

    def part():
        index = r.int32()
        if v >= 9:
            r.int32()
        offset = r.int64()
        if v >= 12:
            r.int32()
        if v >= 5:
            r.int64()
        r.int32()
        r.tags()
        return index, offset

    def topic():
        name = r.uuid() if v >= 13 else r.string()
        parts = r.array(part)
        r.tags()
        return name, parts

    topics = r.array(topic)
    have_data = any(off < len(FETCH_RECORDS) for _, parts in topics for _, off in parts)
    if not have_data:
        time.sleep(min(max_wait_ms, FETCH_WAIT_MS_MAX) / 1000.0)
    w = Writer(flexible=v >= 12)
    if v >= 1:
        w.int32(0)
    if v >= 7:
        w.int16(0).int32(0)

    def part_out(w, item):
        index, offset = item
        w.int32(index).int16(0).int64(len(FETCH_RECORDS))
        if v >= 4:
            w.int64(len(FETCH_RECORDS))
        if v >= 5:
            w.int64(0)
        if v >= 4:
            w.array(None if v < 12 else [], None)
        if v >= 11:
            w.int32(-1)
        w.bytes_(st.batch if offset < len(FETCH_RECORDS) else b"")
        w.tags()

    def topic_out(w, item):
        name, parts = item
        if v >= 13:
            w.uuid(name)
        else:
            w.string(name)
        w.array(parts, part_out)
        w.tags()

    w.array(topics, topic_out)
    return w.tags()


def list_offsets(st, r, v):
    r.int32()
    if v >= 2:
        r.int8()

    def part():
        index = r.int32()
        if v >= 4:
            r.int32()
        timestamp = r.int64()
        if v == 0:
            r.int32()
        r.tags()
        return index, timestamp

    topics = r.array(lambda: (r.string(), r.array(part), r.tags())[:2])
    w = Writer(flexible=v >= 6)
    if v >= 2:
        w.int32(0)

    def part_out(w, item):
        index, timestamp = item
        offset = 0 if timestamp == -2 else len(FETCH_RECORDS)
        w.int32(index).int16(0)
        if v == 0:
            w.array([offset], Writer.int64)
        else:
            w.int64(-1).int64(offset)
        if v >= 4:
            w.int32(0)
        w.tags()

    w.array(topics, lambda w, t: (w.string(t[0]), w.array(t[1], part_out), w.tags()))
    return w.tags()


def find_coordinator(st, r, v):
    keys = [r.string()] if v <= 3 else None
    if v >= 1:
        r.int8()
    if v >= 4:
        keys = r.array(r.string)
    w = Writer(flexible=v >= 3)
    if v >= 1:
        w.int32(0)
    if v <= 3:
        w.int16(0)
        if v >= 1:
            w.string(None)
        w.int32(NODE_ID).string("127.0.0.1").int32(st.port)
    else:
        w.array(keys, lambda w, k: (w.string(k).int32(NODE_ID).string("127.0.0.1")
                                    .int32(st.port).int16(0).string(None).tags()))
    return w.tags()


def _group(st, group_id):
    return st.groups.setdefault(group_id, {
        "generation": 0, "members": {}, "assignments": {}, "protocol": None,
        "type": "consumer"})


def join_group(st, r, v):
    group_id = r.string()
    r.int32()
    if v >= 1:
        r.int32()
    member_id = r.string()
    if v >= 5:
        r.string()
    protocol_type = r.string()
    protocols = r.array(lambda: (r.string(), r.bytes_(), r.tags())[:2])
    with st.lock:
        g = _group(st, group_id)
        if not member_id:
            g["member_count"] = g.get("member_count", 0) + 1
            member_id = "%s-member-%d" % (group_id, g["member_count"])
            if v >= 4:  # KIP-394, as Kafka does: the client must join again with this id
                return _member_id_required(v, member_id)
        g["generation"] += 1
        g["members"] = {member_id: protocols[0][1]}
        g["protocol"] = protocols[0][0]
        g["type"] = protocol_type
        generation = g["generation"]
    w = Writer(flexible=v >= 6)
    if v >= 2:
        w.int32(0)
    w.int16(0).int32(generation)
    if v >= 7:
        w.string(protocol_type)
    w.string(protocols[0][0]).string(member_id)
    if v >= 9:
        w.boolean(False)
    w.string(member_id)

    def member(w, _):
        w.string(member_id)
        if v >= 5:
            w.string(None)
        w.bytes_(protocols[0][1]).tags()

    w.array([0], member)
    return w.tags()


def _member_id_required(v, member_id):
    w = Writer(flexible=v >= 6)
    if v >= 2:
        w.int32(0)
    w.int16(79).int32(-1)  # MEMBER_ID_REQUIRED
    if v >= 7:
        w.string(None)
    w.string(None if v >= 7 else "").string("")
    if v >= 9:
        w.boolean(False)
    w.string(member_id).array([], None)
    return w.tags()


def sync_group(st, r, v):
    group_id = r.string()
    r.int32()
    member_id = r.string()
    if v >= 3:
        r.string()
    if v >= 5:
        r.string()
        r.string()
    assignments = r.array(lambda: (r.string(), r.bytes_(), r.tags())[:2])
    with st.lock:
        g = _group(st, group_id)
        for m, a in assignments:
            g["assignments"][m] = a
        assignment = g["assignments"].get(member_id, b"")
        protocol, protocol_type = g["protocol"], g["type"]
    w = Writer(flexible=v >= 4)
    if v >= 1:
        w.int32(0)
    w.int16(0)
    if v >= 5:
        w.string(protocol_type).string(protocol)
    w.bytes_(assignment)
    return w.tags()


def heartbeat(st, r, v):
    w = Writer(flexible=v >= 4)
    if v >= 1:
        w.int32(0)
    return w.int16(0).tags()


def leave_group(st, r, v):
    group_id = r.string()
    if v <= 2:
        members = [(r.string(), None)]
    else:
        members = r.array(lambda: (r.string(), r.string(),
                                   r.string() if v >= 5 else None, r.tags())[:2])
    with st.lock:
        _group(st, group_id)["members"] = {}
    w = Writer(flexible=v >= 4)
    if v >= 1:
        w.int32(0)
    w.int16(0)
    if v >= 3:
        w.array(members, lambda w, m: (w.string(m[0]).string(m[1]).int16(0).tags()))
    return w.tags()


def offset_commit(st, r, v):
    group_id = r.string()
    if v >= 1:
        r.int32()
        r.string()
    if v >= 7:
        r.string()
    if 2 <= v <= 4:
        r.int64()

    def part():
        index = r.int32()
        offset = r.int64()
        if v >= 6:
            r.int32()
        if v == 1:
            r.int64()
        r.string()
        r.tags()
        return index, offset

    topics = r.array(lambda: (r.string(), r.array(part), r.tags())[:2])
    with st.lock:
        for name, parts in topics:
            for index, offset in parts:
                st.committed[(group_id, name, index)] = offset
    w = Writer(flexible=v >= 8)
    if v >= 3:
        w.int32(0)
    w.array(topics, lambda w, t: (w.string(t[0]), w.array(
        t[1], lambda w, p: w.int32(p[0]).int16(0).tags()), w.tags()))
    return w.tags()


def _committed_topics(st, group_id, requested):
    with st.lock:
        if requested is None:
            names = sorted({t for (g, t, _) in st.committed if g == group_id})
            requested = [(n, sorted(p for (g, t, p) in st.committed if g == group_id and t == n))
                         for n in names]
        return [(name, [(p, st.committed.get((group_id, name, p), -1)) for p in parts])
                for name, parts in requested]


def offset_fetch(st, r, v):
    w = Writer(flexible=v >= 6)

    def part_out(w, item):
        index, offset = item
        w.int32(index).int64(offset)
        if v >= 5:
            w.int32(-1)
        w.string("").int16(0).tags()

    def topics_out(w, topics):
        w.array(topics, lambda w, t: (w.string(t[0]), w.array(t[1], part_out), w.tags()))

    if v <= 7:
        group_id = r.string()
        requested = r.array(lambda: (r.string(), r.array(r.int32), r.tags())[:2])
        if v >= 3:
            w.int32(0)
        topics_out(w, _committed_topics(st, group_id, requested))
        if v >= 2:
            w.int16(0)
        return w.tags()

    def group():
        group_id = r.string()
        if v >= 9:
            r.string()
            r.int32()
        requested = r.array(lambda: (r.string(), r.array(r.int32), r.tags())[:2])
        r.tags()
        return group_id, requested

    groups = r.array(group)
    w.int32(0)
    w.array(groups, lambda w, g: (w.string(g[0]), topics_out(
        w, _committed_topics(st, g[0], g[1])), w.int16(0), w.tags()))
    return w.tags()


def list_groups(st, r, v):
    w = Writer(flexible=v >= 3)
    if v >= 1:
        w.int32(0)
    w.int16(0)
    with st.lock:
        groups = [(g, d["type"]) for g, d in sorted(st.groups.items())]

    def group(w, item):
        w.string(item[0]).string(item[1])
        if v >= 4:
            w.string("Stable")
        if v >= 5:
            w.string("classic")
        w.tags()

    w.array(groups, group)
    return w.tags()


def describe_groups(st, r, v):
    names = r.array(r.string)
    w = Writer(flexible=v >= 5)
    if v >= 1:
        w.int32(0)

    def group(w, name):
        with st.lock:
            g = st.groups.get(name)
            members = list(g["members"].items()) if g else []
            assignments = dict(g["assignments"]) if g else {}
        w.int16(0).string(name).string("Stable" if members else "Empty")
        w.string(g["type"] if g else "consumer").string(g["protocol"] if g and members else "")

        def member(w, m):
            w.string(m[0])
            if v >= 4:
                w.string(None)
            w.string("capture-client").string("/127.0.0.1").bytes_(m[1])
            w.bytes_(assignments.get(m[0], b"")).tags()

        w.array(members, member)
        if v >= 3:
            w.int32(-2147483648)
        w.tags()

    w.array(names, group)
    return w.tags()


def delete_groups(st, r, v):
    names = r.array(r.string)
    with st.lock:
        for n in names:
            st.groups.pop(n, None)
    w = Writer(flexible=v >= 2)
    w.int32(0)
    w.array(names, lambda w, n: w.string(n).int16(0).tags())
    return w.tags()


def create_topics(st, r, v):
    def topic():
        name = r.string()
        count = r.int32()
        replication = r.int16()
        assignments = r.array(lambda: (r.int32(), r.array(r.int32), r.tags()))
        r.array(lambda: (r.string(), r.string(), r.tags()))
        r.tags()
        if count < 0:
            count = len(assignments) if assignments else DEFAULT_PARTITION_COUNT
        return name, count, replication

    topics = r.array(topic)
    with st.lock:
        for name, count, _ in topics:
            st.topics[name] = count
    w = Writer(flexible=v >= 5)
    if v >= 2:
        w.int32(0)

    def topic_out(w, t):
        w.string(t[0])
        if v >= 7:
            w.uuid(topic_id(t[0]))
        w.int16(0)
        if v >= 1:
            w.string(None)
        if v >= 5:
            w.int32(t[1]).int16(1 if t[2] < 0 else t[2]).array([], None)
        w.tags()

    w.array(topics, topic_out)
    return w.tags()


def delete_topics(st, r, v):
    if v <= 5:
        names = r.array(r.string)
    else:
        names = r.array(lambda: (r.string(), r.uuid(), r.tags())[0])
    w = Writer(flexible=v >= 4)
    if v >= 1:
        w.int32(0)

    def topic_out(w, name):
        w.string(name)
        if v >= 6:
            w.uuid(topic_id(name))
        w.int16(0)
        if v >= 5:
            w.string(None)
        w.tags()

    w.array(names, topic_out)
    return w.tags()


def create_partitions(st, r, v):
    def topic():
        name = r.string()
        count = r.int32()
        r.array(lambda: (r.array(r.int32), r.tags()))
        r.tags()
        return name, count

    topics = r.array(topic)
    with st.lock:
        for name, count in topics:
            st.topics[name] = count
    w = Writer(flexible=v >= 2)
    w.int32(0)
    w.array(topics, lambda w, t: w.string(t[0]).int16(0).string(None).tags())
    return w.tags()


CONFIGS = [("cleanup.policy", "delete"), ("retention.ms", "604800000"),
           ("segment.bytes", "1073741824")]


def describe_configs(st, r, v):
    resources = r.array(lambda: (r.int8(), r.string(), r.array(r.string), r.tags())[:3])
    w = Writer(flexible=v >= 4)
    w.int32(0)

    def config(w, c):
        w.string(c[0]).string(c[1]).boolean(False)
        if v == 0:
            w.boolean(True)
        else:
            w.int8(5)  # DEFAULT_CONFIG
        w.boolean(False)
        if v >= 1:
            w.array([], None)
        if v >= 3:
            w.int8(2 if c[0] == "cleanup.policy" else 5).string(None)
        w.tags()

    def resource(w, res):
        kind, name, keys = res
        configs = [c for c in CONFIGS if keys is None or c[0] in keys]
        w.int16(0).string(None).int8(kind).string(name).array(configs, config).tags()

    w.array(resources, resource)
    return w.tags()


def alter_configs(st, r, v, incremental=False):
    def resource():
        kind, name = r.int8(), r.string()
        r.array(lambda: (r.string(), r.int8() if incremental else 0, r.string(), r.tags()))
        r.tags()
        return kind, name

    resources = r.array(resource)
    w = Writer(flexible=v >= (1 if incremental else 2))
    w.int32(0)
    w.array(resources, lambda w, res: w.int16(0).string(None).int8(res[0]).string(res[1]).tags())
    return w.tags()


def init_producer_id(st, r, v):
    with st.lock:
        st.next_producer_id += 1
        producer_id = st.next_producer_id
    w = Writer(flexible=v >= 2)
    return w.int32(0).int16(0).int64(producer_id).int16(0).tags()


def add_partitions_to_txn(st, r, v):
    r.string()
    r.int64()
    r.int16()
    topics = r.array(lambda: (r.string(), r.array(r.int32), r.tags())[:2])
    w = Writer(flexible=v >= 3)
    w.int32(0)
    w.array(topics, lambda w, t: (w.string(t[0]), w.array(
        t[1], lambda w, p: w.int32(p).int16(0).tags()), w.tags()))
    return w.tags()


def txn_simple(flexible_from):
    def handler(st, r, v):
        return Writer(flexible=v >= flexible_from).int32(0).int16(0).tags()
    return handler


def txn_offset_commit(st, r, v):
    r.string()
    r.string()
    r.int64()
    r.int16()
    if v >= 3:
        r.int32()
        r.string()
        r.string()

    def part():
        index = r.int32()
        r.int64()
        if v >= 2:
            r.int32()
        r.string()
        r.tags()
        return index

    topics = r.array(lambda: (r.string(), r.array(part), r.tags())[:2])
    w = Writer(flexible=v >= 3)
    w.int32(0)
    w.array(topics, lambda w, t: (w.string(t[0]), w.array(
        t[1], lambda w, p: w.int32(p).int16(0).tags()), w.tags()))
    return w.tags()


def delete_records(st, r, v):
    def part():
        index, offset = r.int32(), r.int64()
        r.tags()
        return index, offset

    topics = r.array(lambda: (r.string(), r.array(part), r.tags())[:2])
    w = Writer(flexible=v >= 2)
    w.int32(0)
    w.array(topics, lambda w, t: (w.string(t[0]), w.array(
        t[1], lambda w, p: w.int32(p[0]).int64(max(p[1], 0)).int16(0).tags()), w.tags()))
    return w.tags()


def sasl_handshake(st, r, v):
    return Writer().int16(0).array(["PLAIN"], Writer.string)


def sasl_authenticate(st, r, v):
    w = Writer(flexible=v >= 2)
    w.int16(0).string(None).bytes_(b"")
    if v >= 1:
        w.int64(0)
    return w.tags()


def describe_acls(st, r, v):
    w = Writer(flexible=v >= 2)
    return w.int32(0).int16(0).string(None).array([], None).tags()


def create_acls(st, r, v):
    creations = r.array(lambda: (r.int8(), r.string(), r.int8() if v >= 1 else 3, r.string(),
                                 r.string(), r.int8(), r.int8(), r.tags()))
    w = Writer(flexible=v >= 2)
    w.int32(0)
    w.array(creations, lambda w, _: w.int16(0).string(None).tags())
    return w.tags()


def delete_acls(st, r, v):
    filters = r.array(lambda: (r.int8(), r.string(), r.int8() if v >= 1 else 3, r.string(),
                               r.string(), r.int8(), r.int8(), r.tags()))
    w = Writer(flexible=v >= 2)
    w.int32(0)
    w.array(filters, lambda w, _: w.int16(0).string(None).array([], None).tags())
    return w.tags()


def alter_partition_reassignments(st, r, v):
    r.int32()
    topics = r.array(lambda: (r.string(), r.array(
        lambda: (r.int32(), r.array(r.int32), r.tags())[0]), r.tags())[:2])
    w = Writer(flexible=True)
    w.int32(0).int16(0).string(None)
    w.array(topics, lambda w, t: (w.string(t[0]), w.array(
        t[1], lambda w, p: w.int32(p).int16(0).string(None).tags()), w.tags()))
    return w.tags()


def list_partition_reassignments(st, r, v):
    return Writer(flexible=True).int32(0).int16(0).string(None).array([], None).tags()


def offset_delete(st, r, v):
    group_id = r.string()
    topics = r.array(lambda: (r.string(), r.array(r.int32)))
    with st.lock:
        for name, parts in topics:
            for index in parts:
                st.committed.pop((group_id, name, index), None)
    w = Writer()
    w.int16(0).int32(0)
    w.array(topics, lambda w, t: (w.string(t[0]), w.array(t[1], lambda w, p: w.int32(p).int16(0))))
    return w


HANDLERS = {
    0: produce, 1: fetch, 2: list_offsets, 3: metadata, 8: offset_commit, 9: offset_fetch,
    10: find_coordinator, 11: join_group, 12: heartbeat, 13: leave_group, 14: sync_group,
    15: describe_groups, 16: list_groups, 17: sasl_handshake, 18: api_versions,
    19: create_topics, 20: delete_topics, 21: delete_records, 22: init_producer_id,
    24: add_partitions_to_txn, 25: txn_simple(3), 26: txn_simple(3), 28: txn_offset_commit,
    29: describe_acls, 30: create_acls, 31: delete_acls, 32: describe_configs, 33: alter_configs,
    36: sasl_authenticate, 37: create_partitions, 42: delete_groups,
    44: lambda st, r, v: alter_configs(st, r, v, incremental=True),
    45: alter_partition_reassignments, 46: list_partition_reassignments, 47: offset_delete,
}


class Connection(socketserver.BaseRequestHandler):
    def handle(self):
        st = self.server.state
        with st.lock:
            self.index = self.server.connection_count
            self.server.connection_count += 1
        sock = self.request
        sock.settimeout(1.0)
        buf = b""
        while not self.server.stopping:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 4:
                size = struct.unpack(">i", buf[:4])[0]
                if size < 0 or size > FRAME_SIZE_BYTES_MAX:
                    return
                if len(buf) < 4 + size:
                    break
                frame, buf = buf[4:4 + size], buf[4 + size:]
                if not self.answer(st, sock, frame):
                    return

    def answer(self, st, sock, frame):
        with st.lock:
            if len(st.frames) < FRAME_COUNT_MAX:
                st.frames.append((self.index, time.monotonic(), frame))
        api_key, v, correlation_id, _, _, body_at = kw.parse_request_header(frame)
        handler = HANDLERS.get(api_key)
        if handler is None or api_key not in kw.APIS:
            with st.lock:
                st.unhandled.append((api_key, v))
            return False  # close: the client sees a broken connection, not a hang
        if os.environ.get("EDDY_CAPTURE_STRICT") and api_key != 18 and not any(
                key == api_key and low <= v <= high for key, low, high in advertised()):
            with st.lock:
                st.rejected.append((api_key, v))
            return False  # as Kafka does for a version it does not support
        r = Reader(frame[body_at:], flexible=kw.is_flexible(api_key, v))
        try:
            body = handler(st, r, v)
        except kw.Truncated as e:
            sys.stderr.write("capture: cannot parse %s v%d: %s\n" % (kw.api_name(api_key), v, e))
            with st.lock:
                st.unhandled.append((api_key, v))
            return False
        if body is None:
            return True
        header = Writer().int32(correlation_id)
        if kw.response_header_version(api_key, v) >= 1:
            header.uvarint(0)
        payload = header.getvalue() + body.getvalue()
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        return True


class CaptureServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port=0):
        super().__init__(("127.0.0.1", port), Connection)
        self.state = BrokerState(self.server_address[1])
        self.connection_count = 0
        self.stopping = False
        self.thread = None

    @property
    def port(self):
        return self.server_address[1]

    def start(self):
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True
        self.shutdown()
        self.server_close()


if __name__ == "__main__":
    server = CaptureServer(int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
    print("capture listener on 127.0.0.1:%d (Ctrl-C to stop)" % server.port, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        server.stop()
        for index, _, frame in server.state.frames:
            k, ver, cid, client, hv, _ = kw.parse_request_header(frame)
            print(index, kw.api_name(k), ver, cid, client, len(frame))
