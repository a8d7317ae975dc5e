// kafkajs against an Eddy cluster: create a topic (broker defaults), produce keyed records with
// acks=all (plain, then idempotent), read the offsets back, describe the topic. Prints one JSON
// line with what it saw.
const { Kafka, logLevel } = require('kafkajs');

(async () => {
  const [brokers, topic] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'eddy-real-test', brokers: brokers.split(','),
                            logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }],
                                             waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: 50 }, (_, i) => ({ key: 'k' + i, value: 'v' + i }));
  const sent = await producer.send({ topic, acks: -1, messages });
  const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await idempotent.connect();
  const again = await idempotent.send({ topic, acks: -1, messages });
  await idempotent.disconnect();
  const offsets = await admin.fetchTopicOffsets(topic);
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  await producer.disconnect();
  await admin.disconnect();
  console.log(JSON.stringify({
    created,
    errors: sent.concat(again).filter((r) => r.errorCode !== 0).length,
    high: offsets.reduce((n, o) => n + Number(o.high), 0),
    partitions: metadata.topics[0].partitions.length,
    leaders: metadata.topics[0].partitions.filter((p) => p.leader > 0).length,
  }));
})().catch((e) => { console.error('kafkajs failed:', e); process.exit(1); });
