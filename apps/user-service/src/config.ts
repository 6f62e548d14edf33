import { createPrivateKey } from 'node:crypto';
import { baseConfigShape, ConfigError, databaseConfigShape, loadConfig, port } from '@shop/health';
import { z } from 'zod';

/** True when `pem` is an unencrypted PKCS#8 PEM holding an Ed25519 private key. */
function isEd25519Pkcs8(pem: string): boolean {
  if (!pem.includes('-----BEGIN PRIVATE KEY-----')) return false;
  try {
    return createPrivateKey({ key: pem, format: 'pem' }).asymmetricKeyType === 'ed25519';
  } catch {
    return false;
  }
}

/** Every variable user-service reads, checked at start-up. */
export const configShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  USER_SERVICE_PORT: port(3001),
  /**
   * The key that signs access tokens. One-line forms (`\n` escapes, as in a
   * compose file) are accepted. The issue never echoes the value.
   */
  JWT_PRIVATE_KEY: z
    .string()
    .transform((pem) => pem.replaceAll('\\n', '\n').trim())
    .refine(isEd25519Pkcs8, 'must be a PKCS#8 PEM ("BEGIN PRIVATE KEY") of an Ed25519 key')
    .optional(),
  /** The `kid` of that key; the RFC 7638 thumbprint of its public key when unset. */
  JWT_KEY_ID: z.string().min(1).max(128).optional(),
  JWT_ISSUER: z.string().min(1).default('shop-user-service'),
  JWT_AUDIENCE: z.string().min(1).default('shop'),
  JWT_TTL_S: z.coerce.number().int().min(30).max(86_400).default(900),
  LOGIN_MAX_FAILURES_PER_EMAIL: z.coerce.number().int().min(1).max(1_000).default(5),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).max(100_000).default(20),
  LOGIN_THROTTLE_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(300),
} as const;

export type ServiceConfig = z.infer<z.ZodObject<typeof configShape>>;

/**
 * A production service never signs with a key it made up at start: tokens
 * would stop verifying at every restart and differ between replicas.
 */
export function assertSigningKeyConfigured(config: Pick<ServiceConfig, 'NODE_ENV' | 'JWT_PRIVATE_KEY'>): void {
  if (config.NODE_ENV === 'production' && !config.JWT_PRIVATE_KEY) {
    throw new ConfigError('user-service', [
      'JWT_PRIVATE_KEY: required when NODE_ENV=production (a PKCS#8 PEM of an Ed25519 key)',
    ]);
  }
}

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const config = loadConfig('user-service', configShape, env);
  assertSigningKeyConfigured(config);
  return config;
}
