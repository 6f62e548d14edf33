import {
  call,
  ORDER_ID,
  orderServiceRoutes,
  problemAnswer,
  routes,
  startTestGateway,
  startWorld,
  type TestGateway,
  type World,
} from '../gateway.spec-helper';

const VALID = { items: [{ sku: 'MUG-001', quantity: 2 }], paymentToken: 'tok_visa' };

describe('orders through the gateway', () => {
  let world: World;
  let gateway: TestGateway;
  let alice: string;

  beforeAll(async () => {
    world = await startWorld();
    gateway = await startTestGateway(world);
    alice = await world.key.sign({ sub: 'alice' });
  });

  afterAll(async () => {
    await gateway?.stop();
    await world?.close();
  });

  beforeEach(() => {
    world.orders.seen.length = 0;
    world.orders.handler = routes(...orderServiceRoutes());
  });

  const place = (body: unknown, headers: Record<string, string> = {}) =>
    call(`${gateway.url}/api/v1/orders`, 'POST', {
      body,
      token: alice,
      headers: { 'idempotency-key': 'key-1', ...headers },
    });

  describe('forwarding', () => {
    it('places an order as the token’s user, never as a client-sent x-user-id', async () => {
      const response = await place(VALID, { 'x-user-id': 'mallory' });

      expect(response.status).toBe(202);
      expect(response.body).toEqual({ orderId: ORDER_ID, status: 'PENDING' });
      expect(response.headers.get('location')).toBe(`/api/v1/orders/${ORDER_ID}`);
      expect(world.orders.seen).toHaveLength(1);
      const [seen] = world.orders.seen;
      expect(seen?.headers['x-user-id']).toBe('alice');
      expect(seen?.headers['idempotency-key']).toBe('key-1');
      expect(seen?.body).toEqual(VALID);
    });

    it('reads, lists and cancels as the token’s user only', async () => {
      const headers = { 'x-user-id': 'mallory' };
      expect((await call(`${gateway.url}/api/v1/orders/${ORDER_ID}`, 'GET', { token: alice, headers })).status).toBe(
        200,
      );
      const list = await call(`${gateway.url}/api/v1/orders?limit=5&cursor=abc_DEF-1`, 'GET', {
        token: alice,
        headers,
      });
      expect(list.status).toBe(200);
      const cancel = await call(`${gateway.url}/api/v1/orders/${ORDER_ID}/cancel`, 'POST', { token: alice, headers });
      expect(cancel.status).toBe(202);

      expect(world.orders.seen.map((request) => [request.method, request.url, request.headers['x-user-id']])).toEqual([
        ['GET', `/orders/${ORDER_ID}`, 'alice'],
        ['GET', '/orders?limit=5&cursor=abc_DEF-1', 'alice'],
        ['POST', `/orders/${ORDER_ID}/cancel`, 'alice'],
      ]);
    });

    it('passes order-service’s problems on with their status (someone else’s order is its 404)', async () => {
      world.orders.handler = () => problemAnswer(404, 'order not found', `no order ${ORDER_ID}`);

      const response = await call(`${gateway.url}/api/v1/orders/${ORDER_ID}`, 'GET', { token: alice });

      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toEqual({
        type: 'https://shop.example/problems/order-not-found',
        title: 'order not found',
        status: 404,
        detail: `no order ${ORDER_ID}`,
        instance: `/api/v1/orders/${ORDER_ID}`,
      });
    });

    it('passes a 409 of a cancel on, and makes the cancel once even when order-service fails', async () => {
      world.orders.handler = () => problemAnswer(409, 'order cannot be cancelled', 'the order is REJECTED');
      const conflict = await call(`${gateway.url}/api/v1/orders/${ORDER_ID}/cancel`, 'POST', { token: alice });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ title: 'order cannot be cancelled', status: 409 });

      world.orders.seen.length = 0;
      world.orders.handler = () => ({ status: 500, body: { message: 'boom at db.internal:5432' } });
      const failed = await call(`${gateway.url}/api/v1/orders/${ORDER_ID}/cancel`, 'POST', { token: alice });
      expect(failed.status).toBe(503);
      expect(world.orders.seen).toHaveLength(1);
    });

    it('retries POST /orders (it carries an Idempotency-Key) with the same key and body', async () => {
      let attempts = 0;
      const placeOrder = routes(...orderServiceRoutes());
      world.orders.handler = (request) => (++attempts < 3 ? 'drop' : placeOrder(request));

      const response = await place(VALID, { 'idempotency-key': 'retried-key' });

      expect(response.status).toBe(202);
      expect(world.orders.seen).toHaveLength(3);
      expect(new Set(world.orders.seen.map((request) => request.headers['idempotency-key']))).toEqual(
        new Set(['retried-key']),
      );
      expect(world.orders.seen.every((request) => JSON.stringify(request.body) === JSON.stringify(VALID))).toBe(true);
    });

    it('answers 503 + Retry-After problem+json when order-service fails, leaking nothing of it', async () => {
      world.orders.handler = () => ({
        status: 500,
        body: { message: 'relation "orders" does not exist at 10.0.0.7:5432', stack: 'Error: at pg/lib/client.js' },
      });

      const response = await call(`${gateway.url}/api/v1/orders`, 'GET', { token: alice });

      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(response.body).toMatchObject({ status: 503, title: 'service unavailable' });
      expect(response.text).not.toMatch(/relation|10\.0\.0\.7|stack|pg\/lib|127\.0\.0\.1|:\d{4,5}/);
    });
  });

  describe('validation at the edge', () => {
    const raw = (body: string, contentType = 'application/json', extra: Record<string, string> = {}) =>
      call(`${gateway.url}/api/v1/orders`, 'POST', {
        body,
        token: alice,
        headers: { 'content-type': contentType, 'idempotency-key': 'key-1', ...extra },
      });
    const line = (sku: string, quantity: unknown = 1) => ({ sku, quantity });
    const lines = (count: number) => Array.from({ length: count }, (_, index) => line(`SKU-${index}`));

    type Case = [name: string, send: () => ReturnType<typeof call>, status: number, path?: string];
    const cases: readonly Case[] = [
      ['malformed JSON', () => raw('{"items": [}'), 400],
      ['an empty JSON body', () => raw(''), 400],
      ['a JSON array', () => place([VALID]), 400, 'body'],
      ['items of the wrong type', () => place({ ...VALID, items: 'MUG-001' }), 400, 'items'],
      ['no items', () => place({ ...VALID, items: [] }), 400, 'items'],
      ['51 lines', () => place({ ...VALID, items: lines(51) }), 400, 'items'],
      ['quantity 0', () => place({ ...VALID, items: [line('MUG-001', 0)] }), 400, 'items.0.quantity'],
      ['quantity 101', () => place({ ...VALID, items: [line('MUG-001', 101)] }), 400, 'items.0.quantity'],
      ['quantity 1.5', () => place({ ...VALID, items: [line('MUG-001', 1.5)] }), 400, 'items.0.quantity'],
      ['quantity as a string', () => place({ ...VALID, items: [line('MUG-001', '2')] }), 400, 'items.0.quantity'],
      ['a duplicate SKU', () => place({ ...VALID, items: [line('MUG-001'), line('MUG-001', 2)] }), 400, 'items'],
      ['an empty SKU', () => place({ ...VALID, items: [line('')] }), 400, 'items.0.sku'],
      ['an unknown field', () => place({ ...VALID, coupon: 'FREE' }), 400, 'coupon'],
      ['an unknown field in a line', () => place({ ...VALID, items: [{ ...line('MUG-001'), priceCents: 1 }] }), 400],
      ['an unknown payment token', () => place({ ...VALID, paymentToken: 'tok_mastercard' }), 400, 'paymentToken'],
      ['no payment token', () => place({ items: VALID.items }), 400, 'paymentToken'],
      [
        'a __proto__ key',
        () => raw('{"items":[{"sku":"MUG-001","quantity":1}],"paymentToken":"tok_visa","__proto__":{"admin":true}}'),
        400,
      ],
      [
        'a constructor.prototype key',
        () => raw('{"constructor":{"prototype":{"admin":true}},"items":[],"paymentToken":"tok_visa"}'),
        400,
      ],
      ['a constructor key', () => place({ ...VALID, constructor: 1 }), 400, 'constructor'],
      ['a text/plain body', () => raw(JSON.stringify(VALID), 'text/plain'), 415],
      ['a form body', () => raw('items=1', 'application/x-www-form-urlencoded'), 415],
      ['an XML body', () => raw('<order/>', 'application/xml'), 415],
      ['a body over 64 KiB', () => place({ ...VALID, padding: 'x'.repeat(70 * 1024) }), 413],
      [
        'no Idempotency-Key',
        () => call(`${gateway.url}/api/v1/orders`, 'POST', { body: VALID, token: alice }),
        400,
        'Idempotency-Key header',
      ],
      ['an empty Idempotency-Key', () => place(VALID, { 'idempotency-key': '' }), 400, 'Idempotency-Key header'],
      ['an Idempotency-Key over 200 characters', () => place(VALID, { 'idempotency-key': 'k'.repeat(201) }), 400],
      ['limit 0', () => call(`${gateway.url}/api/v1/orders?limit=0`, 'GET', { token: alice }), 400, 'limit'],
      ['limit 101', () => call(`${gateway.url}/api/v1/orders?limit=101`, 'GET', { token: alice }), 400, 'limit'],
      ['limit abc', () => call(`${gateway.url}/api/v1/orders?limit=abc`, 'GET', { token: alice }), 400, 'limit'],
      [
        'a bad cursor',
        () => call(`${gateway.url}/api/v1/orders?cursor=not%20a%20cursor!`, 'GET', { token: alice }),
        400,
        'cursor',
      ],
      [
        'an unknown query parameter',
        () => call(`${gateway.url}/api/v1/orders?userId=bob`, 'GET', { token: alice }),
        400,
        'userId',
      ],
      [
        'a __proto__ query parameter',
        () => call(`${gateway.url}/api/v1/orders?__proto__=1`, 'GET', { token: alice }),
        400,
      ],
      ['a malformed order id', () => call(`${gateway.url}/api/v1/orders/not-a-uuid`, 'GET', { token: alice }), 404],
      [
        'an order id that would climb out',
        () => call(`${gateway.url}/api/v1/orders/%2E%2E%2Fproducts`, 'GET', { token: alice }),
        404,
      ],
      [
        'a malformed id to cancel',
        () => call(`${gateway.url}/api/v1/orders/..%2Fx/cancel`, 'POST', { token: alice }),
        404,
      ],
    ];

    // A rest parameter: jest would hand a declared fourth parameter of a three-item row its `done` callback.
    it.each(cases)('refuses %s with a problem+json, never a 5xx', async (...[, send, status, path]: Case) => {
      const response = await send();

      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
      if (path) {
        expect(response.body['errors']).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
      }
      expect(world.orders.seen).toEqual([]);
    });

    it('did not let a __proto__ payload pollute anything', async () => {
      await raw('{"__proto__":{"polluted":true},"items":[],"paymentToken":"tok_visa"}');
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      // The gateway still works normally afterwards.
      expect((await place(VALID)).status).toBe(202);
    });
  });
});
