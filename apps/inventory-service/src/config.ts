import { z } from 'zod';
import { baseConfigShape, databaseConfigShape, kafkaConfigShape, loadConfig, port } from '@shop/health';

/** Every variable inventory-service reads, checked at start-up. */
export const configShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  ...kafkaConfigShape,
  INVENTORY_SERVICE_PORT: port(3003),
  /** Bearer token of POST /admin/stock; without it nobody can restock over HTTP. */
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
} as const;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('inventory-service', configShape, env);
}

export type ServiceConfig = ReturnType<typeof loadServiceConfig>;
