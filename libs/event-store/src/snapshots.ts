import type pg from 'pg';

/**
 * Snapshots are a cache of an aggregate's state at a version: deleting them
 * all changes nothing but load time. State from snapshot + tail must equal
 * state from the whole stream (tested), so a decider's state must be plain
 * JSON (no Date, Map or class instances).
 */
export async function loadSnapshot<State>(
  db: pg.Pool | pg.PoolClient,
  streamId: string,
): Promise<{ state: State; version: number } | undefined> {
  const result = await db.query<{ state: State; stream_version: number }>({
    name: 'snapshot-load',
    text: 'select state, stream_version from snapshots where stream_id = $1',
    values: [streamId],
  });
  const row = result.rows[0];
  return row ? { state: row.state, version: row.stream_version } : undefined;
}

export async function saveSnapshot<State>(
  client: pg.Pool | pg.PoolClient,
  streamId: string,
  version: number,
  state: State,
): Promise<void> {
  await client.query({
    name: 'snapshot-save',
    text: `insert into snapshots (stream_id, stream_version, state) values ($1, $2, $3)
     on conflict (stream_id) do update
       set stream_version = excluded.stream_version, state = excluded.state, taken_at = now()
       where snapshots.stream_version < excluded.stream_version`,
    values: [streamId, version, JSON.stringify(state)],
  });
}
