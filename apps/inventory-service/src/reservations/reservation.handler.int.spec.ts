import { randomUUID } from 'node:crypto';
import {
  CommitStock,
  createEnvelope,
  type OutgoingMessage,
  readEnvelope,
  ReleaseStock,
  ReserveStock,
} from '@shop/contracts';
import { EventStore, EVENT_STORE_MIGRATIONS, migrate } from '@shop/event-store';
import type { BatchItem } from '@shop/messaging';
import { createTestDatabase, type TestDatabase } from '@shop/testing';
import { PRODUCTS_MIGRATIONS } from '../stock/products.projection';
import { StockStore } from '../stock/stock.store';
import { ReservationHandler } from './reservation.handler';

/** The saga commands handled in a batch (one transaction), against a real database. */
describe('ReservationHandler.handleBatch (real PostgreSQL)', () => {
  let db: TestDatabase;
  let stock: StockStore;
  let handler: ReservationHandler;

  beforeAll(async () => {
    db = await createTestDatabase('reservations', { max: 4 });
    await migrate(db.pool, [...EVENT_STORE_MIGRATIONS, ...PRODUCTS_MIGRATIONS]);
    stock = new StockStore(db.pool, new EventStore(db.pool));
    handler = new ReservationHandler(db.pool, stock, 'int');
  });

  afterAll(() => db.drop());

  async function product(sku: string, units: number): Promise<void> {
    await stock.execute([
      { sku, command: { kind: 'AddProduct', sku, name: sku, priceCents: 100, currency: 'EUR' } },
      { sku, command: { kind: 'ReceiveStock', quantity: units } },
    ]);
  }

  function item(message: OutgoingMessage): BatchItem {
    return {
      envelope: readEnvelope(message),
      context: { topic: 't', partition: 0, offset: '0', key: undefined, headers: {}, timestamp: '0', attempt: 1 },
      traced: (work) => work(),
    };
  }

  const meta = { correlationId: 'int', causationId: 'int' };
  const available = async (sku: string) =>
    (await db.pool.query<{ available: number }>('select available from products where sku = $1', [sku])).rows[0]
      ?.available;
  const replies = async (orderId: string) =>
    (
      await db.pool.query<{ type: string }>(
        "select value::json->>'type' as type from outbox where key = $1 order by id",
        [orderId],
      )
    ).rows.map((row) => row.type);

  it('sees its own writes: a reservation and its release in one batch give the units back; a repeated message counts once', async () => {
    const sku = `BATCH-${randomUUID().slice(0, 8)}`;
    await product(sku, 10);
    const first = randomUUID();
    const second = randomUUID();
    const reserveSecond = createEnvelope(ReserveStock, { orderId: second, items: [{ sku, quantity: 1 }] }, meta);
    await handler.handleBatch([
      item(createEnvelope(ReserveStock, { orderId: first, items: [{ sku, quantity: 2 }] }, meta)),
      item(createEnvelope(ReleaseStock, { orderId: first }, meta)),
      item(reserveSecond),
      item(reserveSecond),
    ]);
    expect(await available(sku)).toBe(9);
    expect(await replies(first)).toEqual(['StockReserved', 'StockReleased']);
    expect(await replies(second)).toEqual(['StockReserved']);
    // Delivered again later (the inbox has every id): nothing changes.
    await handler.handleBatch([item(reserveSecond), item(createEnvelope(ReleaseStock, { orderId: first }, meta))]);
    expect(await available(sku)).toBe(9);
  });

  it("gives a cancelled order's sold units back once, whatever ReleaseStock messages come for it", async () => {
    const sku = `SOLD-${randomUUID().slice(0, 8)}`;
    await product(sku, 10);
    const orderId = randomUUID();
    const context = item(createEnvelope(ReleaseStock, { orderId }, meta)).context;
    const handle = (message: OutgoingMessage) => handler.handle(readEnvelope(message), context);
    await handle(createEnvelope(ReserveStock, { orderId, items: [{ sku, quantity: 4 }] }, meta));
    await handle(createEnvelope(CommitStock, { orderId }, meta));
    expect(await available(sku)).toBe(6);
    // A cancellation, then another ReleaseStock for the order (another message id): the units come back once.
    await handle(createEnvelope(ReleaseStock, { orderId }, meta));
    await handle(createEnvelope(ReleaseStock, { orderId }, meta));
    expect(await available(sku)).toBe(10);
    expect(await replies(orderId)).toEqual(['StockReserved', 'StockCommitted', 'StockReleased', 'StockReleased']);
    const { rows } = await db.pool.query<{ type: string }>(
      "select type from events where stream_id = $1 and type = 'StockReturned'",
      [`sku-${sku}`],
    );
    expect(rows).toHaveLength(1);
  });

  describe('at once: one statement per command on the states this process holds', () => {
    afterEach(() => jest.restoreAllMocks());

    const held = async (orderId: string) =>
      (
        await db.pool.query<{ sku: string; state: string }>(
          'select sku, state from reservations where order_id = $1 order by sku',
          [orderId],
        )
      ).rows;

    it('reserves, then commits or releases an order it reserved, each in one statement: no read of its reservations', async () => {
      const id = randomUUID().slice(0, 8);
      const [a, b] = [`ONE-A-${id}`, `ONE-B-${id}`];
      await product(a, 10);
      await product(b, 10);
      const [confirmed, rejected] = [randomUUID(), randomUUID()];
      const context = item(createEnvelope(ReleaseStock, { orderId: confirmed }, meta)).context;
      const handle = (message: OutgoingMessage) => handler.handle(readEnvelope(message), context);
      // pg's pool.query checks a client out too: one statement is one checkout.
      const statements = jest.spyOn(db.pool, 'connect');
      const lines = [
        { sku: a, quantity: 2 },
        { sku: b, quantity: 1 },
      ];
      await handle(createEnvelope(ReserveStock, { orderId: confirmed, items: lines }, meta));
      await handle(createEnvelope(ReserveStock, { orderId: rejected, items: lines }, meta));
      expect(statements).toHaveBeenCalledTimes(2);
      await handle(createEnvelope(CommitStock, { orderId: confirmed }, meta));
      await handle(createEnvelope(ReleaseStock, { orderId: rejected }, meta));
      expect(statements).toHaveBeenCalledTimes(4);
      expect(await held(confirmed)).toEqual([
        { sku: a, state: 'committed' },
        { sku: b, state: 'committed' },
      ]);
      expect(await held(rejected)).toEqual([
        { sku: a, state: 'released' },
        { sku: b, state: 'released' },
      ]);
      expect([await available(a), await available(b)]).toEqual([8, 9]);
      expect(await replies(confirmed)).toEqual(['StockReserved', 'StockCommitted']);
      expect(await replies(rejected)).toEqual(['StockReserved', 'StockReleased']);
    });

    it('does not reserve again for an order whose units were sold, though its cached states show no reservation', async () => {
      const sku = `RESOLD-${randomUUID().slice(0, 8)}`;
      await product(sku, 10);
      const orderId = randomUUID();
      const context = item(createEnvelope(ReleaseStock, { orderId }, meta)).context;
      const handle = (message: OutgoingMessage) => handler.handle(readEnvelope(message), context);
      const reserve = { orderId, items: [{ sku, quantity: 4 }] };
      await handle(createEnvelope(ReserveStock, reserve, meta));
      await handle(createEnvelope(CommitStock, { orderId }, meta));
      // The same reservation asked again under another message id: the sold units count, none are reserved twice.
      await handle(createEnvelope(ReserveStock, reserve, meta));
      expect(await available(sku)).toBe(6);
      expect(await held(orderId)).toEqual([{ sku, state: 'committed' }]);
    });

    it('commits all an order holds when it also holds stock this process did not reserve for it', async () => {
      const id = randomUUID().slice(0, 8);
      const [a, b] = [`HINT-A-${id}`, `HINT-B-${id}`];
      await product(a, 10);
      await product(b, 10);
      const orderId = randomUUID();
      const context = item(createEnvelope(ReleaseStock, { orderId }, meta)).context;
      // Another process (its own store and cache) reserved the order's stock on b.
      const elsewhere = new ReservationHandler(db.pool, new StockStore(db.pool, new EventStore(db.pool)), 'int');
      await handler.handle(
        readEnvelope(createEnvelope(ReserveStock, { orderId, items: [{ sku: a, quantity: 1 }] }, meta)),
        context,
      );
      await elsewhere.handle(
        readEnvelope(createEnvelope(ReserveStock, { orderId, items: [{ sku: b, quantity: 2 }] }, meta)),
        context,
      );
      await handler.handle(readEnvelope(createEnvelope(CommitStock, { orderId }, meta)), context);
      expect(await held(orderId)).toEqual([
        { sku: a, state: 'committed' },
        { sku: b, state: 'committed' },
      ]);
      const committed = await db.pool.query<{ items: unknown }>(
        "select value::json->'payload'->'items' as items from outbox where key = $1 and value::json->>'type' = 'StockCommitted'",
        [orderId],
      );
      expect(committed.rows.map((row) => row.items)).toEqual([
        [
          { sku: a, quantity: 1 },
          { sku: b, quantity: 2 },
        ],
      ]);
    });
  });

  it('a failing command keeps what was committed before it and rolls back the transaction it is in', async () => {
    const sku = `BATCH-${randomUUID().slice(0, 8)}`;
    await product(sku, 10);
    const settled = randomUUID();
    const reserve = createEnvelope(ReserveStock, { orderId: settled, items: [{ sku, quantity: 3 }] }, meta);
    // CommitStock for an order that holds nothing is refused (a permanent error).
    const commitNothing = createEnvelope(CommitStock, { orderId: randomUUID() }, meta);
    await expect(handler.handleBatch([item(reserve), item(commitNothing)])).rejects.toThrow(/holds no stock/);
    // The reservation on the cached state was its own statement, committed before the failure.
    expect(await available(sku)).toBe(7);
    expect(await replies(settled)).toEqual(['StockReserved']);

    // From the refused command on, the batch is one transaction: what follows it in the batch is rolled back too.
    const rolledBack = randomUUID();
    const after = createEnvelope(ReserveStock, { orderId: rolledBack, items: [{ sku, quantity: 2 }] }, meta);
    await expect(handler.handleBatch([item(commitNothing), item(after)])).rejects.toThrow(/holds no stock/);
    expect(await available(sku)).toBe(7);
    expect(await replies(rolledBack)).toEqual([]);
    const inbox = await db.pool.query('select 1 from inbox where message_id = any($1)', [
      [readEnvelope(commitNothing).id, readEnvelope(after).id],
    ]);
    expect(inbox.rowCount).toBe(0);
  });
});
