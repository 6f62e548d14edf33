import { z } from 'zod';
import { baseConfigShape, loadConfig, port } from '@shop/health';

const serviceUrl = (defaultUrl: string) => z.url({ protocol: /^https?$/ }).default(defaultUrl);
const positiveInt = (defaultValue: number, max: number) =>
  z.coerce.number().int().min(1).max(max).default(defaultValue);

/** Every variable gateway reads, checked at start-up. */
export const configShape = {
  ...baseConfigShape,
  // The gateway is the public door; every other service binds the loopback.
  HOST: z.string().min(1).default('0.0.0.0'),
  GATEWAY_PORT: port(3000),

  USER_SERVICE_URL: serviceUrl('http://127.0.0.1:3001'),
  ORDER_SERVICE_URL: serviceUrl('http://127.0.0.1:3002'),
  INVENTORY_SERVICE_URL: serviceUrl('http://127.0.0.1:3003'),

  /** What user-service puts in its tokens (its own JWT_ISSUER / JWT_AUDIENCE). */
  JWT_ISSUER: z.string().min(1).default('shop-user-service'),
  JWT_AUDIENCE: z.string().min(1).default('shop'),
  /** The JWKS is fetched again this often (and at once for an unknown `kid`, at most once per cooldown). */
  JWKS_REFRESH_INTERVAL_S: positiveInt(300, 86_400),
  JWKS_REFRESH_COOLDOWN_S: z.coerce.number().int().min(0).max(3_600).default(10),

  /**
   * Requests per minute. The per-address default (2000/s) is high enough that
   * a local load test, which comes from one address, does not hit it; the
   * per-user one (50/s) stops one runaway client. Lower both in front of
   * real traffic.
   */
  RATE_LIMIT_PER_IP_PER_MIN: positiveInt(120_000, 10_000_000),
  RATE_LIMIT_PER_USER_PER_MIN: positiveInt(3_000, 10_000_000),

  /** docs/contract.md: the maximum staleness of a read served from the fallback cache. */
  FALLBACK_MAX_AGE_S: positiveInt(300, 86_400),
  /** Unset: the fallback cache lives in this process's memory. */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),

  // One policy per upstream (breaker + bulkhead + timeout), tuned by these.
  USER_SERVICE_TIMEOUT_MS: positiveInt(5_000, 60_000), // scrypt on login takes a while under load
  ORDER_SERVICE_TIMEOUT_MS: positiveInt(3_000, 60_000),
  INVENTORY_SERVICE_TIMEOUT_MS: positiveInt(1_000, 60_000),
  BREAKER_ERROR_THRESHOLD_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  BREAKER_VOLUME_THRESHOLD: z.coerce.number().int().min(0).max(10_000).default(10),
  BREAKER_RESET_TIMEOUT_MS: positiveInt(5_000, 600_000),
  BULKHEAD_CAPACITY: positiveInt(256, 100_000),
  RETRY_ATTEMPTS: positiveInt(3, 10),
  RETRY_BASE_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(50),
  RETRY_MAX_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(500),
} as const;

export type ServiceConfig = z.infer<z.ZodObject<typeof configShape>>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return loadConfig('gateway', configShape, env);
}
