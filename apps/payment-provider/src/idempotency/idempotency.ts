import type pg from 'pg';
import { problemException } from '../http/problems';
import { requestHash } from './canonical-json';

export interface IdempotentRequest {
  /** Which operation the key belongs to: a key identifies one request to one operation. */
  readonly scope: 'charge' | 'refund';
  readonly key: string;
  /** The request as a JSON value; only its hash is kept. */
  readonly request: unknown;
}

export interface IdempotentOutcome<Body> {
  readonly body: Body;
  /** True when the body is the one recorded for an earlier request with this key. */
  readonly replayed: boolean;
}

/**
 * Runs `execute` at most once per (scope, key), in one transaction with the
 * record of its response (only successes are recorded, so a replay is a 201
 * with the recorded body):
 *
 * 1. insert the key row first. A concurrent request with the same key blocks
 *    on the primary key until this transaction ends, so the row is the lock;
 * 2. execute (write the charge or refund) and store the response on the row;
 * 3. commit: the effect and its recorded response appear together.
 *
 * A request that finds the key taken reads the committed response: the same
 * request hash → the same 201 and body; another hash → 409. If `execute`
 * throws (a refused refund, a lost connection), everything rolls back, the key
 * is free again, and a waiting duplicate runs the operation itself.
 */
export async function runOnce<Body>(
  pool: pg.Pool,
  { scope, key, request }: IdempotentRequest,
  execute: (tx: pg.PoolClient) => Promise<Body>,
): Promise<IdempotentOutcome<Body>> {
  const hash = requestHash(request);
  const outcome = await inTransaction(pool, async (tx) => {
    const claimed = await tx.query(
      `insert into idempotency_keys (scope, key, request_hash) values ($1, $2, $3)
       on conflict (scope, key) do nothing`,
      [scope, key, hash],
    );
    if (claimed.rowCount === 1) {
      const body = await execute(tx);
      await tx.query('update idempotency_keys set response_body = $3 where scope = $1 and key = $2', [
        scope,
        key,
        JSON.stringify(body),
      ]);
      return { body, replayed: false, hash };
    }
    // Only committed rows are visible here, and a row is committed with its response (step 3).
    return { ...(await recorded<Body>(tx, scope, key)), replayed: true };
  });
  return { body: sameRequest(outcome, hash).body, replayed: outcome.replayed };
}

/** The request hash and response recorded with a key that is taken. */
async function recorded<Body>(
  db: pg.Pool | pg.PoolClient,
  scope: IdempotentRequest['scope'],
  key: string,
): Promise<{ body: Body; hash: string }> {
  const { rows } = await db.query<{ request_hash: string; response_body: Body }>(
    'select request_hash, response_body from idempotency_keys where scope = $1 and key = $2',
    [scope, key],
  );
  const row = rows[0];
  if (!row) throw new Error(`idempotency key ${scope}/${key} vanished`);
  return { body: row.response_body, hash: row.request_hash };
}

/** The outcome when the key came with this very request; 409 when it came with another. */
function sameRequest<Outcome extends { hash: string }>(outcome: Outcome, hash: string): Outcome {
  if (outcome.hash !== hash) {
    throw problemException(409, 'idempotency key reused', 'this Idempotency-Key was already used with another request');
  }
  return outcome;
}

/**
 * An effect that is one insert, decided before the key is claimed.
 * `sql` is numbered from `$1` for its own `values` and gates itself on the
 * CTE `claimed` (one row when this request took the key), e.g. `insert into
 * charges (…) select $1, … where exists (select 1 from claimed)`.
 */
export interface OneInsert<Body> {
  readonly body: Body;
  readonly name: string;
  readonly sql: string;
  readonly values: readonly unknown[];
}

/**
 * runOnce for an effect that is one insert whose outcome is known before it
 * runs (a charge: its outcome is drawn first, and only the draw of the
 * request that takes the key is ever recorded): the key row with its
 * response and the effect are one autocommit statement, one round trip and
 * one commit instead of five. A concurrent request with the same key blocks
 * on the key's primary key until that statement commits, then finds the key
 * taken and reads the committed response, as with runOnce.
 */
export async function insertOnce<Body>(
  pool: pg.Pool,
  { scope, key, request }: IdempotentRequest,
  effect: OneInsert<Body>,
): Promise<IdempotentOutcome<Body>> {
  const hash = requestHash(request);
  const { rows } = await pool.query<{ claimed: boolean }>({
    name: `${effect.name}-once`,
    text: `with claimed as (
        insert into idempotency_keys (scope, key, request_hash, response_body) values ($1, $2, $3, $4)
        on conflict (scope, key) do nothing
        returning 1
      ), effect as (${effect.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + 4}`)})
      select exists (select 1 from claimed) as claimed`,
    values: [scope, key, hash, JSON.stringify(effect.body), ...effect.values],
  });
  if (rows[0]?.claimed) return { body: effect.body, replayed: false };
  return { body: sameRequest(await recorded<Body>(pool, scope, key), hash).body, replayed: true };
}

async function inTransaction<T>(pool: pg.Pool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  let broken: Error | undefined;
  try {
    await tx.query('begin');
    const result = await work(tx);
    await tx.query('commit');
    return result;
  } catch (error) {
    // A connection that cannot even roll back is discarded, not returned to the pool.
    await tx.query('rollback').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    tx.release(broken);
  }
}
