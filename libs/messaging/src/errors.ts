import { InvalidMessageError, type InvalidMessageReason } from '@shop/contracts';

/**
 * What a handler throws decides what happens to its message (docs/design.md,
 * "Messaging"):
 * - PermanentError (and InvalidMessageError): no retry can fix it → dead-letter at once;
 * - TransientError, or a dependency that is down (connection refused, PostgreSQL
 *   unreachable, a breaker open) → pause the partition and retry the same message
 *   until it succeeds, never dead-lettered;
 * - anything else → a bounded number of retries, then dead-letter.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
}

export class TransientError extends Error {
  override readonly name = 'TransientError';
}

export type DeadLetterReason = InvalidMessageReason | 'permanent-error' | 'retries-exhausted';

export type ErrorVerdict =
  | { readonly kind: 'permanent'; readonly reason: InvalidMessageReason | 'permanent-error' }
  | { readonly kind: 'transient' }
  | { readonly kind: 'retryable' };

/** Socket errors and PostgreSQL SQLSTATEs that mean "the dependency is not there right now". */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: the server terminated the connection
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
  'EOPENBREAKER', // opossum: the breaker is open
]);
/** pg and pg-pool raise these without a code. */
const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error/i,
];
/**
 * @shop/resilience's errors (breaker open, bulkhead full, call timed out or
 * failed) all mean another service is unavailable. Matched by name so this
 * lib does not depend on the resilience lib.
 */
const TRANSIENT_NAMES = new Set(['BreakerOpenError', 'BulkheadRejectedError', 'CallTimeoutError', 'CallFailedError']);

function isTransientSignal(error: unknown, depth = 0): boolean {
  if (depth > 5 || !error || typeof error !== 'object') return false;
  if (error instanceof TransientError) return true;
  const { code, name, message, cause, errors } = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08'))) return true; // 08xxx: connection exception
  if (typeof name === 'string' && TRANSIENT_NAMES.has(name)) return true;
  if (typeof message === 'string' && TRANSIENT_MESSAGES.some((pattern) => pattern.test(message))) return true;
  if (Array.isArray(errors) && errors.some((inner) => isTransientSignal(inner, depth + 1))) return true;
  return isTransientSignal(cause, depth + 1);
}

export function classifyError(error: unknown): ErrorVerdict {
  if (error instanceof InvalidMessageError) return { kind: 'permanent', reason: error.reason };
  if (error instanceof PermanentError) return { kind: 'permanent', reason: 'permanent-error' };
  if (isTransientSignal(error)) return { kind: 'transient' };
  return { kind: 'retryable' };
}
