import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@shop/health';
import { calculateJwkThumbprint } from 'jose';
import { loadSigningKey } from './signing-key';

const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('signing key', () => {
  it('uses the key from JWT_PRIVATE_KEY, with the kid from JWT_KEY_ID', async () => {
    const key = await loadSigningKey({ NODE_ENV: 'production', JWT_PRIVATE_KEY: pem(), JWT_KEY_ID: 'key-2026-01' });
    expect(key.generated).toBe(false);
    expect(key.kid).toBe('key-2026-01');
    expect(key.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: 'key-2026-01', alg: 'EdDSA', use: 'sig' });
    expect(key.publicJwk).not.toHaveProperty('d');
  });

  it('names a key without JWT_KEY_ID by its RFC 7638 thumbprint, the same on every start', async () => {
    const privateKey = pem();
    const first = await loadSigningKey({ NODE_ENV: 'development', JWT_PRIVATE_KEY: privateKey });
    const second = await loadSigningKey({ NODE_ENV: 'development', JWT_PRIVATE_KEY: privateKey });
    const { kid: _kid, alg: _alg, use: _use, ...bare } = first.publicJwk;
    expect(first.kid).toBe(await calculateJwkThumbprint(bare));
    expect(second.kid).toBe(first.kid);
  });

  it('generates a key outside production when none is set', async () => {
    const key = await loadSigningKey({ NODE_ENV: 'development' });
    expect(key.generated).toBe(true);
    expect(key.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: key.kid });
    expect(key.publicJwk).not.toHaveProperty('d');
    expect((await loadSigningKey({ NODE_ENV: 'test' })).kid).not.toBe(key.kid);
  });

  it('refuses to make one up in production: a ConfigError naming JWT_PRIVATE_KEY', async () => {
    const refusal = loadSigningKey({ NODE_ENV: 'production' });
    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    await expect(refusal).rejects.toThrow(/JWT_PRIVATE_KEY/);
  });
});
