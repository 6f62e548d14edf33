import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { EVENT_STORE_MIGRATIONS, migrate } from '@shop/event-store';
import { adminDatabaseUrl } from '@shop/testing';
import { audit, type AuditReport } from './invariants';

/**
 * The auditor against a fake stack on real PostgreSQL: five service databases
 * with the tables it reads, holding a consistent baseline (no violation),
 * then one kind of corruption per test, each of which must be named.
 *
 * The event store's tables come from its own migrations; the service tables
 * are copied from their migrations (apps/chaos may not import other apps):
 * orders from order-service's order.migrations.ts, products and reservations
 * from inventory-service's products.projection.ts, charges from the payment
 * provider's ledger.migrations.ts.
 */
const SERVICE_TABLES: Record<string, string> = {
  order: `
    create table orders (
      order_id    uuid        primary key,
      user_id     text        not null,
      status      text        not null,
      reason      text,
      items       jsonb       not null,
      total_cents integer     not null,
      currency    text        not null,
      created_at  timestamptz not null,
      updated_at  timestamptz not null
    );`,
  inventory: `
    create table products (
      sku         text primary key,
      name        text    not null,
      price_cents integer not null,
      currency    text    not null,
      available   integer not null check (available >= 0),
      updated_at  timestamptz not null default now()
    );
    create table reservations (
      order_id text    not null,
      sku      text    not null,
      quantity integer not null,
      state    text    not null check (state in ('reserved', 'committed', 'released', 'returned')),
      primary key (order_id, sku)
    );`,
  payment: '',
  user: '',
  payment_provider: `
    create table charges (
      charge_id      text        primary key,
      reference      text        not null,
      amount_cents   bigint      not null check (amount_cents > 0),
      currency       text        not null check (currency ~ '^[A-Z]{3}$'),
      status         text        not null check (status in ('captured', 'declined')),
      decline_code   text,
      refunded_cents bigint      not null default 0,
      created_at     timestamptz not null default now(),
      check ((status = 'declined') = (decline_code is not null)),
      check (refunded_cents >= 0 and refunded_cents <= amount_cents),
      check (status = 'captured' or refunded_cents = 0)
    );`,
};
const SERVICES = Object.keys(SERVICE_TABLES);
const EVENT_SOURCED = ['order', 'inventory', 'payment', 'user'];

const stackId = `aud${randomBytes(4).toString('hex')}`;
const pools = new Map<string, pg.Pool>();
const db = (service: string): pg.Pool => {
  const pool = pools.get(service);
  if (!pool) throw new Error(`no database for ${service}`);
  return pool;
};
const target = () => ({ adminUrl: adminDatabaseUrl(), stackId, pendingGraceMs: 60_000 });

const MUG = 'AUD-MUG';
const TEE = 'AUD-TEE';
const confirmed = randomUUID();
const rejected = randomUUID();
const cancelled = randomUUID();
const pending = randomUUID();
const user = randomUUID();
/** The ids of the messages the consumers handled (each in its service's inbox). */
const message = {
  reserveConfirmed: randomUUID(),
  reserveRejected: randomUUID(),
  commitConfirmed: randomUUID(),
  releaseRejected: randomUUID(),
  reservePending: randomUUID(),
  reserveCancelled: randomUUID(),
  commitCancelled: randomUUID(),
  releaseCancelled: randomUUID(),
  chargeConfirmed: randomUUID(),
  chargeRejected: randomUUID(),
  chargeCancelled: randomUUID(),
  refundCancelled: randomUUID(),
};

/** One event, in a transaction of its own (as every consumer's step commits on its own). */
async function event(
  service: string,
  streamId: string,
  version: number,
  type: string,
  data: Record<string, unknown>,
  causationId: string,
): Promise<void> {
  await db(service).query(
    `insert into events (stream_id, stream_version, event_id, type, data, metadata)
     values ($1, $2, $3, $4, $5, $6)`,
    [streamId, version, randomUUID(), type, data, { correlationId: streamId, causationId }],
  );
}

async function stream(
  service: string,
  streamId: string,
  events: ReadonlyArray<readonly [string, Record<string, unknown>, string]>,
): Promise<void> {
  for (const [index, [type, data, causationId]] of events.entries()) {
    await event(service, streamId, index + 1, type, data, causationId);
  }
}

async function inbox(service: string, consumer: string, ...messageIds: string[]): Promise<void> {
  for (const id of messageIds) {
    await db(service).query('insert into inbox (consumer, message_id) values ($1, $2)', [consumer, id]);
  }
}

async function order(
  orderId: string,
  status: string,
  reason: string | null,
  items: ReadonlyArray<{ sku: string; quantity: number; priceCents: number }>,
): Promise<void> {
  const total = items.reduce((sum, item) => sum + item.quantity * item.priceCents, 0);
  await db('order').query(
    `insert into orders (order_id, user_id, status, reason, items, total_cents, currency, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, 'EUR', now(), now())`,
    [orderId, user, status, reason, JSON.stringify(items), total],
  );
}

async function charge(
  chargeId: string,
  reference: string,
  amountCents: number,
  outcome: { status: 'captured'; refundedCents: number } | { status: 'declined'; declineCode: string },
): Promise<void> {
  await db('payment_provider').query(
    `insert into charges (charge_id, reference, amount_cents, currency, status, decline_code, refunded_cents)
     values ($1, $2, $3, 'EUR', $4, $5, $6)`,
    [
      chargeId,
      reference,
      amountCents,
      outcome.status,
      outcome.status === 'declined' ? outcome.declineCode : null,
      outcome.status === 'captured' ? outcome.refundedCents : 0,
    ],
  );
}

/**
 * A CONFIRMED order holding 2 mugs with one capture; a REJECTED order (declined) whose mug was
 * released; a CANCELLED order whose 3 T-shirts were returned and whose capture was refunded;
 * a PENDING order, placed just now, holding 1 mug. Mugs: 10 received = 7 available + 3 held;
 * T-shirts: 9 received (5, then two restocks of 2) = 9 available.
 */
async function seedBaseline(): Promise<void> {
  await order(confirmed, 'CONFIRMED', null, [{ sku: MUG, quantity: 2, priceCents: 1200 }]);
  await order(rejected, 'REJECTED', 'PAYMENT_DECLINED', [{ sku: MUG, quantity: 1, priceCents: 1200 }]);
  await order(cancelled, 'CANCELLED', 'CANCELLED_BY_CUSTOMER', [{ sku: TEE, quantity: 3, priceCents: 500 }]);
  await order(pending, 'PENDING', null, [{ sku: MUG, quantity: 1, priceCents: 1200 }]);
  const at = new Date().toISOString();
  await stream('order', `order-${confirmed}`, [
    ['OrderPlaced', { at }, 'idempotency-key:k1'],
    ['StockReserved', { at }, randomUUID()],
    ['PaymentCaptured', { amountCents: 2400, at }, randomUUID()],
    ['OrderConfirmed', { at }, randomUUID()],
  ]);
  await stream('order', `order-${rejected}`, [
    ['OrderPlaced', { at }, 'idempotency-key:k2'],
    ['OrderRejected', { reason: 'PAYMENT_DECLINED', at }, randomUUID()],
  ]);
  await stream('order', `order-${cancelled}`, [
    ['OrderPlaced', { at }, 'idempotency-key:k3'],
    ['OrderConfirmed', { at }, randomUUID()],
    ['CancellationRequested', { at }, `cancel:${cancelled}`],
    ['OrderCancelled', { at }, randomUUID()],
  ]);
  await stream('order', `order-${pending}`, [['OrderPlaced', { at }, 'idempotency-key:k4']]);
  await db('order').query(
    `insert into outbox (message_id, topic, key, value, status, sent_at) values
       ($1, 'order.commands', $2, '{}', 'sent', now()), ($3, 'order.commands', $4, '{}', 'pending', null)`,
    [randomUUID(), confirmed, randomUUID(), pending],
  );

  await stream('inventory', `sku-${MUG}`, [
    ['ProductAdded', { sku: MUG, name: 'Mug', priceCents: 1200, currency: 'EUR' }, `seed-${MUG}`],
    ['StockReceived', { quantity: 10 }, `seed-${MUG}`],
    ['StockReserved', { orderId: confirmed, quantity: 2 }, message.reserveConfirmed],
    ['StockReserved', { orderId: rejected, quantity: 1 }, message.reserveRejected],
    ['ReservationCommitted', { orderId: confirmed, quantity: 2 }, message.commitConfirmed],
    ['ReservationReleased', { orderId: rejected, quantity: 1 }, message.releaseRejected],
    ['StockReserved', { orderId: pending, quantity: 1 }, message.reservePending],
  ]);
  await stream('inventory', `sku-${TEE}`, [
    ['ProductAdded', { sku: TEE, name: 'T-shirt', priceCents: 500, currency: 'EUR' }, `seed-${TEE}`],
    ['StockReceived', { quantity: 5 }, `seed-${TEE}`],
    ['StockReserved', { orderId: cancelled, quantity: 3 }, message.reserveCancelled],
    ['ReservationCommitted', { orderId: cancelled, quantity: 3 }, message.commitCancelled],
    ['StockReturned', { orderId: cancelled, quantity: 3 }, message.releaseCancelled],
    // Two restocks by an operator share a causation id, but no consumer handled it: not a duplicate.
    ['StockReceived', { quantity: 2 }, `restock-${TEE}`],
    ['StockReceived', { quantity: 2 }, `restock-${TEE}`],
  ]);
  await db('inventory').query(
    `insert into products (sku, name, price_cents, currency, available) values
       ($1, 'Mug', 1200, 'EUR', 7), ($2, 'T-shirt', 500, 'EUR', 9)`,
    [MUG, TEE],
  );
  await db('inventory').query(
    `insert into reservations (order_id, sku, quantity, state) values
       ($1, $5, 2, 'committed'), ($2, $5, 1, 'released'), ($3, $5, 1, 'reserved'), ($4, $6, 3, 'returned')`,
    [confirmed, rejected, pending, cancelled, MUG, TEE],
  );
  await inbox(
    'inventory',
    'inventory-commands',
    message.reserveConfirmed,
    message.reserveRejected,
    message.commitConfirmed,
    message.releaseRejected,
    message.reservePending,
    message.reserveCancelled,
    message.commitCancelled,
    message.releaseCancelled,
  );

  // One message may cause several steps of a payment stream, each its own commit, each a different event.
  await stream('payment', `payment-${confirmed}`, [
    ['PaymentRequested', { paymentId: randomUUID(), amountCents: 2400, currency: 'EUR' }, message.chargeConfirmed],
    ['PaymentCaptured', { chargeId: 'ch_confirmed', amountCents: 2400 }, message.chargeConfirmed],
  ]);
  await stream('payment', `payment-${rejected}`, [
    ['PaymentRequested', { paymentId: randomUUID(), amountCents: 1200, currency: 'EUR' }, message.chargeRejected],
    ['PaymentDeclined', { chargeId: 'ch_rejected', reason: 'PAYMENT_DECLINED' }, message.chargeRejected],
  ]);
  await stream('payment', `payment-${cancelled}`, [
    ['PaymentRequested', { paymentId: randomUUID(), amountCents: 1500, currency: 'EUR' }, message.chargeCancelled],
    ['PaymentCaptured', { chargeId: 'ch_cancelled', amountCents: 1500 }, message.chargeCancelled],
    ['RefundRequested', {}, message.refundCancelled],
    ['PaymentRefunded', { refundId: 're_cancelled', amountCents: 1500 }, message.refundCancelled],
  ]);
  await inbox(
    'payment',
    'payment-commands',
    message.chargeConfirmed,
    message.chargeRejected,
    message.chargeCancelled,
    message.refundCancelled,
  );

  await stream('user', `user-${user}`, [['UserRegistered', { email: 'a@example.com' }, 'register']]);

  await charge('ch_confirmed', confirmed, 2400, { status: 'captured', refundedCents: 0 });
  await charge('ch_rejected', rejected, 1200, { status: 'declined', declineCode: 'card_declined' });
  await charge('ch_cancelled', cancelled, 1500, { status: 'captured', refundedCents: 1500 });
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  for (const service of SERVICES) {
    const name = `${stackId}_${service}`;
    await admin((client) => client.query(`create database ${client.escapeIdentifier(name)}`));
    const url = new URL(adminDatabaseUrl());
    url.pathname = `/${name}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    // pool.end() resolves before its connections have closed; one that afterAll's pg_terminate_backend
    // reaches then errors on the idle pool, which must not fail the suite (as createTestDatabase's pools).
    pool.on('error', () => undefined);
    pools.set(service, pool);
    if (EVENT_SOURCED.includes(service)) await migrate(pool, EVENT_STORE_MIGRATIONS);
    const own = SERVICE_TABLES[service];
    if (own) await pool.query(own);
  }
});

afterAll(async () => {
  for (const pool of pools.values()) await pool.end();
  await admin(async (client) => {
    for (const service of SERVICES) {
      const name = `${stackId}_${service}`;
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      await client.query(`drop database if exists ${client.escapeIdentifier(name)}`);
    }
  });
});

beforeEach(async () => {
  await db('order').query('truncate orders, events, outbox, inbox restart identity');
  await db('inventory').query('truncate products, reservations, events, outbox, inbox restart identity');
  await db('payment').query('truncate events, outbox, inbox restart identity');
  await db('user').query('truncate events, outbox, inbox restart identity');
  await db('payment_provider').query('truncate charges');
  await seedBaseline();
});

describe('invariant auditor (real PostgreSQL, a fake stack)', () => {
  it('finds nothing wrong with a consistent stack, and counts what it read', async () => {
    const report: AuditReport = await audit(target());

    expect(report.violations).toEqual([]);
    expect(report.counts).toEqual({
      orders: { CONFIRMED: 1, REJECTED: 1, CANCELLED: 1, PENDING: 1 },
      skus: 2,
      stock: {
        [MUG]: { received: 10, available: 7, held: 3 },
        [TEE]: { received: 9, available: 9, held: 0 },
      },
      capturedCents: 2400 + 1500,
      refundedCents: 1500,
      streamsChecked: 4 + 2 + 3 + 1,
      pendingOutbox: 1,
    });
  });

  it('audits only the orders it is given, money included', async () => {
    const report = await audit(target(), { orderIds: [confirmed, cancelled] });

    expect(report.violations).toEqual([]);
    expect(report.counts.orders).toEqual({ CONFIRMED: 1, CANCELLED: 1 });
    expect(report.counts.capturedCents).toBe(3900);
    expect(report.counts.refundedCents).toBe(1500);
  });

  it('names a SKU that lost a unit of stock', async () => {
    await db('inventory').query('update products set available = available - 1 where sku = $1', [MUG]);

    expect((await audit(target())).violations).toEqual([
      `invariant 2: ${MUG} received 10 but available + held = 9`,
      `invariant 4: products row of ${MUG} says 6 available, its events give 7`,
    ]);
  });

  it('names a SKU whose available stock went below zero at some instant', async () => {
    // 7 available, 9 reserved, then released: the read model ends right, its history does not.
    const ghost = randomUUID();
    await event('inventory', `sku-${MUG}`, 8, 'StockReserved', { orderId: ghost, quantity: 9 }, randomUUID());
    await event('inventory', `sku-${MUG}`, 9, 'ReservationReleased', { orderId: ghost, quantity: 9 }, randomUUID());
    await db('inventory').query(
      "insert into reservations (order_id, sku, quantity, state) values ($1, $2, 9, 'released')",
      [ghost, MUG],
    );

    expect((await audit(target())).violations).toEqual([
      `invariant 2: ${MUG} went to -2 available at version 8 of its stream`,
    ]);
  });

  it('names a CONFIRMED order that was captured twice', async () => {
    await charge('ch_twice', confirmed, 2400, { status: 'captured', refundedCents: 0 });

    const report = await audit(target());

    expect(report.violations).toEqual([
      `invariant 3: CONFIRMED order ${confirmed} has 2 captures netting 4800, expected one of 2400`,
    ]);
    expect(report.counts.capturedCents).toBe(2400 * 2 + 1500);
  });

  it('names a REJECTED order with a capture that was not refunded', async () => {
    await charge('ch_late', rejected, 1200, { status: 'captured', refundedCents: 0 });

    expect((await audit(target())).violations).toEqual([
      `invariant 3: REJECTED order ${rejected} has 1200 cents captured and not refunded`,
    ]);
  });

  it('names money kept for an order that does not exist, when auditing the whole stack', async () => {
    const stranger = randomUUID();
    await charge('ch_stranger', stranger, 700, { status: 'captured', refundedCents: 0 });

    expect((await audit(target())).violations).toEqual([
      `invariant 3: charge ch_stranger keeps 700 cents for order ${stranger}, which does not exist`,
    ]);
    expect((await audit(target(), { orderIds: [confirmed] })).violations).toEqual([]);
  });

  it('names an order still PENDING past the grace period', async () => {
    await db('order').query("update orders set created_at = now() - interval '10 minutes' where order_id = $1", [
      pending,
    ]);

    expect((await audit(target())).violations).toEqual([
      `invariant 1: order ${pending} is PENDING past the saga timeout`,
    ]);
  });

  it('names a stream with a version gap', async () => {
    await event('order', `order-${confirmed}`, 6, 'OrderConfirmed', { at: new Date().toISOString() }, randomUUID());

    expect((await audit(target())).violations).toEqual([
      `invariant 4: order stream order-${confirmed} has a version gap`,
    ]);
  });

  it('names an accepted order that does not exist', async () => {
    const lost = randomUUID();

    const report = await audit(target(), { orderIds: [confirmed, lost] });

    expect(report.violations).toEqual([`invariant 1: order ${lost} was accepted but does not exist`]);
    expect(report.counts.capturedCents).toBe(2400);
  });

  it('names a stock command applied twice to one order', async () => {
    // The pending order's mug reserved a second time (inventory's events carry no causation id).
    await event('inventory', `sku-${MUG}`, 8, 'StockReserved', { orderId: pending, quantity: 1 }, randomUUID());

    expect((await audit(target())).violations).toEqual([
      `invariant 4: inventory stream sku-${MUG} holds StockReserved for order ${pending} again at version 8`,
      `invariant 4: products row of ${MUG} says 7 available, its events give 6`,
    ]);
  });

  it('names a handled message whose effect was applied twice', async () => {
    // The capture recorded again, in a later commit, for the same ChargePayment.
    await event(
      'payment',
      `payment-${confirmed}`,
      3,
      'PaymentCaptured',
      { chargeId: 'ch_confirmed', amountCents: 2400 },
      message.chargeConfirmed,
    );

    expect((await audit(target())).violations).toEqual([
      `invariant 4: payment stream payment-${confirmed} holds PaymentCaptured from message ${message.chargeConfirmed} 2 times`,
    ]);
  });
});
