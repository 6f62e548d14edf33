import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@shop/health';
import { createTestDatabase } from '@shop/testing';
import { loadServiceConfig } from './config';
import { startUserService } from './user-service';
import { call, startTestService } from './user-service.spec-helper';

describe('user-service start-up (real PostgreSQL, real HTTP)', () => {
  it('refuses a production start without JWT_PRIVATE_KEY: a ConfigError naming it, before touching the database', async () => {
    const db = await createTestDatabase('user_nokey');
    try {
      expect(() => loadServiceConfig({ NODE_ENV: 'production', DATABASE_URL: db.url })).toThrow(ConfigError);
      // startUserService checks too, whoever built the config.
      const config = {
        ...loadServiceConfig({ DATABASE_URL: db.url }),
        NODE_ENV: 'production' as const,
        USER_SERVICE_PORT: 0,
      };
      const start = startUserService(config);
      await expect(start).rejects.toBeInstanceOf(ConfigError);
      await expect(start).rejects.toThrow(/JWT_PRIVATE_KEY: required when NODE_ENV=production/);
      const { rows } = await db.pool.query<{ table: string | null }>(
        "select to_regclass('schema_migrations')::text as table",
      );
      expect(rows[0]?.table).toBeNull();
    } finally {
      await db.drop();
    }
  });

  it('starts in production with a key from the environment: the JWKS serves it under JWT_KEY_ID', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const service = await startTestService('user_prodkey', {
      NODE_ENV: 'production',
      JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      JWT_KEY_ID: 'user-2026-01',
    });
    try {
      const jwks = await call(`${service.url}/.well-known/jwks.json`, 'GET');
      expect(jwks.status).toBe(200);
      expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
      expect(jwks.body).toEqual({
        keys: [
          {
            kty: 'OKP',
            crv: 'Ed25519',
            x: publicKey.export({ format: 'jwk' }).x,
            kid: 'user-2026-01',
            alg: 'EdDSA',
            use: 'sig',
          },
        ],
      });
      expect((await call(`${service.url}/health/ready`, 'GET')).status).toBe(200);
      expect(service.logs()).not.toContain('JWT_PRIVATE_KEY is not set');
    } finally {
      await service.stop();
    }
  });

  it('outside production without a key, signs with a key generated at start and says so in a warning', async () => {
    const service = await startTestService('user_devkey');
    try {
      const jwks = await call(`${service.url}/.well-known/jwks.json`, 'GET');
      const keys = jwks.body['keys'] as { kid: string }[];
      expect(keys).toHaveLength(1);
      const warning = service
        .logs()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .find((line) => line.msg.includes('JWT_PRIVATE_KEY is not set'));
      expect(warning).toMatchObject({ level: 40 });
      expect(warning?.msg).toContain(keys[0]?.kid);
    } finally {
      await service.stop();
    }
  });
});
