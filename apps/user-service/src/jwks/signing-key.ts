import { calculateJwkThumbprint, exportJWK, generateKeyPair, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { createPublicKey } from 'node:crypto';
import { assertSigningKeyConfigured, type ServiceConfig } from '../config';

export const JWT_ALGORITHM = 'EdDSA';

/** The key access tokens are signed with, and its public half as served in the JWKS. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  /** Made up at start because JWT_PRIVATE_KEY was not set (never in production). */
  readonly generated: boolean;
}

async function publicJwkOf(publicKey: Parameters<typeof exportJWK>[0], kid: string | undefined) {
  const jwk = await exportJWK(publicKey);
  const id = kid ?? (await calculateJwkThumbprint(jwk));
  return { kid: id, publicJwk: { ...jwk, kid: id, alg: JWT_ALGORITHM, use: 'sig' } };
}

/**
 * The Ed25519 key from JWT_PRIVATE_KEY (its `kid` from JWT_KEY_ID, else the
 * RFC 7638 thumbprint, so a new key gets a new kid by itself). Without one,
 * outside production only, a fresh key: its tokens stop verifying when the
 * process restarts.
 */
export async function loadSigningKey(
  config: Pick<ServiceConfig, 'NODE_ENV' | 'JWT_PRIVATE_KEY' | 'JWT_KEY_ID'>,
): Promise<SigningKey> {
  assertSigningKeyConfigured(config);
  if (config.JWT_PRIVATE_KEY) {
    const privateKey = await importPKCS8(config.JWT_PRIVATE_KEY, JWT_ALGORITHM);
    const { kid, publicJwk } = await publicJwkOf(createPublicKey(config.JWT_PRIVATE_KEY), config.JWT_KEY_ID);
    return { kid, privateKey, publicJwk, generated: false };
  }
  const pair = await generateKeyPair(JWT_ALGORITHM, { crv: 'Ed25519' });
  const { kid, publicJwk } = await publicJwkOf(pair.publicKey, config.JWT_KEY_ID);
  return { kid, privateKey: pair.privateKey, publicJwk, generated: true };
}
