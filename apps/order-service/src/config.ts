import { z } from 'zod';
import { baseConfigShape, databaseConfigShape, kafkaConfigShape, loadConfig, port } from '@shop/health';

/** Every variable order-service reads, checked at start-up. */
export const configShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  ...kafkaConfigShape,
  ORDER_SERVICE_PORT: port(3002),
  /** An order still PENDING this long after it was accepted is rejected with reason TIMEOUT. */
  SAGA_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
} as const;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('order-service', configShape, env);
}

export type ServiceConfig = ReturnType<typeof loadServiceConfig>;
