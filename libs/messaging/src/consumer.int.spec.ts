import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Message } from 'kafkajs';
import { createEnvelope, OrderConfirmed, type ReceivedEnvelope } from '@shop/contracts';
import { createLogger } from '@shop/observability';
import { kafkaBrokers, uniqueName, waitFor } from '@shop/testing';
import {
  type BatchItem,
  createConsumer,
  type ConsumerOptions,
  type MessageConsumer,
  type MessageContext,
} from './consumer';
import { deadLetterTopic } from './dead-letter';
import { inspectDlq } from './dlq';
import { PermanentError, TransientError } from './errors';
import { createKafka } from './kafka';
import { consumerLag, messagesDeadLettered, messagesHandled, messagesPassedOver } from './metrics';
import { createProducer, type MessageProducer } from './producer';
import { ensureTopics } from './topics';

/**
 * The consumer against the real broker: what it commits, retries,
 * dead-letters and drains. Each test has its own topic and group.
 */
describe('createConsumer (real broker)', () => {
  const logger = createLogger({ service: 'messaging-int', level: 'silent' });
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  let kafka: Kafka;
  let admin: Admin;
  let producer: MessageProducer;
  let topic: string;
  let groupId: string;
  const consumers: MessageConsumer[] = [];

  beforeAll(async () => {
    kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'messaging-consumer-int' });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  beforeEach(async () => {
    topic = uniqueName('consumer');
    groupId = uniqueName('group');
    await ensureTopics(admin, [{ name: topic, partitions: 2 }]);
    // One producer per test: kafkajs keeps asking for the metadata of every topic a producer ever
    // sent to, and the previous test's topic is deleted.
    producer = createProducer(kafka);
    await producer.connect();
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
    await producer.disconnect();
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics({ topics: [topic, deadLetterTopic(topic)].filter((name) => existing.has(name)) });
  });

  function orderConfirmed(orderId: string = randomUUID()) {
    return createEnvelope(OrderConfirmed, { orderId }, { correlationId: orderId, causationId: 'int-test' });
  }

  async function produce(messages: Message[], partition = 0): Promise<void> {
    await producer.send(
      topic,
      messages.map((message) => ({ ...message, partition })),
    );
  }

  async function start(
    handler: ConsumerOptions['handler'],
    options: Partial<ConsumerOptions> = {},
  ): Promise<MessageConsumer> {
    const consumer = createConsumer({
      kafka,
      groupId,
      topics: [topic],
      handler,
      logger,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      sessionTimeoutMs: 10_000,
      ...options,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  }

  /** The group's committed offset of a partition (-1: nothing committed). */
  async function committed(partition = 0): Promise<number> {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Number(offsets?.partitions.find((entry) => entry.partition === partition)?.offset ?? -1);
  }

  async function dlqSize(): Promise<number> {
    const ends = await admin.fetchTopicOffsets(deadLetterTopic(topic));
    return ends.reduce((sum, end) => sum + Number(end.high) - Number(end.low), 0);
  }

  async function metricValue(
    metric: typeof consumerLag | typeof messagesHandled | typeof messagesDeadLettered | typeof messagesPassedOver,
    labels: Record<string, string>,
  ): Promise<number | undefined> {
    const { values } = await metric.get();
    return values.find((value) =>
      Object.entries(labels).every(
        ([name, expected]) => String((value.labels as Record<string, string | number | undefined>)[name]) === expected,
      ),
    )?.value;
  }

  it('is unready until it has joined its group, and again once stopped', async () => {
    const consumer = createConsumer({ kafka, groupId, topics: [topic], handler: async () => undefined, logger });
    consumers.push(consumer);
    await expect(consumer.readiness.check()).rejects.toThrow(/not yet in its group/);
    await consumer.start();
    // kafkajs may finish joining the group after start() resolved (one CI run saw "not yet in its group" there).
    await waitFor('the consumer in its group', () => consumer.readiness.check().catch(() => undefined), {
      timeoutMs: 30_000,
    });
    await expect(consumer.readiness.check()).resolves.toEqual({ group: groupId, topics: 1 });
    await consumer.stop();
    await expect(consumer.readiness.check()).rejects.toThrow(/is stopped/);
  });

  it('hands the parsed envelope and the message metadata to the handler, then commits', async () => {
    const message = orderConfirmed();
    await producer.send(topic, [{ ...message, headers: { ...message.headers, traceparent } }]);
    const received: { envelope: ReceivedEnvelope; context: MessageContext }[] = [];
    await start(async (envelope, context) => {
      received.push({ envelope, context });
    });

    await waitFor('the message', () => received.length === 1 || undefined, { timeoutMs: 20_000 });
    const [first] = received;
    expect(first?.envelope).toEqual({ ...JSON.parse(message.value), trace: { traceparent } });
    expect(first?.context).toMatchObject({ topic, offset: '0', key: message.key, attempt: 1 });
    expect(first?.context.headers['traceparent']).toBe(traceparent);
    await waitFor('the commit', async () => (await committed(first?.context.partition)) === 1, { timeoutMs: 5_000 });
    await waitFor(
      'the handled counter',
      async () => (await metricValue(messagesHandled, { group: groupId, topic })) === 1,
      {
        timeoutMs: 5_000,
      },
    );
  });

  it('passes over the types it does not handle by their type header, unread, and still reads a message without one', async () => {
    const first = orderConfirmed();
    const last = orderConfirmed();
    // Bodies no reader could parse: passed over by the header, or dead-lettered when read.
    await produce([
      first,
      { key: 'sku-1', value: 'not json', headers: { type: 'StockLevelChanged' } },
      { key: 'sku-2', value: 'not json either' },
      last,
    ]);
    const received: string[] = [];
    await start(
      async (envelope) => {
        received.push(envelope.id);
      },
      { handledTypes: new Set(['OrderConfirmed']) },
    );

    await waitFor('the commit past all four', async () => (await committed()) === 4 || undefined, {
      timeoutMs: 20_000,
    });
    expect(received).toEqual([first, last].map((message) => (JSON.parse(message.value) as { id: string }).id));
    expect(await dlqSize()).toBe(1);
    expect(await metricValue(messagesPassedOver, { group: groupId, topic })).toBe(1);
  });

  it('retries a failing handler with backoff and handles the message once, committing only after success', async () => {
    const message = orderConfirmed();
    await produce([message]);
    const attempts: number[] = [];
    const commitsSeenByHandler: number[] = [];
    let handled = 0;
    await start(async (_envelope, context) => {
      attempts.push(context.attempt);
      commitsSeenByHandler.push(await committed());
      if (attempts.length <= 2) throw new Error(`flaky ${attempts.length}`);
      handled++;
    });

    await waitFor('the third attempt to succeed', () => handled === 1, { timeoutMs: 20_000 });
    await waitFor('the commit', async () => (await committed()) === 1, { timeoutMs: 5_000 });
    expect(attempts).toEqual([1, 2, 3]);
    // Nothing was committed while the message was failing.
    expect(commitsSeenByHandler).toEqual([-1, -1, -1]);
    expect(handled).toBe(1);
    expect(await dlqSize()).toBe(0);
  });

  it('commits nothing for a failed message: the next consumer of the group gets it again', async () => {
    const message = orderConfirmed();
    await produce([message]);
    const failedIds: string[] = [];
    const first = await start(
      async (envelope) => {
        failedIds.push(envelope.id);
        throw new Error('not yet');
      },
      { retry: { attempts: 1_000, baseDelayMs: 50, maxDelayMs: 200 } },
    );
    await waitFor('a failed attempt', () => failedIds.length >= 1, { timeoutMs: 20_000 });
    await first.stop();
    expect(await committed()).toBe(-1);

    const handledIds: string[] = [];
    await start(async (envelope) => {
      handledIds.push(envelope.id);
    });
    await waitFor('the redelivery', () => handledIds.length === 1, { timeoutMs: 20_000 });
    expect(handledIds).toEqual([failedIds[0]]);
    await waitFor('the commit', async () => (await committed()) === 1, { timeoutMs: 5_000 });
  });

  it('dead-letters a message that is not JSON or fails its schema at once, and handles the next one', async () => {
    const good = orderConfirmed();
    const body = JSON.parse(good.value) as Record<string, unknown>;
    const notJson = { key: 'k1', value: 'this is not json', headers: { traceparent } };
    const unknownType = { key: 'k2', value: JSON.stringify({ ...body, type: 'OrderTeleported' }) };
    const invalidPayload = { key: 'k3', value: JSON.stringify({ ...body, payload: { orderId: 'not-a-uuid' } }) };
    await produce([notJson, unknownType, invalidPayload, good]);
    const handled: string[] = [];
    await start(async (envelope) => {
      handled.push(envelope.id);
    });

    await waitFor('the good message after the poison ones', () => handled.length === 1, { timeoutMs: 20_000 });
    expect(handled).toEqual([body['id']]);
    await waitFor('all four offsets committed', async () => (await committed()) === 4, { timeoutMs: 5_000 });

    const deadLetters = await inspectDlq(kafka, topic, { limit: 10 });
    expect(
      deadLetters.map(({ reason, originalOffset, key, value }) => ({ reason, originalOffset, key, value })),
    ).toEqual([
      { reason: 'not-json', originalOffset: '0', key: 'k1', value: notJson.value },
      { reason: 'unknown-type', originalOffset: '1', key: 'k2', value: unknownType.value },
      { reason: 'invalid-payload', originalOffset: '2', key: 'k3', value: invalidPayload.value },
    ]);
    for (const deadLetter of deadLetters) {
      expect(deadLetter).toMatchObject({ originalTopic: topic, originalPartition: 0, consumerGroup: groupId });
      expect(deadLetter.headers['dlq-attempts']).toBe('1');
      expect(Date.parse(deadLetter.failedAt ?? '')).not.toBeNaN();
    }
    expect(deadLetters[0]?.headers['traceparent']).toBe(traceparent);
    expect(deadLetters[2]?.error).toMatch(/orderId/);
    await waitFor(
      'the dead-lettered counter',
      async () => (await metricValue(messagesDeadLettered, { group: groupId, topic, reason: 'not-json' })) === 1,
      { timeoutMs: 5_000 },
    );
  });

  it('dead-letters a PermanentError at once and another error after the bounded retries', async () => {
    const permanent = orderConfirmed();
    const failing = orderConfirmed();
    const permanentId = (JSON.parse(permanent.value) as { id: string }).id;
    await produce([permanent, failing]);
    const calls = new Map<string, number>();
    await start(async (envelope) => {
      calls.set(envelope.id, (calls.get(envelope.id) ?? 0) + 1);
      if (envelope.id === permanentId) throw new PermanentError('the order does not exist');
      throw new Error('a bug');
    });

    await waitFor('both dead letters', async () => (await dlqSize()) === 2, { timeoutMs: 20_000 });
    await waitFor('both offsets committed', async () => (await committed()) === 2, { timeoutMs: 5_000 });
    expect([...calls.values()]).toEqual([1, 3]);
    const deadLetters = await inspectDlq(kafka, topic);
    expect(deadLetters.map(({ reason, error, headers }) => [reason, error, headers['dlq-attempts']])).toEqual([
      ['permanent-error', 'PermanentError: the order does not exist', '1'],
      ['retries-exhausted', 'Error: a bug', '3'],
    ]);
  });

  it('pauses the partition on a TransientError and retries the same message until the dependency is back, never dead-lettering it', async () => {
    let dependencyUp = false;
    const first = orderConfirmed();
    const second = orderConfirmed();
    const other = orderConfirmed();
    await produce([first, second], 0);
    await produce([other], 1);
    const handled: string[] = [];
    let transientFailures = 0;
    await start(
      async (envelope, context) => {
        if (context.partition === 0 && !dependencyUp) {
          transientFailures++;
          throw new TransientError('database is down');
        }
        handled.push(envelope.id);
      },
      { retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 100 } },
    );
    const idOf = (message: { value: string }) => (JSON.parse(message.value) as { id: string }).id;

    // Far more failures than `attempts`, and the other partition goes on meanwhile.
    await waitFor('repeated transient failures', () => transientFailures >= 6, { timeoutMs: 20_000 });
    await waitFor('the other partition', () => handled.includes(idOf(other)), { timeoutMs: 20_000 });
    expect(handled).toEqual([idOf(other)]);
    expect(await committed(0)).toBe(-1);
    expect(await dlqSize()).toBe(0);

    dependencyUp = true;
    await waitFor('partition 0 after recovery', () => handled.length === 3, { timeoutMs: 20_000 });
    expect(handled).toEqual([idOf(other), idOf(first), idOf(second)]);
    await waitFor('the commit', async () => (await committed(0)) === 2, { timeoutMs: 5_000 });
    expect(await dlqSize()).toBe(0);
  });

  it('stop() drains an in-flight handler: it finishes and its offset is committed, and nothing new starts', async () => {
    await produce([orderConfirmed(), orderConfirmed()]);
    const events: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const consumer = await start(async (envelope) => {
      events.push(`start ${envelope.id}`);
      await gate;
      events.push(`done ${envelope.id}`);
    });
    await waitFor('the first message in flight', () => events.length === 1, { timeoutMs: 20_000 });

    // Stop while the handler is in flight. A broker round trip gives stop() time to get going
    // (without the drain, kafkajs would stop its runner now and drop the handler's commit).
    const stopped = consumer.stop().then(() => events.push('stopped'));
    expect(await committed()).toBe(-1);
    expect(events).toHaveLength(1);
    release();
    await stopped;

    expect(events).toHaveLength(3);
    expect(events[1]).toMatch(/^done /);
    expect(events[2]).toBe('stopped');
    // Committed although stop() had begun; the second message was not started and stays uncommitted.
    expect(await committed()).toBe(1);
  });

  it('exports consumer lag per group, topic and partition', async () => {
    await produce([1, 2, 3, 4, 5].map(() => orderConfirmed()));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await start(
      async () => {
        await gate;
      },
      { lagIntervalMs: 100 },
    );
    const lag = () => metricValue(consumerLag, { group: groupId, topic, partition: '0' });

    await waitFor('a lag of 5', async () => (await lag()) === 5, { timeoutMs: 20_000 });
    release();
    await waitFor('a lag of 0', async () => (await lag()) === 0, { timeoutMs: 20_000 });
    expect(await committed()).toBe(5);
  });

  describe('with a batch handler', () => {
    it('hands a backlog over in batches, in partition order, and commits past it', async () => {
      const messages = Array.from({ length: 40 }, () => orderConfirmed());
      const ids = messages.map((message) => (JSON.parse(message.value) as { id: string }).id);
      // Produced before the consumer starts: one fetch brings the whole backlog.
      await produce(messages);
      const batches: string[][] = [];
      const single: string[] = [];
      await start(
        async (envelope) => {
          single.push(envelope.id);
        },
        {
          batchHandler: async (items: readonly BatchItem[]) => {
            batches.push(items.map((item) => item.envelope.id));
          },
          maxBatchSize: 16,
        },
      );
      await waitFor('the commit past the backlog', async () => (await committed()) === 40 || undefined, {
        timeoutMs: 20_000,
      });
      expect([...batches.flat(), ...single].sort()).toEqual([...ids].sort());
      // In order, and mostly together: no batch above the limit, and far fewer calls than messages.
      expect(batches.flat()).toEqual(ids.filter((id) => !single.includes(id)));
      expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(16);
      expect(batches.length + single.length).toBeLessThan(10);
    });

    it('leaves the passed-over types out of its batches and commits past them', async () => {
      const messages = Array.from({ length: 20 }, (_, index) =>
        index % 3 === 1
          ? { key: `sku-${index}`, value: 'not json', headers: { type: 'StockLevelChanged' } }
          : orderConfirmed(),
      );
      const ids = messages.flatMap((message) =>
        message.headers.type === 'OrderConfirmed' ? [(JSON.parse(message.value) as { id: string }).id] : [],
      );
      await produce(messages);
      const handled: string[] = [];
      let batchCalls = 0;
      await start(
        async (envelope) => {
          handled.push(envelope.id);
        },
        {
          handledTypes: new Set(['OrderConfirmed']),
          batchHandler: async (items: readonly BatchItem[]) => {
            batchCalls++;
            handled.push(...items.map((item) => item.envelope.id));
          },
        },
      );
      await waitFor('the commit past all twenty', async () => (await committed()) === 20 || undefined, {
        timeoutMs: 20_000,
      });
      expect(handled).toEqual(ids);
      expect(batchCalls).toBeGreaterThanOrEqual(1);
      expect(await dlqSize()).toBe(0);
    });

    it('handles a failed batch one by one: the poison message is dead-lettered, its neighbours are handled once', async () => {
      const messages = Array.from({ length: 6 }, () => orderConfirmed());
      const ids = messages.map((message) => (JSON.parse(message.value) as { id: string }).id);
      const poison = ids[3];
      await produce(messages);
      const handled: string[] = [];
      let batchCalls = 0;
      await start(
        async (envelope) => {
          if (envelope.id === poison) throw new PermanentError('poison');
          handled.push(envelope.id);
        },
        {
          batchHandler: async (items: readonly BatchItem[]) => {
            batchCalls++;
            // All or nothing: a batch with the poison message fails before it changes anything.
            if (items.some((item) => item.envelope.id === poison)) throw new PermanentError('poison in the batch');
            handled.push(...items.map((item) => item.envelope.id));
          },
        },
      );
      await waitFor(
        'the commit past all six and one dead letter',
        async () => ((await committed()) === 6 && (await dlqSize()) === 1) || undefined,
        { timeoutMs: 20_000 },
      );
      expect(batchCalls).toBeGreaterThanOrEqual(1);
      expect(handled.sort()).toEqual(ids.filter((id) => id !== poison).sort());
    });
  });
});
