/**
 * Every way a policy can fail a call, each with the Retry-After an HTTP layer
 * sends with its 503 (docs/contract.md: "a dependency is down and no fallback
 * exists"). The original error of a failed call is the `cause`.
 */
export abstract class ResilienceError extends Error {
  abstract readonly retryAfterSeconds: number;

  constructor(
    readonly policy: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${policy}: ${message}`, options);
  }
}

/** The breaker is open (or half-open with its probe in flight): the call was not made. */
export class BreakerOpenError extends ResilienceError {
  override readonly name = 'BreakerOpenError';

  /** @param retryAfterSeconds until the breaker lets a probe through */
  constructor(
    policy: string,
    readonly retryAfterSeconds: number,
  ) {
    super(policy, 'breaker is open');
  }
}

/** `capacity` calls were already in flight: the call was not made. */
export class BulkheadRejectedError extends ResilienceError {
  override readonly name = 'BulkheadRejectedError';
  readonly retryAfterSeconds = 1;

  constructor(policy: string) {
    super(policy, 'bulkhead is full');
  }
}

/** No answer within `timeoutMs`; the call's signal was aborted. */
export class CallTimeoutError extends ResilienceError {
  override readonly name = 'CallTimeoutError';
  readonly retryAfterSeconds = 1;

  constructor(policy: string, timeoutMs: number) {
    super(policy, `no answer within ${timeoutMs} ms`);
  }
}

/** The call itself threw (connection refused, a 5xx turned into an error, ...). */
export class CallFailedError extends ResilienceError {
  override readonly name = 'CallFailedError';
  readonly retryAfterSeconds = 1;

  constructor(policy: string, cause: unknown) {
    super(policy, `call failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** What an HTTP layer answers for a failed policy call, or undefined for any other error. */
export function serviceUnavailable(error: unknown): { status: 503; retryAfterSeconds: number } | undefined {
  return error instanceof ResilienceError ? { status: 503, retryAfterSeconds: error.retryAfterSeconds } : undefined;
}
