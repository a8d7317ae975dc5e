"""Real Kafka clients against a 3-node eddyd cluster on loopback: kcat (librdkafka),
kafka-python, confluent-kafka (librdkafka) and kafkajs create topics, produce with acks=all,
consume from the beginning and by timestamp, read metadata and offsets; librdkafka's and
kafkajs's idempotent producers write each record exactly once, in order, while a broker is
SIGKILLed and restarted under librdkafka's; then a broker is
SIGKILLed while a producer writes, restarted, and every acknowledged record is read back; then
the whole cluster restarts on its data (SIGTERM: the first to stop hands its leaderships over)
and still serves every record.

Run by Bazel (real_clients_test.sh) with /usr/bin/python3 — Debian's kafka-python and
confluent-kafka live there. Writes one JUnit test case per check to $XML_OUTPUT_FILE.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, run_suite  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition as CkPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic as CkNewTopic  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402

EDDYD = os.environ["EDDYD"]
NODE_MODULES = os.environ.get("KAFKAJS_NODE_MODULES", "")


def kafka_python_read(cluster, topic, partitions, timeout_s=60):
    """Every record of `topic` from the beginning up to the end offsets as first listed (or what
    arrived within `timeout_s`: CI's machine is busy, so no short idle timeout decides)."""
    consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap(), consumer_timeout_ms=1000,
                             auto_offset_reset="earliest", enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning()
    ends = consumer.end_offsets(tps)
    records = []
    deadline = time.time() + timeout_s
    while len(records) < sum(ends.values()) and time.time() < deadline:
        records += [(m.partition, m.offset, m.key, m.value) for m in consumer]
    consumer.close()
    return records, ends


class RealClientsTest(unittest.TestCase):
    def test_kcat_produces_and_consumes_an_auto_created_topic(self):
        lines = "".join("key%d:value%d\n" % (i, i) for i in range(200))
        subprocess.run(["kcat", "-b", self.cluster.bootstrap(), "-P", "-t", "kcat-topic", "-K:",
                        "-X", "request.required.acks=-1", "-X", "message.send.max.retries=20"],
                       input=lines.encode(), check=True, timeout=60)
        out = subprocess.run(["kcat", "-b", self.cluster.bootstrap(), "-C", "-t", "kcat-topic", "-e",
                              "-o", "beginning", "-q", "-f", "%k=%s\n"],
                             capture_output=True, check=True, timeout=60).stdout.decode()
        self.assertEqual(sorted(out.split()), sorted("key%d=value%d" % (i, i) for i in range(200)))
        meta = json.loads(subprocess.run(["kcat", "-b", self.cluster.bootstrap(), "-L", "-J"],
                                         capture_output=True, check=True, timeout=30).stdout)
        self.assertEqual(sorted(b["id"] for b in meta["brokers"]), self.cluster.ids)
        topic = [t for t in meta["topics"] if t["topic"] == "kcat-topic"][0]
        self.assertEqual(len(topic["partitions"][0]["replicas"]), 3)

    def test_kafka_python_admin_produce_consume_offsets(self):
        admin = KafkaAdminClient(bootstrap_servers=self.cluster.bootstrap())
        admin.create_topics([NewTopic("kp-topic", 3, 3)])
        self.assertIn("kp-topic", admin.list_topics())
        producer = KafkaProducer(bootstrap_servers=self.cluster.bootstrap(), acks="all", retries=10)
        before_ms = int(time.time() * 1000) - 1000
        futures = [producer.send("kp-topic", key=b"k%d" % i, value=b"v%d" % i) for i in range(300)]
        producer.flush()
        acked = [f.get(timeout=30) for f in futures]
        records, ends = kafka_python_read(self.cluster, "kp-topic", 3)
        self.assertEqual(len(records), 300)
        self.assertEqual(sum(ends.values()), 300)
        # Every acknowledged (partition, offset) holds the value that was sent there.
        got = {(p, o): v for p, o, _, v in records}
        for i, meta in enumerate(acked):
            self.assertEqual(got[(meta.partition, meta.offset)], b"v%d" % i)
        # Same key, same partition.
        by_key = {}
        for p, _, k, _ in records:
            by_key.setdefault(k, set()).add(p)
        self.assertTrue(all(len(ps) == 1 for ps in by_key.values()))
        consumer = KafkaConsumer(bootstrap_servers=self.cluster.bootstrap())
        found = consumer.offsets_for_times({TopicPartition("kp-topic", 0): before_ms})
        self.assertEqual(found[TopicPartition("kp-topic", 0)].offset, 0)
        future = consumer.offsets_for_times(
            {TopicPartition("kp-topic", 0): int(time.time() * 1000) + 3600_000})
        self.assertIsNone(future[TopicPartition("kp-topic", 0)])
        consumer.close()
        # Configs with their sources: the broker's log.retention.ms, the defaults elsewhere.
        from kafka.admin import ConfigResource, ConfigResourceType
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-topic")])
        entries = {e[0]: (e[1], e[3]) for e in described[0].resources[0][4]}
        self.assertEqual(entries["retention.ms"][0], "86400000")
        self.assertEqual(entries["segment.bytes"][0], "1073741824")
        admin.delete_topics(["kp-topic"])
        deadline = time.time() + 30
        while "kp-topic" in admin.list_topics() and time.time() < deadline:
            time.sleep(0.2)
        self.assertNotIn("kp-topic", admin.list_topics())
        admin.close()

    def test_confluent_kafka_admin_produce_consume(self):
        admin = AdminClient({"bootstrap.servers": self.cluster.bootstrap()})
        for future in admin.create_topics([CkNewTopic("ck-topic", 2, 3)]).values():
            future.result(30)
        delivered = []
        producer = Producer({"bootstrap.servers": self.cluster.bootstrap(), "acks": "all"})
        for i in range(200):
            producer.produce("ck-topic", key=b"k%d" % i, value=b"v%d" % i,
                             on_delivery=lambda e, m: delivered.append((e, m.partition(),
                                                                        m.offset())))
        self.assertEqual(producer.flush(30), 0)
        self.assertEqual([d for d in delivered if d[0] is not None], [])
        consumer = Consumer({"bootstrap.servers": self.cluster.bootstrap(), "group.id": "unused",
                             "enable.auto.commit": False})
        consumer.assign([CkPartition("ck-topic", 0, 0), CkPartition("ck-topic", 1, 0)])
        seen = set()
        deadline = time.time() + 30
        while len(seen) < 200 and time.time() < deadline:
            m = consumer.poll(0.5)
            if m is not None and m.error() is None:
                seen.add((m.partition(), m.offset()))
        self.assertEqual(seen, {(p, o) for _, p, o in delivered})
        high = sum(consumer.get_watermark_offsets(CkPartition("ck-topic", p), timeout=10)[1]
                   for p in (0, 1))
        self.assertEqual(high, 200)
        consumer.close()

    def test_kafkajs_admin_and_producer(self):
        self.assertTrue(os.path.isdir(NODE_MODULES), "kafkajs is not installed: run tools/setup.sh")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kafkajs_check.js")
        out = subprocess.run(["node", script, self.cluster.bootstrap(), "kj-topic"],
                             env=dict(os.environ, NODE_PATH=NODE_MODULES),
                             capture_output=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr.decode()[-2000:])
        seen = json.loads(out.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(seen, {"created": True, "errors": 0, "high": 100, "partitions": 2,
                                "leaders": 2})

    def test_y_idempotent_librdkafka_writes_once_in_order_across_a_sigkill(self):
        admin = AdminClient({"bootstrap.servers": self.cluster.bootstrap()})
        for future in admin.create_topics([CkNewTopic("idem-topic", 2, 3)]).values():
            future.result(30)
        delivered = []
        producer = Producer({"bootstrap.servers": self.cluster.bootstrap(),
                             "enable.idempotence": True, "linger.ms": 2,
                             "message.timeout.ms": 120000})
        for i in range(3000):
            producer.produce("idem-topic", key=b"k%d" % (i % 7), value=b"%d" % i,
                             on_delivery=lambda e, m: delivered.append(
                                 (e, m.partition(), m.offset(), m.value())))
            producer.poll(0)
            if i == 1000:
                self.cluster.stop(3, signal.SIGKILL)  # in flight: retries meet the new leaders
            if i == 2000:
                self.cluster.start(3)
        self.assertEqual(producer.flush(120), 0)
        self.assertEqual([d for d in delivered if d[0] is not None], [])
        self.assertEqual(len(delivered), 3000)
        consumer = Consumer({"bootstrap.servers": self.cluster.bootstrap(), "group.id": "unused",
                             "enable.auto.commit": False})
        consumer.assign([CkPartition("idem-topic", p, 0) for p in (0, 1)])
        read = {0: [], 1: []}
        deadline = time.time() + 60
        while sum(map(len, read.values())) < 3000 and time.time() < deadline:
            m = consumer.poll(0.5)
            if m is not None and m.error() is None:
                read[m.partition()].append((m.offset(), int(m.value())))
        consumer.close()
        # Exactly once: every value read once, at the offset its delivery report gave; and in
        # the order it was produced, within each partition.
        values = [v for p in read.values() for _, v in p]
        self.assertEqual(sorted(values), list(range(3000)))
        self.assertEqual({(p, o) for p in read for o, _ in read[p]},
                         {(p, o) for _, p, o, _ in delivered})
        for p in read:
            self.assertEqual([v for _, v in read[p]], sorted(v for _, v in read[p]))

    def test_z_acknowledged_records_survive_sigkill_and_full_restart(self):
        producer = KafkaProducer(bootstrap_servers=self.cluster.bootstrap(), acks="all", retries=50,
                                 retry_backoff_ms=200, request_timeout_ms=5000,
                                 max_in_flight_requests_per_connection=1)
        admin = KafkaAdminClient(bootstrap_servers=self.cluster.bootstrap())
        admin.create_topics([NewTopic("crash-topic", 3, 3)])
        admin.close()
        acked = {}
        futures = []
        for i in range(600):
            futures.append((i, producer.send("crash-topic", key=b"k%d" % i, value=b"v%d" % i)))
            if i == 200:
                producer.flush()
                self.cluster.stop(2, signal.SIGKILL)
            if i == 400:
                producer.flush()
                self.cluster.start(2)
        producer.flush(60)
        for i, f in futures:
            try:
                m = f.get(timeout=60)
                acked[(m.partition, m.offset)] = b"v%d" % i
            except Exception:  # not acknowledged: may or may not be there
                pass
        producer.close()
        self.assertGreater(len(acked), 500)
        # SIGTERM: the first broker to stop hands its leaderships over (the others are up).
        for n, i in enumerate(list(self.cluster.procs)):
            self.assertEqual(self.cluster.stop(i), 0)
            if n == 0:
                with open(self.cluster.log_path(i)) as f:
                    self.assertIn('event="leadership handed over" still_leading=0', f.read())
        self.cluster.start_all()
        records, _ = kafka_python_read(self.cluster, "crash-topic", 3)
        got = {(p, o): v for p, o, _, v in records}
        missing = [k for k, v in acked.items() if got.get(k) != v]
        self.assertEqual(missing, [])


if __name__ == "__main__":
    run_suite(RealClientsTest, lambda root: Cluster(EDDYD, root))
