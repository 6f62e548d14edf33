import { call, startTestGateway, startWorld, type TestGateway, type World } from '../gateway.spec-helper';

describe('rate limits at the gateway', () => {
  let world: World;
  let gateway: TestGateway | undefined;

  beforeEach(async () => {
    world = await startWorld();
  });

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await world.close();
  });

  function expectTooMany(response: Awaited<ReturnType<typeof call>>, retryAfterSeconds: number, scope: string) {
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    // Whole seconds until one token has refilled; a slow run may have refilled a little already.
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeLessThanOrEqual(retryAfterSeconds);
    expect(retryAfter).toBeGreaterThanOrEqual(retryAfterSeconds - 2);
    expect(response.body).toMatchObject({
      type: 'https://shop.example/problems/too-many-requests',
      title: 'too many requests',
      status: 429,
      detail: expect.stringContaining(scope),
    });
  }

  describe('per client address', () => {
    it('refuses request limit+1 with 429 + Retry-After, on any public route, before asking any service', async () => {
      // 3 a minute: a token every 20 s.
      gateway = await startTestGateway(world, { RATE_LIMIT_PER_IP_PER_MIN: '3' });
      const products = `${gateway.url}/api/v1/products`;

      for (let request = 1; request <= 3; request++) expect((await call(products, 'GET')).status).toBe(200);
      const refused = await call(products, 'GET');

      expectTooMany(refused, 20, 'client address');
      expect(world.inventory.seenAt('/products')).toHaveLength(3);
      // The limit is the address's, not the route's.
      const login = await call(`${gateway.url}/api/v1/auth/login`, 'POST', { body: { email: 'a', password: 'b' } });
      expectTooMany(login, 20, 'client address');
      expect(world.users.seenAt('/auth')).toEqual([]);
    });

    it('does not believe a client-sent x-forwarded-for', async () => {
      gateway = await startTestGateway(world, { RATE_LIMIT_PER_IP_PER_MIN: '2' });
      const products = `${gateway.url}/api/v1/products`;
      for (let request = 1; request <= 2; request++) expect((await call(products, 'GET')).status).toBe(200);

      const spoofed = await call(products, 'GET', { headers: { 'x-forwarded-for': '198.51.100.7' } });

      expect(spoofed.status).toBe(429);
    });

    it('leaves health and metrics alone, and counts the refusals in /metrics', async () => {
      gateway = await startTestGateway(world, { RATE_LIMIT_PER_IP_PER_MIN: '1' });
      expect((await call(`${gateway.url}/api/v1/products`, 'GET')).status).toBe(200);
      expect((await call(`${gateway.url}/api/v1/products`, 'GET')).status).toBe(429);

      expect((await call(`${gateway.url}/health/live`, 'GET')).status).toBe(200);
      const metrics = await call(`${gateway.url}/metrics`, 'GET');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^gateway_rate_limited_total\{scope="ip"\} [1-9]\d*$/m);
    });
  });

  describe('per user', () => {
    it('limits each token subject on its own: one user’s 429 leaves another’s requests alone', async () => {
      // 2 a minute per user: a token every 30 s. The per-address limit stays out of the way.
      gateway = await startTestGateway(world, { RATE_LIMIT_PER_USER_PER_MIN: '2' });
      const orders = `${gateway.url}/api/v1/orders`;
      const alice = await world.key.sign({ sub: 'alice' });
      const bob = await world.key.sign({ sub: 'bob' });

      expect((await call(orders, 'GET', { token: alice })).status).toBe(200);
      expect((await call(orders, 'GET', { token: alice })).status).toBe(200);
      const refused = await call(orders, 'GET', { token: alice });

      expectTooMany(refused, 30, 'user');
      expect((await call(orders, 'GET', { token: bob })).status).toBe(200);
      expect((await call(orders, 'GET', { token: bob })).status).toBe(200);
      expectTooMany(await call(orders, 'GET', { token: bob }), 30, 'user');
      expect(world.orders.seenAt('/orders').map((request) => request.headers['x-user-id'])).toEqual([
        'alice',
        'alice',
        'bob',
        'bob',
      ]);
    });

    it('counts by subject, not by token: a fresh token of the same user is still limited', async () => {
      gateway = await startTestGateway(world, { RATE_LIMIT_PER_USER_PER_MIN: '1' });
      const first = await world.key.sign({ sub: 'alice' });
      const second = await world.key.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600 });
      expect(second).not.toBe(first);

      expect((await call(`${gateway.url}/api/v1/me`, 'GET', { token: first })).status).toBe(200);
      expectTooMany(await call(`${gateway.url}/api/v1/orders`, 'GET', { token: second }), 60, 'user');
    });

    it('is checked only after the token: a bad token never uses up a user’s requests', async () => {
      gateway = await startTestGateway(world, { RATE_LIMIT_PER_USER_PER_MIN: '1' });
      const alice = await world.key.sign({ sub: 'alice' });

      for (let attempt = 0; attempt < 3; attempt++) {
        expect((await call(`${gateway.url}/api/v1/me`, 'GET', { token: `${alice}x` })).status).toBe(401);
      }

      expect((await call(`${gateway.url}/api/v1/me`, 'GET', { token: alice })).status).toBe(200);
    });
  });
});
