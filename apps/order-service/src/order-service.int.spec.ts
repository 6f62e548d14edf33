import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import {
  createEnvelope,
  PaymentCaptured,
  PaymentDeclined,
  ProductAdded,
  readEnvelope,
  StockReserved,
} from '@shop/contracts';
import { withPatternRemoved } from '@shop/resilience';
import { createTestDatabase, kafkaBrokers, type TestDatabase, waitFor } from '@shop/testing';
import { loadServiceConfig } from './config';
import { startOrderService } from './order-service';

/**
 * order-service for real (its database, the broker) through its HTTP API, as
 * the gateway calls it. Nobody answers its saga commands here, so orders end
 * REJECTED TIMEOUT: the happy path runs in the end-to-end suite.
 */
describe('order-service (real PostgreSQL and Kafka)', () => {
  let db: TestDatabase;
  let service: Awaited<ReturnType<typeof startOrderService>>;
  let base: string;
  const stackId = `o${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase('orders');
    const config = loadServiceConfig({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      STACK_ID: stackId,
      ORDER_SERVICE_PORT: '0',
      SAGA_TIMEOUT_MS: '1500',
      SAGA_STEP_TIMEOUT_MS: '1000',
      DB_POOL_MAX: '6',
      LOG_LEVEL: 'warn',
    });
    service = await startOrderService(config);
    base = `http://127.0.0.1:${(service.app.getHttpServer().address() as AddressInfo).port}`;
    for (const [sku, priceCents] of [
      ['MUG-001', 1200],
      ['TEE-001', 2500],
    ] as const) {
      const message = createEnvelope(
        ProductAdded,
        { sku, name: sku, priceCents, currency: 'EUR', available: 10 },
        { correlationId: 'seed', causationId: 'seed' },
      );
      await service.saga.handle(readEnvelope(message), {
        topic: 't',
        partition: 0,
        offset: '0',
        key: sku,
        headers: {},
        timestamp: '0',
        attempt: 1,
      });
    }
  }, 60_000);

  afterAll(async () => {
    await service.app.close();
    const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${stackId}.`));
    if (topics.length) await admin.deleteTopics({ topics });
    await admin.disconnect();
    await db.drop();
  });

  const order = { items: [{ sku: 'MUG-001', quantity: 2 }], paymentToken: 'tok_visa' };
  const post = (user: string, key: string | undefined, body: unknown) =>
    fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user, ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });
  const get = (user: string, path: string) => fetch(`${base}${path}`, { headers: { 'x-user-id': user } });

  it('accepts an order priced from its catalog copy, readable at once', async () => {
    const user = randomUUID();
    const response = await post(user, randomUUID(), order);
    expect(response.status).toBe(202);
    const { orderId, status } = (await response.json()) as { orderId: string; status: string };
    expect(status).toBe('PENDING');
    expect(response.headers.get('location')).toBe(`/api/v1/orders/${orderId}`);
    const read = await get(user, `/orders/${orderId}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      orderId,
      status: 'PENDING',
      items: [{ sku: 'MUG-001', quantity: 2, priceCents: 1200 }],
      totalCents: 2400,
      currency: 'EUR',
    });
  });

  it("prices an order at the catalog's price of the moment, also when the catalog changed without this process knowing", async () => {
    const user = randomUUID();
    const priced = async () => {
      const response = await post(user, randomUUID(), order);
      expect(response.status).toBe(202);
      const { orderId } = (await response.json()) as { orderId: string };
      return ((await (await get(user, `/orders/${orderId}`)).json()) as { totalCents: number }).totalCents;
    };
    expect(await priced()).toBe(2400);
    // Another instance's consumer handled a ProductPriceChanged: the catalog row changed, this process was not told.
    const setPrice = (cents: number) =>
      db.pool.query("update catalog set price_cents = $1 where sku = 'MUG-001'", [cents]);
    await setPrice(1500);
    try {
      expect(await priced()).toBe(3000);
      expect(await priced()).toBe(3000);
    } finally {
      await setPrice(1200);
    }
    expect(await priced()).toBe(2400);
  });

  it('gives every duplicate of a key the same order, and refuses the key with another body', async () => {
    const user = randomUUID();
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(user, key, order)));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{ orderId: string }>;
    expect(responses.every((r) => r.status === 200 || r.status === 202)).toBe(true);
    expect(new Set(bodies.map((b) => b.orderId)).size).toBe(1);
    expect(responses.filter((r) => r.status === 202)).toHaveLength(1);
    const { rows } = await db.pool.query('select count(*)::int as n from orders where user_id = $1', [user]);
    expect(rows[0]).toEqual({ n: 1 });

    // Same JSON value with keys in another order is the same body.
    const same = await post(user, key, { paymentToken: 'tok_visa', items: [{ quantity: 2, sku: 'MUG-001' }] });
    expect(same.status).toBe(200);
    const other = await post(user, key, { ...order, items: [{ sku: 'MUG-001', quantity: 3 }] });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toContain('application/problem+json');
    // The key's answer comes first, also for a body the catalog cannot price.
    const unknown = await post(user, key, { ...order, items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] });
    expect(unknown.status).toBe(409);
  });

  it('refuses bad orders with 400 problem+json and writes nothing', async () => {
    const user = randomUUID();
    const bad = [
      [randomUUID(), { ...order, items: [{ sku: 'NOPE-1', quantity: 1 }] }],
      [randomUUID(), { ...order, items: [{ sku: 'MUG-001', quantity: 0 }] }],
      [randomUUID(), { ...order, items: [{ sku: 'MUG-001', quantity: 101 }] }],
      [randomUUID(), { ...order, items: [{ sku: 'MUG-001', quantity: 1.5 }] }],
      [randomUUID(), { ...order, paymentToken: 'tok_unknown' }],
      [randomUUID(), { ...order, extra: true }],
      [randomUUID(), { ...order, items: [order.items[0], order.items[0]] }],
      [undefined, order],
    ] as const;
    for (const [key, body] of bad) {
      const response = await post(user, key, body);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    const { rows } = await db.pool.query('select count(*)::int as n from orders where user_id = $1', [user]);
    expect(rows[0]).toEqual({ n: 0 });
  });

  it("hides another user's order (404 on read and cancel)", async () => {
    const { orderId } = (await (await post(randomUUID(), randomUUID(), order)).json()) as { orderId: string };
    const stranger = randomUUID();
    expect((await get(stranger, `/orders/${orderId}`)).status).toBe(404);
    const cancel = await fetch(`${base}/orders/${orderId}/cancel`, {
      method: 'POST',
      headers: { 'x-user-id': stranger },
    });
    expect(cancel.status).toBe(404);
  });

  it('lists a user’s orders newest first, page by page', async () => {
    const user = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(((await (await post(user, randomUUID(), order)).json()) as { orderId: string }).orderId);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await (await get(user, `/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
        items: Array<{ orderId: string }>;
        nextCursor?: string;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.orderId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await get(user, '/orders?limit=0')).status).toBe(400);
    expect((await get(user, '/orders?limit=101')).status).toBe(400);
    expect((await get(user, '/orders?cursor=not-a-cursor')).status).toBe(400);
  });

  it('rejects an unanswered order with TIMEOUT, compensates, and refunds a capture that comes later', async () => {
    const user = randomUUID();
    const { orderId } = (await (await post(user, randomUUID(), order)).json()) as { orderId: string };
    await waitFor(
      'the order to time out',
      async () => ((await (await get(user, `/orders/${orderId}`)).json()) as { status: string }).status === 'REJECTED',
      { timeoutMs: 15_000 },
    );
    expect(await (await get(user, `/orders/${orderId}`)).json()).toMatchObject({
      status: 'REJECTED',
      reason: 'TIMEOUT',
    });
    const commands = async () =>
      (
        await db.pool.query<{ type: string }>(
          `select value::jsonb->>'type' as type from outbox where key = $1 order by id`,
          [orderId],
        )
      ).rows.map((row) => row.type);
    expect(await commands()).toEqual(['ReserveStock', 'OrderPlaced', 'ReleaseStock', 'RefundPayment', 'OrderRejected']);

    const late = createEnvelope(
      PaymentCaptured,
      { orderId, paymentId: 'p-1', amountCents: 2400, chargeId: 'ch_1' },
      { correlationId: orderId, causationId: 'late' },
    );
    const context = { topic: 't', partition: 0, offset: '0', key: orderId, headers: {}, timestamp: '0', attempt: 1 };
    await service.saga.handle(readEnvelope(late), context);
    await service.saga.handle(readEnvelope(late), context);
    expect((await commands()).filter((type) => type === 'RefundPayment')).toHaveLength(2);
    expect(await (await get(user, `/orders/${orderId}`)).json()).toMatchObject({ status: 'REJECTED' });

    const cancel = await fetch(`${base}/orders/${orderId}/cancel`, { method: 'POST', headers: { 'x-user-id': user } });
    expect(cancel.status).toBe(409);
  });

  describe('patterns proven by removing them', () => {
    /** One request sent five times with one key, as a client retrying after timeouts does: how many orders it placed. */
    const ordersFromFiveRetries = async () => {
      const user = randomUUID();
      const key = randomUUID();
      for (let attempt = 0; attempt < 5; attempt++) await post(user, key, order);
      const { rows } = await db.pool.query<{ n: number }>('select count(*)::int as n from orders where user_id = $1', [
        user,
      ]);
      return rows[0]?.n;
    };

    it('idempotency key: retries of one request place one order (removed: five)', async () => {
      expect(await ordersFromFiveRetries()).toBe(1);
      expect(await withPatternRemoved('idempotency-key', ordersFromFiveRetries)).toBe(5);
    });

    /** An order whose stock was reserved and whose payment was then declined: the commands the saga sent. */
    const commandsOfADeclinedOrder = async () => {
      const user = randomUUID();
      const { orderId } = (await (await post(user, randomUUID(), order)).json()) as { orderId: string };
      const context = { topic: 't', partition: 0, offset: '0', key: orderId, headers: {}, timestamp: '0', attempt: 1 };
      const meta = { correlationId: orderId, causationId: 'proof' };
      await service.saga.handle(
        readEnvelope(createEnvelope(StockReserved, { orderId, items: [{ sku: 'MUG-001', quantity: 2 }] }, meta)),
        context,
      );
      await service.saga.handle(
        readEnvelope(createEnvelope(PaymentDeclined, { orderId, paymentId: 'p-1', reason: 'PAYMENT_DECLINED' }, meta)),
        context,
      );
      const { rows } = await db.pool.query<{ type: string }>(
        `select value::jsonb->>'type' as type from outbox where key = $1 and topic like '%.commands' order by id`,
        [orderId],
      );
      return rows.map((row) => row.type);
    };

    it('compensation: a declined order gives its reserved stock back (removed: the stock stays held)', async () => {
      expect(await commandsOfADeclinedOrder()).toEqual(['ReserveStock', 'ChargePayment', 'ReleaseStock']);
      expect(await withPatternRemoved('compensation', commandsOfADeclinedOrder)).toEqual([
        'ReserveStock',
        'ChargePayment',
      ]);
    });
  });
});
