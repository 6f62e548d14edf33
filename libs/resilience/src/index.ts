export { createPolicy, type Call, type Policy, type PolicyOptions, type PolicyResult } from './policy';
export { httpExchange, type HttpExchange, type HttpExchangeRequest } from './http-exchange';
export { backoffDelay, type RetryOptions } from './backoff';
export {
  ResilienceError,
  BreakerOpenError,
  BulkheadRejectedError,
  CallTimeoutError,
  CallFailedError,
  serviceUnavailable,
} from './errors';
export { createFallbackCache, type CachedValue, type FallbackCache, type FallbackCacheOptions } from './fallback-cache';
export type { ResilienceLogger } from './logger';
export type { BreakerState } from './metrics';
export {
  PolicyRegistry,
  policyRegistry,
  policyReadinessDetail,
  type PolicySnapshot,
  type PolicyStats,
  type RegisteredPolicy,
} from './policy-registry';
export {
  isRemoved,
  PATTERNS,
  REMOVE_PATTERNS_ENV,
  removedPatterns,
  withPatternRemoved,
  type Pattern,
} from './patterns';
