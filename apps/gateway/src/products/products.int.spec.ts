import { waitFor } from '@shop/testing';
import {
  call,
  inventoryRoutes,
  PRODUCTS,
  routes,
  startTestGateway,
  startWorld,
  type TestGateway,
  type World,
} from '../gateway.spec-helper';

const MUG = PRODUCTS[0];

/**
 * Each test starts its own gateway: a test that takes inventory-service down
 * leaves an open breaker and a filled fallback cache behind.
 */
describe('products through the gateway', () => {
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

  const start = async (env: NodeJS.ProcessEnv = {}) => {
    gateway = await startTestGateway(world, env);
    return gateway.url;
  };
  const inventoryDown = () => {
    world.inventory.handler = () => 'drop';
  };
  const inventoryUp = () => {
    world.inventory.handler = routes(...inventoryRoutes());
  };

  function expectUnavailable(response: Awaited<ReturnType<typeof call>>, instance: string) {
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(response.headers.get('x-cache')).toBeNull();
    expect(response.body).toMatchObject({ status: 503, title: 'service unavailable', instance });
    expect(response.text).not.toMatch(/127\.0\.0\.1|:\d{4,5}/);
  }

  describe('while inventory-service answers', () => {
    it('passes the catalog through, fresh', async () => {
      const url = await start();

      const response = await call(`${url}/api/v1/products`, 'GET');

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(response.body).toEqual({ items: PRODUCTS });
      expect(response.headers.get('x-cache')).toBeNull();
      expect(response.headers.get('age')).toBeNull();
      expect(world.inventory.seen.map((request) => [request.method, request.url])).toEqual([['GET', '/products']]);
    });

    it('passes one product through', async () => {
      const url = await start();

      const response = await call(`${url}/api/v1/products/MUG-001`, 'GET');

      expect(response.status).toBe(200);
      expect(response.body).toEqual(MUG);
      expect(response.headers.get('x-cache')).toBeNull();
      expect(world.inventory.seenAt('/products/').map((request) => request.url)).toEqual(['/products/MUG-001']);
    });

    it('passes the 404 of an unknown SKU on as problem+json, and never serves it later as stale', async () => {
      const url = await start();

      const unknown = await call(`${url}/api/v1/products/NOPE-404`, 'GET');

      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toContain('application/problem+json');
      expect(unknown.body).toMatchObject({
        title: 'product not found',
        status: 404,
        instance: '/api/v1/products/NOPE-404',
      });
      expect(world.inventory.seenAt('/products/NOPE-404')).toHaveLength(1);

      inventoryDown();
      expectUnavailable(await call(`${url}/api/v1/products/NOPE-404`, 'GET'), '/api/v1/products/NOPE-404');
    });

    it('answers 404 for a SKU that would change the upstream path, never asking inventory-service', async () => {
      const url = await start();

      const response = await call(`${url}/api/v1/products/%2E%2E`, 'GET');

      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(world.inventory.seen).toEqual([]);
    });
  });

  describe('while inventory-service is down', () => {
    it('serves the last good catalog and product, marked `x-cache: stale` with an `age`', async () => {
      const url = await start();
      expect((await call(`${url}/api/v1/products`, 'GET')).status).toBe(200);
      expect((await call(`${url}/api/v1/products/MUG-001`, 'GET')).status).toBe(200);
      inventoryDown();
      world.inventory.seen.length = 0;

      const list = await call(`${url}/api/v1/products`, 'GET');
      const one = await call(`${url}/api/v1/products/MUG-001`, 'GET');

      expect(list.status).toBe(200);
      expect(list.body).toEqual({ items: PRODUCTS });
      expect(one.status).toBe(200);
      expect(one.body).toEqual(MUG);
      for (const response of [list, one]) {
        expect(response.headers.get('x-cache')).toBe('stale');
        expect(response.headers.get('age')).toMatch(/^\d+$/);
        expect(Number(response.headers.get('age'))).toBeLessThan(300);
      }
      // It did ask inventory-service first (and retried) before falling back.
      expect(world.inventory.seenAt('/products').length).toBeGreaterThanOrEqual(2);
    });

    it('answers 503 + Retry-After problem+json for what it never read', async () => {
      const url = await start();
      expect((await call(`${url}/api/v1/products/MUG-001`, 'GET')).status).toBe(200);
      inventoryDown();

      expectUnavailable(await call(`${url}/api/v1/products`, 'GET'), '/api/v1/products');
      expectUnavailable(await call(`${url}/api/v1/products/TEE-001`, 'GET'), '/api/v1/products/TEE-001');
    });

    it('answers fresh again, without `x-cache`, once inventory-service is back', async () => {
      const url = await start();
      expect((await call(`${url}/api/v1/products`, 'GET')).status).toBe(200);
      inventoryDown();
      expect((await call(`${url}/api/v1/products`, 'GET')).headers.get('x-cache')).toBe('stale');

      inventoryUp();

      const fresh = await call(`${url}/api/v1/products`, 'GET');
      expect(fresh.status).toBe(200);
      expect(fresh.headers.get('x-cache')).toBeNull();
      expect(fresh.headers.get('age')).toBeNull();
    });

    it('counts `age` in seconds, and stops serving an entry older than FALLBACK_MAX_AGE_S', async () => {
      const url = await start({ FALLBACK_MAX_AGE_S: '2' });
      expect((await call(`${url}/api/v1/products`, 'GET')).status).toBe(200);
      inventoryDown();

      const first = await call(`${url}/api/v1/products`, 'GET');
      expect(first.headers.get('x-cache')).toBe('stale');
      expect(first.headers.get('age')).toBe('0');

      // The entry ages on the real clock: poll, with a deadline, for what it serves as time passes.
      const older = await waitFor(
        'a stale catalog at least a second old',
        async () => {
          const response = await call(`${url}/api/v1/products`, 'GET');
          return response.status === 200 && Number(response.headers.get('age')) >= 1 && response;
        },
        { timeoutMs: 5_000 },
      );
      expect(older.headers.get('x-cache')).toBe('stale');
      expect(Number(older.headers.get('age'))).toBeLessThanOrEqual(2);

      const expired = await waitFor(
        'the stale catalog to pass its maximum age',
        async () => {
          const response = await call(`${url}/api/v1/products`, 'GET');
          return response.status !== 200 && response;
        },
        { timeoutMs: 6_000 },
      );
      expectUnavailable(expired, '/api/v1/products');
    });
  });
});
