import {
  AUDIENCE,
  call,
  createSigningKey,
  ISSUER,
  jwksRoute,
  ORDER_ID,
  problemAnswer,
  routes,
  startTestGateway,
  startWorld,
  type StandIn,
  type TestGateway,
  userServiceRoutes,
  type World,
} from '../gateway.spec-helper';

const REGISTRATION = { email: 'alice@example.com', password: 'correct horse', name: 'Alice' };
const CREDENTIALS = { email: 'alice@example.com', password: 'correct horse' };

/** A token no key signs: `alg: none`, as an attacker would send one. */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

const nowS = () => Math.floor(Date.now() / 1000);

describe('auth through the gateway', () => {
  let world: World;
  let gateway: TestGateway;

  beforeAll(async () => {
    world = await startWorld();
    // No cooldown, so a key rotation is picked up by the very next token that names the new key.
    gateway = await startTestGateway(world, { JWKS_REFRESH_COOLDOWN_S: '0' });
  });

  afterAll(async () => {
    await gateway?.stop();
    await world?.close();
  });

  beforeEach(() => {
    world.jwks = [world.key.publicJwk];
    world.users.seen.length = 0;
    world.users.handler = routes(...userServiceRoutes(() => world.jwks));
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    call(`${gateway.url}/api/v1/auth/${path}`, 'POST', { body, headers });
  const me = (token?: string, headers: Record<string, string> = {}) =>
    call(`${gateway.url}/api/v1/me`, 'GET', { ...(token === undefined ? {} : { token }), headers });

  describe('register and login', () => {
    it('forwards a registration to user-service with the client’s address last in x-forwarded-for', async () => {
      const response = await post('register', REGISTRATION, { 'x-forwarded-for': '203.0.113.9' });

      expect(response.status).toBe(201);
      expect(response.body).toEqual({ userId: ORDER_ID });
      const [seen, ...more] = world.users.seenAt('/auth/register');
      expect(more).toEqual([]);
      expect(seen?.method).toBe('POST');
      expect(seen?.body).toEqual(REGISTRATION);
      // user-service throttles by the last entry: the address the gateway saw, never one a client wrote.
      expect(seen?.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    });

    it('passes user-service’s 409 for a taken email on, asking once', async () => {
      world.users.handler = routes(
        jwksRoute(() => world.jwks),
        (request) =>
          request.url === '/auth/register'
            ? problemAnswer(409, 'email already registered', 'an account with this email exists')
            : undefined,
      );

      const response = await post('register', REGISTRATION);

      expect(response.status).toBe(409);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toEqual({
        type: 'https://shop.example/problems/email-already-registered',
        title: 'email already registered',
        status: 409,
        detail: 'an account with this email exists',
        instance: '/api/v1/auth/register',
      });
      expect(world.users.seenAt('/auth/register')).toHaveLength(1);
    });

    it('forwards a login and returns the access token', async () => {
      const response = await post('login', CREDENTIALS);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ accessToken: 'issued-token', tokenType: 'Bearer', expiresIn: 900 });
      expect(world.users.seenAt('/auth/login').map((request) => request.body)).toEqual([CREDENTIALS]);
    });

    it('passes user-service’s 401 for a failed login on, asking once (a retry would count twice)', async () => {
      world.users.handler = routes(
        jwksRoute(() => world.jwks),
        (request) =>
          request.url === '/auth/login' ? problemAnswer(401, 'unauthorized', 'wrong email or password') : undefined,
      );

      const response = await post('login', { ...CREDENTIALS, password: 'wrong password' });

      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({
        title: 'unauthorized',
        status: 401,
        detail: 'wrong email or password',
        instance: '/api/v1/auth/login',
      });
      expect(world.users.seenAt('/auth/login')).toHaveLength(1);
    });

    it('passes user-service’s login throttle (429) on with its Retry-After', async () => {
      world.users.handler = routes(
        jwksRoute(() => world.jwks),
        (request) =>
          request.url === '/auth/login'
            ? {
                ...problemAnswer(429, 'too many requests', 'too many failed logins from this address'),
                headers: { 'content-type': 'application/problem+json', 'retry-after': '37' },
              }
            : undefined,
      );

      const response = await post('login', CREDENTIALS);

      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('37');
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({ status: 429, instance: '/api/v1/auth/login' });
    });

    it('answers 503 + Retry-After when user-service fails a login, and does not retry it', async () => {
      world.users.handler = routes(
        jwksRoute(() => world.jwks),
        (request) => (request.url === '/auth/login' ? { status: 500, body: { stack: 'at scrypt' } } : undefined),
      );

      const response = await post('login', CREDENTIALS);

      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(response.text).not.toMatch(/scrypt|127\.0\.0\.1/);
      expect(world.users.seenAt('/auth/login')).toHaveLength(1);
    });
  });

  describe('validation at the edge', () => {
    type Case = [name: string, send: () => ReturnType<typeof call>, status: number, path?: string];
    const raw = (path: string, body: string, contentType = 'application/json') =>
      call(`${gateway.url}/api/v1/auth/${path}`, 'POST', { body, headers: { 'content-type': contentType } });
    const cases: readonly Case[] = [
      ['a register without a name', () => post('register', { ...REGISTRATION, name: undefined }), 400, 'name'],
      ['a blank name', () => post('register', { ...REGISTRATION, name: '   ' }), 400, 'name'],
      [
        'a password of 7 characters',
        () => post('register', { ...REGISTRATION, password: 'x'.repeat(7) }),
        400,
        'password',
      ],
      ['an email that is not one', () => post('register', { ...REGISTRATION, email: 'alice' }), 400, 'email'],
      ['an email of the wrong type', () => post('register', { ...REGISTRATION, email: 42 }), 400, 'email'],
      ['an unknown register field', () => post('register', { ...REGISTRATION, role: 'admin' }), 400, 'role'],
      ['a login without a password', () => post('login', { email: CREDENTIALS.email }), 400, 'password'],
      ['an unknown login field', () => post('login', { ...CREDENTIALS, remember: true }), 400, 'remember'],
      ['a JSON array', () => post('register', [REGISTRATION]), 400, 'body'],
      ['malformed JSON', () => raw('register', '{"email":'), 400],
      ['a text/plain login', () => raw('login', JSON.stringify(CREDENTIALS), 'text/plain'), 415],
      ['a register over 64 KiB', () => post('register', { ...REGISTRATION, name: 'x'.repeat(70 * 1024) }), 413],
    ];

    // A rest parameter: jest would hand a declared fourth parameter of a three-item row its `done` callback.
    it.each(cases)(
      'refuses %s with a problem+json, never asking user-service',
      async (...[, send, status, path]: Case) => {
        const response = await send();

        expect(response.status).toBe(status);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(response.body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
        if (path) {
          expect(response.body['errors']).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
        }
        expect(world.users.seenAt('/auth')).toEqual([]);
      },
    );

    it('names an unknown field as such, and never echoes a password', async () => {
      const response = await post('register', { ...REGISTRATION, password: 'short', role: 'admin' });

      expect(response.status).toBe(400);
      expect(response.body['errors']).toEqual(
        expect.arrayContaining([
          { path: 'role', message: 'unknown field' },
          { path: 'password', message: expect.any(String) },
        ]),
      );
      expect(response.text).not.toContain('short');
    });
  });

  describe('GET /me', () => {
    it('answers 200 with the token’s user, asking user-service for that user only', async () => {
      const token = await world.key.sign({ sub: 'alice' });

      const response = await me(token, { 'x-user-id': 'mallory' });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ userId: 'alice', email: 'alice@example.com', name: 'Test User' });
      expect(world.users.seenAt('/users').map((request) => request.url)).toEqual(['/users/alice']);
    });

    const refused: ReadonlyArray<[string, () => Promise<Record<string, string> | string | undefined>, string]> = [
      ['no token', async () => undefined, 'a bearer token is required'],
      ['another scheme', async () => ({ authorization: 'Basic YWxpY2U6c2VjcmV0' }), 'a bearer token is required'],
      ['a garbage token', async () => 'not-a-token', 'the token is not valid'],
      ['a token of three garbage parts', async () => 'abc.def.ghi', 'the token is not valid'],
      ['an expired token', () => world.key.sign({ sub: 'alice', exp: nowS() - 60 }), 'the token has expired'],
      [
        'a token signed by another key under the same kid',
        async () => (await createSigningKey(world.key.kid)).sign({ sub: 'alice' }),
        'the token is not valid',
      ],
      [
        'a token signed by an unknown key',
        async () => (await createSigningKey('key-from-elsewhere')).sign({ sub: 'alice' }),
        'the token is signed by an unknown key',
      ],
      [
        'an unsigned token (alg none)',
        async () => unsignedToken({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: nowS() + 900 }),
        'the token is not valid',
      ],
      ['a token of another issuer', () => world.key.sign({ sub: 'alice', iss: 'elsewhere' }), 'the token is not valid'],
      ['a token for another audience', () => world.key.sign({ sub: 'alice', aud: 'admin' }), 'the token is not valid'],
      [
        'a token whose subject is a dot segment',
        () => world.key.sign({ sub: '..' }),
        'the token has no usable subject',
      ],
    ];

    it.each(refused)(
      'answers 401 problem+json for %s, never asking for a profile',
      async (_name, credentials, detail) => {
        const sent = await credentials();
        const response =
          typeof sent === 'string' ? await me(sent) : await me(undefined, sent === undefined ? {} : sent);

        expect(response.status).toBe(401);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(response.body).toEqual({
          type: 'https://shop.example/problems/unauthorized',
          title: 'unauthorized',
          status: 401,
          detail,
          instance: '/api/v1/me',
        });
        expect(world.users.seenAt('/users')).toEqual([]);
      },
    );

    it('accepts a token of a rotated key once user-service publishes it', async () => {
      const rotated = await createSigningKey('key-2');
      const token = await rotated.sign({ sub: 'alice' });
      expect((await me(token)).status).toBe(401);

      world.jwks = [world.key.publicJwk, rotated.publicJwk];

      const response = await me(token);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ userId: 'alice' });
    });
  });
});

describe('auth while user-service is down', () => {
  let world: World;
  let users: StandIn;
  let gateway: TestGateway | undefined;

  beforeEach(async () => {
    world = await startWorld();
    users = world.users;
  });

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await world.close();
  });

  it('keeps verifying tokens with the keys it has: signed-in routes of other services still work', async () => {
    gateway = await startTestGateway(world);
    const token = await world.key.sign({ sub: 'alice' });
    expect((await call(`${gateway.url}/api/v1/me`, 'GET', { token })).status).toBe(200);

    users.handler = () => 'drop';

    const orders = await call(`${gateway.url}/api/v1/orders`, 'GET', { token });
    expect(orders.status).toBe(200);
    expect(world.orders.seenAt('/orders').map((request) => request.headers['x-user-id'])).toEqual(['alice']);
    const profile = await call(`${gateway.url}/api/v1/me`, 'GET', { token });
    expect(profile.status).toBe(503);
    expect(Number(profile.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 + Retry-After while it never had the keys, and verifies once it gets them', async () => {
    users.handler = () => 'drop';
    gateway = await startTestGateway(world);
    const token = await world.key.sign({ sub: 'alice' });

    const unavailable = await call(`${gateway.url}/api/v1/me`, 'GET', { token });

    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(unavailable.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(unavailable.body).toMatchObject({ status: 503, title: 'service unavailable' });

    users.handler = routes(...userServiceRoutes(() => world.jwks));

    const recovered = await call(`${gateway.url}/api/v1/me`, 'GET', { token });
    expect(recovered.status).toBe(200);
    expect(recovered.body).toMatchObject({ userId: 'alice' });
  });
});
