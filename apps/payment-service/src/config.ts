import { z } from 'zod';
import { baseConfigShape, ConfigError, databaseConfigShape, kafkaConfigShape, loadConfig, port } from '@shop/health';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** Every variable payment-service reads, checked at start-up. */
export const configShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  ...kafkaConfigShape,
  PAYMENT_SERVICE_PORT: port(3004),
  /** The card processor (docs/contract.md, "Payment provider"). */
  PAYMENT_PROVIDER_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3005'),
  /** One attempt with no answer by then is abandoned (its socket closed) and counts as a failure. */
  PROVIDER_TIMEOUT_MS: int(50, 60_000, 2_000),
  /** Attempts per provider call, the first included: safe, every write carries an Idempotency-Key. */
  PROVIDER_RETRY_ATTEMPTS: int(1, 10, 3),
  PROVIDER_RETRY_BASE_DELAY_MS: int(0, 60_000, 100),
  PROVIDER_RETRY_MAX_DELAY_MS: int(0, 60_000, 1_000),
  /** Failed share of the attempts in the breaker's 10 s window above which it opens. */
  PROVIDER_BREAKER_ERROR_PERCENT: int(1, 100, 50),
  /** Attempts in the window before the breaker may open at all. */
  PROVIDER_BREAKER_VOLUME_THRESHOLD: int(1, 1_000, 5),
  /** How long the open breaker refuses calls before one probe goes through. */
  PROVIDER_BREAKER_RESET_MS: int(100, 600_000, 5_000),
  /** The bulkhead: provider calls in flight at once. */
  PROVIDER_BULKHEAD_CAPACITY: int(1, 1_000, 10),
  /**
   * How a command that could not be handled waits before it is tried again
   * (the consumer's backoff; a pending charge waits this way while the
   * provider is unreachable, for as long as it takes).
   */
  COMMAND_RETRY_BASE_DELAY_MS: int(1, 60_000, 200),
  COMMAND_RETRY_MAX_DELAY_MS: int(1, 600_000, 5_000),
  /** Deliveries of a command that fails for another reason before it is dead-lettered. */
  COMMAND_RETRY_ATTEMPTS: int(1, 100, 5),
  /**
   * The saga's deadlines, the same variables order-service reads: one saga
   * step (here: a charge, from command to reply) must fit one provider call
   * cycle, and the whole saga must leave room for its steps. Checked at
   * start-up: provider call budget < SAGA_STEP_TIMEOUT_MS < SAGA_TIMEOUT_MS.
   */
  SAGA_STEP_TIMEOUT_MS: int(100, 600_000, 10_000),
  SAGA_TIMEOUT_MS: int(1_000, 600_000, 30_000),
} as const;

export type ServiceConfig = z.infer<z.ZodObject<typeof configShape>>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const config = loadConfig('payment-service', configShape, env);
  const budget = providerCallBudgetMs(config);
  if (!(budget < config.SAGA_STEP_TIMEOUT_MS && config.SAGA_STEP_TIMEOUT_MS < config.SAGA_TIMEOUT_MS)) {
    throw new ConfigError('payment-service', [
      `timeouts do not fit: one provider call can take ${budget} ms (PROVIDER_RETRY_ATTEMPTS × PROVIDER_TIMEOUT_MS ` +
        `plus backoff), which must be less than SAGA_STEP_TIMEOUT_MS (${config.SAGA_STEP_TIMEOUT_MS}), ` +
        `which must be less than SAGA_TIMEOUT_MS (${config.SAGA_TIMEOUT_MS})`,
    ]);
  }
  return config;
}

type CallSettings = Pick<
  ServiceConfig,
  'PROVIDER_TIMEOUT_MS' | 'PROVIDER_RETRY_ATTEMPTS' | 'PROVIDER_RETRY_BASE_DELAY_MS' | 'PROVIDER_RETRY_MAX_DELAY_MS'
>;

/**
 * The longest one provider call can take before payment-service either has
 * the answer or gives the command back to the consumer to retry later: every
 * attempt timing out, plus the longest backoff before each retry. A saga step
 * that waits for a payment reply must allow more than this (order-service:
 * SAGA_TIMEOUT_MS); with the defaults it is 3 × 2000 + 100 + 200 = 6300 ms.
 */
export function providerCallBudgetMs(config: CallSettings): number {
  let budget = config.PROVIDER_RETRY_ATTEMPTS * config.PROVIDER_TIMEOUT_MS;
  for (let retry = 1; retry < config.PROVIDER_RETRY_ATTEMPTS; retry++) {
    budget += Math.min(config.PROVIDER_RETRY_MAX_DELAY_MS, config.PROVIDER_RETRY_BASE_DELAY_MS * 2 ** (retry - 1));
  }
  return budget;
}

/** providerCallBudgetMs of the defaults (6300 ms), for a reader who checks it against a saga timeout. */
export const DEFAULT_PROVIDER_CALL_BUDGET_MS = providerCallBudgetMs(
  z
    .object(configShape)
    .pick({
      PROVIDER_TIMEOUT_MS: true,
      PROVIDER_RETRY_ATTEMPTS: true,
      PROVIDER_RETRY_BASE_DELAY_MS: true,
      PROVIDER_RETRY_MAX_DELAY_MS: true,
    })
    .parse({}),
);
