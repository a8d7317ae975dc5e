"""confluent-kafka-python (librdkafka) against the capture listener.

Producers (plain with keys and headers, acks=0, idempotent, transactional with offsets sent to the
transaction), a group consumer, and the AdminClient. Usage: /usr/bin/python3
drive_confluent_kafka.py HOST:PORT. Every call has a short timeout; a failed step is reported and
the next one runs; capture_all.py bounds the whole run.
"""

import sys
import time
import traceback

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

BOOTSTRAP = sys.argv[1]
TOPIC = "eddy-ck"
GROUP = "eddy-ck-group"
COMMON = {"bootstrap.servers": BOOTSTRAP, "client.id": "eddy-confluent-kafka",
          "socket.timeout.ms": 5000}


def step(name, fn):
    print("+", name, flush=True)
    try:
        result = fn()
        print("  ->", repr(result)[:300], flush=True)
    except Exception:  # noqa: BLE001 - a failed step must not stop the others
        traceback.print_exc()


def produce(extra):
    p = Producer(dict(COMMON, **{"message.timeout.ms": 5000, "linger.ms": 5}, **extra))
    for i in range(3):
        p.produce(TOPIC, key=b"k%d" % i, value=b"v%d" % i, headers=[("h", b"%d" % i)])
    p.produce(TOPIC, value=b"no-key", partition=1)
    return p.flush(5)


def consume():
    c = Consumer(dict(COMMON, **{"group.id": GROUP, "auto.offset.reset": "earliest",
                                 "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                                 "fetch.wait.max.ms": 100, "enable.auto.commit": False}))
    c.subscribe([TOPIC])
    seen = 0
    deadline = time.monotonic() + 10
    while seen < 9 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            seen += 1
    time.sleep(1)
    c.poll(0.5)
    c.commit(asynchronous=False)
    tp = TopicPartition(TOPIC, 0)
    out = (seen, c.committed([tp], timeout=5), c.get_watermark_offsets(tp, timeout=5),
           c.offsets_for_times([TopicPartition(TOPIC, 1, 1700000000000)], timeout=5))
    transactional(c)
    c.close()
    return out


def transactional(consumer):
    p = Producer(dict(COMMON, **{"transactional.id": "eddy-ck-txn", "message.timeout.ms": 5000}))
    p.init_transactions(5)
    p.begin_transaction()
    p.produce(TOPIC, key=b"tk", value=b"tv", partition=0)
    p.send_offsets_to_transaction([TopicPartition(TOPIC, 0, 3)],
                                  consumer.consumer_group_metadata(), 5)
    p.commit_transaction(5)


def wait_all(futures):
    return {k: f.result(timeout=10) for k, f in futures.items()}


def admin():
    a = AdminClient(COMMON)
    steps = [
        ("create_topics", lambda: wait_all(a.create_topics(
            [NewTopic("eddy-ck-new", 2, 1, config={"retention.ms": "60000"})],
            operation_timeout=3, request_timeout=5))),
        ("create_partitions", lambda: wait_all(a.create_partitions(
            [NewPartitions("eddy-ck-new", 4)], operation_timeout=3, request_timeout=5))),
        ("describe_configs", lambda: wait_all(a.describe_configs(
            [ConfigResource("topic", TOPIC), ConfigResource("broker", "1")],
            request_timeout=5))),
        ("alter_configs", lambda: wait_all(a.alter_configs(
            [ConfigResource("topic", TOPIC, set_config={"retention.ms": "120000"})],
            request_timeout=5))),
        ("list_topics", lambda: sorted(a.list_topics(timeout=5).topics)),
        ("list_groups", lambda: a.list_groups(timeout=5)),
        ("delete_topics", lambda: wait_all(a.delete_topics(
            ["eddy-ck-new"], operation_timeout=3, request_timeout=5))),
    ]
    for name, fn in steps:
        step("admin." + name, fn)


step("producer", lambda: produce({}))
step("producer acks=0", lambda: produce({"acks": 0}))
step("idempotent producer", lambda: produce({"enable.idempotence": True}))
step("consumer with group, then a transactional producer", consume)
step("admin", admin)
