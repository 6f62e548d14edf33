import { loadServiceConfig } from './config';

const required = { DATABASE_URL: 'postgres://order@127.0.0.1:5432/order', KAFKA_BROKERS: '127.0.0.1:9092' };

describe('order-service config', () => {
  it('defaults to a 30 s saga of 10 s steps', () => {
    expect(loadServiceConfig(required)).toMatchObject({ SAGA_TIMEOUT_MS: 30_000, SAGA_STEP_TIMEOUT_MS: 10_000 });
  });

  it('refuses a step that does not fit in the saga, naming both variables', () => {
    expect(() => loadServiceConfig({ ...required, SAGA_TIMEOUT_MS: '10000' })).toThrow(
      /SAGA_STEP_TIMEOUT_MS \(10000\) must be less than SAGA_TIMEOUT_MS \(10000\)/,
    );
    expect(loadServiceConfig({ ...required, SAGA_TIMEOUT_MS: '10000', SAGA_STEP_TIMEOUT_MS: '4000' })).toMatchObject({
      SAGA_TIMEOUT_MS: 10_000,
      SAGA_STEP_TIMEOUT_MS: 4_000,
    });
  });
});
