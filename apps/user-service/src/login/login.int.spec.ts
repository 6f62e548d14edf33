import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { call, startTestService, type TestService } from '../user-service.spec-helper';

const PROBLEM = 'application/problem+json';

describe('POST /auth/login (real PostgreSQL, real HTTP)', () => {
  let service: TestService;
  const secrets: string[] = [];
  const login = (body: unknown, ip = '198.51.100.1') =>
    call(`${service.url}/auth/login`, 'POST', body, { 'x-forwarded-for': ip });
  /** A registered account; its password is remembered to check the logs later. */
  const account = async (email: string, password: string) => {
    secrets.push(password);
    const response = await call(`${service.url}/auth/register`, 'POST', { email, password, name: 'Someone' });
    expect(response.status).toBe(201);
    return String(response.body['userId']);
  };

  beforeAll(async () => {
    service = await startTestService('user_login', {
      LOGIN_MAX_FAILURES_PER_EMAIL: '5',
      LOGIN_MAX_FAILURES_PER_IP: '20',
      JWT_TTL_S: '600',
    });
  });

  afterAll(() => service.stop());

  it('signs in and issues a token that verifies against the served JWKS, for the profile of its sub', async () => {
    const userId = await account('Linus@Example.com', 'penguin-1991');
    const response = await login({ email: 'linus@example.COM', password: 'penguin-1991' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 600 });
    const token = String(response.body['accessToken']);
    secrets.push(token);

    const jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: 'shop-user-service',
      audience: 'shop',
      algorithms: ['EdDSA'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: expect.any(String) });
    expect(payload).toMatchObject({ sub: userId, iss: 'shop-user-service', aud: 'shop' });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);

    const served = await call(`${service.url}/.well-known/jwks.json`, 'GET');
    expect(served.body).toEqual({
      keys: [expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: decodeProtectedHeader(token).kid })],
    });
    expect(JSON.stringify(served.body)).not.toMatch(/"d"/);

    // What the gateway does for GET /api/v1/me once it has verified the token.
    const profile = await call(`${service.url}/users/${String(payload.sub)}`, 'GET');
    expect(profile.body).toEqual({ userId, email: 'Linus@Example.com', name: 'Someone' });
  });

  it('answers a wrong password and an unknown email with the same 401 problem', async () => {
    await account('margaret@example.com', 'apollo-guidance');
    const wrong = await login({ email: 'margaret@example.com', password: 'apollo-guidanc3' }, '198.51.100.2');
    const unknown = await login({ email: 'nobody@example.com', password: 'apollo-guidanc3' }, '198.51.100.2');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toContain(PROBLEM);
    expect(wrong.body).toMatchObject({ status: 401, title: 'invalid credentials', instance: '/auth/login' });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.headers.get('content-type')).toBe(wrong.headers.get('content-type'));
    expect(unknown.body).toEqual(wrong.body);
  });

  it('throttles failed logins per email: 429 problem+json with Retry-After, even for the right password', async () => {
    await account('barbara@example.com', 'liskov-substitution');
    for (let attempt = 0; attempt < 5; attempt++) {
      // Each from another address: the per-email limit holds across IPs.
      const response = await login(
        { email: 'barbara@example.com', password: `guess-${attempt}` },
        `192.0.2.${attempt}`,
      );
      expect(response.status).toBe(401);
    }
    const throttled = await login({ email: 'BARBARA@example.com', password: 'liskov-substitution' }, '192.0.2.99');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('content-type')).toContain(PROBLEM);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(290);
    expect(retryAfter).toBeLessThanOrEqual(300);
    expect(throttled.body).toMatchObject({ status: 429, title: 'too many login attempts', instance: '/auth/login' });
    // Other accounts are not affected.
    expect((await login({ email: 'linus@example.com', password: 'penguin-1991' }, '192.0.2.99')).status).toBe(200);
  });

  it('throttles failed logins per client IP (x-forwarded-for), across emails', async () => {
    const responses = [];
    for (let attempt = 0; attempt < 21; attempt++) {
      responses.push(await login({ email: `spray${attempt}@example.com`, password: 'password1' }, '203.0.113.50'));
    }
    expect(responses.slice(0, 20).map((response) => response.status)).toEqual(Array(20).fill(401));
    expect(responses[20]?.status).toBe(429);
    expect(Number(responses[20]?.headers.get('retry-after'))).toBeGreaterThan(0);
    // The client address is the last x-forwarded-for entry (what the gateway saw), not one the client made up.
    const spoofed = await login(
      { email: 'margaret@example.com', password: 'apollo-guidance' },
      '10.9.9.9, 203.0.113.50',
    );
    expect(spoofed.status).toBe(429);
    expect((await login({ email: 'margaret@example.com', password: 'apollo-guidance' }, '203.0.113.51')).status).toBe(
      200,
    );
  });

  it('holds the limit under a concurrent burst: exactly 5 of 12 simultaneous guesses are tried', async () => {
    await account('frances@example.com', 'fortran-optimizer');
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        login({ email: 'frances@example.com', password: `guess-${index}` }, `192.0.2.${100 + index}`),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
  });

  it('refuses an invalid body with a 400 problem (unknown fields included), without counting it as a failure', async () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const response = await login({ email: 'linus@example.com', password: 'penguin-1991', remember: true });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ status: 400, errors: [{ path: 'remember', message: 'unknown field' }] });
    }
    expect((await login({ email: 'linus@example.com', password: 'penguin-1991' })).status).toBe(200);
  });

  it('never writes a password or a token to the logs', async () => {
    const logs = service.logs();
    expect(logs).toContain('user-service listening');
    expect(secrets.length).toBeGreaterThan(3);
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
