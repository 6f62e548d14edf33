import { setTimeout as sleep } from 'node:timers/promises';
import CircuitBreaker from 'opossum';
import { z } from 'zod';
import { backoffDelay, type RetryOptions } from './backoff';
import { BreakerOpenError, BulkheadRejectedError, CallFailedError, CallTimeoutError, ResilienceError } from './errors';
import type { CachedValue, FallbackCache } from './fallback-cache';
import { type ResilienceLogger, silentLogger } from './logger';
import { BREAKER_STATE_VALUE, type BreakerState, policyMetrics } from './metrics';
import { isRemoved } from './patterns';
import { type PolicySnapshot, type PolicyRegistry, policyRegistry, type RegisteredPolicy } from './policy-registry';

export interface PolicyOptions<T> {
  /** Names the breaker in logs, metrics (label `policy`) and /health/ready; unique per registry. */
  readonly name: string;
  /** An attempt with no answer by then fails with CallTimeoutError and its signal is aborted. */
  readonly timeoutMs: number;
  /** Failed share of the attempts in the rolling window (10 s) above which the breaker opens. */
  readonly errorThresholdPercentage: number;
  /** Attempts in the rolling window before the breaker may open at all. */
  readonly volumeThreshold: number;
  /** How long the breaker stays open before it lets one probe through (half-open). */
  readonly resetTimeoutMs: number;
  /** The bulkhead: attempts in flight at once; one more is refused at once with BulkheadRejectedError. */
  readonly capacity: number;
  /** Used only when `idempotent` is true. */
  readonly retry?: RetryOptions;
  /** True only for a call that may safely run twice: a read, or a write carrying an idempotency key. */
  readonly idempotent?: boolean;
  /** Last good answer per key, served (marked stale) when the call fails. */
  readonly fallback?: FallbackCache<T>;
  readonly logger?: ResilienceLogger;
  readonly registry?: PolicyRegistry;
  /** The jitter source, in [0, 1). */
  readonly random?: () => number;
}

export type PolicyResult<T> =
  | { readonly value: T; readonly stale: false }
  | { readonly value: T; readonly stale: true; readonly ageSeconds: number };

/** The call to protect: it must give up when `signal` aborts (pass it to fetch, to the query, ...). */
export type Call<T> = (signal: AbortSignal) => Promise<T>;

export interface Policy<T> extends RegisteredPolicy {
  readonly state: BreakerState;
  /**
   * Runs `call` through the bulkhead, the breaker and its timeout, retrying
   * an idempotent call on failure or timeout. When every attempt failed, it
   * answers from the fallback cache under `key` (stale) or throws a
   * ResilienceError.
   */
  execute(key: string, call: Call<T>): Promise<PolicyResult<T>>;
  /** Aborts calls in flight and retry waits, stops the breaker's timers, leaves the registry. */
  shutdown(): void;
}

const settingsSchema = z.object({
  name: z.string().min(1),
  timeoutMs: z.number().int().positive(),
  errorThresholdPercentage: z.number().min(0).max(100),
  volumeThreshold: z.number().int().min(0),
  resetTimeoutMs: z.number().int().positive(),
  capacity: z.number().int().positive(),
  retry: z
    .object({
      attempts: z.number().int().min(1),
      baseDelayMs: z.number().min(0),
      maxDelayMs: z.number().min(0),
    })
    .optional(),
});

/** The one way to call a dependency. */
export function createPolicy<T>(options: PolicyOptions<T>): Policy<T> {
  settingsSchema.parse(options);
  return new OpossumPolicy(options);
}

class OpossumPolicy<T> implements Policy<T> {
  readonly name: string;
  private readonly breaker: CircuitBreaker<[Call<T>, AbortSignal], T>;
  private readonly logger: ResilienceLogger;
  private readonly registry: PolicyRegistry;
  private readonly metrics = policyMetrics();
  private readonly label: { policy: string };
  private readonly lifetime = new AbortController();
  private readonly inFlight = new Set<AbortController>();
  private openedAt = 0;

  constructor(private readonly options: PolicyOptions<T>) {
    this.name = options.name;
    this.label = { policy: options.name };
    this.logger = options.logger ?? silentLogger;
    this.registry = options.registry ?? policyRegistry;
    this.registry.add(this);
    // UNSAFE_REMOVE_PATTERNS (patterns.ts): a breaker that never opens, a bulkhead without a cap.
    this.breaker = new CircuitBreaker((call: Call<T>, signal: AbortSignal) => call(signal), {
      name: options.name,
      timeout: options.timeoutMs,
      errorThresholdPercentage: isRemoved('breaker') ? 101 : options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      resetTimeout: options.resetTimeoutMs,
      capacity: isRemoved('bulkhead') ? Number.MAX_SAFE_INTEGER : options.capacity,
      enableSnapshots: false,
    });
    this.observe();
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  async execute(key: string, call: Call<T>): Promise<PolicyResult<T>> {
    try {
      const value = await this.withRetries(call);
      await this.remember(key, value);
      return { value, stale: false };
    } catch (error) {
      const cached = error instanceof ResilienceError ? await this.recall(key) : undefined;
      if (!cached) throw error;
      this.metrics.fallbacks.inc(this.label);
      return { value: cached.value, stale: true, ageSeconds: cached.ageSeconds };
    }
  }

  snapshot(): PolicySnapshot {
    const stats = this.breaker.stats;
    return {
      state: this.state,
      stats: {
        calls: stats.fires,
        successes: stats.successes,
        // opossum counts timeouts and bulkhead rejections as failures too.
        failures: stats.failures - stats.timeouts - stats.semaphoreRejections,
        timeouts: stats.timeouts,
        bulkheadRejections: stats.semaphoreRejections,
        shortCircuits: stats.rejects,
        latencyMeanMs: Math.round(stats.latencyMean),
      },
    };
  }

  shutdown(): void {
    if (this.lifetime.signal.aborted) return;
    const reason = new Error(`policy "${this.name}" was shut down`);
    this.lifetime.abort(reason);
    for (const controller of this.inFlight) controller.abort(reason);
    this.breaker.shutdown();
    this.registry.remove(this);
  }

  private async withRetries(call: Call<T>): Promise<T> {
    const retry = this.options.idempotent ? this.options.retry : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(call);
      } catch (error) {
        const retryable = error instanceof CallFailedError || error instanceof CallTimeoutError;
        // An open breaker means the dependency is down: another attempt would only be short-circuited.
        if (!retry || attempt >= retry.attempts || !retryable || this.breaker.opened) throw error;
        this.metrics.retries.inc(this.label);
        const delayMs = backoffDelay(attempt, retry, this.options.random);
        // The wait rejects only when the policy is shut down.
        await sleep(delayMs, undefined, { signal: this.lifetime.signal }).catch(() =>
          this.lifetime.signal.throwIfAborted(),
        );
      }
    }
  }

  private async attempt(call: Call<T>): Promise<T> {
    this.lifetime.signal.throwIfAborted();
    const controller = new AbortController();
    this.inFlight.add(controller);
    try {
      return await this.breaker.fire(call, controller.signal);
    } catch (error) {
      this.lifetime.signal.throwIfAborted();
      const failure = this.toResilienceError(error);
      // opossum only stops waiting; the abort stops the call itself (its socket, its query).
      if (failure instanceof CallTimeoutError) controller.abort(failure);
      throw failure;
    } finally {
      this.inFlight.delete(controller);
    }
  }

  private toResilienceError(error: unknown): ResilienceError {
    const code = error instanceof Error && CircuitBreaker.isOurError(error) ? Reflect.get(error, 'code') : undefined;
    switch (code) {
      case 'EOPENBREAKER':
        return new BreakerOpenError(this.name, this.secondsUntilProbe());
      case 'ESEMLOCKED':
        return new BulkheadRejectedError(this.name);
      case 'ETIMEDOUT':
        return new CallTimeoutError(this.name, this.options.timeoutMs);
      default:
        return new CallFailedError(this.name, error);
    }
  }

  private secondsUntilProbe(): number {
    return Math.max(1, Math.ceil((this.openedAt + this.options.resetTimeoutMs - Date.now()) / 1000));
  }

  // A cache that fails must not fail the call it backs up: it is logged and skipped.
  private async remember(key: string, value: T): Promise<void> {
    await this.options.fallback
      ?.set(key, value)
      .catch((error: unknown) => this.logger.warn({ policy: this.name, err: error }, 'fallback cache write failed'));
  }

  private async recall(key: string): Promise<CachedValue<T> | undefined> {
    if (isRemoved('stale-fallback')) return undefined;
    return this.options.fallback?.get(key).catch((error: unknown) => {
      this.logger.warn({ policy: this.name, err: error }, 'fallback cache read failed');
      return undefined;
    });
  }

  private observe(): void {
    const { metrics, label, breaker } = this;
    const enter = (state: BreakerState) => metrics.state.set(label, BREAKER_STATE_VALUE[state]);
    enter('closed');
    breaker.on('success', () => metrics.successes.inc(label));
    breaker.on('failure', (error) => {
      if (!CircuitBreaker.isOurError(error)) metrics.failures.inc(label);
    });
    breaker.on('timeout', () => metrics.timeouts.inc(label));
    breaker.on('semaphoreLocked', () => metrics.bulkheadRejections.inc(label));
    breaker.on('reject', () => metrics.shortCircuits.inc(label));
    breaker.on('open', () => {
      this.openedAt = Date.now();
      enter('open');
      this.logger.warn({ policy: this.name, resetTimeoutMs: this.options.resetTimeoutMs }, 'breaker opened');
    });
    breaker.on('halfOpen', () => {
      enter('half-open');
      this.logger.info({ policy: this.name }, 'breaker half-open: one probe goes through');
    });
    breaker.on('close', () => {
      enter('closed');
      this.logger.info({ policy: this.name }, 'breaker closed');
    });
  }
}
