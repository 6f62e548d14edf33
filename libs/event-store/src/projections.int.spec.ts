import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@shop/testing';
import { EventStore } from './event-store';
import { migrate } from './migrations';
import { catchUp, rebuild, type Projection } from './projections';
import type { RecordedEvent } from './types';

/** A read model: totals per account, fed by Deposited/Withdrawn events. */
const balances: Projection = {
  name: 'balances',
  async apply(client: pg.PoolClient, event: RecordedEvent) {
    if (event.type !== 'Deposited' && event.type !== 'Withdrawn') return;
    const { amount } = event.data as { amount: number };
    await client.query(
      `insert into balances (account, total, events) values ($1, $2, 1)
       on conflict (account) do update set total = balances.total + excluded.total, events = balances.events + 1`,
      [event.streamId, event.type === 'Deposited' ? amount : -amount],
    );
  },
  async reset(client: pg.PoolClient) {
    await client.query('truncate balances');
  },
};

describe('projections (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('projections');
    await migrate(db.pool);
    await db.pool.query(
      'create table balances (account text primary key, total integer not null, events integer not null)',
    );
    store = new EventStore(db.pool);
  });

  afterAll(() => db.drop());

  const snapshotOf = async () =>
    (await db.pool.query('select account, total, events from balances order by account')).rows as unknown[];

  it('applies each event exactly once, and a rebuild gives the same read model as live', async () => {
    const accounts = Array.from({ length: 5 }, () => `account-${randomUUID()}`);
    for (let round = 0; round < 6; round++) {
      for (const [index, account] of accounts.entries()) {
        await store.appendToStream(account, 'any', [
          { type: 'Deposited', data: { amount: 10 * (index + 1) } },
          { type: round % 2 ? 'Withdrawn' : 'Noted', data: { amount: 3 } },
        ]);
      }
      // Live: the projection follows as events arrive, in several runs.
      await catchUp(db.pool, store, balances, 7);
    }
    expect(await catchUp(db.pool, store, balances)).toBe(0);
    const live = await snapshotOf();
    expect(live).toHaveLength(5);
    expect(live[0]).toMatchObject({ events: 9 });

    expect(await rebuild(db.pool, store, balances, { mode: 'catch-up' })).toBe(60);
    expect(await snapshotOf()).toEqual(live);
    expect(await catchUp(db.pool, store, balances)).toBe(0);
  });

  it('replays every committed event while another transaction is open (inline), and only settled ones for catch-up', async () => {
    const account = `account-${randomUUID()}`;
    // A transaction that stays open (any writer in a running service) holds the snapshot's xmin back.
    const open = await db.pool.connect();
    try {
      await open.query('begin');
      await open.query('select txid_current()');
      await store.appendToStream(account, 'any', [{ type: 'Deposited', data: { amount: 5 } }]);
      const total = (await db.pool.query<{ n: number }>('select count(*)::int as n from events')).rows[0]?.n;

      expect(await rebuild(db.pool, store, balances)).toBe(total);
      expect((await db.pool.query('select total from balances where account = $1', [account])).rows).toEqual([
        { total: 5 },
      ]);

      // Catch-up mode stops before the open transaction; catchUp applies the rest once it has ended.
      expect(await rebuild(db.pool, store, balances, { mode: 'catch-up' })).toBe((total ?? 0) - 1);
      await open.query('commit');
      expect(await catchUp(db.pool, store, balances)).toBe(1);
      expect((await db.pool.query('select total from balances where account = $1', [account])).rows).toEqual([
        { total: 5 },
      ]);
    } finally {
      open.release();
    }
  });
});
