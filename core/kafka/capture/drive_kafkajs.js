// kafkajs against the capture listener: producers (plain, idempotent, transactional with offsets),
// a group consumer, the admin client, and a SASL/PLAIN connection.
// Usage: node drive_kafkajs.js HOST:PORT. Every step has a short timeout; a failed step is
// reported and the next one runs; the process exits by itself after EXIT_AFTER_MS at the latest.
'use strict'
const {
  Kafka, logLevel, ConfigResourceTypes, AclResourceTypes, AclOperationTypes, AclPermissionTypes,
  ResourcePatternTypes,
} = require('kafkajs')

const EXIT_AFTER_MS = 75000
const STEP_TIME_MS_MAX = 12000
setTimeout(() => { console.log('driver: time is up'); process.exit(2) }, EXIT_AFTER_MS).unref()

const bootstrap = process.argv[2]
const topic = 'eddy-kjs'
const groupId = 'eddy-kjs-group'
const options = {
  clientId: 'eddy-kafkajs',
  brokers: [bootstrap],
  connectionTimeout: 3000,
  requestTimeout: 5000,
  retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
  logLevel: logLevel.WARN,
}
const kafka = new Kafka(options)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function step(name, fn) {
  console.log('+', name)
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('step timed out')), STEP_TIME_MS_MAX)
  })
  try {
    const result = await Promise.race([fn(), timeout])
    console.log('  ->', JSON.stringify(result === undefined ? null : result).slice(0, 300))
  } catch (e) {
    console.log('  !!', e.message)
  } finally {
    clearTimeout(timer)
  }
}

const messages = [
  { key: 'k0', value: 'v0', headers: { h: '0' } },
  { key: 'k1', value: 'v1', headers: { h: '1' } },
  { value: 'no-key', partition: 1 },
]

async function produce(config, acks) {
  const producer = kafka.producer(config)
  await producer.connect()
  try {
    return await producer.send({ topic, messages, acks })
  } finally {
    await producer.disconnect()
  }
}

async function consume() {
  const consumer = kafka.consumer({
    groupId, sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 100,
  })
  await consumer.connect()
  let seen = 0
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({ autoCommitInterval: 300, eachMessage: async () => { seen += 1 } })
    for (let i = 0; i < 40 && seen < 9; i++) await sleep(200)
    await sleep(1500) // heartbeats and an interval commit
  } finally {
    await consumer.disconnect()
  }
  return seen
}

async function transactional() {
  const producer = kafka.producer({
    transactionalId: 'eddy-kjs-txn', idempotent: true, maxInFlightRequests: 1,
  })
  await producer.connect()
  try {
    const txn = await producer.transaction()
    await txn.send({ topic, messages: [{ key: 'tk', value: 'tv', partition: 0 }] })
    await txn.sendOffsets({
      consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '3' }] }],
    })
    await txn.commit()
  } finally {
    await producer.disconnect()
  }
}

async function admin() {
  const a = kafka.admin()
  await a.connect()
  const created = 'eddy-kjs-new'
  const acl = {
    resourceType: AclResourceTypes.TOPIC, resourceName: topic,
    resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:eddy', host: '*',
    operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW,
  }
  const steps = [
    ['createTopics', () => a.createTopics({
      topics: [{ topic: created, numPartitions: 2, replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '60000' }] }],
      timeout: 3000,
    })],
    ['createPartitions', () => a.createPartitions({
      topicPartitions: [{ topic: created, count: 4 }], timeout: 3000,
    })],
    ['listTopics', () => a.listTopics()],
    ['fetchTopicMetadata', () => a.fetchTopicMetadata({ topics: [topic] })],
    ['describeCluster', () => a.describeCluster()],
    ['fetchTopicOffsets', () => a.fetchTopicOffsets(topic)],
    ['fetchTopicOffsetsByTimestamp', () => a.fetchTopicOffsetsByTimestamp(topic, 1700000000000)],
    ['fetchOffsets', () => a.fetchOffsets({ groupId, topics: [topic] })],
    ['setOffsets', () => a.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] })],
    ['resetOffsets', () => a.resetOffsets({ groupId, topic, earliest: true })],
    ['describeConfigs', () => a.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic },
        { type: ConfigResourceTypes.BROKER, name: '1', configNames: ['log.retention.ms'] }],
      includeSynonyms: false,
    })],
    ['alterConfigs', () => a.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic,
        configEntries: [{ name: 'retention.ms', value: '120000' }] }],
    })],
    ['listGroups', () => a.listGroups()],
    ['describeGroups', () => a.describeGroups([groupId])],
    ['deleteTopicRecords', () => a.deleteTopicRecords({
      topic, partitions: [{ partition: 0, offset: '1' }],
    })],
    ['createAcls', () => a.createAcls({ acl: [acl] })],
    ['describeAcls', () => a.describeAcls({
      resourceType: AclResourceTypes.TOPIC, resourceName: topic,
      resourcePatternType: ResourcePatternTypes.LITERAL, operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    })],
    ['deleteAcls', () => a.deleteAcls({ filters: [acl] })],
    ['alterPartitionReassignments', () => a.alterPartitionReassignments({
      topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [1] }] }], timeout: 3000,
    })],
    ['listPartitionReassignments', () => a.listPartitionReassignments({ timeout: 3000 })],
    ['deleteGroups', () => a.deleteGroups([groupId])],
    ['deleteTopics', () => a.deleteTopics({ topics: [created], timeout: 3000 })],
  ]
  for (const [name, fn] of steps) await step('admin.' + name, fn)
  await a.disconnect()
}

async function sasl() {
  const a = new Kafka({ ...options, clientId: 'eddy-kafkajs-sasl',
    sasl: { mechanism: 'plain', username: 'eddy', password: 'secret' } }).admin()
  await a.connect()
  try {
    return await a.listTopics()
  } finally {
    await a.disconnect()
  }
}

async function main() {
  await step('producer', () => produce({ allowAutoTopicCreation: true }, -1))
  await step('producer acks=1', () => produce({}, 1))
  await step('idempotent producer', () => produce({ idempotent: true, maxInFlightRequests: 1 }, -1))
  await step('consumer with group', consume)
  await step('transactional producer', transactional)
  await step('admin', admin)
  await step('sasl/plain', sasl)
}

main().then(() => process.exit(0), (e) => { console.log('driver:', e); process.exit(1) })
