import { uniqueName, waitFor } from '@shop/testing';
import { pino } from 'pino';
import { register } from 'prom-client';
import { CallFailedError, ResilienceError } from './errors';
import { createPolicy, type PolicyOptions } from './policy';
import { PolicyRegistry, policyReadinessDetail } from './policy-registry';
import { metricValue } from './testing/metric-value';

const settings = {
  timeoutMs: 1_000,
  errorThresholdPercentage: 50,
  volumeThreshold: 1,
  resetTimeoutMs: 60_000,
  capacity: 4,
};

function policyFor<T>(options: Partial<PolicyOptions<T>> = {}) {
  const policy = createPolicy<T>({ name: uniqueName('unit'), registry: new PolicyRegistry(), ...settings, ...options });
  policies.push(policy);
  return policy;
}

const policies: Array<{ shutdown(): void }> = [];
afterEach(() => policies.splice(0).forEach((policy) => policy.shutdown()));

const down = () => Promise.reject(new Error('ECONNREFUSED'));

describe('createPolicy', () => {
  it('answers fresh when the call succeeds', async () => {
    const policy = policyFor<number>();
    await expect(policy.execute('k', async () => 42)).resolves.toEqual({ value: 42, stale: false });
  });

  it('wraps a failed call in CallFailedError, keeping the original as the cause', async () => {
    const policy = policyFor<number>({ volumeThreshold: 10 });
    const failure = await policy.execute('k', down).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CallFailedError);
    expect((failure as CallFailedError).cause).toEqual(new Error('ECONNREFUSED'));
  });

  it('refuses settings that make no sense, naming them', () => {
    expect(() => policyFor({ capacity: 0 })).toThrow(/capacity/);
    expect(() => policyFor({ retry: { attempts: 0, baseDelayMs: 10, maxDelayMs: 100 } })).toThrow(/attempts/);
  });
});

describe('policy metrics', () => {
  it('share one metric per name across policies, told apart by the policy label', async () => {
    const ok = policyFor<number>();
    const failing = policyFor<number>({ volumeThreshold: 10 });
    await ok.execute('k', async () => 1);
    await ok.execute('k', async () => 1);
    await failing.execute('k', down).catch(() => undefined);

    const names = (await register.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names.filter((name) => name === 'resilience_successes_total')).toHaveLength(1);
    expect(await metricValue('resilience_successes_total', ok.name)).toBe(2);
    expect(await metricValue('resilience_failures_total', ok.name)).toBe(0);
    expect(await metricValue('resilience_failures_total', failing.name)).toBe(1);
    expect(await metricValue('resilience_successes_total', failing.name)).toBe(0);
  });

  it('show the breaker state: 0 closed, 2 open', async () => {
    const policy = policyFor<number>();
    expect(await metricValue('resilience_breaker_state', policy.name)).toBe(0);
    await policy.execute('k', down).catch(() => undefined);
    expect(policy.state).toBe('open');
    expect(await metricValue('resilience_breaker_state', policy.name)).toBe(2);
  });
});

describe('state changes', () => {
  it('are logged through a pino logger', async () => {
    const lines: string[] = [];
    const logger = pino({ base: null }, { write: (line: string) => lines.push(line) });
    const policy = policyFor<number>({ logger });
    await policy.execute('k', down).catch(() => undefined);
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 40, policy: policy.name, msg: 'breaker opened' }),
    ]);
  });
});

describe('the policy registry', () => {
  it('reads every policy state and stats for /health/ready', async () => {
    const registry = new PolicyRegistry();
    const inventory = policyFor<number>({ name: uniqueName('inventory'), registry });
    const payment = policyFor<number>({ name: uniqueName('payment'), registry });
    await inventory.execute('k', async () => 1);
    await payment.execute('k', down).catch(() => undefined);
    await payment.execute('k', down).catch(() => undefined);

    const detail = policyReadinessDetail(registry);
    expect(detail.name).toBe('breakers');
    expect(detail.read()).toEqual({
      [inventory.name]: { state: 'closed', stats: expect.objectContaining({ calls: 1, successes: 1, failures: 0 }) },
      [payment.name]: {
        state: 'open',
        stats: expect.objectContaining({ calls: 2, failures: 1, shortCircuits: 1, timeouts: 0 }),
      },
    });
  });

  it('refuses a second policy under the same name, and frees the name on shutdown', () => {
    const registry = new PolicyRegistry();
    const name = uniqueName('twice');
    const first = policyFor({ name, registry });
    expect(() => policyFor({ name, registry })).toThrow(/already exists/);
    first.shutdown();
    expect(registry.get(name)).toBeUndefined();
    expect(() => policyFor({ name, registry })).not.toThrow();
  });
});

describe('shutdown', () => {
  const activeTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

  it('ends a pending retry wait at once and leaves no timer behind', async () => {
    const policy = policyFor<number>({
      idempotent: true,
      volumeThreshold: 10,
      retry: { attempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      random: () => 0.5,
    });
    const outcome = policy.execute('k', down).catch((error: unknown) => error);
    await waitFor(
      'the first retry wait',
      async () => (await metricValue('resilience_retries_total', policy.name)) === 1,
    );
    const waiting = activeTimers();
    policy.shutdown();
    expect(activeTimers()).toBe(waiting - 1);
    expect(await outcome).toEqual(new Error(`policy "${policy.name}" was shut down`));
  });

  it('aborts calls in flight through their signal, and refuses new calls', async () => {
    const policy = policyFor<number>();
    let seen: AbortSignal | undefined;
    const pending = policy.execute('k', (signal) => {
      seen = signal;
      return new Promise<number>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    await waitFor('the call to start', () => seen);
    policy.shutdown();
    await expect(pending).rejects.toThrow(/was shut down/);
    expect(seen?.aborted).toBe(true);
    const refused = await policy.execute('k', async () => 1).catch((error: unknown) => error);
    expect(refused).not.toBeInstanceOf(ResilienceError);
    expect(String(refused)).toMatch(/was shut down/);
  });
});
