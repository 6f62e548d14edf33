import type pg from 'pg';
import { isRemoved } from '@shop/resilience';
import { lockStreams } from './stream-locks';

export type InboxOutcome = 'handled' | 'duplicate';

/**
 * Runs `handler` at most once per (consumer, message id): the id is recorded
 * in the same transaction as the handler's effects, so a redelivered message
 * does nothing, and a handler that fails leaves no trace (the message will be
 * delivered again). Two deliveries racing each other serialise on the inbox
 * row: the second waits for the first, then sees a duplicate.
 */
export async function handleOnce(
  pool: pg.Pool,
  consumer: string,
  messageId: string,
  handler: (client: pg.PoolClient) => Promise<void>,
): Promise<InboxOutcome> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    if (!(await recordInInbox(client, consumer, messageId))) {
      await client.query('rollback');
      return 'duplicate';
    }
    await handler(client);
    await client.query('commit');
    return 'handled';
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The inbox step alone, for a handler that runs its own transaction: true
 * when this is the first time (consumer, message id) is seen in `client`'s
 * transaction; false for a duplicate (roll back and stop).
 */
export async function recordInInbox(client: pg.PoolClient, consumer: string, messageId: string): Promise<boolean> {
  // UNSAFE_REMOVE_PATTERNS=inbox: every delivery counts as the first (the proof that the inbox is what dedupes).
  if (isRemoved('inbox')) return true;
  const recorded = await client.query({
    name: 'inbox-record',
    text: 'insert into inbox (consumer, message_id) values ($1, $2) on conflict do nothing',
    values: [consumer, messageId],
  });
  return recorded.rowCount === 1;
}

/**
 * The inbox step for a batch of messages handled in one transaction: records
 * every id not seen before and returns those (a duplicate, also one repeated
 * inside the batch, is recorded once and handled once).
 */
export async function recordManyInInbox(
  client: pg.PoolClient,
  consumer: string,
  messageIds: readonly string[],
): Promise<Set<string>> {
  if (isRemoved('inbox')) return new Set(messageIds);
  const recorded = await client.query<{ message_id: string }>({
    name: 'inbox-record-many',
    text: 'insert into inbox (consumer, message_id) select $1, unnest($2::text[]) on conflict do nothing returning message_id',
    values: [consumer, [...messageIds]],
  });
  return new Set(recorded.rows.map((row) => row.message_id));
}

/**
 * handleOnce for a batch of messages: one transaction and one inbox
 * statement for all of them. `work` gets the transaction and `first(id)`,
 * true for a message not handled before (once per id, also when an id
 * repeats inside the batch). A failure leaves no trace of any of them.
 */
export async function handleManyOnce(
  pool: pg.Pool,
  consumer: string,
  messageIds: readonly string[],
  work: (client: pg.PoolClient, first: (messageId: string) => boolean) => Promise<void>,
  /**
   * Streams whose locks are taken before anything is written (lockStreams):
   * the transaction gets its id only once it holds them, so its outbox rows
   * cannot be ordered (by transaction id) before those of a writer it waited
   * for.
   */
  lockFirst: Iterable<string> = [],
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await lockStreams(client, lockFirst);
    const fresh = await recordManyInInbox(client, consumer, messageIds);
    await work(client, (messageId) => fresh.delete(messageId));
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
