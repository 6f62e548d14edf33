import type pg from 'pg';
import { checkpointOf, type EventStore } from './event-store';
import { type Checkpoint, type RecordedEvent, START } from './types';

/**
 * A read model fed by the event stream. `apply` runs in the same transaction
 * as the projection's checkpoint, so a crash never applies an event twice nor
 * skips one. `reset` empties the read model, for a rebuild.
 */
export interface Projection {
  readonly name: string;
  apply(client: pg.PoolClient, event: RecordedEvent): Promise<void>;
  reset(client: pg.PoolClient): Promise<void>;
}

async function readCheckpoint(client: pg.PoolClient, name: string): Promise<Checkpoint> {
  const result = await client.query<{ transaction_id: string; global_position: string }>(
    'select transaction_id::text as transaction_id, global_position from projection_checkpoints where projection = $1 for update',
    [name],
  );
  const row = result.rows[0];
  return row ? { transactionId: BigInt(row.transaction_id), position: BigInt(row.global_position) } : START;
}

async function writeCheckpoint(client: pg.PoolClient, name: string, checkpoint: Checkpoint): Promise<void> {
  await client.query(
    `insert into projection_checkpoints (projection, transaction_id, global_position)
     values ($1, $2::text::xid8, $3)
     on conflict (projection) do update
       set transaction_id = excluded.transaction_id, global_position = excluded.global_position, updated_at = now()`,
    [name, checkpoint.transactionId.toString(), checkpoint.position.toString()],
  );
}

/**
 * Applies the next batch of events to one projection, with its checkpoint, in
 * one transaction. Returns how many events it applied (0 when caught up).
 * Safe with several runners: the checkpoint row is locked while a batch runs.
 */
export async function runProjectionOnce(
  pool: pg.Pool,
  store: EventStore,
  projection: Projection,
  batchSize = 500,
): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(
      `insert into projection_checkpoints (projection, transaction_id, global_position)
       values ($1, '0'::xid8, 0) on conflict do nothing`,
      [projection.name],
    );
    const checkpoint = await readCheckpoint(client, projection.name);
    const events = await store.readAll(checkpoint, batchSize, client);
    for (const event of events) await projection.apply(client, event);
    const last = events.at(-1);
    if (last) await writeCheckpoint(client, projection.name, checkpointOf(last));
    await client.query('commit');
    return events.length;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Applies batches until the projection has caught up with every finished transaction. */
export async function catchUp(
  pool: pg.Pool,
  store: EventStore,
  projection: Projection,
  batchSize = 500,
): Promise<number> {
  let total = 0;
  for (;;) {
    const applied = await runProjectionOnce(pool, store, projection, batchSize);
    total += applied;
    if (applied < batchSize) return total;
  }
}

/**
 * Empties the read model and replays every event into it, in one
 * transaction: the projection's `reset` takes the read model's table lock
 * (truncate), so readers and writers of the running service wait for the
 * rebuild and then see the rebuilt model.
 *
 * `inline` (the default) is for read models that writers update in the same
 * transaction as their events (every read model of the services): a writer
 * still open when the rebuild starts is either ahead of the lock (the reset
 * waits for it to commit, and its events are replayed) or behind it (it
 * writes its own rows once the rebuild commits), so every committed event is
 * replayed. `catch-up` is for a projection fed by `catchUp`: it replays only
 * the settled events and leaves the checkpoint there, so `catchUp` applies
 * the rest exactly once.
 */
export async function rebuild(
  pool: pg.Pool,
  store: EventStore,
  projection: Projection,
  options: { readonly mode?: 'inline' | 'catch-up'; readonly batchSize?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1_000;
  const upTo = options.mode === 'catch-up' ? 'settled' : 'committed';
  const client = await pool.connect();
  try {
    await client.query('begin');
    await projection.reset(client);
    let checkpoint = START;
    let total = 0;
    for (;;) {
      const events = await store.readAll(checkpoint, batchSize, client, upTo);
      for (const event of events) await projection.apply(client, event);
      total += events.length;
      const last = events.at(-1);
      if (!last) break;
      checkpoint = checkpointOf(last);
    }
    await writeCheckpoint(client, projection.name, checkpoint);
    await client.query('commit');
    return total;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
