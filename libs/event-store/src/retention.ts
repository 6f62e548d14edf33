import type pg from 'pg';

/** Deletes outbox rows sent more than `olderThanMs` ago; pending rows are never pruned. */
export async function pruneOutbox(pool: pg.Pool, olderThanMs: number): Promise<number> {
  const result = await pool.query(
    "delete from outbox where status = 'sent' and sent_at < now() - make_interval(secs => $1::double precision / 1000)",
    [olderThanMs],
  );
  return result.rowCount ?? 0;
}

/**
 * Deletes inbox rows older than `olderThanMs`. Keep this longer than Kafka
 * keeps the topics: a message redelivered after its inbox row is gone would
 * be handled again.
 */
export async function pruneInbox(pool: pg.Pool, olderThanMs: number): Promise<number> {
  const result = await pool.query(
    'delete from inbox where received_at < now() - make_interval(secs => $1::double precision / 1000)',
    [olderThanMs],
  );
  return result.rowCount ?? 0;
}
