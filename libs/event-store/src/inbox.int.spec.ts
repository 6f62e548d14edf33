import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { withPatternRemoved } from '@shop/resilience';
import { createTestDatabase, kafkaBrokers, type TestDatabase, uniqueName, waitFor } from '@shop/testing';
import { handleOnce, type InboxOutcome } from './inbox';
import { migrate } from './migrations';

/**
 * The inbox with a real consumer: a message delivered again (the group's
 * offsets reset to the beginning, as a replay would) changes nothing.
 */
describe('inbox (real PostgreSQL and Kafka)', () => {
  let db: TestDatabase;
  let kafka: Kafka;

  beforeAll(async () => {
    db = await createTestDatabase('inbox');
    await migrate(db.pool);
    await db.pool.query('create table effects (message_id text not null, amount integer not null)');
    kafka = new Kafka({ clientId: 'inbox-int', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  });

  afterAll(() => db.drop());

  /** One message consumed, the group reset to the earliest offset, consumed again: the outcomes and the effects. */
  async function deliveredTwice(): Promise<{ outcomes: InboxOutcome[]; effects: unknown[]; messageId: string }> {
    const topic = uniqueName('inbox');
    const groupId = uniqueName('inbox-group');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const messageId = randomUUID();
    await producer.send({
      topic,
      messages: [{ key: 'k', value: JSON.stringify({ amount: 7 }), headers: { 'message-id': messageId } }],
    });
    await producer.disconnect();

    const outcomes: InboxOutcome[] = [];
    const consumeOnce = async () => {
      const consumer = kafka.consumer({ groupId });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const id = message.headers?.['message-id']?.toString() ?? '';
          const { amount } = JSON.parse(message.value?.toString() ?? '{}') as { amount: number };
          outcomes.push(
            await handleOnce(db.pool, 'effects-writer', id, async (client) => {
              await client.query('insert into effects (message_id, amount) values ($1, $2)', [id, amount]);
            }),
          );
        },
      });
      return consumer;
    };

    const first = await consumeOnce();
    await waitFor('the first delivery', () => outcomes.length === 1);
    await first.disconnect();

    // Replay: the group starts again from the earliest offset, so the message comes again.
    await admin.resetOffsets({ groupId, topic, earliest: true });
    const second = await consumeOnce();
    await waitFor('the redelivery', () => outcomes.length === 2);
    await second.disconnect();
    await admin.disconnect();

    const { rows } = await db.pool.query('select message_id, amount from effects where message_id = $1', [messageId]);
    return { outcomes, effects: rows, messageId };
  }

  it('applies a redelivered message once', async () => {
    const { outcomes, effects, messageId } = await deliveredTwice();
    expect(outcomes).toEqual(['handled', 'duplicate']);
    expect(effects).toEqual([{ message_id: messageId, amount: 7 }]);
  });

  it('proof by removal: without the inbox (UNSAFE_REMOVE_PATTERNS=inbox) the replay applies the message twice', async () => {
    const { outcomes, effects, messageId } = await withPatternRemoved('inbox', deliveredTwice);
    expect(outcomes).toEqual(['handled', 'handled']);
    expect(effects).toEqual([
      { message_id: messageId, amount: 7 },
      { message_id: messageId, amount: 7 },
    ]);
  });

  it('leaves no trace of a handler that failed, so the message is handled when it comes again', async () => {
    const messageId = randomUUID();
    await expect(
      handleOnce(db.pool, 'effects-writer', messageId, async (client) => {
        await client.query('insert into effects (message_id, amount) values ($1, 1)', [messageId]);
        throw new Error('dependency down');
      }),
    ).rejects.toThrow('dependency down');
    const outcome = await handleOnce(db.pool, 'effects-writer', messageId, async (client) => {
      await client.query('insert into effects (message_id, amount) values ($1, 2)', [messageId]);
    });
    expect(outcome).toBe('handled');
    const { rows } = await db.pool.query('select amount from effects where message_id = $1', [messageId]);
    expect(rows).toEqual([{ amount: 2 }]);
  });
});
