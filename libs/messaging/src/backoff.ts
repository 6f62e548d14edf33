import { backoffDelay, type RetryOptions } from '@shop/resilience';

/**
 * How a consumer retries a failing message: exponential backoff with full
 * jitter, the same function @shop/resilience uses for calls. `attempts`
 * counts deliveries in total, the first one included, before an ordinary
 * error is dead-lettered.
 */
export type RetryPolicy = RetryOptions;

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

export { backoffDelay };
