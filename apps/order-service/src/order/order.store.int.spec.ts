import { randomUUID } from 'node:crypto';
import { EVENT_STORE_MIGRATIONS, EventStore, migrate } from '@shop/event-store';
import { createTestDatabase, type TestDatabase } from '@shop/testing';
import type { OrderCommand } from './order.events';
import { ORDER_MIGRATIONS } from './order.migrations';
import { type MessageMeta, OrderStore } from './order.store';

/**
 * OrderStore keeps the state each append leaves (StateCache) and decides the
 * next command on it without reading the stream. These are the ways that
 * state can be wrong, and what the store does about each: the database, not
 * the cache, decides.
 */
describe('OrderStore state cache (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: EventStore;
  let orders: OrderStore;

  beforeAll(async () => {
    db = await createTestDatabase('order_store_cache');
    await migrate(db.pool, [...EVENT_STORE_MIGRATIONS, ...ORDER_MIGRATIONS]);
    store = new EventStore(db.pool);
    orders = new OrderStore(db.pool, store, 'ordercache');
  });

  afterEach(() => jest.restoreAllMocks());
  afterAll(() => db.drop());

  const now = () => new Date().toISOString();
  const meta = (): MessageMeta => ({ correlationId: randomUUID(), causationId: randomUUID() });
  const place = (orderId: string): OrderCommand => ({
    kind: 'PlaceOrder',
    orderId,
    userId: randomUUID(),
    items: [{ sku: 'MUG-001', quantity: 2, priceCents: 1200 }],
    currency: 'EUR',
    paymentToken: 'tok_visa',
    now: now(),
    timeoutMs: 30_000,
  });

  async function reservedOrder(): Promise<string> {
    const orderId = randomUUID();
    await orders.execute(orderId, place(orderId), meta());
    await orders.execute(orderId, { kind: 'RecordStockReserved', now: now() }, meta());
    return orderId;
  }

  /** A command in a transaction that rolls back: its state reaches the cache, its events never the stream. */
  async function rolledBack(orderId: string, command: OrderCommand): Promise<void> {
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      const decided = await orders.execute(orderId, command, meta(), { client });
      expect(decided).not.toBe('duplicate');
      if (decided !== 'duplicate') expect(decided.events.length).toBeGreaterThan(0);
      await client.query('rollback');
    } finally {
      client.release();
    }
  }

  const types = async (orderId: string) =>
    (await store.readStream(`order-${orderId}`)).map((event) => `${event.streamVersion}:${event.type}`);

  it('decides a command on the state its last append left, without reading the stream', async () => {
    const orderId = await reservedOrder();
    const reads = jest.spyOn(store, 'readStream');
    const decided = await orders.execute(
      orderId,
      { kind: 'RecordPaymentCaptured', amountCents: 2400, now: now() },
      meta(),
    );
    expect(reads).not.toHaveBeenCalled();
    expect(decided !== 'duplicate' && decided.after.status).toBe('CONFIRMED');
    expect(await types(orderId)).toEqual(['1:OrderPlaced', '2:StockReserved', '3:PaymentCaptured', '4:OrderConfirmed']);
  });

  it('places a new order without reading its stream, and refuses a second placement on what the stream holds', async () => {
    const orderId = randomUUID();
    const reads = jest.spyOn(store, 'readStream');
    await orders.execute(orderId, place(orderId), meta());
    expect(reads).not.toHaveBeenCalled();
    // A process that never saw the order (its cache is empty) assumes a new stream; the append says otherwise.
    const other = new OrderStore(db.pool, store, 'ordercache');
    await expect(other.execute(orderId, place(orderId), meta())).rejects.toMatchObject({ reason: 'ORDER_EXISTS' });
    expect(await types(orderId)).toEqual(['1:OrderPlaced']);
  });

  it('decides again on the stream what a rolled-back state would have ignored', async () => {
    const orderId = await reservedOrder();
    await rolledBack(orderId, { kind: 'RecordPaymentCaptured', amountCents: 2400, now: now() });
    // The redelivered capture: on the cached (rolled-back) state it is already recorded and changes nothing.
    const decided = await orders.execute(
      orderId,
      { kind: 'RecordPaymentCaptured', amountCents: 2400, now: now() },
      meta(),
    );
    expect(decided !== 'duplicate' && decided.events.map((event) => event.type)).toEqual([
      'PaymentCaptured',
      'OrderConfirmed',
    ]);
    expect((await orders.load(orderId)).state.status).toBe('CONFIRMED');
  });

  it('refuses to append on a cached state when another writer put a different event at its version', async () => {
    const orderId = await reservedOrder();
    // Cached: REJECTED at version 3 (an event the stream never kept).
    await rolledBack(orderId, { kind: 'RecordPaymentDeclined', reason: 'PAYMENT_DECLINED', now: now() });
    // Another process (its own cache) writes version 3: the customer's cancellation.
    const other = new OrderStore(db.pool, store, 'ordercache');
    await other.execute(orderId, { kind: 'Cancel', now: now() }, meta());

    const decided = await orders.execute(orderId, { kind: 'RecordStockReleased', now: now() }, meta());
    const stored = await new OrderStore(db.pool, store, 'ordercache').load(orderId);
    // Decided on the stream (PENDING, cancelling), not on the cached REJECTED: the version alone matched.
    expect(decided !== 'duplicate' && decided.after).toEqual(stored.state);
    expect(stored.state).toMatchObject({ status: 'PENDING', cancelling: true, cancelStockReleased: true });
    expect(await types(orderId)).toEqual([
      '1:OrderPlaced',
      '2:StockReserved',
      '3:CancellationRequested',
      '4:StockReleased',
    ]);
  });

  it('decides a refusal again on the stream', async () => {
    const orderId = await reservedOrder();
    // Cached: REJECTED, which cannot be cancelled; the stream says PENDING, which can.
    await rolledBack(orderId, { kind: 'RecordPaymentDeclined', reason: 'PAYMENT_DECLINED', now: now() });
    const decided = await orders.execute(orderId, { kind: 'Cancel', now: now() }, meta());
    expect(decided !== 'duplicate' && decided.events.map((event) => event.type)).toEqual(['CancellationRequested']);
  });
});
