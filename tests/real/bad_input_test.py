"""Bad input on a real eddyd's Kafka port: random bytes, truncated frames, absurd and negative
sizes, an unknown API key and version, a client that stalls mid-frame, and 1,000 idle
connections. The broker answers with errors or closes the connection, stays up, and keeps
serving a good client, which reads back every record it was told was written.

Run by Bazel (bad_input_test.sh) with /usr/bin/python3; one JUnit case per check.
"""
import os
import random
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, run_suite  # noqa: E402

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402



def connect(cluster):
    s = socket.create_connection(("127.0.0.1", cluster.kafka[1]), timeout=10)
    s.settimeout(10)
    return s


def closed_or_answered(s):
    """Reads until the broker closes the connection; returns the bytes it sent first."""
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    except (ConnectionResetError, socket.timeout):
        return data


def request(api_key, version, correlation_id, body=b"", client_id=b"bad-input"):
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    if api_key == 18 and version >= 3:
        header += b"\x00"  # request header v2: empty tagged fields, as clients send them
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


class BadInputTest(unittest.TestCase):
    def assert_still_serving(self):
        producer = KafkaProducer(bootstrap_servers=self.cluster.bootstrap(), acks="all", retries=5)
        meta = producer.send("still-serving", key=b"k", value=b"v-%f" % time.time()).get(30)
        producer.close()
        consumer = KafkaConsumer(bootstrap_servers=self.cluster.bootstrap(), consumer_timeout_ms=3000)
        tp = TopicPartition("still-serving", meta.partition)
        consumer.assign([tp])
        consumer.seek(tp, meta.offset)
        got = [m for m in consumer]
        consumer.close()
        self.assertTrue(got and got[0].offset == meta.offset)
        self.assertIsNone(self.cluster.procs[1].poll(), "eddyd exited")

    def test_random_bytes_close_the_connection(self):
        rng = random.Random(1234)
        for _ in range(50):
            s = connect(self.cluster)
            try:
                s.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096))))
                s.shutdown(socket.SHUT_WR)
                closed_or_answered(s)
            except OSError:  # the broker already closed it: that is an answer too
                pass
            s.close()
        self.assert_still_serving()

    def test_absurd_and_negative_sizes_close_the_connection(self):
        for size in (-1, -2**31, 2**31 - 1, 200 * 1024 * 1024):
            s = connect(self.cluster)
            try:
                s.sendall(struct.pack(">i", size) + b"\0" * 64)
                self.assertEqual(closed_or_answered(s), b"")
            except OSError:
                pass
            s.close()
        self.assert_still_serving()

    def test_truncated_frames_and_a_stalled_client(self):
        stalled = connect(self.cluster)
        stalled.sendall(struct.pack(">i", 100) + b"\0\x12\0\0")  # 8 of 104 bytes, then nothing
        for cut in (1, 3, 5, 9):
            s = connect(self.cluster)
            try:
                s.sendall(request(18, 0, 1)[:cut])
                s.shutdown(socket.SHUT_WR)
                closed_or_answered(s)
            except OSError:
                pass
            s.close()
        self.assert_still_serving()
        stalled.close()

    def test_unknown_api_and_version_get_errors_not_a_crash(self):
        for api_key, version in ((18, 99), (9999, 0), (0, 99), (-5, 0)):
            s = connect(self.cluster)
            s.sendall(request(api_key, version, 7))
            answer = closed_or_answered(s) if api_key != 18 else s.recv(65536)
            s.close()
            if api_key == 18:
                # ApiVersions at an unknown version: answered at v0 with UNSUPPORTED_VERSION (35).
                _, correlation, error = struct.unpack(">iih", answer[:10])
                self.assertEqual((correlation, error), (7, 35))
        self.assert_still_serving()

    def test_a_thousand_idle_connections(self):
        idle = [connect(self.cluster) for _ in range(1000)]
        self.assert_still_serving()
        for s in idle:
            s.close()
        self.assert_still_serving()


if __name__ == "__main__":
    run_suite(BadInputTest, lambda root: Cluster(os.environ["EDDYD"], root, nodes=1, replication=1))
