import { DEFAULT_PROVIDER_CALL_BUDGET_MS, loadServiceConfig, providerCallBudgetMs } from './config';

const required = { DATABASE_URL: 'postgres://payment@127.0.0.1:5432/payment', KAFKA_BROKERS: '127.0.0.1:9092' };

describe('payment-service config', () => {
  it('defaults to the provider of docs/contract.md on port 3005 and serves on 3004', () => {
    const config = loadServiceConfig(required);
    expect(config.PAYMENT_PROVIDER_URL).toBe('http://127.0.0.1:3005');
    expect(config.PAYMENT_SERVICE_PORT).toBe(3004);
  });

  it('refuses a bad value, naming the variable', () => {
    expect(() => loadServiceConfig({ ...required, PAYMENT_PROVIDER_URL: 'ftp://provider' })).toThrow(
      /PAYMENT_PROVIDER_URL/,
    );
    expect(() => loadServiceConfig({ ...required, PROVIDER_TIMEOUT_MS: '0' })).toThrow(/PROVIDER_TIMEOUT_MS/);
  });

  it('bounds one provider call by every attempt timing out plus the longest backoff before each retry', () => {
    expect(DEFAULT_PROVIDER_CALL_BUDGET_MS).toBe(3 * 2_000 + 100 + 200);
    expect(
      providerCallBudgetMs({
        PROVIDER_TIMEOUT_MS: 1_000,
        PROVIDER_RETRY_ATTEMPTS: 4,
        PROVIDER_RETRY_BASE_DELAY_MS: 300,
        PROVIDER_RETRY_MAX_DELAY_MS: 500,
      }),
    ).toBe(4 * 1_000 + 300 + 500 + 500);
    // The default budget leaves the saga (SAGA_TIMEOUT_MS, 30 s by default) room for the answer to travel.
    expect(DEFAULT_PROVIDER_CALL_BUDGET_MS).toBeLessThan(30_000);
  });

  it('refuses to start when the timeouts do not fit: provider call budget < step < saga', () => {
    expect(loadServiceConfig(required)).toMatchObject({ SAGA_STEP_TIMEOUT_MS: 10_000, SAGA_TIMEOUT_MS: 30_000 });
    // 3 × 4000 + 300 = 12 300 ms of provider calls cannot fit a 10 s step.
    expect(() => loadServiceConfig({ ...required, PROVIDER_TIMEOUT_MS: '4000' })).toThrow(
      /12300 ms .* less than SAGA_STEP_TIMEOUT_MS \(10000\)/,
    );
    expect(() => loadServiceConfig({ ...required, SAGA_STEP_TIMEOUT_MS: '30000' })).toThrow(/timeouts do not fit/);
    expect(() => loadServiceConfig({ ...required, SAGA_TIMEOUT_MS: '8000' })).toThrow(/timeouts do not fit/);
    expect(
      loadServiceConfig({ ...required, PROVIDER_TIMEOUT_MS: '4000', SAGA_STEP_TIMEOUT_MS: '15000' })
        .PROVIDER_TIMEOUT_MS,
    ).toBe(4_000);
  });
});
