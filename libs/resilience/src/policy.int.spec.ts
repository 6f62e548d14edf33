import { uniqueName, waitFor } from '@shop/testing';
import { BreakerOpenError, BulkheadRejectedError, CallFailedError, CallTimeoutError } from './errors';
import { createFallbackCache } from './fallback-cache';
import type { ResilienceLogger } from './logger';
import { withPatternRemoved } from './patterns';
import { createPolicy, type PolicyOptions } from './policy';
import { type FlakyServer, getJson, startFlakyServer } from './testing/flaky-server';
import { metricValue } from './testing/metric-value';

type Answer = { hit: number };

let server: FlakyServer;
const policies: Array<{ shutdown(): void }> = [];

beforeEach(async () => {
  server = await startFlakyServer();
});

afterEach(async () => {
  policies.splice(0).forEach((policy) => policy.shutdown());
  await server.close();
});

function policyFor(options: Partial<PolicyOptions<Answer>> = {}) {
  const policy = createPolicy<Answer>({
    name: uniqueName('dependency'),
    timeoutMs: 2_000,
    errorThresholdPercentage: 50,
    volumeThreshold: 10,
    resetTimeoutMs: 60_000,
    capacity: 10,
    ...options,
  });
  policies.push(policy);
  return policy;
}

const call = (signal: AbortSignal) => getJson(server.url, signal);
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('the breaker', () => {
  it('goes closed → open → half-open → closed, logging each change and exporting it as a gauge', async () => {
    const log: string[] = [];
    const logger: ResilienceLogger = {
      info: (_details, message) => log.push(`info: ${message}`),
      warn: (_details, message) => log.push(`warn: ${message}`),
    };
    const policy = policyFor({ volumeThreshold: 2, resetTimeoutMs: 300, logger });
    const gauge = () => metricValue('resilience_breaker_state', policy.name);
    expect([policy.state, await gauge()]).toEqual(['closed', 0]);

    server.behave('fail');
    expect(await failureOf(policy.execute('k', call))).toBeInstanceOf(CallFailedError);
    expect(policy.state).toBe('closed');
    expect(await failureOf(policy.execute('k', call))).toBeInstanceOf(CallFailedError);
    expect([policy.state, await gauge()]).toEqual(['open', 2]);

    const refused = await failureOf(policy.execute('k', call));
    expect(refused).toBeInstanceOf(BreakerOpenError);
    expect((refused as BreakerOpenError).retryAfterSeconds).toBe(1);
    expect(server.hits).toBe(2);
    expect(await metricValue('resilience_short_circuits_total', policy.name)).toBe(1);

    server.behave('ok');
    await waitFor('the breaker to let a probe through', () => policy.state === 'half-open');
    expect(await gauge()).toBe(1);
    await expect(policy.execute('k', call)).resolves.toEqual({ value: { hit: 3 }, stale: false });
    expect([policy.state, await gauge()]).toEqual(['closed', 0]);
    expect(log).toEqual([
      'warn: breaker opened',
      'info: breaker half-open: one probe goes through',
      'info: breaker closed',
    ]);
  });

  it('opens again when the half-open probe fails', async () => {
    const policy = policyFor({ volumeThreshold: 1, resetTimeoutMs: 200 });
    server.behave('fail');
    await failureOf(policy.execute('k', call));
    expect(policy.state).toBe('open');
    await waitFor('half-open', () => policy.state === 'half-open');
    expect(await failureOf(policy.execute('k', call))).toBeInstanceOf(CallFailedError);
    expect(policy.state).toBe('open');
    expect(server.hits).toBe(2);
  });
});

describe('the timeout', () => {
  it('fails a call with no answer with CallTimeoutError and aborts it through its signal', async () => {
    const policy = policyFor({ timeoutMs: 150 });
    server.behave('hang');
    const failure = await failureOf(policy.execute('k', call));
    expect(failure).toBeInstanceOf(CallTimeoutError);
    expect((failure as CallTimeoutError).retryAfterSeconds).toBe(1);
    await waitFor('the server to see the request abandoned', () => server.aborted === 1);
    expect(server.hanging).toBe(0);
    expect(await metricValue('resilience_timeouts_total', policy.name)).toBe(1);
    expect(await metricValue('resilience_failures_total', policy.name)).toBe(0);
  });
});

describe('the bulkhead', () => {
  it('rejects the (capacity+1)-th concurrent call at once while the others hang', async () => {
    const policy = policyFor({ capacity: 2, timeoutMs: 30_000 });
    server.behave('hang');
    const finished: string[] = [];
    const first = policy.execute('a', call).then(() => finished.push('first'));
    const second = policy.execute('b', call).then(() => finished.push('second'));
    await waitFor('two calls held by the server', () => server.hanging === 2);

    const third = await failureOf(policy.execute('c', call));
    expect(third).toBeInstanceOf(BulkheadRejectedError);
    expect((third as BulkheadRejectedError).retryAfterSeconds).toBe(1);
    expect(finished).toEqual([]);
    expect(server.hits).toBe(2);
    expect(await metricValue('resilience_bulkhead_rejections_total', policy.name)).toBe(1);

    server.release();
    await Promise.all([first, second]);
    server.behave('ok');
    await expect(policy.execute('d', call)).resolves.toMatchObject({ stale: false });
  });
});

describe('retries', () => {
  const retry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };

  it('never retries a call that is not declared idempotent', async () => {
    const policy = policyFor({ retry });
    server.behave('fail');
    expect(await failureOf(policy.execute('k', call))).toBeInstanceOf(CallFailedError);
    expect(server.hits).toBe(1);
    expect(await metricValue('resilience_retries_total', policy.name)).toBe(0);
  });

  it('retries an idempotent call with backoff and succeeds once the server recovers', async () => {
    const policy = policyFor({ retry, idempotent: true });
    server.next('fail', 'fail');
    await expect(policy.execute('k', call)).resolves.toEqual({ value: { hit: 3 }, stale: false });
    expect(server.hits).toBe(3);
    expect(await metricValue('resilience_retries_total', policy.name)).toBe(2);
  });

  it('retries an idempotent call that timed out', async () => {
    const policy = policyFor({ retry, idempotent: true, timeoutMs: 150 });
    server.next('hang');
    await expect(policy.execute('k', call)).resolves.toEqual({ value: { hit: 2 }, stale: false });
    expect(server.aborted).toBe(1);
  });

  it('gives up after `attempts` tries in all', async () => {
    const policy = policyFor({ retry, idempotent: true });
    server.behave('fail');
    expect(await failureOf(policy.execute('k', call))).toBeInstanceOf(CallFailedError);
    expect(server.hits).toBe(3);
  });

  it('never retries while the breaker is open', async () => {
    const policy = policyFor({ retry: { ...retry, attempts: 5 }, idempotent: true, volumeThreshold: 1 });
    server.behave('fail');
    expect(await failureOf(policy.execute('k', call))).toBeInstanceOf(CallFailedError);
    expect(policy.state).toBe('open');
    expect(await failureOf(policy.execute('k', call))).toBeInstanceOf(BreakerOpenError);
    expect(server.hits).toBe(1);
    expect(await metricValue('resilience_retries_total', policy.name)).toBe(0);
  });

  it('never retries a bulkhead rejection', async () => {
    const policy = policyFor({ retry, idempotent: true, capacity: 1, timeoutMs: 30_000 });
    server.behave('hang');
    const held = policy.execute('a', call);
    await waitFor('one call held by the server', () => server.hanging === 1);
    expect(await failureOf(policy.execute('b', call))).toBeInstanceOf(BulkheadRejectedError);
    expect(await metricValue('resilience_retries_total', policy.name)).toBe(0);
    expect(await metricValue('resilience_bulkhead_rejections_total', policy.name)).toBe(1);
    server.release();
    await held;
    expect(server.hits).toBe(1);
  });
});

describe('the cached fallback', () => {
  function cachedPolicy(options: Partial<PolicyOptions<Answer>> = {}) {
    const clock = { now: 1_700_000_000_000 };
    const fallback = createFallbackCache<Answer>({ maxAgeSeconds: 300, now: () => clock.now });
    return { policy: policyFor({ fallback, ...options }), clock };
  }

  it('answers a failed call with the last good answer for its key, marked stale with its age', async () => {
    const { policy, clock } = cachedPolicy();
    await expect(policy.execute('sku-1', call)).resolves.toEqual({ value: { hit: 1 }, stale: false });
    clock.now += 42_000;
    server.behave('fail');
    await expect(policy.execute('sku-1', call)).resolves.toEqual({ value: { hit: 1 }, stale: true, ageSeconds: 42 });
    expect(await metricValue('resilience_fallbacks_total', policy.name)).toBe(1);
    await expect(policy.execute('sku-2', call)).rejects.toBeInstanceOf(CallFailedError);
  });

  it('answers a timed-out call from the cache', async () => {
    const { policy, clock } = cachedPolicy({ timeoutMs: 150 });
    await policy.execute('k', call);
    clock.now += 5_000;
    server.behave('hang');
    await expect(policy.execute('k', call)).resolves.toEqual({ value: { hit: 1 }, stale: true, ageSeconds: 5 });
  });

  it('answers from the cache while the breaker is open, without calling', async () => {
    const { policy, clock } = cachedPolicy({ volumeThreshold: 1, errorThresholdPercentage: 25 });
    await policy.execute('k', call);
    clock.now += 1_000;
    server.behave('fail');
    await expect(policy.execute('k', call)).resolves.toMatchObject({ stale: true, ageSeconds: 1 });
    expect(policy.state).toBe('open');
    await expect(policy.execute('k', call)).resolves.toEqual({ value: { hit: 1 }, stale: true, ageSeconds: 1 });
    expect(server.hits).toBe(2);
  });

  it('answers a bulkhead rejection from the cache', async () => {
    const { policy } = cachedPolicy({ capacity: 1, timeoutMs: 30_000 });
    await policy.execute('k', call);
    server.behave('hang');
    const held = policy.execute('other', call);
    await waitFor('one call held by the server', () => server.hanging === 1);
    await expect(policy.execute('k', call)).resolves.toEqual({ value: { hit: 1 }, stale: true, ageSeconds: 0 });
    server.release();
    await held;
  });

  it('never serves an answer older than the max staleness', async () => {
    const { policy, clock } = cachedPolicy();
    await policy.execute('k', call);
    clock.now += 300_001;
    server.behave('fail');
    await expect(policy.execute('k', call)).rejects.toBeInstanceOf(CallFailedError);
    expect(await metricValue('resilience_fallbacks_total', policy.name)).toBe(0);
  });
});

/**
 * Each case runs the observation that guards a pattern twice: as built, and
 * with the pattern removed (UNSAFE_REMOVE_PATTERNS, docs/patterns-proven.md).
 * The guard must hold the first time and fail the second, or the pattern is
 * not what protects it.
 */
describe('proof by removal', () => {
  it('breaker: a failing dependency stops being called (removed: all 10 calls reach it)', async () => {
    const callsThatReachAFailingDependency = async () => {
      const policy = policyFor({ volumeThreshold: 2 });
      server.behave('fail');
      const before = server.hits;
      for (let index = 0; index < 10; index++) await failureOf(policy.execute('k', call));
      return server.hits - before;
    };
    expect(await callsThatReachAFailingDependency()).toBe(2);
    expect(await withPatternRemoved('breaker', callsThatReachAFailingDependency)).toBe(10);
  });

  it('bulkhead: 2 calls wait on a hanging dependency and 3 are refused (removed: all 5 wait)', async () => {
    const callsHeldByAHangingDependency = async (held: number) => {
      const policy = policyFor({ capacity: 2, timeoutMs: 30_000 });
      server.behave('hang');
      const outcomes = Array.from({ length: 5 }, (_, index) => failureOf(policy.execute(`k${index}`, call)));
      // With the bulkhead the other three are refused as they are made: only two can reach the server.
      await waitFor(`${held} calls held by the server`, () => server.hanging === held || undefined);
      server.release();
      const failures = await Promise.all(outcomes);
      return failures.filter((failure) => failure instanceof BulkheadRejectedError).length;
    };
    expect(await callsHeldByAHangingDependency(2)).toBe(3);
    expect(await withPatternRemoved('bulkhead', () => callsHeldByAHangingDependency(5))).toBe(0);
  });

  it('stale fallback: a failed read is answered with the last good answer (removed: it fails)', async () => {
    const answerWhileDown = async () => {
      const fallback = createFallbackCache<Answer>({ maxAgeSeconds: 300 });
      const policy = policyFor({ fallback });
      server.behave('ok');
      await policy.execute('sku', call);
      server.behave('fail');
      return policy.execute('sku', call).then(
        (result) => (result.stale ? 'stale answer' : 'fresh answer'),
        (error: unknown) => (error instanceof CallFailedError ? 'CallFailedError' : 'another error'),
      );
    };
    expect(await answerWhileDown()).toBe('stale answer');
    expect(await withPatternRemoved('stale-fallback', answerWhileDown)).toBe('CallFailedError');
  });
});
