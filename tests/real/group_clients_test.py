"""Consumer groups with real Kafka clients against a 3-node eddyd cluster on loopback:
kafka-python's and librdkafka's (confluent-kafka, kcat -G) group consumers and kafkajs's share
a topic's partitions, commit, and resume from their commits; the admin APIs list, describe and
delete groups; and a group keeps its committed offsets and goes on consuming when the broker
coordinating it is SIGKILLed.

Run by Bazel (group_clients_test.sh) with /usr/bin/python3. One JUnit case per check.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, run_suite  # noqa: E402

from confluent_kafka import Consumer, TopicPartition as CkPartition  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402

EDDYD = os.environ["EDDYD"]
NODE_MODULES = os.environ.get("KAFKAJS_NODE_MODULES", "")
OFFSETS_PARTITIONS = 50  # Kafka's default offsets.topic.num.partitions, left as it is


def java_hash(text):
    """Java's String.hashCode (ASCII ids): how Kafka and Eddy pick a group's partition."""
    h = 0
    for ch in text.encode("utf-16-be").decode("utf-16-be"):
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def coordinator_of(cluster, group):
    partition = abs(java_hash(group)) % OFFSETS_PARTITIONS
    meta = json.loads(subprocess.run(["kcat", "-b", cluster.bootstrap(), "-L", "-J",
                                      "-t", "__consumer_offsets"],
                                     capture_output=True, check=True, timeout=30).stdout)
    topic = meta["topics"][0]
    return [p for p in topic["partitions"] if p["partition"] == partition][0]["leader"]


def produce(cluster, topic, count, start=0):
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap(), acks="all", retries=20)
    for i in range(start, start + count):
        producer.send(topic, key=b"k%d" % i, value=b"v%d" % i)
    producer.flush()
    producer.close()


class GroupClientsTest(unittest.TestCase):
    def test_kafka_python_members_split_partitions_commit_and_resume(self):
        admin = KafkaAdminClient(bootstrap_servers=self.cluster.bootstrap())
        admin.create_topics([NewTopic("kp-group-topic", 4, 3)])
        produce(self.cluster, "kp-group-topic", 400)
        # Each member polls on its own thread, as applications run them: a member blocked in
        # a join would otherwise keep the other from rejoining (with any Kafka broker).
        members = [KafkaConsumer("kp-group-topic", bootstrap_servers=self.cluster.bootstrap(),
                                 group_id="kp-group", auto_offset_reset="earliest",
                                 enable_auto_commit=False, session_timeout_ms=10000,
                                 heartbeat_interval_ms=500, consumer_timeout_ms=500)
                   for _ in range(2)]
        seen = {}
        lock = threading.Lock()
        deadline = time.time() + 90

        def run(member):
            while time.time() < deadline:
                with lock:
                    if len(seen) >= 400:
                        break
                for record in member:
                    with lock:
                        seen[record.value] = seen.get(record.value, 0) + 1
                member.commit()

        threads = [threading.Thread(target=run, args=(m,)) for m in members]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(seen), 400)
        # Both keep polling until both hold partitions (the second join may come late).
        while time.time() < deadline and not all(m.assignment() for m in members):
            for m in members:
                m.poll(200)
        assignments = [m.assignment() for m in members]
        self.assertTrue(all(assignments), assignments)
        self.assertEqual(set().union(*assignments), {TopicPartition("kp-group-topic", p)
                                                     for p in range(4)})
        self.assertFalse(assignments[0] & assignments[1])
        groups = dict(admin.list_consumer_groups())
        self.assertEqual(groups.get("kp-group"), "consumer")
        described = admin.describe_consumer_groups(["kp-group"])[0]
        self.assertEqual(described.state, "Stable")
        self.assertEqual(len(described.members), 2)
        for m in members:
            m.close()
        offsets = admin.list_consumer_group_offsets("kp-group")
        self.assertEqual(sum(o.offset for o in offsets.values()), 400)
        produce(self.cluster, "kp-group-topic", 50, start=400)
        again = KafkaConsumer("kp-group-topic", bootstrap_servers=self.cluster.bootstrap(),
                              group_id="kp-group", auto_offset_reset="earliest",
                              consumer_timeout_ms=2000)
        resumed = []
        deadline = time.time() + 60
        while len(resumed) < 50 and time.time() < deadline:
            resumed += [r.value for r in again]
        again.close()
        self.assertEqual(sorted(resumed), sorted(b"v%d" % i for i in range(400, 450)))
        self.assertEqual(admin.delete_consumer_groups(["kp-group"])[0][1].errno, 0)
        admin.close()

    def test_kcat_balanced_consumer_commits(self):
        lines = "".join("v%d\n" % i for i in range(100))
        subprocess.run(["kcat", "-b", self.cluster.bootstrap(), "-P", "-t", "kcat-group-topic",
                        "-X", "request.required.acks=-1"],
                       input=lines.encode(), check=True, timeout=60)
        out = subprocess.run(["kcat", "-b", self.cluster.bootstrap(), "-G", "kcat-group",
                              "kcat-group-topic", "-o", "beginning", "-e", "-q", "-f", "%s\n"],
                             capture_output=True, check=True, timeout=90).stdout.decode()
        self.assertEqual(sorted(out.split()), sorted("v%d" % i for i in range(100)))
        admin = KafkaAdminClient(bootstrap_servers=self.cluster.bootstrap())
        offsets = admin.list_consumer_group_offsets("kcat-group")
        admin.close()
        self.assertEqual(sum(o.offset for o in offsets.values()), 100)

    def test_kafkajs_consumer_group(self):
        self.assertTrue(os.path.isdir(NODE_MODULES), "kafkajs is not installed: run tools/setup.sh")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kafkajs_group_check.js")
        out = subprocess.run(["node", script, self.cluster.bootstrap(), "kj-group-topic",
                              "kj-group"],
                             env=dict(os.environ, NODE_PATH=NODE_MODULES),
                             capture_output=True, timeout=150)
        self.assertEqual(out.returncode, 0, out.stderr.decode()[-2000:])
        seen = json.loads(out.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(seen, {"distinct": 200, "committed": 200, "listed": True,
                                "state": "Stable", "members": 2, "deleted": 0})

    def test_librdkafka_cooperative_sticky_and_a_static_member_restart(self):
        admin = KafkaAdminClient(bootstrap_servers=self.cluster.bootstrap())
        admin.create_topics([NewTopic("coop-topic", 4, 3)])
        admin.close()
        produce(self.cluster, "coop-topic", 100)
        events = []

        def member(name, instance=None):
            conf = {"bootstrap.servers": self.cluster.bootstrap(), "group.id": "coop-group",
                    "auto.offset.reset": "earliest", "session.timeout.ms": 10000,
                    "partition.assignment.strategy": "cooperative-sticky"}
            if instance:
                conf["group.instance.id"] = instance
            c = Consumer(conf)
            c.subscribe(["coop-topic"],
                        on_assign=lambda _, ps: events.append((name, "assign", len(ps))),
                        on_revoke=lambda _, ps: events.append((name, "revoke", len(ps))))
            return c

        static, dynamic = member("static", "coop-static-1"), member("dynamic")
        seen = set()
        deadline = time.time() + 60
        while time.time() < deadline and (len(seen) < 100 or not static.assignment()
                                           or not dynamic.assignment()):
            for c in (static, dynamic):
                m = c.poll(0.1)
                if m is not None and m.error() is None:
                    seen.add(m.value())
        self.assertEqual(len(seen), 100)
        before = sorted(p.partition for p in static.assignment())
        self.assertEqual(len(before) + len(dynamic.assignment()), 4)
        # The static member restarts under its instance id: it gets its partitions back and
        # the other member keeps its own without being revoked (no rebalance).
        static.close()
        revokes_before = [e for e in events if e[0] == "dynamic" and e[1] == "revoke"]
        static = member("static-again", "coop-static-1")
        deadline = time.time() + 30
        while time.time() < deadline and not static.assignment():
            for c in (static, dynamic):
                c.poll(0.1)
        self.assertEqual(sorted(p.partition for p in static.assignment()), before)
        self.assertEqual([e for e in events if e[0] == "dynamic" and e[1] == "revoke"],
                         revokes_before)
        static.close()
        dynamic.close()

    def test_z_librdkafka_group_survives_its_coordinators_sigkill(self):
        produce(self.cluster, "ck-group-topic", 300)
        consumer = Consumer({"bootstrap.servers": self.cluster.bootstrap(),
                             "group.id": "ck-group", "auto.offset.reset": "earliest",
                             "enable.auto.commit": False, "session.timeout.ms": 10000})
        consumer.subscribe(["ck-group-topic"])

        def consume(n, values, timeout_s=90):
            deadline = time.time() + timeout_s
            while len(values) < n and time.time() < deadline:
                m = consumer.poll(0.5)
                if m is None or m.error() is not None:
                    continue
                values.add(m.value())
                consumer.commit(m, asynchronous=False)

        values = set()
        consume(150, values)
        self.assertGreaterEqual(len(values), 150)
        victim = coordinator_of(self.cluster, "ck-group")
        self.cluster.stop(victim, signal.SIGKILL)
        produce(self.cluster, "ck-group-topic", 100, start=300)
        consume(400, values)
        self.assertEqual(values, {b"v%d" % i for i in range(400)})
        committed = consumer.committed([CkPartition("ck-group-topic", 0)], timeout=30)
        consumer.close()
        self.assertEqual(committed[0].offset, 400)
        self.cluster.start(victim)
        self.cluster.wait_ready([victim])


if __name__ == "__main__":
    run_suite(GroupClientsTest, lambda root: Cluster(EDDYD, root))
