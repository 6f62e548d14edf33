import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createEnvelope, OrderConfirmed } from '@shop/contracts';
import { createConsumer, createProducer, ensureTopics, type MessageConsumer } from '@shop/messaging';
import { createLogger } from '@shop/observability';
import { createTestDatabase, kafkaBrokers, type TestDatabase, uniqueName, waitFor } from '@shop/testing';
import { handleOnce } from './inbox';
import { migrate } from './migrations';

/**
 * Two instances of one service in one consumer group: a second instance
 * joins while messages flow, then the first leaves. Partitions move between
 * them twice; every message is applied exactly once (the inbox absorbs what a
 * rebalance delivers again).
 */
describe('consumer group rebalance with the inbox (real PostgreSQL and Kafka)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('rebalance', { max: 8 });
    await migrate(db.pool);
    await db.pool.query('create table applied (order_id text not null, instance text not null)');
  });

  afterAll(() => db.drop());

  it('applies every message once while instances join and leave', async () => {
    const kafka = new Kafka({ clientId: 'rebalance-int', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const topic = uniqueName('rebalance');
    const groupId = uniqueName('rebalance-group');
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ name: topic, partitions: 6 }]);
    const producer = createProducer(kafka);
    await producer.connect();
    const logger = createLogger({ service: 'rebalance-int', level: 'silent' });

    const instance = (name: string): MessageConsumer =>
      createConsumer({
        kafka,
        groupId,
        topics: [topic],
        logger,
        sessionTimeoutMs: 10_000,
        handler: async (envelope) => {
          await handleOnce(db.pool, 'rebalance-test', envelope.id, async (client) => {
            const { orderId } = envelope.payload as { orderId: string };
            await client.query('insert into applied (order_id, instance) values ($1, $2)', [orderId, name]);
          });
        },
      });

    const sent: string[] = [];
    const send = async (count: number) => {
      const messages = Array.from({ length: count }, () => {
        const orderId = randomUUID();
        sent.push(orderId);
        return createEnvelope(OrderConfirmed, { orderId }, { correlationId: orderId, causationId: orderId });
      });
      await producer.send(topic, messages);
    };
    const appliedCount = async () =>
      (await db.pool.query<{ n: number }>('select count(*)::int as n from applied')).rows[0]?.n ?? 0;

    const first = instance('first');
    await first.start();
    await send(100);
    const second = instance('second');
    await second.start(); // the group rebalances while the first instance is busy
    await send(100);
    await waitFor('the first 200 messages', async () => (await appliedCount()) >= 200, { timeoutMs: 60_000 });
    await first.stop(); // and again when it leaves
    await send(100);
    await waitFor('all 300 messages', async () => (await appliedCount()) >= 300, { timeoutMs: 60_000 });
    await second.stop();

    const { rows } = await db.pool.query<{ order_id: string; times: number }>(
      'select order_id, count(*)::int as times from applied group by order_id',
    );
    expect(rows).toHaveLength(300);
    expect(rows.every((row) => row.times === 1)).toBe(true);
    expect(new Set(rows.map((row) => row.order_id))).toEqual(new Set(sent));
    const instances = await db.pool.query<{ instance: string }>(
      'select distinct instance from applied order by instance',
    );
    expect(instances.rows.map((row) => row.instance)).toEqual(['first', 'second']);

    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }, 150_000);
});
