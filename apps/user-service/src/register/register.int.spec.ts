import { call, startTestService, type TestService } from '../user-service.spec-helper';

const PROBLEM = 'application/problem+json';

describe('POST /auth/register (real PostgreSQL, real HTTP)', () => {
  let service: TestService;
  const register = (body: unknown) => call(`${service.url}/auth/register`, 'POST', body);
  const counts = async () => {
    const { rows } = await service.db.pool.query<{ users: number; events: number }>(
      'select (select count(*) from users)::int as users, (select count(*) from events)::int as events',
    );
    return rows[0];
  };

  beforeAll(async () => {
    service = await startTestService('user_register');
  });

  afterAll(() => service.stop());

  it('registers a user: 201 { userId }, one UserRegistered event in user-<id>, and the users row', async () => {
    const response = await register({ email: 'Grace.Hopper@Example.com', password: 'cobol-1959', name: 'Grace' });
    expect(response.status).toBe(201);
    const userId = response.body['userId'];
    expect(userId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(Object.keys(response.body)).toEqual(['userId']);

    const events = await service.db.pool.query<{ stream_version: number; type: string; data: Record<string, unknown> }>(
      'select stream_version, type, data from events where stream_id = $1',
      [`user-${String(userId)}`],
    );
    expect(events.rows).toHaveLength(1);
    expect(events.rows[0]).toMatchObject({
      stream_version: 1,
      type: 'UserRegistered',
      data: { userId, email: 'Grace.Hopper@Example.com', name: 'Grace' },
    });
    const row = await service.db.pool.query(
      'select email, email_lower, name, password_hash from users where user_id = $1',
      [userId],
    );
    expect(row.rows[0]).toMatchObject({ email: 'Grace.Hopper@Example.com', email_lower: 'grace.hopper@example.com' });
    // Only a salted scrypt hash is stored, never the password.
    expect(String(row.rows[0].password_hash)).toMatch(/^scrypt\$/);
    expect(JSON.stringify(events.rows) + JSON.stringify(row.rows)).not.toContain('cobol-1959');
  });

  it('refuses an email already registered, in any case: 409 problem+json, nothing written', async () => {
    await register({ email: 'ada@example.com', password: 'analytical', name: 'Ada' });
    const before = await counts();
    const response = await register({ email: 'ADA@Example.COM', password: 'another-one', name: 'Other Ada' });
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toContain(PROBLEM);
    expect(response.body).toMatchObject({
      type: expect.any(String),
      title: 'email already registered',
      status: 409,
      detail: expect.any(String),
      instance: '/auth/register',
    });
    expect(await counts()).toEqual(before);
  });

  it('lets exactly one of 10 concurrent registrations of one email win', async () => {
    const before = await counts();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        register({
          email: index % 2 ? 'Race@Example.com' : 'race@example.com',
          password: `password-${index}`,
          name: `Racer ${index}`,
        }),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    const winner = responses.find((response) => response.status === 201)?.body['userId'];
    const rows = await service.db.pool.query('select user_id from users where email_lower = $1', ['race@example.com']);
    expect(rows.rows).toEqual([{ user_id: winner }]);
    expect(await counts()).toEqual({ users: (before?.users ?? 0) + 1, events: (before?.events ?? 0) + 1 });
  });

  it.each([
    ['an unknown field', { email: 'x@example.com', password: 'long-enough', name: 'X', admin: true }, ['admin']],
    ['a short password', { email: 'x@example.com', password: 'short', name: 'X' }, ['password']],
    ['a malformed email', { email: 'not-an-email', password: 'long-enough', name: 'X' }, ['email']],
    ['missing fields', { email: 'x@example.com' }, ['name', 'password']],
    ['wrong types', { email: 42, password: ['long-enough'], name: null }, ['email', 'name', 'password']],
    ['a blank name', { email: 'x@example.com', password: 'long-enough', name: '   ' }, ['name']],
  ])('refuses %s: 400 problem+json with errors [{ path, message }], nothing written', async (_, body, paths) => {
    const before = await counts();
    const response = await register(body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain(PROBLEM);
    expect(response.body).toMatchObject({ status: 400, title: 'validation failed', instance: '/auth/register' });
    const errors = response.body['errors'] as { path: string; message: string }[];
    expect(errors.map((error) => error.path).sort()).toEqual(paths);
    for (const error of errors) expect(error.message).toEqual(expect.any(String));
    expect(await counts()).toEqual(before);
  });

  it('refuses malformed JSON with a 400 problem, nothing written', async () => {
    const before = await counts();
    const response = await register('{"email": "x@example.com", ');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain(PROBLEM);
    expect(response.body).toMatchObject({ status: 400, instance: '/auth/register' });
    expect(await counts()).toEqual(before);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded'])(
    'refuses a %s body with a 415 problem, nothing written',
    async (contentType) => {
      const before = await counts();
      const response = await fetch(`${service.url}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: 'email=x%40example.com&password=long-enough&name=X',
      });
      expect(response.status).toBe(415);
      expect(response.headers.get('content-type')).toContain(PROBLEM);
      expect(await counts()).toEqual(before);
    },
  );
});
