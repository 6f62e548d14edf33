import { bucketIndex, bucketMidpoint, LatencyHistogram } from './histogram';

/** Nearest rank over a sorted array: what the histogram approximates. */
function exactPercentile(sorted: readonly number[], p: number): number {
  const value = sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1];
  if (value === undefined) throw new Error('empty');
  return value;
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100];

function expectWithin1Percent(actual: number, expected: number): void {
  // Values are kept as whole microseconds: allow that rounding besides the 1%.
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * 0.01 + 0.0005);
}

describe('LatencyHistogram', () => {
  it.each([
    ['uniform 0-50 ms', (r: () => number) => r() * 50],
    ['log-normal around 20 ms', (r: () => number) => Math.exp(Math.log(20) + 1.5 * (r() + r() + r() - 1.5))],
    ['bimodal 2 ms / 3 s', (r: () => number) => (r() < 0.97 ? 2 + r() : 3_000 + r() * 500)],
    ['sub-millisecond', (r: () => number) => r() * 0.9],
    ['minutes', (r: () => number) => 60_000 + r() * 3_600_000],
  ])('matches the percentiles of the sorted values within 1%%: %s', (_name, draw) => {
    const random = seeded(42);
    const values = Array.from({ length: 20_000 }, () => draw(random));
    const histogram = new LatencyHistogram();
    for (const value of values) histogram.record(value);
    const sorted = values.map((value) => Math.round(value * 1000) / 1000).sort((a, b) => a - b);

    expect(histogram.count).toBe(values.length);
    for (const p of PERCENTILES) expectWithin1Percent(histogram.percentile(p), exactPercentile(sorted, p));
    expect(histogram.maxMs).toBe(sorted[sorted.length - 1]);
    expect(histogram.percentile(100)).toBe(histogram.maxMs);
  });

  it('is exact for a handful of values and for values below 256 µs', () => {
    const histogram = new LatencyHistogram();
    for (const ms of [0.001, 0.002, 0.1, 0.255]) histogram.record(ms);
    expect(histogram.percentile(0)).toBe(0.001);
    expect(histogram.percentile(50)).toBe(0.002);
    expect(histogram.percentile(75)).toBe(0.1);
    expect(histogram.percentile(100)).toBe(0.255);
  });

  it('answers 0 when empty and counts a negative latency as 0', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.percentile(50)).toBe(0);
    expect(histogram.maxMs).toBe(0);
    histogram.record(-3);
    expect(histogram.percentile(99)).toBe(0);
    expect(histogram.count).toBe(1);
  });

  it('merges: the merged percentiles are those of all values together', () => {
    const random = seeded(7);
    const fast = Array.from({ length: 5_000 }, () => 1 + random() * 9);
    const slow = Array.from({ length: 500 }, () => 400 + random() * 600);
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (const value of fast) a.record(value);
    for (const value of slow) b.record(value);
    a.merge(b);

    const sorted = [...fast, ...slow].map((value) => Math.round(value * 1000) / 1000).sort((x, y) => x - y);
    expect(a.count).toBe(5_500);
    for (const p of PERCENTILES) expectWithin1Percent(a.percentile(p), exactPercentile(sorted, p));
    expect(a.maxMs).toBe(sorted[sorted.length - 1]);
    // The merged-in histogram is unchanged.
    expect(b.count).toBe(500);
    expect(b.percentile(0)).toBeGreaterThanOrEqual(400);
  });

  it('resets to empty and records afresh', () => {
    const histogram = new LatencyHistogram();
    histogram.record(1_000);
    histogram.reset();
    expect(histogram.count).toBe(0);
    expect(histogram.percentile(99)).toBe(0);
    expect(histogram.maxMs).toBe(0);
    histogram.record(5);
    expect(histogram.percentile(50)).toBe(5);
    expect(histogram.maxMs).toBe(5);
  });

  it('has contiguous buckets whose middle is within 0.4% of every value they hold', () => {
    const broken: number[] = [];
    let previous = -1;
    for (let micros = 0; micros < 70_000; micros++) {
      const index = bucketIndex(micros);
      const contiguous = index === previous || index === previous + 1;
      if (!contiguous || Math.abs(bucketMidpoint(index) - micros) > micros * 0.004) broken.push(micros);
      previous = index;
    }
    expect(broken).toEqual([]);
    for (const micros of [2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12_345, Number.MAX_SAFE_INTEGER]) {
      expect(Math.abs(bucketMidpoint(bucketIndex(micros)) - micros)).toBeLessThanOrEqual(micros * 0.004);
    }
  });
});
