import type pg from 'pg';

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
