import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@shop/health';
import { loadServiceConfig } from './config';

const DATABASE_URL = 'postgres://user_service@127.0.0.1:5432/user';
const ed25519Pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadServiceConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('user-service config', () => {
  it('has defaults for the token and the throttle', () => {
    expect(loadServiceConfig({ DATABASE_URL })).toMatchObject({
      USER_SERVICE_PORT: 3001,
      JWT_ISSUER: 'shop-user-service',
      JWT_AUDIENCE: 'shop',
      JWT_TTL_S: 900,
      LOGIN_MAX_FAILURES_PER_EMAIL: 5,
      LOGIN_MAX_FAILURES_PER_IP: 20,
      LOGIN_THROTTLE_WINDOW_S: 300,
    });
  });

  it('refuses a production start without JWT_PRIVATE_KEY, naming it', () => {
    expect(refusal({ DATABASE_URL, NODE_ENV: 'production' }).issues).toEqual([
      expect.stringMatching(/^JWT_PRIVATE_KEY: required when NODE_ENV=production/),
    ]);
    const pem = ed25519Pem();
    expect(loadServiceConfig({ DATABASE_URL, NODE_ENV: 'production', JWT_PRIVATE_KEY: pem }).JWT_PRIVATE_KEY).toBe(
      pem.trim(),
    );
  });

  it('accepts the key on one line with \\n escapes (as compose files carry it)', () => {
    const pem = ed25519Pem();
    const config = loadServiceConfig({ DATABASE_URL, JWT_PRIVATE_KEY: pem.trim().replaceAll('\n', '\\n') });
    expect(config.JWT_PRIVATE_KEY).toBe(pem.trim());
  });

  it('refuses a key that is not an Ed25519 PKCS#8 PEM, without echoing it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    for (const value of [rsa, 'not-a-key', ed25519Pem().replace('PRIVATE KEY', 'RSA PRIVATE KEY')]) {
      const error = refusal({ DATABASE_URL, JWT_PRIVATE_KEY: value });
      expect(error.issues).toEqual([expect.stringMatching(/^JWT_PRIVATE_KEY: must be a PKCS#8 PEM/)]);
      expect(error.message).not.toContain(value.split('\n')[1] ?? value);
    }
  });

  it('names a bad throttle limit or TTL', () => {
    expect(refusal({ DATABASE_URL, LOGIN_MAX_FAILURES_PER_EMAIL: '0', JWT_TTL_S: 'soon' }).issues).toEqual([
      expect.stringMatching(/^JWT_TTL_S: /),
      expect.stringMatching(/^LOGIN_MAX_FAILURES_PER_EMAIL: /),
    ]);
  });
});
