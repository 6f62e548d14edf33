import { uniqueName } from '@shop/testing';
import { Redis } from 'ioredis';
import { CallFailedError } from './errors';
import { createFallbackCache, type FallbackCache } from './fallback-cache';
import { createPolicy } from './policy';
import { type FlakyServer, getJson, startFlakyServer } from './testing/flaky-server';

const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const admin = new Redis(redisUrl);

let keyPrefix: string;
const clock = { now: 0 };
const caches: Array<FallbackCache<unknown>> = [];

function redisCache<T>(): FallbackCache<T> {
  const cache = createFallbackCache<T>({ redisUrl, keyPrefix, maxAgeSeconds: 300, now: () => clock.now });
  caches.push(cache as FallbackCache<unknown>);
  return cache;
}

beforeEach(() => {
  keyPrefix = `${uniqueName('fallback')}:`;
  clock.now = 1_700_000_000_000;
});

afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
  // SCAN, not KEYS: the server is shared and KEYS blocks it.
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1_000);
    if (keys.length) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
});

afterAll(() => admin.quit());

describe('the Redis fallback cache', () => {
  it('keeps JSON under its prefix, expiring with the max staleness, and reads it back with its age', async () => {
    const cache = redisCache<{ sku: string; available: number }>();
    await cache.set('sku-1', { sku: 'sku-1', available: 3 });

    expect(JSON.parse((await admin.get(`${keyPrefix}sku-1`)) ?? 'null')).toEqual({
      storedAt: clock.now,
      value: { sku: 'sku-1', available: 3 },
    });
    const ttl = await admin.ttl(`${keyPrefix}sku-1`);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);

    clock.now += 42_000;
    await expect(cache.get('sku-1')).resolves.toEqual({ value: { sku: 'sku-1', available: 3 }, ageSeconds: 42 });
    await expect(cache.get('sku-2')).resolves.toBeUndefined();
  });

  it('is shared: another instance (another replica, or after a restart) serves what one stored', async () => {
    await redisCache<string>().set('k', 'v');
    clock.now += 1_000;
    await expect(redisCache<string>().get('k')).resolves.toEqual({ value: 'v', ageSeconds: 1 });
  });

  it('never returns a value older than the max staleness', async () => {
    const cache = redisCache<string>();
    await cache.set('k', 'v');
    clock.now += 300_001;
    await expect(cache.get('k')).resolves.toBeUndefined();
  });

  it('treats anything else under its key as a miss', async () => {
    const cache = redisCache<string>();
    await admin.set(`${keyPrefix}not-json`, 'not json');
    await admin.set(`${keyPrefix}foreign`, JSON.stringify({ something: 'else' }));
    await expect(cache.get('not-json')).resolves.toBeUndefined();
    await expect(cache.get('foreign')).resolves.toBeUndefined();
  });
});

describe('a policy with the Redis fallback cache', () => {
  let server: FlakyServer;
  beforeEach(async () => {
    server = await startFlakyServer();
  });
  afterEach(() => server.close());

  it('answers a failed call with the value stored in Redis, marked stale with its age', async () => {
    const policy = createPolicy<{ hit: number }>({
      name: uniqueName('redis-backed'),
      timeoutMs: 2_000,
      errorThresholdPercentage: 50,
      volumeThreshold: 10,
      resetTimeoutMs: 60_000,
      capacity: 10,
      fallback: redisCache(),
    });
    try {
      const call = (signal: AbortSignal) => getJson(server.url, signal);
      await expect(policy.execute('sku-1', call)).resolves.toEqual({ value: { hit: 1 }, stale: false });
      clock.now += 7_000;
      server.behave('fail');
      await expect(policy.execute('sku-1', call)).resolves.toEqual({ value: { hit: 1 }, stale: true, ageSeconds: 7 });
    } finally {
      policy.shutdown();
    }
  });

  it('keeps working when Redis is down: a success is answered, a failure throws the call error', async () => {
    const warnings: string[] = [];
    const fallback = createFallbackCache<{ hit: number }>({
      redisUrl: 'redis://127.0.0.1:1',
      maxAgeSeconds: 300,
      logger: { info: () => undefined, warn: (_details, message) => warnings.push(message) },
    });
    const policy = createPolicy<{ hit: number }>({
      name: uniqueName('redis-down'),
      timeoutMs: 2_000,
      errorThresholdPercentage: 50,
      volumeThreshold: 10,
      resetTimeoutMs: 60_000,
      capacity: 10,
      fallback,
      logger: { info: () => undefined, warn: (_details, message) => warnings.push(message) },
    });
    try {
      const call = (signal: AbortSignal) => getJson(server.url, signal);
      await expect(policy.execute('k', call)).resolves.toEqual({ value: { hit: 1 }, stale: false });
      server.behave('fail');
      await expect(policy.execute('k', call)).rejects.toBeInstanceOf(CallFailedError);
      expect(warnings).toEqual(expect.arrayContaining(['fallback cache write failed', 'fallback cache read failed']));
    } finally {
      policy.shutdown();
      await fallback.close();
    }
  });
});
