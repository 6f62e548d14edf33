import { readFileSync } from 'node:fs';
import path from 'node:path';
import { call, startTestGateway, startWorld, type TestGateway, type World } from '../gateway.spec-helper';

const CHECKED_IN = path.join(__dirname, '..', '..', 'openapi.json');

describe('the OpenAPI document over HTTP', () => {
  let world: World;
  let gateway: TestGateway;

  beforeAll(async () => {
    world = await startWorld();
    gateway = await startTestGateway(world);
  });

  afterAll(async () => {
    await gateway?.stop();
    await world?.close();
  });

  it.each(['/docs/openapi.json', '/docs'])('serves the checked-in document at GET %s', async (route) => {
    const response = await call(`${gateway.url}${route}`, 'GET');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.body).toStrictEqual(JSON.parse(readFileSync(CHECKED_IN, 'utf8')));
  });
});
