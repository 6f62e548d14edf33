import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { createEnvelope, OrderCancelled, type ReceivedEnvelope } from '@shop/contracts';
import { createLogger } from '@shop/observability';
import { kafkaBrokers, uniqueName, waitFor } from '@shop/testing';
import { createConsumer, type MessageConsumer, type MessageContext } from './consumer';
import { main } from './dlq-cli';
import { deadLetterTopic } from './dead-letter';
import { inspectDlq, redriveDlq } from './dlq';
import { PermanentError } from './errors';
import { createKafka } from './kafka';
import { createProducer } from './producer';
import { ensureTopics } from './topics';

/** Dead letters are inspected without being consumed, and redriven once to a fixed handler. */
describe('DLQ tooling (real broker)', () => {
  const logger = createLogger({ service: 'messaging-int', level: 'silent' });
  let kafka: Kafka;
  let admin: Admin;
  let topic: string;

  beforeAll(async () => {
    kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'messaging-dlq-int' });
    admin = kafka.admin();
    await admin.connect();
    topic = uniqueName('dlq');
    await ensureTopics(admin, [{ name: topic, partitions: 3 }]);
  });

  afterAll(async () => {
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics({ topics: [topic, deadLetterTopic(topic)].filter((name) => existing.has(name)) });
    await admin.disconnect();
  });

  it('ensureTopics is idempotent: an existing topic is left alone', async () => {
    expect(await ensureTopics(admin, [{ name: topic, partitions: 3 }])).toEqual([]);
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    expect(metadata?.partitions).toHaveLength(3);
  });

  it('redrive puts a dead letter back on its topic, once, and a fixed handler handles it', async () => {
    const groupId = uniqueName('group');
    const orderId = randomUUID();
    const message = createEnvelope(
      OrderCancelled,
      { orderId, reason: 'CANCELLED_BY_CUSTOMER' },
      {
        correlationId: orderId,
        causationId: 'int-test',
        trace: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
      },
    );
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send(topic, [message]);
    await producer.disconnect();

    const consume = async (handler: (envelope: ReceivedEnvelope, context: MessageContext) => Promise<void>) => {
      const consumer = createConsumer({ kafka, groupId, topics: [topic], handler, logger, sessionTimeoutMs: 10_000 });
      await consumer.start();
      return consumer;
    };

    // A handler with a bug that rejects the message for good.
    const buggy: MessageConsumer = await consume(async () => {
      throw new PermanentError('bug: cancellation not supported');
    });
    try {
      await waitFor('the dead letter', async () => (await inspectDlq(kafka, topic)).length === 1 || undefined, {
        timeoutMs: 20_000,
      });
    } finally {
      await buggy.stop();
    }
    // Inspecting consumed nothing: the dead letter is still there.
    const [deadLetter] = await inspectDlq(kafka, topic, { limit: 5 });
    expect(deadLetter).toMatchObject({ reason: 'permanent-error', originalTopic: topic, key: orderId });

    const { redriven } = await redriveDlq(kafka, topic);
    expect(redriven.map((entry) => entry.dlqOffset)).toEqual([deadLetter?.dlqOffset]);
    // Recorded: a second redrive finds nothing new to put back.
    expect((await redriveDlq(kafka, topic)).redriven).toEqual([]);

    const handled: { envelope: ReceivedEnvelope; context: MessageContext }[] = [];
    const fixed = await consume(async (envelope, context) => {
      handled.push({ envelope, context });
    });
    try {
      await waitFor('the redriven message', () => handled.length === 1, { timeoutMs: 20_000 });
      const [redelivered] = handled;
      expect(redelivered?.envelope.id).toBe((JSON.parse(message.value) as { id: string }).id);
      expect(redelivered?.envelope.trace?.traceparent).toBe(message.headers['traceparent']);
      expect(redelivered?.context.headers['redriven-from']).toBe(
        `${deadLetterTopic(topic)}/0/${deadLetter?.dlqOffset}`,
      );
      expect(Object.keys(redelivered?.context.headers ?? {}).filter((name) => name.startsWith('dlq-'))).toEqual([]);
    } finally {
      await fixed.stop();
    }
  });
});

describe('dlq CLI (real broker)', () => {
  it('inspects and redrives the dead letters of a contract topic of a stack', async () => {
    const stackId = uniqueName('cli').replace(/[^a-z0-9]/g, '');
    const name = 'order.events';
    const topic = `${stackId}.${name}`;
    const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'messaging-dlq-cli-int' });
    const admin = kafka.admin();
    await admin.connect();
    const producer = createProducer(kafka);
    const output: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
    try {
      await ensureTopics(admin, [
        { name: topic, partitions: 1 },
        { name: deadLetterTopic(topic), partitions: 1 },
      ]);
      await producer.connect();
      await producer.send(deadLetterTopic(topic), [
        {
          key: 'k',
          value: 'not json',
          headers: { 'dlq-reason': 'not-json', 'dlq-original-topic': topic, 'dlq-original-offset': '7' },
        },
      ]);
      const env = { STACK_ID: stackId, KAFKA_BROKERS: kafkaBrokers().join(',') };

      expect(await main(['inspect', name], env)).toBe(0);
      expect(output.join('')).toContain(`1 dead letter(s) in ${topic}.dlq`);
      expect(JSON.parse(output[0] ?? '{}')).toMatchObject({
        reason: 'not-json',
        originalOffset: '7',
        value: 'not json',
      });

      output.length = 0;
      expect(await main(['redrive', name, '--limit', '10'], env)).toBe(0);
      expect(output.join('')).toContain(`redrove 1 message(s) to ${topic}`);
      const [end] = await admin.fetchTopicOffsets(topic);
      expect(end?.high).toBe('1');
    } finally {
      write.mockRestore();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic, deadLetterTopic(topic)] });
      await admin.disconnect();
    }
  });
});
