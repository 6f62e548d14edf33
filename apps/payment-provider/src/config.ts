import { baseConfigShape, loadConfig, port, databaseConfigShape } from '@shop/health';

/** Every variable payment-provider reads, checked at start-up. */
export const configShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  PAYMENT_PROVIDER_PORT: port(3005),
} as const;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('payment-provider', configShape, env);
}

export type ServiceConfig = ReturnType<typeof loadServiceConfig>;
