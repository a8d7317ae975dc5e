"""kafka-python against the capture listener: producer, group consumer, manual consumer, admin.

Usage: [KAFKA_PYTHON_API_VERSION=0.10.0] /usr/bin/python3 drive_kafka_python.py HOST:PORT (the
variable fixes the broker version instead of probing it, hence the request versions). Every call has a short timeout; a step
that fails is reported and the next one runs. capture_all.py bounds the whole run.
"""

import os
import sys
import traceback

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ConfigResource,
                         ConfigResourceType, NewPartitions, NewTopic, ResourcePattern,
                         ResourcePatternFilter, ResourceType)
from kafka.admin.acl_resource import ACLResourcePatternType

BOOTSTRAP = sys.argv[1]
TOPIC = "eddy-kp"
GROUP = "eddy-kp-group"
COMMON = dict(bootstrap_servers=BOOTSTRAP, request_timeout_ms=6000,
              api_version_auto_timeout_ms=5000, client_id="eddy-kafka-python")
if os.environ.get("KAFKA_PYTHON_API_VERSION"):
    COMMON["api_version"] = tuple(int(x) for x in os.environ["KAFKA_PYTHON_API_VERSION"].split("."))


def step(name, fn):
    print("+", name, flush=True)
    try:
        result = fn()
        print("  ->", repr(result)[:300], flush=True)
    except Exception:  # noqa: BLE001 - a failed step must not stop the others
        traceback.print_exc()


def produce():
    p = KafkaProducer(acks="all", max_block_ms=5000, linger_ms=5, **COMMON)
    for i in range(3):
        headers = [("h", b"%d" % i)] if COMMON.get("api_version", (2,)) >= (0, 11) else None
        p.send(TOPIC, key=b"k%d" % i, value=b"v%d" % i, headers=headers)
    p.send(TOPIC, value=b"no-key", partition=1)
    p.flush(timeout=5)
    p.close(timeout=5)


def consume_group():
    c = KafkaConsumer(TOPIC, group_id=GROUP, auto_offset_reset="earliest",
                      consumer_timeout_ms=4000, auto_commit_interval_ms=500,
                      session_timeout_ms=6000, heartbeat_interval_ms=300,
                      fetch_max_wait_ms=100, **dict(COMMON, request_timeout_ms=8000))
    seen = 0
    for _ in c:
        seen += 1
        if seen >= 9:
            break
    c.poll(timeout_ms=1500)  # long enough for the heartbeat thread to send a Heartbeat
    c.commit()
    c.close()
    return seen


def consume_manual():
    c = KafkaConsumer(consumer_timeout_ms=2000, fetch_max_wait_ms=100, **COMMON)
    tps = [TopicPartition(TOPIC, p) for p in range(3)]
    c.assign(tps)
    out = (c.beginning_offsets(tps), c.end_offsets(tps),
           c.offsets_for_times({tps[0]: 1700000000000}))
    c.seek_to_beginning()
    records = c.poll(timeout_ms=2000, max_records=5)
    c.close()
    return out, sum(len(v) for v in records.values())


def admin():
    a = KafkaAdminClient(**COMMON)
    topic_resource = ConfigResource(ConfigResourceType.TOPIC, TOPIC)
    acl = ACL(principal="User:eddy", host="*", operation=ACLOperation.READ,
              permission_type=ACLPermissionType.ALLOW,
              resource_pattern=ResourcePattern(ResourceType.TOPIC, TOPIC,
                                               ACLResourcePatternType.LITERAL))
    acl_filter = ACLFilter(principal=None, host="*", operation=ACLOperation.ANY,
                           permission_type=ACLPermissionType.ANY,
                           resource_pattern=ResourcePatternFilter(
                               ResourceType.TOPIC, TOPIC, ACLResourcePatternType.LITERAL))
    steps = [
        ("create_topics", lambda: a.create_topics(
            [NewTopic("eddy-kp-new", 2, 1, topic_configs={"retention.ms": "60000"})],
            timeout_ms=3000)),
        ("create_partitions", lambda: a.create_partitions(
            {"eddy-kp-new": NewPartitions(4)}, timeout_ms=3000)),
        ("list_topics", a.list_topics),
        ("describe_topics", lambda: a.describe_topics([TOPIC])),
        ("describe_cluster", a.describe_cluster),
        ("describe_configs", lambda: a.describe_configs(
            [topic_resource, ConfigResource(ConfigResourceType.BROKER, "1")])),
        ("alter_configs", lambda: a.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, TOPIC,
                            configs={"retention.ms": "120000"})])),
        ("list_consumer_groups", a.list_consumer_groups),
        ("describe_consumer_groups", lambda: a.describe_consumer_groups([GROUP])),
        ("list_consumer_group_offsets", lambda: a.list_consumer_group_offsets(GROUP)),
        ("create_acls", lambda: a.create_acls([acl])),
        ("describe_acls", lambda: a.describe_acls(acl_filter)),
        ("delete_acls", lambda: a.delete_acls([acl_filter])),
        ("delete_consumer_groups", lambda: a.delete_consumer_groups([GROUP])),
        ("delete_topics", lambda: a.delete_topics(["eddy-kp-new"], timeout_ms=3000)),
    ]
    for name, fn in steps:
        step("admin." + name, fn)
    a.close()


step("producer", produce)
step("consumer with group", consume_group)
step("consumer with assign", consume_manual)
step("admin", admin)
