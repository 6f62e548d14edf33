import {
  createFallbackCache,
  createPolicy,
  type FallbackCache,
  type PolicyOptions,
  type PolicyRegistry,
  type ResilienceLogger,
} from '@shop/resilience';
import type { ServiceConfig } from '../config';
import { Upstream, type UpstreamResponse } from './upstream';

/**
 * The services behind the gateway, each call through a @shop/resilience
 * policy. A policy retries all its calls or none, so a service with both
 * kinds has two: `idempotent` ones (reads, and POST /orders, which carries
 * an Idempotency-Key) are retried with jittered backoff; the others (login,
 * register, cancel) are made once, since a retry could act twice or turn a
 * success into an error (a second cancel is a 409).
 */
export interface Upstreams {
  /** GET /users/:id and the JWKS (retried). */
  readonly users: Upstream;
  /** POST /auth/register and /auth/login (once). */
  readonly auth: Upstream;
  /** GET /orders, GET /orders/:id, POST /orders (retried). */
  readonly orders: Upstream;
  /** POST /orders/:id/cancel (once). */
  readonly cancels: Upstream;
  /** GET /products, GET /products/:sku (retried, last good answer as fallback). */
  readonly inventory: Upstream;
  /** The inventory fallback cache (closed by whoever stops the gateway). */
  readonly productCache: FallbackCache<UpstreamResponse>;
}

/** Only a 2xx is a "last good answer": a 404 is not worth serving later as stale. */
export function goodAnswersOnly(cache: FallbackCache<UpstreamResponse>): FallbackCache<UpstreamResponse> {
  return {
    get: (key) => cache.get(key),
    set: async (key, value) => {
      if (value.status >= 200 && value.status < 300) await cache.set(key, value);
    },
    close: () => cache.close(),
  };
}

export interface UpstreamOptions {
  readonly logger: ResilienceLogger;
  readonly registry: PolicyRegistry;
}

export function createUpstreams(config: ServiceConfig, { logger, registry }: UpstreamOptions): Upstreams {
  const common = {
    errorThresholdPercentage: config.BREAKER_ERROR_THRESHOLD_PERCENT,
    volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
    resetTimeoutMs: config.BREAKER_RESET_TIMEOUT_MS,
    capacity: config.BULKHEAD_CAPACITY,
    logger,
    registry,
  };
  const retried = {
    ...common,
    idempotent: true,
    retry: {
      attempts: config.RETRY_ATTEMPTS,
      baseDelayMs: config.RETRY_BASE_DELAY_MS,
      maxDelayMs: config.RETRY_MAX_DELAY_MS,
    },
  };
  const productCache = goodAnswersOnly(
    createFallbackCache<UpstreamResponse>({
      maxAgeSeconds: config.FALLBACK_MAX_AGE_S,
      redisUrl: config.REDIS_URL,
      keyPrefix: `${config.STACK_ID}:gateway:fallback:`,
      logger,
    }),
  );
  const upstream = (service: string, url: string, policy: PolicyOptions<UpstreamResponse>) =>
    new Upstream(service, url, createPolicy<UpstreamResponse>(policy));
  return {
    users: upstream('user-service', config.USER_SERVICE_URL, {
      ...retried,
      name: 'user-service',
      timeoutMs: config.USER_SERVICE_TIMEOUT_MS,
    }),
    auth: upstream('user-service', config.USER_SERVICE_URL, {
      ...common,
      name: 'user-service-auth',
      timeoutMs: config.USER_SERVICE_TIMEOUT_MS,
    }),
    orders: upstream('order-service', config.ORDER_SERVICE_URL, {
      ...retried,
      name: 'order-service',
      timeoutMs: config.ORDER_SERVICE_TIMEOUT_MS,
    }),
    cancels: upstream('order-service', config.ORDER_SERVICE_URL, {
      ...common,
      name: 'order-service-cancel',
      timeoutMs: config.ORDER_SERVICE_TIMEOUT_MS,
    }),
    inventory: upstream('inventory-service', config.INVENTORY_SERVICE_URL, {
      ...retried,
      name: 'inventory-service',
      timeoutMs: config.INVENTORY_SERVICE_TIMEOUT_MS,
      fallback: productCache,
    }),
    productCache,
  };
}

/** The Nest token under which the gateway's module provides its Upstreams. */
export const UPSTREAMS = Symbol('UPSTREAMS');
