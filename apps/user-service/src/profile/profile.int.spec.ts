import { randomUUID } from 'node:crypto';
import { call, startTestService, type TestService } from '../user-service.spec-helper';

describe('GET /users/:userId (real PostgreSQL, real HTTP)', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService('user_profile');
  });

  afterAll(() => service.stop());

  it('returns { userId, email, name } of a registered user, and nothing else', async () => {
    const registered = await call(`${service.url}/auth/register`, 'POST', {
      email: 'Edsger@Example.com',
      password: 'goto-considered-harmful',
      name: 'Edsger',
    });
    const userId = String(registered.body['userId']);
    const response = await call(`${service.url}/users/${userId}`, 'GET');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ userId, email: 'Edsger@Example.com', name: 'Edsger' });
  });

  it.each([
    ['an unknown id', randomUUID()],
    ['a malformed id', 'not-a-uuid'],
    ['an id that SQL would choke on', "1' or '1'='1"],
  ])('answers %s with a 404 problem', async (_, userId) => {
    const response = await call(`${service.url}/users/${encodeURIComponent(userId)}`, 'GET');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 404, title: 'user not found' });
  });
});
