import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import pg from 'pg';
import { register } from 'prom-client';
import { createProducer, type MessageProducer } from '@shop/messaging';
import { withPatternRemoved } from '@shop/resilience';
import {
  createTestDatabase,
  kafkaBrokers,
  startTestBroker,
  stopTestBroker,
  type TestDatabase,
  uniqueName,
  waitFor,
} from '@shop/testing';
import { EventStore, OUTBOX_CHANNEL } from './event-store';
import { kafkaOutboxPublisher } from './kafka-publisher';
import { migrate } from './migrations';
import { type OutboxPublisher, OutboxRelay, type PendingMessage } from './outbox-relay';

/**
 * The relay against the real broker: every committed outbox row reaches
 * Kafka, in order per key, also with two relays running and across a broker
 * outage (duplicates allowed, losses not).
 */
interface Received {
  readonly id: string;
  readonly key: string;
  readonly seq: number;
}

/** The relays' pool: the test that takes all of it needs to know its size. */
const POOL_MAX = 8;

describe('outbox relay (real PostgreSQL and Kafka)', () => {
  let db: TestDatabase;
  let store: EventStore;
  let kafka: Kafka;
  let producer: MessageProducer;
  const relays: OutboxRelay[] = [];
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('outbox', { max: POOL_MAX });
    await migrate(db.pool);
    store = new EventStore(db.pool);
    kafka = new Kafka({
      clientId: 'outbox-relay-int',
      brokers: kafkaBrokers(),
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 100 },
    });
    producer = createProducer(kafka);
    await producer.connect();
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await Promise.all(consumers.splice(0).map((consumer) => consumer.disconnect()));
  });

  afterAll(async () => {
    await producer.disconnect();
    await db.drop();
  });

  async function createTopic(): Promise<string> {
    const topic = uniqueName('outbox');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    return topic;
  }

  function startRelay(): OutboxRelay {
    const relay = new OutboxRelay(db.pool, kafkaOutboxPublisher(producer), {
      listenConnectionString: db.url,
      batchSize: 20,
      maxBackoffMs: 500,
    });
    relay.start();
    relays.push(relay);
    return relay;
  }

  async function consumeAll(topic: string, into: Received[]): Promise<void> {
    const consumer = kafka.consumer({ groupId: uniqueName('outbox-reader') });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        into.push(JSON.parse(message.value?.toString() ?? '{}') as Received);
      },
    });
  }

  async function append(topic: string, key: string, seq: number): Promise<string> {
    const id = randomUUID();
    await store.appendToStream(`${key}-${seq}`, 'no_stream', [{ type: 'Tick', data: { seq } }], {
      outbox: [{ id, topic, key, value: JSON.stringify({ id, key, seq }), headers: { 'message-id': id } }],
    });
    return id;
  }

  /** Per key, the first delivery of each message comes in the order the messages were written. */
  function expectOrderPerKey(received: readonly Received[]): void {
    const firstSeen = new Map<string, number[]>();
    const ids = new Set<string>();
    for (const message of received) {
      if (ids.has(message.id)) continue;
      ids.add(message.id);
      firstSeen.set(message.key, [...(firstSeen.get(message.key) ?? []), message.seq]);
    }
    for (const sequence of firstSeen.values()) expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
  }

  const distinct = (received: readonly Received[]) => new Set(received.map((message) => message.id)).size;

  it('publishes every committed row in order per key and marks it sent', async () => {
    const topic = await createTopic();
    const received: Received[] = [];
    await consumeAll(topic, received);
    startRelay();
    const keys = ['a', 'b', 'c', 'd', 'e'].map((key) => `${key}-${randomUUID()}`);
    for (let seq = 0; seq < 10; seq++) for (const key of keys) await append(topic, key, seq);

    await waitFor('all 50 messages', () => distinct(received) === 50, { timeoutMs: 20_000 });
    expectOrderPerKey(received);
    await waitFor('every row marked sent', async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        "select count(*)::int as n from outbox where topic = $1 and status = 'sent' and sent_at is not null",
        [topic],
      );
      return rows[0]?.n === 50;
    });
  });

  describe('waking the relay', () => {
    let listener: pg.Client;
    let notifications: number;
    const published: string[] = [];
    const batches: string[][] = [];
    const recording: OutboxPublisher = {
      publish: async (messages: readonly PendingMessage[]) => {
        published.push(...messages.map((message) => message.messageId));
        batches.push(messages.map((message) => message.messageId));
      },
    };

    beforeEach(async () => {
      notifications = 0;
      listener = new pg.Client({ connectionString: db.url });
      listener.on('notification', () => notifications++);
      await listener.connect();
      await listener.query(`listen ${OUTBOX_CHANNEL}`);
    });

    afterEach(async () => {
      await listener.end();
    });

    /** A relay that, once idle, would not poll again within the test: only a wake-up brings its next pass. */
    async function leadingRelay(minPassIntervalMs?: number): Promise<OutboxRelay> {
      const relay = new OutboxRelay(db.pool, recording, {
        listenConnectionString: db.url,
        pollIntervalMs: 120_000,
        ...(minPassIntervalMs === undefined ? {} : { minPassIntervalMs }),
      });
      relay.start();
      relays.push(relay);
      await waitFor('the relay leading', () => relay.isLeading || undefined);
      return relay;
    }

    /** Every NOTIFY committed before this call has reached the listener once it answers. */
    async function notificationsSoFar(): Promise<number> {
      await listener.query('select 1');
      return notifications;
    }

    const message = (topic: string) => {
      const id = randomUUID();
      return { id, topic, key: id, value: JSON.stringify({ id }) };
    };

    it('a writer on the leading relay’s pool wakes it itself once its statement committed: no NOTIFY', async () => {
      await leadingRelay();
      const writer = new EventStore(db.pool);
      const sent = message(uniqueName('local'));
      await writer.appendToStream(`local-${sent.id}`, 'no_stream', [{ type: 'Tick', data: {} }], { outbox: [sent] });

      await waitFor('the message published', () => published.includes(sent.id) || undefined, { timeoutMs: 10_000 });
      expect(await notificationsSoFar()).toBe(0);
    });

    it('gathers the writes that commit within minPassIntervalMs of its last pass into one batch', async () => {
      await leadingRelay(3_000);
      const writer = new EventStore(db.pool);
      const topic = uniqueName('gather');
      const write = async () => {
        const sent = message(topic);
        await writer.appendToStream(`gather-${sent.id}`, 'no_stream', [{ type: 'Tick', data: {} }], {
          outbox: [sent],
        });
        return sent.id;
      };
      const first = await write();
      await waitFor('the first message published', () => published.includes(first) || undefined, {
        timeoutMs: 15_000,
      });

      // Two writes right after a pass: each wakes the relay, and the next pass takes both.
      const second = await write();
      const third = await write();
      await waitFor('both published', () => (published.includes(second) && published.includes(third)) || undefined, {
        timeoutMs: 15_000,
      });
      expect(batches).toContainEqual([second, third]);
    });

    it('runs its passes on its own connection: a pool with every connection taken does not hold them up', async () => {
      await leadingRelay();
      // Under load the writers hold the pool's connections, with more statements queued behind them.
      const held = await Promise.all(Array.from({ length: POOL_MAX }, () => db.pool.connect()));
      const elsewhere = new pg.Pool({ connectionString: db.url, max: 1 });
      try {
        const sent = message(uniqueName('busy-pool'));
        // A writer on another pool: its NOTIFY wakes the relay.
        await new EventStore(elsewhere).appendToStream(`busy-${sent.id}`, 'no_stream', [{ type: 'Tick', data: {} }], {
          outbox: [sent],
        });

        await waitFor('the message published while the pool is taken', () => published.includes(sent.id) || undefined, {
          timeoutMs: 10_000,
        });
        expect(db.pool.waitingCount).toBe(0);
      } finally {
        for (const client of held) client.release();
        await elsewhere.end();
      }
    });

    it('a write in a caller’s transaction still sends a NOTIFY, which wakes the relay at its commit', async () => {
      await leadingRelay();
      const writer = new EventStore(db.pool);
      const sent = message(uniqueName('tx'));
      const client = await db.pool.connect();
      try {
        await client.query('begin');
        await writer.appendToStream(`tx-${sent.id}`, 'no_stream', [{ type: 'Tick', data: {} }], {
          outbox: [sent],
          client,
        });
        await client.query('commit');
      } finally {
        client.release();
      }

      await waitFor('the message published', () => published.includes(sent.id) || undefined, { timeoutMs: 10_000 });
      expect(await notificationsSoFar()).toBe(1);
    });
  });

  it('exports the backlog of unpublished rows, and it drains to zero', async () => {
    const topic = await createTopic();
    // A publisher that refuses until told otherwise: the rows stay pending.
    let open = false;
    const gated = kafkaOutboxPublisher(producer);
    const relay = new OutboxRelay(
      db.pool,
      {
        publish: async (messages) => {
          if (!open) throw new Error('broker unreachable');
          await gated.publish(messages);
        },
      },
      { listenConnectionString: db.url, batchSize: 20, maxBackoffMs: 100 },
    );
    relay.start();
    relays.push(relay);
    const backlog = async () =>
      (await register.getSingleMetricAsString('outbox_pending_messages')).trim().split('\n').at(-1);
    const pendingRows = async () =>
      (await db.pool.query<{ n: number }>("select count(*)::int as n from outbox where status = 'pending'")).rows[0]?.n;
    for (let seq = 0; seq < 5; seq++) await append(topic, `k-${randomUUID()}`, seq);
    expect(await backlog()).toBe(`outbox_pending_messages ${await pendingRows()}`);
    expect(await pendingRows()).toBeGreaterThanOrEqual(5);
    open = true;
    await waitFor('the backlog to drain', async () => (await backlog()) === 'outbox_pending_messages 0', {
      timeoutMs: 20_000,
    });
  });

  it('keeps order per key with two relays running at once', async () => {
    const topic = await createTopic();
    const received: Received[] = [];
    await consumeAll(topic, received);
    startRelay();
    startRelay();
    const keys = Array.from({ length: 8 }, () => `key-${randomUUID()}`);
    await Promise.all(
      keys.map(async (key) => {
        for (let seq = 0; seq < 25; seq++) await append(topic, key, seq);
      }),
    );
    await waitFor('all 200 messages', () => distinct(received) === 200, { timeoutMs: 30_000 });
    expectOrderPerKey(received);
  }, 60_000);

  it('delivers every event, in order per key, when the broker stops mid-stream and comes back', async () => {
    const topic = await createTopic();
    const keys = Array.from({ length: 4 }, () => `key-${randomUUID()}`);
    startRelay();
    let seq = 0;
    const appendRound = () => Promise.all(keys.map((key) => append(topic, key, seq))).then(() => (seq += 1));
    for (let round = 0; round < 10; round++) await appendRound();

    await stopTestBroker();
    try {
      for (let round = 0; round < 10; round++) await appendRound();
      // The relay keeps trying and records why it cannot publish.
      await waitFor(
        'a failed publish attempt recorded on a pending row',
        async () => {
          const { rows } = await db.pool.query(
            "select 1 from outbox where topic = $1 and status = 'pending' and attempts > 0 and last_error is not null",
            [topic],
          );
          return (rows.length ?? 0) > 0;
        },
        { timeoutMs: 60_000 },
      );
    } finally {
      await startTestBroker();
    }
    for (let round = 0; round < 5; round++) await appendRound();

    const received: Received[] = [];
    await consumeAll(topic, received);
    await waitFor('all 100 messages after the outage', () => distinct(received) === 100, { timeoutMs: 60_000 });
    expectOrderPerKey(received);
  }, 180_000);

  it('one relay publishes while it holds the lock; when its connection goes, another takes over', async () => {
    const topic = uniqueName('outbox-failover');
    const key = uniqueName('failover');
    const publishedBy = new Map<string, string[]>();
    const recording = (name: string): OutboxPublisher => ({
      async publish(messages: readonly PendingMessage[]) {
        for (const message of messages)
          publishedBy.set(message.messageId, [...(publishedBy.get(message.messageId) ?? []), name]);
      },
    });
    const startNamed = (name: string) => {
      const relay = new OutboxRelay(db.pool, recording(name), { listenConnectionString: db.url, pollIntervalMs: 50 });
      relays.push(relay);
      relay.start();
    };
    const byName = (name: string) => [...publishedBy.values()].filter((names) => names.includes(name)).length;
    const first: string[] = [];
    for (let seq = 0; seq < 10; seq++) first.push(await append(topic, key, seq));
    startNamed('a');
    await waitFor('relay a to publish the first ten', () => first.every((id) => publishedBy.has(id)));
    startNamed('b');
    const second: string[] = [];
    for (let seq = 10; seq < 20; seq++) second.push(await append(topic, key, seq));
    await waitFor('the second ten published', () => second.every((id) => publishedBy.has(id)));
    expect(byName('b')).toBe(0);

    // The leader's LISTEN connection holds the lock; the server ends it (as a failover or a chaos fault would).
    const { rows } = await db.pool.query<{ pid: number }>(
      `select pid from pg_locks where locktype = 'advisory' and granted
          and database = (select oid from pg_database where datname = current_database())`,
    );
    expect(rows).toHaveLength(1);
    await db.pool.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
    const third: string[] = [];
    for (let seq = 20; seq < 30; seq++) third.push(await append(topic, key, seq));
    await waitFor('the third ten published after the leader lost its lock', () =>
      third.every((id) => publishedBy.has(id)),
    );
    await waitFor('every row marked sent', async () => {
      const left = await db.pool.query("select 1 from outbox where topic = $1 and status = 'pending'", [topic]);
      return left.rows.length === 0;
    });
  });

  /**
   * The broker refuses the first publish (a moment of unavailability, as in
   * the outage test above, without stopping the shared test broker), then
   * takes everything: which of the 10 committed messages reach it.
   */
  const deliveredAcrossABrokerHiccup = async () => {
    const topic = uniqueName('outbox-hiccup');
    const delivered = new Set<string>();
    let calls = 0;
    const flaky: OutboxPublisher = {
      async publish(messages: readonly PendingMessage[]) {
        calls += 1;
        if (calls === 1) throw new Error('broker unavailable');
        for (const message of messages) delivered.add(message.messageId);
      },
    };
    const ids: string[] = [];
    const key = uniqueName('hiccup');
    for (let seq = 0; seq < 10; seq++) ids.push(await append(topic, key, seq));
    const relay = new OutboxRelay(db.pool, flaky, { listenConnectionString: db.url, maxBackoffMs: 100 });
    relays.push(relay);
    relay.start();
    await waitFor(
      'no pending row of the topic left',
      async () => {
        const { rows } = await db.pool.query("select 1 from outbox where topic = $1 and status = 'pending'", [topic]);
        return rows.length === 0 || undefined;
      },
      { timeoutMs: 10_000 },
    );
    await relay.stop();
    return ids.filter((id) => delivered.has(id)).length;
  };

  it('proof by removal: every committed message outlives a failed publish (removed: they are lost)', async () => {
    expect(await deliveredAcrossABrokerHiccup()).toBe(10);
    expect(await withPatternRemoved('outbox', deliveredAcrossABrokerHiccup)).toBe(0);
  });
});
