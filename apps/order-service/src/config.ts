import { z } from 'zod';
import { baseConfigShape, ConfigError, databaseConfigShape, kafkaConfigShape, loadConfig, port } from '@shop/health';

/** Every variable order-service reads, checked at start-up. */
export const configShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  ...kafkaConfigShape,
  ORDER_SERVICE_PORT: port(3002),
  /** An order still PENDING this long after it was accepted is rejected with reason TIMEOUT. */
  SAGA_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /**
   * What one step (reserve, charge) may take from command to reply; the
   * participants check their own call budgets against it (payment-service:
   * provider call budget < step), and it must fit in SAGA_TIMEOUT_MS.
   */
  SAGA_STEP_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
} as const;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig('order-service', configShape, env);
  if (config.SAGA_STEP_TIMEOUT_MS >= config.SAGA_TIMEOUT_MS) {
    throw new ConfigError('order-service', [
      `timeouts do not fit: SAGA_STEP_TIMEOUT_MS (${config.SAGA_STEP_TIMEOUT_MS}) must be less than SAGA_TIMEOUT_MS (${config.SAGA_TIMEOUT_MS})`,
    ]);
  }
  return config;
}

export type ServiceConfig = ReturnType<typeof loadServiceConfig>;
