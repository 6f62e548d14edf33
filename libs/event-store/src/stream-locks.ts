import type pg from 'pg';
import { isRemoved } from '@shop/resilience';

/**
 * Takes the transaction-scoped advisory locks of several streams in one
 * round trip, in sorted order, so two transactions that lock overlapping
 * sets cannot deadlock. Writers of a stream that take its lock first
 * (`pg_advisory_xact_lock(hashtextextended(streamId, 0))`) queue behind the
 * holder until its transaction ends; taking a lock twice is harmless.
 */
export async function lockStreams(client: pg.PoolClient, streamIds: Iterable<string>): Promise<void> {
  const sorted = [...new Set(streamIds)].sort();
  if (sorted.length === 0) return;
  // unnest yields the array in order, and each row's lock is taken as it is produced.
  await client.query({
    name: 'lock-streams',
    text: 'select pg_advisory_xact_lock(hashtextextended(id, 0)) from unnest($1::text[]) as id',
    values: [sorted],
  });
}

/**
 * The first statement of a transaction that handles one message on one
 * stream: takes the stream's lock (as lockStreams does) and records the
 * message in the inbox, in one round trip. True when the message is new;
 * false for a duplicate (the caller rolls back). The lock is taken before the
 * inbox row, so two deliveries of one message queue on the lock and the
 * second finds the first's row once it committed.
 */
export function lockStreamAndRecord(
  client: pg.PoolClient,
  streamId: string,
  consumer: string,
  messageId: string,
): Promise<boolean> {
  return lockStreamsAndRecord(client, [streamId], consumer, messageId);
}

/** lockStreamAndRecord for a message that decides on several streams: their locks in sorted order, then the inbox row. */
export async function lockStreamsAndRecord(
  client: pg.PoolClient,
  streamIds: Iterable<string>,
  consumer: string,
  messageId: string,
): Promise<boolean> {
  // UNSAFE_REMOVE_PATTERNS=inbox: every delivery counts as the first (the proof that the inbox is what dedupes).
  if (isRemoved('inbox')) {
    await lockStreams(client, streamIds);
    return true;
  }
  const recorded = await client.query({
    name: 'lock-streams-and-record',
    text: `with locked as materialized (
        select count(pg_advisory_xact_lock(hashtextextended(id, 0))) from unnest($1::text[]) as id
      )
      insert into inbox (consumer, message_id) select $2, $3 from locked on conflict do nothing`,
    values: [[...new Set(streamIds)].sort(), consumer, messageId],
  });
  return recorded.rowCount === 1;
}
