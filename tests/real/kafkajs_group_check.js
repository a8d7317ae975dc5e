// kafkajs consumer groups against an Eddy cluster: two consumers of one group share a topic's
// partitions and read every record once; the group's committed offsets reach the end; the
// admin lists, describes and (once empty) deletes the group. Prints one JSON line.
const { Kafka, logLevel } = require('kafkajs');

(async () => {
  const [brokers, topic, groupId] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'eddy-group-test', brokers: brokers.split(','),
                            logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: 200 }, (_, i) => ({ key: 'k' + i, value: 'v' + i }));
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
  const seen = new Map();
  const byMember = [new Set(), new Set()];
  const consumers = [0, 1].map(() => kafka.consumer({ groupId, sessionTimeout: 10000,
                                                      heartbeatInterval: 500 }));
  let done;
  const all = new Promise((resolve) => { done = resolve; });
  for (const [i, consumer] of consumers.entries()) {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => {
      byMember[i].add(partition);
      seen.set(message.value.toString(), (seen.get(message.value.toString()) || 0) + 1);
      if (seen.size === 200) done();
    } });
  }
  await Promise.race([all, new Promise((r) => setTimeout(r, 60000))]);
  const described = await admin.describeGroups([groupId]);
  for (const consumer of consumers) await consumer.disconnect();
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const listed = await admin.listGroups();
  const deleted = await admin.deleteGroups([groupId]);
  await admin.disconnect();
  console.log(JSON.stringify({
    distinct: seen.size,
    committed: offsets[0].partitions.reduce((n, p) => n + Number(p.offset), 0),
    listed: listed.groups.some((g) => g.groupId === groupId),
    state: described.groups[0].state,
    members: described.groups[0].members.length,
    deleted: deleted[0].errorCode,
  }));
})().catch((e) => { console.error('kafkajs failed:', e); process.exit(1); });
