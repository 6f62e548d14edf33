import { backoffDelay } from './backoff';

const retry = { attempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 };

describe('backoffDelay (exponential, full jitter)', () => {
  it('doubles the ceiling with each retry until maxDelayMs', () => {
    const almostOne = () => 0.999_999;
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, retry, almostOne))).toEqual([99, 199, 399, 799, 999]);
  });

  it('draws the whole range from zero to the ceiling (full jitter, not a fixed delay plus noise)', () => {
    expect(backoffDelay(3, retry, () => 0)).toBe(0);
    expect(backoffDelay(3, retry, () => 0.5)).toBe(200);
  });

  it('stays within [0, ceiling) for random draws', () => {
    for (let n = 1; n <= 10; n++) {
      const delay = backoffDelay(n, retry);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(1_000, 100 * 2 ** (n - 1)));
    }
  });
});
