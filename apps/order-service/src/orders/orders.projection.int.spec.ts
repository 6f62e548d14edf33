import { randomUUID } from 'node:crypto';
import { EVENT_STORE_MIGRATIONS, EventStore, migrate, rebuild } from '@shop/event-store';
import { createTestDatabase, type TestDatabase } from '@shop/testing';
import { ORDER_MIGRATIONS } from '../order/order.migrations';
import type { OrderCommand } from '../order/order.events';
import { OrderStore } from '../order/order.store';
import { ordersProjection } from './orders.projection';

/**
 * The `orders` read model as OrderStore writes it live, next to what
 * replaying order-service's events rebuilds: the same rows, timestamps
 * included (they come from the events, not from the writer's clock).
 */
describe('orders read model (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: EventStore;
  let orders: OrderStore;

  beforeAll(async () => {
    db = await createTestDatabase('orders_projection');
    await migrate(db.pool, [...EVENT_STORE_MIGRATIONS, ...ORDER_MIGRATIONS]);
    store = new EventStore(db.pool);
    orders = new OrderStore(db.pool, store, 'orderproj');
  });

  afterAll(() => db.drop());

  const T0 = Date.parse('2026-03-01T10:00:00.000Z');
  /** A distinct, known instant per step, so created_at and updated_at differ and can be checked. */
  const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

  async function run(orderId: string, ...commands: OrderCommand[]): Promise<void> {
    for (const command of commands) {
      const decided = await orders.execute(orderId, command, { correlationId: orderId, causationId: randomUUID() });
      expect(decided).not.toBe('duplicate');
    }
  }

  const place = (orderId: string, userId: string, now: string): OrderCommand => ({
    kind: 'PlaceOrder',
    orderId,
    userId,
    items: [
      { sku: 'MUG-001', quantity: 2, priceCents: 1200 },
      { sku: 'TEE-001', quantity: 1, priceCents: 2500 },
    ],
    currency: 'EUR',
    paymentToken: 'tok_visa',
    now,
    timeoutMs: 30_000,
  });

  const snapshot = async () =>
    (await db.pool.query<Record<string, unknown>>('select * from orders order by order_id')).rows;

  it('rebuilds exactly the rows written live, for every path an order can take', async () => {
    const user = randomUUID();
    const pending = randomUUID();
    const confirmed = randomUUID();
    const outOfStock = randomUUID();
    const declined = randomUUID();
    const timedOut = randomUUID();
    const cancelled = randomUUID();
    const cancelling = randomUUID();

    await run(pending, place(pending, user, at(0)), { kind: 'RecordStockReserved', now: at(1) });
    await run(
      confirmed,
      place(confirmed, user, at(2)),
      { kind: 'RecordStockReserved', now: at(3) },
      { kind: 'RecordPaymentCaptured', amountCents: 4900, now: at(4) },
    );
    await run(outOfStock, place(outOfStock, user, at(5)), {
      kind: 'RecordStockReservationFailed',
      reason: 'OUT_OF_STOCK',
      now: at(6),
    });
    await run(
      declined,
      place(declined, user, at(7)),
      { kind: 'RecordStockReserved', now: at(8) },
      { kind: 'RecordPaymentDeclined', reason: 'PAYMENT_DECLINED', now: at(9) },
      { kind: 'RecordStockReleased', now: at(10) },
    );
    // Timed out, then a late reservation and capture (which the saga compensates).
    await run(
      timedOut,
      place(timedOut, user, at(11)),
      { kind: 'TimeOut', now: at(45) },
      { kind: 'RecordStockReserved', now: at(46) },
      { kind: 'RecordPaymentCaptured', amountCents: 4900, now: at(47) },
    );
    await run(
      cancelled,
      place(cancelled, user, at(12)),
      { kind: 'RecordStockReserved', now: at(13) },
      { kind: 'RecordPaymentCaptured', amountCents: 4900, now: at(14) },
      { kind: 'Cancel', now: at(15) },
      { kind: 'RecordStockReleased', now: at(16) },
      { kind: 'RecordPaymentRefunded', amountCents: 4900, now: at(17) },
    );
    // A cancellation still waiting for the refund: CONFIRMED, but updated by the release.
    await run(
      cancelling,
      place(cancelling, user, at(18)),
      { kind: 'RecordStockReserved', now: at(19) },
      { kind: 'RecordPaymentCaptured', amountCents: 4900, now: at(20) },
      { kind: 'Cancel', now: at(21) },
      { kind: 'RecordStockReleased', now: at(22) },
    );

    const live = await snapshot();
    const byId = new Map(live.map((row) => [row['order_id'], row]));
    expect(
      [pending, confirmed, outOfStock, declined, timedOut, cancelled, cancelling].map((orderId) => {
        const row = byId.get(orderId);
        return [row?.['status'], row?.['reason']];
      }),
    ).toEqual([
      ['PENDING', null],
      ['CONFIRMED', null],
      ['REJECTED', 'OUT_OF_STOCK'],
      ['REJECTED', 'PAYMENT_DECLINED'],
      ['REJECTED', 'TIMEOUT'],
      ['CANCELLED', 'CANCELLED_BY_CUSTOMER'],
      ['CONFIRMED', null],
    ]);
    expect(byId.get(cancelled)).toMatchObject({
      user_id: user,
      items: [
        { sku: 'MUG-001', quantity: 2, priceCents: 1200 },
        { sku: 'TEE-001', quantity: 1, priceCents: 2500 },
      ],
      total_cents: 4900,
      currency: 'EUR',
      created_at: new Date(at(12)),
      updated_at: new Date(at(17)),
    });
    expect(byId.get(cancelling)?.['updated_at']).toEqual(new Date(at(22)));

    // Spoil the read model, so only a real replay can bring it back.
    await db.pool.query('delete from orders where order_id = $1', [confirmed]);
    await db.pool.query("update orders set status = 'CONFIRMED', reason = null where order_id = $1", [declined]);
    await db.pool.query(
      `insert into orders (order_id, user_id, status, items, total_cents, currency, created_at, updated_at)
       values ($1, $2, 'PENDING', '[]', 0, 'EUR', now(), now())`,
      [randomUUID(), user],
    );
    // Working state of the write side, and the catalog (fed by inventory's events), are not the projection's.
    await db.pool.query(
      "insert into idempotency_keys (user_id, key, body_hash, order_id) values ($1, 'k-1', 'h', $2)",
      [user, pending],
    );
    await db.pool.query(
      "insert into catalog (sku, name, price_cents, currency) values ('MUG-001', 'Mug', 1200, 'EUR')",
    );
    const deadlines = (await db.pool.query('select * from saga_deadlines order by order_id')).rows;
    expect(deadlines.map((row: { order_id: string }) => row.order_id)).toEqual([pending]);

    const events = Number((await db.pool.query<{ n: string }>('select count(*) as n from events')).rows[0]?.n);
    expect(await rebuild(db.pool, store, ordersProjection)).toBe(events);
    expect(await snapshot()).toEqual(live);

    expect((await db.pool.query('select * from saga_deadlines order by order_id')).rows).toEqual(deadlines);
    expect((await db.pool.query('select count(*)::int as n from idempotency_keys')).rows).toEqual([{ n: 1 }]);
    expect((await db.pool.query('select count(*)::int as n from catalog')).rows).toEqual([{ n: 1 }]);
  });

  it('keeps following live writes after a rebuild', async () => {
    const orderId = randomUUID();
    await run(orderId, place(orderId, randomUUID(), at(100)));
    await rebuild(db.pool, store, ordersProjection);
    await run(orderId, { kind: 'RecordStockReservationFailed', reason: 'UNKNOWN_PRODUCT', now: at(101) });
    const live = await snapshot();
    expect(live.find((row) => row['order_id'] === orderId)).toMatchObject({
      status: 'REJECTED',
      reason: 'UNKNOWN_PRODUCT',
      updated_at: new Date(at(101)),
    });
    await rebuild(db.pool, store, ordersProjection);
    expect(await snapshot()).toEqual(live);
  });
});
