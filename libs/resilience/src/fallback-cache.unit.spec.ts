import { createFallbackCache } from './fallback-cache';

function memoryCache<T>(options: { maxAgeSeconds?: number; maxEntries?: number } = {}) {
  const clock = { now: 1_700_000_000_000 };
  const cache = createFallbackCache<T>({ maxAgeSeconds: 300, ...options, now: () => clock.now });
  return { cache, clock };
}

describe('in-memory fallback cache', () => {
  it('returns the last value stored under a key with its age in whole seconds', async () => {
    const { cache, clock } = memoryCache<{ sku: string; available: number }>();
    await cache.set('sku-1', { sku: 'sku-1', available: 3 });
    await cache.set('sku-1', { sku: 'sku-1', available: 2 });
    clock.now += 42_900;
    await expect(cache.get('sku-1')).resolves.toEqual({ value: { sku: 'sku-1', available: 2 }, ageSeconds: 42 });
    await expect(cache.get('sku-2')).resolves.toBeUndefined();
  });

  it('never returns a value older than the max staleness', async () => {
    const { cache, clock } = memoryCache<string>({ maxAgeSeconds: 300 });
    await cache.set('k', 'v');
    clock.now += 300_000;
    await expect(cache.get('k')).resolves.toEqual({ value: 'v', ageSeconds: 300 });
    clock.now += 1;
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it('keeps JSON, as Redis does: a copy comes back, dates as strings', async () => {
    const { cache } = memoryCache<{ items: string[]; at: unknown }>();
    const stored = { items: ['a'], at: new Date('2026-01-01T00:00:00Z') };
    await cache.set('k', stored);
    stored.items.push('mutated after caching');
    await expect(cache.get('k')).resolves.toMatchObject({
      value: { items: ['a'], at: '2026-01-01T00:00:00.000Z' },
    });
  });

  it('drops the least recently used key beyond maxEntries', async () => {
    const { cache } = memoryCache<number>({ maxEntries: 2 });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.get('a');
    await cache.set('c', 3);
    await expect(cache.get('b')).resolves.toBeUndefined();
    await expect(cache.get('a')).resolves.toMatchObject({ value: 1 });
    await expect(cache.get('c')).resolves.toMatchObject({ value: 3 });
  });

  it('refuses options that make no sense', () => {
    expect(() => createFallbackCache({ maxAgeSeconds: 0 })).toThrow(/maxAgeSeconds/);
    expect(() => createFallbackCache({ maxAgeSeconds: 300, redisUrl: 'http://127.0.0.1:6379' })).toThrow(/redisUrl/);
  });
});

describe('loading the Redis client', () => {
  /** How many times ioredis is loaded while a fresh copy of this module runs `work`. */
  function ioredisLoads(work: (create: typeof createFallbackCache) => void): number {
    let loads = 0;
    jest.isolateModules(() => {
      jest.doMock('ioredis', () => {
        loads += 1;
        // Only counts the load: the Redis path itself is proven against a real server (redis-fallback-cache.int.spec.ts).
        return {
          Redis: class {
            readonly on = jest.fn();
          },
        };
      });
      work((require('./fallback-cache') as typeof import('./fallback-cache')).createFallbackCache);
    });
    jest.dontMock('ioredis');
    return loads;
  }

  it('does not load ioredis for an in-memory cache (every service but a gateway with REDIS_URL)', () => {
    expect(ioredisLoads((create) => create({ maxAgeSeconds: 300 }))).toBe(0);
  });

  it('loads it once a cache names a Redis URL', () => {
    expect(ioredisLoads((create) => create({ maxAgeSeconds: 300, redisUrl: 'redis://127.0.0.1:6379' }))).toBe(1);
  });
});
