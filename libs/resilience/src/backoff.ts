export interface RetryOptions {
  /** Tries in total, the first one included (1 means no retry). */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter: the wait before retry n (1-based) is
 * uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). Full jitter spreads
 * the retries of many callers that failed together, so they do not come back
 * in lockstep and knock the recovering dependency over again.
 */
export function backoffDelay(retry: number, options: RetryOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}
