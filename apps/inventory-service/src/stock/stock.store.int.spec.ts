import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@shop/testing';
import { ConcurrencyError, EventStore, EVENT_STORE_MIGRATIONS, migrate, rebuild } from '@shop/event-store';
import { PRODUCTS_MIGRATIONS, productsProjection } from './products.projection';
import { stockDecider } from './stock.decider';
import type { StockEvent } from './stock.events';
import { StockStore } from './stock.store';

describe('stock store (real PostgreSQL)', () => {
  let db: TestDatabase;
  let stock: StockStore;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('stock', { max: 12 });
    await migrate(db.pool, [...EVENT_STORE_MIGRATIONS, ...PRODUCTS_MIGRATIONS]);
    store = new EventStore(db.pool);
    stock = new StockStore(db.pool, store);
  });

  afterAll(() => db.drop());

  /** A new product and its first stock, in one decision (as the seed does). */
  async function product(sku: string, units: number): Promise<void> {
    const outcome = await stock.execute([
      { sku, command: { kind: 'AddProduct', sku, name: sku, priceCents: 100, currency: 'EUR' } },
      { sku, command: { kind: 'ReceiveStock', quantity: units } },
    ]);
    expect(outcome).toMatchObject({ ok: true });
  }

  const available = async (sku: string) =>
    (await db.pool.query<{ available: number }>('select available from products where sku = $1', [sku])).rows[0]
      ?.available;

  it('reserves exactly the stock there is when 200 orders race for 50 units', async () => {
    const sku = `HOT-${randomUUID().slice(0, 8)}`;
    await product(sku, 50);
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, () =>
        stock.execute([{ sku, command: { kind: 'Reserve', orderId: randomUUID(), quantity: 1 } }]),
      ),
    );
    expect(outcomes.filter((outcome) => outcome !== 'duplicate' && outcome.ok)).toHaveLength(50);
    expect(
      outcomes.filter((outcome) => outcome !== 'duplicate' && !outcome.ok && outcome.reason === 'OUT_OF_STOCK'),
    ).toHaveLength(150);
    expect(await available(sku)).toBe(0);
    expect((await stock.load(sku)).state.available).toBe(0);
  }, 60_000);

  it('reserves all lines of an order or none', async () => {
    const [a, b] = [`A-${randomUUID().slice(0, 8)}`, `B-${randomUUID().slice(0, 8)}`];
    await product(a, 10);
    await product(b, 1);
    const orderId = randomUUID();
    const refused = await stock.execute([
      { sku: a, command: { kind: 'Reserve', orderId, quantity: 3 } },
      { sku: b, command: { kind: 'Reserve', orderId, quantity: 2 } },
    ]);
    expect(refused).toEqual({ ok: false, reason: 'OUT_OF_STOCK', skus: [b] });
    expect([await available(a), await available(b)]).toEqual([10, 1]);

    const unknown = await stock.execute([
      { sku: a, command: { kind: 'Reserve', orderId, quantity: 1 } },
      { sku: `NOPE-${randomUUID()}`, command: { kind: 'Reserve', orderId, quantity: 1 } },
    ]);
    expect(unknown).toMatchObject({ ok: false, reason: 'UNKNOWN_PRODUCT' });
    expect(await available(a)).toBe(10);
  });

  it('does nothing for a message it has already handled (inbox in the same transaction)', async () => {
    const sku = `I-${randomUUID().slice(0, 8)}`;
    await product(sku, 5);
    const inbox = { consumer: 'inventory-commands', messageId: randomUUID() };
    const reserve = [{ sku, command: { kind: 'Reserve' as const, orderId: randomUUID(), quantity: 2 } }];
    expect(await stock.execute(reserve, { inbox })).toMatchObject({ ok: true });
    expect(await stock.execute(reserve, { inbox })).toBe('duplicate');
    expect(await available(sku)).toBe(3);
  });

  it('gives back released and returned units, and a rebuild of the read model equals the live one', async () => {
    const sku = `R-${randomUUID().slice(0, 8)}`;
    await product(sku, 5);
    const [kept, released] = [randomUUID(), randomUUID()];
    await stock.execute([{ sku, command: { kind: 'Reserve', orderId: kept, quantity: 2 } }]);
    await stock.execute([{ sku, command: { kind: 'Reserve', orderId: released, quantity: 2 } }]);
    await stock.execute([{ sku, command: { kind: 'Release', orderId: released } }]);
    await stock.execute([{ sku, command: { kind: 'Commit', orderId: kept } }]);
    expect(await available(sku)).toBe(3);
    await stock.execute([{ sku, command: { kind: 'Return', orderId: kept } }]);
    expect(await available(sku)).toBe(5);

    const live = (await db.pool.query('select sku, name, price_cents, currency, available from products order by sku'))
      .rows;
    await rebuild(db.pool, store, productsProjection);
    const rebuilt = (
      await db.pool.query('select sku, name, price_cents, currency, available from products order by sku')
    ).rows;
    expect(rebuilt).toEqual(live);
  });

  it('snapshots a busy SKU every N events, and snapshot + tail = the whole stream', async () => {
    const sku = `SNAP-${randomUUID().slice(0, 8)}`;
    const snapshotting = new StockStore(db.pool, store, 5);
    await product(sku, 100);
    for (let order = 0; order < 6; order++) {
      const orderId = randomUUID();
      await snapshotting.execute([{ sku, command: { kind: 'Reserve', orderId, quantity: 2 } }]);
      if (order % 2 === 0) await snapshotting.execute([{ sku, command: { kind: 'Commit', orderId } }]);
    }
    // 2 events to create it, 6 reservations, 3 commits: 11 events, snapshots at 5 and 10.
    const { rows } = await db.pool.query<{ stream_version: number }>(
      'select stream_version from snapshots where stream_id = $1',
      [`sku-${sku}`],
    );
    expect(rows).toEqual([{ stream_version: 10 }]);
    const folded = (await store.readStream(`sku-${sku}`)).reduce(
      (state, event) => stockDecider.evolve(state, { type: event.type, data: event.data } as StockEvent),
      stockDecider.initialState(),
    );
    expect(await snapshotting.load(sku)).toEqual({ state: folded, version: 11 });
    expect(folded.available).toBe(88);
  });

  it("keeps the units sold per order out of the snapshot, yet returns a long-ago order's units and never twice", async () => {
    const sku = `SOLD-${randomUUID().slice(0, 8)}`;
    const snapshotting = new StockStore(db.pool, store, 5);
    await product(sku, 100);
    const orders = Array.from({ length: 8 }, () => randomUUID());
    for (const orderId of orders) {
      await snapshotting.execute([{ sku, command: { kind: 'Reserve', orderId, quantity: 3 } }]);
      await snapshotting.execute([{ sku, command: { kind: 'Commit', orderId } }]);
    }
    const snapshot = await db.pool.query<{ state: { committed: object } }>(
      'select state from snapshots where stream_id = $1',
      [`sku-${sku}`],
    );
    // The snapshot's size does not grow with the orders sold: 8 of them, none in it.
    expect(Object.keys(snapshot.rows[0]?.state.committed ?? { missing: 1 })).toEqual([]);
    const [first] = orders;
    if (!first) throw new Error('no order');
    const returned = await snapshotting.execute([{ sku, command: { kind: 'Return', orderId: first } }]);
    expect(returned).toEqual({
      ok: true,
      events: [{ sku, event: { type: 'StockReturned', data: { orderId: first, quantity: 3 } } }],
    });
    expect(await available(sku)).toBe(100 - 8 * 3 + 3);
    // Returned once: the same order gives nothing back again, and a re-reservation of a sold order is a no-op.
    expect(await snapshotting.execute([{ sku, command: { kind: 'Return', orderId: first } }])).toEqual({
      ok: true,
      events: [],
    });
    const second = orders[1] ?? '';
    expect(await snapshotting.execute([{ sku, command: { kind: 'Reserve', orderId: second, quantity: 3 } }])).toEqual({
      ok: true,
      events: [],
    });
    expect(await available(sku)).toBe(100 - 8 * 3 + 3);
  });

  describe('executeAtOnce: a decision on cached states in one statement', () => {
    afterEach(() => jest.restoreAllMocks());

    const inboxOf = (messageId: string) => ({ consumer: 'inventory-commands', messageId });
    const reservation = async (orderId: string) =>
      (
        await db.pool.query<{ sku: string; state: string; quantity: number }>(
          'select sku, state, quantity from reservations where order_id = $1 order by sku',
          [orderId],
        )
      ).rows;

    it('reserves every line with the inbox row in one statement, no transaction; a claim taken before writes nothing', async () => {
      const id = randomUUID().slice(0, 8);
      const [a, b] = [`ONCE-A-${id}`, `ONCE-B-${id}`];
      await product(a, 10);
      await product(b, 10);
      const transactions = jest.spyOn(db.pool, 'connect');
      const reads = jest.spyOn(store, 'readStream');
      const orderId = randomUUID();
      const messageId = randomUUID();
      const commands = [
        { sku: a, command: { kind: 'Reserve' as const, orderId, quantity: 2 } },
        { sku: b, command: { kind: 'Reserve' as const, orderId, quantity: 3 } },
      ];
      const outcome = await stock.executeAtOnce(commands, { inbox: inboxOf(messageId) });
      expect(outcome).toMatchObject({ ok: true, events: [{ sku: a }, { sku: b }] });
      // pg's pool.query checks a client out too: one statement is one checkout.
      expect(transactions).toHaveBeenCalledTimes(1);
      expect(reads).not.toHaveBeenCalled();
      expect([await available(a), await available(b)]).toEqual([8, 7]);
      expect(await reservation(orderId)).toEqual([
        { sku: a, state: 'reserved', quantity: 2 },
        { sku: b, state: 'reserved', quantity: 3 },
      ]);
      const inbox = await db.pool.query('select 1 from inbox where message_id = $1', [messageId]);
      expect(inbox.rowCount).toBe(1);

      // Again: the cached state holds the reservation, so nothing is appended at once; the locked path finds the inbox row.
      expect(await stock.executeAtOnce(commands, { inbox: inboxOf(messageId) })).toBeUndefined();
      expect(await stock.execute(commands, { inbox: inboxOf(messageId) })).toBe('duplicate');
      // A claim taken before writes nothing, even for a decision that would append.
      const elsewhere = [{ sku: a, command: { kind: 'Reserve' as const, orderId: randomUUID(), quantity: 1 } }];
      expect(await stock.executeAtOnce(elsewhere, { inbox: inboxOf(messageId) })).toBe('duplicate');
      expect([await available(a), await available(b)]).toEqual([8, 7]);
      // The cache holds what the append left: a second process reading the stream agrees.
      const { state, version } = await new StockStore(db.pool, store).load(a);
      expect(state.available).toBe(8);
      expect(version).toBe(3);
    });

    it('leaves to the locked path what the cache cannot settle: a SKU not held, a refusal, a command that changes nothing', async () => {
      const sku = `ONCE-${randomUUID().slice(0, 8)}`;
      await product(sku, 5);
      const orderId = randomUUID();
      const reserve = (quantity: number, order = orderId) => [
        { sku, command: { kind: 'Reserve' as const, orderId: order, quantity } },
      ];
      const cold = new StockStore(db.pool, store);
      expect(await cold.executeAtOnce(reserve(1), { inbox: inboxOf(randomUUID()) })).toBeUndefined();
      expect(await stock.executeAtOnce(reserve(6), { inbox: inboxOf(randomUUID()) })).toBeUndefined();
      expect(await stock.executeAtOnce(reserve(2), { inbox: inboxOf(randomUUID()) })).toMatchObject({
        ok: true,
      });
      // Reserved already: nothing to append, so the stream decides (the locked path).
      expect(await stock.executeAtOnce(reserve(2), { inbox: inboxOf(randomUUID()) })).toBeUndefined();
      expect(await available(sku)).toBe(3);
    });

    it('writes nothing on a stale state (another process appended), drops it, and the locked path then decides', async () => {
      const sku = `ONCE-${randomUUID().slice(0, 8)}`;
      await product(sku, 100);
      await new StockStore(db.pool, store).execute([
        { sku, command: { kind: 'Reserve', orderId: randomUUID(), quantity: 10 } },
      ]);
      const orderId = randomUUID();
      const messageId = randomUUID();
      const commands = [{ sku, command: { kind: 'Reserve' as const, orderId, quantity: 1 } }];
      expect(await stock.executeAtOnce(commands, { inbox: inboxOf(messageId) })).toBeUndefined();
      const inbox = await db.pool.query('select 1 from inbox where message_id = $1', [messageId]);
      expect(inbox.rowCount).toBe(0);
      expect(await available(sku)).toBe(90);
      // The stale entry is gone: the locked path reads the stream and does not fail.
      expect(await stock.execute(commands, { inbox: inboxOf(messageId) })).toMatchObject({ ok: true });
      expect(await available(sku)).toBe(89);
    });

    it('never sells a unit twice when decisions race in two processes on the same SKUs', async () => {
      const sku = `ONCE-${randomUUID().slice(0, 8)}`;
      await product(sku, 40);
      const other = new StockStore(db.pool, store);
      // Each message tries the one statement first and falls back to the locked path, as the handler does.
      const reserve = async (on: StockStore) => {
        const commands = [{ sku, command: { kind: 'Reserve' as const, orderId: randomUUID(), quantity: 1 } }];
        const inbox = inboxOf(randomUUID());
        for (let attempt = 0; attempt < 20; attempt++) {
          const once = await on.executeAtOnce(commands, { inbox });
          if (once !== undefined) return once;
          try {
            return await on.execute(commands, { inbox });
          } catch (error) {
            if (!(error instanceof ConcurrencyError)) throw error;
          }
        }
        throw new Error('no attempt settled the reservation');
      };
      const outcomes = await Promise.all(
        Array.from({ length: 60 }, (_, index) => reserve(index % 2 === 0 ? stock : other)),
      );
      expect(outcomes.filter((outcome) => outcome !== 'duplicate' && outcome.ok)).toHaveLength(40);
      expect(await available(sku)).toBe(0);
      const { state } = await new StockStore(db.pool, store).load(sku);
      expect(state.available).toBe(0);
      expect(Object.keys(state.reserved)).toHaveLength(40);
    });
  });

  describe('the state cache', () => {
    afterEach(() => jest.restoreAllMocks());

    /** A decision in a transaction that rolls back, told to the store as its callers do. */
    async function rolledBack(on: StockStore, sku: string, orderId: string, quantity: number): Promise<void> {
      const client = await db.pool.connect();
      try {
        await client.query('begin');
        const transaction = on.transaction();
        const outcome = await on.executeIn(
          client,
          [{ sku, command: { kind: 'Reserve', orderId, quantity } }],
          {},
          transaction,
        );
        expect(outcome).toMatchObject({ ok: true, events: [{ sku }] });
        await client.query('rollback');
        on.rolledBack(transaction);
      } finally {
        client.release();
      }
    }

    it('decides on the state the last append left, reading neither snapshot nor stream', async () => {
      const sku = `CACHE-${randomUUID().slice(0, 8)}`;
      await product(sku, 10);
      const reads = jest.spyOn(store, 'readStream');
      const outcome = await stock.execute([{ sku, command: { kind: 'Reserve', orderId: randomUUID(), quantity: 4 } }]);
      expect(outcome).toMatchObject({ ok: true });
      expect(reads).not.toHaveBeenCalled();
      expect(await available(sku)).toBe(6);
    });

    it('keeps what a rolled-back transaction decided out of the cache: the next decision neither reads nor fails', async () => {
      const sku = `ROLLBACK-${randomUUID().slice(0, 8)}`;
      await product(sku, 100);
      const ghost = randomUUID();
      await rolledBack(stock, sku, ghost, 30);
      const reads = jest.spyOn(store, 'readStream');
      expect(
        await stock.execute([{ sku, command: { kind: 'Reserve', orderId: randomUUID(), quantity: 1 } }]),
      ).toMatchObject({
        ok: true,
      });
      expect(reads).not.toHaveBeenCalled();
      const { state } = await new StockStore(db.pool, store).load(sku);
      expect(state.available).toBe(99);
      expect(Object.keys(state.reserved)).not.toContain(ghost);
    });

    it('decides a refusal of a cached state again on the stream', async () => {
      const sku = `REFUSED-${randomUUID().slice(0, 8)}`;
      await product(sku, 5);
      const holder = randomUUID();
      await stock.execute([{ sku, command: { kind: 'Reserve', orderId: holder, quantity: 5 } }]);
      // Another process (its own cache) gives the 5 units back: this one's cache still says 0 available.
      await new StockStore(db.pool, store).execute([{ sku, command: { kind: 'Release', orderId: holder } }]);
      const outcome = await stock.execute([{ sku, command: { kind: 'Reserve', orderId: randomUUID(), quantity: 3 } }]);
      expect(outcome).toMatchObject({ ok: true });
      expect(await available(sku)).toBe(2);
    });

    it('fails the append when another writer appended after the cached state, then decides on the stream', async () => {
      const sku = `RACE-${randomUUID().slice(0, 8)}`;
      await product(sku, 100);
      await stock.execute([{ sku, command: { kind: 'Reserve', orderId: randomUUID(), quantity: 1 } }]);
      await new StockStore(db.pool, store).execute([
        { sku, command: { kind: 'Reserve', orderId: randomUUID(), quantity: 10 } },
      ]);

      const late = randomUUID();
      const reserve = () => stock.execute([{ sku, command: { kind: 'Reserve', orderId: late, quantity: 1 } }]);
      await expect(reserve()).rejects.toBeInstanceOf(ConcurrencyError);
      // The message comes again (the consumer's retry) and finds the stream as stored.
      expect(await reserve()).toMatchObject({ ok: true });
      expect((await new StockStore(db.pool, store).load(sku)).state.available).toBe(88);
      expect(await available(sku)).toBe(88);
    });
  });
});
