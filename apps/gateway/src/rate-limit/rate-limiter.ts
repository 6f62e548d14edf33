export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Whole seconds until one more request would be allowed (0 when allowed). */
  readonly retryAfterSeconds: number;
}

export interface RateLimiterOptions {
  /** Requests per window, on average; also the largest burst. */
  readonly limit: number;
  readonly windowMs?: number;
  /** Keys remembered at most; beyond it the least recently seen is forgotten (it starts afresh). */
  readonly maxKeys?: number;
  /** Milliseconds; tests inject a clock. */
  readonly now?: () => number;
}

interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

/**
 * A token bucket per key, in this process's memory: a full bucket holds
 * `limit` tokens and refills at `limit` per window, so a client gets bursts
 * up to the limit and the limit per window on average. A request takes a
 * token or is refused with the time until the next one.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limit: number;
  private readonly tokensPerMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: RateLimiterOptions) {
    this.limit = options.limit;
    this.tokensPerMs = options.limit / (options.windowMs ?? 60_000);
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  take(key: string): RateLimitDecision {
    const now = this.now();
    const bucket = this.buckets.get(key);
    // Re-inserting keeps the Map in least-recently-seen order, so the first key is the one to forget.
    if (bucket) this.buckets.delete(key);
    else if (this.buckets.size >= this.maxKeys) this.forgetOldest();
    const tokens = bucket ? Math.min(this.limit, bucket.tokens + (now - bucket.at) * this.tokensPerMs) : this.limit;
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      return { allowed: true, retryAfterSeconds: 0 };
    }
    this.buckets.set(key, { tokens, at: now });
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.tokensPerMs / 1000)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private forgetOldest(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}
