"""Kafka wire primitives for the capture tool: readers, writers and the per-API facts it needs.

Independent of Eddy's C++ codec on purpose: the golden frames it records are checked against that
codec, so the two must not share a source of mistakes. Facts (API keys, names, first flexible
versions, the ranges we advertise) are written from Kafka's published protocol definitions.
"""

import struct

# api key -> (name, first flexible version or None, highest version the listener advertises: our
# reading of Apache Kafka 3.9's highest, high enough that no client here is capped by it).
APIS = {
    0: ("Produce", 9, 11),
    1: ("Fetch", 12, 17),
    2: ("ListOffsets", 6, 9),
    3: ("Metadata", 9, 12),
    8: ("OffsetCommit", 8, 9),
    9: ("OffsetFetch", 6, 9),
    10: ("FindCoordinator", 3, 5),
    11: ("JoinGroup", 6, 9),
    12: ("Heartbeat", 4, 4),
    13: ("LeaveGroup", 4, 5),
    14: ("SyncGroup", 4, 5),
    15: ("DescribeGroups", 5, 5),
    16: ("ListGroups", 3, 5),
    17: ("SaslHandshake", None, 1),
    18: ("ApiVersions", 3, 3),
    19: ("CreateTopics", 5, 7),
    20: ("DeleteTopics", 4, 6),
    21: ("DeleteRecords", 2, 2),
    22: ("InitProducerId", 2, 5),
    23: ("OffsetForLeaderEpoch", 4, 4),
    24: ("AddPartitionsToTxn", 3, 5),
    25: ("AddOffsetsToTxn", 3, 4),
    26: ("EndTxn", 3, 4),
    28: ("TxnOffsetCommit", 3, 4),
    29: ("DescribeAcls", 2, 3),
    30: ("CreateAcls", 2, 3),
    31: ("DeleteAcls", 2, 3),
    32: ("DescribeConfigs", 4, 4),
    33: ("AlterConfigs", 2, 2),
    35: ("DescribeLogDirs", 2, 4),
    36: ("SaslAuthenticate", 2, 2),
    37: ("CreatePartitions", 2, 3),
    42: ("DeleteGroups", 2, 2),
    43: ("ElectLeaders", 2, 2),
    44: ("IncrementalAlterConfigs", 1, 1),
    45: ("AlterPartitionReassignments", 0, 0),
    46: ("ListPartitionReassignments", 0, 0),
    47: ("OffsetDelete", None, 0),
    60: ("DescribeCluster", 0, 1),
}


def api_name(api_key):
    return APIS[api_key][0] if api_key in APIS else "Api%d" % api_key


def is_flexible(api_key, api_version):
    if api_key not in APIS:
        return False
    first = APIS[api_key][1]
    return first is not None and api_version >= first


def request_header_version(api_key, api_version):
    """Request header v2 for flexible versions, else v1 (ControlledShutdown v0's v0 is not used)."""
    return 2 if is_flexible(api_key, api_version) else 1


def response_header_version(api_key, api_version):
    """Response header v1 for flexible versions; ApiVersions always answers with header v0."""
    if api_key == 18:
        return 0
    return 1 if is_flexible(api_key, api_version) else 0


class Truncated(Exception):
    pass


class Reader:
    def __init__(self, data, flexible=False):
        self.data = data
        self.pos = 0
        self.flexible = flexible

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise Truncated("need %d bytes at %d of %d" % (n, self.pos, len(self.data)))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def _unpack(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def int8(self):
        return self._unpack(">b")

    def int16(self):
        return self._unpack(">h")

    def int32(self):
        return self._unpack(">i")

    def int64(self):
        return self._unpack(">q")

    def uuid(self):
        return self.take(16)

    def boolean(self):
        return self.int8() != 0

    def uvarint(self):
        shift = 0
        value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 35:
                raise Truncated("uvarint too long")

    def varint(self):
        raw = self.uvarint()
        return (raw >> 1) ^ -(raw & 1)

    def string(self):
        n = (self.uvarint() - 1) if self.flexible else self.int16()
        if n < 0:
            return None
        return self.take(n).decode("utf-8", "replace")

    def bytes_(self):
        n = (self.uvarint() - 1) if self.flexible else self.int32()
        if n < 0:
            return None
        return self.take(n)

    def array(self, element):
        n = (self.uvarint() - 1) if self.flexible else self.int32()
        if n < 0:
            return None
        if n > self.remaining():
            raise Truncated("array count %d exceeds remaining bytes" % n)
        return [element() for _ in range(n)]

    def tags(self):
        if not self.flexible:
            return {}
        out = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            out[tag] = self.take(self.uvarint())
        return out


class Writer:
    def __init__(self, flexible=False):
        self.parts = []
        self.flexible = flexible

    def getvalue(self):
        return b"".join(self.parts)

    def int8(self, v):
        self.parts.append(struct.pack(">b", v))
        return self

    def int16(self, v):
        self.parts.append(struct.pack(">h", v))
        return self

    def int32(self, v):
        self.parts.append(struct.pack(">i", v))
        return self

    def uint32(self, v):
        self.parts.append(struct.pack(">I", v))
        return self

    def int64(self, v):
        self.parts.append(struct.pack(">q", v))
        return self

    def boolean(self, v):
        return self.int8(1 if v else 0)

    def uuid(self, v=b"\0" * 16):
        assert len(v) == 16
        self.parts.append(v)
        return self

    def raw(self, b):
        self.parts.append(b)
        return self

    def uvarint(self, v):
        assert v >= 0
        out = bytearray()
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
        self.parts.append(bytes(out))
        return self

    def varint(self, v):
        return self.uvarint((v << 1) ^ (v >> 63))

    def string(self, s):
        if s is None:
            return self.uvarint(0) if self.flexible else self.int16(-1)
        b = s.encode("utf-8")
        if self.flexible:
            self.uvarint(len(b) + 1)
        else:
            self.int16(len(b))
        return self.raw(b)

    def bytes_(self, b):
        if b is None:
            return self.uvarint(0) if self.flexible else self.int32(-1)
        if self.flexible:
            self.uvarint(len(b) + 1)
        else:
            self.int32(len(b))
        return self.raw(b)

    def array(self, items, element):
        """element(writer, item) writes one item; items None writes a null array."""
        if items is None:
            return self.uvarint(0) if self.flexible else self.int32(-1)
        if self.flexible:
            self.uvarint(len(items) + 1)
        else:
            self.int32(len(items))
        for item in items:
            element(self, item)
        return self

    def tags(self):
        """An empty tagged-field section (flexible versions only)."""
        if self.flexible:
            self.uvarint(0)
        return self


def parse_request_header(frame):
    """Returns (api_key, api_version, correlation_id, client_id, header_version, body_offset)."""
    r = Reader(frame)
    api_key = r.int16()
    api_version = r.int16()
    correlation_id = r.int32()
    client_id = r.string()  # nullable string, never compact, in header v1 and v2
    header_version = request_header_version(api_key, api_version)
    if header_version >= 2:
        r.flexible = True
        r.tags()
    return api_key, api_version, correlation_id, client_id, header_version, r.pos


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def record_batch(base_offset, records, timestamp_ms):
    """A magic-2 record batch, uncompressed. records: list of (key, value, [(hkey, hvalue)])."""
    body = bytearray()
    for delta, (key, value, headers) in enumerate(records):
        w = Writer()
        w.int8(0)  # attributes
        w.varint(0)  # timestamp delta
        w.varint(delta)  # offset delta
        for field in (key, value):
            if field is None:
                w.varint(-1)
            else:
                w.varint(len(field)).raw(field)
        w.varint(len(headers))
        for hkey, hvalue in headers:
            w.varint(len(hkey)).raw(hkey)
            w.varint(len(hvalue)).raw(hvalue)
        rec = w.getvalue()
        body += Writer().varint(len(rec)).getvalue() + rec
    after_crc = Writer()
    after_crc.int16(0)  # attributes: no compression, create time, not transactional
    after_crc.int32(len(records) - 1)  # last offset delta
    after_crc.int64(timestamp_ms).int64(timestamp_ms)  # first and max timestamp
    after_crc.int64(-1).int16(-1).int32(-1)  # producer id, epoch, base sequence
    after_crc.int32(len(records))
    crc_part = after_crc.getvalue() + bytes(body)
    head = Writer()
    head.int64(base_offset)
    head.int32(4 + 1 + 4 + len(crc_part))  # batch length: leader epoch .. end
    head.int32(0)  # partition leader epoch
    head.int8(2)  # magic
    head.uint32(crc32c(crc_part))
    return head.getvalue() + crc_part


def count_records(records):
    """Records in a Produce partition's record set: magic 2 batches, or magic 0/1 message sets."""
    if not records:
        return 0
    count = 0
    pos = 0
    while pos + 17 <= len(records):
        length = struct.unpack_from(">i", records, pos + 8)[0]
        magic = records[pos + 16]
        if magic >= 2 and pos + 61 <= len(records):
            count += struct.unpack_from(">i", records, pos + 57)[0]
        else:
            count += 1
        pos += 12 + length
    return count
