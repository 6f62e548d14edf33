import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { kafkaBrokers, uniqueName, waitFor } from '@shop/testing';
import { createKafka } from './kafka';

/**
 * The real broker, through kafkajs: what is produced is consumed, and a
 * consumer group that stops and starts again resumes at its committed offset.
 */
describe('kafka (real broker)', () => {
  let kafka: Kafka;
  let topic: string;

  beforeAll(async () => {
    kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'messaging-int' });
    topic = uniqueName('roundtrip');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
  });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  async function produce(values: string[]): Promise<void> {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: value, value })) });
    await producer.disconnect();
  }

  /** Starts a group member that records every value and commits after each one. */
  async function consume(groupId: string, seen: string[]): Promise<Consumer> {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic: from, partition, message }: EachMessagePayload) => {
        seen.push(message.value?.toString() ?? '');
        await consumer.commitOffsets([{ topic: from, partition, offset: String(Number(message.offset) + 1) }]);
      },
    });
    return consumer;
  }

  it('delivers every produced message to a consumer', async () => {
    const sent = Array.from({ length: 30 }, (_, i) => `m-${i}`);
    await produce(sent);
    const seen: string[] = [];
    const consumer = await consume(uniqueName('group'), seen);
    try {
      await waitFor('all 30 messages', () => seen.length >= sent.length, { timeoutMs: 30_000 });
      expect([...seen].sort()).toEqual([...sent].sort());
    } finally {
      await consumer.disconnect();
    }
  });

  it('resumes a stopped consumer group at its committed offset, missing nothing', async () => {
    const groupId = uniqueName('resume');
    const before = Array.from({ length: 10 }, (_, i) => `before-${i}`);
    const after = Array.from({ length: 10 }, (_, i) => `after-${i}`);

    const seenFirst: string[] = [];
    const first = await consume(groupId, seenFirst);
    // The group starts at the beginning of the topic, which already holds the first test's messages.
    await produce(before);
    await waitFor('the first batch', () => before.every((value) => seenFirst.includes(value)), { timeoutMs: 30_000 });
    await first.disconnect();

    await produce(after);
    const seenSecond: string[] = [];
    const second = await consume(groupId, seenSecond);
    try {
      await waitFor('the second batch', () => after.every((value) => seenSecond.includes(value)), {
        timeoutMs: 30_000,
      });
      // Nothing committed before the stop is delivered again, and nothing produced while stopped is missed.
      expect([...seenSecond].sort()).toEqual([...after].sort());
    } finally {
      await second.disconnect();
    }
  });
});
