import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTVerifyGetKey, SignJWT } from 'jose';
import { type TokenKeys, TokenVerifier } from './token-verifier';

const ISSUER = 'user-service';
const AUDIENCE = 'shop';

/** A key set whose lookups are counted: one lookup per signature check. */
async function keySet(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const local = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA' }] });
  const counted = { lookups: 0, keys: undefined as unknown as JWTVerifyGetKey };
  counted.keys = ((...args: Parameters<JWTVerifyGetKey>) => {
    counted.lookups++;
    return local(...args);
  }) as JWTVerifyGetKey;
  const sign = (sub: string, expiresAtS: number) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(Math.floor(expiresAtS - 900))
      .setExpirationTime(expiresAtS)
      .sign(privateKey);
  return { counted, sign };
}

describe('TokenVerifier', () => {
  let clock: number;
  let current: JWTVerifyGetKey | undefined;
  const jwks: TokenKeys = {
    get keys() {
      return current;
    },
    refresh: async () => undefined,
    refreshForUnknownKey: async () => false,
  };
  const verifier = (settings: { rememberMs?: number; rememberTokens?: number } = {}) =>
    new TokenVerifier(jwks, { issuer: ISSUER, audience: AUDIENCE, clockToleranceS: 0, now: () => clock, ...settings });

  beforeEach(() => {
    clock = Date.UTC(2026, 0, 1);
  });

  it('checks a token’s signature once and answers it from memory after that', async () => {
    const { counted, sign } = await keySet('k1');
    current = counted.keys;
    const token = await sign('user-1', clock / 1000 + 900);
    const tokens = verifier();

    for (let i = 0; i < 3; i++) expect(await tokens.check(token)).toEqual({ kind: 'valid', userId: 'user-1' });
    expect(counted.lookups).toBe(1);
  });

  it('checks every time when told to remember nothing', async () => {
    const { counted, sign } = await keySet('k1');
    current = counted.keys;
    const token = await sign('user-1', clock / 1000 + 900);
    const tokens = verifier({ rememberMs: 0 });

    for (let i = 0; i < 3; i++) expect(await tokens.check(token)).toEqual({ kind: 'valid', userId: 'user-1' });
    expect(counted.lookups).toBe(3);
  });

  it('never answers a remembered token past its exp, nor past rememberMs', async () => {
    const { counted, sign } = await keySet('k1');
    current = counted.keys;
    const shortLived = await sign('user-1', clock / 1000 + 30);
    const longLived = await sign('user-2', clock / 1000 + 900);
    const tokens = verifier({ rememberMs: 60_000 });
    expect(await tokens.check(shortLived)).toEqual({ kind: 'valid', userId: 'user-1' });
    expect(await tokens.check(longLived)).toEqual({ kind: 'valid', userId: 'user-2' });

    clock += 31_000;
    expect(await tokens.check(shortLived)).toEqual({ kind: 'invalid', detail: 'the token has expired' });
    expect(await tokens.check(longLived)).toEqual({ kind: 'valid', userId: 'user-2' });
    expect(counted.lookups).toBe(3);
    clock += 30_000;
    expect(await tokens.check(longLived)).toEqual({ kind: 'valid', userId: 'user-2' });
    expect(counted.lookups).toBe(4);
  });

  it('checks again once the key set changed: a key rotated out no longer vouches for its tokens', async () => {
    const first = await keySet('k1');
    const second = await keySet('k2');
    current = first.counted.keys;
    const token = await first.sign('user-1', clock / 1000 + 900);
    const tokens = verifier();
    expect(await tokens.check(token)).toEqual({ kind: 'valid', userId: 'user-1' });

    current = second.counted.keys;
    expect(await tokens.check(token)).toEqual({ kind: 'invalid', detail: 'the token is signed by an unknown key' });
  });

  it('remembers a token by its whole text: another signature is checked on its own', async () => {
    const { counted, sign } = await keySet('k1');
    current = counted.keys;
    const token = await sign('user-1', clock / 1000 + 900);
    const tokens = verifier();
    expect(await tokens.check(token)).toEqual({ kind: 'valid', userId: 'user-1' });

    const [header, payload, signature = ''] = token.split('.');
    const tampered = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect(await tokens.check(tampered)).toEqual({ kind: 'invalid', detail: 'the token is not valid' });
  });

  it('keeps at most rememberTokens tokens, dropping the oldest first', async () => {
    const { counted, sign } = await keySet('k1');
    current = counted.keys;
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((user) => sign(user, clock / 1000 + 900)));
    const tokens = verifier({ rememberTokens: 2 });
    for (const token of [a, b, c]) await tokens.check(token as string);
    expect(counted.lookups).toBe(3);

    await tokens.check(c as string);
    await tokens.check(b as string);
    expect(counted.lookups).toBe(3);
    await tokens.check(a as string);
    expect(counted.lookups).toBe(4);
  });
});
