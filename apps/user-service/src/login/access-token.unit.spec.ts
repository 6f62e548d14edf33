import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { loadSigningKey } from '../jwks/signing-key';
import { AccessTokenIssuer } from './access-token';

const settings = { issuer: 'shop-user-service', audience: 'shop', ttlS: 900 };
const now = Date.parse('2026-03-01T12:00:00.000Z');
const userId = '7d1c3b8e-2a4f-4e6b-9c0d-1e2f3a4b5c6d';

describe('access token', () => {
  it('is an EdDSA JWT with kid, sub = userId, iss, aud, iat and exp = iat + TTL, verifiable with the JWKS', async () => {
    const key = await loadSigningKey({ NODE_ENV: 'test' });
    const token = await new AccessTokenIssuer(key, settings, () => now).issue(userId);
    expect(token).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(decodeProtectedHeader(token.accessToken)).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' });
    const { payload } = await jwtVerify(token.accessToken, createLocalJWKSet({ keys: [key.publicJwk] }), {
      issuer: 'shop-user-service',
      audience: 'shop',
      currentDate: new Date(now + 1_000),
    });
    expect(payload).toMatchObject({ sub: userId, iss: 'shop-user-service', aud: 'shop', iat: now / 1000 });
    expect(payload.exp).toBe(now / 1000 + 900);
  });

  it('does not verify after it expires, nor with another key', async () => {
    const key = await loadSigningKey({ NODE_ENV: 'test' });
    const other = await loadSigningKey({ NODE_ENV: 'test' });
    const { accessToken } = await new AccessTokenIssuer(key, settings, () => now).issue(userId);
    const options = { issuer: 'shop-user-service', audience: 'shop' };
    await expect(
      jwtVerify(accessToken, createLocalJWKSet({ keys: [key.publicJwk] }), {
        ...options,
        currentDate: new Date(now + 901_000),
      }),
    ).rejects.toThrow(/exp/);
    await expect(
      jwtVerify(accessToken, createLocalJWKSet({ keys: [{ ...other.publicJwk, kid: key.kid }] }), {
        ...options,
        currentDate: new Date(now),
      }),
    ).rejects.toThrow(/signature/);
  });
});
