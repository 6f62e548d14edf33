import { EventStore, rebuild } from '@shop/event-store';
import { call, startTestService, type TestService } from '../user-service.spec-helper';
import { usersProjection } from './users.projection';

describe('users read model (real PostgreSQL)', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService('user_projection');
  });

  afterAll(() => service.stop());

  it('is exactly what replaying the events rebuilds', async () => {
    for (const [index, email] of ['Alan@Example.com', 'alonzo@example.com', 'KURT@example.com'].entries()) {
      const response = await call(`${service.url}/auth/register`, 'POST', {
        email,
        password: `lambda-calculus-${index}`,
        name: `Logician ${index}`,
      });
      expect(response.status).toBe(201);
    }
    const snapshot = async () =>
      (await service.db.pool.query('select * from users order by user_id')).rows as Record<string, unknown>[];
    const live = await snapshot();
    expect(live).toHaveLength(3);

    expect(await rebuild(service.db.pool, new EventStore(service.db.pool), usersProjection)).toBe(3);
    expect(await snapshot()).toEqual(live);
    // And login still works against the rebuilt model.
    const login = await call(`${service.url}/auth/login`, 'POST', {
      email: 'kurt@example.com',
      password: 'lambda-calculus-2',
    });
    expect(login.status).toBe(200);
  });
});
