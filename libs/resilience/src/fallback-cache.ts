import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { type ResilienceLogger, silentLogger } from './logger';

export interface CachedValue<T> {
  readonly value: T;
  /** Whole seconds since the value was stored: what the HTTP `age` header carries. */
  readonly ageSeconds: number;
}

/**
 * The last good answer per key, served when the dependency fails. A value
 * older than the max staleness is never returned.
 */
export interface FallbackCache<T> {
  get(key: string): Promise<CachedValue<T> | undefined>;
  set(key: string, value: T): Promise<void>;
  /** Closes the Redis connection, if any. The owner of the cache closes it, not the policy. */
  close(): Promise<void>;
}

export interface FallbackCacheOptions {
  /** The max staleness (docs/contract.md: FALLBACK_MAX_AGE_S, default 300). */
  readonly maxAgeSeconds: number;
  /** Redis when set: shared by every replica and kept across restarts. Else this process's memory. */
  readonly redisUrl?: string | undefined;
  /** Redis only: keeps the keys of one cache apart from everything else in the server. */
  readonly keyPrefix?: string;
  /** Memory only: least recently used entries go first beyond this. */
  readonly maxEntries?: number;
  /** Milliseconds since the epoch; tests inject a clock to get an exact age. */
  readonly now?: () => number;
  readonly logger?: ResilienceLogger;
}

const optionsSchema = z.object({
  maxAgeSeconds: z.number().int().positive(),
  redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
  keyPrefix: z.string().optional(),
  maxEntries: z.number().int().positive().optional(),
});

/** A Redis that does not answer must not hold up the call it backs up: commands fail fast instead of queueing. */
const REDIS_COMMAND_TIMEOUT_MS = 500;

export function createFallbackCache<T>(options: FallbackCacheOptions): FallbackCache<T> {
  optionsSchema.parse(options);
  const now = options.now ?? Date.now;
  const codec = new Codec<T>(options.maxAgeSeconds, now);
  if (!options.redisUrl) return new MemoryFallbackCache(codec, options.maxEntries ?? 10_000, now);
  const logger = options.logger ?? silentLogger;
  // Loaded only here: a process without a Redis URL (every service but the gateway, and the gateway
  // without REDIS_URL) would otherwise carry ioredis's 45 modules, about 1 MB of heap and 5 MB of RSS.
  const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
  const client = new RedisClient(options.redisUrl, {
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
  });
  // ioredis reconnects on its own; without a listener each failed attempt would be an unhandled 'error' event.
  client.on('error', (error: Error) => logger.warn({ err: error }, 'fallback cache: redis error'));
  return new RedisFallbackCache(client, codec, options.keyPrefix ?? 'resilience:fallback:');
}

const envelopeSchema = z.object({ storedAt: z.number(), value: z.unknown() });

/** Both stores keep the same JSON text, so a value comes back the same (a copy, dates as strings) from either. */
class Codec<T> {
  constructor(
    readonly maxAgeSeconds: number,
    private readonly now: () => number,
  ) {}

  encode(value: T): string {
    return JSON.stringify({ storedAt: this.now(), value });
  }

  decode(text: string | undefined | null): CachedValue<T> | undefined {
    if (text === undefined || text === null) return undefined;
    const envelope = envelopeSchema.safeParse(parseJson(text));
    // Whatever else sits under the key (another writer, a corrupt value) is a miss, not a crash.
    if (!envelope.success) return undefined;
    const ageMs = Math.max(0, this.now() - envelope.data.storedAt);
    if (ageMs > this.maxAgeSeconds * 1000) return undefined;
    return { value: envelope.data.value as T, ageSeconds: Math.floor(ageMs / 1000) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

class MemoryFallbackCache<T> implements FallbackCache<T> {
  private readonly entries: LRUCache<string, string>;

  constructor(
    private readonly codec: Codec<T>,
    maxEntries: number,
    now: () => number,
  ) {
    // The TTL only frees memory (on the same clock as the age); the codec decides what is too old to serve.
    this.entries = new LRUCache({ max: maxEntries, ttl: codec.maxAgeSeconds * 1000, perf: { now } });
  }

  async get(key: string): Promise<CachedValue<T> | undefined> {
    return this.codec.decode(this.entries.get(key));
  }

  async set(key: string, value: T): Promise<void> {
    this.entries.set(key, this.codec.encode(value));
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

class RedisFallbackCache<T> implements FallbackCache<T> {
  constructor(
    private readonly client: Redis,
    private readonly codec: Codec<T>,
    private readonly keyPrefix: string,
  ) {}

  async get(key: string): Promise<CachedValue<T> | undefined> {
    return this.codec.decode(await this.client.get(this.keyPrefix + key));
  }

  async set(key: string, value: T): Promise<void> {
    // Redis drops the key once nobody may be served it any more.
    await this.client.set(this.keyPrefix + key, this.codec.encode(value), 'EX', this.codec.maxAgeSeconds);
  }

  async close(): Promise<void> {
    // QUIT waits for the server; a client still trying to reach one would wait for a reconnect that may never come.
    if (this.client.status === 'ready') await this.client.quit();
    else this.client.disconnect();
  }
}
